"""Module 4: recurrent networks (Greff et al.'s peephole LSTM with the eight Odyssey variants, explicit BPTT,
the GRU and the Elman RNN, stacked / bidirectional layers with variable lengths).

Experiments live in the :mod:`deepcourse.rnn.experiments` package (imported by the registry, not here).
"""

from __future__ import annotations

from .bptt import FusedLSTM, LSTMTrace, lstm_bptt, lstm_forward_trace
from .layers import (CELLS, RNN, Recurrent, SequenceClassifier, SequenceTagger, activity_regularization,
                     init_recurrent_, make_cell, reverse_padded)
from .lstm import VARIANTS, ElmanCell, GRUCell, LSTMCell, LSTMVariant, check_sequence
from .charlm import CharLM, evaluate_lm, random_windows, sample
from .ltc import KINDS as ODE_KINDS, SOLVERS, CTRNNCell, ContinuousRNN, LTCCell, ODERNNCell, ODESequenceModel
from .seq2seq import Seq2Seq, beam_search, greedy_decode, reorder_state
from .programs_lang import Node, ProgramError, canonical, parse, run_program, to_text
from .programs_data import Sample, describe, functionally_correct, make_splits, random_program
from .tree_decoder import MODES as TREE_MODES, DoublyRecurrentDecoder, FlatTrees, flatten_trees
from .seq2tree import AttentionSeq2Seq, Seq2Tree, evaluate_synthesizer, train_synthesizer
from .trajectory import arc_length, circle, latent_trajectory, pca_2d, trajectory_length

__all__ = [
    "FusedLSTM", "LSTMTrace", "lstm_bptt", "lstm_forward_trace",
    "CELLS", "RNN", "Recurrent", "SequenceClassifier", "SequenceTagger", "activity_regularization",
    "init_recurrent_", "make_cell", "reverse_padded",
    "VARIANTS", "ElmanCell", "GRUCell", "LSTMCell", "LSTMVariant", "check_sequence",
    "Seq2Seq", "beam_search", "greedy_decode", "reorder_state",
    "Node", "ProgramError", "canonical", "parse", "run_program", "to_text",
    "Sample", "describe", "functionally_correct", "make_splits", "random_program",
    "TREE_MODES", "DoublyRecurrentDecoder", "FlatTrees", "flatten_trees",
    "AttentionSeq2Seq", "Seq2Tree", "evaluate_synthesizer", "train_synthesizer",
    "CharLM", "evaluate_lm", "random_windows", "sample",
    "ODE_KINDS", "SOLVERS", "CTRNNCell", "ContinuousRNN", "LTCCell", "ODERNNCell", "ODESequenceModel",
    "arc_length", "circle", "latent_trajectory", "pca_2d", "trajectory_length",
]
