"""The pipeline's components: each fills its part of an :class:`~spinscope.analysis.Analysis`.

=============  ===============================================  ======================
component      fills                                            model files
=============  ===============================================  ======================
``genre``      ``genre``                                        genre
``frames``     ``frames``, ``frame_scores``                     frames
``techniques`` ``paragraphs`` (techniques per paragraph)        techniques
``spans``      ``spans`` (needs ``techniques``)                 spans
``narratives`` ``narratives``                                   narratives, subnarratives
``entities``   ``entities`` (with their evidence)               mentions, roles, fine_roles
``explanations`` evidence of ``narratives``, ``explanation``    narratives, subnarratives,
               (of those the narratives component found)        explanations
=============  ===============================================  ======================

Which components exist, in which order, and what each needs come from the task registry
(:mod:`spinscope.tasks`); a component class only says how it fills its part.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..analysis import (
    Analysis,
    Entity,
    Evidence,
    Explanation,
    Genre,
    Narrative,
    ParagraphLabels,
    Scored,
    Subnarrative,
)
from ..document import Article
from ..encoder import TokenStates
from ..models.embeddings import Embedder, paragraph_features
from ..models.entities import MAX_ENTITIES, MENTIONS_PER_ENTITY, MentionFinder, mentions_by_name, most_mentioned, spread
from ..models.evidence import Sentence, mention_sentences, ranked, sentence_rows, sentence_states
from ..models.explain import Explainer
from ..models.heads import Head
from ..models.narratives import NarrativeRule, RoleRule
from ..models.roles import mention_rows, mention_states
from ..models.spans import SpanModel
from ..tasks import TASKS
from ..taxonomy import OTHER, narrative_parent
from .encoded import EncodedArticle


def _round(x: float) -> float:
    return round(float(x), 4)


class Component:
    """A step of the pipeline, built with ``(model folder, embedder)``; it names the model
    ``files`` it loads from the folder. Its ``name`` is the one its tasks give in the registry."""

    name: ClassVar[str]
    files: ClassVar[tuple[str, ...]]
    #: Whether it reads the encoder's token states of paragraphs (:meth:`EncodedArticle.token_states`).
    reads_states: ClassVar[bool] = False

    def __init__(self, folder: Path, embedder: Embedder):
        """Load the component's models from ``folder``; ``embedder`` encodes what it reads anew."""

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        raise NotImplementedError

    @property
    def requires(self) -> tuple[str, ...]:
        """The components that must run before this one (from the registry)."""
        return tuple(dict.fromkeys(r for task in TASKS.values() if task.component == self.name for r in task.requires))

    @property
    def info(self) -> dict[str, dict]:
        """Version, estimator and cross-validation scores of the component's models, by target."""
        raise NotImplementedError


def _meta_info(meta: dict, keys: Sequence[str]) -> dict:
    return {k: meta.get(k) for k in keys}


_HEAD_INFO = ("version", "estimator", "features", "threshold", "cv")
_FRAMING_INFO = ("version", "estimator", "features", "rule", "cv")
#: Held-out scores of the models that also record those of the model they replaced and
#: leave-one-language-out ones (see :data:`spinscope.official.ESTIMATES`).
_HELD_OUT = ("cv", "cv_previous", "lolo", "lolo_previous")


class HeadComponent(Component):
    """A component scored by one :class:`Head`, saved under the component's name."""

    def __init__(self, folder: Path, embedder: Embedder):
        self.head = Head.load(folder, self.name)

    @property
    def info(self) -> dict[str, dict]:
        return {self.name: _meta_info(self.head.meta, _HEAD_INFO)}

    def chosen(self, proba: np.ndarray) -> list[Scored]:
        """The labels the head decides for one row of probabilities, best first."""
        chosen = self.head.decide(proba[None, :])[0]
        scores = dict(zip(self.head.labels, proba))
        return sorted((Scored(label, _round(scores[label])) for label in chosen), key=lambda s: -s.score)


class GenreComponent(HeadComponent):
    name, files = "genre", ("genre.json", "genre.npz")

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        p = self.head.predict_proba(encoded.article_row)[0]
        analysis.genre = Genre(
            self.head.decide(p[None, :])[0][0], {label: _round(s) for label, s in zip(self.head.labels, p)}
        )


class FramesComponent(HeadComponent):
    name, files = "frames", ("frames.json", "frames.npz")

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        p = self.head.predict_proba(encoded.article_row)[0]
        analysis.frames = self.chosen(p)
        analysis.frame_scores = {label: _round(s) for label, s in zip(self.head.labels, p)}


class TechniquesComponent(HeadComponent):
    name, files = "techniques", ("techniques.json", "techniques.npz")

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        proba = self.head.predict_proba(paragraph_features(encoded.embeddings))
        analysis.paragraphs = [
            ParagraphLabels(p.line, p.start, p.end, self.chosen(row))
            for p, row in zip(encoded.article.paragraphs, proba)
        ]


class SpansComponent(Component):
    """Marks, in every paragraph, the words that carry each of its techniques."""

    name, files = "spans", ("spans.json", "spans.npz")
    reads_states = True

    def __init__(self, folder: Path, embedder: Embedder):
        self.model = SpanModel.load(folder)

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        article, labels = encoded.article, analysis.paragraphs
        labelled = [i for i, paragraph_labels in enumerate(labels) if paragraph_labels.techniques]
        states: Sequence[TokenStates | None] = [None] * len(labelled)
        if self.model.reads_states(article.language):
            states = encoded.token_states(labelled)
        spans = []
        for i, paragraph_states in zip(labelled, states):
            techniques = [(t.label, t.score) for t in labels[i].techniques]
            spans += self.model.paragraph_spans(article, article.paragraphs[i], techniques, paragraph_states)
        analysis.spans = sorted(spans, key=lambda s: (s.start, s.end, s.label))

    @property
    def info(self) -> dict[str, dict]:
        return {"spans": _meta_info(self.model.meta, ("version", "estimator") + _HELD_OUT)}


class NarrativesComponent(Component):
    """Narratives and their sub-narratives, chosen together so that the hierarchy holds."""

    name, files = "narratives", ("narratives.json", "narratives.npz", "subnarratives.json", "subnarratives.npz")

    def __init__(self, folder: Path, embedder: Embedder):
        self.coarse, self.fine = Head.load(folder, "narratives"), Head.load(folder, "subnarratives")
        self.rule = NarrativeRule(**self.coarse.meta["rule"])

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        coarse, fine = self.coarse, self.fine
        p, q = coarse.predict_proba(encoded.article_row)[0], fine.predict_proba(encoded.article_row)[0]
        chosen, sub = self.rule.decide(coarse.labels, p, fine.labels, q)
        p, q = dict(zip(coarse.labels, p)), dict(zip(fine.labels, q))
        analysis.narratives = [
            Narrative(c, _round(p[c]), [Subnarrative(f, _round(q[f])) for f in sub if narrative_parent(f) == c])
            for c in chosen
        ]

    @property
    def info(self) -> dict[str, dict]:
        return {
            "narratives": _meta_info(self.coarse.meta, _FRAMING_INFO),
            "subnarratives": _meta_info(self.fine.meta, _FRAMING_INFO),
        }


class EntitiesComponent(Component):
    """Finds the named entities of an article and reads the role it gives each of them."""

    name, files = "entities", ("mentions.json", "roles.json", "roles.npz", "fine_roles.json", "fine_roles.npz")

    def __init__(self, folder: Path, embedder: Embedder):
        self.finder = MentionFinder.load(folder / "mentions.json")
        self.roles, self.fine_roles = Head.load(folder, "roles"), Head.load(folder, "fine_roles")
        self.rule = RoleRule(**self.roles.meta["rule"])
        self.embedder = embedder

    def mention_roles(self, encoded: EncodedArticle, spans: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Main-role and fine-role probabilities of the mentions at ``spans`` ``[start, end)`` of
        the encoded article."""
        in_context = mention_states(encoded.article, encoded.sentences, spans, self.embedder.token_states)
        X = mention_rows(encoded.embeddings, in_context)
        return self.roles.predict_proba(X), self.fine_roles.predict_proba(X)

    def decide(self, P: np.ndarray, Q: np.ndarray) -> list[tuple[str, list[str]]]:
        """``(main role, fine roles)`` of each row of :meth:`mention_roles`' probabilities."""
        return [self.rule.decide(self.roles.labels, p, self.fine_roles.labels, q) for p, q in zip(P, Q)]

    def label_mentions(
        self, article: Article, embeddings: np.ndarray, spans: Sequence[tuple[int, int]]
    ) -> list[tuple[str, list[str]]]:
        """``(main role, fine roles)`` of the given mentions, each read on its own."""
        return self.decide(*self.mention_roles(EncodedArticle(article, embeddings, self.embedder), spans))

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        article = encoded.article
        if not len(encoded.embeddings):
            return
        by_name = mentions_by_name(self.finder, article.text, self.embedder.embed)
        names = most_mentioned(by_name)[:MAX_ENTITIES]
        read = [(name, span) for name in names for span in spread(by_name[name], MENTIONS_PER_ENTITY)]
        if not read:
            return
        P, Q = self.mention_roles(encoded, [span for _, span in read])
        found = encoded.sentences
        where = mention_sentences(found, [span for _, span in read])
        analysis.entities = [self._entity(article, name, by_name[name], read, P, Q, (found, where)) for name in names]

    def _entity(
        self,
        article: Article,
        name: str,
        mentions: list[tuple[int, int]],
        read: list[tuple[str, tuple[int, int]]],
        P: np.ndarray,
        Q: np.ndarray,
        sentences_of: tuple[list[Sentence], list[int | None]],
    ) -> Entity:
        """The entity ``name``: its role from the mean probabilities of its mentions that were
        read, located at the mention that argues that role most; its evidence, the sentences
        of those mentions ranked by the role's probability there."""
        rows = [i for i, (n, _) in enumerate(read) if n == name]
        p, q = P[rows].mean(axis=0), Q[rows].mean(axis=0)
        role, fine_roles = self.decide(p[None], q[None])[0]
        r = self.roles.labels.index(role)
        a, b = read[rows[int(P[rows, r].argmax())]][1]
        found, where = sentences_of
        best: dict[int, float] = {}
        for i in rows:
            k = where[i]
            if k is not None:
                best[k] = max(best.get(k, 0.0), float(P[i, r]))
        held = sorted(best)
        scores = np.array([best[k] for k in held])
        return Entity(
            name,
            role,
            _round(p[r]),
            [Scored(f, _round(q[self.fine_roles.labels.index(f)])) for f in fine_roles],
            a,
            b,
            [article.mention(s, e) for s, e in mentions],
            _evidence(article, ranked([found[k] for k in held], scores, article)),
        )

    @property
    def info(self) -> dict[str, dict]:
        return {
            "roles": _meta_info(self.roles.meta, _FRAMING_INFO + _HELD_OUT[1:]),
            "fine_roles": _meta_info(self.fine_roles.meta, _FRAMING_INFO),
        }


def _evidence(article: Article, best: list[tuple[Sentence, float]]) -> list[Evidence]:
    return [Evidence(s.start, s.end, article.text[s.start : s.end], _round(score)) for s, score in best]


class ExplanationsComponent(Component):
    """The evidence of every narrative and sub-narrative (the sentences that carry it) and the
    explanation of the dominant narrative.

    A sentence's score for a label is the narrative head's probability for it on the sentence
    read as the article's body (:func:`~spinscope.models.evidence.sentence_rows`), from the
    token states the span tagger also reads: no text is encoded again.
    """

    name = "explanations"
    files = ("narratives.json", "narratives.npz", "subnarratives.json", "subnarratives.npz", "explanations.json")
    reads_states = True

    def __init__(self, folder: Path, embedder: Embedder):
        self.coarse, self.fine = Head.load(folder, "narratives"), Head.load(folder, "subnarratives")
        self.explainer = Explainer.load(folder)

    def sentence_scores(self, encoded: EncodedArticle) -> tuple[list[Sentence], np.ndarray, np.ndarray]:
        """The article's sentences and the narrative and sub-narrative heads' probabilities on
        each: ``(sentences, (n, narratives), (n, sub-narratives))``."""
        article = encoded.article
        found = encoded.sentences
        if not found or not len(encoded.embeddings):
            return [], np.zeros((0, len(self.coarse.labels))), np.zeros((0, len(self.fine.labels)))
        states = encoded.token_states(range(len(article.paragraphs)))
        rows = sentence_rows(encoded.embeddings, sentence_states(article, found, states))
        return found, self.coarse.predict_proba(rows), self.fine.predict_proba(rows)

    def __call__(self, encoded: EncodedArticle, analysis: Analysis) -> None:
        article = encoded.article
        found, P, Q = self.sentence_scores(encoded)
        if not found:
            return
        coarse, fine = self.coarse.labels, self.fine.labels
        analysis.narratives = [
            Narrative(
                n.label,
                n.score,
                [
                    Subnarrative(
                        s.label, s.score, _evidence(article, ranked(found, Q[:, fine.index(s.label)], article))
                    )
                    for s in n.subnarratives
                ],
                _evidence(article, ranked(found, P[:, coarse.index(n.label)], article)),
            )
            for n in analysis.narratives
        ]
        if analysis.narratives and analysis.narratives[0].label != OTHER:
            dominant = analysis.narratives[0]
            sub = next((s.label for s in dominant.subnarratives if not s.label.endswith(": " + OTHER)), None)
            analysis.explanation = self.explanation(article, found, P, Q, dominant.label, sub)

    def explanation(
        self,
        article: Article,
        found: list[Sentence],
        P: np.ndarray,
        Q: np.ndarray,
        narrative: str,
        subnarrative: str | None,
    ) -> Explanation:
        """The explanation of ``narrative`` (and ``subnarrative``) from the sentence scores of
        :meth:`sentence_scores`."""
        q = Q[:, self.fine.labels.index(subnarrative)] if subnarrative in self.fine.labels else None
        # A narrative the head does not know (a newer taxonomy) keeps the article's order.
        p = P[:, self.coarse.labels.index(narrative)] if narrative in self.coarse.labels else np.zeros(len(found))
        explainer = self.explainer.for_language(article.language)
        scores = explainer.scores(p, q)
        chosen = explainer.choose(found, explainer.ranking(article.text, found, p, q))
        label = subnarrative or narrative
        text = explainer.compose(article.text, found, chosen, article.language, label)
        used = explainer.used(article.text, found, chosen, explainer.opener(article.language, label))
        return Explanation(narrative, subnarrative, text, _evidence(article, [(found[i], scores[i]) for i in used]))

    def explain(self, encoded: EncodedArticle, narrative: str, subnarrative: str | None) -> Explanation | None:
        """The explanation of a given narrative (and sub-narrative), as the official task asks;
        ``None`` for an article with no sentence."""
        found, P, Q = self.sentence_scores(encoded)
        if not found:
            return None
        return self.explanation(encoded.article, found, P, Q, narrative, subnarrative)

    @property
    def info(self) -> dict[str, dict]:
        return {"explanations": _meta_info(self.explainer.meta, ("version", "estimator", "cv", "cv_baseline"))}


#: Every component class, by the name the registry gives it.
COMPONENT_CLASSES: dict[str, type[Component]] = {
    c.name: c
    for c in (
        GenreComponent,
        FramesComponent,
        TechniquesComponent,
        SpansComponent,
        NarrativesComponent,
        EntitiesComponent,
        ExplanationsComponent,
    )
}
