"""Model storage and decoding: numpy heads equal their scikit-learn source; no pickle anywhere."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from spinscope.document import Article
from spinscope.encoder import TokenStates
from spinscope.models import Head
from spinscope.models.spans import N_FEATURES, SpanModel, decode, sentences, token_features, tokens
from spinscope.models.states import range_states
from spinscope.taxonomy import TECHNIQUE_NAMES
from spinscope.training.spans import featurise


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def test_multiclass_head_matches_sklearn_and_survives_save_load(xy, tmp_path):
    X, y = xy
    lr = LogisticRegression(max_iter=500).fit(X, y)
    head = Head.from_sklearn(lr, ["a", "b", "c"], "multiclass", np.zeros(6), np.ones(6), np.ones(3))
    np.testing.assert_allclose(head.predict_proba(X), lr.predict_proba(X), atol=1e-4)
    head.save(tmp_path, "m")
    again = Head.load(tmp_path, "m")
    np.testing.assert_allclose(again.predict_proba(X), lr.predict_proba(X), atol=5e-3)  # float16 storage
    assert [r[0] for r in again.predict(X)] == [["a", "b", "c"][i] for i in lr.predict(X)]
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:  # loads without pickle
        assert all(z[k].dtype == np.float16 for k in z.files)


def test_multilabel_mlp_head_matches_sklearn(xy):
    X, y = xy
    Y = np.stack([y == 1, y == 2, X[:, 3] > 0], axis=1).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, Y)
    head = Head.from_sklearn(mlp, ["x", "y", "z"], "multilabel", np.zeros(6), np.ones(6), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(head.predict_proba(X), mlp.predict_proba(X), atol=1e-4)
    assert head.decide(np.array([[0.6, 0.4, 0.5]])) == [["x", "z"]]


def test_standardisation_is_part_of_the_model(xy):
    X, y = xy
    mean, scale = X.mean(0), X.std(0)
    lr = LogisticRegression(max_iter=500).fit((X - mean) / scale, y)
    head = Head.from_sklearn(lr, ["a", "b", "c"], "multiclass", mean, scale, np.ones(3))
    np.testing.assert_allclose(head.predict_proba(X), lr.predict_proba((X - mean) / scale), atol=1e-4)


# --- span decoding ------------------------------------------------------------------------

TEXT = "These corrupt cowards lied. Voters know it! Shame on them."


def test_tokens_are_words_and_punctuation_with_offsets():
    toks = tokens(TEXT)
    assert [TEXT[a:b] for a, b in toks][:5] == ["These", "corrupt", "cowards", "lied", "."]
    assert sentences(TEXT, toks) == [(0, 5), (5, 9), (9, 13)]


def test_decode_modes():
    toks = tokens(TEXT)
    p = np.zeros(len(toks))
    p[[1, 2, 9]] = 0.9
    assert decode(TEXT, toks, p, "hull", 0.0) == [(0, len(toks))]  # threshold 0: whole paragraph
    assert decode(TEXT, toks, p, "hull", 0.5) == [(1, 10)]
    assert decode(TEXT, toks, p, "runs", 0.5) == [(1, 3), (9, 10)]
    assert decode(TEXT, toks, p, "sentences", 0.3) == [(0, 5)]  # mean 0.36 in sentence one only
    assert decode(TEXT, toks, np.full(len(toks), 0.1), "runs", 0.5) == [(0, 1)]  # fallback: best token


def test_span_model_round_trip_and_agreement(tmp_path):
    W = np.zeros((N_FEATURES, len(TECHNIQUE_NAMES)), dtype=np.float32)
    toks = tokens(TEXT)
    X = featurise(TEXT, toks)
    t = TECHNIQUE_NAMES.index("Name_Calling-Labeling")
    W[X[2].indices, t] = 1.0  # features of "cowards"
    model = SpanModel(
        W,
        np.full(len(TECHNIQUE_NAMES), -3.0, np.float32),
        {"*": {t: ["runs", 0.5] for t in TECHNIQUE_NAMES}, "xx": {t: ["hull", 0.0] for t in TECHNIQUE_NAMES}},
    )
    model.save(tmp_path)
    again = SpanModel.load(tmp_path)
    # the paragraph starts at offset 2 of its article: span offsets index the article's text
    article = Article(f"T\n{TEXT}\n", language="en")
    paragraph = article.paragraphs[1]
    spans = again.paragraph_spans(article, paragraph, [("Name_Calling-Labeling", 0.8), ("Loaded_Language", 0.6)])
    assert {s.label for s in spans} == {"Name_Calling-Labeling", "Loaded_Language"}  # every label gets a span
    assert "cowards" in [s.text for s in spans if s.label == "Name_Calling-Labeling"]
    assert all(paragraph.start <= s.start < s.end <= paragraph.end for s in spans)
    # a language with its own decoders uses them: "xx" marks whole paragraphs
    whole = again.paragraph_spans(article.with_language("xx"), paragraph, [("Name_Calling-Labeling", 0.8)])
    assert [(s.start, s.end, s.text) for s in whole] == [(2, 2 + len(TEXT), TEXT)]


def encoded(text: str, dim: int = 4) -> TokenStates:
    """Token states of ``text`` as the encoder lays them out: <s>, a prefix token, one token per
    3 characters (the last ones empty, as a trailing space gives), </s>; token i's state is all i."""
    pieces = [(a, min(a + 3, len(text))) for a in range(0, len(text), 3)] + [(len(text), len(text))]
    offsets = np.array([(-1, -1), (-1, -1), *pieces, (-1, -1)], dtype=np.int32)
    states = np.repeat(np.arange(len(offsets), dtype=np.float32)[:, None], dim, axis=1)
    return TokenStates(np.zeros(len(offsets), np.int32), offsets, states)


def test_range_states_average_the_tokens_a_range_overlaps():
    text = "abcdefghij"  # tokens 2: abc, 3: def, 4: ghi, 5: j, 6: empty
    states = encoded(text)
    got = range_states(states, [(0, 3), (2, 4), (4, 5), (9, 10), (0, 10), (20, 25)])
    assert got[:, 0].tolist() == [2.0, 2.5, 3.0, 5.0, 3.5, 3.5]  # past the text: the mean token
    assert range_states(states, []).shape == (0, 4)
    nothing = TokenStates(np.zeros(2, np.int32), np.full((2, 2), -1, np.int32), np.ones((2, 4), np.float32))
    assert not range_states(nothing, [(0, 1)]).any()


def test_span_model_mixes_state_and_lexical_scorers_by_language(tmp_path):
    toks = tokens(TEXT)
    W = np.zeros((N_FEATURES, len(TECHNIQUE_NAMES)), dtype=np.float32)
    t = TECHNIQUE_NAMES.index("Doubt")
    W[featurise(TEXT, toks)[2].indices, t] = 1.0  # lexical: "cowards"
    state_W = np.zeros((4, len(TECHNIQUE_NAMES)), dtype=np.float32)
    state_W[0, t] = 1.0  # states: the token's index, so the last words score highest
    model = SpanModel(
        W,
        np.full(len(TECHNIQUE_NAMES), -3.0, np.float32),
        {"*": {name: ["runs", 0.5] for name in TECHNIQUE_NAMES}},
        state_W=state_W,
        state_b=np.full(len(TECHNIQUE_NAMES), -12.0, np.float32),
        mix={"*": 1.0, "en": 0.0},
    )
    model.save(tmp_path)
    again = SpanModel.load(tmp_path)
    assert again.mix == model.mix and np.array_equal(again.state_W, state_W)
    article = Article(f"T\n{TEXT}\n", language="de")
    paragraph = article.paragraphs[1]
    assert again.reads_states("de") and not again.reads_states("en")
    by_states = again.paragraph_spans(article, paragraph, [("Doubt", 0.9)], encoded(TEXT))
    # Words from character 30 on score at least .5 (token 12 on): one run to the paragraph's end.
    assert [(s.start, s.end) for s in by_states] == [(paragraph.start + 28, paragraph.end)]
    by_words = again.paragraph_spans(article.with_language("en"), paragraph, [("Doubt", 0.9)])
    assert [s.text for s in by_words] == ["cowards"]
    # A model saved before the state scorer existed reads words only.
    old = SpanModel(W, model.b, model.decoders)
    old.save(tmp_path, "old")
    assert not SpanModel.load(tmp_path, "old").reads_states("de")


def test_hashing_equals_scikit_learns_feature_hasher(semeval_dir):
    """The span model was trained on FeatureHasher columns: ours must be the same, on real text."""
    from sklearn.feature_extraction import FeatureHasher

    hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)
    for path in (
        sorted((semeval_dir / "ru" / "train-articles-subtask-3").glob("*.txt"))[:5]
        + sorted((semeval_dir / "ge" / "train-articles-subtask-3").glob("*.txt"))[:5]
    ):
        for paragraph in Article(path.read_text(encoding="utf-8")).paragraphs:
            toks = tokens(paragraph.text)
            if toks:
                expected = hasher.transform(token_features(paragraph.text, toks))
                assert (featurise(paragraph.text, toks) != expected).nnz == 0
