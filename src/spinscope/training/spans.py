"""Train the technique span tagger: per-technique token scorers and their decoders, 5-fold CV by article.

The CV scores are those of the whole chain on unseen articles: the paragraph labels come from
the techniques model's out-of-fold predictions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import sparse

from .. import __version__
from ..models.heads import sigmoid
from ..models.spans import N_FEATURES, POOLED, SpanModel, decode, hashed_features, mix_logits, tokens
from ..semeval import metrics
from ..semeval.formats import SpanRow
from ..semeval.layout import iso_language
from ..semeval.reader import read_training
from ..tasks import TASKS
from ..taxonomy import TECHNIQUE_NAMES
from .estimators import FOLDS, SEED, folds, labelled_slice

SPANS = TASKS["spans"]


def featurise(text: str, toks: list[tuple[int, int]]) -> sparse.csr_matrix:
    """Sparse ``(len(toks), N_FEATURES)`` matrix of a paragraph's tokens: the count of each
    hashed feature, as :class:`SpanModel` reads them."""
    columns, starts = hashed_features(text, toks)
    X = sparse.csr_matrix((np.ones(len(columns)), columns, starts), shape=(len(toks), N_FEATURES))
    X.sum_duplicates()
    return X


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

    paragraphs: list[SpanParagraph]
    X: sparse.csr_matrix
    bounds: np.ndarray
    token_labels: dict[str, np.ndarray]  # technique -> (n_tokens,) 0/1
    paragraph_gold: list[set[str]]
    gold: list[SpanRow]


def load_span_data(
    data_dir: Path, languages: Sequence[str] | None = None, max_articles: int | None = None, skip: int = 0
) -> SpanData:
    """Every paragraph of the span-annotated articles (SemEval-2023 subtask 3) of ``languages``;
    ``skip``/``max_articles`` take a fixed slice of each language's articles in id order (for tests)."""
    paragraphs, matrices, gold, paragraph_gold = [], [], [], []
    labels: dict[str, list[np.ndarray]] = {t: [] for t in TECHNIQUE_NAMES}
    for record in labelled_slice(read_training(data_dir, languages), SPANS.name, skip, max_articles):
        article = record.require_copy(SPANS.subtask)
        gold += [(record.group, technique, start, end) for technique, start, end in record.labels[SPANS.name]]
        for p in article.paragraphs:
            toks = tokens(p.text)
            if not toks:
                continue
            inside = record.paragraph_spans(p)
            paragraphs.append(SpanParagraph(record.lang, record.group, record.id, p.line, p.start, p.text, toks))
            paragraph_gold.append({t for t, _, _ in inside})
            matrices.append(featurise(p.text, toks))
            for t in TECHNIQUE_NAMES:
                labels[t].append(
                    np.array([any(tt == t and a < e and b > s for tt, s, e in inside) for a, b in toks], dtype=np.int8)
                )
    bounds = np.concatenate([[0], np.cumsum([m.shape[0] for m in matrices])])
    return SpanData(
        paragraphs,
        sparse.vstack(matrices).tocsr(),
        bounds,
        {t: np.concatenate(v) for t, v in labels.items()},
        paragraph_gold,
        gold,
    )


SPAN_C = 0.5
#: The bias of a technique without training tokens: every token scores sigmoid(-5) = .007.
UNTRAINED_LOGIT = -5.0


def fit_token_scorers(data: SpanData, paragraph_mask: np.ndarray, C: float = SPAN_C):
    """One logistic regression per technique on the hashed features of the tokens of masked
    paragraphs that carry it: ``(W (N_FEATURES, n_techniques), b)``.

    The techniques are fitted in threads, one per core (liblinear releases the GIL); each fit
    is deterministic, so the result does not depend on the number of cores.
    """
    return _fit_per_technique(
        data, data.X, paragraph_mask, {"C": C, "solver": "liblinear", "max_iter": 200}, os.cpu_count() or 1
    )


#: Chosen by CV (docs/models.md): C = 0.1 and 1 score the same.
STATE_C = 0.1


def fit_state_scorers(data: SpanData, states: np.ndarray, paragraph_mask: np.ndarray, C: float = STATE_C):
    """One logistic regression per technique on the encoder states of the tokens of masked
    paragraphs that carry it: ``(W (384, n_techniques), b)``. One technique at a time: lbfgs
    runs on numpy's BLAS, which takes the cores itself."""
    return _fit_per_technique(data, states, paragraph_mask, {"C": C, "max_iter": 1000}, 1)


def _fit_per_technique(data: SpanData, X, paragraph_mask: np.ndarray, options: dict, threads: int):
    """Per technique, a ``LogisticRegression(**options)`` on the rows of ``X`` (one per token)
    of the masked paragraphs labelled with it; a technique without both classes keeps
    weights 0 and :data:`UNTRAINED_LOGIT`."""
    from sklearn.linear_model import LogisticRegression  # scikit-learn takes most of a second to import

    W = np.zeros((X.shape[1], len(TECHNIQUE_NAMES)), dtype=np.float32)
    b = np.full(len(TECHNIQUE_NAMES), UNTRAINED_LOGIT, dtype=np.float32)

    def fit_one(t: int) -> None:
        technique = TECHNIQUE_NAMES[t]
        rows = token_rows(data, [k for k in np.flatnonzero(paragraph_mask) if technique in data.paragraph_gold[k]])
        y = data.token_labels[technique][rows]
        if len(rows) == 0 or y.min() == y.max():
            return
        model = LogisticRegression(**options).fit(X[rows] if sparse.issparse(X) else X[rows].astype(np.float32), y)
        W[:, t], b[t] = model.coef_[0], model.intercept_[0]

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fit_one, range(len(TECHNIQUE_NAMES))))
    return W, b


def token_rows(data: SpanData, paragraphs) -> np.ndarray:
    if not len(paragraphs):
        return np.zeros(0, dtype=int)
    return np.concatenate([np.arange(data.bounds[k], data.bounds[k + 1]) for k in paragraphs])


def decode_spans(
    data: SpanData,
    scores: np.ndarray,
    predicted: list[list[str]],
    decoders: dict[str, tuple[str, float]],
    techniques: Sequence[str] = TECHNIQUE_NAMES,
    paragraphs: Iterable[int] | None = None,
) -> list[SpanRow]:
    """Spans of each paragraph's predicted ``techniques``, from token ``scores`` ``(n_tokens, 23)``;
    only in ``paragraphs`` (indices) when given."""
    out: list[SpanRow] = []
    for k in range(len(data.paragraphs)) if paragraphs is None else paragraphs:
        par = data.paragraphs[k]
        for technique in predicted[k]:
            if technique not in techniques:
                continue
            p = scores[data.bounds[k] : data.bounds[k + 1], TECHNIQUE_NAMES.index(technique)]
            mode, threshold = decoders[technique]
            out.extend(
                (par.key, technique, par.offset + par.tokens[i][0], par.offset + par.tokens[j - 1][1])
                for i, j in decode(par.text, par.tokens, p, mode, threshold)
            )
    return out


WHOLE_PARAGRAPH = ("hull", 0.0)
DECODER_GRID = [WHOLE_PARAGRAPH] + [
    (mode, t) for mode in ("hull", "runs", "sentences") for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
]


def for_languages(data: SpanData, predicted: list[list[str]], langs: Collection[str]):
    """``predicted`` with the labels of paragraphs in other languages removed, and the gold spans of ``langs``."""
    only = [labels if p.lang in langs else [] for p, labels in zip(data.paragraphs, predicted)]
    return only, [g for g in data.gold if g[0].split(":", 1)[0] in langs]


def choose_decoders(
    data: SpanData,
    scores: np.ndarray,
    predicted: list[list[str]],
    passes: int = 1,
    langs: Collection[str] | None = None,
) -> dict[str, tuple[str, float]]:
    """Per-technique decoder maximising the span F1 of ``langs`` pooled (default: all languages),
    by coordinate ascent from whole paragraphs.

    The metric is micro-averaged over techniques, so each choice is judged on the total score,
    not on its own technique's F1. Its sums add up over techniques, so a trial re-scores only
    the technique being changed.
    """
    if langs is not None:
        predicted, gold = for_languages(data, predicted, langs)
    else:
        gold = data.gold
    gold_of = {t: [g for g in gold if g[1] == t] for t in TECHNIQUE_NAMES}
    labelled = {t: [k for k, labels in enumerate(predicted) if t in labels] for t in TECHNIQUE_NAMES}

    def sums(technique: str, decoder: tuple[str, float]) -> np.ndarray:
        spans = decode_spans(data, scores, predicted, {technique: decoder}, [technique], labelled[technique])
        return metrics.span_sums(gold_of[technique], spans)

    decoders = dict.fromkeys(TECHNIQUE_NAMES, WHOLE_PARAGRAPH)
    current = {t: sums(t, WHOLE_PARAGRAPH) for t in TECHNIQUE_NAMES}
    order = sorted(TECHNIQUE_NAMES, key=lambda t: -len(gold_of[t]))
    for _ in range(passes):
        for technique in order:
            others = sum(v for t, v in current.items() if t != technique)
            best = (metrics.span_scores_from_sums(others + current[technique]).f1, decoders[technique])
            for candidate in DECODER_GRID:
                trial = sums(technique, candidate)
                f1 = metrics.span_scores_from_sums(others + trial).f1
                if f1 > best[0] + 1e-4:
                    best = (f1, candidate)
                    current[technique] = trial
            decoders[technique] = best[1]
    return decoders


#: Weights of the state scorer's logits against the lexical one's, tried per language.
MIX_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class TokenLogits:
    """Held-out logits of both token scorers, ``(n_tokens, n_techniques)`` each."""

    lexical: np.ndarray
    state: np.ndarray

    def scores(self, mix: float) -> np.ndarray:
        return sigmoid(mix_logits(self.lexical, self.state, mix))


def held_out_logits(
    data: SpanData, states: np.ndarray, groups: np.ndarray, progress: Callable[[], None] | None = None
) -> TokenLogits:
    """The logits of every token from scorers fitted on the paragraphs of the other ``groups``
    (a number per paragraph: CV folds, or languages for leave-one-language-out)."""
    logits = TokenLogits(*(np.zeros((data.X.shape[0], len(TECHNIQUE_NAMES)), dtype=np.float32) for _ in range(2)))
    for group in np.unique(groups):
        W, b = fit_token_scorers(data, groups != group)
        V, c = fit_state_scorers(data, states, groups != group)
        rows = token_rows(data, np.flatnonzero(groups == group))
        logits.lexical[rows] = data.X[rows] @ W + b
        logits.state[rows] = states[rows].astype(np.float32) @ V + c
        if progress:
            progress()
    return logits


@dataclass
class Setting:
    """A mix of the two scorers with its decoders, and the span F1 it reached where it was chosen."""

    mix: float
    decoders: dict[str, tuple[str, float]]
    f1: float


def span_sums(
    data: SpanData, scores: np.ndarray, predicted: list[list[str]], decoders: dict, langs: Collection[str]
) -> np.ndarray:
    """The additive sums of the span F1 of ``langs`` (see :func:`metrics.span_sums`)."""
    only, gold = for_languages(data, predicted, langs)
    return metrics.span_sums(gold, decode_spans(data, scores, only, decoders))


def span_f1(
    data: SpanData, scores: np.ndarray, predicted: list[list[str]], decoders: dict, langs: Collection[str]
) -> float:
    return metrics.span_scores_from_sums(span_sums(data, scores, predicted, decoders, langs)).f1


def choose_settings(
    data: SpanData,
    logits: TokenLogits,
    predicted: list[list[str]],
    langs: Collection[str],
    mixes: Sequence[float] = MIX_GRID,
) -> dict[float, Setting]:
    """For each mix, the decoders that maximise the span F1 of ``langs`` pooled, and that F1."""
    out = {}
    for mix in mixes:
        scores = logits.scores(mix)
        decoders = choose_decoders(data, scores, predicted, langs=langs)
        out[mix] = Setting(mix, decoders, span_f1(data, scores, predicted, decoders, langs))
    return out


def best(settings: dict[float, Setting]) -> Setting:
    """The setting of highest F1; ties go to the larger mix (the scorer that transfers)."""
    return max(settings.values(), key=lambda s: (round(s.f1, 4), s.mix))


def train_spans(
    data: SpanData,
    states: np.ndarray,
    paragraph_decisions: dict,
    command: str,
    progress: Callable[[], None] | None = None,
):
    """Cross-validate both token scorers, choose each language's mix and decoders, measure
    leave-one-language-out transfer, fit on everything.

    ``states`` are the encoder states of the tokens (rows of ``data.X``). ``paragraph_decisions``
    are the techniques model's out-of-fold labels ``{(lang, (id, line)): labels}``, so the CV
    scores are those of the whole chain on unseen articles, and the whole-paragraph baseline
    is scored on the same paragraph labels. Settings are chosen on the held-out scores they
    are reported on (a few discrete choices per language, so the CV is slightly optimistic);
    the leave-one-language-out figures choose them on the other languages only.
    """
    predicted = [paragraph_decisions.get((p.lang, (p.article, p.line)), []) for p in data.paragraphs]
    langs = sorted({p.lang for p in data.paragraphs})
    lang_of = np.array([langs.index(p.lang) for p in data.paragraphs])
    cv = held_out_logits(data, states, folds(np.array([p.key for p in data.paragraphs])), progress)
    # Leave one language out (with two languages or more): scorers fitted on the others.
    lolo = held_out_logits(data, states, lang_of, progress) if len(langs) > 1 else None
    settings, table = _settings_and_scores(data, cv, lolo, predicted, langs)
    W, b = fit_token_scorers(data, np.ones(len(data.paragraphs), dtype=bool))
    V, c = fit_state_scorers(data, states, np.ones(len(data.paragraphs), dtype=bool))
    if progress:
        progress()
    decoders = {lang: {t: list(d) for t, d in setting.decoders.items()} for lang, setting in settings.items()}
    return SpanModel(
        W,
        b,
        decoders,
        list(TECHNIQUE_NAMES),
        _span_meta(table, command),
        V,
        c,
        {lang: setting.mix for lang, setting in settings.items()},
    )


def _settings_and_scores(
    data: SpanData, cv: TokenLogits, lolo: TokenLogits | None, predicted: list[list[str]], langs: list[str]
) -> tuple[dict[str, Setting], dict[str, dict[str, float]]]:
    """Each language's setting (chosen on the CV logits), the pooled one for languages without
    training data, and the table of held-out span F1 by estimate and language."""
    baseline = Setting(0.0, dict.fromkeys(TECHNIQUE_NAMES, WHOLE_PARAGRAPH), 0.0)
    sums: dict[str, dict[str, np.ndarray]] = {}  # by name of estimate, then language

    def add(name: str, lang: str, logits: TokenLogits, setting: Setting) -> None:
        scores = logits.scores(setting.mix)
        sums.setdefault(name, {})[iso_language(lang)] = span_sums(data, scores, predicted, setting.decoders, [lang])

    # One setting per training language (span lengths differ: Russian spans cover a quarter of
    # their paragraph, English ones a sixth) ...
    settings = {}
    for lang in langs:
        tried = choose_settings(data, cv, predicted, [lang])
        settings[iso_language(lang)] = chosen = best(tried)
        # "previous": the lexical scorer alone, as the tagger was before it read token states.
        for name, setting in (
            ("cv", chosen),
            ("cv_previous", tried[0.0]),
            ("cv_states", tried[1.0]),
            ("cv_whole_paragraph", baseline),
        ):
            add(name, lang, cv, setting)
        if lolo is not None:
            # ... and the leave-one-language-out score of a setting chosen on the other languages.
            on_others = choose_settings(data, lolo, predicted, [other for other in langs if other != lang])
            for name, setting in (
                ("lolo", best(on_others)),
                ("lolo_previous", on_others[0.0]),
                ("lolo_states", on_others[1.0]),
                ("lolo_whole_paragraph", baseline),
            ):
                add(name, lang, lolo, setting)
    # Languages without training data get the setting that transfers best across languages.
    settings[POOLED] = best(choose_settings(data, lolo if lolo is not None else cv, predicted, langs))
    table = {}
    for name, by_lang in sums.items():
        by_lang["all"] = reduce(np.add, by_lang.values())
        table[name] = {lang: round(metrics.span_scores_from_sums(v).f1, 4) for lang, v in by_lang.items()}
    return settings, table


def _span_meta(scores: dict[str, dict[str, float]], command: str) -> dict:
    """The span tagger's metadata: what it is, its held-out ``scores``, how they were measured."""
    return {
        "version": __version__,
        "task": SPANS.name,
        "estimator": f"per-technique token logistic regressions on the encoder's token states (C={STATE_C}) "
        f"and on hashed lexical features (C={SPAN_C}), logits mixed per language",
        "previous": "the lexical token scorer alone, decoders chosen the same way",
        **scores,
        "cv_protocol": f"{FOLDS}-fold GroupKFold by article, seed {SEED}; lolo: trained on the other "
        "languages, mix and decoders chosen on them; paragraph labels from the techniques "
        "model's out-of-fold predictions; span F1 with partial overlap",
        "command": command,
    }
