"""What every training shares: feature rows with labels, recipes, fitting, folds by article.

Everything is deterministic: fixed seeds, sorted inputs, cached embeddings.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..models.embeddings import EMBEDDING_DIM, Embedder, default_cache_path
from ..models.heads import Head
from ..models.states import range_states
from ..progress import Counter, Progress

SEED = 0
#: Tasks with exactly one label per row (softmax); the others are multi-label.
MULTICLASS = ("genre", "roles")
FOLDS = 5
#: The logit of a label that is never (or always) seen in training: probability 5e-5 (or 1 - 5e-5).
CONSTANT_LOGIT = 10.0


@dataclass
class TaskData:
    """Feature rows of one task with their gold labels.

    ``Y`` is a 0/1 matrix ``(n, len(labels))``; ``groups`` keeps an article's rows in one fold;
    ``keys`` identify rows in official terms: article ids, or ``(id, line)`` for techniques.
    """

    task: str
    labels: Sequence[str]
    X: np.ndarray
    Y: np.ndarray
    langs: np.ndarray
    groups: np.ndarray
    keys: list = field(default_factory=list)

    def subset(self, mask: np.ndarray) -> "TaskData":
        idx = np.flatnonzero(mask)
        return TaskData(self.task, self.labels, self.X[idx], self.Y[idx], self.langs[idx], self.groups[idx],
                        [self.keys[i] for i in idx])


def one_hot(rows: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for r, row in enumerate(rows):
        for label in row:
            Y[r, index[label]] = 1
    return Y


@dataclass
class Recipe:
    """How a task's model is fitted: a linear model (``hidden=()``) or a small MLP."""

    C: float = 1.0
    hidden: tuple[int, ...] = ()
    alpha: float = 1e-3
    max_iter: int = 300
    class_weight: str | None = None

    def describe(self) -> str:
        if self.hidden:
            return f"MLP{self.hidden} alpha={self.alpha}"
        return f"logistic regression C={self.C}" + (f" class_weight={self.class_weight}" if self.class_weight else "")


def fit(data: TaskData, recipe: Recipe, threshold: float | np.ndarray = 0.5, meta: dict | None = None) -> Head:
    """Fit ``recipe`` on all rows of ``data`` and return a :class:`Head`."""
    from sklearn.linear_model import LogisticRegression  # scikit-learn takes most of a second to import
    from sklearn.neural_network import MLPClassifier

    mean = data.X.mean(axis=0)
    scale = data.X.std(axis=0) + 1e-6
    Xs = (data.X - mean) / scale
    multiclass = data.task in MULTICLASS
    if recipe.hidden:
        est = MLPClassifier(hidden_layer_sizes=recipe.hidden, alpha=recipe.alpha, max_iter=recipe.max_iter,
                            early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=SEED)
        est.fit(Xs, data.Y.argmax(1) if multiclass else data.Y)
    elif multiclass:
        est = LogisticRegression(C=recipe.C, max_iter=2000, class_weight=recipe.class_weight)
        est.fit(Xs, data.Y.argmax(1))
    else:
        est = _one_vs_rest(Xs, data.Y, recipe)
    kind = "multiclass" if multiclass else "multilabel"
    thresholds = None if multiclass else threshold
    return Head.from_sklearn(est, data.labels, kind, mean, scale, thresholds, meta)


@dataclass
class _Linear:
    coef_: np.ndarray  # (n_labels, n_features)
    intercept_: np.ndarray


def _one_vs_rest(X: np.ndarray, Y: np.ndarray, recipe: Recipe) -> _Linear:
    """One logistic regression per label; a label never (or always) seen gets a constant."""
    from sklearn.linear_model import LogisticRegression  # scikit-learn takes most of a second to import

    coef = np.zeros((Y.shape[1], X.shape[1]), dtype=np.float32)
    intercept = np.zeros(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.min() == y.max():
            intercept[j] = CONSTANT_LOGIT if y[0] else -CONSTANT_LOGIT
            continue
        model = LogisticRegression(C=recipe.C, max_iter=2000, class_weight=recipe.class_weight).fit(X, y)
        coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    return _Linear(coef, intercept)


def folds(groups: np.ndarray) -> np.ndarray:
    """Fold number of each row: 5 folds grouped by article (``groups``), the same on every run."""
    from sklearn.model_selection import GroupKFold  # scikit-learn takes most of a second to import

    fold = np.zeros(len(groups), dtype=int)
    splitter = GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for k, (_, test) in enumerate(splitter.split(groups, groups=groups)):
        fold[test] = k
    return fold


def out_of_fold(data: TaskData, recipe: Recipe, progress: Callable[[], None] | None = None,
                fold: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold probabilities ``(n, len(labels))`` from 5-fold CV grouped by article, or
    from the given ``fold`` of each row (``data.langs``: leave one language out)."""
    fold = folds(data.groups) if fold is None else fold
    P = np.zeros(data.Y.shape, dtype=np.float32)
    for k in np.unique(fold):
        head = fit(data.subset(fold != k), recipe)
        P[fold == k] = head.predict_proba(data.X[fold == k])
        if progress:
            progress()
    return P



#: Paragraphs encoded per call when collecting token states for training.
_STATES_CHUNK = 256


def texts_range_states(embedder: Embedder, texts: Sequence[str], ranges: Sequence[Sequence[tuple[int, int]]],
                       progress: Progress | None = None) -> np.ndarray:
    """The token states of every range ``ranges[i]`` of ``texts[i]`` (see :func:`range_states`),
    stacked in order: float16 ``(sum of len(ranges[i]), 384)``.

    Token states are too large for the embedding cache; this result is kept whole in a file
    next to it, named by a hash of the encoder, the texts and the ranges, so that training
    again on the same data does not encode it again.
    """
    digest = hashlib.sha1(embedder.model_id.encode())
    for text, text_ranges in zip(texts, ranges):
        digest.update(text.encode() + b"\0" + np.asarray(text_ranges, dtype=np.int64).tobytes() + b"\1")
    path = default_cache_path().parent / f"states-{digest.hexdigest()}.npy"
    if path.is_file():
        return np.load(path)
    rows = [np.zeros((len(r), EMBEDDING_DIM), dtype=np.float16) for r in ranges]
    # Similar lengths together: the encoder pads a batch to its longest text.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    counter = Counter(progress, "token states", len(texts))
    for start in range(0, len(order), _STATES_CHUNK):
        chunk = order[start:start + _STATES_CHUNK]
        for i, states in zip(chunk, embedder.token_states([texts[i] for i in chunk])):
            if len(ranges[i]):
                rows[i] = range_states(states, ranges[i]).astype(np.float16)
        counter.advance(len(chunk))
    out = np.concatenate(rows) if rows else np.zeros((0, EMBEDDING_DIM), dtype=np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), out)
    path.with_suffix(".tmp.npy").replace(path)
    return out
