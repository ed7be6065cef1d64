"""The task registry: every task spinscope learns and reports, declared once.

A :class:`Task` is what a user asks for by name (``spinscope predict --task frames``) and what
the official shared tasks score: where its gold labels are, how its predictions are written and
scored, which pipeline component fills it and what the corpus store keeps of it. It has one or
more :class:`Target` s, the label sets its models learn (narratives has two: narratives and
sub-narratives), each with its training recipe and its head and loss weight in fine-tuning.

Everything else looks tasks up here: the pipeline's component order, the CLI's choices, the
official prediction files and metrics, the trainers' recipes and decision rules, the fine-tuning
heads, the store's tables. Adding a task is an entry in :data:`TASKS`, its component in
:mod:`spinscope.pipeline`, and a test (CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, DataError
from .models.explain import first_words
from .semeval import formats, metrics
from .semeval.layout import Split, article_id
from .taxonomy import (
    FINE_ROLE_NAMES,
    FRAME_NAMES,
    GENRE_NAMES,
    NARRATIVE_NAMES,
    ROLE_NAMES,
    SUBNARRATIVE_NAMES,
    TECHNIQUE_NAMES,
)

if TYPE_CHECKING:
    from .analysis import Analysis


class Level(StrEnum):
    """What one labelled example of a task is."""

    ARTICLE = "article"
    PARAGRAPH = "paragraph"
    TOKEN = "token"
    MENTION = "mention"
    SENTENCE = "sentence"


class Dataset(StrEnum):
    """The shared task whose data and formats a task follows."""

    SEMEVAL2023 = "SemEval-2023 Task 3"
    SEMEVAL2025 = "SemEval-2025 Task 10"


@dataclass(frozen=True)
class Recipe:
    """How a target's model is fitted on encoder features: a linear model (``hidden=()``) or a
    small MLP. Chosen by cross-validation (docs/models.md lists what was tried)."""

    C: float = 1.0
    hidden: tuple[int, ...] = ()
    alpha: float = 1e-3
    max_iter: int = 300
    class_weight: str | None = None

    def describe(self) -> str:
        if self.hidden:
            return f"MLP{self.hidden} alpha={self.alpha}"
        return f"logistic regression C={self.C}" + (f" class_weight={self.class_weight}" if self.class_weight else "")


#: Labels by row key, gold or predicted (a row: an article, an ``(id, line)`` paragraph, a mention).
RowLabels = Mapping[Any, Sequence[str]]


@dataclass(frozen=True)
class Target:
    """A label set a model learns: its labels, whether each example has exactly one of them,
    its recipe (``None``: a model of its own, such as the span tagger) and its weight in the
    summed loss of fine-tuning."""

    name: str
    labels: tuple[str, ...]
    single_label: bool
    recipe: Recipe | None
    loss_weight: float
    #: The official metric on labelled rows (gold and predicted labels by row key), where
    #: training scores the target on its own.
    metric: Callable[[RowLabels, RowLabels], float] | None = None

    def head_recipe(self) -> Recipe:
        """Its recipe; a :class:`ConfigError` for a target that is not fitted as a head."""
        if self.recipe is None:
            raise ConfigError(f"the {self.name} target has no recipe: it is not fitted as a head")
        return self.recipe


@dataclass(frozen=True)
class Metric:
    """An official metric: the name shown and its key in a task's scores."""

    name: str
    key: str


@dataclass(frozen=True)
class StoreTable:
    """What the corpus store keeps of a task: a table of ``columns`` (after ``analysis_id``)
    and the rows of an Analysis JSON for it."""

    table: str
    columns: tuple[str, ...]
    rows: Callable[[dict], list[tuple]]


#: Rows of a prediction file: ``(article id, ...)`` tuples, or entity label rows.
PredictionRow = Any


@dataclass(frozen=True)
class Task:
    """One task: its data, its official files and metrics, its component and its targets.

    ``given`` says what the official task gives to predict on besides the articles: nothing,
    the ``template`` of paragraph lines (techniques), the ``mentions`` to label (entities) or
    the dominant ``narratives`` to explain (explanations).
    ``predictions`` turns an article's Analysis into the rows of the official prediction file
    (for tasks with ``given`` mentions, the pipeline labels the given mentions instead).
    """

    name: str
    description: str
    dataset: Dataset
    #: The official labels file: ``SPLIT-labels-subtask-{subtask}.txt`` (and for SemEval-2023 the
    #: articles folder ``SPLIT-articles-subtask-{subtask}``).
    subtask: int
    level: Level
    targets: tuple[Target, ...]
    component: str
    metrics: tuple[Metric, ...]
    write: Callable[[Any, Iterable[PredictionRow]], None]
    score: Callable[[Split, list], dict]
    predictions: Callable[[str, Analysis], Iterator[PredictionRow]] | None = None
    given: str | None = None
    store: StoreTable | None = None
    #: Components that must run before this task's component.
    requires: tuple[str, ...] = ()
    #: The target whose cross-validation scores stand next to the task's official scores.
    cv_target: str = ""
    labels: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        # A task with no target of its own (explanations) reads the heads of the tasks it requires.
        object.__setattr__(self, "labels", self.targets[0].labels if self.targets else ())
        if not self.cv_target:
            object.__setattr__(self, "cv_target", self.targets[0].name if self.targets else self.name)

    @property
    def single_label(self) -> bool:
        return bool(self.targets) and self.targets[0].single_label

    @property
    def components(self) -> tuple[str, ...]:
        """The pipeline components this task runs, in order."""
        return (*self.requires, self.component)


# --- official scoring: gold labels of a split against prediction rows ----------------------


def _score_genre(split: Split, rows: list) -> dict:
    gold = formats.read_genre_labels(split.labels_file(1))
    return {"macro_f1": metrics.genre_macro_f1(gold, dict(rows)), "articles": len(gold)}


def _score_frames(split: Split, rows: list) -> dict:
    gold = formats.read_frame_labels(split.labels_file(2))
    return metrics.frames_micro_f1(gold, dict(rows)).as_dict() | {"articles": len(gold)}


def _score_techniques(split: Split, rows: list) -> dict:
    gold = formats.read_technique_labels(split.labels_file(3))
    pred = {(aid, line): labels for aid, line, labels in rows}
    return metrics.techniques_micro_f1(gold, pred).as_dict() | {"paragraphs": len(gold)}


def _score_spans(split: Split, rows: list) -> dict:
    lengths = {article_id(p): len(formats.read_article(p).text) for p in split.article_paths(3)}
    return metrics.span_scores(formats.read_span_folder(split.spans_dir(), lengths), rows).as_dict()


def _score_narratives(split: Split, rows: list) -> dict:
    gold = formats.read_narrative_labels(split.labels_file(2))
    return {
        "coarse_f1": metrics.sample_f1({k: c for k, (c, _) in gold.items()}, {r[0]: r[1] for r in rows}),
        "fine_f1": metrics.sample_f1({k: f for k, (_, f) in gold.items()}, {r[0]: r[2] for r in rows}),
        "articles": len(gold),
    }


def _score_entities(split: Split, rows: list) -> dict:
    # Read with their roles, gold rows always have one.
    gold = {row.key: (row.role or "", row.fine_roles) for row in formats.read_entity_labels(split.labels_file(1))}
    return metrics.entity_role_scores(gold, {row.key: (row.role or "", row.fine_roles) for row in rows})


def _score_explanations(split: Split, rows: list) -> dict:
    """chrF of the explanations against the references, next to that of the article's first 80
    words (the baseline), over the articles of the split's subtask-3 file."""
    gold = formats.read_explanation_labels(split.labels_file(3))
    references = {row.article: row.explanation for row in gold}
    baseline = {}
    for row in gold:
        path = split.document_path(row.article)
        baseline[row.article] = first_words(formats.read_document(path)) if path.is_file() else ""
    return {
        "chrf": metrics.chrf(references, dict(rows)),
        "baseline_chrf": metrics.chrf(references, baseline),
        "articles": len(gold),
    }


def _evidence_rows(analysis: dict) -> list[tuple]:
    """``(kind, label, start, end, text, score)`` of every evidence sentence of an Analysis JSON:
    of its narratives, sub-narratives, entities (labelled with their name and role) and explanation."""

    def rows(kind: str, label: str, items: list[dict] | None) -> list[tuple]:
        return [(kind, label, x["start"], x["end"], x["text"], x["score"]) for x in items or []]

    out = []
    for n in analysis.get("narratives") or []:
        out += rows("narrative", n["label"], n.get("evidence"))
        for sub in n["subnarratives"]:
            out += rows("subnarrative", sub["label"], sub.get("evidence"))
    for e in analysis.get("entities") or []:
        out += rows("entity", f"{e['name']} ({e['role']})", e.get("evidence"))
    if explanation := analysis.get("explanation"):
        out += rows("explanation", explanation["narrative"], explanation["evidence"])
    return out


def _genre_rows_f1(gold: RowLabels, pred: RowLabels) -> float:
    return metrics.genre_macro_f1({k: v[0] for k, v in gold.items()}, {k: v[0] for k, v in pred.items()})


# --- what the store keeps of each task (from the Analysis JSON) -----------------------------


def _labels_rows(key: str) -> Callable[[dict], list[tuple]]:
    return lambda analysis: [(x["label"], x["score"]) for x in analysis.get(key) or []]


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            "genre",
            "opinion, reporting or satire",
            Dataset.SEMEVAL2023,
            1,
            Level.ARTICLE,
            (Target("genre", GENRE_NAMES, True, Recipe(C=0.003), 0.3, _genre_rows_f1),),
            "genre",
            (Metric("macro-F1", "macro_f1"),),
            formats.write_genre,
            _score_genre,
            predictions=lambda aid, a: iter([(aid, a.genre.label)] if a.genre else []),
            store=StoreTable(
                "analyses",
                ("genre",),
                lambda analysis: [(analysis["genre"]["label"],)] if analysis.get("genre") else [],
            ),
        ),
        Task(
            "frames",
            "the frames of the Media Frames Corpus",
            Dataset.SEMEVAL2023,
            2,
            Level.ARTICLE,
            (
                Target(
                    "frames",
                    FRAME_NAMES,
                    False,
                    Recipe(C=0.001),
                    0.3,
                    lambda gold, pred: metrics.frames_micro_f1(gold, pred).f1,
                ),
            ),
            "frames",
            (Metric("micro-F1", "f1"),),
            formats.write_frames,
            _score_frames,
            predictions=lambda aid, a: iter([(aid, [f.label for f in a.frames])]),
            store=StoreTable("frames", ("frame", "score"), _labels_rows("frames")),
        ),
        Task(
            "techniques",
            "persuasion techniques of each paragraph",
            Dataset.SEMEVAL2023,
            3,
            Level.PARAGRAPH,
            (
                Target(
                    "techniques",
                    TECHNIQUE_NAMES,
                    False,
                    Recipe(C=0.001),
                    1.0,
                    lambda gold, pred: metrics.techniques_micro_f1(gold, pred).f1,
                ),
            ),
            "techniques",
            (Metric("micro-F1", "f1"),),
            formats.write_techniques,
            _score_techniques,
            given="template",
            store=StoreTable(
                "paragraph_labels",
                ("line", "start", "end", "technique", "score"),
                lambda analysis: [
                    (p["line"], p["start"], p["end"], t["label"], t["score"])
                    for p in analysis.get("paragraphs") or []
                    for t in p["techniques"]
                ],
            ),
        ),
        Task(
            "spans",
            "the words that carry each technique",
            Dataset.SEMEVAL2023,
            3,
            Level.TOKEN,
            (Target("spans", TECHNIQUE_NAMES, False, None, 1.0),),
            "spans",
            (Metric("F1", "f1"),),
            formats.write_spans,
            _score_spans,
            requires=("techniques",),
            predictions=lambda aid, a: ((aid, s.label, s.start, s.end) for s in a.spans),
            store=StoreTable(
                "spans",
                ("technique", "start", "end", "text", "score"),
                lambda analysis: [
                    (s["technique"], s["start"], s["end"], s["text"], s["score"]) for s in analysis.get("spans") or []
                ],
            ),
        ),
        Task(
            "narratives",
            "narratives and sub-narratives",
            Dataset.SEMEVAL2025,
            2,
            Level.ARTICLE,
            (
                Target("narratives", NARRATIVE_NAMES, False, Recipe(C=0.003), 0.5),
                Target("subnarratives", SUBNARRATIVE_NAMES, False, Recipe(C=0.003), 0.5),
            ),
            "narratives",
            (Metric("samples-F1 coarse", "coarse_f1"), Metric("samples-F1 fine", "fine_f1")),
            formats.write_narratives,
            _score_narratives,
            predictions=lambda aid, a: iter(
                [(aid, [n.label for n in a.narratives], [s.label for n in a.narratives for s in n.subnarratives])]
            ),
            store=StoreTable("narratives", ("narrative", "score"), _labels_rows("narratives")),
        ),
        Task(
            "entities",
            "the roles of named entities",
            Dataset.SEMEVAL2025,
            1,
            Level.MENTION,
            (
                Target("roles", ROLE_NAMES, True, Recipe(hidden=(256,), alpha=10.0), 0.5),
                Target("fine_roles", FINE_ROLE_NAMES, False, Recipe(hidden=(256,), alpha=10.0), 0.5),
            ),
            "entities",
            (Metric("main-role accuracy", "main_role_accuracy"), Metric("exact match ratio", "exact_match_ratio")),
            formats.write_entity_labels,
            _score_entities,
            given="mentions",
            store=StoreTable(
                "entities",
                ("name", "role", "score", "mentions"),
                lambda analysis: [
                    (e["name"], e["role"], e["score"], len(e["mentions"])) for e in analysis.get("entities") or []
                ],
            ),
        ),
        Task(
            "explanations",
            "the sentences behind each narrative, and why the article pushes its dominant one",
            Dataset.SEMEVAL2025,
            3,
            Level.SENTENCE,
            (),
            "explanations",
            (Metric("chrF", "chrf"), Metric("chrF of the first 80 words", "baseline_chrf")),
            formats.write_explanations,
            _score_explanations,
            predictions=lambda aid, a: iter([(aid, a.explanation.text)] if a.explanation else []),
            given="narratives",
            store=StoreTable("evidence", ("kind", "label", "start", "end", "text", "score"), _evidence_rows),
        ),
    )
}

#: Every target of every task, by name.
TARGETS: dict[str, Target] = {target.name: target for task in TASKS.values() for target in task.targets}


def get_task(name: str) -> Task:
    """The task called ``name``; :class:`DataError` names the tasks when there is none."""
    try:
        return TASKS[name]
    except KeyError:
        raise DataError(f"unknown task {name!r}: use one of {', '.join(TASKS)}") from None


def tasks_of(dataset: Dataset) -> tuple[str, ...]:
    """The names of the tasks of one shared task, in registry order."""
    return tuple(name for name, task in TASKS.items() if task.dataset is dataset)


def component_names() -> tuple[str, ...]:
    """Every pipeline component, in pipeline order (the order of :data:`TASKS`)."""
    return tuple(dict.fromkeys(task.component for task in TASKS.values()))


def task_of_target(target: str) -> Task:
    return next(task for task in TASKS.values() if any(t.name == target for t in task.targets))


def components_for(tasks: Sequence[str]) -> set[str]:
    """The pipeline components that ``tasks`` need."""
    return {name for task in tasks for name in get_task(task).components}
