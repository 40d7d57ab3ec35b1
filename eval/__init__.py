"""Answer-quality evals: ``python -m eval`` scores retrieval, answers, citations and abstention.

See :mod:`eval.cli` for the command line, DESIGN.md §3 for the dataset format.
"""

import app  # noqa: F401  (applies the offline environment settings before anything heavy loads)

from .dataset import DatasetError, Question, load_dataset, load_datasets  # noqa: E402
from .metrics import aggregate  # noqa: E402

__all__ = ["DatasetError", "Question", "load_dataset", "load_datasets", "aggregate"]
