"""Predict and evaluate over a SemEval split in the official file formats, with the pipeline.

:func:`predict` writes the official prediction file of one task; :func:`evaluate` predicts
the tasks of a labelled split and scores them with the official metrics, next to the models'
cross-validation scores.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..analysis import Analysis
from ..document import Article
from ..errors import DataError, InputError
from ..pipeline import PIPE_NAMES, Analyzer, EntitiesComponent
from ..progress import Counter, Progress
from . import formats, metrics
from .layout import TASKS_2023, TASKS_2025, SUBTASK, Split, article_id, split_of

log = logging.getLogger(__name__)

TASKS = TASKS_2023 + TASKS_2025
#: The pipeline components each task runs.
COMPONENTS = {"genre": ("genre",), "frames": ("frames",), "techniques": ("techniques",),
              "spans": ("techniques", "spans"), "narratives": ("narratives",), "entities": ("entities",)}
#: The official metrics of each task: (name shown, key in the scores).
METRICS = {
    "genre": [("macro-F1", "macro_f1")], "frames": [("micro-F1", "f1")], "techniques": [("micro-F1", "f1")],
    "spans": [("F1", "f1")],
    "narratives": [("samples-F1 coarse", "coarse_f1"), ("samples-F1 fine", "fine_f1")],
    "entities": [("main-role accuracy", "main_role_accuracy"), ("exact match ratio", "exact_match_ratio")],
}
#: The model whose cross-validation scores stand next to each task's scores.
CV_MODEL = {"entities": "roles"}
WRITERS = {"genre": formats.write_genre, "frames": formats.write_frames, "techniques": formats.write_techniques,
           "spans": formats.write_spans, "narratives": formats.write_narratives,
           "entities": formats.write_entity_labels}


@dataclass(frozen=True)
class Job:
    """Which articles a task reads, in the order its prediction file lists them."""

    split: Split
    task: str

    def __post_init__(self):
        if self.task not in TASKS:
            raise DataError(f"unknown task {self.task!r}: use one of {', '.join(TASKS)}")

    @property
    def is_2025(self) -> bool:
        return self.task in TASKS_2025

    def article_path(self, aid: str) -> Path:
        if self.is_2025:
            return self.split.documents_dir() / aid
        return self.split.article_path(SUBTASK[self.task], aid)

    def read(self, aid: str) -> Article:
        read = formats.read_document if self.is_2025 else formats.read_article
        article = read(self.article_path(aid), language=self.split.language)
        if not article.paragraphs:
            raise InputError(f"{self.article_path(aid)} is empty")
        return article

    @cached_property
    def entity_labels(self) -> list[formats.EntityLabel]:
        """The mentions the entities task labels: the first four columns of the subtask-1 file."""
        return formats.read_entity_labels(self.split.labels_file(1), roles=False)

    @cached_property
    def template(self) -> list[tuple[str, int]] | None:
        """The ``(id, line)`` rows a techniques file must have; ``None`` for the other tasks.
        Read once (a missing template is reported when it is first asked for)."""
        if self.task != "techniques":
            return None
        path = self.split.template_file()
        if not path.is_file():
            raise DataError(f"missing {path}: the techniques task writes one row per line of this template")
        return formats.read_template(path)

    def article_ids(self) -> list[str]:
        template = self.template
        if template is not None:
            return list(dict.fromkeys(aid for aid, _ in template))
        if self.task == "entities":
            return list(dict.fromkeys(row.article for row in self.entity_labels))
        if self.is_2025:
            return sorted(p.name for p in self.split.documents_dir().glob("*.txt"))
        return [article_id(p) for p in self.split.article_paths(SUBTASK[self.task])]


def analyzer_for(tasks: Iterable[str], model_dir: Path | str | None = None, **options) -> Analyzer:
    """An :class:`Analyzer` running only the components ``tasks`` need."""
    needed = {name for task in tasks for name in COMPONENTS[task]}
    return Analyzer(model_dir, disable=[name for name in PIPE_NAMES if name not in needed], **options)


def _articles(job: Job, ids: list[str], unreadable: list[Path]) -> Iterator[tuple[str, Article | None]]:
    for aid in ids:
        try:
            yield aid, job.read(aid)
        except (OSError, InputError) as error:
            log.warning("skipped %s: %s", job.article_path(aid), error)
            unreadable.append(job.article_path(aid))
            yield aid, None


def _analyses(analyzer: Analyzer, job: Job, ids: list[str], unreadable: list[Path], counter: Counter,
              batch_size: int = 16) -> Iterator[tuple[str, Analysis | None]]:
    """``(id, analysis)`` of every article in order, ``None`` for an unreadable one."""
    for i in range(0, len(ids), batch_size):
        chunk = list(_articles(job, ids[i:i + batch_size], unreadable))
        analysed = analyzer.pipe([article for _, article in chunk if article is not None], batch_size)
        for aid, article in chunk:
            yield aid, next(analysed) if article is not None else None
            counter.advance()


def prediction_rows(analyzer: Analyzer, job: Job, progress: Progress | None = None,
                    unreadable: list[Path] | None = None) -> Iterator[tuple | formats.EntityLabel]:
    """The rows of the official prediction file of ``job``, streamed article by article.

    An unreadable article is logged, added to ``unreadable`` and gets no labels (but its rows,
    where the format lists them); gold mentions whose offsets do not hold their text (entities
    task) are logged and read where their text really is.
    """
    unreadable = [] if unreadable is None else unreadable
    ids = job.article_ids()
    counter = Counter(progress, f"{job.split.lang}/{job.split.split} {job.task}", len(ids))
    if job.task == "entities":
        yield from _entity_rows(analyzer, job, ids, unreadable, counter)
        return
    lines_of: dict[str, list[int]] = {}
    for aid, line in job.template or []:
        lines_of.setdefault(aid, []).append(line)
    for aid, analysis in _analyses(analyzer, job, ids, unreadable, counter):
        if job.task == "techniques":
            by_line = {p.line: [t.label for t in p.techniques] for p in analysis.paragraphs} if analysis else {}
            yield from ((aid, line, by_line.get(line, [])) for line in lines_of[aid])
        elif analysis is None:
            continue
        elif job.task == "genre":
            yield aid, analysis.genre.label
        elif job.task == "frames":
            yield aid, [f.label for f in analysis.frames]
        elif job.task == "spans":
            yield from ((aid, s.label, s.start, s.end) for s in analysis.spans)
        else:
            yield aid, [n.label for n in analysis.narratives], [s.label for n in analysis.narratives
                                                                 for s in n.subnarratives]


#: The roles given to the mentions of an unreadable article, so that none goes missing.
FALLBACK_ROLES = ("Antagonist", ["Deceiver"])


def _entity_rows(analyzer: Analyzer, job: Job, ids: list[str], unreadable: list[Path], counter: Counter
                 ) -> Iterator[formats.EntityLabel]:
    """One row per input mention, in input order, with its predicted roles."""
    entities = analyzer.get_pipe("entities")
    assert isinstance(entities, EntitiesComponent)
    rows: dict[str, list[formats.EntityLabel]] = {}
    for row in job.entity_labels:
        rows.setdefault(row.article, []).append(row)
    for aid, article in _articles(job, ids, unreadable):
        given = rows[aid]
        if article is None:
            decisions = [FALLBACK_ROLES] * len(given)
        else:
            end = len(article.text)
            spans = [found or (min(row.mention.start, end - 1), min(row.mention.end, end))
                     for row, found in zip(given, formats.locate_mentions(article.text, given))]
            decisions = entities.label_mentions(article, analyzer.embed(article), spans)
        for row, (role, fine) in zip(given, decisions):
            yield formats.EntityLabel(row.article, row.mention, role, tuple(fine), row.where)
        counter.advance()


def predict(job: Job, output: Path, model_dir: Path | str | None = None, progress: Progress | None = None) -> int:
    """Write the official prediction file of ``job`` to ``output``; return the number of
    unreadable articles (logged, and written without labels)."""
    job.template  # noqa: B018 - read first: a missing template fails before any model loads
    analyzer = analyzer_for([job.task], model_dir)
    unreadable: list[Path] = []
    WRITERS[job.task](output, prediction_rows(analyzer, job, progress, unreadable))
    _report_unreadable(unreadable)
    return len(unreadable)


def _report_unreadable(unreadable: list[Path]) -> None:
    if unreadable:
        log.warning("%d article(s) could not be read; their rows are written without labels", len(unreadable))


def score(job: Job, rows: list) -> dict:
    """Official scores of prediction ``rows`` against the split's gold labels."""
    split = job.split
    if job.task == "narratives":
        gold = formats.read_narrative_labels(split.labels_file(2))
        return {"coarse_f1": metrics.sample_f1({k: c for k, (c, _) in gold.items()}, {r[0]: r[1] for r in rows}),
                "fine_f1": metrics.sample_f1({k: f for k, (_, f) in gold.items()}, {r[0]: r[2] for r in rows}),
                "articles": len(gold)}
    if job.task == "entities":
        gold = {row.key: (row.role, row.fine_roles) for row in formats.read_entity_labels(split.labels_file(1))}
        return metrics.entity_role_scores(gold, {row.key: (row.role, row.fine_roles) for row in rows})
    if job.task == "genre":
        gold = formats.read_genre_labels(split.labels_file(1))
        return {"macro_f1": metrics.genre_macro_f1(gold, dict(rows)), "articles": len(gold)}
    if job.task == "frames":
        gold = formats.read_frame_labels(split.labels_file(2))
        return metrics.frames_micro_f1(gold, dict(rows)).as_dict() | {"articles": len(gold)}
    if job.task == "techniques":
        gold = formats.read_technique_labels(split.labels_file(3))
        pred = {(aid, line): labels for aid, line, labels in rows}
        return metrics.techniques_micro_f1(gold, pred).as_dict() | {"paragraphs": len(gold)}
    lengths = {article_id(p): len(formats.read_article(p).text) for p in split.article_paths(3)}
    return metrics.span_scores(formats.read_span_folder(split.spans_dir(), lengths), rows).as_dict()


#: The held-out estimates a model may record, as (column, key in its metadata): cross-validation
#: in the split's language, that of the model it replaced, and leave-one-language-out.
ESTIMATES = (("CV", "cv"), ("CV before", "cv_previous"), ("LOLO", "lolo"), ("LOLO before", "lolo_previous"))


@dataclass
class Evaluation:
    """Official scores of some tasks on one split, with the held-out estimates the models
    recorded when they were trained (see :data:`ESTIMATES`)."""

    split: Split
    scores: dict[str, dict] = field(default_factory=dict)
    estimates: dict[str, dict[str, dict]] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str, float, dict[str, float | None]]]:
        """``(task, metric, score, values)`` per metric; ``values`` has the ``precision`` and
        ``recall`` of the score and, by column of :data:`ESTIMATES`, the estimate in this
        language (``None`` where there is none)."""
        out = []
        for task, s in self.scores.items():
            model = self.estimates.get(CV_MODEL.get(task, task), {})
            for name, key in METRICS[task]:
                values = {"precision": s.get("precision"), "recall": s.get("recall")}
                for column, meta_key in ESTIMATES:
                    value = (model.get(meta_key) or {}).get(self.split.language)
                    values[column] = value.get(key) if isinstance(value, dict) else value
                out.append((task, name, s[key], values))
        return out

    def to_dict(self) -> dict:
        return {"lang": self.split.lang, "split": self.split.split, "scores": self.scores,
                "cross_validation": {name: e.get("cv") or {} for name, e in self.estimates.items()},
                "estimates": self.estimates}


def evaluate(data_dir: Path, lang: str, split: str, tasks: Iterable[str] | None = None,
             model_dir: Path | str | None = None, progress: Progress | None = None) -> Evaluation:
    """Predict ``tasks`` (all the split holds by default) on a labelled split and score them."""
    where = split_of(data_dir, lang, split)
    tasks = list(tasks or where.tasks())
    analyzer = analyzer_for(tasks, model_dir)
    evaluation = Evaluation(where, estimates={name: {key: info.get(key) for _, key in ESTIMATES if info.get(key)}
                                              for name, info in analyzer.model_info.items()})
    unreadable: list[Path] = []
    for task in tasks:
        job = Job(where, task)
        evaluation.scores[task] = score(job, list(prediction_rows(analyzer, job, progress, unreadable)))
    _report_unreadable(unreadable)
    return evaluation
