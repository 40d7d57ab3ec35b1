"""``python -m eval``: see :mod:`eval.cli`."""

import sys

from .cli import main

sys.exit(main())
