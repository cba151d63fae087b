"""Module 9: the model-optimisation toolbox: distillation, mean teacher, OHEM, mixup, SWA/SGDR and SVD
compression (part A); quantisation, pruning, weight clustering, the lottery ticket and hyper-parameter
optimisation (part B). The experiments live in :mod:`deepcourse.optimization.experiments`."""
