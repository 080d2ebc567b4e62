"""Shared fixtures: offscreen Qt, the ../shared data folder (skip cleanly when absent), tiny clips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it skip with a reason when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data is not beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def faces_dir(shared_dir: Path) -> Path:
    """The 24 real photos of ../shared/data/faces."""
    return shared_dir / "data" / "faces"


# Fixture modules under tests/fixtures/ (tests/ is on sys.path through this conftest's rootdir insertion).
pytest_plugins = [
    f"fixtures.{p.stem}" for p in sorted((Path(__file__).parent / "fixtures").glob("*.py"))
    if not p.stem.startswith("_")
]
