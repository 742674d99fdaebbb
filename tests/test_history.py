"""``python -m device history``: the journal's rows and a per-day summary, as text or JSON lines."""

import json
import time
from datetime import datetime, timedelta

import numpy as np
import pytest

from device.__main__ import main
from device.journal import Journal
from device.recognition import Recognition


def fill(path):
    now = time.time()
    yesterday = (datetime.now() - timedelta(days=1)).replace(hour=12).timestamp()
    long_ago = (datetime.now() - timedelta(days=30)).timestamp()
    with Journal(path) as journal:
        journal.record(Recognition(long_ago, "fearful", 0.9, {"fearful": 0.9}, "x", 1.0))
        journal.record(Recognition(yesterday, "sad", 0.6, {"sad": 0.6}, "calm-dark", 1.2))
        journal.record(Recognition(now - 5, "happy", 0.9, {"happy": 0.9}, "energetic-bright", 2.0))
        journal.record(Recognition(now - 1, "happy", 0.3, {"happy": 0.3}, None, 2.0))
        journal.mark(now - 5, "skipped")
    return now, yesterday


def test_text_lists_the_last_days_oldest_first_then_one_line_per_day(tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    fill(path)
    assert main(["history", "--journal", str(path), "--days", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out[1:4]]
    assert [r[2:4] for r in rows] == [["sad", "60%"], ["happy", "90%"], ["happy", "30%"]]
    assert rows[1][4:] == ["energetic-bright", "skipped"] and rows[2][4] == "(none)"
    assert "fearful" not in "\n".join(out)  # 30 days ago is outside --days 2
    today = datetime.now().date().isoformat()
    day_lines = {line.split()[0]: line.split() for line in out[5:]}
    assert day_lines[today][1:4] == ["2", "happy", "60%"] and day_lines[today][4:6] == ["1", "0"]


def test_json_lines(tmp_path, capsys):
    path = tmp_path / "journal.sqlite"
    fill(path)
    assert main(["history", "--journal", str(path), "--days", "60", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    recognitions = [x for x in lines if "emotion" in x]
    days = [x for x in lines if "day" in x]
    assert [r["emotion"] for r in recognitions] == ["happy", "happy", "sad", "fearful"]
    assert recognitions[1]["outcome"] == "skipped" and recognitions[0]["playlist"] is None
    assert sum(d["count"] for d in days) == 4 and days[0]["top"] == "happy"


def test_config_names_the_journal_and_a_missing_one_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "emotune.toml").write_text('[journal]\npath = "state/journal.sqlite"\n')
    assert main(["history", "--config", str(tmp_path / "emotune.toml")]) == 2
    assert capsys.readouterr().err.strip() == \
        f"error: no journal at {tmp_path / 'state' / 'journal.sqlite'} (the daemon creates it at its first recognition)"
    fill(tmp_path / "state" / "journal.sqlite")
    assert main(["history", "--config", str(tmp_path / "emotune.toml"), "--days", "1"]) == 0
    assert "energetic-bright" in capsys.readouterr().out


def test_a_file_that_is_not_a_journal_a_folder_and_absurd_days_are_one_line_errors(tmp_path, capsys):
    junk = tmp_path / "journal.sqlite"
    junk.write_bytes(b"this is no database" * 100)
    assert main(["history", "--journal", str(junk)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"error: cannot read the journal {junk}: file is not a database (is it an emotune journal?)"
    assert main(["history", "--journal", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: the journal {tmp_path} is not a file"
    fill(tmp_path / "real.sqlite")
    for days in ("99999999", "0", "-3", "x"):
        with pytest.raises(SystemExit) as exit_:
            main(["history", "--journal", str(tmp_path / "real.sqlite"), "--days", days])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "argument --days" in err and "Traceback" not in err
    assert main(["history", "--journal", str(tmp_path / "real.sqlite"), "--days", "36600"]) == 0
    assert "fearful" in capsys.readouterr().out


def test_history_and_calibrate_show_what_was_learnt_and_calibrate_reset_forgets_it(tmp_path, capsys):
    from device.card import load
    from device.learning import Learning

    fill(tmp_path / "journal.sqlite")
    card = load()
    learning = Learning(tmp_path / "learning.json", card.labels, voice=card.frontend.voice())
    learning.ranker.record("sad", "calm-bright", kept=True)
    learning.calibration.learn(dict.fromkeys(card.labels, 0.125), "sad")
    learning.voice.hear(np.zeros(card.frontend.nfilt))
    learning.voice.answer(np.eye(len(card.labels))[card.labels.index("sad")])  # it heard one utterance, sad
    learning.save()
    assert main(["history", "--journal", str(tmp_path / "journal.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "learnt: 1 correction(s) (the calibration is not acting)" in out
    assert "sad        calm-bright kept 1 of 1 times" in out
    assert main(["calibrate", "--learning", str(tmp_path / "learning.json")]) == 0
    out = capsys.readouterr().out
    assert "1 correction(s)" in out and "is not acting yet: it acts from 8 corrections" in out
    assert "felt sad" in out and "calm-bright kept 1 of 1 times" in out
    assert "1 utterance(s) heard" in out and "the model's usual answer for it" in out and ": sad 100%, " in out
    assert main(["calibrate", "--learning", str(tmp_path / "learning.json"), "--reset"]) == 0
    assert "forgot everything" in capsys.readouterr().out
    assert Learning(tmp_path / "learning.json", load().labels).ranker.counts == {}


def test_calibrate_shows_the_weights_of_a_calibration_that_acts(tmp_path, capsys):
    from device.card import load
    from device.learning import Learning

    labels = load().labels
    heard = {label: 0.05 for label in labels} | {"happy": 0.5, "surprised": 0.15}
    learning = Learning(tmp_path / "learning.json", labels)
    for _ in range(12):
        learning.calibration.learn(heard, "surprised")  # this voice's surprise sounds happy to the model
    learning.save()
    assert main(["calibrate", "--learning", str(tmp_path / "learning.json")]) == 0
    out = capsys.readouterr().out
    assert "the calibration is acting (+12 right against the shipped model" in out
    assert "the model's happy counts toward surprised (+0.50)" in out
