"""Paths tests share: the repository root and the seed schedule file."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "schedules" / "phu-thu-2023.toml"
