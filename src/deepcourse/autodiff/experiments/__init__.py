"""Module 10 and module 0.1 experiments on our NumPy engine, one file per claim (the registry imports each)."""
