"""Run the Analyzer over a SemEval split and speak the official formats (predict / evaluate)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import evaluation, semeval
from .ingest import InputError
from .document import Article
from .pipeline import Analysis, Analyzer
from .semeval import DataError, Split

TASKS = ("genre", "frames", "techniques", "spans")
#: SemEval-2025 Task 10 tasks, read from ``DATA_DIR/LANG/SPLIT-documents/``.
FRAMING_TASKS = ("narratives", "entities")
OnError = Callable[[Path, Exception], None]


@dataclass(frozen=True)
class Job:
    """Which articles a task reads, in the order its prediction file lists them."""

    split: Split
    task: str

    @property
    def subtask(self) -> int:
        return semeval.SUBTASK[self.task]

    def article_path(self, aid: str) -> Path:
        if self.framing:
            return semeval.documents_dir(self.split) / aid
        return self.split.articles_dir(self.subtask) / f"article{aid}.txt"

    def read(self, aid: str) -> Article:
        language = semeval.iso_language(self.split.lang)
        read = semeval.read_document if self.framing else semeval.read_article
        article = read(self.article_path(aid), language=language)
        if not article.paragraphs:
            raise InputError(f"{self.article_path(aid)} is empty")
        return article

    @property
    def framing(self) -> bool:
        return self.task in FRAMING_TASKS

    def mentions(self) -> list[semeval.Mention]:
        """The mentions the entities task labels: the first four columns of the subtask-1 file."""
        return semeval.read_mentions(self.split.labels_file(1), roles=False)

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
        if self.task == "entities":
            return list(dict.fromkeys(m.article for m in self.mentions()))
        if self.framing:
            return sorted(p.name for p in semeval.documents_dir(self.split).glob("*.txt"))
        return [semeval.article_id(p) for p in self.split.article_paths(self.subtask)]


def analyses(analyzer: Analyzer, job: Job, ids: list[str], on_error: OnError,
             progress: Callable[[], None] | None = None) -> Iterator[tuple[str, Analysis | None]]:
    """``(id, analysis)`` per article, ``None`` for an unreadable one (reported to ``on_error``)."""
    for aid in ids:
        try:
            yield aid, analyzer.analyze(job.read(aid))
        except (OSError, InputError) as error:
            on_error(job.article_path(aid), error)
            yield aid, None
        if progress:
            progress()


def prediction_rows(analyzer: Analyzer, job: Job, on_error: OnError,
                    progress: Callable[[], None] | None = None, warn: Callable[[str], None] = print
                    ) -> Iterator[tuple]:
    """The rows of the official prediction file of ``job``, streamed article by article.

    Unreadable articles go to ``on_error``; gold mentions whose offsets do not hold their
    text (entities task) go to ``warn``, and are read where their text really is.
    """
    if job.framing:
        yield from framing_rows(analyzer, job, on_error, progress, warn)
        return
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


def framing_rows(analyzer: Analyzer, job: Job, on_error: OnError, progress: Callable[[], None] | None,
                 warn: Callable[[str], None]) -> Iterator[tuple]:
    """Rows of a narratives file ``(id, narratives, sub-narratives)`` or of an entities file
    (one :class:`semeval.Mention` with its predicted roles per input mention, in input order)."""
    from .features import article_features

    if not analyzer.framing:
        raise FileNotFoundError(f"no narratives and entity-role models in {analyzer.model_dir}: "
                                "train them with `spinscope train DATA_DIR_2025 --output DIR`")
    mentions: dict[str, list[semeval.Mention]] = {}
    if job.task == "entities":
        for m in job.mentions():
            mentions.setdefault(m.article, []).append(m)
    for aid in job.article_ids(None):
        try:
            article = job.read(aid)
        except (OSError, InputError) as error:
            on_error(job.article_path(aid), error)
            article = None
        if job.task == "narratives":
            if article is not None:
                narratives = analyzer.narratives(article_features(analyzer.embed(article))[None, :])
                yield aid, [n.label for n in narratives], [s.label for n in narratives for s in n.subnarratives]
        else:
            yield from _mention_rows(analyzer, article, mentions[aid], warn)
        if progress:
            progress()


def _mention_rows(analyzer: Analyzer, article: Article | None, mentions: list[semeval.Mention],
                  warn: Callable[[str], None]) -> Iterator[semeval.Mention]:
    if article is None:  # unreadable: every mention gets the most common role, so none goes missing
        decisions = [("Antagonist", ["Deceiver"])] * len(mentions)
    else:
        spans = [span or (min(m.start, len(article.text) - 1), min(m.end + 1, len(article.text)))
                 for m, span in zip(mentions, semeval.locate_mentions(article.text, mentions, warn))]
        decisions = analyzer.role_decisions(*analyzer.mention_roles(article, analyzer.embed(article), spans))
    for m, (role, fine) in zip(mentions, decisions):
        yield semeval.Mention(m.article, m.text, m.start, m.end, role, tuple(fine), m.where)


WRITERS = {"genre": semeval.write_genre, "frames": semeval.write_frames,
           "techniques": semeval.write_techniques, "spans": semeval.write_spans,
           "narratives": semeval.write_narratives, "entities": semeval.write_mentions}


def count_articles(job: Job) -> int:
    return len(job.article_ids(job.template()))


def score(job: Job, rows: list[tuple]) -> dict:
    """Official scores of prediction ``rows`` against the split's gold labels."""
    split = job.split
    if job.task == "narratives":
        gold = semeval.read_narrative_labels(split.labels_file(2))
        return {"coarse_f1": evaluation.sample_f1({k: c for k, (c, _) in gold.items()}, {r[0]: r[1] for r in rows}),
                "fine_f1": evaluation.sample_f1({k: f for k, (_, f) in gold.items()}, {r[0]: r[2] for r in rows}),
                "articles": len(gold)}
    if job.task == "entities":
        gold = {(m.article, m.start, m.end): (m.role, m.fine_roles) for m in semeval.read_mentions(split.labels_file(1))}
        return evaluation.entity_role_scores(gold, {(m.article, m.start, m.end): (m.role, m.fine_roles) for m in rows})
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
