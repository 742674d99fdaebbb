"""The mood journal: SQLite rows that survive restarts and a killed process, and the per-day summary."""

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta

import pytest

from device.journal import Journal, since_days, summary
from device.recognition import Recognition

SCORES = {"calm": 0.8, "sad": 0.2}


def test_record_mark_and_read_back_newest_first(tmp_path):
    with Journal(tmp_path / "a" / "journal.sqlite") as journal:  # the folder is made
        journal.record(Recognition(100.0, "calm", 0.8, SCORES, "evening", 1.5))
        journal.record(Recognition(200.0, "sad", 0.3, {"sad": 0.3}, None, 2.0))
        journal.mark(100.0, "skipped")
        journal.mark(100.0, "stopped")  # only the first outcome counts
        entries = journal.entries()
        assert [(e.at, e.emotion, e.playlist, e.outcome) for e in entries] == [
            (200.0, "sad", None, None), (100.0, "calm", "evening", "skipped")]
        assert entries[1].scores == SCORES and entries[1].speech_seconds == 1.5
        assert [e.at for e in journal.entries(since=150.0)] == [200.0]
        assert journal.recent(1) == [{"at": "1970-01-01T00:03:20+00:00", "emotion": "sad", "confidence": 0.3,
                                      "playlist": None}]


def test_it_survives_reopening_and_a_killed_writer(tmp_path):
    path = tmp_path / "journal.sqlite"
    code = textwrap.dedent(f"""
        import os, signal
        from device.journal import Journal
        from device.recognition import Recognition
        journal = Journal({str(path)!r}).open()
        journal.record(Recognition(1.0, "happy", 0.9, {{"happy": 0.9}}, "party", 1.0))
        os.kill(os.getpid(), signal.SIGKILL)   # a power cut, as near as a test gets
    """)
    killed = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert killed.returncode == -9
    with Journal(path) as journal:
        assert [(e.emotion, e.playlist) for e in journal.entries()] == [("happy", "party")]
        journal.record(Recognition(2.0, "calm", 0.7, {}, "evening", 1.0))
    with Journal(path) as journal:
        assert [e.emotion for e in journal.entries()] == ["calm", "happy"]


def test_closing_twice_is_harmless(tmp_path):
    journal = Journal(tmp_path / "j.sqlite").open()
    journal.close()
    journal.close()


def entry(when: datetime, emotion: str, confidence: float, outcome=None) -> Recognition:
    return Recognition(when.timestamp(), emotion, confidence, {}, "p", 1.0, outcome)


def test_summary_per_local_day_newest_first():
    day1, day2 = datetime(2026, 3, 1, 9, 0).astimezone(), datetime(2026, 3, 2, 21, 30).astimezone()
    entries = [entry(day2, "happy", 0.9, "skipped"), entry(day1, "sad", 0.6), entry(day1, "sad", 0.4, "stopped"),
               entry(day1, "calm", 0.8)]
    assert summary(entries) == [
        {"day": "2026-03-02", "count": 1, "top": "happy", "counts": {"happy": 1}, "mean_confidence": 0.9,
         "skipped": 1, "stopped": 0},
        {"day": "2026-03-01", "count": 3, "top": "sad", "counts": {"sad": 2, "calm": 1},
         "mean_confidence": pytest.approx(0.6), "skipped": 0, "stopped": 1},
    ]
    assert summary([]) == []


def test_since_days_is_local_midnight():
    now = datetime(2026, 3, 5, 15, 45).astimezone()
    assert datetime.fromtimestamp(since_days(1, now)).astimezone() == now.replace(hour=0, minute=0)
    assert datetime.fromtimestamp(since_days(3, now)).astimezone().date() == (now - timedelta(days=2)).date()
    assert since_days(0, now) == since_days(1, now)
