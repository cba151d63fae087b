"""Module 3 experiments, one file per paper or claim of the notes (the registry imports each module)."""
