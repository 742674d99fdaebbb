"""The MPD adapter against a real ``mpd`` (null output): playlists in order, volume, loss and return."""

import os
import signal
import time

import pytest

from device.config import MpdSettings
from device.events import PlayerBack, PlayerFailed, PlayerLost, PlayerStatus, PlayerVolume
from device.player import CLOSE_SECONDS, Player
from script.servers import MpdServer
from tests.helpers import Recorder


@pytest.fixture
def library(music, mpd_server):
    music_dir, playlist_dir = music
    (playlist_dir / "morning.m3u").write_text("a.wav\nb.wav\n")
    (playlist_dir / "evening.m3u").write_text("c.wav\n")
    (playlist_dir / "ghosts.m3u").write_text("not-there.wav\n")
    return mpd_server(music_dir, playlist_dir)


def make(server, events, **kw):
    return Player(MpdSettings(host=server.host, port=server.port, timeout=2.0, **kw), events,
                  poll_seconds=0.05, backoff=(0.05, 0.2))


def done(intent) -> bool:
    """Whether MPD did what a player command asked (the worker carries it out; wait for it)."""
    return intent.result(10)


def queue(server):
    return [line.split(": ", 1)[1] for line in server.command("playlistinfo") if line.startswith("file: ")]


def test_play_queues_the_playlists_in_order_and_reports_which_one_plays(library):
    events = Recorder()
    with make(library, events) as player:
        events.wait_for(lambda e: e == PlayerStatus(False, None), what="first status")
        assert done(player.play(["morning", "evening"]))
        assert queue(library) == ["a.wav", "b.wav", "c.wav"]
        assert library.status()["state"] == "play"
        events.wait_for(lambda e: e == PlayerStatus(True, "morning"))
        library.command("play 2")
        events.wait_for(lambda e: e == PlayerStatus(True, "evening"))
        events.clear()
        assert done(player.next())  # the last track: MPD stops
        events.wait_for(lambda e: e == PlayerStatus(False, None))
        assert done(player.play(["evening", "missing", "morning"]))  # a missing playlist is skipped
        assert queue(library) == ["c.wav", "a.wav", "b.wav"]
        assert done(player.stop()) and library.status()["state"] == "stop"
    assert not events.of(PlayerLost)


def test_a_refused_play_is_reported_not_raised(library):
    events = Recorder()
    with make(library, events) as player:
        assert not done(player.play(["nope", "ghosts"]))
        failed = events.wait_for(lambda e: isinstance(e, PlayerFailed))
        assert "nope" in failed.message


def test_volume_ducking_restores_and_a_volume_set_while_ducked_wins(library):
    events = Recorder()
    with make(library, events, duck_volume=20) as player:
        done(player.play(["morning"]))
        assert done(player.set_volume(80)) and player.volume() == 80
        assert done(player.duck()) and player.volume() == 20
        assert done(player.restore()) and player.volume() == 80
        done(player.duck())
        done(player.set_volume(60))
        assert player.volume() == 20
        events.wait_for(lambda e: e == PlayerVolume(60), what="the level it goes back to, reported while ducked")
        done(player.restore())
        assert player.volume() == 60
        done(player.set_volume(10))
        done(player.duck())  # never raised
        assert player.volume() == 10
        done(player.restore())
        assert player.volume() == 10
        events.clear()
        library.command("setvol 35")  # changed behind its back: reported all the same
        events.wait_for(lambda e: e == PlayerVolume(35), what="the volume set by another MPD client")


def test_mpd_down_at_start_then_started_then_restarted(music, tmp_path):
    music_dir, playlist_dir = music
    (playlist_dir / "morning.m3u").write_text("a.wav\nb.wav\n")
    server = MpdServer(music_dir, playlist_dir, workdir=tmp_path / "mpd")
    events = Recorder()
    try:
        with make(server, events) as player:
            events.wait_for(lambda e: isinstance(e, PlayerLost), what="PlayerLost while MPD is down")
            assert not done(player.play(["morning"]))  # reported, not raised
            server.start()
            events.wait_for(lambda e: isinstance(e, PlayerBack), what="PlayerBack after MPD started")
            assert done(player.play(["morning"]))
            events.wait_for(lambda e: e == PlayerStatus(True, "morning"))
            events.clear()
            server.restart()
            events.wait_for(lambda e: isinstance(e, PlayerLost))
            events.wait_for(lambda e: isinstance(e, PlayerBack))
            # the command connection MPD dropped is replaced, by a reading as by a command
            assert player.volume() == int(server.status()["volume"])
            assert done(player.resume())
            assert server.status()["state"] == "play"
    finally:
        server.close()


def test_password(music, mpd_server):
    server = mpd_server(*music, password="s3cret")
    events = Recorder()
    with make(server, events, password="s3cret") as player:
        assert done(player.stop())
        events.wait_for(lambda e: isinstance(e, PlayerStatus))
    with make(server, events, password="wrong") as player:
        assert not done(player.stop())


def test_closing_twice_is_harmless(library):
    player = make(library, Recorder()).start()
    player.close()
    player.close()


def test_a_play_of_only_missing_playlists_leaves_the_music_playing(library):
    events = Recorder()
    with make(library, events) as player:
        assert done(player.play(["morning"]))
        assert not done(player.play(["nope"]))
        assert queue(library) == ["a.wav", "b.wav"] and library.status()["state"] == "play"
        assert "nope" in events.wait_for(lambda e: isinstance(e, PlayerFailed)).message


@pytest.fixture
def hung(library):
    """The library's MPD, SIGSTOPped for the test (it answers TCP but never a command); SIGCONT after."""
    os.kill(library.proc.pid, signal.SIGSTOP)
    try:
        yield library
    finally:
        os.kill(library.proc.pid, signal.SIGCONT)


def test_commands_never_wait_on_a_hung_mpd_and_the_newest_intent_wins(library, hung):
    events = Recorder()
    player = make(library, events, duck_volume=20).start()
    try:
        started = time.monotonic()
        first = player.play(["morning"])  # the worker takes it and hangs in it
        time.sleep(0.2)
        skip, stopped = player.next(), player.stop()  # the stop replaces the waiting skip
        louder, quieter = player.set_volume(90), player.set_volume(30)
        assert time.monotonic() - started < 0.5  # none of the calls waited for MPD
        assert skip.result(1) is False and louder.result(1) is False
        assert first.result(10) is False  # the hung MPD timed out (2 s), once: not retried on a fresh connection
        events.wait_for(lambda e: isinstance(e, PlayerLost))
        os.kill(library.proc.pid, signal.SIGCONT)
        assert stopped.result(10) and quieter.result(10)  # carried out once MPD answers again
        assert library.status()["state"] == "stop" and library.status()["volume"] == "30"
    finally:
        player.close()


def test_close_returns_soon_while_mpd_hangs(library, hung):
    player = make(library, Recorder()).start()
    waiting = [player.play(["morning"]), player.set_volume(50), player.duck()]
    time.sleep(0.2)  # the play is under way, stuck on the hung MPD
    started = time.monotonic()
    player.close()
    assert time.monotonic() - started < 3 * CLOSE_SECONDS + 0.5
    assert [w.result(5) for w in waiting[1:]] == [False, False]  # what waited is dropped, not carried out later
