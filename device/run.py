"""``python -m device run --config FILE``: the appliance daemon (what systemd runs all day)."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from . import config
from .app import App

log = logging.getLogger(__name__)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help="run the appliance: button -> listen -> emotion -> music, with MQTT",
                       description="Run the emotune daemon until SIGTERM or Ctrl-C. "
                                   "See config/emotune.example.toml for the settings.")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML settings (default: built-in defaults; see config/emotune.example.toml)")
    return p


def main(args) -> int:
    settings = config.load(args.config) if args.config else config.Settings()
    app = App(settings)

    def stop(signum, frame):
        log.info("%s: stopping", signal.Signals(signum).name)
        app.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return app.run()
