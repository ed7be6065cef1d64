"""Official metrics of SemEval-2023 Task 3 (and the span metric of SemEval-2020 Task 11).

Pure-Python reimplementations, so that scoring needs no external scorer script:

* subtask 1 (news genre): :func:`genre_macro_f1`, macro-averaged F1 over the genre labels;
* subtask 2 (framing): :func:`frames_micro_f1`, micro P/R/F1 over (article, frame) pairs;
* subtask 3 (persuasion techniques per paragraph/line): :func:`techniques_micro_f1`,
  micro P/R/F1 over (article, line, technique) triples;
* SemEval-2020 Task 11 span identification: :func:`span_scores`, partial-overlap P/R/F1;
* reporting helpers: :func:`per_label_scores` and :func:`sample_f1` (samples-averaged F1 of
  SemEval-2025 Task 10 narratives).

Every score is zero-safe: a ratio whose denominator is 0 is 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TypeVar

import numpy as np

from .formats import SpanRow

__all__ = [
    "Scores",
    "micro_f1_from_counts",
    "genre_macro_f1",
    "frames_micro_f1",
    "techniques_micro_f1",
    "span_scores",
    "span_sums",
    "span_scores_from_sums",
    "per_label_scores",
    "sample_f1",
    "chrf",
]

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 (floats in [0, 1]) and support (number of gold items)."""

    precision: float
    recall: float
    f1: float
    support: int

    def as_dict(self) -> dict:
        """Return ``{"precision": ..., "recall": ..., "f1": ..., "support": ...}``."""
        return asdict(self)


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or 0.0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def _harmonic_mean(precision: float, recall: float) -> float:
    """F1 from precision and recall; 0.0 when both are 0."""
    return _ratio(2 * precision * recall, precision + recall)


def micro_f1_from_counts(tp: int, fp: int, fn: int) -> Scores:
    """Scores from true-positive, false-positive and false-negative counts.

    ``support`` is the number of gold items, ``tp + fn``. Zero-safe.
    """
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return Scores(precision, recall, _harmonic_mean(precision, recall), tp + fn)


# --------------------------------------------------------------------------- set-based metrics


def _score_sets(gold: set, pred: set) -> Scores:
    """Micro scores of a predicted item set against a gold item set."""
    return micro_f1_from_counts(len(gold & pred), len(pred - gold), len(gold - pred))


def _pairs(labels_by_key: Mapping[K, Collection[str]]) -> set[tuple[K, str]]:
    """Flatten ``{key: labels}`` into the set of ``(key, label)`` pairs (duplicates collapse)."""
    return {(key, label) for key, labels in labels_by_key.items() for label in labels}


def _multilabel_micro(gold: Mapping[K, Collection[str]], pred: Mapping[K, Collection[str]]) -> Scores:
    """Micro P/R/F1 over all ``(key, label)`` pairs.

    A key missing from ``pred`` predicts nothing (its gold pairs are false negatives); a key
    of ``pred`` missing from ``gold`` has no gold labels (its predicted pairs are false
    positives), so omitting empty lines/articles from ``gold`` does not hide false positives.
    """
    return _score_sets(_pairs(gold), _pairs(pred))


def genre_macro_f1(
    gold: Mapping[str, str],
    pred: Mapping[str, str],
    labels: Sequence[str] = ("opinion", "reporting", "satire"),
) -> float:
    """Subtask 1: macro-averaged F1 of single-label genre predictions.

    ``gold`` and ``pred`` map article id -> genre. Articles of ``gold`` missing from ``pred``
    count as wrong (predicted nothing); keys of ``pred`` not in ``gold`` are ignored. The F1 of
    each label in ``labels`` is averaged; a label with neither gold nor predicted articles
    scores 0, like ``sklearn.metrics.f1_score(average="macro", labels=labels, zero_division=0)``.
    Returns 0.0 for an empty ``labels``.
    """
    pairs = [(genre, pred.get(article)) for article, genre in gold.items()]

    def label_f1(label: str) -> float:
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        return micro_f1_from_counts(tp, fp, fn).f1

    return _ratio(sum(label_f1(label) for label in labels), len(labels))


def frames_micro_f1(gold: Mapping[str, Collection[str]], pred: Mapping[str, Collection[str]]) -> Scores:
    """Subtask 2: micro P/R/F1 over (article, frame) pairs.

    ``gold`` and ``pred`` map article id -> frames; a missing prediction is the empty set.
    ``support`` is the number of gold (article, frame) pairs.
    """
    return _multilabel_micro(gold, pred)


def techniques_micro_f1(
    gold: Mapping[tuple[str, int], Collection[str]],
    pred: Mapping[tuple[str, int], Collection[str]],
) -> Scores:
    """Subtask 3: micro P/R/F1 over (article id, line number, technique) triples.

    ``gold`` and ``pred`` map ``(article_id, line_number)`` -> techniques; a missing
    prediction is the empty set. ``support`` is the number of gold triples.
    """
    return _multilabel_micro(gold, pred)


def per_label_scores(
    gold: Mapping[K, Collection[str]],
    pred: Mapping[K, Collection[str]],
    labels: Sequence[str],
) -> dict[str, Scores]:
    """Per-label P/R/F1 of a multi-label task (frames or techniques), for reports.

    Keys are article ids or ``(article_id, line)`` tuples; same conventions as
    :func:`frames_micro_f1`. Returns ``{label: Scores}`` in the order of ``labels``;
    ``support`` is the number of gold keys carrying the label.
    """
    gold_pairs, pred_pairs = _pairs(gold), _pairs(pred)

    def only(pairs: set, label: str) -> set:
        return {pair for pair in pairs if pair[1] == label}

    return {label: _score_sets(only(gold_pairs, label), only(pred_pairs, label)) for label in labels}


def sample_f1(gold: Mapping[str, Collection[str]], pred: Mapping[str, Collection[str]]) -> float:
    """Samples-averaged F1 (SemEval-2025 Task 10 narratives).

    The F1 of each gold article's label set against its predicted set (missing = empty),
    averaged over the articles of ``gold``; an article whose gold and predicted sets are both
    empty scores 1. Keys of ``pred`` not in ``gold`` are ignored; an empty ``gold`` gives 0.0.
    """

    def article_f1(gold_labels: set, pred_labels: set) -> float:
        if not gold_labels and not pred_labels:
            return 1.0
        return 2 * len(gold_labels & pred_labels) / (len(gold_labels) + len(pred_labels))

    scores = [article_f1(set(labels), set(pred.get(article, ()))) for article, labels in gold.items()]
    return _ratio(sum(scores), len(scores))


def entity_role_scores(
    gold: Mapping[K, tuple[str, Collection[str]]], pred: Mapping[K, tuple[str, Collection[str]]]
) -> dict[str, float]:
    """SemEval-2025 Task 10 entity framing over the gold mentions (keys: id, start, end).

    ``main_role_accuracy``: share of gold mentions whose predicted main role is right;
    ``exact_match_ratio``: share whose predicted set of fine roles equals the gold set.
    A gold mention with no prediction counts as wrong for both.
    """
    main = exact = 0
    for key, (role, fine) in gold.items():
        guess = pred.get(key)
        if guess is not None:
            main += guess[0] == role
            exact += set(guess[1]) == set(fine)
    return {
        "main_role_accuracy": _ratio(main, len(gold)),
        "exact_match_ratio": _ratio(exact, len(gold)),
        "mentions": len(gold),
    }


# --------------------------------------------------------------------------- span metric


def _merged_spans(spans: Iterable[SpanRow]) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """Group spans by (article, technique) and merge overlapping ones within each group.

    Spans that merely touch (``end == next start``) are kept apart: they share no character.
    Raises ``ValueError`` for an empty or reversed span (``end <= start``).
    """
    grouped: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for span in spans:
        article, technique, start, end = span
        if end <= start:
            raise ValueError(f"empty or reversed span (end <= start): {span!r}")
        grouped[(article, technique)].append((start, end))

    merged: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for key, intervals in grouped.items():
        out: list[tuple[int, int]] = []
        for start, end in sorted(intervals):
            if out and start < out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[key] = out
    return merged


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Number of characters shared by two half-open intervals."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def span_scores(gold: Iterable[SpanRow], pred: Iterable[SpanRow]) -> Scores:
    """SemEval-2020 Task 11 partial-overlap span metric.

    Spans are ``(article_id, technique, start, end)`` with ``end`` exclusive. Only spans of the
    same article and the same technique are compared, with ``C(s, t, h) = |s ∩ t| / h``:

    * precision = (1/|S|) * sum over predicted s, gold t of C(s, t, |s|)
    * recall    = (1/|T|) * sum over gold t, predicted s of C(s, t, |t|)
    * F1 = harmonic mean of the two.

    Overlapping spans of the same (article, technique) are merged first, in BOTH gold and
    predictions (the official scorer merges the gold ones); this keeps precision and recall
    within [0, 1] even when a system emits overlapping spans. |S|, |T| and ``support`` count
    the spans after merging. Precision is 0 without predictions, recall 0 without gold.
    Raises ``ValueError`` naming the span when a span is empty or reversed (``end <= start``).
    """
    return span_scores_from_sums(span_sums(gold, pred))


def span_sums(gold: Iterable[SpanRow], pred: Iterable[SpanRow]) -> np.ndarray:
    """``[precision sum, recall sum, |S|, |T|]`` of :func:`span_scores`.

    The sums add up over disjoint sets of (article, technique) pairs, so the score of a whole
    set of spans can be updated one technique at a time (see :func:`span_scores_from_sums`).
    """
    gold_spans, pred_spans = _merged_spans(gold), _merged_spans(pred)
    precision_sum = recall_sum = 0.0
    for key, predicted in pred_spans.items():
        for s in predicted:
            for t in gold_spans.get(key, ()):
                shared = _overlap(s, t)
                precision_sum += shared / (s[1] - s[0])
                recall_sum += shared / (t[1] - t[0])
    n_pred = sum(map(len, pred_spans.values()))
    n_gold = sum(map(len, gold_spans.values()))
    return np.array([precision_sum, recall_sum, n_pred, n_gold])


def span_scores_from_sums(sums: np.ndarray) -> Scores:
    """:func:`span_scores` from (added-up) :func:`span_sums`."""
    precision_sum, recall_sum, n_pred, n_gold = sums
    precision, recall = _ratio(precision_sum, n_pred), _ratio(recall_sum, n_gold)
    return Scores(precision, recall, _harmonic_mean(precision, recall), int(n_gold))


def chrf(references: Mapping[str, str], hypotheses: Mapping[str, str]) -> float:
    """Corpus chrF (sacrebleu's defaults: character 6-grams, beta 2) of ``hypotheses`` against
    ``references``, over the articles of ``references`` (a missing hypothesis is empty); 0 to 100.
    SemEval-2025 subtask 3 is scored with BERTScore, which needs a model download: chrF is the
    download-free measure spinscope reports."""
    from sacrebleu.metrics import CHRF  # only scoring needs it: kept out of every analysis's start-up

    keys = list(references)
    if not keys:
        return 0.0
    score = CHRF().corpus_score([hypotheses.get(k, "") for k in keys], [[references[k] for k in keys]])
    return round(float(score.score), 2)


def chrf_statistics(references: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
    """chrF's match counts of each hypothesis against its reference ``(n, 3 * 6 orders)``: sums
    of rows give the statistics of any set of articles (see :func:`chrf_from_statistics`), so
    cross-validation scores many candidates without reading them again."""
    from sacrebleu.metrics import CHRF

    if not len(hypotheses):
        return np.zeros((0, 18), dtype=np.int64)
    stats = CHRF()._extract_corpus_statistics(list(hypotheses), [list(references)])
    return np.asarray(stats, dtype=np.int64)


def chrf_from_statistics(statistics: np.ndarray) -> float:
    """Corpus chrF (0 to 100) from summed :func:`chrf_statistics` rows."""
    from sacrebleu.metrics import CHRF

    return round(float(CHRF()._compute_f_score(list(np.asarray(statistics).sum(axis=0)))), 2)
