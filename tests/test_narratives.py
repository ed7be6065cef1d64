"""Narratives and entity roles (SemEval-2025 Task 10): taxonomy, file formats, decision rules,
mention finding, metrics, and train -> predict -> evaluate on a small invented data folder."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import DOCUMENTS, write_semeval2025
from spinscope import semeval, taxonomy
from spinscope.document import Article, Mention
from spinscope.errors import DataError
from spinscope.models import Head, MentionFinder, NarrativeRule, RoleRule, group_names
from spinscope.models.embeddings import Embedder
from spinscope.pipeline import MODEL_DIR, Analyzer
from spinscope.semeval import EntityLabel, metrics
from spinscope.shells.cli import app

runner = CliRunner()


# --- taxonomy --------------------------------------------------------------------------------


def test_every_subnarrative_has_a_known_parent_and_every_narrative_an_other_child():
    for sub in taxonomy.SUBNARRATIVES:
        assert taxonomy.narrative_parent(sub.name) in taxonomy.NARRATIVE_NAMES
        assert sub.definition
    for narrative in taxonomy.NARRATIVE_NAMES:
        if narrative != taxonomy.OTHER:
            assert f"{narrative}: Other" in taxonomy.SUBNARRATIVE_NAMES
    assert len(set(taxonomy.SUBNARRATIVE_NAMES)) == len(taxonomy.SUBNARRATIVE_NAMES)


def test_fine_roles_belong_to_the_three_main_roles():
    assert taxonomy.ROLE_NAMES == ("Protagonist", "Antagonist", "Innocent")
    assert len(taxonomy.FINE_ROLES) == 22
    assert {label.group for label in taxonomy.FINE_ROLES} == set(taxonomy.ROLE_NAMES)
    assert taxonomy.label("Tyrant").group == "Antagonist"


# --- file formats ----------------------------------------------------------------------------

URW = "URW: Discrediting Ukraine"
PUPPET = f"{URW}: Ukraine is a puppet of the West"


def test_narrative_labels_are_read_and_checked(write_file):
    good = write_file("n.txt", f"A.txt\t{URW}\t{PUPPET};{URW}: Other\nB.txt\tOther\tOther\n")
    assert semeval.read_narrative_labels(good) == {
        "A.txt": ([URW], [PUPPET, f"{URW}: Other"]),
        "B.txt": (["Other"], ["Other"]),
    }
    unknown = write_file("u.txt", f"A.txt\t{URW}\t{PUPPET}\nB.txt\tURW: Moon landing\tOther\n")
    with pytest.raises(DataError, match=r"u\.txt:2: unknown narrative 'URW: Moon landing'"):
        semeval.read_narrative_labels(unknown)
    orphan = write_file("o.txt", f"A.txt\tOther\t{PUPPET}\n")
    with pytest.raises(DataError, match=r"o\.txt:1: sub-narrative .* without its narrative"):
        semeval.read_narrative_labels(orphan)


def test_mentions_are_read_and_roles_checked(write_file):
    path = write_file("m.txt", "A.txt\tNATO\t10\t13\tAntagonist\tInstigator\tDeceiver\n")
    # The file's end (13) is inclusive; spinscope's is exclusive.
    assert semeval.read_entity_labels(path) == [
        EntityLabel("A.txt", Mention(10, 14, "NATO"), "Antagonist", ("Instigator", "Deceiver"), f"{path}:1")
    ]
    only_four = write_file("m4.txt", "A.txt\tNATO\t10\t13\n")
    assert semeval.read_entity_labels(only_four, roles=False)[0].role is None
    with pytest.raises(DataError, match=r"bad\.txt:1: unknown main role 'Hero'"):
        semeval.read_entity_labels(write_file("bad.txt", "A.txt\tNATO\t10\t13\tHero\tGuardian\n"))
    with pytest.raises(DataError, match=r"wrong\.txt:1: 'Victim' is not a fine role of Antagonist"):
        semeval.read_entity_labels(write_file("wrong.txt", "A.txt\tNATO\t10\t13\tAntagonist\tVictim\n"))
    with pytest.raises(DataError, match=r"rev\.txt:1: mention \[13, 10\] is empty or reversed"):
        semeval.read_entity_labels(write_file("rev.txt", "A.txt\tNATO\t13\t10\tAntagonist\tVictim\n"))


def test_mentions_are_located_exactly_crlf_counted_or_nearest(caplog):
    text = "Title\n\nFirst line with Kyiv.\nSecond line: Kyiv again, and Rome.\n"
    kyiv = text.index("Kyiv")
    exact = Mention(kyiv, kyiv + 4, "Kyiv")
    assert semeval.locate_mention(text, exact) == (kyiv, kyiv + 4)
    second = text.index("Kyiv", kyiv + 1)
    crlf_offset = second + text[:second].count("\n")  # offsets of the same text with \r\n line ends
    assert semeval.locate_mention(text, Mention(crlf_offset, crlf_offset + 4, "Kyiv")) == (second, second + 4)
    rome = text.index("Rome")
    assert semeval.locate_mention(text, Mention(rome + 2, rome + 6, "Rome")) == (rome, rome + 4)
    assert semeval.locate_mention(text, Mention(0, 5, "Paris")) is None

    rows = [
        EntityLabel("A.txt", exact, where="f:1"),
        EntityLabel("A.txt", Mention(rome + 2, rome + 6, "Rome"), where="f:2"),
        EntityLabel("A.txt", Mention(0, 5, "Paris"), where="f:3"),
    ]
    with caplog.at_level(logging.WARNING, logger="spinscope"):
        found = semeval.locate_mentions(text, rows)
    assert found == [(kyiv, kyiv + 4), (rome, rome + 4), None]
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings[0].startswith("f:2: offsets") and warnings[1].startswith("f:3: mention 'Paris' is not in")


def test_prediction_files_round_trip(tmp_path):
    semeval.formats.write_narratives(tmp_path / "n.txt", [("A.txt", [URW], [PUPPET]), ("B.txt", ["Other"], ["Other"])])
    assert semeval.read_narrative_labels(tmp_path / "n.txt")["A.txt"] == ([URW], [PUPPET])
    rows = [
        EntityLabel("A.txt", Mention(3, 7, "Kyiv"), "Innocent", ("Victim",)),
        EntityLabel("A.txt", Mention(9, 13, "NATO"), "Antagonist", ("Instigator", "Conspirator")),
    ]
    semeval.formats.write_entity_labels(tmp_path / "m.txt", rows)
    assert (tmp_path / "m.txt").read_text().splitlines()[0] == "A.txt\tKyiv\t3\t6\tInnocent\tVictim"  # end inclusive
    assert [(r.mention, r.role, r.fine_roles) for r in semeval.read_entity_labels(tmp_path / "m.txt")] == [
        (r.mention, r.role, r.fine_roles) for r in rows
    ]


# --- decisions -------------------------------------------------------------------------------

CC = "CC: Criticism of climate movement"


def _probabilities(coarse: dict[str, float], fine: dict[str, float]):
    p = np.array([coarse.get(n, 0.01) for n in taxonomy.NARRATIVE_NAMES])
    q = np.array([fine.get(n, 0.01) for n in taxonomy.SUBNARRATIVE_NAMES])
    return taxonomy.NARRATIVE_NAMES, p, taxonomy.SUBNARRATIVE_NAMES, q


def test_narrative_rule_respects_the_hierarchy():
    rule = NarrativeRule(coarse=0.5, fine=0.5, one_domain=False)
    # a sure sub-narrative brings its narrative; a sure narrative brings its best sub-narrative
    coarse, fine = rule.decide(*_probabilities({CC: 0.8}, {PUPPET: 0.7, f"{CC}: Climate movement is alarmist": 0.3}))
    assert set(coarse) == {CC, URW}
    assert set(fine) == {PUPPET, f"{CC}: Climate movement is alarmist"}
    assert all(taxonomy.narrative_parent(f) in coarse for f in fine)
    # nothing sure: Other at both levels
    assert rule.decide(*_probabilities({}, {})) == (["Other"], ["Other"])
    # one domain keeps the best narrative's domain only
    assert NarrativeRule(0.5, 0.5, True).decide(*_probabilities({CC: 0.8, URW: 0.6}, {}))[0] == [CC]


def test_role_rule_keeps_fine_roles_under_the_main_role():
    roles, fine = taxonomy.ROLE_NAMES, taxonomy.FINE_ROLE_NAMES
    p = np.array([0.2, 0.7, 0.1])
    q = np.full(len(fine), 0.05)
    q[fine.index("Victim")] = 0.9  # an Innocent role: ignored for an Antagonist
    q[fine.index("Tyrant")] = 0.4
    q[fine.index("Deceiver")] = 0.65
    assert RoleRule(extra=0.6).decide(roles, p, fine, q) == ("Antagonist", ["Deceiver"])
    assert RoleRule(extra=0.3).decide(roles, p, fine, q) == ("Antagonist", ["Deceiver", "Tyrant"])
    # The fine-role model's mass as evidence: .9 of 1.0 on Innocent, .1 on Antagonist.
    q = np.zeros(len(fine))
    q[fine.index("Victim")], q[fine.index("Deceiver")] = 0.9, 0.1
    assert RoleRule(fine_weight=0.5).decide(roles, p, fine, q)[0] == "Antagonist"  # .75 against .55
    assert RoleRule(fine_weight=1.0).decide(roles, p, fine, q) == ("Innocent", ["Victim"])  # .8 against 1.0


def test_entity_role_metrics_by_hand():
    gold = {
        ("A", 0, 3): ("Antagonist", ["Tyrant"]),
        ("A", 9, 12): ("Innocent", ["Victim"]),
        ("B", 1, 4): ("Protagonist", ["Guardian", "Virtuous"]),
    }
    pred = {("A", 0, 3): ("Antagonist", ["Tyrant"]), ("A", 9, 12): ("Innocent", ["Victim", "Forgotten"])}
    scores = metrics.entity_role_scores(gold, pred)
    assert scores["main_role_accuracy"] == pytest.approx(2 / 3)
    assert scores["exact_match_ratio"] == pytest.approx(1 / 3)


# --- mention finder --------------------------------------------------------------------------


def test_finder_matches_known_names_whole_words_longest_first():
    finder = MentionFinder(["European Union", "Union", "Kyiv"])
    text = "The European Union and Kyivan food; Kyiv said the Union agreed."
    found = [text[a:b] for a, b in finder.find(text)]
    assert found == ["European Union", "Kyiv", "Union"]


def test_finder_adds_repeated_capitalised_names_but_not_sentence_openers():
    text = (
        "Yesterday the mayor met Anna Berg. Later, Anna Berg spoke to the press.\n"
        "Anyway the talks went on. Anyway nothing changed."
    )
    found = [text[a:b] for a, b in MentionFinder([]).find(text)]
    assert found == ["Anna Berg", "Anna Berg"]  # "Anyway" twice, but only ever opening a sentence
    once = "Why The Plan Of The Year Failed\n\nThe plan of Jonas Weber failed. Critics laughed."
    # several words: once is enough, but not in a Title Case headline
    assert [once[a:b] for a, b in MentionFinder([]).find(once)] == ["Jonas Weber"]


def test_finder_finds_names_in_scripts_without_capitals_by_the_list_only():
    text = "भारत ने कहा कि भारत शांति चाहता है।"
    assert [text[a:b] for a, b in MentionFinder(["भारत"]).find(text)] == ["भारत", "भारत"]


def test_finder_saves_and_loads(tmp_path):
    finder = MentionFinder.from_mentions(["NATO", "NATO", "Kyiv", " Kyiv ", "the army", "the army"])
    assert finder.names == ["Kyiv", "NATO"]  # names only, spaces normalised
    assert MentionFinder.from_mentions(["NATO", "NATO", "Kyiv"], min_count=2).names == ["NATO"]
    finder.save(tmp_path / "mentions.json", {"en": {"exact": 0.5}})
    loaded = MentionFinder.load(tmp_path / "mentions.json")
    assert loaded.names == finder.names and loaded.min_repeats == finder.min_repeats
    assert json.loads((tmp_path / "mentions.json").read_text())["cv_recall"] == {"en": {"exact": 0.5}}


# --- train -> predict -> evaluate on an invented folder ---------------------------------------


@pytest.fixture(scope="module")
def framing_dir(tmp_path_factory):
    return write_semeval2025(tmp_path_factory.mktemp("semeval2025"))


@pytest.fixture(scope="module")
def framing_models(framing_dir, tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    for task in ("genre", "frames", "techniques", "spans"):
        for suffix in (".json", ".npz"):
            shutil.copy(MODEL_DIR / f"{task}{suffix}", models)
    result = runner.invoke(app, ["train", str(framing_dir), "--output", str(models)])
    assert result.exit_code == 0, result.output
    return models


def test_train_writes_framing_models_with_cv(framing_models):
    for task in ("narratives", "subnarratives", "roles", "fine_roles"):
        head = Head.load(framing_models, task)
        assert set(head.meta["cv"]) == {"en", "all"}
    roles = Head.load(framing_models, "roles").meta
    assert roles["rule"]["extra"] in np.round(np.arange(0.3, 1.01, 0.05), 2)  # a value of the searched grid
    assert all(0 <= v <= 1 for scores in roles["cv"].values() for v in scores.values())
    assert MentionFinder.load(framing_models / "mentions.json").names


def test_predict_and_evaluate_framing_tasks(framing_dir, framing_models, tmp_path):
    out = tmp_path / "narratives.txt"
    result = runner.invoke(
        app,
        [
            "predict",
            str(framing_dir),
            "--lang",
            "en",
            "--split",
            "train",
            "--task",
            "narratives",
            "--output",
            str(out),
            "--models",
            str(framing_models),
        ],
    )
    assert result.exit_code == 0, result.output
    predicted = semeval.read_narrative_labels(out)  # valid: known labels, children under parents
    assert len(predicted) == len(DOCUMENTS)

    out = tmp_path / "entities.txt"
    result = runner.invoke(
        app,
        [
            "predict",
            str(framing_dir),
            "--lang",
            "en",
            "--split",
            "train",
            "--task",
            "entities",
            "--output",
            str(out),
            "--models",
            str(framing_models),
        ],
    )
    assert result.exit_code == 0, result.output
    gold = semeval.read_entity_labels(framing_dir / "en" / "train-labels-subtask-1.txt")
    rows = semeval.read_entity_labels(out)  # valid: fine roles under their main role
    assert [r.key for r in rows] == [r.key for r in gold]

    result = runner.invoke(
        app,
        ["evaluate", str(framing_dir), "--lang", "en", "--split", "train", "--json", "--models", str(framing_models)],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["scores"]
    assert set(scores) == {"narratives", "entities"}
    # three very different kinds of invented article, seen in training: in-sample scores are high
    assert scores["narratives"]["coarse_f1"] > 0.8
    assert scores["entities"]["main_role_accuracy"] > 0.6


def test_analyze_shows_narratives_and_entities(framing_models, tmp_path):
    title, body, *_ = DOCUMENTS[0]
    source = tmp_path / "a.txt"
    source.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(source), "--format", "json", "--models", str(framing_models)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["narratives"] and all(n["label"] in taxonomy.NARRATIVE_NAMES for n in data["narratives"])
    names = {e["name"] for e in data["entities"]}
    assert {"Kyiv", "Washington"} <= names
    for e in data["entities"]:
        assert e["name"] in data["text"][e["start"] : e["end"]]  # "Putin" may rest on "Vladimir Putin"
        assert {"start": e["start"], "end": e["end"], "text": data["text"][e["start"] : e["end"]]} in e["mentions"]
        assert all(taxonomy.label(f["label"]).group == e["role"] for f in e["fine_roles"])
    html = runner.invoke(app, ["analyze", str(source), "--format", "html", "--models", str(framing_models)]).stdout
    assert 'class="entity" data-role=' in html and "<h2>Narratives</h2>" in html
    text = runner.invoke(
        app,
        [
            "analyze",
            str(source),
            "--format",
            "text",
            "--models",
            str(framing_models),
            "--output",
            str(tmp_path / "r.txt"),
        ],
    )
    assert text.exit_code == 0
    report = (tmp_path / "r.txt").read_text()
    assert "Narratives" in report and "Entities" in report and "Washington" in report


def test_bad_mention_offsets_are_reported_with_file_and_line(framing_dir, framing_models, tmp_path):
    import shutil

    broken = tmp_path / "data"
    shutil.copytree(framing_dir, broken)
    labels = broken / "en" / "train-labels-subtask-1.txt"
    lines = labels.read_text().splitlines()
    first = lines[0].split("\t")
    lines[0] = "\t".join([first[0], "Atlantis", first[2], first[3], *first[4:]])
    labels.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app,
        [
            "predict",
            str(broken),
            "--lang",
            "en",
            "--split",
            "train",
            "--task",
            "entities",
            "--output",
            str(tmp_path / "e.txt"),
            "--models",
            str(framing_models),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"{labels}:1: mention 'Atlantis' is not in" in " ".join(result.output.split())
    assert len(semeval.read_entity_labels(tmp_path / "e.txt")) == len(lines)  # still predicted, never dropped


def test_finder_ignores_long_runs_of_capitals():
    text = (
        "In the annual report the club listed Alpha Beta Gamma Delta Epsilon Zeta Eta Theta as its main "
        "sponsors, and later it thanked Alpha Beta Gamma again for all their help over the years."
    )
    assert [text[a:b] for a, b in MentionFinder([]).find(text)] == ["Alpha Beta Gamma"]


def test_finder_skips_common_words_written_with_a_capital():
    text = "Il pleut. Selon lui, « Il faut partir », dit Marc Roy. Il ajoute : il reste Marc Roy."
    found = {text[a:b] for a, b in MentionFinder([]).find(text)}
    assert found == {"Marc Roy"}  # "Il" appears inside a sentence but also as "il"


def test_full_names_join_the_entity_of_their_last_word(framing_models):
    article = Article(
        "Talks stall\n\nThe minister Ines Vidal met the press. Reporters asked Vidal about the "
        "talks, and Vidal said they had failed.\n",
        language="en",
    )
    entities = Analyzer(framing_models, disable=["spans"]).analyze(article).entities
    vidal = next(e for e in entities if e.name == "Vidal")
    assert [m.text for m in vidal.mentions] == ["Ines Vidal", "Vidal", "Vidal"]
    assert not any(e.name == "Ines Vidal" for e in entities)


def test_inflected_forms_of_a_name_are_one_entity(framing_models):
    article = Article(
        "Визит\n\nМинистр прибыла в Тамбов. Тамбов встретил её дождём. В Тамбове её ждали, и в "
        "Тамбове она выступила. Журналисты спросили Волкову о планах и снова спросили Волкову о "
        "сроках. По словам Волковой, планы готовы; помощники Волковой согласны.\n",
        language="ru",
    )
    names = {e.name: [m.text for m in e.mentions] for e in Analyzer(framing_models).analyze(article).entities}
    assert names == {
        "Тамбов": ["Тамбов", "Тамбов", "Тамбове", "Тамбове"],
        "Волкову": ["Волкову", "Волкову", "Волковой", "Волковой"],
    }


def test_group_names_needs_a_shared_stem_and_close_embeddings():
    names = [
        "Украины",
        "Украине",
        "Владимир Путин",
        "Владимира Путина",
        "Зеленский",
        "Зеленского",
        "Georgia",
        "George",
        "Maria",
        "Mario",
        "Iran",
        "Iraq",
        "Washington",
        "Washingtonians",
    ]
    group = group_names(names, Embedder().embed)
    assert group["Украине"] == "Украины" and group["Владимира Путина"] == "Владимир Путин"
    assert group["Зеленского"] == "Зеленский"
    for other in ("George", "Mario", "Iraq", "Washingtonians"):  # different names, or too long an ending
        assert group[other] == other
    # The stem alone is not enough: names whose embeddings disagree stay apart.
    orthogonal = group_names(["Украины", "Украине"], lambda texts: np.eye(len(texts), 384, dtype=np.float32))
    assert orthogonal == {"Украины": "Украины", "Украине": "Украине"}
