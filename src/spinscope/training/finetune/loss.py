"""The loss of a batch: each target's loss on its head, weighted and summed (single-label targets
take a cross-entropy, multi-label ones a binary cross-entropy with positive weights)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ...tasks import Target
from .examples import Example
from .model import MultiTaskEncoder
from .settings import MENTION_TARGETS, POOLED_TARGETS, SPAN_TARGET, FineTuning

#: Where a mention's value of each mention target is in :attr:`Example.mentions` rows (after the tokens).
_FIRST_MENTION_TARGET = 2


def positive_weights(examples: Sequence[Example]) -> dict[str, torch.Tensor]:
    """BCE positive weights per multi-label target: sqrt(negatives / positives), within [1, 30]."""
    sums: dict[str, list[np.ndarray]] = {}
    multi_label = [
        (column, target)
        for column, target in enumerate(MENTION_TARGETS, _FIRST_MENTION_TARGET)
        if not target.single_label
    ]
    for e in examples:
        for name, y in e.labels.items():
            sums.setdefault(name, []).append(y)
        if e.spans is not None:
            sums.setdefault(SPAN_TARGET.name, []).append(e.spans[1:-1].sum(0) / max(1, len(e.ids) - 2))
        for mention in e.mentions:
            for column, target in multi_label:
                sums.setdefault(target.name, []).append(mention[column])
    weights = {}
    for name, rows in sums.items():
        positive = np.mean(rows, axis=0)
        weights[name] = torch.from_numpy(
            np.clip(np.sqrt((1 - positive) / np.maximum(positive, 1e-4)), 1, 30).astype(np.float32)
        )
    return weights


def _target_loss(
    target: Target, logits: torch.Tensor, y: torch.Tensor, weights: dict[str, torch.Tensor]
) -> torch.Tensor:
    """``y``: the label indices of a single-label target, else 0/1 rows."""
    if target.single_label:
        return F.cross_entropy(logits, y)
    return F.binary_cross_entropy_with_logits(logits, y, pos_weight=weights.get(target.name))


def _pooled_losses(
    model: MultiTaskEncoder, pooled: torch.Tensor, examples: Sequence[Example], weights: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    losses = {}
    for target in POOLED_TARGETS:
        rows = [i for i, e in enumerate(examples) if target.name in e.labels]
        if rows:
            y = torch.from_numpy(np.stack([examples[i].labels[target.name] for i in rows]))
            losses[target.name] = _target_loss(
                target, model.heads[target.name](pooled[rows]), y.argmax(1) if target.single_label else y, weights
            )
    return losses


def _span_losses(
    model: MultiTaskEncoder,
    states: torch.Tensor,
    mask: torch.Tensor,
    examples: Sequence[Example],
    weights: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    rows = [i for i, e in enumerate(examples) if e.spans is not None]
    if not rows:
        return {}
    logits = model.heads[SPAN_TARGET.name](states[rows])
    y = torch.zeros(logits.shape)
    for r, i in enumerate(rows):
        y[r, : len(examples[i].ids)] = torch.from_numpy(examples[i].spans)
    per_token = F.binary_cross_entropy_with_logits(
        logits, y, pos_weight=weights.get(SPAN_TARGET.name), reduction="none"
    )
    token_mask = mask[rows].clone()
    token_mask[:, 0] = False  # <s>; </s> and the prefix have no span either way
    return {SPAN_TARGET.name: (per_token.mean(-1) * token_mask).sum() / token_mask.sum()}


def _mention_losses(
    model: MultiTaskEncoder, states: torch.Tensor, examples: Sequence[Example], weights: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    mentions = [(i, *m) for i, e in enumerate(examples) for m in e.mentions]
    if not mentions:
        return {}
    vectors = torch.stack([states[i, first:last].mean(0) for i, first, last, *_ in mentions])
    losses = {}
    for column, target in enumerate(MENTION_TARGETS, _FIRST_MENTION_TARGET + 1):  # + 1: the example's index
        values = [m[column] for m in mentions]
        y = torch.tensor(values) if target.single_label else torch.from_numpy(np.stack(values))
        losses[target.name] = _target_loss(target, model.heads[target.name](vectors), y, weights)
    return losses


def batch_loss(
    model: MultiTaskEncoder,
    hidden: torch.Tensor,
    mask: torch.Tensor,
    examples: Sequence[Example],
    weights: dict[str, torch.Tensor],
    config: FineTuning,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the targets' losses on one batch (summed in head order), and each target's loss."""
    states = model.dropout(model(hidden, mask))
    pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    losses = (
        _pooled_losses(model, pooled, examples, weights)
        | _span_losses(model, states, mask, examples, weights)
        | _mention_losses(model, states, examples, weights)
    )
    total = sum(config.loss_weights.get(name, 1.0) * loss for name, loss in losses.items())
    return total, {name: loss.item() for name, loss in losses.items()}  # type: ignore[return-value]
