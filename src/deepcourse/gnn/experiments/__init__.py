"""Module 6 experiments: one file per paper or claim (the registry imports each module)."""
