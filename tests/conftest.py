"""Shared test set-up: the book tools live in tools/, outside the package."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

# The machine that runs the suite may be busy: judge property tests by their
# results, not by how long one example took.
settings.register_profile("book", deadline=None)
settings.load_profile("book")
