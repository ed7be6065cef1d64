"""``Analyzer``: loads the shipped models once and turns an :class:`Article` into an :class:`Analysis`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .document import Article
from .features import Embedder, EmbeddingCache, article_features, paragraph_features
from .models import Head
from .spans import SpanModel

MODEL_DIR = Path(__file__).parent / "trained"
TASKS = ("genre", "frames", "techniques")


@dataclass
class Scored:
    label: str
    score: float


@dataclass
class ParagraphLabels:
    line: int
    start: int
    end: int
    techniques: list[Scored]


@dataclass
class SpanLabel:
    technique: str
    start: int
    end: int
    text: str
    score: float


@dataclass
class Analysis:
    """Everything spinscope says about one article. Every offset indexes ``text``."""

    text: str
    language: str | None
    title: dict | None
    genre: dict
    frames: list[Scored]
    paragraphs: list[ParagraphLabels]
    spans: list[SpanLabel]
    models: dict
    id: str = ""
    frame_scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _round(x: float) -> float:
    return round(float(x), 4)


def model_folder(model_dir: Path | str | None = None) -> Path:
    """The folder of trained models to load (the shipped ones by default).

    Raises ``FileNotFoundError`` saying how to get models when one is missing.
    """
    folder = Path(model_dir) if model_dir else MODEL_DIR
    missing = [t for t in TASKS if not (folder / f"{t}.json").is_file()]
    if missing:
        raise FileNotFoundError(f"no trained model for {', '.join(missing)} in {folder}: "
                                "run `spinscope train DATA_DIR --output MODEL_DIR` first, or pass --models")
    return folder


class Analyzer:
    """Runs every model on articles. Load once, reuse: ``Analyzer().analyze(article)``."""

    def __init__(self, model_dir: Path | str | None = None, embedder: Embedder | None = None,
                 cache: bool = True):
        self.model_dir = model_folder(model_dir)
        self.heads = {task: Head.load(self.model_dir, task) for task in TASKS}
        self.spans = SpanModel.load(self.model_dir) if (self.model_dir / "spans.json").is_file() else None
        self.embedder = embedder or Embedder(EmbeddingCache() if cache else None)

    @property
    def model_info(self) -> dict:
        info = {task: {k: head.meta.get(k) for k in ("version", "estimator", "features", "threshold", "cv")}
                for task, head in self.heads.items()}
        if self.spans:
            info["spans"] = {k: self.spans.meta.get(k) for k in ("version", "estimator", "cv")}
        return info

    def embed(self, article: Article) -> np.ndarray:
        return self.embedder.embed([p.text for p in article.paragraphs])

    def analyze(self, article: Article) -> Analysis:
        return self.analyze_embedded(article, self.embed(article))

    def analyze_embedded(self, article: Article, embeddings: np.ndarray) -> Analysis:
        """Analyse ``article`` given its paragraph embeddings ``(len(paragraphs), 384)``."""
        genre, frames, techniques = (self.heads[t] for t in TASKS)
        doc = article_features(embeddings)[None, :]
        genre_p = genre.predict_proba(doc)[0]
        frame_p = frames.predict_proba(doc)[0]
        tech_p = techniques.predict_proba(paragraph_features(embeddings))
        paragraphs = [
            ParagraphLabels(p.line, p.start, p.end, _chosen(techniques, row))
            for p, row in zip(article.paragraphs, tech_p)
        ]
        title = article.title
        return Analysis(
            text=article.text,
            language=article.language,
            title={"start": title.start, "end": title.end} if title else None,
            genre={"label": genre.decide(genre_p[None, :])[0][0],
                   "scores": {label: _round(s) for label, s in zip(genre.labels, genre_p)}},
            frames=_chosen(frames, frame_p),
            paragraphs=paragraphs,
            spans=self._spans(article, paragraphs),
            models=self.model_info,
            id=article.id,
            frame_scores={label: _round(s) for label, s in zip(frames.labels, frame_p)},
        )


    def _spans(self, article: Article, paragraphs: list[ParagraphLabels]) -> list[SpanLabel]:
        if not self.spans:
            return []
        out = []
        for p in paragraphs:
            found = self.spans.paragraph_spans(article.text[p.start:p.end], p.start,
                                               [(t.label, t.score) for t in p.techniques], article.language)
            out.extend(SpanLabel(t, a, b, article.text[a:b], score) for t, a, b, score in found)
        return sorted(out, key=lambda s: (s.start, s.end, s.technique))


def _chosen(head: Head, proba: np.ndarray) -> list[Scored]:
    chosen = head.decide(proba[None, :])[0]
    scores = dict(zip(head.labels, proba))
    return sorted((Scored(label, _round(scores[label])) for label in chosen), key=lambda s: -s.score)
