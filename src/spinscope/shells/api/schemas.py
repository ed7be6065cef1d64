"""The API's own request and answer schemas; the Analysis itself is
:class:`spinscope.schema.AnalysisSchema`, the one definition shared with the CLI and the store."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...io import MAX_CHARS


class AnalyzeRequest(BaseModel):
    """One article to analyse: exactly one of ``text``, ``url`` or ``html``."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"text": "A headline on the first line\n\nThe first paragraph of the article.\nThe second one."},
                {"url": "https://example.org/news/some-article", "lang": "en"},
            ],
            # The rule of _exactly_one_source, stated for clients generated from the schema.
            "oneOf": [
                {"required": [name], "properties": {name: {"type": "string"}}} for name in ("text", "url", "html")
            ],
        },
    )

    text: str | None = Field(
        None,
        description=(
            f"The article as plain text, at most {MAX_CHARS:,} characters: the first line is the title, "
            "then one paragraph per line."
        ),
    )
    url: str | None = Field(
        None,
        max_length=8192,
        description=(
            "An http(s) address of a public web page; its main text is extracted. Private and "
            "internal addresses are refused."
        ),
    )
    html: str | None = Field(None, description="The HTML of a web page; its main text is extracted.")
    lang: str | None = Field(
        None, max_length=16, description=("ISO 639-1 language code such as en, fr or de; detected when omitted.")
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> AnalyzeRequest:
        given = [name for name in ("text", "url", "html") if getattr(self, name) is not None]
        if len(given) != 1:
            found = f"got {' and '.join(given)}" if given else "got none"
            raise ValueError(f"give exactly one of text, url or html ({found})")
        return self


class LabelOut(BaseModel):
    name: str
    title: str
    group: str
    definition: str


class GroupOut(BaseModel):
    name: str
    colour: str = Field(description="CSS colour used to highlight this group's techniques.")


class TaxonomyOut(BaseModel):
    genres: list[LabelOut]
    frames: list[LabelOut]
    techniques: list[LabelOut]
    narratives: list[LabelOut]
    subnarratives: list[LabelOut] = Field(description="Each sub-narrative's group is its narrative.")
    roles: list[LabelOut]
    fine_roles: list[LabelOut] = Field(description="Each fine role's group is its main role.")
    technique_groups: list[GroupOut]
    role_colours: list[GroupOut]


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    models: dict[str, Any]


class ErrorOut(BaseModel):
    error: str = Field(description="One sentence saying what was wrong and what to do.")
    details: list[dict[str, Any]] | None = None
