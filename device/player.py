"""The music player: MPD over its protocol (python-mpd2), with reconnects and playback news as events.

::

    with Player(MpdSettings(), emit=print) as player:   # MPD on localhost:6600
        player.play(["evening", "rising"])           # prints PlayerStatus(playing=True, playlist='evening')

(``tests/test_player.py`` runs it against a real MPD.)

Commands (:meth:`play`, :meth:`stop`, :meth:`duck` ...) never wait on MPD: they queue an *intent*
for the player's own worker thread and return a :class:`~concurrent.futures.Future` of whether MPD
did it, so a hung MPD (SIGSTOPped, a stuck NAS) cannot block the daemon's loop. The newest intent
wins: a play, stop or resume replaces every transport command still waiting (a skip included), a
volume replaces a waiting volume; the queue holds at most :data:`MAX_WAITING`. A watcher thread with
its own connection polls MPD's status twice a second and emits
:class:`~device.events.PlayerStatus` when playback or the current playlist changes,
:class:`~device.events.PlayerVolume` when the volume does (while ducked: the level it goes back to),
:class:`~device.events.PlayerLost` when MPD stops answering (then retries with exponential
backoff) and :class:`~device.events.PlayerBack` when it answers again. No MPD or socket exception
leaves this module: a refused command becomes :class:`~device.events.PlayerFailed`. :meth:`close`
returns within about :data:`CLOSE_SECONDS` × 3 even while MPD hangs (waiting intents are dropped).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

import mpd

from .config import MpdSettings
from .events import Event, PlayerBack, PlayerFailed, PlayerLost, PlayerStatus, PlayerVolume

log = logging.getLogger(__name__)

T = TypeVar("T")
_LOST = (mpd.ConnectionError, mpd.ProtocolError, OSError, EOFError)

MAX_WAITING = 8
"""Intents that may wait for MPD; beyond that the oldest is dropped (with a warning)."""
CLOSE_SECONDS = 1.0
"""How long :meth:`Player.close` waits for each thread (and for the command connection)."""
_SUPERSEDES = {"transport": ("transport", "next"), "volume": ("volume",)}
"""Which waiting kinds of intent a new one of each kind replaces."""


@dataclass
class _Intent:
    """A command waiting for the worker: what it is (for logs), its kind, what it does to MPD."""

    what: str
    kind: str  # "transport" (play, stop, resume), "next", "volume", "duck" (duck, restore)
    do: Callable[[mpd.MPDClient], object]
    done: Future = field(default_factory=Future)


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
        self._worker: threading.Thread | None = None
        self._waiting: deque[_Intent] = deque()
        self._wake = threading.Condition()
        self._ranges: tuple[tuple[str, int, int], ...] = ()  # (playlist, first, end) in the queue
        self._ducked_from: int | None = None
        self._version = 0  # counts plays: the watcher reports afresh after each

    # ------------------------------------------------------------ life cycle
    def start(self) -> Player:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._watch, name="mpd-watch", daemon=True)
            self._worker = threading.Thread(target=self._work, name="mpd-commands", daemon=True)
            self._thread.start()
            self._worker.start()
        return self

    def close(self) -> None:
        """Stop both threads; a thread stuck on a hung MPD is left behind (it is a daemon thread)."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in (self._worker, self._thread):
            if thread is not None:
                thread.join(CLOSE_SECONDS)
        self._thread = self._worker = None
        if self._lock.acquire(timeout=CLOSE_SECONDS):
            try:
                self._disconnect()
            finally:
                self._lock.release()

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ commands
    def play(self, playlists: Sequence[str]) -> Future[bool]:
        """Queue ``playlists`` in order in place of MPD's queue (missing ones are skipped) and play.

        MPD's queue is cleared only once one of them is known to exist: a bad name never stops
        the music that is playing.
        """

        def do(c: mpd.MPDClient):
            known = {entry["playlist"] for entry in c.listplaylists()}
            missing = [name for name in playlists if name not in known]
            if missing:
                log.warning("MPD has no playlist %s (is playlist_directory right?)", ", ".join(missing))
            if len(missing) == len(playlists):
                raise mpd.CommandError(f"none of the playlists {', '.join(playlists)} exists in MPD")
            c.clear()
            ranges, end = [], 0
            for name in playlists:
                if name in missing:
                    continue
                try:
                    c.load(name)
                except mpd.CommandError as exc:  # a playlist MPD cannot read: skip it like a missing one
                    log.warning("MPD cannot load playlist %s: %s", name, exc)
                    continue
                total = int(c.status().get("playlistlength", 0))
                if total > end:
                    ranges.append((name, end, total))
                end = total
            if not ranges:
                raise mpd.CommandError(f"none of the playlists {', '.join(playlists)} holds a track MPD knows")
            self._ranges = tuple(ranges)
            c.play(0)
            self._version += 1
            log.info("playing %s (%d tracks)", ", ".join(r[0] for r in ranges), end)
            # Say so at once (the watcher's news may be from before); the watcher then reports afresh.
            self.emit(PlayerStatus(True, ranges[0][0]))

        return self._submit("play", "transport", do)

    def resume(self) -> Future[bool]:
        """Play the queue as it stands (after MPD restarted)."""
        return self._submit("resume", "transport", lambda c: c.play())

    def stop(self) -> Future[bool]:
        return self._submit("stop", "transport", lambda c: c.stop())

    def next(self) -> Future[bool]:
        """Skip to the next track; nothing when MPD is not playing (the queue may just have ended)."""

        def do(c: mpd.MPDClient):
            if c.status().get("state") == "play":
                c.next()
            else:
                log.info("next: MPD is not playing, nothing to skip")

        return self._submit("next", "next", do)

    def set_volume(self, level: int) -> Future[bool]:
        """Set the volume (0-100); while ducked, it is the level :meth:`restore` returns to."""
        level = max(0, min(100, int(level)))

        def do(c: mpd.MPDClient):
            if self._ducked_from is not None:
                self._ducked_from = level
            else:
                c.setvol(level)

        return self._submit("volume", "volume", do)

    def duck(self) -> Future[bool]:
        """Lower the volume to ``duck_volume`` (never raise it) until :meth:`restore`."""

        def do(c: mpd.MPDClient):
            volume = int(c.status().get("volume", -1))
            if volume > self.settings.duck_volume and self._ducked_from is None:
                c.setvol(self.settings.duck_volume)
                self._ducked_from = volume

        return self._submit("duck", "duck", do)

    def restore(self) -> Future[bool]:
        """Undo :meth:`duck`."""

        def do(c: mpd.MPDClient):
            level, self._ducked_from = self._ducked_from, None
            if level is not None:
                c.setvol(level)

        return self._submit("restore volume", "duck", do)

    def volume(self) -> int | None:
        """The current volume, or None when MPD has no mixer or cannot be reached."""
        with self._lock:
            try:
                return int(self._call(lambda client: client.status()).get("volume", -1))
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

    def _submit(self, what: str, kind: str, do: Callable[[mpd.MPDClient], object]) -> Future[bool]:
        """Queue an intent for the worker, replacing the waiting ones it supersedes; return its future."""
        intent = _Intent(what, kind, do)
        with self._wake:
            for old in [i for i in self._waiting if i.kind in _SUPERSEDES.get(kind, ())]:
                self._waiting.remove(old)
                old.done.set_result(False)
                log.debug("MPD %s dropped: %s came after it", old.what, what)
            if len(self._waiting) >= MAX_WAITING:
                dropped = self._waiting.popleft()
                dropped.done.set_result(False)
                log.warning("MPD is slow: dropped the waiting %s", dropped.what)
            self._waiting.append(intent)
            self._wake.notify()
        return intent.done

    def _work(self) -> None:
        """The worker: carry out intents one at a time until :meth:`close`; drop what is left."""
        while True:
            with self._wake:
                while not self._waiting and not self._stopping.is_set():
                    self._wake.wait()
                if self._stopping.is_set():
                    for left in self._waiting:
                        left.done.set_result(False)
                    self._waiting.clear()
                    return
                intent = self._waiting.popleft()
            intent.done.set_result(self._run(intent.what, intent.do))

    def _call(self, do: Callable[[mpd.MPDClient], T]) -> T:
        """Return ``do`` run on the command connection (hold the lock); raise what MPD raised.

        A connection that fails is dropped, so the next call starts clean rather than reading a late
        answer. One kept from before is retried once on a fresh one (MPD drops idle clients); a
        fresh one that fails is not, so an MPD that hangs costs one timeout per call, not two.
        """
        reused = self._client is not None
        try:
            return do(self._connected())
        except _LOST:
            self._disconnect()
            if not reused:
                raise
        try:
            return do(self._connected())
        except _LOST:
            self._disconnect()
            raise

    def _run(self, what: str, do: Callable[[mpd.MPDClient], object]) -> bool:
        """Whether ``do`` ran on the command connection (:meth:`_call`); failures are emitted."""
        with self._lock:
            try:
                self._call(do)
                return True
            except mpd.CommandError as exc:
                log.error("MPD refused %s: %s", what, exc)
                self.emit(PlayerFailed(f"MPD refused {what}: {exc}"))
            except _LOST as exc:
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
