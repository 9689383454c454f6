"""Production losses: numerically stable, validated, each as a function and an ``nn.Module``."""

from __future__ import annotations

__all__: list[str] = []
