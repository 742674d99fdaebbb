"""The music player: MPD over its protocol (python-mpd2), with reconnects and playback news as events.

::

    with Player(MpdSettings(), emit=print) as player:   # MPD on localhost:6600
        player.play(["evening", "rising"])           # prints PlayerStatus(playing=True, playlist='evening')

(``tests/test_player.py`` runs it against a real MPD.)

Commands (:meth:`play`, :meth:`stop`, :meth:`duck` ...) are called from the daemon's loop; a
watcher thread with its own connection polls MPD's status twice a second and emits
:class:`~device.machine.PlayerStatus` when playback or the current playlist changes,
:class:`~device.machine.PlayerVolume` when the volume does (while ducked: the level it goes back to),
:class:`~device.machine.PlayerLost` when MPD stops answering (then retries with exponential
backoff) and :class:`~device.machine.PlayerBack` when it answers again. No MPD or socket exception
leaves this module: a refused command becomes :class:`~device.machine.PlayerFailed`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import mpd

from .config import MpdSettings
from .machine import Event, PlayerBack, PlayerFailed, PlayerLost, PlayerStatus, PlayerVolume

log = logging.getLogger(__name__)

_LOST = (mpd.ConnectionError, mpd.ProtocolError, OSError, EOFError)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _hang_up(client: mpd.MPDClient | None) -> None:
    """Disconnect ``client`` (if any), ignoring errors: closing a broken socket can fail in many ways."""
    if client is None:
        return
    try:
        client.disconnect()
    except Exception:
        pass


class Player:
    """MPD as the appliance needs it: play playlists in order, stop, skip, volume and ducking."""

    def __init__(self, settings: MpdSettings, emit: Callable[[Event], None], *, poll_seconds: float = 0.5,
                 backoff: tuple[float, float] = (0.5, 30.0)):
        self.settings = settings
        self.emit = emit
        self.poll_seconds = poll_seconds
        self.backoff = backoff
        self._lock = threading.Lock()  # guards the command connection
        self._client: mpd.MPDClient | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._ranges: tuple[tuple[str, int, int], ...] = ()  # (playlist, first, end) in the queue
        self._ducked_from: int | None = None
        self._version = 0  # counts plays: the watcher reports afresh after each

    # ------------------------------------------------------------ life cycle
    def start(self) -> Player:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._watch, name="mpd-watch", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.settings.timeout + 2)
            self._thread = None
        with self._lock:
            self._disconnect()

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ commands
    def play(self, playlists: Sequence[str]) -> bool:
        """Clear the queue, queue ``playlists`` in order (missing ones are skipped) and play."""

        def do(c: mpd.MPDClient):
            c.clear()
            ranges, end, missing = [], 0, []
            for name in playlists:
                try:
                    c.load(name)
                except mpd.CommandError:
                    missing.append(name)
                    continue
                total = int(c.status().get("playlistlength", 0))
                if total > end:
                    ranges.append((name, end, total))
                end = total
            if missing:
                log.warning("MPD has no playlist %s (is playlist_directory right?)", ", ".join(missing))
            if not ranges:
                raise mpd.CommandError(f"none of the playlists {', '.join(playlists)} holds a track MPD knows")
            self._ranges = tuple(ranges)
            c.play(0)
            self._version += 1
            log.info("playing %s (%d tracks)", ", ".join(r[0] for r in ranges), end)

        if not self._run("play", do):
            return False
        # Say so at once (the watcher's news may be from before); the watcher then reports afresh.
        self.emit(PlayerStatus(True, self._ranges[0][0]))
        return True

    def resume(self) -> bool:
        """Play the queue as it stands (after MPD restarted)."""
        return self._run("resume", lambda c: c.play())

    def stop(self) -> bool:
        return self._run("stop", lambda c: c.stop())

    def next(self) -> bool:
        """Skip to the next track; nothing when MPD is not playing (the queue may just have ended)."""

        def do(c: mpd.MPDClient):
            if c.status().get("state") == "play":
                c.next()
            else:
                log.info("next: MPD is not playing, nothing to skip")

        return self._run("next", do)

    def set_volume(self, level: int) -> bool:
        """Set the volume (0-100); while ducked, it is the level :meth:`restore` returns to."""
        level = max(0, min(100, int(level)))
        if self._ducked_from is not None:
            self._ducked_from = level
            return True
        return self._run("volume", lambda c: c.setvol(level))

    def duck(self) -> bool:
        """Lower the volume to ``duck_volume`` (never raise it) until :meth:`restore`."""

        def do(c: mpd.MPDClient):
            volume = int(c.status().get("volume", -1))
            if volume > self.settings.duck_volume and self._ducked_from is None:
                c.setvol(self.settings.duck_volume)
                self._ducked_from = volume

        return self._run("duck", do)

    def restore(self) -> bool:
        """Undo :meth:`duck`."""
        level, self._ducked_from = self._ducked_from, None
        return True if level is None else self._run("restore volume", lambda c: c.setvol(level))

    def volume(self) -> int | None:
        """The current volume, or None when MPD has no mixer or cannot be reached."""
        with self._lock:
            try:
                return int(self._connected().status().get("volume", -1))
            except (*_LOST, mpd.CommandError, ValueError):
                return None

    # ------------------------------------------------------------ plumbing
    def _connect(self) -> mpd.MPDClient:
        client = mpd.MPDClient()
        client.timeout = self.settings.timeout
        client.connect(self.settings.host, self.settings.port)
        if self.settings.password:
            client.password(self.settings.password)
        return client

    def _connected(self) -> mpd.MPDClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _disconnect(self) -> None:
        client, self._client = self._client, None
        _hang_up(client)

    def _run(self, what: str, do: Callable[[mpd.MPDClient], object]) -> bool:
        """Run ``do`` on the command connection; reconnect once (MPD drops idle clients); emit failures."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    do(self._connected())
                    return True
                except mpd.CommandError as exc:
                    log.error("MPD refused %s: %s", what, exc)
                    self.emit(PlayerFailed(f"MPD refused {what}: {exc}"))
                    return False
                except _LOST as exc:
                    self._disconnect()
                    if attempt == 2:
                        log.warning("MPD at %s:%s unreachable for %s: %s", self.settings.host, self.settings.port,
                                    what, _reason(exc))
                        self.emit(PlayerLost(_reason(exc)))
        return False

    def _playlist_at(self, position: int | None) -> str | None:
        for name, first, end in self._ranges:
            if position is not None and first <= position < end:
                return name
        return None

    def _watch(self) -> None:
        """Poll MPD's status; report changes, losses and returns; reconnect with backoff."""
        client: mpd.MPDClient | None = None
        delay, lost, last, seen, volume = self.backoff[0], False, None, 0, None
        while not self._stopping.is_set():
            try:
                if client is None:
                    client = self._connect()
                    if lost:
                        log.info("MPD at %s:%s is back", self.settings.host, self.settings.port)
                        self.emit(PlayerBack())
                    lost, delay, last, volume = False, self.backoff[0], None, None
                version = self._version
                status = client.status()
                song = int(status["song"]) if "song" in status else None
                now = PlayerStatus(status.get("state") == "play", self._playlist_at(song))
                if now != last or version != seen:
                    last, seen = now, version
                    self.emit(now)
                level = self._ducked_from if self._ducked_from is not None else int(status.get("volume", -1))
                if level != volume:
                    volume = level
                    self.emit(PlayerVolume(level if level >= 0 else None))
                self._stopping.wait(self.poll_seconds)
            except (*_LOST, mpd.CommandError, ValueError) as exc:
                _hang_up(client)
                client = None
                if not lost:
                    lost = True
                    self.emit(PlayerLost(_reason(exc)))
                log.warning("MPD at %s:%s unreachable (%s); retrying in %.1fs", self.settings.host,
                            self.settings.port, _reason(exc), delay)
                self._stopping.wait(delay)
                delay = min(delay * 2, self.backoff[1])
        _hang_up(client)
