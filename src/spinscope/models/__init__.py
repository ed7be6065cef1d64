"""The models: e5 embeddings and their feature rows, small numpy heads (genre, frames,
techniques, narratives, roles), the technique span tagger, the entity mention finder."""

from .embeddings import EMBEDDING_DIM, EMBEDDING_MODEL, Embedder, EmbeddingCache
from .entities import MentionFinder, group_names
from .heads import Head, read_model, sigmoid
from .narratives import NarrativeRule, RoleRule
from .spans import SpanModel

__all__ = [
    "EMBEDDING_DIM",
    "EMBEDDING_MODEL",
    "Embedder",
    "EmbeddingCache",
    "Head",
    "MentionFinder",
    "NarrativeRule",
    "RoleRule",
    "SpanModel",
    "group_names",
    "read_model",
    "sigmoid",
]
