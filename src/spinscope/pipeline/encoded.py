"""An article with its encodings: what every pipeline component reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..document import Article
from ..encoder import TokenStates
from ..models.embeddings import Embedder, article_features
from ..models.evidence import Sentence, sentences


@dataclass
class EncodedArticle:
    """An article, its paragraph embeddings ``(len(article.paragraphs), 384)`` and, on demand,
    the encoder's token states of its paragraphs (see :meth:`token_states`)."""

    article: Article
    embeddings: np.ndarray
    embedder: Embedder
    #: Token states of the paragraphs encoded so far, by paragraph index.
    states: dict[int, TokenStates] = field(default_factory=dict)

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
    def sentences(self) -> list[Sentence]:
        """The article's sentences (:func:`~spinscope.models.evidence.sentences`), cut once for
        every component that reads them."""
        return sentences(self.article)

    @cached_property
    def article_row(self) -> np.ndarray:
        """The article's feature row ``(1, 3 * 384)`` (see :func:`article_features`)."""
        return article_features(self.embeddings)[None, :]
