"""The task registry: every per-task table of spinscope derives from it, and every task has
what a task needs (labels, official files and metric, component, store table, fine-tuning head)."""

from __future__ import annotations

import pytest

from spinscope import taxonomy
from spinscope.analysis import Analysis, Evidence, Explanation, Genre, Narrative, ParagraphLabels, Scored
from spinscope.document import Article
from spinscope.errors import DataError
from spinscope.pipeline import COMPONENT_CLASSES, PIPE_NAMES, Analyzer
from spinscope.semeval import formats
from spinscope.semeval.layout import Split
from spinscope.tasks import TARGETS, TASKS, Dataset, Level, component_names, components_for, get_task, tasks_of


def test_every_component_of_the_registry_has_a_class_and_no_class_is_left_over():
    assert set(COMPONENT_CLASSES) == set(component_names())
    assert (
        PIPE_NAMES
        == component_names()
        == (
            "genre",
            "frames",
            "techniques",
            "spans",
            "narratives",
            "entities",
            "explanations",
        )
    )
    for name, component in COMPONENT_CLASSES.items():
        assert component.name == name


def test_a_component_requires_what_its_tasks_require():
    assert components_for(["spans"]) == {"techniques", "spans"}
    assert components_for(["genre", "entities"]) == {"genre", "entities"}
    analyzer = Analyzer(disable=["genre", "frames", "narratives", "entities"], preload=False)
    assert analyzer.get_pipe("spans").requires == ("techniques",)


def test_targets_carry_the_taxonomy_and_say_once_whether_they_are_single_label():
    assert TARGETS["genre"].labels == taxonomy.GENRE_NAMES and TARGETS["genre"].single_label
    assert TARGETS["roles"].labels == taxonomy.ROLE_NAMES and TARGETS["roles"].single_label
    assert not any(TARGETS[t].single_label for t in ("frames", "techniques", "narratives", "fine_roles"))
    assert TASKS["narratives"].labels == taxonomy.NARRATIVE_NAMES
    assert [t.name for t in TASKS["entities"].targets] == ["roles", "fine_roles"]
    assert TASKS["entities"].cv_target == "roles"
    assert all(t.recipe is not None for name, t in TARGETS.items() if name != "spans")


def test_the_shared_tasks_split_the_registry():
    assert tasks_of(Dataset.SEMEVAL2023) == ("genre", "frames", "techniques", "spans")
    assert tasks_of(Dataset.SEMEVAL2025) == ("narratives", "entities", "explanations")
    assert {task.level for task in TASKS.values()} == set(Level)


def test_an_unknown_task_is_a_data_error_that_names_the_tasks():
    with pytest.raises(DataError, match="unknown task 'sentiment': use one of genre, frames"):
        get_task("sentiment")


def _analysis() -> Analysis:
    article = Article("A title\n\nThe harbour closes for good.\nWorkers fear for their jobs.", id="7")
    first, second = article.paragraphs[1], article.paragraphs[2]
    return Analysis(
        article,
        genre=Genre("reporting", {"opinion": 0.2, "reporting": 0.7, "satire": 0.1}),
        frames=[Scored("Economic", 0.8)],
        paragraphs=[
            ParagraphLabels(p.line, p.start, p.end, [Scored("Appeal_to_Fear-Prejudice", 0.6)]) for p in (first, second)
        ],
        spans=[article.span(second.start + 8, second.start + 12, "Appeal_to_Fear-Prejudice", 0.5)],
        narratives=[Narrative("URW: Amplifying war-related fears", 0.7, [])],
        explanation=Explanation(
            "URW: Amplifying war-related fears",
            None,
            second.text,
            [Evidence(second.start, second.end, second.text, 0.6)],
        ),
    )


def test_each_task_writes_predictions_its_gold_reader_reads_back(tmp_path):
    """A task's ``predictions`` rows, written by its writer, read by the official reader of its
    labels file: the official files of every task come from the registry alone."""
    analysis = _analysis()
    readers = {
        "genre": formats.read_genre_labels,
        "frames": formats.read_frame_labels,
        "narratives": formats.read_narrative_labels,
        "explanations": formats.read_explanations,
    }
    for name, task in TASKS.items():
        if task.predictions is None:
            continue
        rows = list(task.predictions("7", analysis))
        path = tmp_path / f"{name}.txt"
        task.write(path, rows)
        if name in readers:
            assert "7" in readers[name](path)
        else:
            assert formats.read_spans(path) == rows


def test_store_tables_hold_each_task_rows_of_the_analysis_json():
    data = _analysis().to_dict()
    rows = {name: task.store.rows(data) for name, task in TASKS.items() if task.store}
    assert set(rows) == set(TASKS)
    assert rows["genre"] == [("reporting",)]
    assert rows["frames"] == [("Economic", 0.8)]
    assert len(rows["techniques"]) == 2 and rows["spans"][0][0] == "Appeal_to_Fear-Prejudice"
    assert rows["narratives"] == [("URW: Amplifying war-related fears", 0.7)] and rows["entities"] == []
    assert rows["explanations"] == [
        ("explanation", "URW: Amplifying war-related fears", 38, 66, data["text"][38:66], 0.6)
    ]
    for task in TASKS.values():
        assert all(len(row) == len(task.store.columns) for row in rows[task.name])
    disabled = Analysis(Article("Only a title")).to_dict()
    assert all(task.store.rows(disabled) == [] for task in TASKS.values())


def test_scores_come_from_the_task(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "dev-labels-subtask-1.txt").write_text("7\treporting\n8\topinion\n")
    scores = TASKS["genre"].score(Split(tmp_path, "en", "dev"), [("7", "reporting"), ("8", "reporting")])
    assert scores["articles"] == 2 and 0 < scores["macro_f1"] < 1
    assert [m.key for m in TASKS["genre"].metrics] == ["macro_f1"]
