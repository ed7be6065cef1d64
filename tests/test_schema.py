"""One Analysis schema: ``to_dict``/``from_dict`` go through it, disabled components give valid
analyses, and what does not follow it is refused with a clear error."""

from __future__ import annotations

import json

import pytest

from spinscope.analysis import Analysis
from spinscope.document import Article
from spinscope.errors import InputError
from spinscope.pipeline import PIPE_NAMES, Analyzer
from spinscope.schema import AnalysisSchema

ARTICLE = Article.from_parts(
    "Ministers promise cheaper trains as fares rise again",
    [
        "Rail fares will rise by four percent in March, the transport ministry said on Friday.",
        "Commuter groups called the increase a scandal and warned that families would be priced out of work.",
        "The minister, Clara Holm, said the money would pay for new carriages on the busiest lines.",
    ],
    id="fares",
    language="en",
)


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer()


def test_to_dict_is_the_schema_and_reads_back_unchanged(analyzer):
    analysis = analyzer.analyze(ARTICLE)
    data = analysis.to_dict()
    assert list(data) == list(AnalysisSchema.model_fields)
    assert AnalysisSchema.model_validate(data).model_dump() == data
    again = Analysis.from_dict(json.loads(json.dumps(data)))
    assert again == analysis and again.to_dict() == data


@pytest.mark.parametrize("kept", ["genre", "frames", "techniques", "narratives", "entities", "explanations"])
def test_an_analyzer_with_one_component_gives_a_valid_analysis(analyzer, kept):
    lean = Analyzer(disable=[name for name in PIPE_NAMES if name != kept], embedder=analyzer.embedder)
    data = lean.analyze(ARTICLE).to_dict()
    AnalysisSchema.model_validate(data)
    assert (data["genre"] is None) == (kept != "genre")
    assert Analysis.from_dict(data).to_dict() == data


def test_analyses_stored_before_narratives_and_entities_still_read():
    old = {
        "text": ARTICLE.text,
        "language": "en",
        "title": None,
        "genre": None,
        "frames": [],
        "paragraphs": [],
        "spans": [],
        "models": {},
        "id": "x",
        "frame_scores": {},
    }
    analysis = Analysis.from_dict(old)
    assert analysis.narratives == [] and analysis.entities == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(genre={"label": "gossip", "scores": {}}), "genre.label"),
        (
            lambda d: d["spans"].append(
                {"technique": "Loaded_Language", "start": 0, "end": 5, "text": "Nope!", "score": 0.5}
            ),
            "belongs to another text",
        ),
        (
            lambda d: d["spans"].append(
                {"technique": "Loaded_Language", "start": 0, "end": 10**6, "text": "x", "score": 0.5}
            ),
            "does not fit",
        ),
        (lambda d: d.update(colour="red"), "colour"),
        (lambda d: d.pop("text"), "text"),
    ],
)
def test_what_does_not_follow_the_schema_is_an_input_error(change, message):
    data = Analysis(ARTICLE).to_dict()
    change(data)
    with pytest.raises(InputError, match=message):
        Analysis.from_dict(data)
