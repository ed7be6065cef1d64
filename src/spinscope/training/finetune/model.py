"""The torch side of fine-tuning: e5's layers with the model file's weights, the trained top
layers with one head per target, and the frozen bottom layers whose outputs are computed once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...encoder import ModelFile
from ...encoder.embeddings import InputEmbeddings
from ...encoder.runtime import length_batches
from ...progress import Counter, Progress
from .examples import Example
from .settings import HEAD_TARGETS


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
        self.linears = nn.ModuleDict(
            {
                part: _from_file(nn.Linear(1, 1), model, f"l{index}.{part}", matrix=True)
                for part in ("q", "k", "v", "ao", "fi", "fo")
            }
        )
        self.norms = nn.ModuleDict(
            {
                part: _from_file(nn.LayerNorm(header.hidden, eps=header.layer_norm_eps), model, f"l{index}.{part}")
                for part in ("aln", "oln")
            }
        )
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
            out[f"l{self.index}.{part}.w"] = module.get_parameter("weight").detach().numpy().copy()
            out[f"l{self.index}.{part}.b"] = module.get_parameter("bias").detach().numpy().copy()
        return out


class MultiTaskEncoder(nn.Module):
    """The trained top layers of e5 and one head per target (:data:`.settings.HEAD_TARGETS`)."""

    def __init__(self, model: ModelFile, layers: int, dropout: float):
        super().__init__()
        header = model.header
        self.hidden = header.hidden
        self.first = header.layers - layers
        self.layers = nn.ModuleList(_Layer(model, i) for i in range(self.first, header.layers))
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict(
            {target.name: nn.Linear(header.hidden, len(target.labels)) for target in HEAD_TARGETS}
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def tensors(self) -> dict[str, np.ndarray]:
        return {name: array for layer in self.layers for name, array in cast(_Layer, layer).tensors().items()}


class FrozenLayers:
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


def pad_batch(examples: Sequence[Example], pad: int) -> tuple[np.ndarray, torch.Tensor]:
    """The examples' ids padded to the longest, and the mask of their real tokens."""
    width = max(len(e.ids) for e in examples)
    ids = np.full((len(examples), width), pad, dtype=np.int32)
    mask = torch.zeros((len(examples), width), dtype=torch.bool)
    for row, e in enumerate(examples):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = True
    return ids, mask


def frozen_outputs(
    frozen: FrozenLayers, examples: Sequence[Example], pad: int, progress: Progress | None = None
) -> list[torch.Tensor]:
    """The frozen layers' output of every example, float16 [len(ids), hidden]."""
    out: list[torch.Tensor | None] = [None] * len(examples)
    counter = Counter(progress, "fine-tuning: frozen layers, once", len(examples))
    lengths = np.array([len(e.ids) for e in examples])
    for batch in length_batches(lengths, 64, 8192):
        ids, mask = pad_batch([examples[i] for i in batch], pad)
        hidden = frozen(ids, mask).to(torch.float16)
        for row, i in enumerate(batch):
            out[i] = hidden[row, : lengths[i]].clone()
        counter.advance(len(batch))
    return out  # type: ignore[return-value]
