"""The :class:`Analyzer`: a list of named components that turn an :class:`Article` into an
:class:`Analysis`.

Every component reads the article and its paragraph embeddings (and what the components
before it wrote) and fills its part of the analysis:

=============  ===============================================  ======================
component      fills                                            model files
=============  ===============================================  ======================
``genre``      ``genre``                                        genre
``frames``     ``frames``, ``frame_scores``                     frames
``techniques`` ``paragraphs`` (techniques per paragraph)        techniques
``spans``      ``spans`` (needs ``techniques``)                 spans
``narratives`` ``narratives``                                   narratives, subnarratives
``entities``   ``entities``                                     mentions, roles, fine_roles
=============  ===============================================  ======================

A component can be disabled (``Analyzer(disable=["spans"])``): its part stays empty. A model
file missing for an enabled component is a :class:`~spinscope.errors.ModelError`.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import ClassVar

import numpy as np

from .analysis import Analysis, Entity, Genre, Narrative, ParagraphLabels, Scored
from .document import Article
from .encoder import TokenStates
from .encoder.signature import GRAPH_FILE
from .errors import ModelError
from .models.embeddings import Embedder, EmbeddingCache, article_features, paragraph_features
from .models.entities import MentionFinder, group_names
from .models.heads import Head
from .models.narratives import NarrativeRule, RoleRule
from .models.spans import SpanModel
from .models.states import mention_rows, mention_states
from .taxonomy import narrative_parent

MODEL_DIR = Path(__file__).parent / "trained"
#: At most this many entities per article (the most mentioned), each judged on at most
#: this many of its mentions, spread over the article.
MAX_ENTITIES = 12
MENTIONS_PER_ENTITY = 20


def _round(x: float) -> float:
    return round(float(x), 4)


@dataclass
class Doc:
    """What a component reads and writes: the article, its paragraph embeddings
    ``(len(article.paragraphs), 384)``, the encoder's token states of its paragraphs (on
    demand, see :meth:`token_states`) and the analysis being filled."""

    article: Article
    embeddings: np.ndarray
    embedder: Embedder
    #: Token states of the paragraphs encoded so far, by paragraph index.
    states: dict[int, TokenStates] = field(default_factory=dict)
    analysis: Analysis = field(init=False)

    def __post_init__(self):
        self.analysis = Analysis(self.article)

    def token_states(self, indices: Iterable[int]) -> list[TokenStates]:
        """The token states of the paragraphs at ``indices``.

        The first call encodes every paragraph of the article in one pass: activations are
        quantised per batch, so states read from a pass over other paragraphs would differ
        slightly, and the analysis of an article must not depend on what was needed or cached.
        """
        if len(self.states) < len(self.article.paragraphs):
            self.states = dict(enumerate(self.embedder.token_states([p.text for p in self.article.paragraphs])))
        return [self.states[i] for i in indices]

    @cached_property
    def article_row(self) -> np.ndarray:
        """The article's feature row ``(1, 3 * 384)`` (see :func:`article_features`)."""
        return article_features(self.embeddings)[None, :]


class Component:
    """A step of the pipeline, built with ``(model folder, embedder)``. Subclasses name the
    model ``files`` they load from the folder and the components whose output they ``require``."""

    name: ClassVar[str]
    files: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[str, ...]] = ()
    #: Whether it reads the encoder's token states of paragraphs (:meth:`Doc.token_states`).
    reads_states: ClassVar[bool] = False

    def __call__(self, doc: Doc) -> None:
        raise NotImplementedError

    @property
    def info(self) -> dict[str, dict]:
        """Version, estimator and cross-validation scores of the component's models, by task."""
        raise NotImplementedError


def _meta_info(meta: dict, keys: Sequence[str]) -> dict:
    return {k: meta.get(k) for k in keys}


_HEAD_INFO = ("version", "estimator", "features", "threshold", "cv")
#: Held-out scores of the models that also record those of the model they replaced and
#: leave-one-language-out ones (see :data:`spinscope.semeval.official.ESTIMATES`).
_HELD_OUT = ("cv", "cv_previous", "lolo", "lolo_previous")


class HeadComponent(Component):
    """A component scored by one :class:`Head`, saved under the component's name."""

    def __init__(self, folder: Path, embedder: Embedder):
        self.head = Head.load(folder, self.name)

    @property
    def info(self) -> dict[str, dict]:
        return {self.name: _meta_info(self.head.meta, _HEAD_INFO)}


class GenreComponent(HeadComponent):
    name, files = "genre", ("genre.json", "genre.npz")

    def __call__(self, doc: Doc) -> None:
        p = self.head.predict_proba(doc.article_row)[0]
        doc.analysis.genre = Genre(self.head.decide(p[None, :])[0][0],
                                   {label: _round(s) for label, s in zip(self.head.labels, p)})


class FramesComponent(HeadComponent):
    name, files = "frames", ("frames.json", "frames.npz")

    def __call__(self, doc: Doc) -> None:
        p = self.head.predict_proba(doc.article_row)[0]
        doc.analysis.frames = _chosen(self.head, p)
        doc.analysis.frame_scores = {label: _round(s) for label, s in zip(self.head.labels, p)}


class TechniquesComponent(HeadComponent):
    name, files = "techniques", ("techniques.json", "techniques.npz")

    def __call__(self, doc: Doc) -> None:
        proba = self.head.predict_proba(paragraph_features(doc.embeddings))
        doc.analysis.paragraphs = [ParagraphLabels(p.line, p.start, p.end, _chosen(self.head, row))
                                   for p, row in zip(doc.article.paragraphs, proba)]


class SpansComponent(Component):
    """Marks, in every paragraph, the words that carry each of its techniques."""

    name, files, requires = "spans", ("spans.json", "spans.npz"), ("techniques",)
    reads_states = True

    def __init__(self, folder: Path, embedder: Embedder):
        self.model = SpanModel.load(folder)

    def __call__(self, doc: Doc) -> None:
        article, labels = doc.article, doc.analysis.paragraphs
        labelled = [i for i, paragraph_labels in enumerate(labels) if paragraph_labels.techniques]
        if self.model.reads_states(article.language):
            encoded = doc.token_states(labelled)
        else:
            encoded = [None] * len(labelled)
        spans = []
        for i, states in zip(labelled, encoded):
            techniques = [(t.label, t.score) for t in labels[i].techniques]
            spans += self.model.paragraph_spans(article, article.paragraphs[i], techniques, states)
        doc.analysis.spans = sorted(spans, key=lambda s: (s.start, s.end, s.label))

    @property
    def info(self) -> dict[str, dict]:
        return {"spans": _meta_info(self.model.meta, ("version", "estimator") + _HELD_OUT)}


_FRAMING_INFO = ("version", "estimator", "features", "rule", "cv")


class NarrativesComponent(Component):
    """Narratives and their sub-narratives, chosen together so that the hierarchy holds."""

    name, files = "narratives", ("narratives.json", "narratives.npz", "subnarratives.json", "subnarratives.npz")

    def __init__(self, folder: Path, embedder: Embedder):
        self.coarse, self.fine = Head.load(folder, "narratives"), Head.load(folder, "subnarratives")
        self.rule = NarrativeRule(**self.coarse.meta["rule"])

    def __call__(self, doc: Doc) -> None:
        coarse, fine = self.coarse, self.fine
        p, q = coarse.predict_proba(doc.article_row)[0], fine.predict_proba(doc.article_row)[0]
        chosen, sub = self.rule.decide(coarse.labels, p, fine.labels, q)
        p, q = dict(zip(coarse.labels, p)), dict(zip(fine.labels, q))
        doc.analysis.narratives = [
            Narrative(c, _round(p[c]), [Scored(f, _round(q[f])) for f in sub if narrative_parent(f) == c])
            for c in chosen]

    @property
    def info(self) -> dict[str, dict]:
        return {"narratives": _meta_info(self.coarse.meta, _FRAMING_INFO),
                "subnarratives": _meta_info(self.fine.meta, _FRAMING_INFO)}


class EntitiesComponent(Component):
    """Finds the named entities of an article and reads the role it gives each of them."""

    name, files = "entities", ("mentions.json", "roles.json", "roles.npz", "fine_roles.json", "fine_roles.npz")
    reads_states = True

    def __init__(self, folder: Path, embedder: Embedder):
        self.finder = MentionFinder.load(folder / "mentions.json")
        self.roles, self.fine_roles = Head.load(folder, "roles"), Head.load(folder, "fine_roles")
        self.rule = RoleRule(**self.roles.meta["rule"])
        self.embedder = embedder

    def mention_roles(self, doc: Doc, spans: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Main-role and fine-role probabilities of the mentions at ``spans`` ``[start, end)`` of
        the document's article."""
        in_context = mention_states(doc.article, spans, doc.token_states)
        X = mention_rows(doc.article, doc.embeddings, spans, self.embedder, in_context)
        return self.roles.predict_proba(X), self.fine_roles.predict_proba(X)

    def decide(self, P: np.ndarray, Q: np.ndarray) -> list[tuple[str, list[str]]]:
        """``(main role, fine roles)`` of each row of :meth:`mention_roles`' probabilities."""
        return [self.rule.decide(self.roles.labels, p, self.fine_roles.labels, q) for p, q in zip(P, Q)]

    def label_mentions(self, article: Article, embeddings: np.ndarray, spans: Sequence[tuple[int, int]]
                       ) -> list[tuple[str, list[str]]]:
        """``(main role, fine roles)`` of the given mentions, each read on its own."""
        return self.decide(*self.mention_roles(Doc(article, embeddings, self.embedder), spans))

    def __call__(self, doc: Doc) -> None:
        article = doc.article
        if not len(doc.embeddings):
            return
        by_name = self._mentions_by_name(article)
        names = _most_mentioned(by_name)[:MAX_ENTITIES]
        if not names:
            return
        read = [(name, span) for name in names for span in _spread(by_name[name], MENTIONS_PER_ENTITY)]
        P, Q = self.mention_roles(doc, [span for _, span in read])
        entities = []
        for name in names:
            rows = [i for i, (n, _) in enumerate(read) if n == name]
            p, q = P[rows].mean(axis=0), Q[rows].mean(axis=0)
            role, fine_roles = self.decide(p[None], q[None])[0]
            r = self.roles.labels.index(role)
            a, b = read[rows[int(P[rows, r].argmax())]][1]
            entities.append(Entity(
                name, role, _round(p[r]),
                [Scored(f, _round(q[self.fine_roles.labels.index(f)])) for f in fine_roles], a, b,
                [article.mention(s, e) for s, e in by_name[name]]))
        doc.analysis.entities = entities

    def _mentions_by_name(self, article: Article) -> dict[str, list[tuple[int, int]]]:
        """The mentions found in ``article``, grouped by entity and keyed by its name."""
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
        return grouped

    @property
    def info(self) -> dict[str, dict]:
        return {"roles": _meta_info(self.roles.meta, _FRAMING_INFO + _HELD_OUT[1:]),
                "fine_roles": _meta_info(self.fine_roles.meta, _FRAMING_INFO)}


#: Every component, in pipeline order.
COMPONENTS: dict[str, type[Component]] = {c.name: c for c in (
    GenreComponent, FramesComponent, TechniquesComponent, SpansComponent, NarrativesComponent, EntitiesComponent)}
PIPE_NAMES = tuple(COMPONENTS)


def model_folder(model_dir: Path | str | None = None, disable: Iterable[str] = ()) -> Path:
    """The folder of trained models (the shipped ones by default), checked to hold every model
    file of the components not in ``disable``; :class:`ModelError` names the missing files."""
    folder = Path(model_dir) if model_dir else MODEL_DIR
    if not folder.is_dir():
        raise ModelError(f"no model folder at {folder}: give a folder written by spinscope's training")
    disabled = _check_names(disable)
    missing = {name: [f for f in c.files if not (folder / f).is_file()]
               for name, c in COMPONENTS.items() if name not in disabled}
    missing = {name: files for name, files in missing.items() if files}
    if missing:
        raise ModelError(f"no trained model for {', '.join(missing)} in {folder} (missing: "
                         f"{', '.join(f for files in missing.values() for f in files)}): train these models "
                         "into the folder, or disable their components")
    return folder


def _check_names(names: Iterable[str]) -> set[str]:
    names = set(names)
    unknown = names - set(COMPONENTS)
    if unknown:
        raise ValueError(f"unknown pipeline component {', '.join(sorted(unknown))}: "
                         f"the components are {', '.join(PIPE_NAMES)}")
    return names


class Analyzer:
    """Runs the pipeline's components on articles. Load once, reuse: ``Analyzer().analyze(article)``.

    ``disable`` names components not to load or run (see :data:`PIPE_NAMES`); ``embedder``
    replaces the default e5 embedder with its on-disk cache (``cache=False``: no cache).
    The encoder starts loading in the background at once, unless ``preload`` is false (an
    analyzer that only reports its models): then on the first text it embeds.
    """

    def __init__(self, model_dir: Path | str | None = None, embedder: Embedder | None = None,
                 cache: bool = True, disable: Iterable[str] = (), preload: bool = True):
        disabled = _check_names(disable)
        self.model_dir = model_folder(model_dir, disabled)
        # A model folder written by `spinscope train --encoder` holds the encoder its models read.
        graph = self.model_dir / GRAPH_FILE
        self.embedder = embedder or Embedder(EmbeddingCache() if cache else None,
                                             graph=graph if graph.is_file() else None)
        if preload:
            self.embedder.preload()  # the encoder loads while the models below do
        self.components: list[tuple[str, Component]] = [
            (name, factory(self.model_dir, self.embedder)) for name, factory in COMPONENTS.items()
            if name not in disabled]
        for name, component in self.components:
            for needed in component.requires:
                if needed not in self.pipe_names:
                    raise ValueError(f"the {name} component needs the {needed} component, which is disabled")
        self.model_info = {task: info for _, c in self.components for task, info in c.info.items()}

    @property
    def pipe_names(self) -> list[str]:
        return [name for name, _ in self.components]

    def get_pipe(self, name: str) -> Component:
        for component_name, component in self.components:
            if component_name == name:
                return component
        raise KeyError(f"no {name} component in this pipeline (it has {', '.join(self.pipe_names)})")

    def embed(self, article: Article) -> np.ndarray:
        """The paragraph embeddings of ``article``: ``(len(article.paragraphs), 384)``."""
        return self.embedder.embed([p.text for p in article.paragraphs])

    def analyze(self, article: Article) -> Analysis:
        return next(self.pipe([article]))

    def analyze_embedded(self, article: Article, embeddings: np.ndarray,
                         states: Sequence[TokenStates] | None = None) -> Analysis:
        """Analyse ``article`` given its paragraph embeddings ``(len(article.paragraphs), 384)``
        (and their token states, else encoded when a component needs them)."""
        doc = Doc(article, embeddings, self.embedder, dict(enumerate(states)) if states is not None else {})
        for _, component in self.components:
            component(doc)
        doc.analysis.models = self.model_info
        return doc.analysis

    def pipe(self, articles: Iterable[Article], batch_size: int = 16) -> Iterator[Analysis]:
        """Analyse ``articles`` in order.

        When a component reads token states, each article's paragraphs are encoded in one pass
        that gives their embeddings and states together (see :meth:`Doc.token_states`); else
        the paragraphs of ``batch_size`` articles are embedded at once.
        """
        articles = iter(articles)
        if any(component.reads_states for _, component in self.components):
            for article in articles:
                yield self.analyze_embedded(article, *self.embedder.encode([p.text for p in article.paragraphs]))
            return
        while batch := list(islice(articles, batch_size)):
            vectors = self.embedder.embed([p.text for a in batch for p in a.paragraphs])
            start = 0
            for article in batch:
                end = start + len(article.paragraphs)
                yield self.analyze_embedded(article, vectors[start:end])
                start = end


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
