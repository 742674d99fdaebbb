"""The teacher behind ``--distil`` and ``--hint``: speaker-normalised embeddings, out-of-speaker opinions."""

import numpy as np
import pytest

from device.features import FrontEnd
from training import teacher
from training.corpora import LABELS, Clip
from training.dataset import Examples
from training.teacher import Lessons
from training.train import Batches


def voices(speakers: int = 6, per_label: int = 5, labels: int = 4, seed: int = 0):
    """Return (vectors, labels, speakers): every speaker has an own offset; each label one direction."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((labels, 32)) * 2.0
    rows, ys, who = [], [], []
    for s in range(speakers):
        offset = rng.standard_normal(32) * 10.0
        for y in range(labels):
            for _ in range(per_label):
                rows.append(offset + directions[y] + rng.standard_normal(32) * 0.5)
                ys.append(y)
                who.append(f"c:{s}")
    return np.array(rows, dtype=np.float32), np.array(ys), np.array(who)


def test_by_speaker_takes_each_speakers_mean_and_spread_away():
    vectors, _, speakers = voices()
    normal = teacher.by_speaker(vectors, speakers)
    for who in np.unique(speakers):
        mine = normal[speakers == who]
        assert np.allclose(mine.mean(axis=0), 0.0, atol=1e-5) and np.allclose(mine.std(axis=0), 1.0, atol=1e-3)


def test_the_teacher_hears_emotions_in_speakers_it_never_heard():
    vectors, labels, speakers = voices()
    raw = teacher.teach(vectors, labels, speakers, seed=1)
    normal = teacher.teach(teacher.by_speaker(vectors, speakers), labels, speakers, seed=1)
    assert np.allclose(normal.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(normal[:, 4:] == 0.0)  # emotions nobody showed get nothing
    # each speaker's large offset hides the emotion from a classifier that never heard the speaker
    assert np.mean(normal.argmax(axis=1) == labels) > 0.9 > np.mean(raw.argmax(axis=1) == labels) + 0.1


def test_every_opinion_comes_from_a_teacher_that_never_heard_the_speaker():
    vectors, labels, speakers = voices(speakers=5)
    normal = teacher.by_speaker(vectors, speakers)
    odd = speakers == "c:3"  # one speaker acts every emotion as the next one
    labels = np.where(odd, (labels + 1) % 4, labels)
    said = teacher.teach(normal, labels, speakers, seed=1).argmax(axis=1)
    assert np.mean(said[odd] == labels[odd]) < 0.2  # the others taught it, so it disagrees with this one
    assert np.mean(said[~odd] == labels[~odd]) > 0.8


def clips_of(tmp_path, labels: np.ndarray, speakers: np.ndarray) -> list[Clip]:
    """Return a clip file per row (its size is its index plus one: the cache tells them apart by it)."""
    clips = []
    for i, (y, who) in enumerate(zip(labels, speakers, strict=True)):
        path = tmp_path / f"{i}.wav"
        path.write_bytes(b"x" * (i + 1))
        clips.append(Clip(path, LABELS[y], who))
    return clips


def encoder_of(vectors: np.ndarray, calls: list):
    """Return a stand-in for the speaker encoder (tested for real below) that gives row ``s[0]`` of
    ``vectors`` for samples ``s`` and notes how many it was asked for."""
    def encode(samples):
        calls.append(len(samples))
        return vectors[[int(s[0]) for s in samples]]

    return encode


def test_lessons_cover_the_training_clips_only(tmp_path, monkeypatch):
    vectors, labels, speakers = voices(speakers=5, labels=len(LABELS), per_label=2)
    clips = clips_of(tmp_path, labels, speakers)
    monkeypatch.setattr(teacher, "_encode", encoder_of(vectors, []))
    train = np.flatnonzero(speakers != "c:4")
    samples = [np.full(1, i) for i in range(len(clips))]
    found = teacher.lessons(clips, samples, train, tmp_path / "cache", seed=1, distil=True, hint=True)
    said, hints = found.opinions, found.voices
    assert said.shape == (len(clips), len(LABELS)) and hints.shape == (len(clips), 32)
    assert np.allclose(said[train].sum(axis=1), 1.0, atol=1e-5) and np.all(said[speakers == "c:4"] == 0.0)
    assert np.allclose(hints[train], teacher.by_speaker(vectors[train], speakers[train]))
    assert np.all(hints[speakers == "c:4"] == 0.0)
    assert teacher.lessons(clips, samples, train, tmp_path / "cache", 1, distil=False, hint=False) == teacher.Lessons()


def test_the_encoder_runs_once_per_clip_whatever_the_order_of_later_asks(tmp_path, monkeypatch):
    vectors, labels, speakers = voices(speakers=2, labels=2, per_label=1)  # four clips
    clips = clips_of(tmp_path, labels, speakers)
    samples = [np.full(1, i) for i in range(len(clips))]
    calls: list[int] = []
    monkeypatch.setattr(teacher, "_encode", encoder_of(vectors, calls))
    first = teacher.embeddings(clips[:2], samples[:2], tmp_path)
    again = teacher.embeddings(clips[::-1], samples[::-1], tmp_path)  # two new clips, two from the cache
    assert calls == [2, 2]
    assert np.array_equal(first, vectors[:2]) and np.array_equal(again, vectors[::-1])
    twice = teacher.embeddings(clips[:1] * 2, samples[:1] * 2, tmp_path / "other")  # the same clip twice
    assert calls == [2, 2, 1] and np.array_equal(twice, vectors[[0, 0]])


def test_batches_blend_each_label_with_the_teachers_opinion_of_its_clip():
    n = len(LABELS)  # example i has label i and comes from clip 2 i
    rng = np.random.default_rng(0)
    data = Examples([rng.standard_normal((40, 8)).astype(np.float32) for _ in range(n)],
                    np.arange(n, dtype=np.int32) % len(LABELS), np.arange(n) * 2, np.zeros(n, dtype=np.int32))
    opinion = rng.dirichlet(np.ones(len(LABELS)), size=2 * n).astype(np.float32)
    fe = FrontEnd(frames=40, nfilt=8)
    _, plain, _, _ = next(Batches(data, fe, size=n, seed=3).epoch())
    _, y, _, _ = next(Batches(data, fe, size=n, seed=3, teacher=Lessons(opinions=opinion), distil=0.25).epoch())
    clip = data.clips[plain.argmax(axis=1)]  # the same seed draws the same examples
    assert np.allclose(y, 0.75 * plain + 0.25 * opinion[clip], atol=1e-6)
    _, off, _, _ = next(Batches(data, fe, size=n, seed=3, teacher=Lessons(opinions=opinion), distil=0.0).epoch())
    assert np.array_equal(off, plain)
    voices = rng.standard_normal((2 * n, 5)).astype(np.float32)
    _, y, _, side = next(Batches(data, fe, size=n, seed=3, teacher=Lessons(voices=voices)).epoch())
    assert np.array_equal(y, plain) and np.array_equal(side, voices[data.clips[plain.argmax(axis=1)]])


def test_the_hint_head_learns_the_teachers_embedding_and_ships_nothing():
    import keras

    from training.network import ds_cnn, hinted

    keras.utils.set_random_seed(0)
    model = ds_cnn(40, 8, len(LABELS), width=0.1)
    trainer = hinted(model, 3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 40, 8)).astype(np.float32) * rng.uniform(0.2, 2.0, (32, 1, 1)).astype(np.float32)
    logits, voice = trainer(x, training=False)
    assert np.allclose(logits.numpy(), model(x, training=False).numpy(), atol=1e-6) and voice.shape == (32, 3)
    shipped = {id(w) for w in model.weights}
    assert {w.path.split("/")[0] for w in trainer.weights if id(w) not in shipped} == {"hint"}
    target = np.stack([x.std(axis=(1, 2)), x[:, :, :4].mean(axis=(1, 2)), -x.std(axis=(1, 2))], axis=1)
    trainer.compile(optimizer=keras.optimizers.Adam(1e-2), loss=[keras.losses.CategoricalCrossentropy(
        from_logits=True), keras.losses.MeanSquaredError()], loss_weights=[0.0, 1.0])
    y = np.eye(len(LABELS), dtype=np.float32)[np.arange(32) % len(LABELS)]
    hint = trainer.fit(x, [y, target], epochs=100, batch_size=32, verbose=0).history["hint_loss"]
    assert hint[-1] < 0.2 * hint[0]  # in training mode (batch statistics), as the student learns it


@pytest.mark.parametrize("seconds", [0.4, 2.0])
def test_the_speaker_encoder_embeds_short_and_long_clips(tmp_path, seconds):
    pytest.importorskip("resemblyzer")
    rng = np.random.default_rng(0)
    t = np.arange(int(16000 * seconds)) / 16000
    voice = (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
             + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    path = tmp_path / "a.wav"
    path.write_bytes(b"x")
    out = teacher.embeddings([Clip(path, "happy", "c:1")], [voice], tmp_path / "cache")
    assert out.shape == (1, 256) and np.isclose(np.linalg.norm(out[0]), 1.0, atol=1e-4)
    assert (tmp_path / "cache" / "voices.npz").is_file()
