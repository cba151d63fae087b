"""Experiments of module 8 (transformers and self-supervised learning): one file per paper or claim."""
