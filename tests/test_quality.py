"""Regression guard on real data: a model trained on a fixed slice of train must beat floors on
another fixed slice. The floors sit well below what the recipe reaches, so they catch breakage
(features misaligned, labels shuffled, thresholds lost), not noise. Skipped without ../shared/data.
"""

from __future__ import annotations

import numpy as np
import pytest

from spinscope.models import NarrativeRule, RoleRule, SpanModel
from spinscope.models.embeddings import Embedder, EmbeddingCache
from spinscope.training import framing as nt
from spinscope.training import spans
from spinscope.training import techniques as training
from spinscope.training.estimators import fit_head, texts_range_states

#: (task, floor) on the held-out slice; the recipe scores about .47, .52 and .45 there
#: (deterministic: fixed slices, fixed seeds).
FLOORS = {"genre": 0.38, "frames": 0.45, "techniques": 0.35}
LANGS = ["fr", "it"]
#: Span F1 above whole paragraphs the tagger must reach on the slice, in CV and leave one
#: language out (it reaches .13 and .07 there, pooled: .49 and .43 against .36).
SPAN_MARGINS = {"cv": 0.06, "lolo": 0.03}


@pytest.fixture(scope="module")
def slices(semeval_dir):
    embedder = Embedder(EmbeddingCache())
    train = training.load_data(semeval_dir, embedder, LANGS, max_articles=45)
    test = training.load_data(semeval_dir, embedder, LANGS, max_articles=20, skip=45)
    return train, test


@pytest.mark.slow
@pytest.mark.parametrize("task", list(FLOORS))
def test_trained_on_one_slice_beats_floor_on_another(slices, task):
    train, test = slices
    assert not set(train[task].groups) & set(test[task].groups)  # disjoint articles
    head, _ = training.train_task(train[task], "test")
    predicted = head.predict(test[task].X)
    score = training.official_score(test[task], predicted)
    assert score >= FLOORS[task], f"{task}: {score:.3f} < floor {FLOORS[task]}"


@pytest.mark.slow
def test_training_is_reproducible(slices):
    train, _ = slices
    a, _ = training.train_task(train["frames"], "test")
    b, _ = training.train_task(train["frames"], "test")
    assert a.meta == b.meta
    for (Wa, ba), (Wb, bb) in zip(a.layers, b.layers):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)


@pytest.mark.slow
def test_span_tagger_on_token_states_beats_whole_paragraphs(semeval_dir):
    """The span tagger trained and cross-validated on a slice, with the gold paragraph labels:
    both held-out estimates beat marking whole paragraphs."""
    data = spans.load_span_data(semeval_dir, LANGS, max_articles=30)
    states = texts_range_states(
        Embedder(EmbeddingCache()), [p.text for p in data.paragraphs], [p.tokens for p in data.paragraphs]
    )
    assert states.shape == (data.X.shape[0], 384)
    gold = {(p.lang, (p.article, p.line)): sorted(labels) for p, labels in zip(data.paragraphs, data.paragraph_gold)}
    model = spans.train_spans(data, states, gold, "test")
    meta = model.meta
    assert set(model.mix) == {"fr", "it", "*"} and model.state_W.shape == (384, len(model.labels))
    for estimate, margin in SPAN_MARGINS.items():
        floor = {lang: f1 + margin for lang, f1 in meta[f"{estimate}_whole_paragraph"].items()}
        reached = {lang: meta[estimate][lang] for lang in floor}
        assert all(reached[lang] >= floor[lang] for lang in floor), (estimate, reached, floor)


@pytest.mark.slow
def test_span_tagger_trains_on_one_language(semeval_dir, tmp_path):
    """With one language there is no leave-one-language-out: its CV setting serves every language."""
    data = spans.load_span_data(semeval_dir, ["it"], max_articles=10)
    states = texts_range_states(
        Embedder(EmbeddingCache()), [p.text for p in data.paragraphs], [p.tokens for p in data.paragraphs]
    )
    gold = {(p.lang, (p.article, p.line)): sorted(labels) for p, labels in zip(data.paragraphs, data.paragraph_gold)}
    model = spans.train_spans(data, states, gold, "test")
    assert not [key for key in model.meta if key.startswith("lolo")]
    assert set(model.mix) == {"it", "*"} and set(model.meta["cv"]) == {"it", "all"}
    model.save(tmp_path)
    assert SpanModel.load(tmp_path).mix == model.mix


# --- narratives and entity roles (SemEval-2025 Task 10) --------------------------------------

#: Measured on the held-out slice: coarse .30, main role .625, exact match .28 (the most
#: frequent label gives .19, .50 and .09 there).
FRAMING_FLOORS = {"coarse_f1": 0.24, "main_role_accuracy": 0.56, "exact_match_ratio": 0.18}


@pytest.mark.slow
def test_framing_models_trained_on_one_slice_beat_floors_on_another(semeval2025_dir):
    embedder = Embedder(EmbeddingCache())
    train = nt.load_framing_data(semeval2025_dir, embedder, ["bg", "pt"], max_articles=80)
    test = nt.load_framing_data(semeval2025_dir, embedder, ["bg", "pt"], max_articles=40, skip=80)
    assert not set(train.roles.groups) & set(test.roles.groups)
    n, s, r, f = (fit_head(task) for task in (train.narratives, train.subnarratives, train.roles, train.fine_roles))
    narratives = [
        NarrativeRule().decide(n.labels, p, s.labels, q)
        for p, q in zip(n.predict_proba(test.narratives.X), s.predict_proba(test.subnarratives.X))
    ]
    roles = [
        RoleRule().decide(r.labels, p, f.labels, q)
        for p, q in zip(r.predict_proba(test.roles.X), f.predict_proba(test.fine_roles.X))
    ]
    scores = nt.narrative_scores(test, narratives) | nt.role_scores(test, roles)
    for metric, floor in FRAMING_FLOORS.items():
        assert scores[metric] >= floor, f"{metric}: {scores[metric]:.3f} < floor {floor}"
