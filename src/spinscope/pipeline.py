"""``Analyzer``: loads the shipped models once and turns an :class:`Article` into an :class:`Analysis`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .document import Article
from .features import Embedder, EmbeddingCache, article_features, mention_rows, paragraph_features
from .models import Head
from .narratives import NARRATIVE_TASKS, ROLE_TASKS, MentionFinder, NarrativeRule, RoleRule, group_names
from .spans import SpanModel
from .taxonomy import narrative_parent

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
class Narrative:
    label: str
    score: float
    subnarratives: list[Scored]


@dataclass
class Mention:
    start: int
    end: int
    text: str


@dataclass
class Entity:
    """A named entity and the role the article gives it.

    ``start``/``end`` locate the mention the role rests on (the one whose context argues it
    most); ``mentions`` are all the mentions of the same name that were read.
    """

    name: str
    role: str
    score: float
    fine_roles: list[Scored]
    start: int
    end: int
    mentions: list[Mention]


#: At most this many entities per article (the most mentioned), each judged on at most
#: this many of its mentions, spread over the article.
MAX_ENTITIES = 12
MENTIONS_PER_ENTITY = 20


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
    narratives: list[Narrative] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)

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
        self.framing = {task: Head.load(self.model_dir, task) for task in NARRATIVE_TASKS + ROLE_TASKS
                        if (self.model_dir / f"{task}.json").is_file()}
        if len(self.framing) != len(NARRATIVE_TASKS + ROLE_TASKS):
            self.framing = {}
        finder = self.model_dir / "mentions.json"
        self.finder = MentionFinder.load(finder) if finder.is_file() else MentionFinder()
        self.embedder = embedder or Embedder(EmbeddingCache() if cache else None)

    @property
    def model_info(self) -> dict:
        info = {task: {k: head.meta.get(k) for k in ("version", "estimator", "features", "threshold", "cv")}
                for task, head in self.heads.items()}
        if self.spans:
            info["spans"] = {k: self.spans.meta.get(k) for k in ("version", "estimator", "cv")}
        for task, head in self.framing.items():
            info[task] = {k: head.meta.get(k) for k in ("version", "estimator", "features", "rule", "cv")}
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
            narratives=self.narratives(doc),
            entities=self.entities(article, embeddings),
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


    # --- narratives and entity roles -------------------------------------------------------

    def narratives(self, doc: np.ndarray) -> list[Narrative]:
        """Narratives of an article from its :func:`article_features` row ``(1, n)``."""
        if not self.framing:
            return []
        coarse, fine = self.framing["narratives"], self.framing["subnarratives"]
        p, q = coarse.predict_proba(doc)[0], fine.predict_proba(doc)[0]
        chosen, sub = NarrativeRule(**coarse.meta["rule"]).decide(coarse.labels, p, fine.labels, q)
        p, q = dict(zip(coarse.labels, p)), dict(zip(fine.labels, q))
        return [Narrative(c, _round(p[c]), [Scored(f, _round(q[f])) for f in sub if narrative_parent(f) == c])
                for c in chosen]

    def mention_roles(self, article: Article, embeddings: np.ndarray, spans: list[tuple[int, int]]
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Main-role and fine-role probabilities of the mentions at ``spans`` of ``article``."""
        X = mention_rows(article, embeddings, spans, self.embedder)
        return self.framing["roles"].predict_proba(X), self.framing["fine_roles"].predict_proba(X)

    def role_decisions(self, P: np.ndarray, Q: np.ndarray) -> list[tuple[str, list[str]]]:
        roles, fine = self.framing["roles"], self.framing["fine_roles"]
        rule = RoleRule(**roles.meta["rule"])
        return [rule.decide(roles.labels, p, fine.labels, q) for p, q in zip(P, Q)]

    def entities(self, article: Article, embeddings: np.ndarray) -> list[Entity]:
        """Entities found in ``article``, the most mentioned first, each with its role."""
        if not self.framing or not len(embeddings):
            return []
        by_name: dict[str, list[tuple[int, int]]] = {}
        for a, b in self.finder.find(article.text):
            by_name.setdefault(" ".join(article.text[a:b].split()), []).append((a, b))
        for name in [n for n in by_name if " " in n]:  # "Vladimir Putin" is the "Putin" of the article
            last = name.rsplit(" ", 1)[1]
            if last in by_name:
                by_name[last] = sorted(by_name[last] + by_name.pop(name))
        # Inflected forms ("Украине", "Украины") are one entity, named by its most frequent form.
        grouped: dict[str, list[tuple[int, int]]] = {}
        for name, head in group_names(_most_mentioned(by_name), self.embedder.embed).items():
            grouped[head] = sorted(grouped.get(head, []) + by_name[name])
        by_name = grouped
        names = _most_mentioned(by_name)[:MAX_ENTITIES]
        if not names:
            return []
        read = [(name, span) for name in names for span in _spread(by_name[name], MENTIONS_PER_ENTITY)]
        P, Q = self.mention_roles(article, embeddings, [span for _, span in read])
        roles, fine = self.framing["roles"], self.framing["fine_roles"]
        out = []
        for name in names:
            rows = [i for i, (n, _) in enumerate(read) if n == name]
            p, q = P[rows].mean(axis=0), Q[rows].mean(axis=0)
            role, fine_roles = self.role_decisions(p[None], q[None])[0]
            r = roles.labels.index(role)
            a, b = read[rows[int(P[rows, r].argmax())]][1]
            out.append(Entity(name, role, _round(p[r]),
                              [Scored(f, _round(q[fine.labels.index(f)])) for f in fine_roles], a, b,
                              [Mention(s, e, article.text[s:e]) for s, e in by_name[name]]))
        return out


def _most_mentioned(by_name: dict[str, list[tuple[int, int]]]) -> list[str]:
    """Names by number of mentions, then by first mention."""
    return sorted(by_name, key=lambda n: (-len(by_name[n]), by_name[n][0]))


def _spread(items: list, n: int) -> list:
    """At most ``n`` of ``items``, evenly spaced, first and last included."""
    if len(items) <= n:
        return items
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def _chosen(head: Head, proba: np.ndarray) -> list[Scored]:
    chosen = head.decide(proba[None, :])[0]
    scores = dict(zip(head.labels, proba))
    return sorted((Scored(label, _round(scores[label])) for label in chosen), key=lambda s: -s.score)
