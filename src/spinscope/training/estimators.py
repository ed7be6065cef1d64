"""What every training shares: feature rows with labels, the head estimator, folds by article,
the metadata and per-language scores of a model.

Everything is deterministic: fixed seeds, sorted inputs, cached embeddings.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier

from .. import __version__
from ..document import Article
from ..models.embeddings import EMBEDDING_DIM, EMBEDDING_MODEL, Embedder, default_cache_path
from ..models.heads import Head
from ..models.roles import PLACEHOLDER
from ..models.states import range_states
from ..progress import Counter, Progress
from ..semeval.layout import iso_language
from ..semeval.reader import LabelledArticle
from ..tasks import Level, Recipe, Target, task_of_target

SEED = 0
FOLDS = 5
#: The logit of a label that is never (or always) seen in training: probability 5e-5 (or 1 - 5e-5).
CONSTANT_LOGIT = 10.0
#: The threshold a head is fitted with before one is chosen; single-label heads record it unused.
DEFAULT_THRESHOLD = 0.5
#: What a model of each level reads, as its metadata says.
FEATURES = {
    Level.ARTICLE: "title + mean + max of paragraphs",
    Level.PARAGRAPH: "paragraph + neighbours + title + article mean + position",
    Level.MENTION: f"the mention masked (its sentence encoded with every mention written '{PLACEHOLDER}': the "
    "placeholder's token states) + that masked sentence's mean token state + article mean",
}


@dataclass
class TaskData:
    """Feature rows of one target with their gold labels.

    ``Y`` is a 0/1 matrix ``(n, len(labels))``; ``groups`` keeps an article's rows in one fold;
    ``keys`` identify rows in official terms: article ids, or ``(id, line)`` for techniques.
    """

    target: Target
    X: np.ndarray
    Y: np.ndarray
    langs: np.ndarray
    groups: np.ndarray
    keys: list = field(default_factory=list)
    #: Feature rows of unlabelled articles by language folder (their test splits), for the
    #: language-prior protocol of an article-level single-label target (genre).
    unlabelled: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """The target's name, which its model is saved under."""
        return self.target.name

    @property
    def labels(self) -> tuple[str, ...]:
        return self.target.labels

    def subset(self, mask: np.ndarray) -> TaskData:
        idx = np.flatnonzero(mask)
        return replace(
            self,
            X=self.X[idx],
            Y=self.Y[idx],
            langs=self.langs[idx],
            groups=self.groups[idx],
            keys=[self.keys[i] for i in idx],
        )


def paragraph_vectors(article: Article, lookup: dict[str, np.ndarray]) -> np.ndarray:
    """The embeddings ``(n, 384)`` of ``article``'s paragraphs, looked up by text."""
    return np.array([lookup[p.text] for p in article.paragraphs], dtype=np.float32).reshape(-1, EMBEDDING_DIM)


def one_hot(rows: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for r, row in enumerate(rows):
        for label in row:
            Y[r, index[label]] = 1
    return Y


def labelled_slice(
    articles: Sequence[LabelledArticle], label: str, skip: int = 0, max_articles: int | None = None
) -> list[LabelledArticle]:
    """The articles that carry ``label``, and of each language only the slice ``skip``,
    ``max_articles`` of them in id order (a fixed part of the data, for tests)."""
    by_lang: dict[str, list[LabelledArticle]] = {}
    for article in articles:
        if label in article.labels:
            by_lang.setdefault(article.lang, []).append(article)
    end = skip + max_articles if max_articles else None
    return [article for found in by_lang.values() for article in found[skip:end]]


class HeadEstimator(BaseEstimator):
    """A target's recipe fitted on standardised feature rows, read back as a :class:`Head`.

    ``recipe`` replaces the target's own (a comparison); ``threshold`` is the multi-label
    head's decision threshold; ``on_fit`` is called after each fit (the progress of a
    cross-validation). ``fit`` takes the 0/1 label matrix ``(n, len(labels))`` of the rows.
    """

    def __init__(
        self,
        target: Target,
        recipe: Recipe | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        on_fit: Callable[[], None] | None = None,
    ):
        self.target = target
        self.recipe = recipe
        self.threshold = threshold
        self.on_fit = on_fit

    def fit(self, X: np.ndarray, y: np.ndarray) -> HeadEstimator:
        mean = X.mean(axis=0)
        scale = X.std(axis=0) + 1e-6
        Xs = (X - mean) / scale
        recipe = self.recipe or self.target.head_recipe()
        single = self.target.single_label
        if recipe.hidden:
            model = MLPClassifier(
                hidden_layer_sizes=recipe.hidden,
                alpha=recipe.alpha,
                max_iter=recipe.max_iter,
                early_stopping=True,
                validation_fraction=0.1,
                n_iter_no_change=10,
                random_state=SEED,
            ).fit(Xs, y.argmax(1) if single else y)
        elif single:
            model = LogisticRegression(C=recipe.C, max_iter=2000, class_weight=recipe.class_weight).fit(Xs, y.argmax(1))
        else:
            model = _one_vs_rest(Xs, y, recipe)
        self.head_ = Head.from_sklearn(
            model,
            self.target.labels,
            "multiclass" if single else "multilabel",
            mean,
            scale,
            None if single else self.threshold,
        )
        if self.on_fit:
            self.on_fit()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.head_.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The 0/1 matrix of the labels the head chooses for each row."""
        return one_hot(self.head_.predict(X), self.target.labels)

    def to_head(self, meta: dict | None = None) -> Head:
        """The fitted model as a :class:`Head`, with ``meta`` as its metadata."""
        return replace(self.head_, meta=meta or {})


def fit_head(data: TaskData, threshold: float = DEFAULT_THRESHOLD, meta: dict | None = None) -> Head:
    """The target's recipe fitted on every row of ``data``."""
    return HeadEstimator(data.target, threshold=threshold).fit(data.X, data.Y).to_head(meta)


@dataclass
class _Linear:
    coef_: np.ndarray  # (n_labels, n_features)
    intercept_: np.ndarray


def _one_vs_rest(X: np.ndarray, Y: np.ndarray, recipe: Recipe) -> _Linear:
    """One logistic regression per label; a label never (or always) seen gets a constant logit."""
    linear = LogisticRegression(C=recipe.C, max_iter=2000, class_weight=recipe.class_weight)
    with warnings.catch_warnings():
        # Said of every label absent from a fold: the constant below is the intended answer.
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        models = OneVsRestClassifier(linear).fit(X, Y).estimators_
    coef = np.zeros((Y.shape[1], X.shape[1]), dtype=np.float32)
    intercept = np.zeros(Y.shape[1], dtype=np.float32)
    for j, model in enumerate(models):
        if hasattr(model, "coef_"):
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        else:  # OneVsRestClassifier's stand-in for a constant column: its probability is exactly 0 or 1
            intercept[j] = CONSTANT_LOGIT if Y[0, j] else -CONSTANT_LOGIT
    return _Linear(coef, intercept)


def _group_folds() -> GroupKFold:
    return GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)


def folds(groups: np.ndarray) -> np.ndarray:
    """Fold number of each row: 5 folds grouped by article (``groups``), the same on every run."""
    fold = np.zeros(len(groups), dtype=int)
    for k, (_, test) in enumerate(_group_folds().split(groups, groups=groups)):
        fold[test] = k
    return fold


def out_of_fold(
    data: TaskData,
    progress: Callable[[], None] | None = None,
    fold: np.ndarray | None = None,
    recipe: Recipe | None = None,
) -> np.ndarray:
    """Out-of-fold probabilities ``(n, len(labels))`` from 5-fold CV grouped by article, or
    from the given ``fold`` of each row (``data.langs``: leave one language out), of the
    target's recipe or ``recipe``."""
    # clone() deep-copies parameters: a bound method would tick a copy of its counter.
    on_fit = (lambda: progress()) if progress else None
    estimator = HeadEstimator(data.target, recipe, on_fit=on_fit)
    cv, groups = (_group_folds(), data.groups) if fold is None else (LeaveOneGroupOut(), fold)
    # The labels go to fit as a parameter: passed as y, cross_val_predict would encode each
    # column on its own and turn a label present in every row into one never present.
    return cross_val_predict(estimator, data.X, groups=groups, cv=cv, method="predict_proba", params={"y": data.Y})


def decide(target: Target, P: np.ndarray, threshold: float) -> list[list[str]]:
    """The labels of each row of probabilities ``P``: the most probable one for a single-label
    target, else those reaching ``threshold``."""
    if target.single_label:
        return [[target.labels[i]] for i in P.argmax(axis=1)]
    return [[target.labels[j] for j in np.flatnonzero(row >= threshold)] for row in P]


Score = TypeVar("Score", float, dict)


def per_language(langs: np.ndarray, score: Callable[[np.ndarray | None], Score]) -> dict[str, Score]:
    """``score`` of the rows of each language (a mask of ``langs``) and of all rows (``None``),
    rounded to 4 digits, by ISO code and ``all``."""
    out = {iso_language(lang): score(langs == lang) for lang in sorted(set(langs))}
    out["all"] = score(None)
    return {lang: _rounded(value) for lang, value in out.items()}


def _rounded(value):
    return {k: round(v, 4) for k, v in value.items()} if isinstance(value, dict) else round(value, 4)


def model_meta(data: TaskData, command: str, **scores) -> dict:
    """A head's metadata: what it is, what it reads, ``scores`` (its CV scores, decision rule...),
    how it was cross-validated, the rows of each language it was fitted on, how to refit it
    (in this order; a dict's ``|`` puts scores after all that)."""
    level = task_of_target(data.task).level
    return {
        "version": __version__,
        "task": data.task,
        "estimator": data.target.head_recipe().describe(),
        "features": f"{EMBEDDING_MODEL} {FEATURES[level]}",
        **scores,
        "cv_protocol": f"{FOLDS}-fold GroupKFold by article, seed {SEED}, official metric",
        "trained_on": {iso_language(lang): int((data.langs == lang).sum()) for lang in sorted(set(data.langs))},
        "command": command,
    }


#: Paragraphs encoded per call when collecting token states for training.
_STATES_CHUNK = 256


def texts_range_states(
    embedder: Embedder,
    texts: Sequence[str],
    ranges: Sequence[Sequence[tuple[int, int]]],
    progress: Progress | None = None,
) -> np.ndarray:
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
        chunk = order[start : start + _STATES_CHUNK]
        for i, states in zip(chunk, embedder.token_states([texts[i] for i in chunk])):
            if len(ranges[i]):
                rows[i] = range_states(states, ranges[i]).astype(np.float16)
        counter.advance(len(chunk))
    out = np.concatenate(rows) if rows else np.zeros((0, EMBEDDING_DIM), dtype=np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), out)
    path.with_suffix(".tmp.npy").replace(path)
    return out
