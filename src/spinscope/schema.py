"""The Analysis JSON schema: the one definition of what ``spinscope analyze --format json``, the
REST API and the corpus store read and write.

:class:`AnalysisSchema` is a pydantic model. :meth:`spinscope.analysis.Analysis.to_dict` dumps
it, :meth:`~spinscope.analysis.Analysis.from_dict` validates with it, the API declares it as its
response model (so every answer is checked against it) and the store writes what it holds. A
part whose pipeline component was disabled is ``null`` (genre) or an empty list.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from . import taxonomy

GenreName = Literal[taxonomy.GENRE_NAMES]  # type: ignore[valid-type]
FrameName = Literal[taxonomy.FRAME_NAMES]  # type: ignore[valid-type]
TechniqueName = Literal[taxonomy.TECHNIQUE_NAMES]  # type: ignore[valid-type]
NarrativeName = Literal[taxonomy.NARRATIVE_NAMES]  # type: ignore[valid-type]
SubnarrativeName = Literal[taxonomy.SUBNARRATIVE_NAMES]  # type: ignore[valid-type]
RoleName = Literal[taxonomy.ROLE_NAMES]  # type: ignore[valid-type]
FineRoleName = Literal[taxonomy.FINE_ROLE_NAMES]  # type: ignore[valid-type]
Score = Field(ge=0.0, le=1.0, description="Model probability, 0 to 1.")


def _scored(name: str, label_type: Any) -> type[BaseModel]:
    """A ``{label, score}`` schema whose label is one of ``label_type``; named for the OpenAPI docs."""
    return create_model(name, label=(label_type, ...), score=(float, Score))


ScoredTechnique = _scored("ScoredTechnique", TechniqueName)
ScoredFrame = _scored("ScoredFrame", FrameName)
ScoredFineRole = _scored("ScoredFineRole", FineRoleName)


class GenreSchema(BaseModel):
    label: GenreName
    scores: dict[GenreName, float]


class OffsetsSchema(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class ParagraphSchema(BaseModel):
    line: int = Field(ge=1, description="1-based line number in ``text``.")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    techniques: list[ScoredTechnique]  # type: ignore[valid-type]


class SpanSchema(BaseModel):
    technique: TechniqueName
    start: int = Field(ge=0, description="Offset into ``text`` (Unicode code points), inclusive.")
    end: int = Field(ge=0, description="Offset into ``text`` (Unicode code points), exclusive.")
    text: str
    score: float = Score


class EvidenceSchema(BaseModel):
    start: int = Field(ge=0, description="Offset into ``text`` (Unicode code points), inclusive.")
    end: int = Field(ge=0, description="Offset into ``text`` (Unicode code points), exclusive.")
    text: str = Field(description="The sentence: ``text[start:end]``.")
    score: float = Field(ge=0.0, le=1.0, description="The model's score for the label on this sentence.")


def _evidences() -> Any:
    return Field([], description="The sentences that carry it, best first.")


class SubnarrativeSchema(BaseModel):
    label: SubnarrativeName
    score: float = Score
    evidence: list[EvidenceSchema] = _evidences()


class NarrativeSchema(BaseModel):
    label: NarrativeName
    score: float = Score
    subnarratives: list[SubnarrativeSchema] = Field(description="Its sub-narratives in the article, best first.")
    evidence: list[EvidenceSchema] = _evidences()


class MentionSchema(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class EntitySchema(BaseModel):
    name: str
    role: RoleName
    score: float = Score
    fine_roles: list[ScoredFineRole] = Field(description="Fine roles of the main role.")  # type: ignore[valid-type]
    start: int = Field(ge=0, description="The mention the role rests on: its start in ``text``.")
    end: int = Field(ge=0, description="The mention the role rests on: its end (exclusive).")
    mentions: list[MentionSchema] = Field(description="Every mention of this name that was found.")
    evidence: list[EvidenceSchema] = Field([], description="The sentences where its role is argued, best first.")


class ExplanationSchema(BaseModel):
    narrative: NarrativeName
    subnarrative: SubnarrativeName | None = Field(description="Null when only the narrative applies.")
    text: str = Field(description="At most 80 words in the article's language, taken from its evidence.")
    evidence: list[EvidenceSchema] = Field(description="The sentences it was taken from, in the order it reads them.")


class AnalysisSchema(BaseModel):
    """Everything spinscope says about one article; every offset indexes ``text``. Lists default
    to empty, so analyses stored before narratives and entities existed still read."""

    # Every field is in every answer: the OpenAPI docs say so, though reading defaults them.
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    text: str
    language: str | None = None
    title: OffsetsSchema | None = None
    genre: GenreSchema | None = Field(None, description="Null when the genre component is disabled.")
    frames: list[ScoredFrame] = Field([], description="The frames above their thresholds, best first.")  # type: ignore[valid-type]
    paragraphs: list[ParagraphSchema] = []
    spans: list[SpanSchema] = []
    models: dict[str, Any] = Field({}, description="Version and cross-validation scores of each model.")
    id: str = ""
    frame_scores: dict[FrameName, float] = Field({}, description="The score of every frame.")
    narratives: list[NarrativeSchema] = Field(
        [], description="Narratives the article pushes, best first (SemEval-2025)."
    )
    entities: list[EntitySchema] = Field([], description="Named entities and the role the article casts them in.")
    explanation: ExplanationSchema | None = Field(
        None, description="Why the article pushes its dominant narrative; null when it pushes none."
    )
