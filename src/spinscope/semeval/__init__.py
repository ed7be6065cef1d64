"""SemEval-2023 Task 3 and SemEval-2025 Task 10: folder layout, official formats and metrics, and
the one reader of their training splits (prediction files and evaluation over a split:
:mod:`spinscope.official`)."""

from .formats import (
    EntityLabel,
    SpanRow,
    locate_mention,
    locate_mentions,
    read_article,
    read_document,
    read_entity_labels,
    read_frame_labels,
    read_genre_labels,
    read_narrative_labels,
    read_span_folder,
    read_spans,
    read_technique_labels,
    read_template,
)
from .layout import Split, article_id, iso_language, split_of, training_languages

__all__ = [
    "EntityLabel",
    "Split",
    "SpanRow",
    "article_id",
    "iso_language",
    "locate_mention",
    "locate_mentions",
    "read_article",
    "read_document",
    "read_entity_labels",
    "read_frame_labels",
    "read_genre_labels",
    "read_narrative_labels",
    "read_span_folder",
    "read_spans",
    "read_technique_labels",
    "read_template",
    "split_of",
    "training_languages",
]
