"""Where the shipped data (registry/, schemas/, model_cards/) lives.

In the repository (and an editable install) the data sits beside the package; in a wheel it is copied
into ``zoo/_data``. Code asks this module instead of guessing, so both layouts behave the same.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent  # zoo/, above core/


def data_dir(name: str) -> Path:
    """Return the shipped data folder ``name`` (``registry``, ``schemas`` or ``model_cards``)."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"zoo is installed without its {name}/ data folder")


def is_installed_data(path: str | Path) -> bool:
    """Whether ``path`` is one of the data files installed with zoo (``zoo/_data`` of a wheel), which zoo
    never changes: a maintainer's own cards and registry live in their own zoo (``zoo init``).

    >>> is_installed_data(_PACKAGE / "_data" / "model_cards" / "osnet" / "card.yaml"), is_installed_data("card.yaml")
    (True, False)
    """
    return (_PACKAGE / "_data") in Path(path).resolve().parents


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/<name>.schema.json`` once per process."""
    path = data_dir("schemas") / f"{name}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))
