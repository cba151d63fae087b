"""Module 9 experiments: one module per paper or claim (the registry imports each)."""
