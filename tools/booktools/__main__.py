"""``python -m booktools`` (with ``tools/`` on the path)."""

import sys

from booktools.cli import main

sys.exit(main())
