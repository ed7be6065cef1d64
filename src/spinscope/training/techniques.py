"""Train the genre, frames and paragraph techniques models (SemEval-2023 Task 3), 5-fold CV by article."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .. import __version__
from ..models.embeddings import EMBEDDING_DIM, EMBEDDING_MODEL, Embedder, article_features, paragraph_features
from ..models.heads import Head
from ..progress import Progress
from ..semeval import formats, metrics
from ..semeval.layout import SUBTASK, Split, iso_language, training_languages
from ..taxonomy import FRAME_NAMES, GENRE_NAMES, TECHNIQUE_NAMES
from .estimators import FOLDS, SEED, Recipe, TaskData, fit, one_hot, out_of_fold

log = logging.getLogger(__name__)
THRESHOLD_GRID = np.round(np.arange(0.05, 0.71, 0.01), 2)


def load_data(data_dir: Path, embedder: Embedder, languages: Sequence[str] | None = None,
              max_articles: int | None = None, skip: int = 0,
              progress: Progress | None = None) -> dict[str, TaskData]:
    """Read the train split of every language, embed every paragraph, build each task's rows.

    ``skip``/``max_articles`` take a fixed slice of each language's sorted articles (for tests).
    """
    records = []  # (task, lang, article, gold)
    for lang in training_languages(data_dir, languages):
        split = Split(Path(data_dir), lang, "train")
        golds = {
            "genre": {k: [v] for k, v in formats.read_genre_labels(split.labels_file(1)).items()},
            "frames": formats.read_frame_labels(split.labels_file(2)),
            "techniques": _by_article(formats.read_technique_labels(split.labels_file(3))),
        }
        for task, gold in golds.items():
            folder = split.articles_dir(SUBTASK[task])
            ids = sorted(gold)[skip:][:max_articles] if max_articles else sorted(gold)[skip:]
            for aid in ids:
                path = folder / f"article{aid}.txt"
                if not path.is_file():
                    log.warning("%s is labelled but missing; skipped", path)
                    continue
                records.append((task, lang, formats.read_article(path, split.language), gold[aid]))

    texts = {p.text for _, _, article, _ in records for p in article.paragraphs}
    ordered = sorted(texts)
    vectors = embedder.embed(ordered, progress=progress)
    lookup = dict(zip(ordered, vectors))

    rows: dict[str, dict[str, list]] = {t: {"X": [], "Y": [], "langs": [], "groups": [], "keys": []}
                                        for t in ("genre", "frames", "techniques")}
    for task, lang, article, gold in records:
        E = np.array([lookup[p.text] for p in article.paragraphs], dtype=np.float32).reshape(-1, EMBEDDING_DIM)
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
        task: TaskData(task, labels[task], np.array(r["X"], dtype=np.float32), one_hot(r["Y"], labels[task]),
                       np.array(r["langs"]), np.array(r["groups"]), r["keys"])
        for task, r in rows.items() if r["X"]
    }


def _by_article(labels: dict[tuple[str, int], list[str]]) -> dict[str, dict[int, list[str]]]:
    out: dict[str, dict[int, list[str]]] = {}
    for (aid, line), value in labels.items():
        out.setdefault(aid, {})[line] = value
    return out


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
        return metrics.genre_macro_f1({k: v[0] for k, v in gold.items()}, {k: v[0] for k, v in pred.items()})
    if data.task == "frames":
        return metrics.frames_micro_f1(gold, pred).f1
    return metrics.techniques_micro_f1(gold, pred).f1


def best_threshold(data: TaskData, P: np.ndarray) -> float:
    """The single global threshold that maximises the pooled official score of OOF predictions."""
    if data.task == "genre":
        return 0.5
    scores = [official_score(data, decide(data.task, data.labels, P, t)) for t in THRESHOLD_GRID]
    return float(THRESHOLD_GRID[int(np.argmax(scores))])


def per_language(data: TaskData, predicted: list[list[str]]) -> dict[str, float]:
    out = {iso_language(lang): round(official_score(data, predicted, data.langs == lang), 4)
           for lang in sorted(set(data.langs))}
    out["all"] = round(official_score(data, predicted), 4)
    return out


#: Chosen on the fine-tuned encoder's features by 5-fold CV on the training articles outside
#: the held-out split, the most regularised within .015 of the best (docs/models.md lists what
#: was tried; e5's own features had C=0.003 with balanced class weights, 0.001, 0.002).
RECIPES = {
    "genre": Recipe(C=0.003),
    "frames": Recipe(C=0.001),
    "techniques": Recipe(C=0.001),
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
        "trained_on": {iso_language(l): int((data.langs == l).sum()) for l in sorted(set(data.langs))},
        "command": command,
    }
    head = fit(data, recipe, threshold, meta)
    if progress:
        progress()
    return head, {(lang, key): labels for lang, key, labels in zip(data.langs, data.keys, decisions)}

