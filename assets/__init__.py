"""The project's files that are not code: fonts, translations, sounds, the default convention.

Found through ``importlib.resources``, so a checkout and an installed wheel read them the same way.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(*parts: str) -> Path:
    """A file or folder of this package as a filesystem path (a wheel installs unpacked, so it is one)."""
    return Path(str(files(__name__).joinpath(*parts)))
