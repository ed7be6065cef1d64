"""The result of analysing one article: typed objects that point into the article's text.

An :class:`Analysis` owns its :class:`~spinscope.document.Article`; spans are views of its text
and every offset indexes it. :meth:`Analysis.to_dict` gives the Analysis JSON (the contract of
``spinscope analyze --format json``, of the REST API and of the corpus store) and
:meth:`Analysis.from_dict` reads it back, checking that every span still fits the text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .document import Article, Mention, Paragraph, Span


@dataclass(frozen=True)
class Scored:
    """A label with the model's probability for it (0 to 1)."""

    label: str
    score: float

    def to_dict(self) -> dict:
        return {"label": self.label, "score": self.score}


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
class Narrative:
    """A narrative the article pushes, with those of its sub-narratives it pushes too."""

    label: str
    score: float
    subnarratives: list[Scored]


@dataclass(frozen=True)
class Entity:
    """A named entity and the role the article gives it.

    ``start``/``end`` locate the mention the role rests on (the one whose context argues it
    most); ``mentions`` are all the mentions of the same name that were found.
    """

    name: str
    role: str
    score: float
    fine_roles: list[Scored]
    start: int
    end: int
    mentions: list[Mention]


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
        """The Analysis JSON: plain data, keys in the documented order."""
        title = self.title
        return {
            "text": self.text,
            "language": self.language,
            "title": {"start": title.start, "end": title.end} if title else None,
            "genre": {"label": self.genre.label, "scores": dict(self.genre.scores)} if self.genre else None,
            "frames": [f.to_dict() for f in self.frames],
            "paragraphs": [{"line": p.line, "start": p.start, "end": p.end,
                            "techniques": [t.to_dict() for t in p.techniques]} for p in self.paragraphs],
            "spans": [{"technique": s.label, "start": s.start, "end": s.end, "text": s.text, "score": s.score}
                      for s in self.spans],
            "models": self.models,
            "id": self.id,
            "frame_scores": dict(self.frame_scores),
            "narratives": [{"label": n.label, "score": n.score, "subnarratives": [s.to_dict() for s in n.subnarratives]}
                           for n in self.narratives],
            "entities": [{"name": e.name, "role": e.role, "score": e.score,
                          "fine_roles": [f.to_dict() for f in e.fine_roles], "start": e.start, "end": e.end,
                          "mentions": [{"start": m.start, "end": m.end, "text": m.text} for m in e.mentions]}
                         for e in self.entities],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Analysis":
        """Read :meth:`to_dict`'s output back. Analyses stored before narratives and entities
        existed read with none. Raises ``ValueError`` when a span's text is not the text at its
        offsets (the analysis belongs to another text)."""
        article = Article(data["text"], id=data.get("id", ""), language=data.get("language"))
        spans = [article.span(s["start"], s["end"], s["technique"], s["score"]) for s in data.get("spans", [])]
        for span, given in zip(spans, data.get("spans", [])):
            if "text" in given and span.text != given["text"]:
                raise ValueError(f"span [{span.start}, {span.end}) reads {span.text!r}, not {given['text']!r}: "
                                 "the analysis belongs to another text")
        genre = data.get("genre")
        return cls(
            article=article,
            genre=Genre(genre["label"], dict(genre["scores"])) if genre else None,
            frames=_scored(data.get("frames", [])),
            frame_scores=dict(data.get("frame_scores", {})),
            paragraphs=[ParagraphLabels(p["line"], p["start"], p["end"], _scored(p["techniques"]))
                        for p in data.get("paragraphs", [])],
            spans=spans,
            narratives=[Narrative(n["label"], n["score"], _scored(n["subnarratives"]))
                        for n in data.get("narratives", [])],
            entities=[Entity(e["name"], e["role"], e["score"], _scored(e["fine_roles"]), e["start"], e["end"],
                             [Mention(m["start"], m["end"], m["text"]) for m in e["mentions"]])
                      for e in data.get("entities", [])],
            models=data.get("models", {}),
        )


def _scored(items: list[dict]) -> list[Scored]:
    return [Scored(x["label"], x["score"]) for x in items]
