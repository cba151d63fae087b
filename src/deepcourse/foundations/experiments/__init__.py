"""Module 0.1 experiments, one file per claim of the notes (the registry imports each module)."""
