"""Fine-tune the e5 encoder on every task at once, on a CPU (``spinscope train --encoder``).

The top ``layers`` transformer layers train, with one small head per task on their output:
paragraph techniques (multi-label, on the mean token state: the embedding the heads read),
technique spans (each token), genre and frames (each paragraph carries its article's labels),
narratives and sub-narratives (likewise), and entity roles (the mean state of a mention's
tokens). The layers below stay frozen and run once: their outputs are kept in memory (float16)
and every epoch starts from them. Batches hold paragraphs of similar length (almost no padding)
and come in a seeded random order; dropout is seeded by step, so a run resumed from its
checkpoint ends where an uninterrupted one would.

The result is written as the runtime's int8 ONNX graph (:func:`spinscope.encoder.graph.write_layers_model`
with the trained layers' weights) next to ``finetune.json`` (settings, losses, time).
Needs PyTorch: ``pip install -e '.[train]'``. The analysis never imports this module.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import __version__
from ..encoder import QUERY_PREFIX, ModelFile, Tokenizer
from ..encoder.embeddings import InputEmbeddings
from ..encoder.graph import write_layers_model
from ..encoder.runtime import length_batches
from ..encoder.signature import GRAPH_FILE
from ..models.embeddings import clip_for_states
from ..progress import Counter, Progress
from ..semeval import formats
from ..semeval.layout import SUBTASK, Split, article_id, is_2025_data, training_languages
from ..taxonomy import (FINE_ROLE_NAMES, FRAME_NAMES, GENRE_NAMES, NARRATIVE_NAMES, ROLE_NAMES, SUBNARRATIVE_NAMES,
                        TECHNIQUE_NAMES)
from . import heldout

log = logging.getLogger(__name__)

#: Labels of the tasks read from a paragraph's mean state; genre is single-label.
PARAGRAPH_TASKS = {"techniques": TECHNIQUE_NAMES, "genre": GENRE_NAMES, "frames": FRAME_NAMES,
                   "narratives": NARRATIVE_NAMES, "subnarratives": SUBNARRATIVE_NAMES}
CHECKPOINT_FILE = "finetune-checkpoint.pt"
META_FILE = "finetune.json"


@dataclass(frozen=True)
class FineTuning:
    """The settings of a fine-tuning run (recorded in ``finetune.json``)."""

    #: Top transformer layers trained (of 12); the others stay frozen and run once.
    layers: int = 4
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 4e-5
    head_learning_rate: float = 2e-3
    warmup: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    #: Tokens per paragraph, ``<s>`` and ``</s>`` included (p99 of the training paragraphs: 312).
    max_tokens: int = 256
    seed: int = 0
    #: Train only on the articles outside the committed held-out split (:mod:`.heldout`).
    hold_out: bool = False
    #: Each task's weight in the summed loss.
    loss_weights: dict[str, float] = field(default_factory=lambda: {
        "techniques": 1.0, "spans": 1.0, "genre": 0.3, "frames": 0.3, "narratives": 0.5, "subnarratives": 0.5,
        "roles": 0.5, "fine_roles": 0.5})
    #: Paragraphs of each language and data folder at most (tests), ``None`` for all.
    max_paragraphs: int | None = None


@dataclass
class Example:
    """One paragraph with the targets its data gives (absent tasks are missing from the dicts)."""

    ids: np.ndarray  # int32, <s> prefix text </s>
    lang: str
    #: task -> 0/1 float32 vector over the task's labels
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    #: float32 [len(ids), 23]: token inside a span of each technique (SemEval-2023 subtask 3 articles)
    spans: np.ndarray | None = None
    #: (first token, end token, role index, fine roles 0/1 vector) per gold mention in the paragraph
    mentions: list[tuple[int, int, int, np.ndarray]] = field(default_factory=list)


def _vector(labels: Sequence[str], names: Sequence[str]) -> np.ndarray:
    out = np.zeros(len(names), dtype=np.float32)
    out[[names.index(label) for label in labels]] = 1
    return out


def _token_range(offsets: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """The tokens (indices into ``<s>`` + content + ``</s>``) overlapping characters [start, end)."""
    inside = np.flatnonzero((offsets[:, 0] < end) & (offsets[:, 1] > start) & (offsets[:, 0] >= 0))
    return (int(inside[0]) + 1, int(inside[-1]) + 2) if len(inside) else (0, 0)


class _Reader:
    """Turns paragraphs with character-level targets into token examples."""

    def __init__(self, tokenizer: Tokenizer, config: FineTuning):
        self.tokenizer, self.config = tokenizer, config
        vocabulary = tokenizer.vocabulary
        self.bos, self.eos = vocabulary.bos, vocabulary.eos

    def example(self, text: str, lang: str, labels: dict[str, np.ndarray],
                spans: list[tuple[str, int, int]] | None = None,
                mentions: Sequence[tuple[int, int, str, Sequence[str]]] = ()) -> Example:
        tokens = self.tokenizer.encode([clip_for_states(text)], QUERY_PREFIX)[0]
        content = self.config.max_tokens - 2
        ids = np.concatenate([[self.bos], tokens.ids[:content], [self.eos]]).astype(np.int32)
        offsets = tokens.offsets[:content]
        example = Example(ids, lang, labels)
        if spans is not None:
            example.spans = np.zeros((len(ids), len(TECHNIQUE_NAMES)), dtype=np.float32)
            for technique, start, end in spans:
                first, last = _token_range(offsets, start, end)
                example.spans[first:last, TECHNIQUE_NAMES.index(technique)] = 1
        for start, end, role, fine in mentions:
            first, last = _token_range(offsets, start, end)
            if last > first:
                example.mentions.append((first, last, ROLE_NAMES.index(role), _vector(fine, FINE_ROLE_NAMES)))
        return example


def _keep(split: dict, data_dir: Path, lang: str, aid: str, config: FineTuning) -> bool:
    return not (config.hold_out and heldout.is_held_out(split, data_dir, lang, aid))


def read_examples(data_dirs: Sequence[Path], tokenizer: Tokenizer, config: FineTuning) -> list[Example]:
    """Every training paragraph of the data folders (outside the held-out split with ``hold_out``)."""
    reader, split = _Reader(tokenizer, config), heldout.load()
    examples: list[Example] = []
    for data_dir in map(Path, data_dirs):
        read = _read_2025 if is_2025_data(data_dir) else _read_2023
        for lang in training_languages(data_dir):
            found = read(Split(data_dir, lang, "train"), reader, partial(_keep, split, data_dir, lang, config=config))
            examples += found[:config.max_paragraphs] if config.max_paragraphs else found
    return examples


def _read_2023(split: Split, reader: _Reader, keep: Callable[[str], bool]) -> list[Example]:
    genres = formats.read_genre_labels(split.labels_file(1))
    frames = formats.read_frame_labels(split.labels_file(2))
    techniques = formats.read_technique_labels(split.labels_file(3))
    span_articles = {article_id(p): p for p in split.article_paths(SUBTASK["techniques"])}
    ids = sorted({*genres, *frames, *(aid for aid, _ in techniques)})
    examples = []
    for aid in filter(keep, ids):
        path = span_articles.get(aid) or next((split.article_path(n, aid) for n in (1, 2)
                                               if split.article_path(n, aid).is_file()), None)
        if path is None or not path.is_file():
            continue
        article = formats.read_article(path, split.language)
        spans = None
        if aid in span_articles:
            span_file = split.spans_dir() / f"article{aid}-labels-subtask-3.txt"
            spans = [(t, s, e) for a, t, s, e in formats.read_spans(span_file, {aid: len(article.text)})
                     if a == aid] if span_file.is_file() else []
        for p in article.paragraphs:
            labels = {}
            if aid in genres:
                labels["genre"] = _vector([genres[aid]], GENRE_NAMES)
            if aid in frames:
                labels["frames"] = _vector(frames[aid], FRAME_NAMES)
            if (aid, p.line) in techniques:
                labels["techniques"] = _vector(techniques[(aid, p.line)], TECHNIQUE_NAMES)
            inside = None if spans is None else [(t, max(s, p.start) - p.start, min(e, p.end) - p.start)
                                                 for t, s, e in spans if s < p.end and e > p.start]
            examples.append(reader.example(p.text, split.lang, labels, inside))
    return examples


def _read_2025(split: Split, reader: _Reader, keep: Callable[[str], bool]) -> list[Example]:
    narratives = formats.read_narrative_labels(split.labels_file(2))
    mentions: dict[str, list[formats.EntityLabel]] = {}
    for row in formats.read_entity_labels(split.labels_file(1)):
        mentions.setdefault(row.article, []).append(row)
    folder, examples = split.documents_dir(), []
    for aid in filter(keep, sorted(narratives)):
        if not (folder / aid).is_file():
            continue
        article = formats.read_document(folder / aid, split.language)
        coarse, fine = narratives[aid]
        labels = {"narratives": _vector(coarse, NARRATIVE_NAMES), "subnarratives": _vector(fine, SUBNARRATIVE_NAMES)}
        rows = mentions.get(aid, [])
        located = [(m, span) for m, span in zip(rows, formats.locate_mentions(article.text, rows)) if span]
        for p in article.paragraphs:
            inside = [(s - p.start, e - p.start, m.role, m.fine_roles) for m, (s, e) in located
                      if p.start <= s and e <= p.end]
            examples.append(reader.example(p.text, split.lang, dict(labels), mentions=inside))
    return examples


def _from_file(module: nn.Module, model: ModelFile, name: str, matrix: bool = False) -> nn.Module:
    """``module`` with the model file's ``{name}.w`` (a Q4_0 matrix, dequantised, when
    ``matrix``) and ``{name}.b`` as its weight and bias."""
    weight = model.dequantised(f"{name}.w") if matrix else model.float32(f"{name}.w")
    module.weight = nn.Parameter(torch.from_numpy(np.array(weight)))
    module.bias = nn.Parameter(torch.from_numpy(np.array(model.float32(f"{name}.b"))))
    return module


class _Layer(nn.Module):
    """One post-norm BERT layer with e5's weights (names as in the model file)."""

    def __init__(self, model: ModelFile, index: int):
        super().__init__()
        header = model.header
        self.heads = header.heads
        # The linear layers take their shapes from the file's matrices.
        self.linears = nn.ModuleDict({part: _from_file(nn.Linear(1, 1), model, f"l{index}.{part}", matrix=True)
                                      for part in ("q", "k", "v", "ao", "fi", "fo")})
        self.norms = nn.ModuleDict({part: _from_file(nn.LayerNorm(header.hidden, eps=header.layer_norm_eps), model,
                                                     f"l{index}.{part}") for part in ("aln", "oln")})
        self.index = index

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)

        q, k, v = (heads(self.linears[p](x)) for p in "qkv")
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
        context = context.transpose(1, 2).reshape(batch, length, hidden)
        x = self.norms["aln"](x + self.linears["ao"](context))
        return self.norms["oln"](x + self.linears["fo"](F.gelu(self.linears["fi"](x))))

    def tensors(self) -> dict[str, np.ndarray]:
        """This layer's weights under the model file's names ([out, in] matrices)."""
        out = {}
        for part, module in [*self.linears.items(), *self.norms.items()]:
            out[f"l{self.index}.{part}.w"] = module.weight.detach().numpy().copy()
            out[f"l{self.index}.{part}.b"] = module.bias.detach().numpy().copy()
        return out


class MultiTaskEncoder(nn.Module):
    """The trained top layers of e5 and one head per task."""

    def __init__(self, model: ModelFile, layers: int, dropout: float):
        super().__init__()
        header = model.header
        self.first = header.layers - layers
        self.layers = nn.ModuleList(_Layer(model, i) for i in range(self.first, header.layers))
        self.dropout = nn.Dropout(dropout)
        heads = {task: len(names) for task, names in PARAGRAPH_TASKS.items()}
        heads |= {"spans": len(TECHNIQUE_NAMES), "roles": len(ROLE_NAMES), "fine_roles": len(FINE_ROLE_NAMES)}
        self.heads = nn.ModuleDict({task: nn.Linear(header.hidden, n) for task, n in heads.items()})

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def tensors(self) -> dict[str, np.ndarray]:
        return {name: array for layer in self.layers for name, array in layer.tensors().items()}


class _Frozen:
    """The frozen part: input embeddings (numpy) and the bottom layers (no gradient)."""

    def __init__(self, model: ModelFile, first_trained: int):
        header = model.header
        self.embeddings = InputEmbeddings(model)
        self.norm = _from_file(nn.LayerNorm(header.hidden, eps=header.layer_norm_eps), model, "emb.ln")
        self.layers = [_Layer(model, i).requires_grad_(False) for i in range(first_trained)]

    @torch.no_grad()
    def __call__(self, ids: np.ndarray, mask: torch.Tensor) -> torch.Tensor:
        x = self.norm(torch.from_numpy(self.embeddings(ids)))
        for layer in self.layers:
            x = layer(x, mask)
        return x


def _pad(examples: Sequence[Example], pad: int) -> tuple[np.ndarray, torch.Tensor]:
    width = max(len(e.ids) for e in examples)
    ids = np.full((len(examples), width), pad, dtype=np.int32)
    mask = torch.zeros((len(examples), width), dtype=torch.bool)
    for row, e in enumerate(examples):
        ids[row, :len(e.ids)] = e.ids
        mask[row, :len(e.ids)] = True
    return ids, mask


def frozen_outputs(frozen: _Frozen, examples: Sequence[Example], pad: int,
                   progress: Progress | None = None) -> list[torch.Tensor]:
    """The frozen layers' output of every example, float16 [len(ids), hidden]."""
    out: list[torch.Tensor | None] = [None] * len(examples)
    counter = Counter(progress, "fine-tuning: frozen layers, once", len(examples))
    lengths = np.array([len(e.ids) for e in examples])
    for batch in length_batches(lengths, 64, 8192):
        ids, mask = _pad([examples[i] for i in batch], pad)
        hidden = frozen(ids, mask).to(torch.float16)
        for row, i in enumerate(batch):
            out[i] = hidden[row, :lengths[i]].clone()
        counter.advance(len(batch))
    return out


def positive_weights(examples: Sequence[Example]) -> dict[str, torch.Tensor]:
    """BCE positive weights per multi-label task: sqrt(negatives / positives), within [1, 30]."""
    sums: dict[str, list[np.ndarray]] = {}
    for e in examples:
        for task, y in e.labels.items():
            sums.setdefault(task, []).append(y)
        if e.spans is not None:
            sums.setdefault("spans", []).append(e.spans[1:-1].sum(0) / max(1, len(e.ids) - 2))
        for *_, fine in e.mentions:
            sums.setdefault("fine_roles", []).append(fine)
    weights = {}
    for task, rows in sums.items():
        positive = np.mean(rows, axis=0)
        weights[task] = torch.from_numpy(np.clip(np.sqrt((1 - positive) / np.maximum(positive, 1e-4)), 1, 30)
                                         .astype(np.float32))
    return weights


def batch_loss(model: MultiTaskEncoder, hidden: torch.Tensor, mask: torch.Tensor, examples: Sequence[Example],
               weights: dict[str, torch.Tensor], config: FineTuning) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the tasks' losses on one batch, and each task's loss."""
    states = model.dropout(model(hidden, mask))
    pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    losses: dict[str, torch.Tensor] = {}
    for task in PARAGRAPH_TASKS:
        rows = [i for i, e in enumerate(examples) if task in e.labels]
        if not rows:
            continue
        logits = model.heads[task](pooled[rows])
        target = torch.from_numpy(np.stack([examples[i].labels[task] for i in rows]))
        if task == "genre":
            losses[task] = F.cross_entropy(logits, target.argmax(1))
        else:
            losses[task] = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weights.get(task))
    rows = [i for i, e in enumerate(examples) if e.spans is not None]
    if rows:
        logits = model.heads["spans"](states[rows])
        target = torch.zeros(logits.shape)
        for r, i in enumerate(rows):
            target[r, :len(examples[i].ids)] = torch.from_numpy(examples[i].spans)
        per_token = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weights.get("spans"), reduction="none")
        token_mask = mask[rows].clone()
        token_mask[:, 0] = False  # <s>; </s> and the prefix have no span either way
        losses["spans"] = (per_token.mean(-1) * token_mask).sum() / token_mask.sum()
    mentions = [(i, *m) for i, e in enumerate(examples) for m in e.mentions]
    if mentions:
        vectors = torch.stack([states[i, first:last].mean(0) for i, first, last, _, _ in mentions])
        roles = torch.tensor([role for *_, role, _ in mentions])
        fine = torch.from_numpy(np.stack([f for *_, f in mentions]))
        losses["roles"] = F.cross_entropy(model.heads["roles"](vectors), roles)
        losses["fine_roles"] = F.binary_cross_entropy_with_logits(model.heads["fine_roles"](vectors), fine,
                                                                  pos_weight=weights.get("fine_roles"))
    total = sum(config.loss_weights.get(task, 1.0) * loss for task, loss in losses.items())
    return total, {task: loss.item() for task, loss in losses.items()}


def _batches(lengths: np.ndarray, config: FineTuning, epoch: int) -> list[np.ndarray]:
    """Batches of similar lengths, in a random order drawn from the seed and the epoch."""
    batches = list(length_batches(lengths, config.batch_size, config.batch_size * config.max_tokens))
    order = np.random.default_rng([config.seed, epoch]).permutation(len(batches))
    return [batches[i] for i in order]


def _schedule(config: FineTuning, total: int) -> Callable[[int], float]:
    warmup = max(1, int(config.warmup * total))
    return lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))


def fine_tune(data_dirs: Sequence[Path], output: Path, config: FineTuning = FineTuning(),
              progress: Progress | None = None, threads: int | None = None, checkpoint_seconds: float = 300) -> Path:
    """Fine-tune the encoder on the data folders; write its graph and ``finetune.json`` to ``output``.

    A checkpoint (``output/finetune-checkpoint.pt``) is written every ``checkpoint_seconds`` and
    at the end; a run with the same settings resumes from it. Returns the graph's path.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    model_file = ModelFile()
    tokenizer = Tokenizer(model_file.vocabulary, model_file.normalisation)
    examples = read_examples(data_dirs, tokenizer, config)
    if not examples:
        raise ValueError("no training paragraphs in " + ", ".join(map(str, data_dirs)))
    model = MultiTaskEncoder(model_file, config.layers, config.dropout)
    pad = model_file.vocabulary.pad
    weights = positive_weights(examples)
    lengths = np.array([len(e.ids) for e in examples])
    per_epoch = len(_batches(lengths, config, 0))
    total = config.epochs * per_epoch
    optimizer = torch.optim.AdamW([
        {"params": model.layers.parameters(), "lr": config.learning_rate},
        {"params": model.heads.parameters(), "lr": config.head_learning_rate},
    ], weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config, total))
    history: list[dict[str, float]] = []
    step, spent = _resume(output / CHECKPOINT_FILE, config, model, optimizer, scheduler, history)
    # A finished run only exports again; an unfinished one needs the frozen layers' outputs.
    inputs = frozen_outputs(_Frozen(model_file, model.first), examples, pad, progress) if step < total else []
    counter = Counter(progress, f"fine-tuning: {config.epochs} epochs x {per_epoch} batches", total)
    counter.advance(step)
    model.train()
    running: dict[str, list[float]] = {}
    last_save = time.monotonic()
    for epoch in range(step // per_epoch, config.epochs):
        for position, batch in enumerate(_batches(lengths, config, epoch)):
            if epoch * per_epoch + position < step:
                continue
            torch.manual_seed(config.seed * 1_000_003 + step)  # dropout: the same whether resumed or not
            chosen = [examples[i] for i in batch]
            _, mask = _pad(chosen, pad)
            hidden = torch.zeros((len(batch), mask.shape[1], model_file.header.hidden))
            for row, i in enumerate(batch):
                hidden[row, :lengths[i]] = inputs[i].float()
            loss, parts = batch_loss(model, hidden, mask, chosen, weights, config)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            for task, value in parts.items():
                running.setdefault(task, []).append(value)
            if step % per_epoch == 0 or step == total:
                history.append({"step": step, **{t: round(float(np.mean(v)), 4) for t, v in sorted(running.items())}})
                log.info("fine-tuning step %d: %s", step, history[-1])
                running = {}
            if time.monotonic() - last_save >= checkpoint_seconds or step == total:
                _save(output / CHECKPOINT_FILE, config, model, optimizer, scheduler, step, history,
                      spent + time.perf_counter() - started)
                last_save = time.monotonic()
            counter.advance()
    graph = output / GRAPH_FILE
    write_layers_model(model_file, graph, model.tensors())
    meta = {
        "version": __version__, "settings": asdict(config), "data": [str(d) for d in data_dirs],
        "paragraphs": len(examples), "tokens": int(lengths.sum()), "steps": total,
        "seconds": round(spent + time.perf_counter() - started), "threads": torch.get_num_threads(),
        "loss_by_epoch": history,
    }
    (output / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    return graph


def _save(path: Path, config: FineTuning, model: MultiTaskEncoder, optimizer, scheduler, step: int,
          history: list, seconds: float) -> None:
    state = {"settings": asdict(config), "step": step, "seconds": seconds, "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "history": history}
    torch.save(state, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)


def _resume(path: Path, config: FineTuning, model: MultiTaskEncoder, optimizer, scheduler,
            history: list) -> tuple[int, float]:
    """Load the checkpoint at ``path`` when it was made with ``config``: the step it reached and
    the seconds spent to reach it (else 0, 0)."""
    if not path.is_file():
        return 0, 0.0
    state = torch.load(path, weights_only=True)
    if state["settings"] != json.loads(json.dumps(asdict(config))):
        log.warning("%s was made with other settings: starting afresh", path)
        return 0, 0.0
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    history.extend(state["history"])
    return int(state["step"]), float(state.get("seconds", 0.0))

