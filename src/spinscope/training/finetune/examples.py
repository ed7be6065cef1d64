"""Labelled articles (:func:`spinscope.semeval.reader.read_training`) turned into token examples:
one per paragraph, with the targets its data gives, at the tokens they fall on."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, groupby, islice
from pathlib import Path

import numpy as np

from ...document import Paragraph
from ...encoder import QUERY_PREFIX, Tokenizer
from ...models.embeddings import clip_for_states
from ...semeval.formats import EntityLabel
from ...semeval.reader import LabelledArticle, TechniqueSpan, read_training
from ...tasks import Level, Target
from .. import heldout
from .settings import MENTION_TARGETS, POOLED_TARGETS, SPAN_TARGET, FineTuning, targets_of

#: Pooled targets labelled per paragraph (``{line: labels}`` in a record), not per article.
_PARAGRAPH_LEVEL = frozenset(target.name for target in targets_of(Level.PARAGRAPH))

#: A mention in a paragraph: its characters [start, end) in the paragraph and its gold row.
ParagraphMention = tuple[int, int, EntityLabel]


@dataclass
class Example:
    """One paragraph with the targets its data gives (absent targets are missing from the dicts)."""

    ids: np.ndarray  # int32, <s> prefix text </s>
    lang: str
    #: pooled target -> 0/1 float32 vector over the target's labels
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    #: float32 [len(ids), techniques]: token inside a span of each technique (SemEval-2023 subtask 3 articles)
    spans: np.ndarray | None = None
    #: (first token, end token, then per mention target: a label index if single-label, else a 0/1
    #: vector) per gold mention in the paragraph: (first, last, role, fine roles)
    mentions: list[tuple] = field(default_factory=list)


def _vector(labels: Sequence[str], names: Sequence[str]) -> np.ndarray:
    out = np.zeros(len(names), dtype=np.float32)
    out[[names.index(label) for label in labels]] = 1
    return out


def _token_range(offsets: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """The tokens (indices into ``<s>`` + content + ``</s>``) overlapping characters [start, end)."""
    inside = np.flatnonzero((offsets[:, 0] < end) & (offsets[:, 1] > start) & (offsets[:, 0] >= 0))
    return (int(inside[0]) + 1, int(inside[-1]) + 2) if len(inside) else (0, 0)


def _mention_targets(row: EntityLabel) -> tuple:
    """The mention's value of each mention target: a label index, or a 0/1 vector if multi-label."""
    given: dict[str, Sequence[str]] = {"roles": [row.role] if row.role else [], "fine_roles": row.fine_roles}
    return tuple(
        target.labels.index(given[target.name][0])
        if target.single_label
        else _vector(given[target.name], target.labels)
        for target in MENTION_TARGETS
    )


def _paragraph_labels(record: LabelledArticle, target: Target, paragraph: Paragraph) -> list[str] | None:
    """The paragraph's labels of a pooled target: its own (paragraph level) or its article's."""
    labels = record.labels.get(target.name)
    if labels is not None and target.name in _PARAGRAPH_LEVEL:
        return labels.get(paragraph.line)
    return labels


class _ExampleMaker:
    """Turns paragraphs with character-level targets into token examples."""

    def __init__(self, tokenizer: Tokenizer, config: FineTuning):
        self.tokenizer, self.config = tokenizer, config
        self.bos, self.eos = tokenizer.vocabulary.bos, tokenizer.vocabulary.eos

    def article(self, record: LabelledArticle) -> Iterator[Example]:
        """An example per paragraph of the copy the spans are in (SemEval-2023: subtask 3, else
        1, else 2; SemEval-2025: its only copy, 0)."""
        article = record.require_copy(3, 1, 2, 0)
        for p in article.paragraphs:
            labels = {
                target.name: _vector(found, target.labels)
                for target in POOLED_TARGETS
                if (found := _paragraph_labels(record, target, p)) is not None
            }
            spans = record.paragraph_spans(p) if SPAN_TARGET.name in record.labels else None
            mentions = [
                (s - p.start, e - p.start, row) for row, (s, e) in record.mentions if p.start <= s and e <= p.end
            ]
            yield self.example(p.text, record.lang, labels, spans, mentions)

    def example(
        self,
        text: str,
        lang: str,
        labels: dict[str, np.ndarray],
        spans: list[TechniqueSpan] | None = None,
        mentions: Sequence[ParagraphMention] = (),
    ) -> Example:
        tokens = self.tokenizer.encode([clip_for_states(text)], QUERY_PREFIX)[0]
        content = self.config.max_tokens - 2
        ids = np.concatenate([[self.bos], tokens.ids[:content], [self.eos]]).astype(np.int32)
        offsets = tokens.offsets[:content]
        example = Example(ids, lang, labels)
        if spans is not None:
            example.spans = np.zeros((len(ids), len(SPAN_TARGET.labels)), dtype=np.float32)
            for technique, start, end in spans:
                first, last = _token_range(offsets, start, end)
                example.spans[first:last, SPAN_TARGET.labels.index(technique)] = 1
        for start, end, row in mentions:
            first, last = _token_range(offsets, start, end)
            if last > first:
                example.mentions.append((first, last, *_mention_targets(row)))
        return example


def _trained_on(record: LabelledArticle, config: FineTuning, split: dict) -> bool:
    """The article has labels of a pooled target and, with ``hold_out``, is not held out."""
    held = config.hold_out and heldout.is_held_out(split, record.data_dir, record.lang, record.id)
    return not held and any(target.name in record.labels for target in POOLED_TARGETS)


def read_examples(data_dirs: Sequence[Path], tokenizer: Tokenizer, config: FineTuning) -> list[Example]:
    """Every training paragraph of the data folders (outside the held-out fold with ``hold_out``),
    at most ``max_paragraphs`` of each language of each folder."""
    maker, split = _ExampleMaker(tokenizer, config), heldout.fold_split(config.fold, data_dirs)
    examples: list[Example] = []
    for data_dir in map(Path, data_dirs):
        records = [record for record in read_training(data_dir) if _trained_on(record, config, split)]
        for _, language in groupby(records, key=lambda record: record.lang):
            found = chain.from_iterable(maker.article(record) for record in language)
            examples += islice(found, config.max_paragraphs or None)
    return examples
