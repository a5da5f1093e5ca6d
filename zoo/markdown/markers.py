"""The marker engine: find and validate ``<!-- zoo:begin name=X -->`` / ``<!-- zoo:end name=X -->`` regions.

People write the prose; zoo owns only what sits between the markers. Broken markers are reported with
their line number, so nothing is written.
"""

from __future__ import annotations

import re

MARKER = re.compile(r"^<!-- zoo:(begin|end) name=([A-Za-z0-9_.-]+) -->$")


def find_regions(lines: list[str], first: int) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Regions as (name, begin index, end index), and every marker problem as ``line: message``.

    ``first`` is the file line of ``lines[0]``, so messages name lines of the file.
    """
    found, problems, seen = [], [], {}
    open_at: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        if "zoo:begin" not in line and "zoo:end" not in line:
            continue
        m = MARKER.match(line.strip())
        if not m:
            problems.append(f"{first + i}: malformed marker {line.strip()!r} (expected <!-- zoo:begin name=NAME -->)")
            continue
        what, name = m.groups()
        if what == "begin" and open_at is not None:
            problems.append(f"{first + i}: region {name!r} begins inside region {open_at[0]!r} (line {first + open_at[1]})")
        elif what == "begin" and name in seen:
            problems.append(f"{first + i}: region {name!r} appears twice (first on line {first + seen[name]})")
        elif what == "begin":
            seen[name] = i
            open_at = (name, i)
        elif open_at is None or open_at[0] != name:
            problems.append(f"{first + i}: end of region {name!r} without its begin marker")
        else:
            found.append((name, open_at[1], i))
            open_at = None
    if open_at is not None:
        problems.append(f"{first + open_at[1]}: region {open_at[0]!r} has no end marker")
    return found, problems


def splice(lines: list[str], found: list[tuple[str, int, int]], content: dict[str, str]) -> list[str]:
    """``lines`` with the inside of every found region replaced by ``content[name]`` (blank lines around it).

    >>> splice(["<!-- zoo:begin name=a -->", "old", "<!-- zoo:end name=a -->"], [("a", 0, 2)], {"a": "new"})
    ['<!-- zoo:begin name=a -->', '', 'new', '', '<!-- zoo:end name=a -->']
    """
    out = list(lines)
    for name, begin, end in reversed(found):
        out[begin + 1 : end] = ["", *content[name].split("\n"), ""]
    return out
