"""Tests of spinscope.semeval.metrics on small cases worked out by hand."""

import re

import numpy as np
import pytest
from sklearn.metrics import f1_score

from spinscope.semeval.metrics import (
    Scores,
    frames_micro_f1,
    genre_macro_f1,
    micro_f1_from_counts,
    per_label_scores,
    sample_f1,
    span_scores,
    span_scores_from_sums,
    span_sums,
    techniques_micro_f1,
)

approx = pytest.approx


def assert_scores(scores: Scores, precision: float, recall: float, f1: float, support: int) -> None:
    assert scores.precision == approx(precision)
    assert scores.recall == approx(recall)
    assert scores.f1 == approx(f1)
    assert scores.support == support


# --------------------------------------------------------------------------- helpers


def test_micro_f1_from_counts_hand_case():
    # P = 2/(2+1) = 2/3, R = 2/(2+2) = 1/2, F1 = 2*(2/3)*(1/2)/(2/3+1/2) = (2/3)/(7/6) = 4/7
    assert_scores(micro_f1_from_counts(2, 1, 2), 2 / 3, 1 / 2, 4 / 7, 4)  # support = tp+fn = 4


def test_micro_f1_from_counts_zero_safe():
    assert_scores(micro_f1_from_counts(0, 0, 0), 0.0, 0.0, 0.0, 0)  # every denominator is 0
    assert_scores(micro_f1_from_counts(0, 3, 0), 0.0, 0.0, 0.0, 0)  # P = 0/3, R = 0/0 -> 0


def test_scores_as_dict():
    assert Scores(0.5, 0.25, 1 / 3, 4).as_dict() == {
        "precision": 0.5,
        "recall": 0.25,
        "f1": 1 / 3,
        "support": 4,
    }


# --------------------------------------------------------------------------- subtask 1


def test_genre_perfect():
    gold = {"a": "opinion", "b": "reporting", "c": "satire"}
    assert genre_macro_f1(gold, dict(gold)) == approx(1.0)  # F1 = 1 for each of the 3 labels


def test_genre_all_wrong():
    gold = {"a": "opinion", "b": "reporting", "c": "satire"}
    pred = {"a": "reporting", "b": "satire", "c": "opinion"}
    assert genre_macro_f1(gold, pred) == approx(0.0)  # tp = 0 for every label


def test_genre_partial_and_missing_prediction():
    gold = {"a": "opinion", "b": "opinion", "c": "reporting", "d": "satire"}
    pred = {"a": "opinion", "b": "reporting", "c": "reporting", "zzz": "satire"}  # d missing, zzz ignored
    # opinion:   tp=1 (a), fp=0, fn=1 (b)   -> P=1,   R=1/2 -> F1 = 2/3
    # reporting: tp=1 (c), fp=1 (b), fn=0   -> P=1/2, R=1   -> F1 = 2/3
    # satire:    tp=0, fp=0 (zzz ignored), fn=1 (d)         -> F1 = 0
    # macro = (2/3 + 2/3 + 0) / 3 = 4/9
    assert genre_macro_f1(gold, pred) == approx(4 / 9)


def test_genre_label_absent_from_gold_and_pred_scores_zero():
    gold = {"a": "opinion", "b": "reporting"}
    # opinion F1 = 1, reporting F1 = 1, satire has no gold and no prediction -> 0; (1+1+0)/3 = 2/3
    assert genre_macro_f1(gold, dict(gold)) == approx(2 / 3)
    assert genre_macro_f1(gold, dict(gold), labels=("opinion", "reporting")) == approx(1.0)  # (1+1)/2


def test_genre_matches_sklearn_on_random_sample():
    rng = np.random.default_rng(0)
    labels = ("opinion", "reporting", "satire")
    for trial in range(20):
        n = int(rng.integers(1, 40))
        gold = {f"art{i}": str(rng.choice(labels)) for i in range(n)}
        pred = {k: str(rng.choice(labels)) for k in gold if rng.random() > 0.2}  # ~20% missing
        articles = list(gold)
        y_true = [gold[a] for a in articles]
        y_pred = [pred.get(a, "<none>") for a in articles]  # a missing prediction is never right
        expected = f1_score(y_true, y_pred, average="macro", labels=list(labels), zero_division=0)
        assert genre_macro_f1(gold, pred, labels) == approx(expected), trial


# --------------------------------------------------------------------------- subtasks 2 and 3


def test_frames_perfect():
    gold = {"a": {"Economic", "Political"}, "b": {"Morality"}}
    # tp = 3 pairs, fp = fn = 0 -> P = R = F1 = 1, support 3
    assert_scores(frames_micro_f1(gold, {k: set(v) for k, v in gold.items()}), 1, 1, 1, 3)


def test_frames_all_wrong():
    gold = {"a": {"Economic"}, "b": {"Morality"}}
    pred = {"a": {"Morality"}, "b": {"Economic"}}
    # tp = 0, fp = 2, fn = 2 -> P = R = F1 = 0, support 2
    assert_scores(frames_micro_f1(gold, pred), 0, 0, 0, 2)


def test_frames_partial_with_missing_article():
    gold = {"a": {"Economic", "Political"}, "b": {"Morality"}, "c": {"Security"}}
    pred = {"a": {"Economic", "Legality"}, "b": {"Morality"}}  # c missing -> predicts nothing
    # tp = 2 (a/Economic, b/Morality); fp = 1 (a/Legality); fn = 2 (a/Political, c/Security)
    # P = 2/3, R = 2/4 = 1/2, F1 = 2*(2/3)*(1/2)/(7/6) = 4/7, support = 4
    assert_scores(frames_micro_f1(gold, pred), 2 / 3, 1 / 2, 4 / 7, 4)


def test_frames_prediction_for_article_without_gold_is_false_positive():
    gold = {"a": {"Economic"}}
    pred = {"a": {"Economic"}, "b": {"Morality"}}
    # tp = 1, fp = 1 (b has no gold frames), fn = 0 -> P = 1/2, R = 1, F1 = 2*(1/2)*1/(3/2) = 2/3
    assert_scores(frames_micro_f1(gold, pred), 1 / 2, 1, 2 / 3, 1)


def test_frames_no_predictions_at_all():
    assert_scores(frames_micro_f1({"a": {"Economic"}}, {}), 0, 0, 0, 1)  # tp=0, fn=1


def test_techniques_partial():
    gold = {("a", 1): {"Loaded_Language", "Doubt"}, ("a", 2): set(), ("b", 1): {"Slogans"}}
    pred = {("a", 1): {"Loaded_Language"}, ("a", 2): {"Doubt"}, ("b", 1): {"Slogans"}}
    # tp = 2 (a1/Loaded_Language, b1/Slogans); fp = 1 (a2/Doubt); fn = 1 (a1/Doubt)
    # P = 2/3, R = 2/3, F1 = 2/3, support = 3
    assert_scores(techniques_micro_f1(gold, pred), 2 / 3, 2 / 3, 2 / 3, 3)


def test_techniques_same_label_on_another_line_gets_no_credit():
    gold = {("a", 1): {"Doubt"}, ("a", 2): set()}
    pred = {("a", 2): {"Doubt"}}
    # (a,1,Doubt) is missed (fn=1) and (a,2,Doubt) is wrong (fp=1): tp = 0 -> all zero
    assert_scores(techniques_micro_f1(gold, pred), 0, 0, 0, 1)


def test_per_label_scores():
    gold = {"a": {"X", "Y"}, "b": {"X"}, "c": {"Y"}}
    pred = {"a": {"X"}, "b": {"X", "Y"}, "c": set()}
    scores = per_label_scores(gold, pred, ["X", "Y", "Z"])
    assert list(scores) == ["X", "Y", "Z"]
    # X: tp = 2 (a, b), fp = 0, fn = 0 -> 1, 1, 1, support 2
    assert_scores(scores["X"], 1, 1, 1, 2)
    # Y: tp = 0, fp = 1 (b), fn = 2 (a, c) -> 0, 0, 0, support 2
    assert_scores(scores["Y"], 0, 0, 0, 2)
    # Z: no gold, no prediction -> zero-safe 0, support 0
    assert_scores(scores["Z"], 0, 0, 0, 0)


# --------------------------------------------------------------------------- samples F1


def test_sample_f1_hand_case():
    gold = {"a": {"N1", "N2"}, "b": {"N3"}, "c": set(), "d": {"N4"}}
    pred = {"a": {"N1"}, "b": {"N1"}, "c": set(), "zzz": {"N1"}}  # d missing, zzz ignored
    # a: 2*1/(2+1) = 2/3; b: 2*0/(1+1) = 0; c: both empty -> 1; d: 2*0/(1+0) = 0
    # mean = (2/3 + 0 + 1 + 0) / 4 = (5/3)/4 = 5/12
    assert sample_f1(gold, pred) == approx(5 / 12)


def test_sample_f1_perfect_and_empty_gold():
    gold = {"a": {"N1"}, "b": set()}
    assert sample_f1(gold, {"a": {"N1"}}) == approx(1.0)  # a: 2*1/2 = 1; b: both empty -> 1
    assert sample_f1({}, {"a": {"N1"}}) == 0.0  # no gold articles to average over


# --------------------------------------------------------------------------- spans


def test_spans_perfect():
    spans = [("a", "Loaded_Language", 0, 10), ("a", "Doubt", 20, 30), ("b", "Doubt", 3, 7)]
    # each span overlaps its twin fully: P = (1+1+1)/3 = 1, R = 1, F1 = 1, support 3
    assert_scores(span_scores(spans, list(spans)), 1, 1, 1, 3)


def test_spans_partial_overlap():
    gold = [("a", "Loaded_Language", 0, 10)]
    pred = [("a", "Loaded_Language", 5, 15)]
    # |s ∩ t| = |[5,10)| = 5; P = 5/|s| = 5/10, R = 5/|t| = 5/10, F1 = 1/2
    assert_scores(span_scores(gold, pred), 0.5, 0.5, 0.5, 1)


def test_spans_partial_overlap_several_spans():
    gold = [("a", "Doubt", 0, 4), ("a", "Doubt", 10, 20)]
    pred = [("a", "Doubt", 2, 12)]
    # overlaps: with [0,4) -> 2 chars, with [10,20) -> 2 chars
    # P = (2/10 + 2/10) / 1 = 0.4
    # R = (2/4 + 2/10) / 2 = 0.7 / 2 = 0.35
    # F1 = 2*0.4*0.35 / 0.75 = 0.28/0.75 = 28/75
    assert_scores(span_scores(gold, pred), 0.4, 0.35, 28 / 75, 2)


def test_spans_technique_mismatch_gets_no_credit():
    gold = [("a", "Loaded_Language", 0, 10)]
    pred = [("a", "Doubt", 0, 10)]
    assert_scores(span_scores(gold, pred), 0, 0, 0, 1)  # same characters, other technique


def test_spans_other_article_gets_no_credit():
    gold = [("a", "Doubt", 0, 10)]
    pred = [("b", "Doubt", 0, 10)]
    assert_scores(span_scores(gold, pred), 0, 0, 0, 1)  # same technique and offsets, other article


def test_spans_overlapping_predictions_do_not_exceed_one():
    gold = [("a", "Doubt", 0, 10)]
    pred = [("a", "Doubt", 0, 10)] * 3 + [("a", "Doubt", 2, 8)]
    # without merging: R = (10+10+10+6)/10 = 3.6. Merged, pred is one span [0,10): P = R = F1 = 1
    assert_scores(span_scores(gold, pred), 1, 1, 1, 1)


def test_spans_overlapping_gold_is_merged():
    gold = [("a", "Doubt", 0, 6), ("a", "Doubt", 4, 10)]  # merged into [0,10): support 1
    pred = [("a", "Doubt", 0, 5)]
    # P = 5/5 = 1, R = 5/10 = 1/2, F1 = 2*1*(1/2)/(3/2) = 2/3
    assert_scores(span_scores(gold, pred), 1, 0.5, 2 / 3, 1)


def test_spans_touching_predictions_stay_separate():
    gold = [("a", "Doubt", 0, 10)]
    pred = [("a", "Doubt", 0, 5), ("a", "Doubt", 5, 10)]
    # P = (5/5 + 5/5)/2 = 1, R = (5/10 + 5/10)/1 = 1, F1 = 1
    assert_scores(span_scores(gold, pred), 1, 1, 1, 1)


def test_spans_no_predictions_and_no_gold():
    gold = [("a", "Doubt", 0, 10)]
    assert_scores(span_scores(gold, []), 0, 0, 0, 1)  # P = 0 (no predictions), R = 0/1
    assert_scores(span_scores([], gold), 0, 0, 0, 0)  # R = 0 (no gold), P = 0/1
    assert_scores(span_scores([], []), 0, 0, 0, 0)


def test_span_sums_add_up_over_techniques():
    gold = [("a", "Doubt", 0, 10), ("a", "Slogans", 20, 30), ("b", "Doubt", 5, 15), ("b", "Slogans", 0, 4)]
    pred = [("a", "Doubt", 5, 20), ("a", "Slogans", 0, 25), ("b", "Doubt", 0, 8), ("b", "Doubt", 30, 40)]
    per_technique = [
        span_sums([g for g in gold if g[1] == t], [p for p in pred if p[1] == t]) for t in ("Doubt", "Slogans")
    ]
    whole = span_scores(gold, pred)
    added = span_scores_from_sums(sum(per_technique))
    assert_scores(added, whole.precision, whole.recall, whole.f1, whole.support)
    assert whole.precision == approx((5 / 15 + 5 / 25 + 3 / 8 + 0) / 4)
    assert whole.recall == approx((5 / 10 + 5 / 10 + 3 / 10 + 0) / 4)


@pytest.mark.parametrize("bad", [("a", "Doubt", 5, 5), ("a", "Doubt", 9, 3)])
@pytest.mark.parametrize("side", ["gold", "pred"])
def test_spans_empty_or_reversed_raise(bad, side):
    ok = [("a", "Doubt", 0, 10)]
    gold, pred = (ok + [bad], ok) if side == "gold" else (ok, ok + [bad])
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        span_scores(gold, pred)
