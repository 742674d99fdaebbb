"""The state machine, driven directly: events in, actions out, no I/O."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.actions import (
    Classify,
    Duck,
    Forget,
    JournalCorrection,
    JournalOutcome,
    JournalRecord,
    Learn,
    Play,
    PublishState,
    Restore,
    Resume,
    SaveLearning,
    SetVolume,
    ShowPattern,
    Stop,
    StopCapture,
)
from device.commands import parse_command
from device.errors import CommandError
from device.events import (
    BrokerBack,
    Classified,
    ClassifyFailed,
    Command,
    Event,
    LongPressed,
    MicBack,
    MicFailed,
    NoSpeechHeard,
    PlayerBack,
    PlayerFailed,
    PlayerLost,
    PlayerStatus,
    PlayerVolume,
    Pressed,
    Shutdown,
    Tick,
    UtteranceReady,
)
from device.machine import STATES, Machine
from device.ranker import Ranker

MAP = {"happy": ["sunny", "upbeat"], "calm": ["evening"], "sad": ["gentle", "rising"], "angry": []}


def kinds(actions):
    return [type(a).__name__ for a in actions if not isinstance(a, PublishState | ShowPattern)]


def published(actions):
    states = [a.state for a in actions if isinstance(a, PublishState)]
    return states[-1] if states else None


def listen_and_hear(m, emotion="happy", confidence=0.9, t=0.0):
    m.handle(Pressed(), t)
    m.handle(UtteranceReady([0.0]), t + 2)
    return m.handle(Classified(emotion, confidence, {emotion: confidence}, 1.5, at=1000.0 + t), t + 2.1)


def test_every_event_type_has_a_handler_and_every_handler_an_event_type():
    assert set(Machine.HANDLERS) == {c for c in Event.__subclasses__() if c.__module__ == "device.events"}
    m = Machine(MAP)
    assert isinstance(m.handle(BrokerBack(), 0.0), list)
    assert kinds(m.handle(Pressed(), 1.0)) == ["StartCapture"]


def test_an_event_without_a_handler_fails_loudly():
    class Unknown(Event):
        pass

    with pytest.raises(KeyError):
        Machine(MAP).handle(Unknown(), 0.0)


def test_press_listens_then_thinks_then_plays_the_emotions_playlists_in_order():
    m = Machine(MAP, min_confidence=0.4)
    actions = m.handle(Pressed(), 0.0)
    assert kinds(actions) == ["StartCapture"]
    assert published(actions)["state"] == "listening"
    assert ShowPattern("listening") in actions
    actions = m.handle(UtteranceReady([0.1, 0.2]), 2.0)
    assert kinds(actions) == ["Classify"] and published(actions)["state"] == "thinking"
    actions = m.handle(Classified("happy", 0.8, {"happy": 0.8, "sad": 0.2}, 1.2, at=1000.0), 2.1)
    assert Play("happy", ("sunny", "upbeat")) in actions
    record = next(a for a in actions if isinstance(a, JournalRecord)).recognition
    assert (record.emotion, record.playlist, record.at, record.speech_seconds) == ("happy", "sunny", 1000.0, 1.2)
    state = published(actions)
    assert state["state"] == "playing" and state["emotion"] == "happy" and state["confidence"] == 0.8
    assert state["playlist"] == "sunny" and state["error"] is None
    assert state["history"][0] == {"at": "1970-01-01T00:16:40+00:00", "emotion": "happy",
                                   "confidence": 0.8, "playlist": "sunny"}
    # The player reports the next playlist in the queue: the state follows.
    assert published(m.handle(PlayerStatus(True, "upbeat"), 30.0))["playlist"] == "upbeat"
    # The queue ends.
    assert published(m.handle(PlayerStatus(False), 100.0))["state"] == "idle"


def test_pressing_while_music_plays_ducks_and_restores_after_recording():
    m = Machine(MAP)
    listen_and_hear(m)
    m.handle(PlayerStatus(True, "sunny"), 3.0)
    assert kinds(m.handle(Pressed(), 10.0)) == ["Duck", "StartCapture"]
    assert kinds(m.handle(UtteranceReady([0.0]), 12.0)) == ["Restore", "Classify"]


def test_below_min_confidence_is_unsure_music_unchanged_then_back_to_playing():
    m = Machine(MAP, min_confidence=0.5, result_seconds=10)
    listen_and_hear(m, "happy", 0.9)
    m.handle(PlayerStatus(True, "sunny"), 3.0)
    actions = listen_and_hear(m, "sad", 0.3, t=20.0)
    assert not [a for a in actions if isinstance(a, Play | Stop)]
    state = published(actions)
    assert state["state"] == "unsure" and state["emotion"] == "sad" and state["reason"] == "low confidence"
    assert state["playlist"] == "sunny"
    assert next(a for a in actions if isinstance(a, JournalRecord)).recognition.playlist is None
    assert m.handle(Tick(), 25.0) == []  # still unsure: nothing changed, nothing published
    assert published(m.handle(Tick(), 33.0))["state"] == "playing"


def test_silence_is_no_speech():
    m = Machine(MAP)
    m.handle(Pressed(), 0.0)
    m.handle(UtteranceReady([0.0]), 1.0)
    state = published(m.handle(NoSpeechHeard(), 1.1))
    assert state["state"] == "unsure" and state["reason"] == "no speech" and state["emotion"] is None
    assert published(m.handle(Tick(), 20.0))["state"] == "idle"


def test_press_while_listening_finishes_the_utterance_and_thinking_ignores_presses():
    m = Machine(MAP)
    m.handle(Pressed(), 0.0)
    assert kinds(m.handle(Pressed(), 1.0)) == ["StopCapture"]
    assert m.handle(Pressed(), 1.0)[0] == StopCapture(finish=True)
    m.handle(UtteranceReady([0.0]), 1.1)
    assert m.handle(Pressed(), 1.2) == []


def test_long_press_stops_and_a_stop_within_a_minute_is_journalled():
    m = Machine(MAP, outcome_seconds=60)
    listen_and_hear(m)
    actions = m.handle(LongPressed(), 30.0)
    assert Stop() in actions and JournalOutcome(1000.0, "stopped") in actions
    assert published(actions)["state"] == "idle"


def test_long_press_while_listening_cancels_the_recording_and_restores_volume():
    m = Machine(MAP)
    listen_and_hear(m)
    m.handle(PlayerStatus(True, "sunny"), 3.0)
    m.handle(Pressed(), 100.0)
    actions = m.handle(LongPressed(), 101.0)
    assert kinds(actions) == ["StopCapture", "Restore", "Stop"]
    assert actions[0] == StopCapture(finish=False)
    assert m.handle(UtteranceReady([0.0]), 102.0) == []  # a late recording is ignored


def test_next_is_a_skip_only_within_the_outcome_window():
    m = Machine(MAP, outcome_seconds=60)
    listen_and_hear(m)
    assert kinds(m.handle(Command("next"), 70.0)) == ["Next"]  # more than a minute later
    listen_and_hear(m, t=100.0)
    actions = m.handle(Command("next"), 110.0)
    assert kinds(actions) == ["Next", "JournalOutcome"] and actions[1].outcome == "skipped"
    assert kinds(m.handle(Command("next"), 111.0)) == ["Next"]  # only the first counts


def test_commands():
    m = Machine(MAP)
    actions = m.handle(Command("play", emotion="calm"), 0.0)
    assert Play("calm", ("evening",)) in actions
    state = published(actions)
    assert state["state"] == "playing" and state["emotion"] == "calm" and state["confidence"] is None
    assert m.handle(Command("volume", level=30), 1.0) == [SetVolume(30)]
    unknown = m.handle(Command("play", emotion="bored"), 2.0)  # the music goes on; Home Assistant hears why
    assert kinds(unknown) == [] and ShowPattern("error") in unknown
    assert published(unknown)["playlist"] == "evening"
    assert published(unknown)["error"] == "cannot play 'bored': no such mood (known: angry, calm, happy, sad)"
    assert kinds(m.handle(Command("listen"), 3.0)) == ["Duck", "StartCapture"]
    assert Stop() in m.handle(Command("stop"), 4.0)


def test_an_emotion_without_playlists_is_an_error_until_the_next_press():
    m = Machine(MAP)
    state = published(listen_and_hear(m, "angry", 0.9))
    assert state["state"] == "error" and "angry" in state["error"]
    assert published(m.handle(Pressed(), 5.0))["error"] is None


def test_mpd_down_when_playing_is_retried_when_it_comes_back():
    m = Machine(MAP)
    listen_and_hear(m)
    state = published(m.handle(PlayerLost("connection refused"), 2.2))
    assert state["state"] == "error" and "music player unreachable" in state["error"]
    assert m.handle(PlayerStatus(False), 2.3) == []  # still pending
    actions = m.handle(PlayerBack(), 5.0)
    assert Play("happy", ("sunny", "upbeat")) in actions
    assert published(actions)["state"] == "playing"
    m.handle(PlayerStatus(True, "sunny"), 5.1)
    assert m.pending is None


def test_mpd_restarted_while_playing_resumes():
    m = Machine(MAP)
    listen_and_hear(m)
    m.handle(PlayerStatus(True, "sunny"), 3.0)
    m.handle(PlayerLost("EOF"), 10.0)
    m.handle(PlayerLost("refused"), 11.0)
    assert kinds(m.handle(PlayerBack(), 12.0)) == ["Resume"]


def test_mpd_refusing_is_an_error_without_retry():
    m = Machine(MAP)
    listen_and_hear(m)
    state = published(m.handle(PlayerFailed("no such playlist 'sunny'"), 2.2))
    assert state["state"] == "error" and state["error"] == "no such playlist 'sunny'"
    assert not [a for a in m.handle(PlayerBack(), 3.0) if isinstance(a, Play | Resume)]


def test_mic_failure_is_an_error_until_it_comes_back_and_pressing_retries():
    m = Machine(MAP)
    m.handle(Pressed(), 0.0)
    actions = m.handle(MicFailed("no input device 'usb'"), 0.5)
    assert kinds(actions) == ["StopCapture"]
    assert published(actions) == {**published(actions), "state": "error", "error": "no input device 'usb'"}
    assert kinds(m.handle(Pressed(), 1.0)) == ["StartCapture"]  # a press tries again
    assert published(m.handle(MicBack(), 2.0))["state"] == "listening"
    m.handle(ClassifyFailed("boom"), 2.5)
    assert m.state == "error"


def test_a_microphone_that_never_answers_times_out():
    m = Machine(MAP, max_listen_seconds=5)
    m.handle(Pressed(), 0.0)
    assert m.handle(Tick(), 7.0) == []
    actions = m.handle(Tick(), 8.5)
    assert kinds(actions) == ["StopCapture"] and published(actions)["state"] == "error"


def test_broker_back_republishes_the_state_and_shutdown_stops_recording():
    m = Machine(MAP)
    m.handle(Tick(), 0.0)
    assert kinds(m.handle(BrokerBack(), 1.0)) == [] and published(m.handle(BrokerBack(), 1.0))["state"] == "idle"
    m.handle(Pressed(), 2.0)
    assert kinds(m.handle(Shutdown(), 3.0)) == ["StopCapture"]


def test_history_is_kept_newest_first_and_bounded():
    m = Machine(MAP, history=[{"emotion": "old"}], history_size=3)
    for i, emotion in enumerate(["happy", "calm", "sad"]):
        listen_and_hear(m, emotion, t=10.0 * i)
    assert [h["emotion"] for h in m.public()["history"]] == ["sad", "calm", "happy"]


@pytest.mark.parametrize("payload, expected", [
    (b'{"action": "listen"}', Command("listen")),
    ('{"action": "play", "emotion": "calm"}', Command("play", emotion="calm")),
    (b'{"action": "stop", "extra": 1}', Command("stop")),
    (b'{"action": "next"}', Command("next")),
    (b'{"action": "volume", "level": 0}', Command("volume", level=0)),
    (b'{"action": "volume", "level": 99.6}', Command("volume", level=100)),
    (b'{"action": "feel", "emotion": "sad"}', Command("feel", emotion="sad")),
    (b'{"action": "forget"}', Command("forget")),
])
def test_parse_command(payload, expected):
    assert parse_command(payload) == expected


@pytest.mark.parametrize("payload", [
    b"", b"listen", b"[]", b"null", b'{"action": "dance"}', b'{"action": "play"}',
    b'{"action": "play", "emotion": 3}', b'{"action": "volume", "level": 101}',
    b'{"action": "volume", "level": true}', b'{"action": "volume", "level": NaN}', b'{"action": "volume"}',
    b"\xff\xfe", b"[" * 100000, b'{"action": ["listen"]}', b'{"action": "feel"}', b'{"action": "feel", "emotion": ""}',
])
def test_malformed_commands_are_refused_with_a_reason(payload):
    with pytest.raises(CommandError):
        parse_command(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
command_like = st.fixed_dictionaries(
    {"action": st.sampled_from(["listen", "play", "stop", "next", "volume", "x"]) | json_values},
    optional={"emotion": json_values | st.sampled_from(list(MAP)), "level": json_values},
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | command_like.map(lambda d: json.dumps(d).encode()))
def test_fuzzed_commands_parse_or_are_refused_and_never_break_the_machine(payload):
    try:
        command = parse_command(payload)
    except CommandError:
        return
    m = Machine(MAP)
    actions = m.handle(command, 1.0)
    assert m.state in STATES
    assert all(0 <= a.level <= 100 for a in actions if isinstance(a, SetVolume))


events = st.sampled_from([
    Pressed(), LongPressed(), UtteranceReady([0.0]), Classified("happy", 0.9), Classified("sad", 0.1),
    Classified("angry", 0.9), NoSpeechHeard(), ClassifyFailed("x"), Command("next"), Command("stop"),
    Command("play", emotion="calm"), PlayerStatus(True, "sunny"), PlayerStatus(False), PlayerLost("x"),
    PlayerVolume(40), PlayerBack(), PlayerFailed("x"), MicFailed("x"), MicBack(), BrokerBack(), Tick(), Shutdown(),
])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(events, st.floats(0, 30)), max_size=40))
def test_any_sequence_of_events_keeps_a_valid_state_and_balanced_ducking(sequence):
    m = Machine(MAP)
    now, ducks = 0.0, 0
    for event, dt in sequence:
        now += dt
        for action in m.handle(event, now):
            ducks += isinstance(action, Duck) - isinstance(action, Restore)
            assert not isinstance(action, Play) or action.playlists
            assert not isinstance(action, Classify) or m.state == "thinking"
        assert m.state in STATES and 0 <= ducks <= 1
        assert (ducks == 1) == (m.state == "listening" and m.ducked)
        assert m.public()["state"] == m.state


def test_player_news_from_before_a_new_queue_does_not_override_it():
    m = Machine(MAP)
    listen_and_hear(m, "sad")
    m.handle(PlayerStatus(True, "gentle"), 3.0)
    listen_and_hear(m, "happy", t=10.0)
    # The watcher polled just before the new queue: the old music, then the cleared queue.
    assert published(m.handle(PlayerStatus(True, "gentle"), 12.2)) is None
    assert published(m.handle(PlayerStatus(False), 12.3)) is None
    assert m.public()["playlist"] == "sunny" and m.public()["state"] == "playing"
    m.handle(PlayerStatus(True, "sunny"), 12.4)  # the new queue plays: from now on MPD's word counts
    assert published(m.handle(PlayerStatus(False), 200.0))["state"] == "idle"


def test_with_no_playlists_map_a_sure_recognition_is_heard_not_an_error_nor_unsure():
    m = Machine({}, min_confidence=0.4)
    state = published(listen_and_hear(m, "sad", 0.83))
    assert (state["state"], state["emotion"], state["reason"], state["error"]) == \
        ("idle", "sad", "no playlists map", None)


def test_a_play_mpd_refuses_is_journalled_as_refused_and_leaves_the_history_without_a_playlist():
    m = Machine(MAP)
    actions = listen_and_hear(m, "calm", 0.9)
    record = next(a for a in actions if isinstance(a, JournalRecord)).recognition
    actions = m.handle(PlayerFailed("MPD refused play: no such playlist"), 3.0)
    assert JournalOutcome(record.at, "refused") in actions
    state = published(actions)
    assert state["state"] == "error" and state["history"][0]["playlist"] is None
    assert not [a for a in m.handle(LongPressed(), 4.0) if isinstance(a, JournalOutcome)]  # nothing played


def test_a_stop_while_mpd_is_lost_is_said_again_when_it_is_back():
    m = Machine(MAP)
    m.handle(Command("play", emotion="calm"), 0.0)
    m.handle(PlayerStatus(True, "evening"), 0.5)
    m.handle(PlayerLost("timed out"), 1.0)
    m.handle(Command("stop"), 2.0)
    assert Stop() in m.handle(PlayerBack(), 3.0)  # MPD may have kept playing through its hang
    assert Stop() not in m.handle(PlayerBack(), 4.0)  # once


def test_a_play_while_mpd_is_lost_is_not_published_as_playing_until_mpd_is_back():
    m = Machine(MAP)
    m.handle(PlayerLost("timed out"), 0.0)
    state = published(m.handle(Command("play", emotion="calm"), 1.0))
    assert (state["state"], state["playlist"]) == ("error", None)
    actions = m.handle(PlayerBack(), 2.0)
    assert Play("calm", ("evening",)) in actions and published(actions)["state"] == "playing"


def test_feel_corrects_the_last_recognition_learns_and_plays_for_the_felt_emotion():
    m = Machine(MAP)
    listen_and_hear(m, "happy", 0.9)
    actions = m.handle(Command("feel", emotion="sad"), 30.0)
    assert JournalCorrection(1000.0, "sad") in actions and Learn({"happy": 0.9}, "sad") in actions
    assert Play("sad", ("gentle", "rising")) in actions
    state = published(actions)
    assert (state["emotion"], state["reason"], state["history"][0]["felt"]) == ("sad", "corrected", "sad")


def test_feel_too_late_or_for_an_unknown_emotion_is_an_error_and_learns_nothing():
    m = Machine(MAP, feel_seconds=300.0)
    state = published(m.handle(Command("feel", emotion="sad"), 0.0))
    assert state["error"] == "nothing to correct: no recognition in the last 300 s"
    listen_and_hear(m, "happy", 0.9, t=10.0)
    state = published(m.handle(Command("feel", emotion="bored"), 20.0))
    assert "cannot feel 'bored'" in state["error"]
    actions = m.handle(Command("feel", emotion="sad"), 12.1 + 301)
    assert not [a for a in actions if isinstance(a, Learn | JournalCorrection)]


def test_forget_is_passed_on():
    assert Machine(MAP).handle(Command("forget"), 0.0)[0] == Forget()


def test_outcomes_reach_the_ranker_once_skip_against_keep_for():
    ranker = Ranker(seed=0)
    m = Machine(MAP, ranker=ranker, outcome_seconds=60.0)
    actions = listen_and_hear(m, "sad", 0.9)
    first = next(a for a in actions if isinstance(a, Play)).playlists[0]
    assert first in MAP["sad"]
    m.handle(PlayerStatus(True, first), 2.5)
    assert SaveLearning() in m.handle(Command("next"), 10.0)
    assert ranker.counts == {"sad": {first: [0, 1]}}
    actions = listen_and_hear(m, "happy", 0.9, t=100.0)
    lead = next(a for a in actions if isinstance(a, Play)).playlists[0]
    m.handle(PlayerStatus(True, lead), 102.5)
    assert SaveLearning() not in m.handle(Tick(), 150.0)  # too soon to say
    assert SaveLearning() in m.handle(Tick(), 163.0)  # still playing after a minute: kept
    assert SaveLearning() not in m.handle(Tick(), 170.0)  # once
    assert ranker.counts["happy"] == {lead: [1, 0]}


def test_the_state_says_which_mood_plays_and_the_volume_mpd_reports():
    m = Machine(MAP)
    assert (m.public()["mood"], m.public()["volume"]) == (None, None)
    assert published(m.handle(PlayerVolume(70), 0.5))["volume"] == 70
    state = published(m.handle(Command("play", emotion="calm"), 1.0))
    assert (state["mood"], state["volume"]) == ("calm", 70)
    m.handle(PlayerStatus(True, "evening"), 1.5)
    listen_and_hear(m, "sad", t=2.0, confidence=0.1)  # unsure: the calm music goes on
    assert (m.public()["emotion"], m.public()["mood"]) == ("sad", "calm")
    assert published(m.handle(PlayerStatus(False), 20.0))["mood"] is None  # the queue ended
    assert published(m.handle(PlayerLost("x"), 21.0))["volume"] is None  # unknown while unreachable
