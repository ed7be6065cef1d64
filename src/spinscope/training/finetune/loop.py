"""The training loop: AdamW with a linear warm-up and decay, batches of paragraphs of similar
length in a seeded order, dropout seeded by step (so that a resumed run ends where an
uninterrupted one would), and a checkpoint every few minutes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...encoder import ModelFile, Tokenizer
from ...encoder.runtime import length_batches
from ...errors import DataError
from ...progress import Counter, Progress
from .checkpoint import CHECKPOINT_FILE, Checkpoints, Training, resume
from .examples import Example, read_examples
from .export import export
from .loss import batch_loss, positive_weights
from .model import FrozenLayers, MultiTaskEncoder, frozen_outputs, pad_batch
from .settings import FineTuning

log = logging.getLogger(__name__)


def _batches(lengths: np.ndarray, config: FineTuning, epoch: int) -> list[np.ndarray]:
    """Batches of similar lengths, in a random order drawn from the seed and the epoch."""
    batches = list(length_batches(lengths, config.batch_size, config.batch_size * config.max_tokens))
    order = np.random.default_rng([config.seed, epoch]).permutation(len(batches))
    return [batches[i] for i in order]


def _schedule(config: FineTuning, total: int) -> Callable[[int], float]:
    warmup = max(1, int(config.warmup * total))
    return lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))


def _start(model_file: ModelFile, lengths: np.ndarray, config: FineTuning, started: float) -> Training:
    """A new run: e5's layers with fresh heads (seeded), their optimiser and learning-rate schedule."""
    model = MultiTaskEncoder(model_file, config.layers, config.dropout)
    per_epoch = len(_batches(lengths, config, 0))
    total = config.epochs * per_epoch
    optimizer = torch.optim.AdamW(
        [
            {"params": model.layers.parameters(), "lr": config.learning_rate},
            {"params": model.heads.parameters(), "lr": config.head_learning_rate},
        ],
        weight_decay=config.weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config, total))
    return Training(model, optimizer, scheduler, per_epoch, total, started)


def _step(
    training: Training,
    chosen: Sequence[Example],
    inputs: Sequence[torch.Tensor],
    pad: int,
    weights: dict[str, torch.Tensor],
    config: FineTuning,
) -> dict[str, float]:
    """One optimiser step on a batch (its examples and their frozen layers' outputs); each target's loss."""
    torch.manual_seed(config.seed * 1_000_003 + training.step)  # dropout: the same whether resumed or not
    _, mask = pad_batch(chosen, pad)
    hidden = torch.zeros((len(chosen), mask.shape[1], training.model.hidden))
    for row, frozen in enumerate(inputs):
        hidden[row, : len(frozen)] = frozen.float()
    loss, parts = batch_loss(training.model, hidden, mask, chosen, weights, config)
    training.optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(training.model.parameters(), 1.0)
    training.optimizer.step()
    training.scheduler.step()
    training.step += 1
    return parts


def _train(
    training: Training,
    model_file: ModelFile,
    examples: Sequence[Example],
    config: FineTuning,
    progress: Progress | None,
    checkpoint: Path,
    checkpoint_seconds: float,
) -> None:
    """Run the steps ``training`` has left, each epoch's mean losses going to its history, saving it
    to ``checkpoint`` every ``checkpoint_seconds`` and at the end."""
    pad, lengths = model_file.vocabulary.pad, np.array([len(e.ids) for e in examples])
    weights = positive_weights(examples)
    # A finished run only exports again; an unfinished one needs the frozen layers' outputs.
    inputs = (
        frozen_outputs(FrozenLayers(model_file, training.model.first), examples, pad, progress)
        if training.step < training.total
        else []
    )
    counter = Counter(progress, f"fine-tuning: {config.epochs} epochs x {training.per_epoch} batches", training.total)
    counter.advance(training.step)
    training.model.train()
    running: dict[str, list[float]] = {}
    checkpoints = Checkpoints(checkpoint, config, checkpoint_seconds)
    for epoch in range(training.step // training.per_epoch, config.epochs):
        for position, batch in enumerate(_batches(lengths, config, epoch)):
            if epoch * training.per_epoch + position < training.step:
                continue
            parts = _step(training, [examples[i] for i in batch], [inputs[i] for i in batch], pad, weights, config)
            for name, value in parts.items():
                running.setdefault(name, []).append(value)
            if training.step % training.per_epoch == 0 or training.step == training.total:
                training.history.append(
                    {
                        "step": training.step,
                        **{name: round(float(np.mean(values)), 4) for name, values in sorted(running.items())},
                    }
                )
                log.info("fine-tuning step %d: %s", training.step, training.history[-1])
                running = {}
            checkpoints.after_step(training)
            counter.advance()


def fine_tune(
    data_dirs: Sequence[Path],
    output: Path,
    config: FineTuning | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    checkpoint_seconds: float = 300,
) -> Path:
    """Fine-tune the encoder on the data folders; write its graph and ``finetune.json`` to ``output``.

    A checkpoint (``output/finetune-checkpoint.pt``) is written every ``checkpoint_seconds`` and
    at the end; a run with the same settings resumes from it. Returns the graph's path.
    """
    config = config or FineTuning()
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    torch.manual_seed(config.seed)  # the heads' initialisation
    model_file = ModelFile()
    examples = read_examples(data_dirs, Tokenizer(model_file.vocabulary, model_file.normalisation), config)
    if not examples:
        raise DataError("no training paragraphs in " + ", ".join(map(str, data_dirs)))
    training = _start(model_file, np.array([len(e.ids) for e in examples]), config, started)
    resume(output / CHECKPOINT_FILE, config, training)
    _train(training, model_file, examples, config, progress, output / CHECKPOINT_FILE, checkpoint_seconds)
    return export(output, model_file, training, config, data_dirs, examples)
