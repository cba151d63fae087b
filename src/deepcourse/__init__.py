"""deepcourse: a graduate deep-learning course, executable end to end.

Importing the top-level package is cheap and imports no torch: the NumPy-only
``deepcourse.autodiff`` relies on that. Topic packages are imported on demand.
"""

__version__ = "0.1.0"
