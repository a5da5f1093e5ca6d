"""Pipe tables laid out exactly as mdformat-tables lays them out, so formatting a README changes nothing."""

from __future__ import annotations

_FILL = "\ue000"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A pipe table laid out exactly as mdformat-tables lays it out (cells padded, ``| --- |`` rule)."""
    from tabulate import tabulate

    # The header goes in as a data row (tabulate pads header cells two spaces wider than mdformat does) and
    # the rule is drawn here. mdformat makes columns at least 3 wide (the rule's "---"); a private-use
    # character stands in for that padding, since tabulate strips spaces.
    rows = [[h.ljust(3, _FILL) for h in headers], *rows]
    lines = tabulate(rows, tablefmt="github", disable_numparse=True).replace(_FILL, " ").splitlines()[1:]
    rule = "| " + " | ".join("-" * (len(cell) - 2) for cell in lines[0].split("|")[1:-1]) + " |"
    return "\n".join([lines[0], rule, *lines[1:]])
