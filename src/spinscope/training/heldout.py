"""The fixed held-out split: 20% of every language's training articles, set aside for choices
that are too dear to cross-validate (fine-tuning the encoder), and every model's score on it.

The split is written in ``heldout.json`` next to this module and committed, so every run and
every report uses the same articles. It is stratified: within each language, articles are
grouped by their genre (SemEval-2023) or first coarse narrative (SemEval-2025), and 20% of each
group, rounded, is drawn with a fixed seed. ``python -m spinscope.training.heldout DATA...``
writes it again (byte for byte the same from the same data).

:func:`evaluate` scores an encoder: every head is fitted with its usual recipe on the other 80%
(its threshold or decision rule chosen by 5-fold CV there) and scored on the held-out 20%
with the official metric, per language.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..models.embeddings import Embedder
from ..progress import Counter, Progress
from ..semeval.layout import is_2025_data, iso_language, training_languages
from ..semeval.reader import read_training
from ..tasks import Dataset
from ..taxonomy import TECHNIQUE_NAMES
from . import framing, spans, techniques
from .estimators import TaskData, decide, fit_head, out_of_fold, per_language, texts_range_states

SPLIT_FILE = Path(__file__).with_name("heldout.json")
FRACTION = 0.2
#: The articles fall in this many disjoint folds of :data:`FRACTION` each; the held-out split is fold 0.
FOLDS = round(1 / FRACTION)
SEED = 2023


#: The label whose first value (in name order) is an article's stratum, in each shared task's data.
STRATUM_LABEL = {Dataset.SEMEVAL2023: "genre", Dataset.SEMEVAL2025: "narratives"}


def _strata(data_dir: Path) -> dict[str, dict[str, str]]:
    """Each labelled article of each language of ``data_dir``: its genre (SemEval-2023) or first
    coarse narrative (SemEval-2025), "" without one."""
    label = STRATUM_LABEL[Dataset.SEMEVAL2025 if is_2025_data(data_dir) else Dataset.SEMEVAL2023]
    out: dict[str, dict[str, str]] = {}
    for record in read_training(data_dir):
        # Every subtask-3 article has its (maybe no) spans: an article counts when a labels file names it.
        if set(record.labels) - {spans.SPANS.name}:
            out.setdefault(record.lang, {})[record.id] = sorted(record.labels.get(label) or [""])[0]
    return out


def draw(data_dirs: Sequence[Path], fold: int = 0) -> dict[str, dict[str, list[str]]]:
    """``{dataset folder name: {language folder: sorted held-out article ids}}``: the ``fold``-th
    fifth of each stratum after a seeded shuffle (fold 0 is the committed split; the five folds
    are disjoint and cover every article)."""
    if not 0 <= fold < FOLDS:
        raise ValueError(f"fold {fold}: there are {FOLDS} folds, 0 to {FOLDS - 1}")
    out: dict[str, dict[str, list[str]]] = {}
    for data_dir in map(Path, data_dirs):
        chosen = out.setdefault(data_dir.name, {})
        by_lang = _strata(data_dir)
        for lang in training_languages(data_dir):
            strata: dict[str, list[str]] = {}
            for aid, stratum in by_lang.get(lang, {}).items():
                strata.setdefault(stratum, []).append(aid)
            rng = random.Random(f"{SEED}:{data_dir.name}:{lang}")
            held = []
            for stratum in sorted(strata):
                ids = sorted(strata[stratum])
                rng.shuffle(ids)
                held += ids[round(fold * len(ids) / FOLDS) : round((fold + 1) * len(ids) / FOLDS)]
            chosen[lang] = sorted(held)
    return out


def _as_sets(split: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, set[str]]]:
    return {dataset: {lang: set(ids) for lang, ids in langs.items()} for dataset, langs in split.items()}


def load(path: Path = SPLIT_FILE) -> dict[str, dict[str, set[str]]]:
    """The committed split: ``{dataset: {language: held-out article ids}}``."""
    return _as_sets(json.loads(path.read_text()))


def fold_split(fold: int, data_dirs: Sequence[Path]) -> dict[str, dict[str, set[str]]]:
    """The held-out articles of ``fold``: the committed split for fold 0, else drawn from the data."""
    return load() if fold == 0 else _as_sets(draw(data_dirs, fold))


def is_held_out(split: dict[str, dict[str, set[str]]], data_dir: Path, lang: str, article: str) -> bool:
    return article in split.get(Path(data_dir).name, {}).get(lang, ())


def held_rows(split: dict, data_dir: Path, groups: np.ndarray) -> np.ndarray:
    """bool per row: its article (``groups``: "lang:id") is held out."""
    return np.array([is_held_out(split, data_dir, *group.split(":", 1)) for group in groups])


def evaluate(
    data_dirs: Sequence[Path], embedder: Embedder, progress: Progress | None = None, fold: int = 0
) -> dict[str, dict]:
    """Scores on the held-out split (or another ``fold``) of heads fitted on the rest, with
    ``embedder``'s features: ``{task: {language: score}}`` (``all``: the languages pooled)."""
    split, out = fold_split(fold, data_dirs), {}  # type: dict, dict[str, dict]
    for data_dir in map(Path, data_dirs):
        if is_2025_data(data_dir):
            framing_data = framing.load_framing_data(data_dir, embedder, progress=progress)
            out |= _framing_scores(
                framing_data,
                held_rows(split, data_dir, framing_data.narratives.groups),
                held_rows(split, data_dir, framing_data.roles.groups),
                progress,
            )
            continue
        for task, rows in techniques.load_data(data_dir, embedder, progress=progress).items():
            held = held_rows(split, data_dir, rows.groups)
            counter = Counter(progress, f"held-out {task}", 1)
            train, test = rows.subset(~held), rows.subset(held)
            threshold = techniques.best_threshold(train, out_of_fold(train))
            head = fit_head(train, threshold)
            out[task] = techniques.cv_scores(test, decide(test.target, head.predict_proba(test.X), threshold))
            counter.advance()
        out["spans"] = _span_scores(data_dir, split, embedder, progress)
    return out


def _framing_scores(data, held_articles: np.ndarray, held_mentions: np.ndarray, progress) -> dict[str, dict]:
    def part(mask_articles, mask_mentions):
        return replace(
            data,
            narratives=data.narratives.subset(mask_articles),
            subnarratives=data.subnarratives.subset(mask_articles),
            roles=data.roles.subset(mask_mentions),
            fine_roles=data.fine_roles.subset(mask_mentions),
        )

    train, test = part(~held_articles, ~held_mentions), part(held_articles, held_mentions)
    counter = Counter(progress, "held-out narratives and roles", 2)
    rule = framing.choose_narrative_rule(train, out_of_fold(train.narratives), out_of_fold(train.subnarratives))
    heads = [fit_head(task) for task in (train.narratives, train.subnarratives)]
    P, Q = (h.predict_proba(t.X) for h, t in zip(heads, (test.narratives, test.subnarratives)))
    decisions = framing.narrative_decisions(test, P, Q, rule)
    out = {
        "narratives": per_language(test.narratives.langs, lambda mask: framing.narrative_scores(test, decisions, mask))
    }
    counter.advance()
    _, role_rule = framing.role_decisions_cv(train)
    heads = [fit_head(task) for task in (train.roles, train.fine_roles)]
    P, Q = (h.predict_proba(t.X) for h, t in zip(heads, (test.roles, test.fine_roles)))
    decisions = framing.role_decisions(test, P, Q, role_rule)
    out["entity roles"] = role_scores(train, test, decisions)
    counter.advance()
    return out


def role_scores(train: framing.FramingData, test: framing.FramingData, decisions: list) -> dict[str, dict]:
    """The official role scores of ``decisions`` on the rows of ``test``, per language, with the
    main-role accuracy of the baseline (:func:`most_frequent_roles` learnt on ``train``)."""
    baseline = most_frequent_roles(train.roles, test.roles)
    return per_language(
        test.roles.langs,
        lambda mask: (
            framing.role_scores(test, decisions, mask)
            | {"most_frequent_role_accuracy": framing.role_scores(test, baseline, mask)["main_role_accuracy"]}
        ),
    )


def most_frequent_roles(train: TaskData, test: TaskData) -> list[tuple[str, list[str]]]:
    """The baseline of main-role accuracy: each row of ``test`` given its language's most
    frequent main role in ``train`` (and no fine role)."""
    known = train.Y.argmax(axis=1)
    top = {
        lang: train.labels[int(np.bincount(known[train.langs == lang], minlength=train.Y.shape[1]).argmax())]
        for lang in set(test.langs)
    }
    return [(top[lang], []) for lang in test.langs]


def _span_scores(data_dir: Path, split: dict, embedder: Embedder, progress) -> dict[str, float]:
    """Average precision, over the techniques, of the token-state scorer's ranking of held-out
    tokens (inside a span of the technique or not), among the paragraphs that carry it: the part
    of the span tagger the encoder changes, measured without any decoder or threshold."""
    from sklearn.metrics import average_precision_score  # scikit-learn takes most of a second to import

    data = spans.load_span_data(data_dir)
    states = texts_range_states(
        embedder, [p.text for p in data.paragraphs], [p.tokens for p in data.paragraphs], progress
    )
    held = held_rows(split, data_dir, np.array([p.key for p in data.paragraphs]))
    counter = Counter(progress, "held-out spans", 1)
    V, c = spans.fit_state_scorers(data, states, ~held)
    out = {}
    langs = np.array([p.lang for p in data.paragraphs])
    for lang in [*sorted(set(langs)), "all"]:
        chosen = held & (langs == lang) if lang != "all" else held
        precisions = []
        for t, technique in enumerate(TECHNIQUE_NAMES):
            carriers = [k for k in np.flatnonzero(chosen) if technique in data.paragraph_gold[k]]
            rows = spans.token_rows(data, carriers)
            y = data.token_labels[technique][rows]
            if 0 < y.sum() < len(y):
                precisions.append(average_precision_score(y, states[rows].astype(np.float32) @ V[:, t] + c[t]))
        out[iso_language(lang) if lang != "all" else "all"] = round(float(np.mean(precisions)), 4)
    counter.advance()
    return out


def main(argv: Sequence[str]) -> None:
    split = draw([Path(a) for a in argv])
    SPLIT_FILE.write_text(json.dumps(split, indent=1, sort_keys=True) + "\n")
    for dataset, langs in split.items():
        print(dataset, {lang: len(ids) for lang, ids in langs.items()})


if __name__ == "__main__":
    main(sys.argv[1:])
