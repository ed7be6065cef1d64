"""Model storage and decoding: numpy heads equal their scikit-learn source; no pickle anywhere."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from spinscope.document import Article
from spinscope.models import Head
from spinscope.taxonomy import TECHNIQUE_NAMES
from spinscope.models.spans import N_FEATURES, SpanModel, decode, sentences, token_features, tokens
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
    model = SpanModel(W, np.full(len(TECHNIQUE_NAMES), -3.0, np.float32),
                      {"*": {t: ["runs", 0.5] for t in TECHNIQUE_NAMES}, "xx": {t: ["hull", 0.0] for t in TECHNIQUE_NAMES}})
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


def test_hashing_equals_scikit_learns_feature_hasher(semeval_dir):
    """The span model was trained on FeatureHasher columns: ours must be the same, on real text."""
    from sklearn.feature_extraction import FeatureHasher

    hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)
    for path in sorted((semeval_dir / "ru" / "train-articles-subtask-3").glob("*.txt"))[:5] + \
            sorted((semeval_dir / "ge" / "train-articles-subtask-3").glob("*.txt"))[:5]:
        for paragraph in Article(path.read_text(encoding="utf-8")).paragraphs:
            toks = tokens(paragraph.text)
            if toks:
                expected = hasher.transform(token_features(paragraph.text, toks))
                assert (featurise(paragraph.text, toks) != expected).nnz == 0
