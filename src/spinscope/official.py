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

from .analysis import Analysis
from .document import Article
from .errors import DataError, InputError
from .pipeline import Analyzer, EncodedArticle, EntitiesComponent
from .pipeline.components import ExplanationsComponent
from .progress import Counter, Progress
from .semeval import formats
from .semeval.layout import Split, article_id, split_of
from .tasks import TASKS, Dataset, Task, component_names, components_for, get_task, tasks_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """Which articles a task reads, in the order its prediction file lists them."""

    split: Split
    task: str

    def __post_init__(self):
        get_task(self.task)  # an unknown task is a DataError that names the tasks

    @property
    def spec(self) -> Task:
        return TASKS[self.task]

    def article_path(self, aid: str) -> Path:
        if self.spec.dataset is Dataset.SEMEVAL2025:
            return self.split.document_path(aid)
        return self.split.article_path(self.spec.subtask, aid)

    def read(self, aid: str) -> Article:
        read = formats.read_document if self.spec.dataset is Dataset.SEMEVAL2025 else formats.read_article
        article = read(self.article_path(aid), language=self.split.language)
        if not article.paragraphs:
            raise InputError(f"{self.article_path(aid)} is empty")
        return article

    @cached_property
    def entity_labels(self) -> list[formats.EntityLabel]:
        """The mentions the task labels (``given`` mentions): the first four columns of its labels file."""
        return formats.read_entity_labels(self.split.labels_file(self.spec.subtask), roles=False)

    @cached_property
    def explanation_labels(self) -> list[formats.ExplanationLabel]:
        """The narratives the task explains (``given`` narratives): the first three columns of its labels file."""
        return formats.read_explanation_labels(self.split.labels_file(self.spec.subtask), explanations=False)

    @cached_property
    def template(self) -> list[tuple[str, int]] | None:
        """The ``(id, line)`` rows a task with a ``given`` template must have; ``None`` for the
        others. Read once (a missing template is reported when it is first asked for)."""
        if self.spec.given != "template":
            return None
        path = self.split.template_file()
        if not path.is_file():
            raise DataError(f"missing {path}: the {self.task} task writes one row per line of this template")
        return formats.read_template(path)

    def article_ids(self) -> list[str]:
        template = self.template
        if template is not None:
            return list(dict.fromkeys(aid for aid, _ in template))
        if self.spec.given == "mentions":
            return list(dict.fromkeys(row.article for row in self.entity_labels))
        if self.spec.given == "narratives":
            return [row.article for row in self.explanation_labels]
        if self.spec.dataset is Dataset.SEMEVAL2025:
            return sorted(p.name for p in self.split.documents_dir().glob("*.txt"))
        return [article_id(p) for p in self.split.article_paths(self.spec.subtask)]


def analyzer_for(tasks: Iterable[str], model_dir: Path | str | None = None, **options) -> Analyzer:
    """An :class:`Analyzer` running only the components ``tasks`` need."""
    needed = components_for(list(tasks))
    return Analyzer(model_dir, disable=[name for name in component_names() if name not in needed], **options)


def _articles(job: Job, ids: list[str], unreadable: list[Path]) -> Iterator[tuple[str, Article | None]]:
    for aid in ids:
        try:
            yield aid, job.read(aid)
        except (OSError, InputError) as error:
            log.warning("skipped %s: %s", job.article_path(aid), error)
            unreadable.append(job.article_path(aid))
            yield aid, None


def _analyses(
    analyzer: Analyzer, job: Job, ids: list[str], unreadable: list[Path], counter: Counter, batch_size: int = 16
) -> Iterator[tuple[str, Analysis | None]]:
    """``(id, analysis)`` of every article in order, ``None`` for an unreadable one."""
    for i in range(0, len(ids), batch_size):
        chunk = list(_articles(job, ids[i : i + batch_size], unreadable))
        analysed = analyzer.pipe([article for _, article in chunk if article is not None], batch_size)
        for aid, article in chunk:
            yield aid, next(analysed) if article is not None else None
            counter.advance()


def prediction_rows(
    analyzer: Analyzer, job: Job, progress: Progress | None = None, unreadable: list[Path] | None = None
) -> Iterator[tuple | formats.EntityLabel]:
    """The rows of the official prediction file of ``job``, streamed article by article.

    An unreadable article is logged, added to ``unreadable`` and gets no labels (but its rows,
    where the format lists them); gold mentions whose offsets do not hold their text (entities
    task) are logged and read where their text really is.
    """
    unreadable = [] if unreadable is None else unreadable
    ids = job.article_ids()
    counter = Counter(progress, f"{job.split.lang}/{job.split.split} {job.task}", len(ids))
    if job.spec.given == "mentions":
        yield from _entity_rows(analyzer, job, ids, unreadable, counter)
        return
    if job.spec.given == "template":
        yield from _template_rows(analyzer, job, ids, unreadable, counter)
        return
    if job.spec.given == "narratives":
        yield from _explanation_rows(analyzer, job, ids, unreadable, counter)
        return
    for aid, analysis in _analyses(analyzer, job, ids, unreadable, counter):
        if analysis is not None and job.spec.predictions is not None:
            yield from job.spec.predictions(aid, analysis)


def _template_rows(
    analyzer: Analyzer, job: Job, ids: list[str], unreadable: list[Path], counter: Counter
) -> Iterator[tuple]:
    """One row per line of the template, in its order, with the paragraph's predicted labels."""
    lines_of: dict[str, list[int]] = {}
    for aid, line in job.template or []:
        lines_of.setdefault(aid, []).append(line)
    for aid, analysis in _analyses(analyzer, job, ids, unreadable, counter):
        by_line = {p.line: [t.label for t in p.techniques] for p in analysis.paragraphs} if analysis else {}
        yield from ((aid, line, by_line.get(line, [])) for line in lines_of[aid])


#: The roles given to the mentions of an unreadable article, so that none goes missing.
FALLBACK_ROLES = ("Antagonist", ["Deceiver"])


def _entity_rows(
    analyzer: Analyzer, job: Job, ids: list[str], unreadable: list[Path], counter: Counter
) -> Iterator[formats.EntityLabel]:
    """One row per input mention, in input order, with its predicted roles."""
    entities = analyzer.get_pipe(job.spec.component)
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
            spans = [
                found or (min(row.mention.start, end - 1), min(row.mention.end, end))
                for row, found in zip(given, formats.locate_mentions(article.text, given))
            ]
            decisions = entities.label_mentions(article, analyzer.embed(article), spans)
        for row, (role, fine) in zip(given, decisions):
            yield formats.EntityLabel(row.article, row.mention, role, tuple(fine), row.where)
        counter.advance()


def _explanation_rows(
    analyzer: Analyzer, job: Job, ids: list[str], unreadable: list[Path], counter: Counter
) -> Iterator[tuple[str, str]]:
    """One row per article of the labels file, in its order: the explanation of its given
    dominant narrative and sub-narrative (empty for an unreadable article)."""
    explainer = analyzer.get_pipe(job.spec.component)
    assert isinstance(explainer, ExplanationsComponent)
    given = {row.article: row for row in job.explanation_labels}
    for aid, article in _articles(job, ids, unreadable):
        explanation = None
        if article is not None:
            vectors, states = analyzer.embedder.encode([p.text for p in article.paragraphs])
            encoded = EncodedArticle(article, vectors, analyzer.embedder, dict(enumerate(states)))
            explanation = explainer.explain(encoded, given[aid].narrative, given[aid].subnarrative)
        yield aid, explanation.text if explanation else ""
        counter.advance()


def predict(job: Job, output: Path, model_dir: Path | str | None = None, progress: Progress | None = None) -> int:
    """Write the official prediction file of ``job`` to ``output``; return the number of
    unreadable articles (logged, and written without labels)."""
    job.template  # noqa: B018 - read first: a missing template fails before any model loads
    analyzer = analyzer_for([job.task], model_dir)
    unreadable: list[Path] = []
    job.spec.write(output, prediction_rows(analyzer, job, progress, unreadable))
    _report_unreadable(unreadable)
    return len(unreadable)


def _report_unreadable(unreadable: list[Path]) -> None:
    if unreadable:
        log.warning("%d article(s) could not be read; their rows are written without labels", len(unreadable))


def score(job: Job, rows: list) -> dict:
    """Official scores of prediction ``rows`` against the split's gold labels."""
    return job.spec.score(job.split, rows)


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
            model = self.estimates.get(TASKS[task].cv_target, {})
            for metric in TASKS[task].metrics:
                name, key = metric.name, metric.key
                values = {"precision": s.get("precision"), "recall": s.get("recall")}
                for column, meta_key in ESTIMATES:
                    value = (model.get(meta_key) or {}).get(self.split.language)
                    values[column] = value.get(key) if isinstance(value, dict) else value
                out.append((task, name, s[key], values))
        return out

    def to_dict(self) -> dict:
        return {
            "lang": self.split.lang,
            "split": self.split.split,
            "scores": self.scores,
            "cross_validation": {name: e.get("cv") or {} for name, e in self.estimates.items()},
            "estimates": self.estimates,
        }


def evaluate(
    data_dir: Path,
    lang: str,
    split: str,
    tasks: Iterable[str] | None = None,
    model_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Predict ``tasks`` (all the split holds by default) on a labelled split and score them."""
    where = split_of(data_dir, lang, split)
    # By default, the tasks of the split's shared task whose labels the split has.
    tasks = list(
        tasks
        or [
            name
            for name in tasks_of(Dataset.SEMEVAL2025 if where.is_2025 else Dataset.SEMEVAL2023)
            if where.labels_file(TASKS[name].subtask).is_file() or TASKS[name].dataset is Dataset.SEMEVAL2023
        ]
    )
    analyzer = analyzer_for(tasks, model_dir)
    evaluation = Evaluation(
        where,
        estimates={
            name: {key: info[key] for _, key in ESTIMATES if info.get(key)}
            for name, info in analyzer.model_info.items()
        },
    )
    unreadable: list[Path] = []
    for task in tasks:
        job = Job(where, task)
        evaluation.scores[task] = score(job, list(prediction_rows(analyzer, job, progress, unreadable)))
    _report_unreadable(unreadable)
    return evaluation
