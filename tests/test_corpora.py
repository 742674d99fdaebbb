"""Each loader reads a tiny fake tree laid out as the corpus is published."""

from collections import Counter

import numpy as np
import pytest
import soundfile

from training import corpora
from training.corpora import LABELS

TREES = {
    "ravdess": {  # the 48 kHz WAV download, song and video files included
        "Actor_01/03-01-05-01-01-01-01.wav": ("angry", "ravdess:01"),
        "Actor_01/03-01-02-02-02-02-01.wav": ("calm", "ravdess:01"),
        "Actor_02/03-01-08-01-01-01-02.wav": ("surprised", "ravdess:02"),
        "Actor_02/03-02-05-01-01-01-02.wav": None,  # song
        "Actor_02/01-01-05-01-01-01-02.wav": None,  # audio-video modality
        "Actor_02/notes.wav": None,
    },
    "crema-d": {
        "AudioWAV/1001_DFA_ANG_XX.wav": ("angry", "crema-d:1001"),
        "AudioWAV/1002_IEO_HAP_HI.wav": ("happy", "crema-d:1002"),
        "AudioWAV/1003_TIE_NEU_XX.wav": ("neutral", "crema-d:1003"),
        "AudioWAV/1003_TIE_XYZ_XX.wav": None,
    },
    "tess": {
        "OAF_angry/OAF_back_angry.wav": ("angry", "tess:OAF"),
        "YAF_pleasant_surprised/YAF_bath_ps.wav": ("surprised", "tess:YAF"),
        "OAF_Fear/OAF_dog_fear.wav": ("fearful", "tess:OAF"),
    },
    "savee": {
        "AudioData/DC/a01.wav": ("angry", "savee:DC"),
        "AudioData/JK/sa03.wav": ("sad", "savee:JK"),
        "ALL/KL_su15.wav": ("surprised", "savee:KL"),
        "AudioData/DC/info.wav": None,
    },
    "nemo": {  # the published download: WAV files in samples/, speakers and emotions in data.tsv
        "samples/SM0_anger_12.wav": ("angry", "nemo:SM0"),
        "samples/KD0_happiness_3.wav": ("happy", "nemo:KD0"),
        "samples/EB0_sadness_7.wav": ("sad", "nemo:EB0"),
        "samples/EB0_boredom_1.wav": None,
    },
    "turev-db": {
        "Sound Source/Angry/1234_sk_acik.wav": ("angry", "turev-db:1234"),
        "Sound Source/Calm/7895_hl_beste.wav": ("calm", "turev-db:7895"),
        "Sound Source/Sad/1157_hl_algi.wav": ("sad", "turev-db:1157"),
        "Sound Source/Sad/readme.wav": None,
        "Sound Source/Bored/1234_sk_acik.wav": None,
    },
    "emodb": {
        "wav/03a01Wa.wav": ("angry", "emodb:03"),
        "wav/16b10Tb.wav": ("sad", "emodb:16"),
        "wav/08a02Lc.wav": None,  # boredom: no emotune class
    },
}


def build(root, tree, rate=48000):
    for name in tree:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, np.zeros(rate // 10, dtype=np.float32), rate)


@pytest.mark.parametrize("name", sorted(TREES))
def test_loader_reads_the_published_layout(tmp_path, name):
    build(tmp_path, TREES[name])
    got = {c.path.relative_to(tmp_path).as_posix(): (c.label, c.speaker) for c in corpora.load(name, tmp_path)}
    assert got == {k: v for k, v in TREES[name].items() if v is not None}
    assert all(label in LABELS for label, _ in got.values())


def test_nemo_table_wins_over_the_name_and_stereo_44k_reads(tmp_path):
    """data.tsv pads speaker ids with spaces; a stereo 44.1 kHz WAV is read as 16 kHz mono."""
    from device import audio

    (tmp_path / "samples").mkdir()
    soundfile.write(tmp_path / "samples" / "WR0_fear_70.wav", np.zeros((4410, 2), dtype=np.float32), 44100)
    (tmp_path / "data.tsv").write_text("file_id\temotion\traw_text\tspeaker_id\n"
                                       "WR0_fear_70.wav\tfear\tCzłowiek.\t        WR0\n", encoding="utf-8")
    (clip,) = corpora.load("nemo", tmp_path)
    assert (clip.label, clip.speaker, clip.corpus) == ("fearful", "nemo:WR0", "nemo")
    assert audio.load(clip.path, 16000).shape == (1600,)


def test_ravdess_flac_copy(tmp_path):
    build(tmp_path, {"Actor_20/03-01-04-02-01-01-20.flac": None}, rate=16000)
    (clip,) = corpora.load("ravdess", tmp_path)
    assert (clip.label, clip.speaker) == ("sad", "ravdess:20")


def test_the_shared_ravdess_copy_has_every_class():
    from tests.paths import NO_RAVDESS, RAVDESS

    if not RAVDESS.is_dir():
        pytest.skip(NO_RAVDESS)
    counts = Counter(c.label for c in corpora.load("ravdess", RAVDESS))
    assert set(counts) == set(LABELS) and counts["neutral"] * 2 == counts["calm"]


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="unknown corpus 'iemocap'"):
        corpora.load("iemocap", tmp_path)
    with pytest.raises(FileNotFoundError, match="nothere"):
        corpora.load("tess", tmp_path / "nothere")
    with pytest.raises(ValueError, match="no savee clips"):
        corpora.load("savee", tmp_path)
