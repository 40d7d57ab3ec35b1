"""``python -m app``: see :mod:`app.cli`."""

import sys

from .cli import main

sys.exit(main())
