"""Train the narratives and entity-role models and the mention finder on SemEval-2025 Task 10 data.

Same protocol as :mod:`spinscope.training.techniques`: fixed seeds, cached embeddings, 5 folds
grouped by article, decision rules chosen on out-of-fold probabilities, official metrics per language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..document import Article
from ..models.embeddings import EMBEDDING_DIM, Embedder, article_features
from ..models.entities import MentionFinder
from ..models.evidence import sentences
from ..models.heads import Head
from ..models.narratives import NarrativeRule, RoleRule
from ..models.roles import masked_sentences, mention_rows
from ..progress import Progress
from ..semeval import metrics
from ..semeval.reader import LabelledArticle, read_training
from ..tasks import TARGETS, TASKS, Recipe, Target
from .estimators import (
    FOLDS,
    TaskData,
    fit_head,
    folds,
    labelled_slice,
    model_meta,
    one_hot,
    out_of_fold,
    paragraph_vectors,
    per_language,
    texts_range_states,
)

NARRATIVES, ENTITIES = TASKS["narratives"], TASKS["entities"]

#: The role models compared with (``cv_previous`` in their metadata): the masked sentence and
#: the article mean alone (the feature rows without the mention's own state), their recipes.
PREVIOUS_ROLE_RECIPES = {"roles": Recipe(C=0.001), "fine_roles": Recipe(C=0.003)}
PREVIOUS_ROLE_COLUMNS = slice(EMBEDDING_DIM, None)


@dataclass
class FramingData:
    """Rows of the four framing targets: articles for narratives, gold mentions for roles.

    ``spans[i]`` is where mention row ``i`` really is in ``articles[roles.groups[i]]``.
    """

    narratives: TaskData
    subnarratives: TaskData
    roles: TaskData
    fine_roles: TaskData
    articles: dict[str, Article]
    spans: list[tuple[int, int]]


def load_framing_data(
    data_dir: Path,
    embedder: Embedder,
    languages: Sequence[str] | None = None,
    max_articles: int | None = None,
    skip: int = 0,
    progress: Progress | None = None,
) -> FramingData:
    """Read the train split of every language, embed paragraphs and mentions, build the rows.

    ``skip``/``max_articles`` take a fixed slice of each language's articles in id order (for
    tests). Labelled articles that are missing and mentions whose offsets do not hold their
    text are logged as warnings."""
    records = labelled_slice(read_training(data_dir, languages), NARRATIVES.targets[0].name, skip, max_articles)
    articles = [record.require_copy() for record in records]
    texts = sorted({p.text for article in articles for p in article.paragraphs})
    vectors = dict(zip(texts, embedder.embed(texts, progress=progress)))
    in_context = mention_context_states(
        articles, [[span for _, span in r.mentions] for r in records], embedder, progress
    )
    rows: dict[str, dict[str, list]] = {
        t.name: {"X": [], "Y": [], "langs": [], "groups": [], "keys": []} for t in NARRATIVES.targets + ENTITIES.targets
    }
    for record, article, states in zip(records, articles, in_context):
        E = paragraph_vectors(article, vectors)
        features = article_features(E)
        for target in NARRATIVES.targets:
            _add(rows[target.name], [features], [record.labels[target.name]], record, [article.id])
        if record.mentions:
            X = mention_rows(E, states)
            keys = [m.key for m, _ in record.mentions]
            for target, labels in zip(ENTITIES.targets, _mention_labels(record)):
                _add(rows[target.name], X, labels, record, keys)
    data = {name: _task_data(TARGETS[name], r) for name, r in rows.items()}
    return FramingData(
        **data,
        articles={r.group: a for r, a in zip(records, articles)},
        spans=[span for r in records for _, span in r.mentions],
    )


def _mention_labels(record: LabelledArticle) -> tuple[list[list[str]], list[list[str]]]:
    """The gold main role and fine roles of each mention of the article."""
    # Read with their roles, gold mentions always have a main role.
    return [[m.role or ""] for m, _ in record.mentions], [list(m.fine_roles) for m, _ in record.mentions]


def _add(rows: dict[str, list], X: Sequence | np.ndarray, Y: Sequence, record: LabelledArticle, keys: Sequence) -> None:
    rows["X"].extend(X)
    rows["Y"].extend(Y)
    rows["keys"].extend(keys)
    rows["langs"].extend([record.lang] * len(keys))
    rows["groups"].extend([record.group] * len(keys))


def _task_data(target: Target, rows: dict[str, list]) -> TaskData:
    return TaskData(
        target,
        np.array(rows["X"], dtype=np.float32).reshape(len(rows["Y"]), -1),
        one_hot(rows["Y"], target.labels),
        np.array(rows["langs"]),
        np.array(rows["groups"]),
        rows["keys"],
    )


def mention_context_states(
    articles: Sequence[Article],
    spans: Sequence[Sequence[tuple[int, int]]],
    embedder: Embedder,
    progress: Progress | None = None,
) -> list[np.ndarray]:
    """Each mention and its sentence read masked (:func:`~spinscope.models.roles.mention_states`),
    per article, from one batch of encodings of the masked sentences."""
    texts, ranges, owners = [], [], []  # per sentence holding mentions: (article, mention rows)
    for a, (article, article_spans) in enumerate(zip(articles, spans)):
        for text, placeholders, rows in masked_sentences(article, sentences(article), article_spans):
            texts.append(text)
            ranges.append([*placeholders, (0, len(text))])  # each mention, then the whole sentence
            owners.append((a, rows))
    flat = texts_range_states(embedder, texts, ranges, progress).astype(np.float32)
    out = [np.zeros((len(article_spans), 2 * EMBEDDING_DIM), dtype=np.float32) for article_spans in spans]
    start = 0
    for a, rows in owners:
        paragraph = np.repeat(flat[start + len(rows)][None, :], len(rows), axis=0)
        out[a][rows] = np.hstack([flat[start : start + len(rows)], paragraph])
        start += len(rows) + 1
    return out


# --- narratives ------------------------------------------------------------------------------

RULE_GRID = np.round(np.arange(0.1, 0.71, 0.05), 2)


def narrative_decisions(data: FramingData, P: np.ndarray, Q: np.ndarray, rule: NarrativeRule) -> list:
    return [rule.decide(data.narratives.labels, p, data.subnarratives.labels, q) for p, q in zip(P, Q)]


def narrative_scores(data: FramingData, decisions: list, mask: np.ndarray | None = None) -> dict[str, float]:
    """Official samples-F1 of coarse and fine narratives over the articles in ``mask``."""
    idx = np.flatnonzero(mask) if mask is not None else np.arange(len(decisions))
    keys = data.narratives.keys

    def gold(task: TaskData):
        return {keys[i]: [task.labels[j] for j in np.flatnonzero(task.Y[i])] for i in idx}

    return {
        "coarse_f1": metrics.sample_f1(gold(data.narratives), {keys[i]: decisions[i][0] for i in idx}),
        "fine_f1": metrics.sample_f1(gold(data.subnarratives), {keys[i]: decisions[i][1] for i in idx}),
    }


def choose_narrative_rule(data: FramingData, P: np.ndarray, Q: np.ndarray, passes: int = 2) -> NarrativeRule:
    """The rule maximising coarse + fine samples-F1 on out-of-fold probabilities, by
    coordinate ascent over its two thresholds and the one-domain switch."""

    def score(rule: NarrativeRule) -> float:
        s = narrative_scores(data, narrative_decisions(data, P, Q, rule))
        return s["coarse_f1"] + s["fine_f1"]

    best = NarrativeRule()
    grids: dict[str, list[Any]] = {
        "coarse": [float(x) for x in RULE_GRID],
        "fine": [float(x) for x in RULE_GRID],
        "one_domain": [True, False],
    }
    for _ in range(passes):
        for name, values in grids.items():
            best = max((replace(best, **{name: v}) for v in values), key=score)
    return best


def train_narratives(data: FramingData, command: str, progress: Callable[[], None] | None = None) -> tuple[Head, Head]:
    """Cross-validate both narrative levels, choose the decision rule, fit on everything."""
    P = out_of_fold(data.narratives, progress)
    Q = out_of_fold(data.subnarratives, progress)
    rule = choose_narrative_rule(data, P, Q)
    decisions = narrative_decisions(data, P, Q, rule)
    majority = _majority_narratives(data)
    scores = {
        "rule": {"coarse": rule.coarse, "fine": rule.fine, "one_domain": rule.one_domain},
        "cv": per_language(data.narratives.langs, lambda mask: narrative_scores(data, decisions, mask)),
        "cv_baseline_most_frequent": per_language(
            data.narratives.langs, lambda mask: narrative_scores(data, majority, mask)
        ),
    }
    # The framing heads keep their scores after the provenance, as their model files always had them.
    return tuple(
        fit_head(task, meta=model_meta(task, command) | scores)  # type: ignore[return-value]
        for task in (data.narratives, data.subnarratives)
    )


def _majority_narratives(data: FramingData) -> list:
    """Baseline: every article gets the most frequent narrative and sub-narrative of the data."""
    coarse = data.narratives.labels[int(data.narratives.Y.sum(0).argmax())]
    fine = data.subnarratives.labels[int(data.subnarratives.Y.sum(0).argmax())]
    return [([coarse], [fine])] * len(data.narratives.keys)


# --- entity roles ----------------------------------------------------------------------------


def role_decisions(data: FramingData, P: np.ndarray, Q: np.ndarray, rule: RoleRule) -> list:
    return [rule.decide(data.roles.labels, p, data.fine_roles.labels, q) for p, q in zip(P, Q)]


def role_scores(data: FramingData, decisions: list, mask: np.ndarray | None = None) -> dict[str, float]:
    idx = np.flatnonzero(mask) if mask is not None else np.arange(len(decisions))
    roles, fine = data.roles, data.fine_roles
    gold = {
        roles.keys[i]: (roles.labels[int(roles.Y[i].argmax())], [fine.labels[j] for j in np.flatnonzero(fine.Y[i])])
        for i in idx
    }
    scores = metrics.entity_role_scores(gold, {roles.keys[i]: decisions[i] for i in idx})
    return {k: v for k, v in scores.items() if k != "mentions"}


#: Weights of the fine-role evidence in the main-role decision (see :class:`RoleRule`), tried by CV.
FINE_WEIGHT_GRID = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)


def role_decisions_cv(
    data: FramingData,
    fold: np.ndarray | None = None,
    rule: RoleRule | None = None,
    progress: Callable[[], None] | None = None,
    previous: bool = False,
) -> tuple[list, RoleRule]:
    """Held-out decisions of both role models, by CV (or by the given ``fold`` of each row),
    with ``rule``, else the rule of highest main-role accuracy + exact match. ``previous``:
    those of the models before token states (their recipes, columns and rules)."""
    columns = PREVIOUS_ROLE_COLUMNS if previous else slice(None)
    fine_weights = (0.0,) if previous else FINE_WEIGHT_GRID
    roles, fine = (replace(task, X=task.X[:, columns]) for task in (data.roles, data.fine_roles))
    P, Q = (
        out_of_fold(task, progress, fold, PREVIOUS_ROLE_RECIPES[task.task] if previous else None)
        for task in (roles, fine)
    )
    if rule is None:

        def score(r: RoleRule) -> float:
            s = role_scores(data, role_decisions(data, P, Q, r))
            return s["main_role_accuracy"] + s["exact_match_ratio"]

        rule = max(
            (RoleRule(float(x), w) for w in fine_weights for x in np.round(np.arange(0.3, 1.01, 0.05), 2)), key=score
        )
    return role_decisions(data, P, Q, rule), rule


def train_roles(data: FramingData, command: str, progress: Callable[[], None] | None = None) -> tuple[Head, Head]:
    """Cross-validate both role models and choose their rule, score the previous features the
    same way and both leave-one-language-out, fit on everything."""
    decisions, rule = role_decisions_cv(data, progress=progress)
    previous, previous_rule = role_decisions_cv(data, progress=progress, previous=True)
    held_out = {"cv": decisions, "cv_previous": previous, "cv_baseline_most_frequent": _majority_roles(data)}
    if len(set(data.roles.langs)) > 1:
        # Leave one language out: the rule chosen by CV, the models fitted on the other languages.
        held_out["lolo"], _ = role_decisions_cv(data, data.roles.langs, rule, progress)
        held_out["lolo_previous"], _ = role_decisions_cv(data, data.roles.langs, previous_rule, progress, True)
    scores: dict[str, Any] = {
        "rule": {"extra": rule.extra, "fine_weight": rule.fine_weight},
        "previous": "logistic regressions on the masked sentence + article mean alone (without the "
        "mention's own state), main role from its own model",
    }
    for name, chosen in held_out.items():
        scores[name] = per_language(data.roles.langs, partial(role_scores, data, chosen))
    return tuple(
        fit_head(task, meta=model_meta(task, command) | scores)  # type: ignore[return-value]
        for task in (data.roles, data.fine_roles)
    )


def _majority_roles(data: FramingData) -> list:
    """Baseline: every mention gets the most frequent main role and its most frequent fine role."""
    role = data.roles.labels[int(data.roles.Y.sum(0).argmax())]
    counts = data.fine_roles.Y[data.roles.Y[:, data.roles.labels.index(role)] == 1].sum(0)
    return [(role, [data.fine_roles.labels[int(counts.argmax())]])] * len(data.roles.keys)


# --- mention finder --------------------------------------------------------------------------


def finder_recall(data: FramingData, finder_of: Callable[[list[str]], MentionFinder]) -> dict[str, dict]:
    """Recall of the gold mentions by a finder built from the other folds' mention texts.

    ``exact``: same characters; ``overlap``: at least one character in common.
    """
    roles = data.roles
    fold = folds(roles.groups)
    hits: dict[int, tuple[bool, bool]] = {}
    for k in range(FOLDS):
        finder = finder_of([_text(data, int(i)) for i in np.flatnonzero(fold != k)])
        found = {}
        for i in map(int, np.flatnonzero(fold == k)):
            group = roles.groups[i]
            if group not in found:
                found[group] = finder.find(data.articles[group].text)
            a, b = data.spans[i]
            hits[i] = ((a, b) in found[group], any(s < b and e > a for s, e in found[group]))

    def recall(mask):
        idx = np.flatnonzero(mask) if mask is not None else np.arange(len(roles.keys))
        return {
            "exact": float(np.mean([hits[int(i)][0] for i in idx])),
            "overlap": float(np.mean([hits[int(i)][1] for i in idx])),
        }

    return per_language(roles.langs, recall)


def _text(data: FramingData, i: int) -> str:
    a, b = data.spans[i]
    return data.articles[data.roles.groups[i]].text[a:b]


def train_finder(data: FramingData) -> tuple[MentionFinder, dict]:
    recall = finder_recall(data, MentionFinder.from_mentions)
    return MentionFinder.from_mentions(_text(data, i) for i in range(len(data.spans))), recall
