"""The one reader of the SemEval training splits: one record per labelled article, with every
label the data gives it. Every trainer, the fine-tuning and the held-out split read through it.

SemEval-2023's three subtask folders hold overlapping but different copies of the articles
(line endings differ, and about a quarter of the subtask-3 articles are missing from subtask 1),
so a record keeps the article as read in each folder and a task reads its own subtask's copy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..document import Article, Paragraph
from ..errors import DataError
from . import formats
from .layout import Split, is_2025_data, training_languages

log = logging.getLogger(__name__)

#: A technique span of an article: ``(technique, start, end)``, end exclusive.
TechniqueSpan = tuple[str, int, int]


@dataclass
class LabelledArticle:
    """One training article of a language folder and the labels of every task, by target name.

    ``copies`` holds the article as read in each folder (SemEval-2023: by subtask; SemEval-2025:
    under 0, its only file). ``labels`` has ``genre``, ``frames`` (lists of labels),
    ``techniques`` (``{line: labels}``) and ``spans`` (technique spans in the subtask-3 copy),
    or ``narratives`` and ``subnarratives`` (lists); ``mentions`` are the gold entity mentions
    found in the text, with where they really are.
    """

    data_dir: Path
    lang: str
    id: str
    copies: dict[int, Article]
    labels: dict[str, Any] = field(default_factory=dict)
    mentions: list[tuple[formats.EntityLabel, tuple[int, int]]] = field(default_factory=list)

    @property
    def group(self) -> str:
        """The article's key across languages (``lang:id``): its rows stay in one CV fold."""
        return f"{self.lang}:{self.id}"

    def copy(self, *subtasks: int) -> Article | None:
        """The first copy found among ``subtasks`` (all folders, in order, by default)."""
        for subtask in subtasks or sorted(self.copies):
            if subtask in self.copies:
                return self.copies[subtask]
        return None

    def require_copy(self, *subtasks: int) -> Article:
        """:meth:`copy`, for a record that must have one: a :class:`DataError` otherwise."""
        article = self.copy(*subtasks)
        if article is None:
            raise DataError(
                f"{self.data_dir}/{self.lang}: article {self.id} is in none of the folders "
                f"of subtasks {', '.join(map(str, subtasks))}"
            )
        return article

    def paragraph_spans(self, paragraph: Paragraph) -> list[TechniqueSpan]:
        """The technique spans that overlap ``paragraph``, clipped to it, in its own offsets."""
        spans: list[TechniqueSpan] = self.labels.get("spans") or []
        return [
            (t, max(s, paragraph.start) - paragraph.start, min(e, paragraph.end) - paragraph.start)
            for t, s, e in spans
            if s < paragraph.end and e > paragraph.start
        ]


def read_training(data_dir: Path, languages: Sequence[str] | None = None) -> list[LabelledArticle]:
    """Every labelled training article of ``data_dir`` (SemEval-2023 or SemEval-2025 layout), by
    language folder and then id. Labelled articles whose file is missing are logged and left out."""
    read = _read_2025 if is_2025_data(data_dir) else _read_2023
    return [
        record
        for lang in training_languages(data_dir, languages)
        for record in read(Split(Path(data_dir), lang, "train"))
    ]


def _read_2023(split: Split) -> list[LabelledArticle]:
    labels: dict[str, dict[str, Any]] = {}
    genres = formats.read_genre_labels(split.labels_file(1))
    for aid, genre in genres.items():
        labels.setdefault(aid, {})["genre"] = [genre]
    for aid, frames in formats.read_frame_labels(split.labels_file(2)).items():
        labels.setdefault(aid, {})["frames"] = frames
    for (aid, line), techniques in formats.read_technique_labels(split.labels_file(3)).items():
        labels.setdefault(aid, {}).setdefault("techniques", {})[line] = techniques
    copies: dict[str, dict[int, Article]] = {}
    for subtask in (1, 2, 3):
        for path in split.article_paths(subtask):
            article = formats.read_article(path, split.language)
            copies.setdefault(article.id, {})[subtask] = article
    spans: dict[str, list[TechniqueSpan]] = {aid: [] for aid, c in copies.items() if 3 in c}
    lengths = {aid: len(copies[aid][3].text) for aid in spans}
    for aid, technique, start, end in formats.read_span_folder(split.spans_dir(), lengths):
        if aid in spans:
            spans[aid].append((technique, start, end))
    records = []
    for aid in sorted(set(labels) | set(spans)):
        if aid not in copies:
            log.warning("%s: article %s is labelled but has no file; skipped", split.root, aid)
            continue
        record = LabelledArticle(split.data_dir, split.lang, aid, copies[aid], labels.get(aid, {}))
        if aid in spans:
            record.labels["spans"] = spans[aid]
        records.append(record)
    return records


def _read_2025(split: Split) -> list[LabelledArticle]:
    narratives = formats.read_narrative_labels(split.labels_file(2))
    mentions: dict[str, list[formats.EntityLabel]] = {}
    for row in formats.read_entity_labels(split.labels_file(1)):
        mentions.setdefault(row.article, []).append(row)
    records = []
    for aid in sorted(narratives):
        path = split.document_path(aid)
        if not path.is_file():
            log.warning("%s: %s is labelled but %s is missing; skipped", split.labels_file(2), aid, path)
            continue
        article = formats.read_document(path, split.language)
        coarse, fine = narratives[aid]
        rows = mentions.get(aid, [])
        located = [(row, span) for row, span in zip(rows, formats.locate_mentions(article.text, rows)) if span]
        records.append(
            LabelledArticle(
                split.data_dir, split.lang, aid, {0: article}, {"narratives": coarse, "subnarratives": fine}, located
            )
        )
    return records
