"""Where generated training data lives: outside git, `~/.cache/gazenet/data/` unless GAZENET_DATA_DIR says."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "data_dir", "shared_data_dir"]

DATA_DIR_ENV = "GAZENET_DATA_DIR"


def data_dir() -> Path:
    """The generated-data root: $GAZENET_DATA_DIR, else ~/.cache/gazenet/data (not created here)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "gazenet" / "data"


def shared_data_dir() -> Path:
    """../shared/data beside the checkout (the development data; may be absent)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"
