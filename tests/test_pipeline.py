"""The shipped models: they load, agree with themselves, and get obvious articles right."""

from __future__ import annotations

import json
import shutil

import pytest

from spinscope import Analysis, Article, taxonomy
from spinscope.errors import ConfigError, InputError, ModelError
from spinscope.models.embeddings import Embedder, EmbeddingCache
from spinscope.pipeline import MODEL_DIR, PIPE_NAMES, Analyzer

#: Articles written for these tests, each with an obvious answer.
RANT = Article.from_parts(
    "Treacherous elites are destroying our great nation",
    [
        "These corrupt, lying cowards in parliament have betrayed every honest family in this country.",
        "They are nothing but puppets of foreign billionaires, traitors who spit on our flag and our values.",
        "Wake up! If we do not throw these criminals out now, our children will be slaves in their own land.",
        "Only a fool would still believe a single word coming out of their filthy, deceitful mouths.",
    ],
    language="en",
)
RATES = Article.from_parts(
    "Central bank raises interest rates by a quarter point",
    [
        "FRANKFURT, March 14 - The central bank raised its main interest rate by 0.25 percentage points on "
        "Thursday, to 4.5%, the bank said in a statement.",
        "The decision was expected by most economists polled by news agencies, who said inflation had stayed "
        "above the 2% target for a third quarter while wage growth slowed.",
        '"Inflation remains too high," the bank\'s president told reporters at a news conference after the '
        "meeting, adding that further increases had not been decided.",
        "Mortgage lenders said monthly repayments on a typical variable-rate loan would rise by about 30 euros.",
        "Shares of the largest banks rose slightly after the announcement, and the currency was little changed.",
    ],
    language="en",
)
DAM = Article.from_parts(
    "Minister Karlsson hides the truth about the Nordland dam",
    [
        "Minister Erik Karlsson has lied to the people of Nordland for years about the cracks in the dam.",
        "Engineers warned Karlsson in 2019, yet the ministry paid Vantor Energy to keep the reports secret.",
        "Families in Nordland now live below a wall of water that could break at any moment.",
        "Vantor Energy says the dam is safe. Nordland has heard that before.",
    ],
    language="en",
)
TROOPS = Article.from_parts(
    "Army moves tanks and air defence units to the northern border",
    [
        "The defence ministry said on Monday it had moved two armoured brigades and several air defence "
        "batteries to the northern border after missile strikes on border villages.",
        "Military officials said the troops would stay until the threat of further attacks had passed.",
        "The general staff said soldiers had shot down four drones overnight.",
    ],
    language="en",
)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def test_shipped_models_are_small_and_pickle_free():
    files = sorted(MODEL_DIR.iterdir())
    assert {"genre.json", "frames.json", "techniques.json", "spans.json"} <= {f.name for f in files}
    assert sum(f.stat().st_size for f in files) < 50 * 1024 * 1024
    assert not [f for f in files if f.suffix in (".pkl", ".pickle", ".joblib")]


def test_models_record_how_they_were_made(analyzer):
    for name in ("genre", "frames", "techniques"):
        head = analyzer.get_pipe(name).head
        assert head.meta["command"].startswith("spinscope train")
        assert set(head.meta["cv"]) >= {"en", "fr", "de", "it", "pl", "ru", "all"}
    assert set(analyzer.get_pipe("spans").model.meta["cv"]) >= {"en", "all"}
    assert list(analyzer.model_info) == [
        "genre",
        "frames",
        "techniques",
        "spans",
        "narratives",
        "subnarratives",
        "roles",
        "fine_roles",
        "explanations",
    ]
    explainer = analyzer.get_pipe("explanations").explainer.meta
    assert explainer["command"].startswith("spinscope train") and set(explainer["cv"]) == {"bg", "en", "hi", "pt", "ru"}


def test_pipeline_components_can_be_disabled_and_pipe_batches():
    assert Analyzer().pipe_names == list(PIPE_NAMES)
    lean = Analyzer(disable=["spans", "narratives", "entities", "explanations"])
    assert lean.pipe_names == ["genre", "frames", "techniques"]
    analysis = lean.analyze(RANT)
    assert analysis.genre and analysis.paragraphs and not analysis.spans and not analysis.entities
    assert set(analysis.models) == {"genre", "frames", "techniques"}
    with pytest.raises(ConfigError, match="no spans component"):
        lean.get_pipe("spans")
    with pytest.raises(ConfigError, match="spans component needs the techniques component"):
        Analyzer(disable=["techniques"])
    with pytest.raises(ConfigError, match="unknown pipeline component sentiment"):
        Analyzer(disable=["sentiment"])
    one_by_one = [lean.analyze(a).to_dict() for a in (RANT, RATES, TROOPS)]
    assert [a.to_dict() for a in lean.pipe([RANT, RATES, TROOPS], batch_size=2)] == one_by_one


def test_token_states_come_with_the_embeddings_in_one_pass_per_article(tmp_path, monkeypatch):
    """Each article is encoded once, embeddings and token states together, and its analysis
    does not depend on the cache or on the other articles of a batch. The only other pass is the
    entities': the paragraphs naming entities again, every name masked."""
    embedder = Embedder(EmbeddingCache(tmp_path / "cache.sqlite"))
    analyzer = Analyzer(embedder=embedder, disable=["narratives"])
    calls, masked = [], []
    for method in ("encode", "token_states"):
        original = getattr(embedder, method)

        def spy(texts, _f=original, _m=method):
            calls.append(_m)
            masked.extend(texts if _m == "token_states" else [])
            return _f(texts)

        monkeypatch.setattr(embedder, method, spy)
    rant, dam = analyzer.pipe([RANT, DAM])  # nothing cached
    assert calls.count("encode") == 2 and calls.count("token_states") <= 2
    assert rant.spans and "Nordland" in {e.name for e in dam.entities}
    named = {m.text for e in rant.entities + dam.entities for m in e.mentions}
    assert masked and named and not any(name in text for text in masked for name in named)
    first = list(calls)
    assert analyzer.analyze(DAM).to_dict() == dam.to_dict()  # embeddings cached now
    assert analyzer.analyze(RANT).to_dict() == rant.to_dict()
    assert sorted(calls) == sorted(first * 2)  # the same passes again, nothing more


def test_a_missing_model_file_is_an_error_naming_it(tmp_path):
    for f in MODEL_DIR.iterdir():
        if f.name != "roles.npz":
            shutil.copy(f, tmp_path)
    with pytest.raises(ModelError, match=r"no trained model for entities .*roles\.npz"):
        Analyzer(tmp_path)
    assert "entities" not in Analyzer(tmp_path, disable=["entities"]).pipe_names
    (tmp_path / "roles.npz").write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="model roles in .* cannot be read"):
        Analyzer(tmp_path)


def test_analysis_round_trips_through_its_dict(analyzer):
    analysis = analyzer.analyze(RANT)
    data = analysis.to_dict()
    assert list(data) == [
        "text",
        "language",
        "title",
        "genre",
        "frames",
        "paragraphs",
        "spans",
        "models",
        "id",
        "frame_scores",
        "narratives",
        "entities",
        "explanation",
    ]
    again = Analysis.from_dict(json.loads(json.dumps(data)))
    assert again == analysis and again.to_dict() == data
    assert [s.text for s in again.spans] == [s.text for s in analysis.spans]
    moved = {**data, "text": "X" + data["text"]}
    if data["spans"]:
        with pytest.raises(InputError, match="belongs to another text"):
            Analysis.from_dict(moved)


def test_obvious_articles(analyzer):
    rant, rates, troops = (analyzer.analyze(a) for a in (RANT, RATES, TROOPS))
    assert rant.genre.label == "opinion"
    assert rates.genre.label == "reporting"
    rant_techniques = {t.label for p in rant.paragraphs for t in p.techniques}
    assert rant_techniques & {"Loaded_Language", "Name_Calling-Labeling"}
    assert "Economic" in {f.label for f in rates.frames}
    assert "Security_and_defense" in {f.label for f in troops.frames}
    assert sum(len(p.techniques) for p in rant.paragraphs) > sum(len(p.techniques) for p in rates.paragraphs)


def test_paragraph_labels_and_spans_agree(analyzer):
    analysis = analyzer.analyze(RANT)
    text = analysis.text
    for p in analysis.paragraphs:
        inside = [s for s in analysis.spans if p.start <= s.start and s.end <= p.end]
        assert {s.label for s in inside} == {t.label for t in p.techniques}
    for s in analysis.spans:
        assert 0 <= s.start < s.end <= len(text) and text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.label in taxonomy.TECHNIQUE_NAMES
        # boundaries fall on word boundaries
        assert s.start == 0 or not (text[s.start - 1].isalnum() and text[s.start].isalnum())
        assert s.end == len(text) or not (text[s.end - 1].isalnum() and text[s.end].isalnum())


def test_zero_shot_languages_get_real_predictions(analyzer):
    spanish = Article.from_parts(
        "Los traidores corruptos venden nuestra patria",
        [
            "Estos cobardes mentirosos han traicionado a todas las familias honradas del país.",
            "Si no los echamos ahora, nuestros hijos serán esclavos en su propia tierra.",
        ],
        language="es",
    )
    analysis = analyzer.analyze(spanish)
    # Read like the English rant: the same genre and techniques of the same kind.
    assert analysis.genre.label == "opinion"
    assert {t.label for p in analysis.paragraphs for t in p.techniques} & {"Loaded_Language", "Name_Calling-Labeling"}
