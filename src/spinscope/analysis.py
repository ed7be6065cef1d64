"""The result of analysing one article: typed objects that point into the article's text.

An :class:`Analysis` owns its :class:`~spinscope.document.Article`; spans are views of its text
and every offset indexes it. :meth:`Analysis.to_dict` gives the Analysis JSON (the contract of
``spinscope analyze --format json``, of the REST API and of the corpus store) and
:meth:`Analysis.from_dict` reads it back, checking that every span still fits the text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pydantic import ValidationError

from .document import Article, Mention, Paragraph, Span
from .errors import InputError
from .schema import AnalysisSchema


@dataclass(frozen=True)
class Scored:
    """A label with the model's probability for it (0 to 1)."""

    label: str
    score: float


@dataclass(frozen=True)
class Genre:
    """The chosen genre and the probability of each genre."""

    label: str
    scores: dict[str, float]


@dataclass(frozen=True)
class ParagraphLabels:
    """The techniques found in one paragraph (``line`` is 1-based; ``[start, end)`` in the text)."""

    line: int
    start: int
    end: int
    techniques: list[Scored]


@dataclass(frozen=True)
class Evidence:
    """A sentence that carries a label: ``[start, end)`` of the text, its words, and the
    model's score for the label on that sentence (0 to 1)."""

    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Subnarrative(Scored):
    """A sub-narrative the article pushes, with its evidence sentences, best first."""

    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class Narrative:
    """A narrative the article pushes, with those of its sub-narratives it pushes too, and
    the sentences that carry it, best first."""

    label: str
    score: float
    subnarratives: list[Subnarrative]
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    """Why the article pushes ``narrative`` (and ``subnarrative``, ``None`` when it has none):
    at most 80 words in the article's language, taken from the ``evidence`` sentences."""

    narrative: str
    subnarrative: str | None
    text: str
    evidence: list[Evidence]


@dataclass(frozen=True)
class Entity:
    """A named entity and the role the article gives it.

    ``start``/``end`` locate the mention the role rests on (the one whose context argues it
    most); ``mentions`` are all the mentions of the same name that were found; ``evidence``
    the sentences where the role is argued, best first.
    """

    name: str
    role: str
    score: float
    fine_roles: list[Scored]
    start: int
    end: int
    mentions: list[Mention]
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Analysis:
    """Everything spinscope says about one article. A part whose pipeline component was
    disabled stays empty (``genre`` is then ``None``)."""

    article: Article
    genre: Genre | None = None
    frames: list[Scored] = field(default_factory=list)
    frame_scores: dict[str, float] = field(default_factory=dict)
    paragraphs: list[ParagraphLabels] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    narratives: list[Narrative] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    explanation: Explanation | None = None
    models: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.article.text

    @property
    def language(self) -> str | None:
        return self.article.language

    @property
    def id(self) -> str:
        return self.article.id

    @property
    def title(self) -> Paragraph | None:
        return self.article.title

    def to_dict(self) -> dict:
        """The Analysis JSON (:class:`~spinscope.schema.AnalysisSchema`): plain data, keys in the
        documented order."""
        return self.to_schema().model_dump()

    def to_schema(self) -> AnalysisSchema:
        title = self.title
        return AnalysisSchema.model_validate(
            {
                "text": self.text,
                "language": self.language,
                "title": {"start": title.start, "end": title.end} if title else None,
                "genre": {"label": self.genre.label, "scores": self.genre.scores} if self.genre else None,
                "frames": [asdict(f) for f in self.frames],
                "paragraphs": [asdict(p) for p in self.paragraphs],
                "spans": [
                    {"technique": s.label, "start": s.start, "end": s.end, "text": s.text, "score": s.score}
                    for s in self.spans
                ],
                "models": self.models,
                "id": self.id,
                "frame_scores": self.frame_scores,
                "narratives": [asdict(n) for n in self.narratives],
                "entities": [asdict(e) for e in self.entities],
                "explanation": asdict(self.explanation) if self.explanation else None,
            }
        )

    @classmethod
    def from_dict(cls, data: dict) -> Analysis:
        """Read :meth:`to_dict`'s output back, validated by :class:`~spinscope.schema.AnalysisSchema`.
        Raises :class:`~spinscope.errors.InputError` when it does not follow the schema or a span's
        text is not the text at its offsets (the analysis belongs to another text)."""
        try:
            schema = AnalysisSchema.model_validate(data)
        except ValidationError as error:
            raise InputError(
                f"not an Analysis: {error.errors()[0]['msg']} at {'.'.join(map(str, error.errors()[0]['loc']))}"
            ) from None
        return cls.from_schema(schema)

    @classmethod
    def from_schema(cls, data: AnalysisSchema) -> Analysis:
        article = Article(data.text, id=data.id, language=data.language)
        spans = []
        for given in data.spans:
            if given.end > len(article.text) or given.start > given.end:
                raise InputError(
                    f"span [{given.start}, {given.end}) does not fit a text of {len(article.text)} "
                    "characters: the analysis belongs to another text"
                )
            span = article.span(given.start, given.end, given.technique, given.score)
            if span.text != given.text:
                raise InputError(
                    f"span [{span.start}, {span.end}) reads {span.text!r}, not {given.text!r}: "
                    "the analysis belongs to another text"
                )
            spans.append(span)
        return cls(
            article=article,
            genre=Genre(data.genre.label, dict(data.genre.scores)) if data.genre else None,
            frames=_scored(data.frames),
            frame_scores=dict(data.frame_scores),
            paragraphs=[ParagraphLabels(p.line, p.start, p.end, _scored(p.techniques)) for p in data.paragraphs],
            spans=spans,
            narratives=[
                Narrative(
                    n.label,
                    n.score,
                    [Subnarrative(x.label, x.score, _evidence(article, x.evidence)) for x in n.subnarratives],
                    _evidence(article, n.evidence),
                )
                for n in data.narratives
            ],
            entities=[
                Entity(
                    e.name,
                    e.role,
                    e.score,
                    _scored(e.fine_roles),
                    e.start,
                    e.end,
                    [Mention(m.start, m.end, m.text) for m in e.mentions],
                    _evidence(article, e.evidence),
                )
                for e in data.entities
            ],
            explanation=_explanation(article, data.explanation),
            models=data.models,
        )


def _scored(items: list) -> list[Scored]:
    return [Scored(x.label, x.score) for x in items]


def _evidence(article: Article, items: list) -> list[Evidence]:
    """Evidence read back, checked like spans: it must hold the words it says at its offsets."""
    for x in items:
        if x.start > x.end or article.text[x.start : x.end] != x.text:
            raise InputError(
                f"evidence [{x.start}, {x.end}) does not read {x.text[:40]!r}: the analysis belongs to another text"
            )
    return [Evidence(x.start, x.end, x.text, x.score) for x in items]


def _explanation(article: Article, data) -> Explanation | None:
    if data is None:
        return None
    return Explanation(data.narrative, data.subnarrative, data.text, _evidence(article, data.evidence))
