"""``python -m device classify``, run as a newcomer runs it."""

import json
import os
import subprocess
import sys

import numpy as np
import soundfile

from tests.paths import REPO
from tests.paths import SAMPLES as SAMPLE_DIR

SAMPLES = sorted(SAMPLE_DIR.glob("*.flac"))


def classify(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "device", "classify", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_json_lines_one_per_file_and_failures_do_not_stop_the_rest(tmp_path):
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(32000, dtype=np.float32), 16000)
    corrupt = tmp_path / "corrupt.ogg"
    corrupt.write_bytes(b"OggS garbage")
    stereo48k = tmp_path / "stereo48k.wav"
    x, rate = soundfile.read(SAMPLES[0])
    from device.audio import resample

    y = resample(x.astype(np.float32), rate, 48000)
    soundfile.write(stereo48k, np.stack([y, y], axis=1), 48000)

    out = classify("--json", str(SAMPLES[0]), str(silent), str(corrupt), str(stereo48k))
    assert out.returncode == 1
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(SAMPLES[0]), str(silent), str(corrupt), str(stereo48k)]
    good = lines[0]
    assert set(good) == {"file", "emotion", "confidence", "arousal", "valence", "scores", "speech_seconds",
                         "latency_ms"}
    assert set(good["latency_ms"]) == {"features", "inference", "total"}
    assert good["emotion"] == max(good["scores"], key=good["scores"].get)
    assert lines[1] == {"file": str(silent), "emotion": None, "error": "no speech found in the recording"}
    assert lines[2]["emotion"] is None and "corrupt.ogg" in lines[2]["error"]
    assert lines[3]["emotion"] == good["emotion"]  # the same speech, stereo at 48 kHz
    assert abs(lines[3]["confidence"] - good["confidence"]) < 0.1


def test_table_for_people_and_exit_zero_when_all_succeed():
    out = classify(*map(str, SAMPLES[:2]))
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    assert header.split()[:4] == ["file", "emotion", "conf", "latency"]
    assert len(rows) == 2 and all("%" in row and "ms" in row for row in rows)


def test_missing_model_is_one_clear_line(tmp_path):
    out = classify("--model", str(tmp_path / "none.json"), str(SAMPLES[0]))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"error: model card {tmp_path / 'none.json'} not found: "
                                               "pass --model with the .json card of a model"]


def test_a_fifo_a_folder_and_a_missing_file_are_named_and_the_others_still_classified(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)  # no writer: it must not hang
    out = classify("--json", str(fifo), str(tmp_path), str(tmp_path / "gone.flac"), str(SAMPLES[0]))
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["error"] for line in lines[:3]] == [
        f"{fifo} is not a regular file (a FIFO, socket or device): give a recording",
        f"{tmp_path} is a folder, not an audio file",
        f"cannot read audio file {tmp_path / 'gone.flac'}: No such file or directory"]
    assert lines[3]["emotion"] and out.returncode == 1


def test_a_long_recording_is_classified_from_its_beginning_with_a_warning(tmp_path):
    speech, rate = soundfile.read(SAMPLES[0], dtype="float32")
    recording = np.concatenate([speech, np.zeros(40 * rate, np.float32)])
    long, head = tmp_path / "long.flac", tmp_path / "head.flac"
    soundfile.write(long, recording, rate)
    soundfile.write(head, recording[: 30 * rate], rate)  # what is classified: the first 30 s
    out = classify("--json", str(long), str(head))
    first, alone = (json.loads(line) for line in out.stdout.splitlines())
    assert first["emotion"] == alone["emotion"] and first["scores"] == alone["scores"]
    assert first["speech_seconds"] == alone["speech_seconds"] > 1.0
    assert "only its first 30s were classified" in out.stderr


def scores_by_file(out: subprocess.CompletedProcess) -> dict[str, dict]:
    assert out.returncode == 0, out.stderr
    return {line["file"]: line["scores"] for line in map(json.loads, out.stdout.splitlines())}


def test_the_files_are_heard_as_one_listener_in_any_order_and_each_alone_with_each():
    files = list(map(str, SAMPLES))
    forward, backward = scores_by_file(classify("--json", *files)), scores_by_file(classify("--json", *files[::-1]))
    assert forward == backward  # the set's voice, not the order, is what each file is heard against
    each = scores_by_file(classify("--json", "--each", *files))
    assert each[files[0]] == scores_by_file(classify("--json", "--each", files[0]))[files[0]]  # alone is alone
    assert all(each[f] != forward[f] for f in files)  # and differs from being heard with the others
    plain = scores_by_file(classify("--json", "--balance", "0", *files))
    assert all(plain[f] != forward[f] for f in files)  # the set's usual answer is taken off by default


def test_a_share_outside_0_to_1_is_one_clear_line():
    out = classify("--balance", "1.5", str(SAMPLES[0]))
    assert out.returncode == 2 and "--balance 1.5: give a share between 0 and 1" in out.stderr
    out = classify("--stretch", "0.5", str(SAMPLES[0]))
    assert out.returncode == 2 and "--stretch 0.5: give a share between 0 and 0.3" in out.stderr


def test_each_file_is_also_heard_stretched_unless_stretch_is_0():
    files = list(map(str, SAMPLES[:3]))
    box, once = scores_by_file(classify("--json", *files)), scores_by_file(classify("--json", "--stretch", "0", *files))
    assert all(box[f] != once[f] for f in files)
