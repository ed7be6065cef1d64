"""Train the genre, frames and paragraph techniques models (SemEval-2023 Task 3), 5-fold CV by article."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..document import Article
from ..errors import ConfigError
from ..models.embeddings import Embedder, article_features, paragraph_features
from ..models.heads import Head
from ..progress import Progress
from ..semeval.formats import read_article
from ..semeval.layout import iso_language, split_folders
from ..semeval.reader import LabelledArticle, read_training
from ..tasks import TASKS, Dataset, Level, Task, tasks_of
from .estimators import (
    DEFAULT_THRESHOLD,
    TaskData,
    decide,
    fit_head,
    labelled_slice,
    model_meta,
    one_hot,
    out_of_fold,
    paragraph_vectors,
    per_language,
)

log = logging.getLogger(__name__)
THRESHOLD_GRID = np.round(np.arange(0.05, 0.71, 0.01), 2)
#: The SemEval-2023 tasks whose models are heads on encoder features (the span tagger is a model of its own).
HEAD_TASKS = tuple(name for name in tasks_of(Dataset.SEMEVAL2023) if all(t.recipe for t in TASKS[name].targets))


def load_data(
    data_dir: Path,
    embedder: Embedder,
    languages: Sequence[str] | None = None,
    max_articles: int | None = None,
    skip: int = 0,
    progress: Progress | None = None,
) -> dict[str, TaskData]:
    """Read the train split of every language, embed every paragraph, build each head task's rows.

    ``skip``/``max_articles`` take a fixed slice of each language's articles labelled for a
    task, in id order (for tests).
    """
    articles = read_training(data_dir, languages)
    found = {name: _copies(labelled_slice(articles, name, skip, max_articles), TASKS[name]) for name in HEAD_TASKS}
    texts = sorted({p.text for copies in found.values() for _, article in copies for p in article.paragraphs})
    lookup = dict(zip(texts, embedder.embed(texts, progress=progress)))
    rows = {name: _task_rows(TASKS[name], copies, lookup) for name, copies in found.items()}
    prior = [name for name in rows if TASKS[name].level is Level.ARTICLE and TASKS[name].single_label]
    if prior:  # the unlabelled articles of each language show the language prior (:func:`language_mix`)
        unlabelled = unlabelled_rows(data_dir, embedder, languages, progress)
        rows |= {name: replace(rows[name], unlabelled=unlabelled) for name in prior}
    return {name: data for name, data in rows.items() if len(data.keys)}


#: The split whose articles, unlabelled, show what a model predicts for each language's news.
UNLABELLED_SPLIT = "test"


def unlabelled_rows(
    data_dir: Path, embedder: Embedder, languages: Sequence[str] | None = None, progress: Progress | None = None
) -> dict[str, np.ndarray]:
    """Article feature rows of the unlabelled articles of each language folder (its test split)."""
    articles: dict[str, list[Article]] = {}
    for lang_dir in sorted(p for p in Path(data_dir).iterdir() if p.is_dir()):
        folders = split_folders(lang_dir, UNLABELLED_SPLIT).get(UNLABELLED_SPLIT, [])
        if folders and (not languages or lang_dir.name in languages):
            found = (read_article(path) for path in sorted(folders[0].glob("article*.txt")))
            articles[lang_dir.name] = [article for article in found if article.paragraphs]
    texts = sorted({p.text for found in articles.values() for article in found for p in article.paragraphs})
    lookup = dict(zip(texts, embedder.embed(texts, progress=progress)))
    return {
        lang: np.array([article_features(paragraph_vectors(article, lookup)) for article in found], dtype=np.float32)
        for lang, found in articles.items()
        if found
    }


def _copies(articles: Sequence[LabelledArticle], task: Task) -> list[tuple[LabelledArticle, Article]]:
    """Each article with its copy in the folder of ``task``'s subtask; those without one are logged."""
    out = []
    for record in articles:
        article = record.copy(task.subtask)
        if article is None:
            log.warning(
                "%s/%s: article %s is labelled for %s but not in the subtask-%d folder; skipped",
                record.data_dir,
                record.lang,
                record.id,
                task.name,
                task.subtask,
            )
        else:
            out.append((record, article))
    return out


#: A row of a task: its key, its features and its gold labels.
Row = tuple[object, np.ndarray, Sequence[str]]


def _article_rows(record: LabelledArticle, article: Article, E: np.ndarray, name: str) -> Iterator[Row]:
    yield article.id, article_features(E), record.labels[name]


def _paragraph_rows(record: LabelledArticle, article: Article, E: np.ndarray, name: str) -> Iterator[Row]:
    """The labelled paragraphs of the article, by line (lines that are not paragraphs have no row)."""
    features = paragraph_features(E)
    line_index = {p.line: i for i, p in enumerate(article.paragraphs)}
    gold: dict[int, list[str]] = record.labels[name]
    for line, labels in sorted(gold.items()):
        if line in line_index:
            yield (article.id, line), features[line_index[line]], labels


ROWS = {Level.ARTICLE: _article_rows, Level.PARAGRAPH: _paragraph_rows}


def _task_rows(task: Task, copies: list[tuple[LabelledArticle, Article]], lookup: dict[str, np.ndarray]) -> TaskData:
    target = task.targets[0]
    rows: list[tuple[LabelledArticle, object, np.ndarray, Sequence[str]]] = []
    for record, article in copies:
        rows += [
            (record, *row) for row in ROWS[task.level](record, article, paragraph_vectors(article, lookup), target.name)
        ]
    return TaskData(
        target,
        np.array([x for _, _, x, _ in rows], dtype=np.float32),
        one_hot([labels for *_, labels in rows], target.labels),
        np.array([r.lang for r, *_ in rows]),
        np.array([r.group for r, *_ in rows]),
        [key for _, key, _, _ in rows],
    )


def official_score(data: TaskData, predicted: list[list[str]], mask: np.ndarray | None = None) -> float:
    """The task's official metric over the rows in ``mask`` (all by default)."""
    idx = np.flatnonzero(mask) if mask is not None else np.arange(len(data.keys))
    gold = {data.keys[i]: [data.labels[j] for j in np.flatnonzero(data.Y[i])] for i in idx}
    pred = {data.keys[i]: predicted[i] for i in idx}
    if data.target.metric is None:
        raise ConfigError(f"the {data.task} target has no official metric of its own")
    return data.target.metric(gold, pred)


def best_threshold(data: TaskData, P: np.ndarray) -> float:
    """The single global threshold that maximises the pooled official score of OOF predictions.

    One threshold for all labels, judged by the official metric of all of them together, is not
    what scikit-learn's TunedThresholdClassifierCV tunes (one binary classifier's), hence this grid.
    A single-label target takes the most probable label: it has no threshold to choose.
    """
    if data.target.single_label:
        return DEFAULT_THRESHOLD
    scores = [official_score(data, decide(data.target, P, t)) for t in THRESHOLD_GRID]
    return float(THRESHOLD_GRID[int(np.argmax(scores))])


def cv_scores(data: TaskData, decisions: list[list[str]]) -> dict[str, float]:
    """The official score of ``decisions`` in each language and in all (``all``)."""
    return per_language(data.langs, lambda mask: official_score(data, decisions, mask))


def language_mix(data: TaskData, head: Head) -> dict[str, dict[str, dict[str, float]]]:
    """By language: the share of each label in its training rows, and in what ``head`` predicts
    for its unlabelled articles (a language prior shows as a predicted mix that copies the
    training one)."""

    def shares(labels: list[str]) -> dict[str, float]:
        return {label: round(labels.count(label) / max(1, len(labels)), 3) for label in data.labels}

    mix: dict[str, dict[str, dict[str, float]]] = {}
    for lang in sorted(set(data.langs) | set(data.unlabelled)):
        iso = iso_language(str(lang))
        mix[iso] = {}
        if lang in data.langs:
            mix[iso]["train"] = shares([data.labels[int(j)] for j in data.Y[data.langs == lang].argmax(axis=1)])
        if lang in data.unlabelled:
            proba = head.predict_proba(data.unlabelled[lang])
            mix[iso]["unlabelled_predicted"] = shares([labels[0] for labels in head.decide(proba)])
    return mix


def train_task(data: TaskData, command: str, progress: Callable[[], None] | None = None) -> tuple[Head, dict]:
    """Cross-validate the target's recipe, pick the threshold on out-of-fold predictions, fit on everything.

    Returns the model and its out-of-fold decisions ``{(lang, key): labels}``.
    """
    P = out_of_fold(data, progress)
    threshold = best_threshold(data, P)
    decisions = decide(data.target, P, threshold)
    scores = {"threshold": threshold, "cv": cv_scores(data, decisions)}
    if data.unlabelled and len(set(data.langs)) > 1:
        # Leave one language out: each language scored by a model that never saw it labelled.
        scores["lolo"] = cv_scores(data, decide(data.target, out_of_fold(data, fold=data.langs), threshold))
    head = fit_head(data, threshold, model_meta(data, command, **scores))
    if data.unlabelled:
        head.meta["language_mix"] = language_mix(data, head)
    if progress:
        progress()
    return head, {(lang, key): labels for lang, key, labels in zip(data.langs, data.keys, decisions)}
