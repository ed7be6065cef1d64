"""Names the ONNX graph and the runtime agree on (kept apart so the runtime needs no ``onnx``)."""

from __future__ import annotations

#: float32 [batch, sequence, hidden]: word + position + token-type embeddings, before layer norm.
INPUT_EMBEDDINGS = "embeddings"
#: int64 [batch, sequence]: 1 for a token, 0 for padding.
INPUT_MASK = "attention_mask"
#: float32 [batch, sequence, hidden]: the last layer's hidden states.
OUTPUT_STATES = "last_hidden_state"
#: Metadata key holding :meth:`ModelFile.fingerprint` of the model file the graph was built from.
FINGERPRINT_KEY = "e5_source_fingerprint"
#: File name of the committed graph, next to this module.
GRAPH_FILE = "e5-small-layers.onnx"
#: The record of a fine-tuned graph's run, next to the graph (settings, data, losses, time).
META_FILE = "finetune.json"
