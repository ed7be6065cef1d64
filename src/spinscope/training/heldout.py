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
from ..semeval import formats
from ..semeval.layout import Split, iso_language, is_2025_data, training_languages
from ..taxonomy import TECHNIQUE_NAMES
from . import framing, spans, techniques
from .estimators import fit, out_of_fold, texts_range_states

SPLIT_FILE = Path(__file__).with_name("heldout.json")
FRACTION = 0.2
SEED = 2023


def _strata_2023(split: Split) -> dict[str, str]:
    """Each labelled article of a SemEval-2023 language: its genre ("" without one)."""
    genres = formats.read_genre_labels(split.labels_file(1)) if split.labels_file(1).is_file() else {}
    ids = set(genres)
    for subtask, reader in ((2, formats.read_frame_labels), (3, formats.read_technique_labels)):
        if split.labels_file(subtask).is_file():
            labels = reader(split.labels_file(subtask))
            ids |= {key[0] if isinstance(key, tuple) else key for key in labels}
    return {aid: genres.get(aid, "") for aid in ids}


def _strata_2025(split: Split) -> dict[str, str]:
    """Each labelled document of a SemEval-2025 language: its first coarse narrative."""
    narratives = formats.read_narrative_labels(split.labels_file(2))
    return {aid: (sorted(coarse) or [""])[0] for aid, (coarse, _) in narratives.items()}


def draw(data_dirs: Sequence[Path]) -> dict[str, dict[str, list[str]]]:
    """``{dataset folder name: {language folder: sorted held-out article ids}}``."""
    out: dict[str, dict[str, list[str]]] = {}
    for data_dir in map(Path, data_dirs):
        strata_of = _strata_2025 if is_2025_data(data_dir) else _strata_2023
        chosen = out.setdefault(data_dir.name, {})
        for lang in training_languages(data_dir):
            strata: dict[str, list[str]] = {}
            for aid, stratum in strata_of(Split(data_dir, lang, "train")).items():
                strata.setdefault(stratum, []).append(aid)
            rng = random.Random(f"{SEED}:{data_dir.name}:{lang}")
            held = []
            for stratum in sorted(strata):
                ids = sorted(strata[stratum])
                rng.shuffle(ids)
                held += ids[:round(FRACTION * len(ids))]
            chosen[lang] = sorted(held)
    return out


def load(path: Path = SPLIT_FILE) -> dict[str, dict[str, set[str]]]:
    """The committed split: ``{dataset: {language: held-out article ids}}``."""
    return {dataset: {lang: set(ids) for lang, ids in langs.items()}
            for dataset, langs in json.loads(path.read_text()).items()}


def is_held_out(split: dict[str, dict[str, set[str]]], data_dir: Path, lang: str, article: str) -> bool:
    return article in split.get(Path(data_dir).name, {}).get(lang, ())


def _held_rows(split: dict, data_dir: Path, groups: np.ndarray) -> np.ndarray:
    """bool per row: its article (``groups``: "lang:id") is held out."""
    return np.array([is_held_out(split, data_dir, *group.split(":", 1)) for group in groups])


def evaluate(data_dirs: Sequence[Path], embedder: Embedder, progress: Progress | None = None) -> dict[str, dict]:
    """Scores on the held-out split of heads fitted on the rest, with ``embedder``'s features:
    ``{task: {language: score}}`` (``all``: the languages pooled)."""
    split, out = load(), {}
    for data_dir in map(Path, data_dirs):
        if is_2025_data(data_dir):
            data = framing.load_framing_data(data_dir, embedder, progress=progress)
            out |= _framing_scores(data, _held_rows(split, data_dir, data.narratives.groups),
                                   _held_rows(split, data_dir, data.roles.groups), progress)
            continue
        data = techniques.load_data(data_dir, embedder, progress=progress)
        for task in ("genre", "frames", "techniques"):
            held = _held_rows(split, data_dir, data[task].groups)
            counter = Counter(progress, f"held-out {task}", 1)
            train, test = data[task].subset(~held), data[task].subset(held)
            P = out_of_fold(train, techniques.RECIPES[task])
            threshold = techniques.best_threshold(train, P)
            head = fit(train, techniques.RECIPES[task], threshold)
            out[task] = techniques.per_language(test, techniques.decide(task, test.labels,
                                                                        head.predict_proba(test.X), threshold))
            counter.advance()
        out["spans"] = _span_scores(data_dir, split, embedder, progress)
    return out


def _framing_scores(data, held_articles: np.ndarray, held_mentions: np.ndarray, progress) -> dict[str, dict]:
    def part(mask_articles, mask_mentions):
        return replace(data, narratives=data.narratives.subset(mask_articles),
                       subnarratives=data.subnarratives.subset(mask_articles),
                       roles=data.roles.subset(mask_mentions), fine_roles=data.fine_roles.subset(mask_mentions))

    train, test = part(~held_articles, ~held_mentions), part(held_articles, held_mentions)
    counter = Counter(progress, "held-out narratives and roles", 2)
    P = out_of_fold(train.narratives, framing.RECIPES["narratives"])
    Q = out_of_fold(train.subnarratives, framing.RECIPES["subnarratives"])
    rule = framing.choose_narrative_rule(train, P, Q)
    heads = [fit(task, framing.RECIPES[task.task]) for task in (train.narratives, train.subnarratives)]
    decisions = framing.narrative_decisions(test, *(h.predict_proba(t.X) for h, t in
                                                    zip(heads, (test.narratives, test.subnarratives))), rule)
    out = {"narratives": framing.per_language_scores(test.narratives,
                                                     lambda mask: framing.narrative_scores(test, decisions, mask))}
    counter.advance()
    _, rule = framing.role_decisions_cv(train)
    heads = [fit(task, framing.RECIPES[task.task]) for task in (train.roles, train.fine_roles)]
    decisions = framing.role_decisions(test, *(h.predict_proba(t.X) for h, t in
                                               zip(heads, (test.roles, test.fine_roles))), rule)
    out["entity roles"] = framing.per_language_scores(test.roles, lambda mask: framing.role_scores(test, decisions, mask))
    counter.advance()
    return out


def _span_scores(data_dir: Path, split: dict, embedder: Embedder, progress) -> dict[str, float]:
    """Average precision, over the techniques, of the token-state scorer's ranking of held-out
    tokens (inside a span of the technique or not), among the paragraphs that carry it: the part
    of the span tagger the encoder changes, measured without any decoder or threshold."""
    from sklearn.metrics import average_precision_score  # scikit-learn takes most of a second to import

    data = spans.load_span_data(data_dir)
    states = texts_range_states(embedder, [p.text for p in data.paragraphs],
                                [p.tokens for p in data.paragraphs], progress)
    held = _held_rows(split, data_dir, np.array([p.key for p in data.paragraphs]))
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
