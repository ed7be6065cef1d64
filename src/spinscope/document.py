"""The document model: an :class:`Article` owns its text; everything else is a view by offsets.

Offsets are Python string indices into ``Article.text``, end exclusive, exactly as in the
SemEval span files: a ``\\r`` before a line break and a leading byte-order mark each count as
one character, so a gold span ``(start, end)`` slices ``article.text[start:end]`` unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """A non-empty line of an article: 1-based ``line`` number and ``[start, end)`` offsets.

    ``end`` stops before the line's ``\\r\\n`` or ``\\n``.
    """

    line: int
    start: int
    end: int
    text: str

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Span:
    """A labelled character range ``[start, end)`` of a text: the one span type of spinscope.

    A span is a view: ``text`` slices the text that owns it (``owner``, usually an article's
    text), so it is never copied or out of date. Technique spans carry the technique as
    ``label``; the score is the model's confidence (1.0 for gold spans).
    """

    start: int
    end: int
    label: str
    score: float = 1.0
    owner: str = field(default="", repr=False, compare=False)

    def __post_init__(self):
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span [{self.start}, {self.end}) for {self.label}")
        if self.owner and self.end > len(self.owner):
            raise ValueError(
                f"span [{self.start}, {self.end}) of {self.label} ends past its text ({len(self.owner)} characters)"
            )

    @property
    def text(self) -> str:
        return self.owner[self.start : self.end]


@dataclass(frozen=True)
class Mention:
    """Where an entity is named: ``[start, end)`` of its article's text, and the words used.

    ``end`` is exclusive here as everywhere in spinscope; only the SemEval-2025 file readers
    and writers see the inclusive ends of that format.
    """

    start: int
    end: int
    text: str


def split_lines(text: str) -> list[Paragraph]:
    """Every non-blank line of ``text`` as a :class:`Paragraph` (lines split on ``\\n`` only)."""
    paragraphs = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        end = start + len(raw)
        stop = end - 1 if raw.endswith("\r") else end
        if raw.strip():
            paragraphs.append(Paragraph(number, start, stop, text[start:stop]))
        start = end + 1
    return paragraphs


@dataclass(frozen=True)
class Article:
    """An article's exact text, split into paragraphs (one per non-blank line).

    The first paragraph is the title, as in the SemEval layout (title, blank line, body).
    ``id`` and ``language`` are metadata; ``language`` is an ISO 639-1 code or ``None``.
    """

    text: str
    id: str = ""
    language: str | None = None
    paragraphs: tuple[Paragraph, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "paragraphs", tuple(split_lines(self.text)))

    @property
    def title(self) -> Paragraph | None:
        return self.paragraphs[0] if self.paragraphs else None

    @property
    def body(self) -> tuple[Paragraph, ...]:
        return self.paragraphs[1:]

    def paragraph_at_line(self, line: int) -> Paragraph | None:
        """The paragraph on 1-based ``line``, or ``None`` when that line is blank or absent."""
        for paragraph in self.paragraphs:
            if paragraph.line == line:
                return paragraph
        return None

    def paragraph_of(self, offset: int) -> Paragraph | None:
        """The paragraph holding character ``offset``, or ``None`` (between lines)."""
        for paragraph in self.paragraphs:
            if paragraph.start <= offset < paragraph.end:
                return paragraph
        return None

    def span(self, start: int, end: int, label: str, score: float = 1.0) -> Span:
        """A :class:`Span` of this article's text."""
        return Span(start, end, label, score, self.text)

    def mention(self, start: int, end: int) -> Mention:
        """A :class:`Mention` of this article's text."""
        return Mention(start, end, self.text[start:end])

    def with_language(self, language: str | None) -> Article:
        return Article(self.text, id=self.id, language=language)

    @classmethod
    def from_parts(cls, title: str, paragraphs: list[str], **meta) -> Article:
        """Build an article in the SemEval layout from a title and body paragraphs."""
        clean = [" ".join(p.split()) for p in paragraphs]
        body = "\n".join(p for p in clean if p)
        return cls(" ".join(title.split()) + "\n\n" + body + "\n", **meta)


def title_of(text: str) -> str:
    """The title of an article's text: its first non-blank line, whitespace collapsed ("" if none)."""
    for line in text.lstrip("\ufeff").split("\n"):
        if line.strip():
            return " ".join(line.split())
    return ""


def segments(start: int, end: int, spans: Sequence) -> list[tuple[int, int, list]]:
    """Cut ``[start, end)`` at every boundary of ``spans`` (anything with ``start`` and ``end``):
    ``(a, b, the spans covering [a, b))`` pieces, in order, so overlapping spans can be drawn."""
    inside = [s for s in spans if s.start < end and s.end > start]
    cuts = sorted({start, end, *(max(start, s.start) for s in inside), *(min(end, s.end) for s in inside)})
    return [(a, b, [s for s in inside if s.start <= a and s.end >= b]) for a, b in zip(cuts, cuts[1:])]
