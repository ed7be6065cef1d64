"""Run the Analyzer over a SemEval split and speak the official formats (predict / evaluate)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import evaluation, semeval
from .ingest import InputError
from .pipeline import Analysis, Analyzer
from .semeval import DataError, Split

TASKS = ("genre", "frames", "techniques", "spans")
OnError = Callable[[Path, Exception], None]


@dataclass(frozen=True)
class Job:
    """Which articles a task reads, in the order its prediction file lists them."""

    split: Split
    task: str

    @property
    def subtask(self) -> int:
        return semeval.SUBTASK[self.task]

    def template(self) -> list[tuple[str, int]] | None:
        if self.task != "techniques":
            return None
        path = self.split.template_file()
        if not path.is_file():
            raise DataError(f"missing {path}: the techniques task writes one row per line of this template")
        return semeval.read_template(path)

    def article_ids(self, template) -> list[str]:
        if template is not None:
            return list(dict.fromkeys(aid for aid, _ in template))
        return [semeval.article_id(p) for p in self.split.article_paths(self.subtask)]


def analyses(analyzer: Analyzer, job: Job, ids: list[str], on_error: OnError,
             progress: Callable[[], None] | None = None) -> Iterator[tuple[str, Analysis | None]]:
    """``(id, analysis)`` per article, ``None`` for an unreadable one (reported to ``on_error``)."""
    folder = job.split.articles_dir(job.subtask)
    language = semeval.iso_language(job.split.lang)
    for aid in ids:
        path = folder / f"article{aid}.txt"
        try:
            article = semeval.read_article(path, language=language)
            if not article.paragraphs:
                raise InputError(f"{path} is empty")
            yield aid, analyzer.analyze(article)
        except (OSError, InputError) as error:
            on_error(path, error)
            yield aid, None
        if progress:
            progress()


def prediction_rows(analyzer: Analyzer, job: Job, on_error: OnError,
                    progress: Callable[[], None] | None = None) -> Iterator[tuple]:
    """The rows of the official prediction file of ``job``, streamed article by article."""
    template = job.template()
    lines_of: dict[str, list[int]] = {}
    for aid, line in template or []:
        lines_of.setdefault(aid, []).append(line)
    for aid, analysis in analyses(analyzer, job, job.article_ids(template), on_error, progress):
        if job.task == "genre":
            if analysis:
                yield aid, analysis.genre["label"]
        elif job.task == "frames":
            if analysis:
                yield aid, [f.label for f in analysis.frames]
        elif job.task == "techniques":
            by_line = {p.line: [t.label for t in p.techniques] for p in analysis.paragraphs} if analysis else {}
            for line in lines_of[aid]:
                yield aid, line, by_line.get(line, [])
        elif analysis:
            yield from ((aid, s.technique, s.start, s.end) for s in analysis.spans)


WRITERS = {"genre": semeval.write_genre, "frames": semeval.write_frames,
           "techniques": semeval.write_techniques, "spans": semeval.write_spans}


def count_articles(job: Job) -> int:
    return len(job.article_ids(job.template()))


def score(job: Job, rows: list[tuple]) -> dict:
    """Official scores of prediction ``rows`` against the split's gold labels."""
    split = job.split
    if job.task == "genre":
        gold = semeval.read_genre_labels(split.labels_file(1))
        pred = dict(rows)
        return {"macro_f1": evaluation.genre_macro_f1(gold, pred), "articles": len(gold)}
    if job.task == "frames":
        gold = semeval.read_frame_labels(split.labels_file(2))
        return evaluation.frames_micro_f1(gold, dict(rows)).as_dict() | {"articles": len(gold)}
    if job.task == "techniques":
        gold = semeval.read_technique_labels(split.labels_file(3))
        pred = {(aid, line): labels for aid, line, labels in rows}
        return evaluation.techniques_micro_f1(gold, pred).as_dict() | {"paragraphs": len(gold)}
    lengths = {semeval.article_id(p): len(semeval.read_article(p).text) for p in split.article_paths(3)}
    gold_spans = semeval.read_span_folder(split.spans_dir(), lengths)
    return evaluation.span_scores(gold_spans, rows).as_dict()
