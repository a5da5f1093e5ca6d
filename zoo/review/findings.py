"""One finding of ``zoo validate``: a file, a line, a severity, a rule id and what to do; and problem lines of the
card checks (``file:line: message``) as findings, so every command prints one shape."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from zoo.verification.rules.base import Severity, rule

_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.*)$")


@dataclass(frozen=True, order=True)
class Finding:
    """What ``zoo validate`` reports; ``line`` is 1-based (1 when a problem is the whole file's)."""

    file: str
    line: int
    severity: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message} [{self.rule}]"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def finding(file: str, line: int, rule_id: str, message: str, severity: Severity | None = None) -> Finding:
    """A finding at the severity the catalog gives ``rule_id`` unless the evidence says less (``severity``)."""
    return Finding(str(file), max(1, line), str(severity or rule(rule_id).severity), rule_id, message)


def from_problem(problem: str, rule_id: str = "card.schema", file: str = "") -> Finding:
    """``file:line: message`` (or ``file: message``) from the card checks as an error finding.

    >>> from_problem("cards/x/card.yaml:4: /family: bad")
    Finding(file='cards/x/card.yaml', line=4, severity='error', rule='card.schema', message='/family: bad')
    """
    found = _LINE.match(problem)
    if found:
        return finding(found.group("file"), int(found.group("line")), rule_id, found.group("message"))
    where, sep, message = problem.partition(": ")
    return finding(where if sep else file, 1, rule_id, message if sep else problem)
