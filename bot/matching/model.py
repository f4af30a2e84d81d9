"""The learned part of understanding: features of a reading, and linear models over them.

Theory of operation. A reading (reader.py) becomes a sparse bag of features: the content
word keys she used (with how sure each reading is), pairs of neighbouring keys ("не
дихає" is not "дихає"), and character n-grams of her words' spelling skeletons, which
catch the endings, typos and words the content never had ("умереть" shares grams
with "умерла", "помереть"). Features are weighted by TF-IDF (sublinear counts, L2
norm), as scikit-learn's TfidfTransformer does.

Two linear models are trained from labelled texts with scikit-learn when the content is
loaded: the *answer model* (one class per answer step, plus NOT_OURS for out-of-scope
messages) and the *urgency model* (urgent now vs. not). Their confidences are calibrated:
the answer model's scores go through a softmax whose temperature is fitted on a held-out
fifth of the phrases; the urgency model's score goes through a sigmoid fitted on a
held-out fifth (Platt scaling), and its threshold is set there for recall first
(`URGENT_RECALL`).

At match time nothing of scikit-learn runs: a model is a few numpy arrays, and scoring is
a sum over the rows of her features. Trained models are cached on disk by a hash of what
they were trained from (content phrases, examples, this module's MODEL_VERSION), so a
restart with unchanged content loads in milliseconds; a cache that cannot be written
costs only time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np

from bot.matching.reader import Reading

log = logging.getLogger(__name__)

# Bump when features or training change: cached models of an older version are not used.
MODEL_VERSION = "10"
NOT_OURS = "_not_ours"
NGRAMS = (3, 4)
# The urgency threshold is the highest that still finds this share of held-out urgent
# texts, within these bounds: missing a crisis is the worst error the bot can make.
URGENT_RECALL = 0.97
URGENT_THRESHOLD_BOUNDS = (0.05, 0.5)
ANSWER_C = 0.5  # LinearSVC regularisation (higher fits the phrases more tightly)
URGENT_C = 0.5
# liblinear shuffles the samples while it fits: a fixed seed makes the same content give
# the same models on every machine (unseeded, two trainings differed on 4 of 2,049 answers)
SEED = 0
SVC_TOL = 0.1  # stopping tolerance: 0.01 took longer and gave the same figures on 1,628 questions
_MEMO_MAX = 4
MIN_SAMPLES = 2  # a feature must occur in this many training texts to be kept


def _word_features(reading: Reading, unknown: int | None) -> dict[str, float]:
    """The features of one reading but its character n-grams (see features())."""
    found: dict[str, float] = {}
    firsts: list[str] = []
    for token in reading.tokens:
        for key, sure in token.items():
            name = "w:" + key
            found[name] = max(found.get(name, 0.0), sure)
        firsts.append(min(token))
    for left, right in zip(firsts, firsts[1:], strict=False):
        found[f"b:{left}|{right}"] = 1.0
    unknown = reading.unknown if unknown is None else unknown
    words = len(reading.tokens) + reading.unknown
    # how much of her text the content has no word for, in quarters: binary, like the rest
    share = round(4 * unknown / words) if words else 4
    found[f"unknown:{share}"] = 1.0
    return found


def features(reading: Reading, unknown: int | None = None) -> dict[str, float]:
    """The sparse features of one reading (see the module docstring). ``unknown``: how
    many of its words to count as unknown to the content, when not the reading's own
    count (a training phrase's: see Index.build)."""
    found = _word_features(reading, unknown)
    for line in reading.lines:
        padded = f" {line} "
        for n in NGRAMS:
            for i in range(len(padded) - n + 1):
                gram = "c:" + padded[i : i + n]
                found[gram] = found.get(gram, 0.0) + 1.0
    return found


@dataclass(frozen=True, slots=True)
class Vector:
    """One reading in the models' feature space: the rows of the features it has, and
    their TF-IDF weights (L2-normalised). Both models score the same vector."""

    rows: np.ndarray
    values: np.ndarray


class _Letters(dict[int, int]):
    """A str.translate table that writes any letter it lacks as code 0."""

    def __missing__(self, key: int) -> int:
        return 0


class _Grams:
    """The character n-gram features of a space as numbers, so that her n-grams are
    found with numpy instead of a dict lookup each: a long message has a thousand.

    Each letter the features use gets a code 1..K (0: any other letter); an n-gram is
    the number its codes spell in base K + 1, then shifted to max(NGRAMS) digits, plus n
    in front so that lengths never meet. The codes are exact: no two n-grams share one.
    """

    __slots__ = ("letters", "base", "codes", "rows")

    def __init__(self, names: Sequence[str]) -> None:
        # The names are sorted (FeatureSpace): the n-grams are the run of rows named "c:...".
        # This runs at every start, so it works on whole runs, not name by name.
        first, end = bisect_left(names, "c:"), bisect_left(names, "c;")  # ";" follows ":"
        grams = [name[2:] for name in names[first:end]]
        alphabet = sorted(set("".join(grams)))
        self.letters = _Letters({ord(c): i for i, c in enumerate(alphabet, 1)})
        self.base = len(alphabet) + 1
        sizes = np.fromiter(map(len, grams), np.intp, len(grams))
        codes, rows = [np.empty(0, np.int64)], [np.empty(0, np.intp)]
        for n in NGRAMS:
            same = np.flatnonzero(sizes == n)
            codes.append(self._windows("".join(grams[i] for i in same), n, step=n))
            rows.append(same + first)
        code = np.concatenate(codes)
        order = np.argsort(code)
        self.codes, self.rows = code[order], np.concatenate(rows)[order]

    def _windows(self, text: str, n: int, step: int = 1) -> np.ndarray:
        """The codes of text's n-letter windows that start every ``step`` letters."""
        letters = np.frombuffer(text.translate(self.letters).encode("utf-32-le"),
                                dtype=np.uint32).astype(np.int64)
        width = (len(letters) - n) // step + 1
        if width <= 0:
            return np.empty(0, np.int64)
        code = np.full(width, n, dtype=np.int64)
        for i in range(n):
            code = code * self.base + letters[i : i + step * (width - 1) + 1 : step]
        return code * self.base ** (max(NGRAMS) - n)

    def found(self, readings: Sequence[Sequence[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each reading's lines: the rows of the space's n-grams in them, and how often
        each occurs. All readings at once (a story and its sentences): numpy's cost is
        per call, not per letter."""
        padded = [f" {line} " for lines in readings for line in lines]
        if not padded or not len(self.codes):
            return [(np.empty(0, np.intp), np.empty(0, np.float64)) for _ in readings]
        # One text, the lines apart by a letter of code 0: a window across two lines
        # holds it, and no n-gram of the space does.
        text = "\0".join(padded)
        many = len(readings)
        windows = [self._windows(text, n) for n in NGRAMS]
        if many > 1:  # each window's code, and which reading it is in
            owners = np.repeat([k for k, lines in enumerate(readings) for _ in lines],
                               [len(line) + 1 for line in padded])
            windows = [w * many + owners[: len(w)] for w in windows]
        keys, counts = np.unique(np.concatenate(windows), return_counts=True)
        codes, owner = np.divmod(keys, many) if many > 1 else (keys, keys)
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        known = self.codes[at] == codes
        rows, counts, owner = self.rows[at[known]], counts[known].astype(np.float64), owner[known]
        if many == 1:
            return [(rows, counts)]
        return [(rows[owner == k], counts[owner == k]) for k in range(many)]


@dataclass(frozen=True, slots=True)
class FeatureSpace:
    """The features the models were trained on: name -> row, and each row's idf. The rows
    are in the order of the names, sorted (as _vectorise makes them)."""

    columns: Mapping[str, int]
    idf: np.ndarray
    _grams: _Grams = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = list(self.columns)
        if list(self.columns.values()) != list(range(len(names))) or any(
                a >= b for a, b in zip(names, names[1:], strict=False)):
            raise ValueError("feature names out of order")  # a damaged cache: train again
        object.__setattr__(self, "_grams", _Grams(names))

    def vector_of(self, reading: Reading) -> Vector:
        """Her reading as the models see it: the features of features(reading), weighted
        as in training (sublinear counts, idf, L2 norm), the n-grams found by number."""
        return self.vectors_of([reading])[0]

    def vectors_of(self, readings: Sequence[Reading]) -> list[Vector]:
        """vector_of for each reading, their n-grams found together."""
        vectors = []
        for reading, (gram_rows, gram_counts) in zip(
                readings, self._grams.found([r.lines for r in readings]), strict=True):
            found = _word_features(reading, None)
            rows = np.fromiter(map(self.columns.get, found, repeat(-1)), np.intp, len(found))
            values = np.fromiter(found.values(), np.float64, len(found))
            vectors.append(self._weighted(np.concatenate([rows, gram_rows]),
                                          np.concatenate([values, gram_counts])))
        return vectors

    def _weighted(self, rows: np.ndarray, values: np.ndarray) -> Vector:
        """Feature rows (-1: not in the space) and raw values, as the models see them."""
        known = (rows >= 0) & (values > 0)
        rows, values = rows[known], values[known]
        # sublinear counts as in training; a near-miss reading (< 1) counts as its sureness
        x = np.where(values >= 1, 1.0 + np.log(np.maximum(values, 1.0)), values)
        x *= self.idf[rows]
        norm = float(np.sqrt(x @ x))
        return Vector(rows, x / norm if norm > 0 else x)


@dataclass(frozen=True, slots=True)
class LinearModel:
    """A trained linear model over a FeatureSpace: scores = vector @ coef + intercept."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (n_features, n_classes), float32
    intercept: np.ndarray  # (n_classes,)
    temperature: float  # softmax(scores * temperature) is the calibrated probability
    threshold: float = 0.5  # the urgency model's decision threshold on P(urgent)

    def probabilities(self, vector: Vector) -> np.ndarray:
        """Calibrated probability of each class, in the order of `classes`."""
        scores = self.intercept.astype(np.float64)
        if len(vector.rows):
            # in the coefficients' own float32: casting her rows of them to float64 cost
            # more than the sum; take() gathers her rows a quarter faster than indexing
            scores = scores + vector.values.astype(np.float32) @ self.coef.take(vector.rows,
                                                                                axis=0)
        scaled = scores * self.temperature
        scaled -= scaled.max()
        exp = np.exp(scaled)
        return np.asarray(exp / exp.sum())


@dataclass(frozen=True, slots=True)
class Models:
    """The answer model and the urgency model (None when the content has no crisis step)
    over one feature space, and the state of the reader they were trained with
    (Reader.state(): the content's words and their keys), so that a start with cached
    models reads no phrase."""

    space: FeatureSpace
    answer: LinearModel
    urgent: LinearModel | None
    reader_state: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# -- training (scikit-learn is imported only here) ----------------------------------------


def _held_out(labels: Sequence[str], samples: Sequence[Mapping[str, float]]) -> np.ndarray:
    """About a fifth of each label's samples, for calibration, chosen by a hash of the
    sample's features: a sample is held out or not whatever else is added to the content.
    Chosen by position (every fifth) until session 11, adding one phrase moved every later
    phrase of its step in or out, and the temperature with them (8.98 -> 8.30, seven
    answers on the tuning sets, for phrases that changed nothing else).
    A label whose samples would all be held out keeps its first one for training."""
    mask = np.zeros(len(labels), dtype=bool)
    first: dict[str, int] = {}
    trained_labels: set[str] = set()
    for i, (label, sample) in enumerate(zip(labels, samples, strict=True)):
        key = "\x1f".join([label, *sorted(sample)]).encode()
        mask[i] = hashlib.blake2b(key, digest_size=4).digest()[0] % 5 == 0
        first.setdefault(label, i)
        if not mask[i]:
            trained_labels.add(label)
    for label, i in first.items():
        if label not in trained_labels:
            mask[i] = False
    return mask


@dataclass(frozen=True, slots=True)
class _Matrix:
    """Training samples as a TF-IDF weighted sparse matrix, with its feature names."""

    names: tuple[str, ...]
    idf: np.ndarray
    rows: Any  # scipy.sparse.csr_matrix, L2-normalised rows

    def subset(self, mask: np.ndarray) -> Any:
        return self.rows[np.flatnonzero(mask)]

    def head(self, n: int) -> _Matrix:
        """The first n samples, with the same features."""
        return _Matrix(self.names, self.idf, self.rows[:n])


def _vectorise(samples: Sequence[Mapping[str, float]]) -> _Matrix:
    """TF-IDF over the samples' features (sublinear counts, smooth idf, L2 rows).

    The same weighting as scikit-learn's TfidfTransformer(sublinear_tf=True), built
    directly: DictVectorizer cost seconds on the content's phrases. A feature seen in
    only one sample is dropped (MIN_SAMPLES): it cannot generalise, and it slows training.
    """
    from scipy.sparse import csr_matrix

    seen = Counter(chain.from_iterable(samples))
    names = tuple(sorted(n for n, count in seen.items() if count >= MIN_SAMPLES))
    column = {name: i for i, name in enumerate(names)}
    indptr, indices, data = [0], [], []
    for sample in samples:
        kept = [(i, v) for name, v in sample.items() if (i := column.get(name)) is not None]
        indices += [i for i, _ in kept]
        data += [v for _, v in kept]
        indptr.append(len(indices))
    values = np.array(data, dtype=np.float64)
    # sublinear counts (1 + log); a near-miss reading below 1 counts as its sureness
    values = np.where(values >= 1, 1.0 + np.log(np.maximum(values, 1.0)), values)
    counts = np.array([seen[n] for n in names], dtype=np.float64)
    idf = np.log((1 + len(samples)) / (1 + counts)) + 1.0
    matrix = csr_matrix((values, np.array(indices, dtype=np.int32),
                         np.array(indptr, dtype=np.int64)), shape=(len(samples), len(names)))
    matrix = matrix.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    matrix = csr_matrix(matrix.multiply(1.0 / norms[:, None]))
    return _Matrix(names, idf, matrix)


def _as_linear(classes: Sequence[str], coef: np.ndarray, intercept: np.ndarray,
               temperature: float, threshold: float = 0.5) -> LinearModel:
    return LinearModel(
        classes=tuple(classes),
        coef=np.ascontiguousarray(coef.T, dtype=np.float32),
        intercept=np.asarray(intercept, dtype=np.float64),
        temperature=temperature,
        threshold=threshold,
    )


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature that minimises the held-out negative log-likelihood.

    The loss is convex in the temperature, so a bounded scalar search finds its minimum;
    a grid of steps of 8% (until session 11) made the temperature jump between grid
    points on small changes of the content."""
    from scipy.optimize import minimize_scalar

    def loss(log_temperature: float) -> float:
        scaled = scores * math.exp(log_temperature)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_p = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return -float(log_p[np.arange(len(truth)), truth].mean())

    found = minimize_scalar(loss, bounds=(math.log(0.5), math.log(50.0)), method="bounded",
                            options={"xatol": 1e-4})
    return float(math.exp(found.x))


def train_answer(matrix: _Matrix, labels: Sequence[str],
                 samples: Sequence[Mapping[str, float]]) -> LinearModel:
    """The answer model: LinearSVC, one class per label, softmax temperature calibrated."""
    from sklearn.svm import LinearSVC

    classes = sorted(set(labels))
    code = {label: i for i, label in enumerate(classes)}
    y = np.array([code[label] for label in labels])
    held = _held_out(labels, samples)
    temperature = 1.0
    if held.any() and len(set(y[~held])) == len(classes):
        model = LinearSVC(C=ANSWER_C, tol=SVC_TOL, random_state=SEED)
        model.fit(matrix.subset(~held), y[~held])
        scores = np.asarray(model.decision_function(matrix.subset(held)))
        if scores.ndim == 1:  # two classes: sklearn gives one column
            scores = np.stack([-scores, scores], axis=1) / 2
        temperature = _fit_temperature(scores, y[held])
    model = LinearSVC(C=ANSWER_C, tol=SVC_TOL, random_state=SEED).fit(matrix.rows, y)
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if len(classes) == 2:
        coef, intercept = np.vstack([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
    return _as_linear(classes, coef, intercept, temperature)


def _fit_platt(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a, b with sigmoid(a * score + b) fitted to held-out truths."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e4).fit(scores.reshape(-1, 1), truth)
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


def train_urgent(matrix: _Matrix, urgent: Sequence[bool], weights: Sequence[float],
                 samples: Sequence[Mapping[str, float]]) -> LinearModel:
    """The urgency model: a linear SVM with Platt-calibrated probability, and a threshold
    set on a held-out fifth so that URGENT_RECALL of urgent texts reach it."""
    from sklearn.svm import LinearSVC

    y = np.array(urgent, dtype=int)
    w = np.array(weights, dtype=np.float64)
    held = _held_out([str(u) for u in urgent], samples)
    low, high = URGENT_THRESHOLD_BOUNDS
    threshold, slope, offset = high, 1.0, 0.0
    if held.any() and y[held].any() and len(set(y[~held])) == 2:
        model = LinearSVC(C=URGENT_C, tol=SVC_TOL, class_weight="balanced", random_state=SEED)
        model.fit(matrix.subset(~held), y[~held], sample_weight=w[~held])
        scores = np.asarray(model.decision_function(matrix.subset(held)))
        slope, offset = _fit_platt(scores, y[held])
        p = 1 / (1 + np.exp(-(slope * scores + offset)))
        positives = np.sort(p[y[held] == 1])
        # the threshold below which at most (1 - URGENT_RECALL) of urgent texts fall
        cut = positives[int(math.floor((1 - URGENT_RECALL) * len(positives)))]
        threshold = float(min(high, max(low, cut - 1e-6)))
    model = LinearSVC(C=URGENT_C, tol=SVC_TOL, class_weight="balanced", random_state=SEED)
    model.fit(matrix.rows, y, sample_weight=w)
    w, b = np.asarray(model.coef_)[0] * slope, float(model.intercept_[0]) * slope + offset
    coef = np.stack([np.zeros_like(w), w])  # softmax of (0, s) is the sigmoid of s
    return _as_linear(("calm", "urgent"), coef, np.array([0.0, b]), 1.0, threshold)


# -- the cache -----------------------------------------------------------------------------

_memo: dict[str, Models] = {}


def training_hash(parts: Sequence[tuple[str, ...]]) -> str:
    """A hash of everything the models are trained from, and of the model code's version."""
    digest = hashlib.sha256(MODEL_VERSION.encode())
    for part in parts:
        digest.update("\x1f".join(part).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:24]


def cache_dirs() -> list[Path]:
    """Where trained models are kept: the folders in $PODRUGA_CACHE (separated like PATH),
    else the user's cache directory. Models are read from any of them and written to the
    first: a folder filled at build time (`podruga check` in the image) can come second,
    read-only, behind a writable one."""
    chosen = os.environ.get("PODRUGA_CACHE")
    if chosen == "":
        return []  # PODRUGA_CACHE= (empty) turns the disk cache off
    if chosen:
        return [Path(folder) for folder in chosen.split(os.pathsep) if folder]
    from platformdirs import user_cache_dir

    return [Path(user_cache_dir("podruga"))]


def _save(path: Path, models: Models) -> None:
    arrays: dict[str, np.ndarray] = {
        "space_columns": np.array(list(models.space.columns)),
        "space_idf": models.space.idf,
    }
    for name, model in (("answer", models.answer), ("urgent", models.urgent)):
        if model is None:
            continue
        arrays[f"{name}_classes"] = np.array(model.classes)
        arrays[f"{name}_coef"] = model.coef
        arrays[f"{name}_intercept"] = model.intercept
        arrays[f"{name}_numbers"] = np.array([model.temperature, model.threshold])
    for name, rows in models.reader_state.items():
        arrays[f"reader_{name}"] = np.array(rows, dtype=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    with partial.open("wb") as out:
        np.savez(out, allow_pickle=False, **arrays)
    partial.replace(path)  # a crash never leaves half a model under the real name


def _load(path: Path) -> Models:
    with np.load(path, allow_pickle=False) as data:

        def one(name: str) -> LinearModel | None:
            if f"{name}_classes" not in data:
                return None
            temperature, threshold = (float(v) for v in data[f"{name}_numbers"])
            return LinearModel(
                classes=tuple(str(c) for c in data[f"{name}_classes"]),
                coef=data[f"{name}_coef"],
                intercept=data[f"{name}_intercept"],
                temperature=temperature,
                threshold=threshold,
            )

        answer = one("answer")
        if answer is None:
            raise ValueError("no answer model in the file")
        reader_state = {name[len("reader_"):]: tuple(data[name].tolist())
                        for name in data.files if name.startswith("reader_")}
        space = FeatureSpace({str(c): i for i, c in enumerate(data["space_columns"].tolist())},
                             data["space_idf"])
        return Models(space, answer, one("urgent"), reader_state)


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """What the two models learn from, in one feature space.

    ``samples`` are the answer model's texts (one per label, in order), then the calm
    examples only the urgency model learns from; ``urgent`` and ``urgent_weights`` cover
    them all.
    """

    samples: Sequence[Mapping[str, float]]
    labels: Sequence[str]  # for the first len(labels) samples
    urgent: Sequence[bool]
    urgent_weights: Sequence[float]  # the hand-written boundary examples count more
    reader_state: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def trained(key: str, training: Callable[[], TrainingSet]) -> Models:
    """The models for this training data: from memory, from the disk cache, or trained.

    ``training`` is called only when the models must be trained: reading thousands of
    phrases is most of the cost of a start with a cold cache.
    """
    if key in _memo:
        return _memo[key]
    paths = [folder / f"matcher-{key}.npz" for folder in cache_dirs()]
    models: Models | None = None
    for found in (p for p in paths if p.exists()):
        try:
            models = _load(found)
            break
        except (OSError, ValueError, KeyError) as error:
            log.warning("matcher cache unreadable, training again: %s", type(error).__name__)
    path = paths[0] if paths else None
    if models is None:
        data = training()
        matrix = _vectorise(data.samples)
        answer = train_answer(matrix.head(len(data.labels)), data.labels,
                              data.samples[:len(data.labels)])
        urgent_model = (train_urgent(matrix, data.urgent, data.urgent_weights, data.samples)
                        if any(data.urgent) else None)
        space = FeatureSpace({name: i for i, name in enumerate(matrix.names)}, matrix.idf)
        models = Models(space, answer, urgent_model, data.reader_state)
        if path is not None:
            try:
                _save(path, models)
            except OSError as error:
                log.info("matcher cache not written (%s): training again next start",
                         type(error).__name__)
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    _memo[key] = models
    return models
