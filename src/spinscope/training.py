"""Train the genre, frames and techniques models on SemEval data, with 5-fold CV by article.

Everything is deterministic: fixed seeds, sorted inputs, cached embeddings.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__, evaluation, semeval
from .features import EMBEDDING_MODEL, Embedder, article_features, paragraph_features
from .models import Head
from .taxonomy import FRAME_NAMES, GENRE_NAMES, TECHNIQUE_NAMES

SEED = 0
#: Tasks with exactly one label per row (softmax); the others are multi-label.
MULTICLASS = ("genre", "roles")
FOLDS = 5
THRESHOLD_GRID = np.round(np.arange(0.05, 0.71, 0.01), 2)


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


def language_folders(data_dir: Path, languages: Sequence[str] | None = None) -> list[str]:
    """Language folders of ``data_dir`` that hold training labels (all of them by default)."""
    found = sorted(p.parent.name for p in Path(data_dir).glob("*/train-labels-subtask-1.txt"))
    if languages:
        unknown = set(languages) - set(found)
        if unknown:
            raise semeval.DataError(f"no training labels for {', '.join(sorted(unknown))} in {data_dir}")
        found = [x for x in found if x in languages]
    if not found:
        raise semeval.DataError(f"no DATA_DIR/LANG/train-labels-subtask-1.txt under {data_dir}: "
                                "expected the SemEval-2023 Task 3 layout")
    return found


def _one_hot(rows: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    Y = np.zeros((len(rows), len(labels)), dtype=np.int8)
    for r, row in enumerate(rows):
        for label in row:
            Y[r, index[label]] = 1
    return Y


def load_data(data_dir: Path, embedder: Embedder, languages: Sequence[str] | None = None,
              max_articles: int | None = None, skip: int = 0,
              progress: Callable[[int, int], None] | None = None) -> dict[str, TaskData]:
    """Read the train split of every language, embed every paragraph, build each task's rows.

    ``skip``/``max_articles`` take a fixed slice of each language's sorted articles (for tests).
    """
    records = []  # (task, lang, article, gold)
    for lang in language_folders(data_dir, languages):
        split = semeval.Split(Path(data_dir), lang, "train")
        golds = {
            "genre": {k: [v] for k, v in semeval.read_genre_labels(split.labels_file(1)).items()},
            "frames": semeval.read_frame_labels(split.labels_file(2)),
            "techniques": _by_article(semeval.read_technique_labels(split.labels_file(3))),
        }
        for task, gold in golds.items():
            folder = split.articles_dir(semeval.SUBTASK[task])
            ids = sorted(gold)[skip:][:max_articles] if max_articles else sorted(gold)[skip:]
            for aid in ids:
                path = folder / f"article{aid}.txt"
                if not path.is_file():
                    print(f"warning: {path} is labelled but missing; skipped", file=sys.stderr)
                    continue
                records.append((task, lang, semeval.read_article(path, semeval.iso_language(lang)), gold[aid]))

    texts = {p.text for _, _, article, _ in records for p in article.paragraphs}
    ordered = sorted(texts)
    vectors = embedder.embed(ordered, progress=(lambda n: progress(n, len(ordered))) if progress else None)
    lookup = dict(zip(ordered, vectors))

    rows: dict[str, dict[str, list]] = {t: {"X": [], "Y": [], "langs": [], "groups": [], "keys": []}
                                        for t in ("genre", "frames", "techniques")}
    for task, lang, article, gold in records:
        E = np.array([lookup[p.text] for p in article.paragraphs], dtype=np.float32).reshape(-1, 384)
        r = rows[task]
        if task == "techniques":
            F = paragraph_features(E)
            line_index = {p.line: i for i, p in enumerate(article.paragraphs)}
            for line, labels in sorted(gold.items()):
                if line in line_index:
                    r["X"].append(F[line_index[line]]); r["Y"].append(labels)
                    r["langs"].append(lang); r["groups"].append(f"{lang}:{article.id}")
                    r["keys"].append((article.id, line))
        else:
            r["X"].append(article_features(E)); r["Y"].append(gold)
            r["langs"].append(lang); r["groups"].append(f"{lang}:{article.id}"); r["keys"].append(article.id)
    labels = {"genre": GENRE_NAMES, "frames": FRAME_NAMES, "techniques": TECHNIQUE_NAMES}
    return {
        task: TaskData(task, labels[task], np.array(r["X"], dtype=np.float32), _one_hot(r["Y"], labels[task]),
                       np.array(r["langs"]), np.array(r["groups"]), r["keys"])
        for task, r in rows.items() if r["X"]
    }


def _by_article(labels: dict[tuple[str, int], list[str]]) -> dict[str, dict[int, list[str]]]:
    out: dict[str, dict[int, list[str]]] = {}
    for (aid, line), value in labels.items():
        out.setdefault(aid, {})[line] = value
    return out


# --- estimators ---------------------------------------------------------------------------

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
    from sklearn.linear_model import LogisticRegression
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
    thresholds = np.ones(len(data.labels)) if multiclass else threshold
    return Head.from_sklearn(est, data.labels, kind, mean, scale, thresholds, meta)


@dataclass
class _Linear:
    coef_: np.ndarray  # (n_labels, n_features)
    intercept_: np.ndarray


def _one_vs_rest(X: np.ndarray, Y: np.ndarray, recipe: Recipe) -> _Linear:
    """One logistic regression per label; a label never (or always) seen gets a constant."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((Y.shape[1], X.shape[1]), dtype=np.float32)
    intercept = np.zeros(Y.shape[1], dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.min() == y.max():
            intercept[j] = 10.0 if y[0] else -10.0
            continue
        model = LogisticRegression(C=recipe.C, max_iter=2000, class_weight=recipe.class_weight).fit(X, y)
        coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    return _Linear(coef, intercept)


def folds(groups: np.ndarray) -> np.ndarray:
    """Fold number of each row: 5 folds grouped by article (``groups``), the same on every run."""
    from sklearn.model_selection import GroupKFold

    fold = np.zeros(len(groups), dtype=int)
    splitter = GroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for k, (_, test) in enumerate(splitter.split(groups, groups=groups)):
        fold[test] = k
    return fold


def out_of_fold(data: TaskData, recipe: Recipe, progress: Callable[[], None] | None = None) -> np.ndarray:
    """Out-of-fold probabilities ``(n, len(labels))`` from 5-fold CV grouped by article."""
    fold = folds(data.groups)
    P = np.zeros(data.Y.shape, dtype=np.float32)
    for k in range(FOLDS):
        head = fit(data.subset(fold != k), recipe)
        P[fold == k] = head.predict_proba(data.X[fold == k])
        if progress:
            progress()
    return P


def decide(task: str, labels: Sequence[str], P: np.ndarray, threshold: float) -> list[list[str]]:
    if task == "genre":
        return [[labels[i]] for i in P.argmax(axis=1)]
    return [[labels[j] for j in np.flatnonzero(row >= threshold)] for row in P]


def official_score(data: TaskData, predicted: list[list[str]], mask: np.ndarray | None = None) -> float:
    """The task's official metric over the rows in ``mask`` (all by default)."""
    idx = np.flatnonzero(mask) if mask is not None else np.arange(len(data.keys))
    gold = {data.keys[i]: [data.labels[j] for j in np.flatnonzero(data.Y[i])] for i in idx}
    pred = {data.keys[i]: predicted[i] for i in idx}
    if data.task == "genre":
        return evaluation.genre_macro_f1({k: v[0] for k, v in gold.items()}, {k: v[0] for k, v in pred.items()})
    if data.task == "frames":
        return evaluation.frames_micro_f1(gold, pred).f1
    return evaluation.techniques_micro_f1(gold, pred).f1


def best_threshold(data: TaskData, P: np.ndarray) -> float:
    """The single global threshold that maximises the pooled official score of OOF predictions."""
    if data.task == "genre":
        return 0.5
    scores = [official_score(data, decide(data.task, data.labels, P, t)) for t in THRESHOLD_GRID]
    return float(THRESHOLD_GRID[int(np.argmax(scores))])


def per_language(data: TaskData, predicted: list[list[str]]) -> dict[str, float]:
    out = {semeval.iso_language(lang): round(official_score(data, predicted, data.langs == lang), 4)
           for lang in sorted(set(data.langs))}
    out["all"] = round(official_score(data, predicted), 4)
    return out


#: Chosen by 5-fold CV on all six languages (docs/models.md lists what was tried).
RECIPES = {
    "genre": Recipe(C=0.003, class_weight="balanced"),
    "frames": Recipe(C=0.001),
    "techniques": Recipe(C=0.002),
}


def train_task(data: TaskData, recipe: Recipe, command: str,
               progress: Callable[[], None] | None = None) -> tuple[Head, dict]:
    """Cross-validate ``recipe``, pick the threshold on out-of-fold predictions, fit on everything.

    Returns the model and its out-of-fold decisions ``{(lang, key): labels}``.
    """
    P = out_of_fold(data, recipe, progress)
    threshold = best_threshold(data, P)
    decisions = decide(data.task, data.labels, P, threshold)
    cv = per_language(data, decisions)
    meta = {
        "version": __version__,
        "task": data.task,
        "estimator": recipe.describe(),
        "features": f"{EMBEDDING_MODEL} " + ("paragraph + neighbours + title + article mean + position"
                                             if data.task == "techniques" else "title + mean + max of paragraphs"),
        "threshold": threshold,
        "cv": cv,
        "cv_protocol": f"{FOLDS}-fold GroupKFold by article, seed {SEED}, official metric",
        "trained_on": {semeval.iso_language(l): int((data.langs == l).sum()) for l in sorted(set(data.langs))},
        "command": command,
    }
    head = fit(data, recipe, threshold, meta)
    if progress:
        progress()
    return head, {(lang, key): labels for lang, key, labels in zip(data.langs, data.keys, decisions)}


# --- spans --------------------------------------------------------------------------------

class SpanParagraph(NamedTuple):
    lang: str
    key: str  # "lang:article id", unique across languages
    article: str
    line: int
    offset: int
    text: str
    tokens: list[tuple[int, int]]


@dataclass
class SpanData:
    """Every paragraph of the span-annotated articles, tokenised and hashed.

    ``X`` stacks the token rows of all paragraphs; paragraph ``k`` owns rows
    ``bounds[k]:bounds[k+1]``. ``gold`` holds ``(article key, technique, start, end)``.
    """

    paragraphs: list["SpanParagraph"]
    X: object
    bounds: np.ndarray
    token_labels: dict[str, np.ndarray]  # technique -> (n_tokens,) 0/1
    paragraph_gold: list[set[str]]
    gold: list[tuple[str, str, int, int]]


def load_span_data(data_dir: Path, languages: Sequence[str] | None = None, max_articles: int | None = None,
                   skip: int = 0) -> SpanData:
    from scipy import sparse

    from .document import Article
    from .spans import featurise, tokens

    paragraphs, matrices, gold, paragraph_gold = [], [], [], []
    labels = {t: [] for t in TECHNIQUE_NAMES}
    for lang in language_folders(data_dir, languages):
        split = semeval.Split(Path(data_dir), lang, "train")
        paths = split.article_paths(3)[skip:]
        paths = paths[:max_articles] if max_articles else paths
        articles: dict[str, Article] = {semeval.article_id(p): semeval.read_article(p) for p in paths}
        by_article: dict[str, list] = {}
        for aid, technique, start, end in semeval.read_span_folder(
                split.spans_dir(), {k: len(a.text) for k, a in articles.items()}):
            if aid in articles:
                by_article.setdefault(aid, []).append((technique, start, end))
                gold.append((f"{lang}:{aid}", technique, start, end))
        for aid, article in articles.items():
            spans = by_article.get(aid, [])
            for p in article.paragraphs:
                toks = tokens(p.text)
                if not toks:
                    continue
                inside = [(t, max(s, p.start) - p.start, min(e, p.end) - p.start)
                          for t, s, e in spans if s < p.end and e > p.start]
                paragraphs.append(SpanParagraph(lang, f"{lang}:{aid}", aid, p.line, p.start, p.text, toks))
                paragraph_gold.append({t for t, _, _ in inside})
                matrices.append(featurise(p.text, toks))
                for t in TECHNIQUE_NAMES:
                    labels[t].append(np.array([any(tt == t and a < e and b > s for tt, s, e in inside)
                                               for a, b in toks], dtype=np.int8))
    bounds = np.concatenate([[0], np.cumsum([m.shape[0] for m in matrices])])
    return SpanData(paragraphs, sparse.vstack(matrices).tocsr(), bounds,
                    {t: np.concatenate(v) for t, v in labels.items()}, paragraph_gold, gold)


SPAN_C = 0.5


def fit_token_scorers(data: SpanData, paragraph_mask: np.ndarray, C: float = SPAN_C):
    """One logistic regression per technique on the tokens of masked paragraphs that carry it.

    The techniques are fitted in threads, one per core (liblinear releases the GIL); each fit
    is deterministic, so the result does not depend on the number of cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.linear_model import LogisticRegression

    W = np.zeros((data.X.shape[1], len(TECHNIQUE_NAMES)), dtype=np.float32)
    b = np.full(len(TECHNIQUE_NAMES), -5.0, dtype=np.float32)

    def fit_one(t: int) -> None:
        technique = TECHNIQUE_NAMES[t]
        rows = _token_rows(data, [k for k in np.flatnonzero(paragraph_mask) if technique in data.paragraph_gold[k]])
        y = data.token_labels[technique][rows]
        if len(rows) == 0 or y.min() == y.max():
            return
        model = LogisticRegression(C=C, solver="liblinear", max_iter=200)
        model.fit(data.X[rows], y)
        W[:, t], b[t] = model.coef_[0], model.intercept_[0]

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(fit_one, range(len(TECHNIQUE_NAMES))))
    return W, b


def _token_rows(data: SpanData, paragraphs) -> np.ndarray:
    if not len(paragraphs):
        return np.zeros(0, dtype=int)
    return np.concatenate([np.arange(data.bounds[k], data.bounds[k + 1]) for k in paragraphs])


def decode_spans(data: SpanData, scores: np.ndarray, predicted: list[list[str]],
                 decoders: dict[str, tuple[str, float]], techniques: Sequence[str] = TECHNIQUE_NAMES,
                 paragraphs: Iterable[int] | None = None) -> list[tuple[str, str, int, int]]:
    """Spans of each paragraph's predicted ``techniques``, from token ``scores`` ``(n_tokens, 23)``;
    only in ``paragraphs`` (indices) when given."""
    from .spans import decode

    out = []
    for k in range(len(data.paragraphs)) if paragraphs is None else paragraphs:
        par = data.paragraphs[k]
        for technique in predicted[k]:
            if technique not in techniques:
                continue
            p = scores[data.bounds[k]:data.bounds[k + 1], TECHNIQUE_NAMES.index(technique)]
            mode, threshold = decoders[technique]
            out.extend((par.key, technique, par.offset + par.tokens[i][0], par.offset + par.tokens[j - 1][1])
                       for i, j in decode(par.text, par.tokens, p, mode, threshold))
    return out


WHOLE_PARAGRAPH = ("hull", 0.0)
DECODER_GRID = [WHOLE_PARAGRAPH] + [(mode, t) for mode in ("hull", "runs", "sentences")
                                    for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]


def for_language(data: SpanData, predicted: list[list[str]], lang: str):
    """``predicted`` with the labels of other languages' paragraphs removed, and ``lang``'s gold spans."""
    only = [labels if p.lang == lang else [] for p, labels in zip(data.paragraphs, predicted)]
    return only, [g for g in data.gold if g[0].startswith(f"{lang}:")]


def choose_decoders(data: SpanData, scores: np.ndarray, predicted: list[list[str]], passes: int = 1,
                    lang: str | None = None) -> dict[str, tuple[str, float]]:
    """Per-technique decoder maximising the span F1 of ``lang`` (all languages pooled by default),
    by coordinate ascent from whole paragraphs.

    The metric is micro-averaged over techniques, so each choice is judged on the total score,
    not on its own technique's F1. Its sums add up over techniques, so a trial re-scores only
    the technique being changed.
    """
    if lang is not None:
        predicted, gold = for_language(data, predicted, lang)
    else:
        gold = data.gold
    gold_of = {t: [g for g in gold if g[1] == t] for t in TECHNIQUE_NAMES}
    labelled = {t: [k for k, labels in enumerate(predicted) if t in labels] for t in TECHNIQUE_NAMES}

    def sums(technique: str, decoder: tuple[str, float]) -> np.ndarray:
        spans = decode_spans(data, scores, predicted, {technique: decoder}, [technique], labelled[technique])
        return evaluation.span_sums(gold_of[technique], spans)

    decoders = {t: WHOLE_PARAGRAPH for t in TECHNIQUE_NAMES}
    current = {t: sums(t, WHOLE_PARAGRAPH) for t in TECHNIQUE_NAMES}
    order = sorted(TECHNIQUE_NAMES, key=lambda t: -len(gold_of[t]))
    for _ in range(passes):
        for technique in order:
            others = sum(v for t, v in current.items() if t != technique)
            best = (evaluation.span_scores_from_sums(others + current[technique]).f1, decoders[technique])
            for candidate in DECODER_GRID:
                trial = sums(technique, candidate)
                f1 = evaluation.span_scores_from_sums(others + trial).f1
                if f1 > best[0] + 1e-4:
                    best = (f1, candidate)
                    current[technique] = trial
            decoders[technique] = best[1]
    return decoders


def train_spans(data: SpanData, paragraph_decisions: dict, command: str,
                progress: Callable[[], None] | None = None):
    """Cross-validate the token scorers, choose each technique's decoder, fit on everything.

    ``paragraph_decisions`` are the techniques model's out-of-fold labels ``{(lang, (id, line)): labels}``,
    so the CV scores are those of the whole chain on unseen articles, and the whole-paragraph
    baseline is scored on the same paragraph labels.
    """
    from .spans import POOLED, SpanModel, sigmoid

    fold = folds(np.array([p.key for p in data.paragraphs]))
    S = np.zeros((data.X.shape[0], len(TECHNIQUE_NAMES)), dtype=np.float32)
    for k in range(FOLDS):
        W, b = fit_token_scorers(data, fold != k)
        rows = _token_rows(data, np.flatnonzero(fold == k))
        S[rows] = sigmoid(data.X[rows] @ W + b)
        if progress:
            progress()
    predicted = [paragraph_decisions.get((p.lang, (p.article, p.line)), []) for p in data.paragraphs]
    # One decoder set per training language (its span lengths differ: Russian spans cover a
    # quarter of their paragraph, English ones a sixth) and a pooled one for every other language.
    langs = sorted({p.lang for p in data.paragraphs})
    decoders = {POOLED: choose_decoders(data, S, predicted)}
    decoders |= {semeval.iso_language(lang): choose_decoders(data, S, predicted, lang=lang) for lang in langs}
    baseline = {t: WHOLE_PARAGRAPH for t in TECHNIQUE_NAMES}
    cv, cv_baseline = {}, {}
    ours_all, base_all = [], []
    for lang in langs:
        iso = semeval.iso_language(lang)
        only, gold = for_language(data, predicted, lang)
        ours, base = decode_spans(data, S, only, decoders[iso]), decode_spans(data, S, only, baseline)
        ours_all += ours
        base_all += base
        cv[iso] = round(evaluation.span_scores(gold, ours).f1, 4)
        cv_baseline[iso] = round(evaluation.span_scores(gold, base).f1, 4)
    cv["all"] = round(evaluation.span_scores(data.gold, ours_all).f1, 4)
    cv_baseline["all"] = round(evaluation.span_scores(data.gold, base_all).f1, 4)
    pooled = decode_spans(data, S, predicted, decoders[POOLED])
    cv["all, pooled decoders"] = round(evaluation.span_scores(data.gold, pooled).f1, 4)
    W, b = fit_token_scorers(data, np.ones(len(data.paragraphs), dtype=bool))
    if progress:
        progress()
    meta = {
        "version": __version__,
        "task": "spans",
        "estimator": f"per-technique token logistic regression (C={SPAN_C}) on hashed lexical features",
        "cv": cv,
        "cv_whole_paragraph_baseline": cv_baseline,
        "cv_protocol": f"{FOLDS}-fold GroupKFold by article, seed {SEED}; paragraph labels from the "
                       "techniques model's out-of-fold predictions; span F1 with partial overlap",
        "command": command,
    }
    return SpanModel(W, b, {lang: {t: list(d) for t, d in chosen.items()} for lang, chosen in decoders.items()},
                     list(TECHNIQUE_NAMES), meta)
