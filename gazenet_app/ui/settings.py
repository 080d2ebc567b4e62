"""Persistent app settings (QSettings) with typed getters: folders, recent files, model, detector, options."""

from __future__ import annotations

from typing import Any, List, Optional

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["AppSettings", "MAX_RECENT"]

MAX_RECENT = 10


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
