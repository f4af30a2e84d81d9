"""The directory of friendly services: the model and search (pure), cards, and the
loader and HSDS export (which read and write files, so they are imported lazily:
the engine may import this package without pulling in YAML or the file system).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.directory.model import Directory, Found, Hotline, Service
from bot.content.directory.places import City
from bot.content.directory.render import format_distance, format_hours, render_card, render_hotline

if TYPE_CHECKING:
    from bot.errors import DataError, Issue

__all__ = [
    "City", "Directory", "Found", "Hotline", "Service", "export_hsds", "format_distance",
    "format_hours", "load", "render_card", "render_hotline",
]


def load(directory_dir: Path, today: date | None = None
         ) -> tuple[Directory, list[DataError], list[Issue]]:
    """Load and check ``directory/``: the directory, every error and every warning."""
    from bot.content.directory.loading import load as _load

    return _load(directory_dir, today)


def export_hsds(directory: Directory, out_dir: Path) -> list[Path]:
    """Write the directory as HSDS 3 JSON tables into ``out_dir``; return the files written."""
    from bot.content.directory.hsds import export

    return export(directory, out_dir)
