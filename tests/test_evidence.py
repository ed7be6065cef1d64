"""Evidence: sentences cut with exact offsets, the evidence of narratives and entities in the
Analysis (JSON, store rows, reports), and older analyses without it still reading."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from spinscope.analysis import Analysis, Evidence, Explanation, Narrative, Subnarrative
from spinscope.corpus.report import report_html
from spinscope.corpus.report_data import corpus_data
from spinscope.corpus.store import ArticleRecord, Store
from spinscope.document import Article
from spinscope.errors import InputError
from spinscope.models.evidence import leading, mention_sentences, ranked, sentence_rows, sentences
from spinscope.pipeline import Analyzer
from spinscope.shells.render import to_html, to_text
from spinscope.tasks import TASKS

#: Written for these tests: a title, CRLF line ends, a byte-order mark, an abbreviation, Hindi.
TEXT = (
    "\ufeffHarbour talks stall\r\n"
    "\r\n"
    "Dr. Lenz said the port would close.  Workers were not told!\r\n"
    "Is this the end? “Nobody knows,” a clerk said.\r\n"
    "बंदरगाह बंद होगा। मज़दूर चिंतित हैं।\r\n"
)


def test_sentences_hold_their_words_at_their_offsets():
    article = Article(TEXT)
    found = sentences(article)
    words = [article.text[s.start : s.end] for s in found]
    assert words == [
        "\ufeffHarbour talks stall",
        "Dr. Lenz said the port would close.",
        "Workers were not told!",
        "Is this the end?",
        "“Nobody knows,” a clerk said.",
        "बंदरगाह बंद होगा।",
        "मज़दूर चिंतित हैं।",
    ]
    assert [s.paragraph for s in found] == [0, 1, 1, 2, 2, 3, 3]
    for s in found:  # inside its paragraph, no white space or \r at either end
        paragraph = article.paragraphs[s.paragraph]
        assert paragraph.start <= s.start < s.end <= paragraph.end
        assert article.text[s.start : s.end] == article.text[s.start : s.end].strip()


def test_a_line_without_a_sentence_end_is_one_sentence_and_blank_text_has_none():
    article = Article("Title\n\nno full stop here at all\n")
    assert [article.text[s.start : s.end] for s in sentences(article)] == ["Title", "no full stop here at all"]
    assert sentences(Article("\n \n")) == []


def test_ranking_mentions_and_leading_sentences():
    article = Article(TEXT)
    found = sentences(article)
    scores = np.array([0.9, 0.2, 0.8, 0.1, 0.5, 0.3, 0.4])
    best = ranked(found, scores, article, keep=3)
    # The short "Is this the end?" (16 characters) still ranks; the title is the best sentence.
    assert [round(score, 1) for _, score in best] == [0.9, 0.8, 0.5]
    at = article.text.index("Lenz")
    assert mention_sentences(found, [(at, at + 4), (len(article.text) - 1, len(article.text))]) == [1, None]
    assert [article.text[s.start : s.end] for s in leading(found, 2)] == [
        "Dr. Lenz said the port would close.",
        "Workers were not told!",
    ]
    rows = sentence_rows(np.ones((4, 384), np.float32), np.zeros((2, 384), np.float32))
    assert rows.shape == (2, 3 * 384) and rows[:, :384].all() and not rows[:, 384:].any()


def _analysis() -> Analysis:
    article = Article(TEXT, id="t1", language="en")
    found = sentences(article)
    ev = [Evidence(s.start, s.end, article.text[s.start : s.end], 0.7) for s in found[1:3]]
    label = "URW: Amplifying war-related fears"
    sub = label + ": By continuing the war we risk WWIII"
    return Analysis(
        article,
        narratives=[Narrative(label, 0.8, [Subnarrative(sub, 0.6, ev[:1])], ev)],
        explanation=Explanation(label, sub, " ".join(e.text for e in ev), ev),
    )


def test_evidence_round_trips_in_the_json_and_must_hold_its_words():
    analysis = _analysis()
    data = json.loads(json.dumps(analysis.to_dict()))
    assert data["narratives"][0]["evidence"][0]["text"] == "Dr. Lenz said the port would close."
    assert (
        data["narratives"][0]["subnarratives"][0]["evidence"][0]["start"]
        == data["narratives"][0]["evidence"][0]["start"]
    )
    assert Analysis.from_dict(data) == analysis
    data["narratives"][0]["evidence"][0]["start"] += 1
    with pytest.raises(InputError, match="evidence .* belongs to another text"):
        Analysis.from_dict(data)


def test_analyses_without_evidence_still_read():
    data = _analysis().to_dict()
    del data["explanation"]
    del data["narratives"][0]["evidence"]
    del data["narratives"][0]["subnarratives"][0]["evidence"]
    again = Analysis.from_dict(data)
    assert again.explanation is None and again.narratives[0].evidence == []
    assert again.narratives[0].subnarratives[0].evidence == []


def test_store_rows_and_reports_show_the_evidence():
    analysis = _analysis()
    rows = TASKS["explanations"].store.rows(analysis.to_dict())
    assert [r[0] for r in rows] == ["narrative", "narrative", "subnarrative", "explanation", "explanation"]
    assert all(analysis.text[start:end] == text for _, _, start, end, text, _ in rows)
    report = to_text(analysis, width=160)
    assert "“Dr. Lenz said the port would close.”" in report and "Why: Dr. Lenz" in report
    page = to_html(analysis)
    assert 'class="evidence"' in page and 'href="#line-3"' in page and "<b>Why:</b>" in page


# --- the pipeline: evidence of what the models say, on a text written for it ----------------

WAR = Article(
    "\n".join(
        [
            "Kremlin warns of nuclear strikes as Western tanks arrive",
            "",
            "The town council of Velmar approved a new bicycle lane on Tuesday. The lane opens in May.",
            "Moscow warned that every Western tank sent to Ukraine brings the world closer to a nuclear war "
            "that nobody will survive. Officials said Russia is ready to use its nuclear weapons.",
            "The weather in Velmar will stay mild this week, with light rain on Friday.",
            "Ukraine's president Zelensky said the tanks would help defend Kharkiv.",
            "",
        ]
    ),
    id="war",
    language="en",
)


@pytest.fixture(scope="module")
def analysis():
    return Analyzer().analyze(WAR)


def test_every_narrative_and_entity_has_evidence_at_its_offsets(analysis):
    assert analysis.narratives
    for n in analysis.narratives:
        assert n.evidence, n.label
        for e in [*n.evidence, *(x for s in n.subnarratives for x in s.evidence)]:
            assert WAR.text[e.start : e.end] == e.text and 0 <= e.score <= 1
        assert [e.score for e in n.evidence] == sorted((e.score for e in n.evidence), reverse=True)
    for entity in analysis.entities:
        assert entity.evidence
        for e in entity.evidence:  # a sentence holding one of its mentions
            assert any(e.start <= m.start < e.end for m in entity.mentions)


def test_the_evidence_of_war_fears_is_the_nuclear_sentences_not_the_weather(analysis):
    fears = [n for n in analysis.narratives if n.label == "URW: Amplifying war-related fears"]
    assert fears, [n.label for n in analysis.narratives]
    best = fears[0].evidence[0].text
    assert "nuclear" in best
    assert all("weather" not in e.text and "bicycle" not in e.text for e in fears[0].evidence[:2])


def test_the_explanation_is_short_and_in_the_articles_words(analysis):
    explanation = analysis.explanation
    assert explanation is not None and explanation.narrative == analysis.narratives[0].label
    assert 0 < len(explanation.text.split()) <= 80
    for e in explanation.evidence:  # the sentences it reads, each at least begun in its words
        assert WAR.text[e.start : e.end] == e.text and " ".join(e.text.split()[:3]) in explanation.text
    # Every word after the opener (and the label, in English) is the article's own.
    own = [w for w in explanation.text.replace(":", " ").split() if w in WAR.text]
    assert len(own) >= len(explanation.text.split()) - 12


def test_the_corpus_stores_exports_and_reports_the_evidence(tmp_path):
    db = tmp_path / "corpus.sqlite"
    analyses = []
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
        for i, score in enumerate((0.7, 0.9)):
            analysis = _analysis()
            text = TEXT + f"Note {i}.\r\n"  # another article (the store keeps one per text)
            analysis.article = Article(text, id=f"t{i}", language="en")
            narrative = analysis.narratives[0]
            analysis.narratives = [
                Narrative(
                    narrative.label,
                    narrative.score,
                    narrative.subnarratives,
                    [replace(e, score=score) for e in narrative.evidence],
                )
            ]
            analyses.append(analysis)
            assert store.save(ArticleRecord(f"t{i}", text, "en"), "v1", analysis)
        rows = [tuple(r) for r in store.db.execute("SELECT kind, label, text FROM evidence ORDER BY rowid")]
        assert len(rows) == 10 and rows[0] == (
            "narrative",
            analyses[0].narratives[0].label,
            "Dr. Lenz said the port would close.",
        )
        exported = list(store.export_rows())
    assert exported[0]["explanation"] == analyses[0].explanation.text
    assert exported[0]["evidence"][0].endswith("“Dr. Lenz said the port would close.”")
    data = corpus_data(db, embed=lambda names: np.zeros((len(names), 384), np.float32))
    best = data["evidence"]["URW: Amplifying war-related fears"]
    assert [(x["id"], x["score"]) for x in best] == [("t1", 0.9), ("t0", 0.7)]  # one sentence per article, best first
    page = report_html(data)
    assert "Typical evidence" in page and "“Dr. Lenz said the port would close.”" in page
