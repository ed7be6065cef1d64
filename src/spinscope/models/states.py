"""Features of words in context: the encoder's token states pooled over character ranges of
the text it read."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..encoder import TokenStates


def range_states(states: TokenStates, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """The mean state of the tokens overlapping each character range ``[start, end)`` of the
    encoded text: float32 ``(len(ranges), dim)``.

    A range no token overlaps (past the characters the encoder read, or characters the
    tokenizer drops) gets the mean state of the text's tokens.
    """
    inside = states.in_text & (states.offsets[:, 1] > states.offsets[:, 0])
    offsets, vectors = states.offsets[inside], states.states[inside].astype(np.float64)
    dim = states.states.shape[1]
    if not len(offsets):
        return np.zeros((len(ranges), dim), dtype=np.float32)
    bounds = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    # Token offsets increase, so the tokens overlapping a range are one contiguous run.
    first = np.searchsorted(offsets[:, 1], bounds[:, 0], side="right")
    last = np.searchsorted(offsets[:, 0], bounds[:, 1], side="left")
    sums = np.vstack([np.zeros((1, dim)), np.cumsum(vectors, axis=0)])
    counts = last - first
    out = (sums[np.maximum(last, first)] - sums[first]) / np.maximum(counts, 1)[:, None]
    out[counts <= 0] = vectors.mean(axis=0)
    return out.astype(np.float32)
