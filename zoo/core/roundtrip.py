"""Round-trip YAML: change a file a person wrote and keep their comments, key order, quoting and indentation.

``with edit_yaml(path, check) as doc:`` loads ``doc.data`` with ruamel.yaml; on a clean exit the new text is
passed to ``check`` (which raises to refuse it) and then replaces the file in one step through the file
layer (``write_atomic``). Nothing is written when the block raises or the text did not change. The
registry editor (``zoo.catalog.editing``) and the card editor (``zoo.cards.variants``) share it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.core.documents import read_yaml_text
from zoo.core.errors import InvalidDataError
from zoo.core.files import write_atomic


@dataclass
class Edited:
    """The document being edited: its file and its round-trip data (ruamel's CommentedMap)."""

    path: Path
    data: Any


@contextmanager
def edit_yaml(path: str | Path, check: Callable[[str], object], *, new: str | None = None) -> Iterator[Edited]:
    """Edit ``path`` (or, with ``new``, create it from that text; an existing file is then an error)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = Path(path)
    if new is not None and path.exists():
        raise InvalidDataError(["already exists; not replaced"], path=path)
    text = new if new is not None else read_yaml_text(path)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never fold a long URL onto a second line
    mapping, offset = indentation(text)
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise InvalidDataError([f"invalid YAML: {str(exc).splitlines()[0]}"], path=path) from None
    doc = Edited(path, data)
    yield doc
    out = io.StringIO()
    yaml.dump(doc.data, out)
    if out.getvalue() == text and new is None:
        return
    check(out.getvalue())
    write_atomic(path, out.getvalue())


def indentation(text: str) -> tuple[int, int]:
    """(mapping indent, sequence dash offset) as the file uses them; zoo's own style (2, 2) otherwise.

    >>> indentation("a:\\n    b:\\n    - 1\\n")
    (4, 0)
    >>> indentation("")
    (2, 2)
    """
    mapping = re.search(r"^[^\s#-][^\n]*:[ \t]*\n(?:[ \t]*(?:#[^\n]*)?\n)*( +)[^\s#-]", text, re.M)
    dash = re.search(r"^( *)[^\s#-][^\n]*:[ \t]*\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)- ", text, re.M)
    return (len(mapping.group(1)) if mapping else 2,
            len(dash.group(2)) - len(dash.group(1)) if dash and len(dash.group(2)) >= len(dash.group(1)) else 2)


def mapping(**items: Any) -> Any:
    """A round-trip mapping of the items that are not None, in the order given (nested dicts and lists too)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def convert(value: Any) -> Any:
        if isinstance(value, dict) and not isinstance(value, CommentedMap):
            return CommentedMap((k, convert(v)) for k, v in value.items())
        if isinstance(value, (list, tuple)) and not isinstance(value, CommentedSeq):
            return CommentedSeq(convert(v) for v in value)
        return value

    return CommentedMap((k, convert(v)) for k, v in items.items() if v is not None)
