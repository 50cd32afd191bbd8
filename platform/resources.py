"""Where a package's data files are on disk.

Our code folders are namespace portions (no top `__init__.py`, see docs/adr/0001). Under a
PEP 660 editable install their `__path__` also holds the installer's path-hook marker, which
`importlib.resources.files()` rejects, so we take the first entry that is a real directory.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path


@cache
def package_dir(package: str) -> Path:
    module = importlib.import_module(package)
    for entry in getattr(module, "__path__", []):
        path = Path(entry)
        if path.is_dir():
            return path
    raise FileNotFoundError(f"{package} has no directory on disk")
