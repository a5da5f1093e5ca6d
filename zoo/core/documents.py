"""Load YAML data files safely, keep each value's line, and validate them against a JSON Schema.

Registries and cards share this so that every problem is reported the same way, all at once, as
``file:line: /json/pointer: message``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zoo.core.errors import ConfigError, FileAccessError, InvalidDataError
from zoo.core.files import read_text

try:  # libyaml is several times faster; the pure-Python loader behaves the same.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


def pointer(parts: tuple[Any, ...]) -> str:
    """JSON Pointer (RFC 6901) for a path of keys and indexes."""
    if not parts:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class Document:
    """A parsed YAML file: its data plus the line (1-based) where each JSON pointer starts."""

    path: Path
    data: Any
    lines: dict[str, int]

    def line(self, parts: tuple[Any, ...]) -> int:
        """Line of the deepest existing node on ``parts`` (a missing key reports its parent's line)."""
        for end in range(len(parts), -1, -1):
            found = self.lines.get(pointer(tuple(parts[:end])))
            if found is not None:
                return found
        return 1

    def problem(self, parts: tuple[Any, ...], message: str) -> str:
        """One problem line without the file name (InvalidDataError adds it)."""
        return f"{self.line(parts)}: {pointer(parts)}: {message}"


def _walk(node: yaml.Node, parts: tuple[Any, ...], lines: dict[str, int], dups: list[str]) -> None:
    lines[pointer(parts)] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            name = key.value
            if name in seen:
                dups.append(f"{key.start_mark.line + 1}: {pointer(parts + (name,))}: duplicate key {name!r}")
            seen.add(name)
            _walk(value, parts + (name,), lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, parts + (i,), lines, dups)


#: Limits for untrusted cards and registries (they arrive in pull requests; ``zoo validate`` is a pre-commit
#: hook). A real card is ~10 KB, ~1,000 nodes and ~8 levels deep; these leave two orders of magnitude.
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000  # after expanding aliases: a "billion laughs" file is small but expands exponentially
MAX_INT_DIGITS = 100
_BIG_INT = re.compile(r"[-+]?(0[xob])?[0-9a-fA-F_:]{%d,}" % (MAX_INT_DIGITS + 1))


def _limit_problem(text: str) -> str | None:
    """Why ``text`` is refused before it is composed into nodes (None if within the limits).

    PyYAML composes recursively and expands aliases when the tree is walked, so depth and expanded size are
    measured on the event stream first, in one linear pass. Brackets are counted before libyaml sees the
    text at all: it is slow on deep flow nesting, and its composer overflows the C stack.

    >>> _limit_problem("a: [1, {b: 2}]") is None
    True
    >>> _limit_problem("a: " + "[" * 100 + "]" * 100)
    'nested deeper than 64 levels'
    >>> _limit_problem("a: &a [1, 2]\\nb: [*a, *a]") is None
    True
    >>> _limit_problem("a: &a [1, *a]")
    'alias *a refers to a collection that contains it (a recursive value)'
    >>> _limit_problem("n: " + "9" * 200)
    'an integer of more than 100 digits'
    """
    if len(text) > MAX_BYTES:
        return f"larger than {MAX_BYTES // (1024 * 1024)} MiB"
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
        elif char in "]}":
            depth = max(0, depth - 1)
    return _event_problem(text)


def _event_problem(text: str) -> str | None:
    """Depth, expanded node count and integer size, from parser events (no tree is built)."""
    sizes: dict[str, int] = {}  # anchor -> expanded node count of what it names
    stack: list[list[Any]] = []  # open collections: [anchor, node count so far]
    total = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) > MAX_DEPTH:
                    return f"nested deeper than {MAX_DEPTH} levels"
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, count = stack.pop()
            elif isinstance(event, yaml.AliasEvent):
                if any(open_anchor == event.anchor for open_anchor, _ in stack):
                    return f"alias *{event.anchor} refers to a collection that contains it (a recursive value)"
                anchor, count = None, sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                if event.implicit[0] and _BIG_INT.fullmatch(event.value):
                    return f"an integer of more than {MAX_INT_DIGITS} digits"
                anchor, count = event.anchor, 1
            else:
                continue
            if anchor:
                sizes[anchor] = count
            if stack:
                stack[-1][1] += count
            else:
                total += count
            if total + sum(c for _, c in stack) > MAX_NODES:
                return f"more than {MAX_NODES:,} values once aliases are expanded"
    except yaml.YAMLError:
        return None  # reported with its line when the document is loaded
    return None


def read_yaml_text(path: Path) -> str:
    """The text of a YAML file, through the file layer: a FIFO, a folder or a file over ``MAX_BYTES`` is
    refused before it is read, each as one error naming the file."""
    try:
        return read_text(path, limit=MAX_BYTES)[0]
    except FileNotFoundError:
        raise ConfigError("no such file", path=path) from None
    except FileAccessError as exc:
        raise ConfigError(exc.message, path=path) from None


def load_yaml(path: str | Path, *, text: str | None = None) -> Document:
    """Parse a YAML file safely. Syntax errors, duplicate keys and documents beyond the limits above (too big,
    too deep, too many values once aliases expand, huge integers) raise one error naming the file."""
    path = Path(path)
    if text is None:
        text = read_yaml_text(path)
    if why := _limit_problem(text):
        raise InvalidDataError([f"refused: {why}"], path=path)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}: " if mark else ""
        raise InvalidDataError([f"{where}invalid YAML: {exc.problem or exc.context}"], path=path) from None
    except yaml.YAMLError as exc:
        raise InvalidDataError([f"invalid YAML: {exc}"], path=path) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar its constructor refuses: date 2026-13-45
        raise InvalidDataError([f"invalid YAML value: {exc}"], path=path) from None
    lines: dict[str, int] = {}
    dups: list[str] = []
    if node is not None:
        _walk(node, (), lines, dups)
    if dups:
        raise InvalidDataError(dups, path=path)
    doc = Document(path=path, data=data, lines=lines)
    if infinite := [doc.problem(parts, "not a finite number: .nan and .inf are no figure") for parts in _non_finite(data)]:
        raise InvalidDataError(infinite, path=path)
    return doc


def _non_finite(data: Any) -> list[tuple[Any, ...]]:
    """Where ``data`` holds a float that is nan or infinite (``.nan``, ``-.inf``, ``1.0e+999``): no card,
    registry, target or golden means one, and every comparison with one is false.

    >>> _non_finite({"a": [1.0, float("nan")], "b": {"c": float("-inf")}, "d": "nan"})
    [('a', 1), ('b', 'c')]
    """
    found, stack = [], [((), data)]
    while stack:
        parts, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            found.append(parts)
        elif isinstance(node, dict):
            stack += [(parts + (key,), value) for key, value in reversed(node.items())]
        elif isinstance(node, list):
            stack += [(parts + (i,), value) for i, value in reversed(list(enumerate(node)))]
    return found


def schema_problems(doc: Document, schema: dict[str, Any]) -> list[str]:
    """Every schema violation of ``doc``, sorted by line, each as ``line: pointer: message``."""
    validator_cls = _validator_class(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    found = []
    for error in validator.iter_errors(doc.data):
        parts = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            # Point at each unknown key itself, so the line is the key's line, not its parent's.
            allowed = error.schema.get("properties", {})
            for key in (k for k in error.instance if k not in allowed):
                found.append((doc.line(parts + (key,)), doc.problem(parts + (key,), "unknown key")))
            continue
        found.append((doc.line(parts), doc.problem(parts, _short(error))))
    return [text for _, text in sorted(found, key=lambda item: item[0])]


#: Bumped whenever the meaning of a schema changes without its text changing (a remembered verdict that a
#: document passed, ``schema_stamp``, names it).
SEMANTICS = "ecma-anchors,finite-numbers,strict-integers"


def schema_stamp(verdicts: Path, kind: str, text: str, schema: dict[str, Any]) -> Path:
    """A file whose existence says: this ``kind`` of document (``registry``, ``card``) with this text passed this
    schema already, so jsonschema (~0.1 s with its import) is not run for it again. It names the text that was
    parsed, not the file read again later, so a file changed in between is never stamped unchecked; and the
    schema with the validator's meaning of it (``SEMANTICS``), so a stricter zoo checks again."""
    import hashlib
    import json

    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(json.dumps(schema, sort_keys=True).encode())
    digest.update(SEMANTICS.encode())
    return verdicts / f"{kind}-{digest.hexdigest()}.ok"


def own_stamp(stamp: Path) -> bool:
    """Whether a stamp can be believed: a regular file this user made, in a folder only this user can write.
    A shared cache is writable by others, and anyone could plant a stamp for a document that breaks the
    schema; such a stamp only costs a schema check."""
    import os
    import stat

    try:
        for st in (os.lstat(stamp.parent), os.lstat(stamp)):
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return False
        return stat.S_ISREG(st.st_mode)
    except OSError:
        return False


def write_stamp(stamp: Path) -> None:
    """Remember a document that passed its schema (a read-only cache only costs speed)."""
    import contextlib

    with contextlib.suppress(OSError):
        stamp.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        stamp.touch(mode=0o644)


@functools.lru_cache(maxsize=512)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A schema ``pattern`` compiled with JSON Schema's (ECMA-262) meaning: ``$`` is the end of the string.

    Python's ``$`` also matches before a final newline, so ``^[0-9a-f]{64}$`` would let a hash, an id or a
    file name end in ``\\n`` (two-line errors, cache names with a newline). Every unescaped ``$`` outside a
    character class becomes ``\\Z``.

    >>> bool(ecma_regex("^[a-z]+$").search("abc\\n")), bool(ecma_regex("^[a-z]+$").search("abc"))
    (False, True)
    >>> ecma_regex(r"^a\\$[$]$").pattern
    '^a\\\\$[$]\\\\Z'
    """
    out, in_class, i = [], False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]":  # a leading ] is literal
                skip = 2 if pattern[i + 1] == "]" else 3
                out.append(pattern[i:i + skip])
                i += skip
                continue
        elif char == "$":
            char = "\\Z"
        out.append(char)
        i += 1
    return re.compile("".join(out))


def _is_number(_checker: Any, value: Any) -> bool:
    """A figure: an int or a finite float. ``.nan`` and ``.inf`` are YAML numbers but no figure any check can use."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and (
        isinstance(value, int) or math.isfinite(value))


def _is_integer(_checker: Any, value: Any) -> bool:
    """A whole number as YAML writes one: ``377504.0`` is a float to every reader of the data, so not one."""
    return isinstance(value, int) and not isinstance(value, bool)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    import jsonschema

    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.lru_cache(maxsize=8)
def _validator_for(base: type) -> type:
    import jsonschema

    checker = base.TYPE_CHECKER.redefine_many({"number": _is_number, "integer": _is_integer})
    return jsonschema.validators.extend(base, {"pattern": _pattern}, type_checker=checker)


def _validator_class(schema: dict[str, Any]) -> type:
    """The schema's draft with the meaning its authors wrote it for: ECMA anchors, finite figures, whole integers."""
    import jsonschema

    return _validator_for(jsonschema.validators.validator_for(schema))


def _short(error: Any) -> str:
    """jsonschema messages can quote whole sub-documents; keep them to one readable line."""
    if error.validator == "pattern" and "description" in error.schema:
        # A regex says nothing to a person; the schema's description says what is expected.
        return f"{error.instance!r} is not valid: {error.schema['description']}"
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."
