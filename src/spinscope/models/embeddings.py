"""Multilingual sentence embeddings (our e5 runtime, :mod:`spinscope.encoder`) with an on-disk
cache, and the feature rows the heads read from them (paragraph, article; entity mentions
are in :mod:`.states`).

Embeddings are keyed by a hash of (model id, prefix, text), so the same paragraph is
embedded once however many articles, folds or runs it appears in.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np

from ..encoder import QUERY_PREFIX, Encoder, TokenStates
from ..encoder.runtime import default_graph_path
from ..progress import Counter, Progress

#: The encoder's name in the models' metadata and, with a hash of its graph (:func:`encoder_id`),
#: in the cache keys: vectors of another encoder are never mixed with these.
EMBEDDING_MODEL = "multilingual-e5-small-int8-onnx"
EMBEDDING_DIM = 384
#: Paragraphs longer than this are embedded from their first characters only, which
#: bounds the time one pathological input can take (e5 reads 512 tokens per window).
MAX_EMBED_CHARS = 4000


def default_cache_path() -> Path:
    root = os.environ.get("SPINSCOPE_CACHE") or Path.home() / ".cache" / "spinscope"
    return Path(root) / "embeddings.sqlite"


def _key(text: str, model_id: str) -> str:
    return hashlib.sha1(f"{model_id}|query|{text}".encode()).hexdigest()


def encoder_id(graph: Path | None) -> str:
    """The id of the encoder running ``graph`` (the shipped one when ``None``) in cache keys:
    a hash of the graph file, so that vectors of another encoder (a retrained one, one being
    evaluated) are never mixed with its own."""
    digest = hashlib.sha1(Path(graph or default_graph_path()).read_bytes()).hexdigest()[:16]
    return f"{EMBEDDING_MODEL}+{digest}"


def normalise_for_embedding(text: str) -> str:
    return " ".join(text.split())[:MAX_EMBED_CHARS]


class EmbeddingCache:
    """A SQLite table of float16 vectors keyed by text hash; safe across processes."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
            self._local.db = db
        return db

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            rows = self._db.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            for k, v in rows:
                found[k] = np.frombuffer(v, dtype=np.float16).astype(np.float32)
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self._db as db:
            db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float16).tobytes()) for k, v in items],
            )


class Embedder:
    """Embeds texts with multilingual-e5-small (:class:`~spinscope.encoder.Encoder`, e5's
    ``query:`` prefix, as the models were trained).

    ``embed(texts)`` returns an ``(n, 384)`` float32 array of L2-normalised vectors. The
    encoder loads on the first cache miss, or in the background once :meth:`preload` is
    called; ``threads`` are its onnxruntime threads (default: ``$SPINSCOPE_THREADS`` or up to four).
    ``graph`` is another encoder graph than the shipped one (a fine-tuned encoder).
    """

    def __init__(
        self,
        cache: EmbeddingCache | None = None,
        batch_size: int = 256,
        threads: int | None = None,
        graph: Path | None = None,
    ):
        self.cache = cache
        self.batch_size = batch_size
        self.threads = threads
        self.graph = graph
        self._model: Encoder | None = None
        self._loading: Future | None = None

    def preload(self) -> None:
        """Start loading the encoder in a background thread. Its slow parts (the tokenizer's
        trie, the ONNX session) release the GIL, so the caller's own start-up runs meanwhile."""
        if self._model is None and self._loading is None:
            loader = ThreadPoolExecutor(1, thread_name_prefix="spinscope-encoder")
            self._loading = loader.submit(Encoder, self.threads, graph_path=self.graph)
            loader.shutdown(wait=False)

    @cached_property
    def model_id(self) -> str:
        """Names this encoder in cache keys (:func:`encoder_id`)."""
        return encoder_id(self.graph)

    @property
    def model(self) -> Encoder:
        if self._model is None:
            self._model = self._loading.result() if self._loading else Encoder(self.threads, graph_path=self.graph)
            self._loading = None
        return self._model

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed ``texts`` ``(len(texts), 384)``; ``progress`` follows the texts missing from the cache."""
        clean = [normalise_for_embedding(t) for t in texts]
        out = np.zeros((len(clean), EMBEDDING_DIM), dtype=np.float32)
        keys = [_key(t, self.model_id) for t in clean]
        found = self.cache.get_many(keys) if self.cache else {}
        missing: dict[str, str] = {}
        for k, t in zip(keys, clean):
            if k not in found and k not in missing:
                missing[k] = t
        # Texts of similar length share a batch: the encoder pads each batch to its longest text.
        todo = sorted(missing.items(), key=lambda item: len(item[1]))
        counter = Counter(progress, "embedding", len(todo)) if todo else None
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            vecs = _as_stored(self.model.embed([t for _, t in batch], prefix=QUERY_PREFIX))
            for (k, _), v in zip(batch, vecs):
                found[k] = v
            if self.cache:
                self.cache.put_many((k, v) for (k, _), v in zip(batch, vecs))
            if counter:
                counter.advance(len(batch))
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out

    def token_states(self, texts: Sequence[str]) -> list[TokenStates]:
        """The encoder's state of every token of ``texts`` (not cached: they are large), offsets
        into each text; only its first ``MAX_EMBED_CHARS`` characters are read."""
        return self.model.token_states([clip_for_states(t) for t in texts], prefix=QUERY_PREFIX)

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, list[TokenStates]]:
        """:meth:`embed` and :meth:`token_states` of ``texts`` from one encoder pass.

        Embeddings already in the cache are taken from it, the others stored in it, so that a
        text's embedding is the same whichever way it was first computed. (Activations are
        quantised per batch: states and embeddings move slightly with a text's batch-mates.)
        """
        keys = [_key(normalise_for_embedding(t), self.model_id) for t in texts]
        found = self.cache.get_many(keys) if self.cache else {}
        pooled, states = self.model.encode([clip_for_states(t) for t in texts], prefix=QUERY_PREFIX)
        vectors = _as_stored(pooled)
        new = {}
        for i, (key, text) in enumerate(zip(keys, texts)):
            if key in found:
                vectors[i] = found[key]
            elif len(text) <= MAX_EMBED_CHARS:  # a cut text is not what embed() would read
                new[key] = vectors[i]
        if self.cache and new:
            self.cache.put_many(new.items())
        return vectors, states


def _as_stored(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` rounded to float16 as the cache stores them, so that a cached and a fresh
    run agree exactly."""
    return vectors.astype(np.float16).astype(np.float32)


def clip_for_states(text: str) -> str:
    """The part of ``text`` whose token states are computed: its first ``MAX_EMBED_CHARS``
    characters, trailing spaces dropped (they would add a token the embedding never sees)."""
    return text[:MAX_EMBED_CHARS].rstrip()


def paragraph_features(embeddings: np.ndarray) -> np.ndarray:
    """Per-paragraph feature rows from an article's paragraph embeddings ``(n, 384)``.

    Each row joins the paragraph, the mean of its two neighbours (context), the title
    (paragraph 0) and the article mean, plus the relative position: ``(n, 4 * 384 + 1)``.
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros((0, 4 * EMBEDDING_DIM + 1), dtype=np.float32)
    padded = np.vstack([np.zeros((1, EMBEDDING_DIM), np.float32), embeddings, np.zeros((1, EMBEDDING_DIM), np.float32)])
    neighbours = (padded[:-2] + padded[2:]) / 2
    title = np.repeat(embeddings[:1], n, axis=0)
    mean = np.repeat(embeddings.mean(axis=0, keepdims=True), n, axis=0)
    position = (np.arange(n, dtype=np.float32) / max(1, n - 1))[:, None]
    return np.hstack([embeddings, neighbours, title, mean, position]).astype(np.float32)


def article_features(embeddings: np.ndarray) -> np.ndarray:
    """One feature row for an article: its title, mean and max-pooled paragraphs ``(3 * 384,)``."""
    if len(embeddings) == 0:
        return np.zeros(3 * EMBEDDING_DIM, dtype=np.float32)
    return np.concatenate([embeddings[0], embeddings.mean(axis=0), embeddings.max(axis=0)]).astype(np.float32)
