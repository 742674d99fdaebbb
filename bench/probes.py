"""Probes of speech-model ideas that need no network trained: is an idea worth a 30-minute fold run?

``features``: a leave-one-corpus-out logistic regression on utterance statistics (the log-mel
bands' mean, deviation and mean frame-to-frame change over the speech, each relative to the
speaker's mean, as a settled box hears them), with and without pitch (a plain autocorrelation
tracker: median, 10-90 % range and jitter of log-f0, its slope, the voiced share, the energy's
spread), and with each speaker's z-scores instead of differences from the mean.

``statistics``: the card's statistics head (:mod:`training.statistics_head`) of each pool of
bands, strength and weight, fitted on each fold's training speakers and blended into the fold's
own network (its card's head left out), settled and stretched: each corpus left out and the
held-out speakers; then, for the shipped pool and strength, as the box decides (balanced by a
quarter), also in households where one emotion is 70 % of what is said.

``balance``: on the validation folds' own settled scores (cached by ``bench/calibrate.py``), what
a share ``a`` of *answer balancing* would do (each answer divided by the box's usual answer for
this listener to the power ``a``, :meth:`device.voice.Voice.balance`, so an emotion the model
hears in everything a voice says counts less): on each
corpus left out as recorded (every emotion equally often), and in simulated households where one
emotion is 70 % of what is said (40 clips drawn per person, 20 draws); and on the held-out
RAVDESS actors of the ``speakers`` fold, clean and in white noise at 10 dB SNR (the card's conditions).

``stretch``: what hearing each utterance also with its spectrum stretched by ``1 - s`` and ``1 + s``
(:func:`device.features.stretched`, the box's ``[model] stretch``) does to the validation folds'
int8 networks (without their cards' statistics heads; no balancing): each corpus left out,
settled and at the first press, and the held-out speakers of the ``speakers`` fold, clean, in
white noise at 10 dB SNR (the validation's seeds) and at the first press.

    .venv/bin/python bench/probes.py features     # about 1 minute on two cores
    .venv/bin/python bench/probes.py statistics   # 2 minutes; --validation DIR for another run's folds
    .venv/bin/python bench/probes.py balance
    .venv/bin/python bench/probes.py balance --validation build/validation-adv   # another run's folds
    .venv/bin/python bench/probes.py stretch      # about 6 minutes on two cores
    .venv/bin/python bench/probes.py stretch --validation build/validation-warp7

``confidence``: what the box's ``[model] min_confidence`` does on the validation folds' settled
scores as the box decides (stretched, balanced by a quarter, over all eight emotions): for each
threshold, the share of presses it acts on and how often those answers are right; and for the
answers between one threshold and the next, how often they are right and how far they land from
the truth on the circumplex (:mod:`device.circumplex`), where the music is chosen; on the corpora
left out and on the held-out speakers.

    .venv/bin/python bench/probes.py confidence   # with the folds' scores cached by bench/calibrate.py

``corpora``: what more corpora buy a corpus left out, for a reading of the statistics head's kind (a
logistic regression on the 16 coarse bands' statistics relative to the speaker): trained on every
subset of one, two, three and four of the other corpora that acts all of its emotions.

    .venv/bin/python bench/probes.py corpora      # about 2 minutes on two cores

``voices``: how well the ``--distil`` teacher alone (:mod:`training.teacher`, a logistic regression on
a pretrained speaker encoder's utterance embeddings) names the emotions of a corpus left out, on the
raw embeddings and on each speaker's z-scores, for three regularisation strengths.

    .venv/bin/python bench/probes.py voices       # 4 minutes on two cores the first time, then seconds

``levels``: how loud each emotion is said against the speaker's mean level (dB over the speech's
log-mel bands, as a settled box hears it), corpus by corpus: a cue the corpora disagree on.

    .venv/bin/python bench/probes.py levels       # about 1 minute on two cores

``lengths``: each corpus's median seconds of speech per emotion, and what each corpus left out is
heard as in each quarter of its clips by length (the folds' own int8 models): is length a cue the
corpora disagree on?

``heads``: what the box would answer from its listener's statistics, on the folds' own int8
models: the network's answers; balanced by a share of the listener's usual answer (as the device
does, and in log space); or a linear head on the pooled features z-scored per speaker (the
teacher's normalisation); each on the corpora left out and the held-out speakers as recorded, and
in households where one emotion is 70 % of what is said. ``ensemble``: several validation runs'
fold models averaged (``--with`` another run's folder, repeated), and each run's answers shifted by
the bias its other folds showed on their new corpora.

``shared``: what a box that two people share hears: each corpus left out, its fold's network heard
as the box hears (stretched, balanced by a quarter; without the card's statistics head), settled
on each person alone, on two people at once, on those two told apart again by spectral shape, and
on everyone as one listener.

    .venv/bin/python bench/probes.py lengths      # about 1 minute
    .venv/bin/python bench/probes.py shared       # about 4 minutes
    .venv/bin/python bench/probes.py heads        # 2 minutes; --validation DIR for another run's folds
    .venv/bin/python bench/probes.py ensemble --with build/validation-card7

``features``, ``voices``, ``levels``, ``statistics``, ``lengths``, ``heads``, ``ensemble`` and
``shared`` print only; ``balance``, ``stretch`` and ``confidence`` also write their rows into the
README's results table (``--no-readme``: print only).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import shlex
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import results  # noqa: E402
from bench.calibrate import DATA, OUT, VALIDATION, balanced, by_listener, fold_scores, folds, ua  # noqa: E402
from device import audio  # noqa: E402
from device import card as cards  # noqa: E402
from device.config import ModelSettings  # noqa: E402
from device.errors import EmotuneError  # noqa: E402
from device.features import STRETCH, FrontEnd, dynamics, spectrum, speech_features, stretched  # noqa: E402
from device.model import EmotionModel, softmax  # noqa: E402
from device.voice import BALANCE  # noqa: E402

CORPORA = ("nemo", "ravdess", "savee", "tess", "turev-db")
FRONT_END = FrontEnd(normalisation="listener")
SHARES = (0.0, 0.25, 0.5, 1.0)
STRETCHES = (0.0, 0.05, STRETCH)
UNSURE = ModelSettings().min_confidence
THRESHOLDS = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
WEIGHTS = (0.0, 0.25, 0.5, 1.0)


def pitch(x: np.ndarray, rate: int = 16000, frame: int = 640, hop: int = 160,
          fmin: float = 60, fmax: float = 450) -> tuple[np.ndarray, np.ndarray]:
    """Return (f0 in Hz or NaN where unvoiced, energy in dB) per 10 ms frame: normalised autocorrelation peak."""
    n = 1 + max(0, (len(x) - frame) // hop)
    frames = x[np.arange(frame)[None] + hop * np.arange(n)[:, None]] * np.hanning(frame)
    frames -= frames.mean(axis=1, keepdims=True)
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, 2 * frame)) ** 2)[:, :frame]
    ac /= ac[:, :1] + 1e-9
    low, high = int(rate // fmax), int(rate // fmin)
    lag = low + ac[:, low:high].argmax(axis=1)
    energy = 10 * np.log10((frames**2).mean(axis=1) + 1e-10)
    voiced = (ac[np.arange(n), lag] > 0.5) & (energy > energy.max() - 35)
    return np.where(voiced, rate / lag, np.nan), energy


def statistics(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (log-mel statistics, pitch statistics) of one clip's speech, or None without speech."""
    try:
        x = audio.load(path, FRONT_END.sample_rate)
        feats, segment = speech_features(x, FRONT_END)
    except EmotuneError:
        return None
    f0, energy = pitch(segment.cut(x))
    voiced = np.flatnonzero(~np.isnan(f0))
    tone = np.log2(f0[voiced])
    prosody = np.full(6, np.nan)
    if len(voiced) >= 5:
        prosody[:] = (np.median(tone), np.percentile(tone, 90) - np.percentile(tone, 10), np.std(np.diff(tone)),
                      np.polyfit(voiced / 100.0, tone, 1)[0], len(voiced) / len(f0), np.std(energy))
    return np.concatenate([spectrum(feats), dynamics(feats)]), prosody  # as the statistics head reads them


def per_speaker(x: np.ndarray, speakers: np.ndarray, scale: bool = False) -> np.ndarray:
    """Return ``x`` minus each speaker's mean (NaN filled with it); with ``scale``, each speaker's
    z-scores, as the ``--distil`` teacher takes them (:func:`training.teacher.by_speaker`)."""
    from training.teacher import by_speaker

    out = np.array(x, dtype=float)
    for who in np.unique(speakers):
        rows = speakers == who
        mean = np.nanmean(out[rows], axis=0)
        out[rows] = np.where(np.isnan(out[rows]), mean, out[rows]) - mean
    return by_speaker(out, speakers) if scale else out


def loco(x: np.ndarray, labels: np.ndarray, corpora: np.ndarray, strength: float = 0.05) -> list[float]:
    """Return the UA of each corpus left out (argmax over its own classes) for a logistic regression
    of inverse regularisation ``strength`` trained on the other corpora."""
    return [left_out(x, labels, corpora, corpus, [c for c in CORPORA if c != corpus], strength) for corpus in CORPORA]


def left_out(x: np.ndarray, labels: np.ndarray, corpora: np.ndarray, corpus: str, learnt: list[str],
             strength: float = 0.05) -> float:
    """Return the UA of ``corpus`` (argmax over its own classes) for a logistic regression of inverse
    regularisation ``strength`` trained on the corpora ``learnt``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    train, test = np.isin(corpora, learnt), corpora == corpus
    scaler = StandardScaler().fit(x[train])
    clf = LogisticRegression(C=strength, max_iter=3000, class_weight="balanced")
    clf.fit(scaler.transform(x[train]), labels[train])
    classes = [c for c in clf.classes_ if c in set(labels[test])]
    p = clf.predict_proba(scaler.transform(x[test]))[:, [list(clf.classes_).index(c) for c in classes]]
    return ua(labels[test], np.array(classes)[p.argmax(axis=1)])


def table() -> dict[str, np.ndarray]:
    """Return every clip with speech of the five corpora: its path, label, speaker, corpus and
    utterance statistics (``mel``, ``prosody``; raw, not yet relative to the speaker)."""
    from training import corpora

    clips = [c for name in CORPORA for c in corpora.load(name, DATA / name)]
    with multiprocessing.Pool(2) as pool:
        found = pool.map(statistics, [c.path for c in clips], chunksize=20)
    kept = [i for i, f in enumerate(found) if f is not None]
    print(f"{len(kept)} of {len(clips)} clips hold speech")
    return {"path": np.array([str(clips[i].path) for i in kept]), "label": np.array([clips[i].label for i in kept]),
            "speaker": np.array([clips[i].speaker for i in kept]), "corpus": np.array([clips[i].corpus for i in kept]),
            "mel": np.stack([found[i][0] for i in kept]), "prosody": np.stack([found[i][1] for i in kept])}


def features() -> None:
    t = table()
    mel, prosody, speakers = t["mel"], t["prosody"], t["speaker"]
    print(f"LOCO UA: {' '.join(CORPORA)}")
    for name, x in (("log-mel statistics", per_speaker(mel, speakers)),
                    ("pitch statistics", per_speaker(prosody, speakers)),
                    ("log-mel + pitch", per_speaker(np.hstack([mel, prosody]), speakers)),
                    ("log-mel, speaker z-scores", per_speaker(mel, speakers, scale=True))):
        found_ua = loco(x, t["label"], t["corpus"])
        print(f"  {name:<26} {' '.join(f'{u:.3f}' for u in found_ua)}  mean {np.mean(found_ua):.3f}")


def more_corpora() -> None:
    """Print each corpus's UA left out for the statistics head's kind of reading (the 16 coarse bands'
    level, deviation and change relative to the speaker, a logistic regression of the head's strength)
    trained on every subset of one, two, three and four of the other corpora that acts all the
    left-out corpus's emotions (the mean over those subsets)."""
    from device.statistics import coarse
    from training.statistics_head import POOL, STRENGTH

    t = table()
    x = np.stack([coarse(row, POOL) for row in per_speaker(t["mel"], t["speaker"])])
    print(f"UA left out, by training corpora: {' '.join(CORPORA)}")
    for k in range(1, len(CORPORA)):
        cells = []
        for corpus in CORPORA:
            acted = set(t["label"][t["corpus"] == corpus])
            found = [left_out(x, t["label"], t["corpus"], corpus, list(learnt), STRENGTH)
                     for learnt in itertools.combinations([c for c in CORPORA if c != corpus], k)
                     if acted <= set(t["label"][np.isin(t["corpus"], learnt)])]
            cells.append(f"{np.mean(found):.3f} ({len(found)})" if found else "–")
        print(f"  {k} {'corpus' if k == 1 else 'corpora'}: {'  '.join(cells)}")


def voices() -> None:
    """Print the corpus-held-out UA of the ``--distil`` teacher alone (:mod:`training.teacher`): a
    logistic regression on the speaker encoder's embeddings, raw and each speaker's taken away."""
    from training import corpora, teacher
    from training.dataset import read_all

    clips, samples = read_all([c for name in CORPORA for c in corpora.load(name, DATA / name)], 16000)
    vectors = teacher.embeddings(clips, samples, ROOT / "build" / "cache")
    speakers = np.array([c.speaker for c in clips])
    labels, corpus = np.array([c.label for c in clips]), np.array([c.corpus for c in clips])
    print(f"LOCO UA: {' '.join(CORPORA)}")
    for name, x in (("raw", vectors), ("speaker's taken away", per_speaker(vectors, speakers, scale=True))):
        for strength in (0.001, 0.003, 0.01):
            found = loco(x, labels, corpus, strength)
            print(f"  {name:<22} C {strength:<6g} {' '.join(f'{u:.3f}' for u in found)}  mean {np.mean(found):.3f}")


def levels() -> None:
    """Print each corpus's mean level of every emotion against its speakers' own mean, in dB."""
    from training.corpora import LABELS
    from training.voices import NATS_PER_DB

    t = table()
    bands = t["mel"].shape[1] // 3  # the bands' means come first
    level = per_speaker(t["mel"][:, :bands].mean(axis=1, keepdims=True), t["speaker"])[:, 0] / NATS_PER_DB
    print(f"{'dB against the speaker':<24}" + "".join(f"{label:>10}" for label in LABELS))
    for corpus in CORPORA:
        mine = t["corpus"] == corpus
        cells = [level[mine & (t["label"] == label)] for label in LABELS]
        print(f"{corpus:<24}" + "".join(f"{c.mean():>+10.1f}" if len(c) else f"{'':>10}" for c in cells))


def lengths(validation: Path = VALIDATION) -> None:
    """Print each corpus's median seconds of speech per emotion, and, for each corpus left out, what
    its fold's network answers in each quarter of its clips by length (settled, not stretched)."""
    from training.corpora import LABELS

    seconds = speech_summaries()[1] * FRONT_END.winstep  # the clips settled() keeps, in its order
    _, _, truth, corpus = settled()
    print(f"{'median seconds of speech':<24}" + "".join(f"{label:>10}" for label in LABELS))
    for name in CORPORA:
        cells = [seconds[(corpus == name) & (truth == label)] for label in LABELS]
        print(f"{name:<24}" + "".join(f"{np.median(c):>10.2f}" if len(c) else f"{'':>10}" for c in cells))
    print("each corpus left out, its fold's answers over all eight emotions by quarter of length (shortest "
          "first): the shares of 0.1 or more")
    for name in CORPORA:
        model = EmotionModel(cards.load(folds(validation)[f"loco-{name}"][0]))
        windows = settled(model.card.frontend)[0]
        mine = np.flatnonzero(corpus == name)
        answers = np.array([model.card.labels[int(model.scores(windows[i]).argmax())] for i in mine])
        for quarter, part in enumerate(np.array_split(mine[np.argsort(seconds[mine], kind="stable")], 4), 1):
            said = answers[np.searchsorted(mine, part)]
            shares = ", ".join(f"{label} {share:.2f}" for label in LABELS if (share := np.mean(said == label)) >= 0.1)
            print(f"  {name:<10} quarter {quarter} ({seconds[part].min():.2f}-{seconds[part].max():.2f} s): {shares}")


def voice_groups(speakers: np.ndarray, spectra: np.ndarray) -> dict[str, np.ndarray]:
    """Return, for one corpus's clips, each way of grouping them into the listeners a box settles on
    (a group name per clip): each person alone; two people sharing a box (the speakers in sorted
    order, paired); each pair told apart again by their clips' spectral shape (Ward clustering of the
    mean spectrum's cepstral coefficients 1 to 12 into two voices); and everyone as one listener."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.fft import dct

    people = sorted(set(speakers))
    pair = {who: f"pair {k // 2}" for k, who in enumerate(people)}
    pairs = np.array([pair[who] for who in speakers])
    shape = dct(spectra, type=2, norm="ortho", axis=1)[:, 1:13]
    told = pairs.astype(object)  # longer names than the pairs'
    for name in np.unique(pairs):
        mine = np.flatnonzero(pairs == name)
        if len(set(speakers[mine])) > 1:
            x = (shape[mine] - shape[mine].mean(axis=0)) / shape[mine].std(axis=0)
            told[mine] = [f"{name} voice {v}" for v in fcluster(linkage(x, "ward"), 2, "maxclust")]
    return {"each person alone": speakers, "two people share a box": pairs,
            "the two told apart by spectrum": told, "everyone as one listener": np.full(len(speakers), "all")}


def shared(validation: Path = VALIDATION) -> None:
    """Print each corpus left out's UA (its fold's int8 model, stretched and balanced by a quarter as
    the box hears) when the box settles on each person alone, on two people at once, on those two told
    apart by spectrum (:func:`voice_groups`), and on everyone: what a shared box costs."""
    from training.dataset import device_windows

    clips, samples = every_clip()
    kept, _, spectra = speech_summaries()
    speaker, truth, corpus = (np.array([getattr(clips[i], key) for i in kept])
                              for key in ("speaker", "label", "corpus"))
    found: dict[str, list[float]] = defaultdict(list)
    for name in CORPORA:
        model = EmotionModel(cards.load(folds(validation)[f"loco-{name}"][0]))
        fe, mine = model.card.frontend, np.flatnonzero(corpus == name)
        classes = [c for c in model.card.labels if c in set(truth[mine])]
        columns = [model.card.labels.index(c) for c in classes]
        line = []
        for way, groups in voice_groups(speaker[mine], spectra[mine]).items():
            windows = device_windows([samples[kept[i]] for i in mine], fe, list(groups))
            scores = np.stack([model.scores(stretched(w, STRETCH, fe)) for w in windows])
            for group in np.unique(groups):
                scores[groups == group] = balanced(scores[groups == group], BALANCE)
            found[way].append(ua(list(truth[mine]), list(np.array(classes)[scores[:, columns].argmax(axis=1)])))
            line.append(f"{way} {found[way][-1]:.3f}")
        print(f"{name} left out: " + ", ".join(line), flush=True)
    for way, per in found.items():
        print(f"  {way:<32} mean {np.mean(per):.3f} ({' '.join(f'{u:.3f}' for u in per)})")


def network_only(card_path: Path) -> Path:
    """Return a copy of a fold's card without its statistics head (beside a copy of its model, under
    ``bench/out``): the network's own answers, to blend heads of other settings into."""
    import shutil
    from dataclasses import replace

    card = cards.load(card_path)
    folder = OUT / f"network-{card_path.parent.name}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(card.model_path, folder / card.model_file)
    return replace(card, statistics=None, path=None).save(folder / card_path.name)


def second_opinion(validation: Path = VALIDATION, pools: tuple[int, ...] = (1, 2, 4, 8),
               strengths: tuple[float, ...] = (0.01, 0.05), weights: tuple[float, ...] = WEIGHTS,
               draws: int = 20) -> None:
    """Print what a statistics head (:mod:`training.statistics_head`) of each pool and strength,
    blended at each weight into the folds' own networks' settled, stretched scores, would score:
    each corpus left out and the held-out speakers' mean; then, for the shipped pool and strength,
    as the box decides (balanced by a quarter), also in households where one emotion is 70 % of
    what is said (the head then reads each clip against the 40 clips' own mean)."""
    from dataclasses import replace

    from training import statistics_head as sh
    from training.corpora import LABELS

    clips, samples = every_clip()
    measured = sh.measure(samples, FRONT_END)
    speakers = np.array([c.speaker for c in clips])
    row = {str(c.path): i for i, c in enumerate(clips)}
    plan = {name: (fold_scores(name, network_only(card), held), held)
            for name, (card, held) in folds(validation).items()}

    def heads(pool: int, strength: float) -> dict:
        return {name: sh.fit(measured, clips, np.flatnonzero(~np.isin(speakers, sorted(held))), FRONT_END, 1.0,
                             pool=pool, strength=strength)[1] for name, (_, held) in plan.items()}

    def relative(at: np.ndarray) -> np.ndarray:
        return sh.settled(measured.spectra[at], measured.dynamics[at])

    def answers(head, net, rows, at, w, share=0.0) -> np.ndarray:
        scores = [replace(head, weight=w).blend(s, r) for s, r in zip(net["scores"][rows], relative(at), strict=True)]
        return balanced(np.array(scores), share)

    print(f"network x statistics head ** w, settled, stretched: LOCO UA {' '.join(CORPORA)}, mean; held-out mean")
    for pool in pools:
        for strength in strengths:
            fitted = heads(pool, strength)
            for w in weights:
                loco_ua, held_ua = {}, []
                for name, (net, _) in plan.items():
                    for who_corpus in sorted({s.partition(":")[0] for s in net["speaker"].astype(str)}):
                        truth_all, answer_all = [], []
                        for who in np.unique(net["speaker"]):
                            if not str(who).startswith(who_corpus + ":"):
                                continue
                            rows = np.flatnonzero(net["speaker"] == who)
                            at = np.array([row[p] for p in net["path"][rows]])
                            truth_all.append(net["label"][rows])
                            answer_all.append(answers(fitted[name], net, rows, at, w))
                        truth = np.concatenate(truth_all)
                        classes = [c for c in LABELS if c in set(truth)]
                        cols = [LABELS.index(c) for c in classes]
                        found = ua(truth, np.array(classes)[np.concatenate(answer_all)[:, cols].argmax(axis=1)])
                        if name.startswith("loco-"):
                            loco_ua[who_corpus] = found
                        else:
                            held_ua.append(found)
                per = [loco_ua[c] for c in CORPORA]
                print(f"  pool {pool} C {strength:<5g} w {w:<4g} {' '.join(f'{u:.3f}' for u in per)}  "
                      f"mean {np.mean(per):.3f}  held-out {np.mean(held_ua):.3f}", flush=True)
    fitted = heads(sh.POOL, sh.STRENGTH)
    print(f"as the box decides (balanced by {BALANCE:g}), pool {sh.POOL}, C {sh.STRENGTH:g}: LOCO mean; households "
          f"UA and accuracy")
    for w in weights:
        recorded, homes, rng = {}, ([], []), np.random.default_rng(0)  # the same households for every weight
        for name, (net, _) in plan.items():
            for who in np.unique(net["speaker"]):
                rows = np.flatnonzero(net["speaker"] == who)
                at = np.array([row[p] for p in net["path"][rows]])
                truth = net["label"][rows]
                corpus = str(who).partition(":")[0]
                classes = [c for c in LABELS if c in set(net["label"][np.char.startswith(
                    net["speaker"].astype(str), corpus + ":")])]
                cols = [LABELS.index(c) for c in classes]
                if name.startswith("loco-"):
                    got = answers(fitted[name], net, rows, at, w, BALANCE)
                    recorded.setdefault(corpus, []).append((truth, np.array(classes)[got[:, cols].argmax(axis=1)]))
                for _ in range(draws):
                    pick = household(truth, classes, rng)
                    got = answers(fitted[name], net, rows[pick], at[pick], w, BALANCE)
                    said = np.array(classes)[got[:, cols].argmax(axis=1)]
                    homes[0].append(ua(truth[pick], said))
                    homes[1].append(float((truth[pick] == said).mean()))
        per = [ua(*(np.concatenate(part) for part in zip(*recorded[c], strict=True))) for c in CORPORA]
        print(f"  w {w:<4g} {' '.join(f'{u:.3f}' for u in per)}  mean {np.mean(per):.3f}  | households UA "
              f"{np.mean(homes[0]):.3f} accuracy {np.mean(homes[1]):.3f}", flush=True)


def held_out_audio(validation: Path, held: set[str], rate: int) -> tuple[list, list[np.ndarray]]:
    """Return (clips, samples) of the ``held`` speakers in the order the validation in ``validation``
    read them (so that the white-noise seeds match its report)."""
    from training import corpora
    from training.dataset import read_all

    report = json.loads((validation / "emotune-ser.validation.json").read_text(encoding="utf-8"))
    words = shlex.split(report["command"])
    names = [words[i + 1].partition("=")[0] for i, word in enumerate(words) if word == "--corpus"]
    return read_all([c for name in names for c in corpora.load(name, DATA / name) if c.speaker in held], rate)


def held_out_in_noise(corpus: str = "ravdess", snr_db: float = 10.0) -> None:
    """Print the held-out-speaker folds' UA on their held-out speakers of ``corpus`` (every such fold's
    together, each speaker scored by the fold that held them out), clean and with white noise at
    ``snr_db`` as the validation adds it (the same seeds), settled per speaker and heard as the box
    hears (stretched, :data:`~device.features.STRETCH`, with the card's statistics head), per share."""
    from training.dataset import device_utterances, noisy

    heard: dict[str, list] = defaultdict(list)  # condition -> (truth, speakers, scores, labels) per fold
    for name, (card_path, held) in folds().items():
        if not name.startswith("speakers"):
            continue
        card = cards.load(card_path)
        clips, audio = held_out_audio(VALIDATION, held, card.frontend.sample_rate)
        model = EmotionModel(card)
        mine = np.array([c.corpus == corpus for c in clips])
        for condition, sound in (("clean", audio), (f"white noise {snr_db:g} dB",
                                                    [noisy(x, snr_db, i) for i, x in enumerate(audio)])):
            utterances = [u for u, m in zip(device_utterances(sound, card.frontend, [c.speaker for c in clips]),
                                            mine, strict=True) if m]
            if any(u is None for u in utterances):
                raise SystemExit(f"bench: a held-out {corpus} clip of {name} holds no speech in {condition}")
            heard[condition].append((np.array([c.label for c in clips])[mine],
                                     np.array([c.speaker for c in clips])[mine],
                                     np.stack([model.answer(u, STRETCH) for u in utterances]), card.labels))
    for condition, parts in heard.items():
        truth = np.concatenate([t for t, _, _, _ in parts])
        labels = parts[0][3]
        columns = [labels.index(c) for c in labels if c in set(truth)]
        figures = []
        for share in (0.0, BALANCE):
            answers = []
            for _, speakers, scores, _ in parts:
                fold_answers = scores.copy()
                for who in np.unique(speakers):
                    fold_answers[speakers == who] = balanced(scores[speakers == who], share)
                answers.append(fold_answers)
            said = np.concatenate(answers)[:, columns].argmax(axis=1)
            figures.append(ua(truth, np.array(labels)[np.array(columns)[said]]))
        print(f"held-out {corpus} speakers ({len(set(np.concatenate([s for _, s, _, _ in parts])))}), {condition}: "
              f"UA {figures[0]:.3f}, balanced by {BALANCE:g} {figures[1]:.3f}")


def household(truth: np.ndarray, classes: list[str], rng: np.random.Generator, size: int = 40,
              dominant: float = 0.7) -> np.ndarray:
    """Return ``size`` indices into one person's clips (``truth``, their labels) drawn as a household
    says them: one emotion of ``classes``, chosen at random, ``dominant`` of the time, the others alike."""
    weight = np.full(len(classes), (1 - dominant) / (len(classes) - 1))
    weight[rng.integers(len(classes))] = dominant
    p = np.array([weight[classes.index(t)] / (truth == t).sum() for t in truth])
    return rng.choice(len(truth), size=size, p=p / p.sum())


def balance(validation: Path = VALIDATION, draws: int = 20, size: int = 40, dominant: float = 0.7) -> list[str]:
    """Print each share's figures on the folds in ``validation``; return the README's row."""
    labels = cards.load().labels
    rng = np.random.default_rng(0)
    recorded = {share: {} for share in SHARES}
    homes = {share: ([], []) for share in SHARES}
    for name, (card_path, speakers) in folds(validation).items():
        data = fold_scores(name, card_path, speakers)
        for who in np.unique(data["speaker"]):
            rows = np.flatnonzero(data["speaker"] == who)
            truth, scores = data["label"][rows], data["scores"][rows]
            corpus = np.char.startswith(data["speaker"].astype(str), str(who).partition(":")[0] + ":")
            classes = [c for c in labels if c in set(data["label"][corpus])]  # the corpus's classes
            columns = [labels.index(c) for c in classes]

            def answer(at, share, scores=scores, classes=classes, columns=columns):
                return np.array(classes)[balanced(scores[at], share)[:, columns].argmax(axis=1)]

            picks = [household(truth, classes, rng, size, dominant) for _ in range(draws)]
            for share in SHARES:
                if name.startswith("loco-"):
                    recorded[share].setdefault(name[5:], []).append((truth, answer(slice(None), share)))
                for at in picks:
                    homes[share][0].append(ua(truth[at], answer(at, share)))
                    homes[share][1].append(float((truth[at] == answer(at, share)).mean()))
    print(f"LOCO UA as recorded (settled box): {' '.join(CORPORA)}; then households, one emotion {dominant:.0%}")
    figures = []
    for share in SHARES:
        per = [ua(*(np.concatenate(part) for part in zip(*recorded[share][c], strict=True))) for c in CORPORA]
        print(f"  a = {share:<4} {' '.join(f'{u:.3f}' for u in per)}  mean {np.mean(per):.3f}  lowest {min(per):.3f}"
              f"  | household UA {np.mean(homes[share][0]):.3f} accuracy {np.mean(homes[share][1]):.3f}")
        figures.append(f"{share:g}: {np.mean(per):.3f} (lowest {min(per):.3f}), {np.mean(homes[share][1]):.3f}")
    return [results.row(f"answer balancing by a share a, on the folds' settled scores: LOCO UA mean (lowest "
                        f"corpus), and accuracy in households where one emotion is {dominant:.0%} of what is said",
                        "; ".join(figures), f"a = {BALANCE:g} shipped: LOCO up, household accuracy within 1 point",
                        ".venv/bin/python bench/probes.py balance")]


def stretch(validation: Path = VALIDATION) -> list[str]:
    """Print each stretch's UA on the folds in ``validation`` (per corpus over its own classes, as the
    report scores them); return the README's row."""
    from training.dataset import device_windows, noisy

    said: dict = {s: defaultdict(lambda: defaultdict(lambda: ([], []))) for s in STRETCHES}  # key, corpus
    sure: dict[float, list[float]] = defaultdict(list)  # every settled answer's top probability
    for name, (card_path, held) in folds(validation).items():
        card = cards.load(card_path)
        model, fe = EmotionModel(card), card.frontend
        clips, audio = held_out_audio(validation, held, fe.sample_rate)
        who = [c.speaker for c in clips]
        conditions = {"settled": (audio, who), "first press": (audio, None)}
        if name.startswith("speakers"):
            conditions["10 dB"] = ([noisy(x, 10.0, i) for i, x in enumerate(audio)], who)
        for condition, (heard, speakers) in conditions.items():
            windows = device_windows(heard, fe, speakers)
            for corpus in sorted({c.corpus for c in clips}):
                mine = [i for i, c in enumerate(clips) if c.corpus == corpus and windows[i] is not None]
                truth = [clips[i].label for i in mine]
                classes = [c for c in card.labels if c in set(truth)]
                columns = [card.labels.index(c) for c in classes]
                key = f"LOCO {condition}" if name.startswith("loco-") else f"held-out {condition}"
                for share in STRETCHES:
                    scores = np.stack([model.scores(stretched(windows[i], share, fe)) for i in mine])
                    said[share][key][corpus][0].extend(truth)  # a corpus's held-out speakers of every fold
                    said[share][key][corpus][1].extend(np.array(classes)[scores[:, columns].argmax(axis=1)])
                    if condition == "settled":
                        sure[share] += list(scores.max(axis=1))
    found = {share: {key: [ua(*by[corpus]) for corpus in sorted(by)] for key, by in said[share].items()}
             for share in STRETCHES}
    order = ("LOCO settled", "LOCO first press", "held-out settled", "held-out 10 dB", "held-out first press")
    keys = [k for k in order if k in found[0.0]]
    print(f"int8 UA, mean over corpora ({validation.name}): {', '.join(keys)}")
    unsure = {share: float(np.mean(np.array(sure[share]) < UNSURE)) for share in STRETCHES}
    for share in STRETCHES:
        per = (f"{np.mean(found[share][k]):.3f} ({' '.join(f'{u:.3f}' for u in found[share][k])})" for k in keys)
        print(f"  s = {share:<4} " + "  ".join(per) + f"  unsure {unsure[share]:.3f}")
    figure = "; ".join(f"{share:g}: " + " / ".join(f"{np.mean(found[share][k]):.3f}" for k in keys)
                       + f", unsure {unsure[share]:.1%} (below {UNSURE:g})" for share in STRETCHES)
    return [results.row(f"test-time stretch s (each utterance also heard with its spectrum stretched by 1 - s and "
                        f"1 + s), the folds' int8 networks without the statistics head: {' / '.join(keys)}; "
                        "settled answers below the default min_confidence", figure,
                        f"s = {STRETCH:g} shipped: up on the LOCO mean and the held-out speakers",
                        ".venv/bin/python bench/probes.py stretch")]


def confidence(validation: Path = VALIDATION) -> list[str]:
    """Print what each ``min_confidence`` does with the folds' settled, balanced answers; return the
    README's row."""
    from device.circumplex import EMOTIONS

    labels = cards.load().labels
    where = np.array([[EMOTIONS[e].arousal, EMOTIONS[e].valence] for e in labels])
    heard: dict[str, list] = {"new corpora": [], "new speakers": []}
    for name, (card_path, speakers) in folds(validation).items():
        data = fold_scores(name, card_path, speakers)
        truth = np.array([labels.index(t) for t in data["label"]])
        heard["new corpora" if name.startswith("loco-") else "new speakers"].append(
            (truth, by_listener(data["speaker"], data["scores"])))
    print("min_confidence t: share acted on, right among them; answers from t to the next t: share, right, "
          "circumplex distance to the truth")
    figures = []
    for group, parts in heard.items():
        truth = np.concatenate([t for t, _ in parts])
        scores = np.concatenate([s for _, s in parts])
        answer, top = scores.argmax(axis=1), scores.max(axis=1)
        right, off = answer == truth, np.linalg.norm(where[answer] - where[truth], axis=1)
        print(f"  {group} ({len(truth)} clips; a random emotion is right 1 in {len(labels)} and lands "
              f"{np.linalg.norm(where[:, None] - where[truth][None], axis=2).mean():.2f} away)")
        shown = []
        for t, next_t in zip(THRESHOLDS, THRESHOLDS[1:] + (1.0,), strict=True):
            acted, band = top >= t, (top >= t) & (top < next_t)
            print(f"    {t:<4}  acted {acted.mean():.3f}, right {right[acted].mean():.3f}   "
                  f"[{t:g}, {next_t:g}): {band.mean():.3f}, right {right[band].mean():.3f}, "
                  f"{off[band].mean():.2f} away")
            shown.append(f"{t:g}: {acted.mean():.0%} acted, {right[acted].mean():.3f} right")
        figures.append(f"{group}: " + ", ".join(shown))
    return [results.row("min_confidence on the folds' settled answers (stretched, balanced by a quarter, over all "
                        "eight emotions): share of presses acted on, accuracy of those", "; ".join(figures),
                        f"default {UNSURE:g}", ".venv/bin/python bench/probes.py confidence")]


class Pooled(EmotionModel):
    """A fold's int8 model that also gives what its dense heads read: every member's pooled features."""

    def __init__(self, card: cards.ModelCard):
        from device.model import _interpreter_class

        super().__init__(card)
        self._interpreter = _interpreter_class()(model_path=str(card.model_path),
                                                 experimental_preserve_all_tensors=True)
        self._interpreter.allocate_tensors()
        self._pooled = [d for d in self._interpreter.get_tensor_details() if "/pooled" in d["name"]]

    def features(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (pooled features, scores) for ``windows``, each averaged over them."""
        pooled, logits = [], []
        for w in windows:
            logits.append(self._logits(w))
            pooled.append(np.concatenate([(self._interpreter.get_tensor(d["index"]).ravel().astype(np.float32)
                                           - d["quantization"][1]) * d["quantization"][0] for d in self._pooled]))
        return np.mean(pooled, axis=0), softmax(np.stack(logits)).mean(axis=0)


@functools.cache
def every_clip() -> tuple[list, list[np.ndarray]]:
    """Return (clips, samples at 16 kHz) of the five corpora, read once."""
    from training import corpora
    from training.dataset import read_all

    return read_all([c for name in CORPORA for c in corpora.load(name, DATA / name)], 16000)


@functools.cache
def speech_summaries() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (indices into :func:`every_clip` of the clips with speech, each one's speech frames,
    each one's mean spectrum), heard through :data:`FRONT_END`; a clip without speech is left out,
    as a box and :func:`settled` leave it out."""
    kept, frames, spectra = [], [], []
    for i, x in enumerate(every_clip()[1]):
        try:
            feats = speech_features(x, FRONT_END)[0]
        except EmotuneError:
            continue
        kept.append(i)
        frames.append(len(feats))
        spectra.append(spectrum(feats))
    return np.array(kept), np.array(frames), np.array(spectra)


def settled(fe: FrontEnd = FRONT_END) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Return (windows, speaker, label, corpus) of every clip with speech of the five corpora, each
    heard through ``fe`` (a fold's card's: its voice prior, its denoising) by a box settled on its
    speaker (:func:`training.dataset.device_windows`), not stretched."""
    from training.dataset import device_windows

    clips, samples = every_clip()
    windows = device_windows(samples, fe, [c.speaker for c in clips])
    kept = [i for i, w in enumerate(windows) if w is not None]
    return ([windows[i] for i in kept], *(np.array([getattr(clips[i], key) for i in kept])
                                          for key in ("speaker", "label", "corpus")))


def ensemble(runs: list[Path]) -> None:
    """Print the leave-one-corpus-out UA of each validation run in ``runs`` alone, and of the first
    1, 2, ... runs' fold models together (their scores averaged): what more members would buy. Then,
    for each run, its scores shifted by a share of the mean log-score (every emotion's clips alike)
    that the run's *other* folds gave their corpus left out: is a network's bias on a new corpus
    the same from one new corpus to the next?"""
    labels = cards.load().labels
    found: dict[Path, dict[str, np.ndarray]] = {run: {} for run in runs}
    for run in runs:
        for left in CORPORA:
            model = EmotionModel(cards.load(folds(run)[f"loco-{left}"][0]))
            windows, _, truth, corpus = settled(model.card.frontend)
            found[run][left] = np.stack([model.scores(w) for w, c in zip(windows, corpus, strict=True) if c == left])

    def row(name: str, log_scores: dict[str, np.ndarray]) -> None:
        per = []
        for left in CORPORA:
            classes = [c for c in labels if c in set(truth[corpus == left])]
            answers = log_scores[left][:, [labels.index(c) for c in classes]].argmax(axis=1)
            per.append(ua(truth[corpus == left], np.array(classes)[answers]))
        print(f"  {name:<40} {' '.join(f'{u:.3f}' for u in per)}  mean {np.mean(per):.3f}")

    print(f"LOCO UA, not stretched: {' '.join(CORPORA)}")
    for name, together in ([(run.name, [run]) for run in runs]
                           + [(f"the first {n} together", runs[:n]) for n in range(2, len(runs) + 1)]):
        row(name, {left: np.log(np.mean([found[run][left] for run in together], axis=0)) for left in CORPORA})
    for run in runs:
        bias = {left: np.mean([np.log(found[run][left][truth[corpus == left] == t]).mean(axis=0)
                               for t in np.unique(truth[corpus == left])], axis=0) for left in CORPORA}
        for share in (0.5, 1.0):
            row(f"{run.name}, shifted by {share:g}", {left: np.log(found[run][left]) - share * np.mean(
                [bias[other] for other in CORPORA if other != left], axis=0) for left in CORPORA})


def heads(validation: Path = VALIDATION, draws: int = 20) -> None:
    """Print, on every fold of ``validation``, what the box would answer from its listener's statistics:
    the network's own answers, balanced (as the device does, and in log space), or a logistic
    regression on the pooled features z-scored per speaker (fitted on the fold's training speakers);
    on the corpora left out and the held-out speakers as recorded, and in households (:func:`household`)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = cards.load().labels

    def answers(method: str, pooled: np.ndarray, scores: np.ndarray, head) -> np.ndarray:
        """Return log-scores of one person's clips, their statistics taken from those clips alone."""
        if method == "z-scored head":
            return head.predict_log_proba(per_speaker(pooled, np.zeros(len(pooled)), scale=True))
        share = float(method.split()[-1]) if method != "network" else 0.0
        if method.startswith("log"):
            return np.log(scores) - share * np.log(scores).mean(axis=0)
        return np.log(balanced(scores, share))

    methods = ("network", "balanced 0.25", "balanced 1", "log-balanced 0.25", "log-balanced 1", "z-scored head")
    rng = np.random.default_rng(0)
    found = {m: defaultdict(list) for m in methods}
    for name, (card_path, held) in folds(validation).items():
        model = Pooled(cards.load(card_path))
        windows, speaker, truth, corpus = settled(model.card.frontend)
        pooled, scores = (np.stack(v) for v in zip(*(model.features(w) for w in windows), strict=True))
        test = np.isin(speaker, sorted(held))
        z = per_speaker(pooled, speaker, scale=True)
        head = make_pipeline(StandardScaler(), LogisticRegression(C=0.001, max_iter=3000, class_weight="balanced"))
        head.fit(z[~test], truth[~test])
        for who in np.unique(speaker[test]):
            rows = np.flatnonzero(speaker == who)
            # the classes its corpus's held-out clips have, as the report scores them; ties: the box's order
            classes = [c for c in labels if c in set(truth[test & (corpus == corpus[rows[0]])])]
            net, own = [labels.index(c) for c in classes], [list(head.classes_).index(c) for c in classes]
            key = f"{'left out' if name.startswith('loco-') else 'held-out'} {corpus[rows[0]]}"
            heard = [(key, np.arange(len(rows)))] + [("households", household(truth[rows], classes, rng))
                                                    for _ in range(draws)]
            for where, at in heard:
                for m in methods:
                    log = answers(m, pooled[rows[at]], scores[rows[at]], head)[:, own if m == "z-scored head" else net]
                    found[m][where].append((truth[rows[at]], np.array(classes)[log.argmax(axis=1)]))
    print(f"{validation.name}: UA left out ({' '.join(CORPORA)}), held-out speakers (mean, RAVDESS), households")
    for m in methods:
        per = {k: ua(*(np.concatenate(part) for part in zip(*v, strict=True))) for k, v in found[m].items()
               if k != "households"}
        loco_ua = [per[f"left out {c}"] for c in CORPORA]
        homes = found[m]["households"]
        held_out = np.mean([v for k, v in per.items() if k.startswith("held-out")])
        print(f"  {m:<18} {np.mean(loco_ua):.3f} ({' '.join(f'{u:.3f}' for u in loco_ua)})  "
              f"{held_out:.3f} {per['held-out ravdess']:.3f}  UA {np.mean([ua(t, a) for t, a in homes]):.3f} "
              f"accuracy {np.mean([(t == a).mean() for t, a in homes]):.3f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("probe", choices=("features", "corpora", "voices", "levels", "statistics", "balance", "stretch",
                                     "confidence", "heads", "ensemble", "lengths", "shared"))
    p.add_argument("--no-readme", action="store_true", help="print only; leave README.md alone")
    p.add_argument("--validation", type=Path, default=VALIDATION,
                   help="balance, stretch, confidence, statistics, heads, ensemble, lengths, shared: the folds "
                        "of another validation run (its --out folder; prints only)")
    p.add_argument("--with", dest="runs", type=Path, action="append", default=[],
                   help="ensemble: another validation run (its --out folder) whose fold models join; repeat")
    args = p.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"bench: no corpora at {DATA}")
    if args.probe == "features":
        features()
    elif args.probe == "corpora":
        more_corpora()
    elif args.probe == "voices":
        voices()
    elif args.probe == "levels":
        levels()
    elif args.probe == "statistics":
        second_opinion(args.validation.resolve())
    elif args.probe == "heads":
        heads(args.validation.resolve())
    elif args.probe == "lengths":
        lengths(args.validation.resolve())
    elif args.probe == "shared":
        shared(args.validation.resolve())
    elif args.probe == "ensemble":
        ensemble([args.validation.resolve()] + [run.resolve() for run in args.runs])
    elif args.probe in ("stretch", "confidence"):
        rows = (stretch if args.probe == "stretch" else confidence)(args.validation.resolve())
        if args.validation.resolve() == VALIDATION and not args.no_readme:
            results.update(rows)
    elif args.validation.resolve() != VALIDATION:
        balance(args.validation.resolve())
    else:
        rows = balance()
        held_out_in_noise()
        if not args.no_readme:
            results.update(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
