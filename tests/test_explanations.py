"""Explanations (SemEval-2025 Task 10 subtask 3): the file formats, chrF, the extractive
explainer, its cross-validated training, and predict -> evaluate on a small invented folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DOCUMENTS, write_semeval2025
from spinscope.document import Article
from spinscope.errors import DataError
from spinscope.models.evidence import sentences
from spinscope.models.explain import MAX_WORDS, Explainer, first_words
from spinscope.semeval import formats, metrics
from spinscope.shells.cli import app
from spinscope.training.explanations import GRID, ExplanationData, cross_validate, learn_openers

runner = CliRunner()

#: Invented references, one per document of conftest.DOCUMENTS.
REFERENCES = [
    "The article claims that Kyiv only obeys Washington and that refugees pay the price.",
    "The article says Green Dawn frightens schoolchildren and spreads panic about the planet.",
    "The article reports record cargo at the port of Lindholm.",
]


def _subtask3(folder, rows) -> None:
    (folder / "en" / "train-labels-subtask-3.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _labelled_rows() -> list[str]:
    rows = []
    for i, (_, _, (coarse, fine), _) in enumerate(DOCUMENTS):
        if coarse != "Other":
            rows.append(f"EN_{i:03d}.txt\t{coarse}\t{fine}\t{REFERENCES[i % 3]}")
    return rows


def test_explanation_labels_are_read_checked_and_written_back(write_file, tmp_path):
    path = write_file(
        "labels.txt",
        "A.txt\tCC: Criticism of climate movement\tnone\tThe text\tmocks activists.\n"
        "B.txt\tURW: Discrediting Ukraine\tURW: Discrediting Ukraine: Ukraine is a puppet of the West\tWhy.\n",
    )
    rows = formats.read_explanation_labels(path)
    assert [(r.article, r.subnarrative) for r in rows] == [
        ("A.txt", None),
        ("B.txt", "URW: Discrediting Ukraine: Ukraine is a puppet of the West"),
    ]
    assert rows[0].explanation == "The text"  # the fourth column only
    assert [r.explanation for r in formats.read_explanation_labels(path, explanations=False)] == ["", ""]
    bad = write_file("bad.txt", "A.txt\tURW: Discrediting Ukraine\tCC: Criticism of climate movement: Other\tx\n")
    with pytest.raises(DataError, match=r"bad.txt:1: sub-narrative .* is not one of"):
        formats.read_explanation_labels(bad)
    twice = write_file("twice.txt", "A.txt\tCC: Criticism of climate movement\tnone\tx\n" * 2)
    with pytest.raises(DataError, match="twice.txt:2: article A.txt is listed twice"):
        formats.read_explanation_labels(twice)
    out = tmp_path / "out.txt"
    formats.write_explanations(out, [("A.txt", "one\ttab and\na break"), ("B.txt", "")])
    assert formats.read_explanations(out) == {"A.txt": "one tab and a break", "B.txt": ""}


def test_chrf_and_its_statistics_agree():
    refs = {"a": "The article blames the West for the war.", "b": "Activists are mocked."}
    assert metrics.chrf(refs, refs) == 100.0
    assert metrics.chrf(refs, {}) == 0.0
    hyps = {"a": "the West is blamed for this war", "b": "activists mocked"}
    stats = metrics.chrf_statistics(list(refs.values()), list(hyps.values()))
    assert metrics.chrf_from_statistics(stats) == metrics.chrf(refs, hyps)
    assert 0 < metrics.chrf(refs, hyps) < 100


def test_the_explainer_keeps_the_best_sentences_within_80_words():
    long = " ".join(["word"] * 70)
    article = Article(f"Title\n\nA calm opening line here. {long} ends. The key claim is made here.\n", language="en")
    found = sentences(article)
    scores = np.array([0.0, 0.1, 0.5, 0.9])
    explainer = Explainer(sentences=2, openers={"en": "The article"}, label_languages=["en"])
    chosen = explainer.choose(found, scores)
    assert chosen == [2, 3]  # the two best, in the article's order
    text = explainer.compose(
        article.text, found, chosen, "en", "CC: Criticism of climate movement: Climate movement is alarmist"
    )
    assert text.startswith("The article Climate movement is alarmist: word word")
    assert len(text.split()) == MAX_WORDS
    assert Explainer(sentences=2, in_text_order=False).choose(found, scores) == [3, 2]
    assert Explainer(sentences=1).compose(article.text, found, [3], "fr", "x") == "The key claim is made here."
    assert first_words(article, 3) == "Title A calm"


def test_openers_are_the_most_common_first_words_per_language():
    refs = ["The article says a", "The article claims b", "Le texte dit", "The text"]
    assert learn_openers(refs, ["en", "en", "fr", "en"], 2) == {"en": "The article", "fr": "Le texte"}
    assert learn_openers(refs, ["en"] * 4, 0) == {}


def test_nested_cross_validation_scores_held_out_articles_only():
    noise = " ".join(f"Filler{j} words about nothing in particular." for j in range(6))
    articles = [
        Article(f"Title {i}\n\nAlpha beta gamma {i}. {noise} The harbour story {i} ends.\n", language="en")
        for i in range(10)
    ]
    labels = [
        formats.ExplanationLabel(f"{i}.txt", "CC: Criticism of climate movement", None, f"The harbour story {i}")
        for i in range(10)
    ]
    found = [sentences(a) for a in articles]
    p = np.array([0.0] + [0.1] * (len(found[0]) - 2) + [0.9])
    data = ExplanationData(labels, ["en"] * 10, articles, found, [p] * 10, [None] * 10)
    scores, chosen = cross_validate(data)
    assert set(scores) == {"en"} and scores["en"]["articles"] == 10
    # The harbour sentence comes first in the explanations, and is not in the first 80 words.
    assert scores["en"]["chrf"] > scores["en"]["baseline_chrf"]
    assert set(chosen) == {0, 1, 2, 3, 4} and all(set(c["by_language"]) == {"en"} for c in chosen.values())


@pytest.fixture(scope="module")
def explained_dir(tmp_path_factory):
    folder = write_semeval2025(tmp_path_factory.mktemp("semeval2025"))
    _subtask3(folder, _labelled_rows())
    return folder


def test_train_writes_a_cross_validated_explainer(explained_dir, tmp_path):
    result = runner.invoke(app, ["train", str(explained_dir), "--tasks", "explanations", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "explanations.json").read_text())["meta"]
    assert set(meta["cv"]) == {"en"} and {"chrf", "baseline_chrf"} <= set(meta["cv"]["en"])
    assert meta["settings"]["en"]["max_words"] in GRID["max_words"] and "nested" in meta["cv_protocol"]


def test_predict_writes_an_explanation_per_given_article_and_evaluate_scores_it(explained_dir, tmp_path):
    out = tmp_path / "explanations.txt"
    common = ["--lang", "en", "--split", "train"]
    result = runner.invoke(
        app, ["predict", str(explained_dir), *common, "--task", "explanations", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = formats.read_explanations(out)
    given = [row.split("\t")[0] for row in _labelled_rows()]
    assert list(written) == given
    for aid, text in written.items():
        document = (explained_dir / "en" / "train-documents" / aid).read_text(encoding="utf-8")
        assert 0 < len(text.split()) <= MAX_WORDS
        # In English the opener and the narrative's name come first, up to a colon; the rest
        # is the article's own words.
        row = next(r for r in _labelled_rows() if r.startswith(aid))
        label = row.split("\t")[2].split(": ")[-1]
        body = text.split(f"{label}:", 1)[1] if f"{label}:" in text else text
        assert body.split() and all(word in document for word in body.split())
    result = runner.invoke(app, ["evaluate", str(explained_dir), *common, "--task", "explanations", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["scores"]["explanations"]
    assert scores["articles"] == len(given) and 0 < scores["chrf"] <= 100 and 0 < scores["baseline_chrf"] <= 100


def test_a_missing_subtask3_file_is_a_clear_error(tmp_path):
    folder = write_semeval2025(tmp_path / "data")
    out = tmp_path / "x.txt"
    result = runner.invoke(
        app,
        ["predict", str(folder), "--lang", "en", "--split", "train", "--task", "explanations", "--output", str(out)],
    )
    assert result.exit_code == 2 and "train-labels-subtask-3.txt" in result.output
