"""Persistent app settings (QSettings) with typed getters: folders, recent files, model, detector, options."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["AppSettings", "MAX_RECENT", "BATCH_PREFERENCES"]

MAX_RECENT = 10

#: Preferences of the batch queue (not worker options): name -> (settings key, type, default). `dask_scheduler`:
#: "" in-process, "local" a LocalCluster of `dask_workers` processes (0: one per usable core), else a scheduler
#: address or scheduler file.
BATCH_PREFERENCES = {"dask_scheduler": ("batch/dask_scheduler", str, ""),
                     "dask_workers": ("batch/dask_workers", int, 0)}


class AppSettings:
    """A thin typed layer over QSettings (organization 'gazenet', application 'gazenet-app')."""

    def __init__(self, settings: Optional[QSettings] = None) -> None:
        self.q = settings or QSettings("gazenet", "gazenet-app")

    def get(self, key: str, default: Any = None, kind: type = str) -> Any:
        """A value converted to `kind` (QSettings returns strings for some backends)."""
        value = self.q.value(key, default)
        if value is None:
            return default
        try:
            if kind is bool:
                return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        """Store a value (None removes the key)."""
        if value is None:
            self.q.remove(key)
        else:
            self.q.setValue(key, value)

    def batch_preferences(self) -> Dict[str, Any]:
        """The batch queue's preferences (BATCH_PREFERENCES names), defaults where none was saved."""
        return {name: self.get(key, default, kind) for name, (key, kind, default) in BATCH_PREFERENCES.items()}

    def set_batch_preferences(self, values: Dict[str, Any]) -> None:
        """Save the BATCH_PREFERENCES entries of `values` (others are ignored)."""
        for name, value in values.items():
            if name in BATCH_PREFERENCES:
                key, kind, _ = BATCH_PREFERENCES[name]
                self.set(key, kind(value))

    def recent_files(self) -> List[str]:
        """Most recent first."""
        value = self.q.value("recent_files", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str) -> List[str]:
        """Put `path` first in the recent list (kept to MAX_RECENT)."""
        items = [p for p in self.recent_files() if p != path]
        items.insert(0, path)
        items = items[:MAX_RECENT]
        self.q.setValue("recent_files", items)
        return items

    def clear_recent(self) -> None:
        self.q.remove("recent_files")

    def geometry(self) -> Optional[QByteArray]:
        value = self.q.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def sync(self) -> None:
        self.q.sync()
