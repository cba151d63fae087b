"""Module 8: transformers and self-supervised learning.

:mod:`.attention` (scaled dot-product and multi-head attention from the notes' steps), :mod:`.positional`
(sinusoidal, learned, rotary), :mod:`.blocks` (encoder / decoder blocks, pre- and post-LN), :mod:`.gpt`
(decoder-only LM), :mod:`.seq2seq` (encoder-decoder Transformer), :mod:`.vit` (Vision Transformer),
:mod:`.nystrom` (Nystromformer attention), :mod:`.sequence_classifier` (the LRA classifier), :mod:`.masking`
(BERT and MAE masking), :mod:`.mae` (masked autoencoder), :mod:`.scaling` (cost against sequence length),
:mod:`.language_modelling` (nanoGPT-style training). Experiments live in :mod:`deepcourse.transformers.experiments`.
"""

from __future__ import annotations

from .attention import IMPLEMENTATIONS, MultiHeadAttention, attention, combine_masks, scaled_dot_product_attention
from .blocks import ACTIVATIONS, DecoderBlock, EncoderBlock, FeedForward
from .gpt import GPT, init_gpt_weights, lm_loss
from .mae import MASK_TOKENS, MAEClassifier, MaskedAutoencoder
from .masking import IGNORE, bert_mask, random_patch_mask
from .nystrom import PINV_INITS, NystromAttention, iterative_pinv, nystrom_attention, segment_means
from .positional import (POSITIONAL, LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding,
                         make_positional, sinusoidal_encoding)
from .seq2seq import Seq2SeqTransformer
from .sequence_classifier import SequenceClassifier
from .vit import POOLS, PatchEmbedding, ViT, patchify, unpatchify

__all__ = [
    "IMPLEMENTATIONS", "MultiHeadAttention", "attention", "combine_masks", "scaled_dot_product_attention",
    "ACTIVATIONS", "DecoderBlock", "EncoderBlock", "FeedForward",
    "GPT", "init_gpt_weights", "lm_loss",
    "MASK_TOKENS", "MAEClassifier", "MaskedAutoencoder", "IGNORE", "bert_mask", "random_patch_mask",
    "PINV_INITS", "NystromAttention", "iterative_pinv", "nystrom_attention", "segment_means",
    "POSITIONAL", "LearnedPositionalEmbedding", "RotaryEmbedding", "SinusoidalPositionalEncoding", "make_positional",
    "sinusoidal_encoding",
    "Seq2SeqTransformer", "SequenceClassifier",
    "POOLS", "PatchEmbedding", "ViT", "patchify", "unpatchify",
]
