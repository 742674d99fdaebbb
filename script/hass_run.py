"""Run Home Assistant Core (``python hass_run.py --config DIR ...``) with its outgoing HTTP kept off mDNS.

Run by :class:`script.homeassistant.HomeAssistant` with the interpreter of Home Assistant's own
virtual environment; the arguments are Home Assistant's. The one change: Home Assistant 2025.x
resolves the names of its outgoing HTTP requests with ``AsyncDualMDNSResolver``, whose first use
(the always-loaded analytics integration makes the first HTTP session) starts zeroconf, which binds
UDP 5353 on every interface whatever ``http: server_host`` says. Here the plain resolver of aiohttp
(the system's ``getaddrinfo``) takes its place, so nothing listens beyond loopback; MQTT, discovery,
entities, services and automations are Home Assistant's own, untouched.
"""

import sys

import aiohttp
from homeassistant.__main__ import main
from homeassistant.helpers import aiohttp_client

aiohttp_client._async_make_resolver = lambda hass: aiohttp.ThreadedResolver()

if __name__ == "__main__":
    sys.exit(main())
