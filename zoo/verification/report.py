"""How ``zoo verify`` results are shown: a summary a person reads at a glance, JSON, and JUnit XML.

The JSON shape is fixed by ``schemas/verify-report.schema.json``; JUnit has one testcase per check
(class name = the card or model, name = the rule id), failures as ``<failure>``, not-checked as
``<skipped>`` so CI dashboards show them without failing the build.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.core.text import printable
from zoo.core.errors import VerificationFailed
from zoo.core.files import write_atomic
from zoo.verification.rules.base import Check, Severity, Status
from zoo.verification.run import Entry, measured_by_card

REPORT_VERSION = 1
_MEASURED = ("accuracy", "latency", "kernels")  # rule families that report a figure measured here
_MARK = {Status.PASS: "ok", Status.FAIL: "FAIL", Status.WARN: "warn", Status.NOT_CHECKED: "n/c"}


def _tally(check: Check) -> str:
    """The column a check counts in: ``info`` for figures shown beside a claim, where nothing was compared."""
    if check.status is Status.PASS and check.severity is Severity.INFO:
        return "info"
    return check.status.value


def totals(entries: list[Entry]) -> dict[str, int]:
    """How many checks compared and agreed (pass), failed, warned, only informed, or could not run."""
    counts = Counter(_tally(c) for e in entries for c in e.checks)
    return {key: counts.get(key, 0) for key in ("pass", "fail", "warn", "info", "not_checked")}


def verdict(entries: list[Entry]) -> str:
    """``FAILED`` when a check failed, ``INCOMPLETE`` when one could not run, else ``PASSED``: a summary never
    says PASSED for something nobody checked (an uncached file offline, a missing golden)."""
    t = totals(entries)
    return "FAILED" if t["fail"] else "INCOMPLETE" if t["not_checked"] else "PASSED"


def ci_notice(entries: list[Entry]) -> str | None:
    """The last line a lenient run prints in CI when it passed over checks (``--strict`` would fail them)."""
    skipped = totals(entries)["not_checked"]
    if not skipped:
        return None
    return (f"zoo: {skipped} check(s) were not checked and do not fail this run; "
            "drop --no-strict (or ZOO_STRICT=0) to make them fail")


def to_json(entries: list[Entry], *, strict: bool = False) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "strict": strict,
        "passed": not any(e.failed for e in entries),
        "verdict": verdict(entries),
        "totals": totals(entries),
        "entries": [
            {"kind": e.kind, "subject": e.subject, "card": e.card, "file": e.file, "passed": not e.failed,
             "checks": [c.to_json() for c in e.checks], "measured": e.measured}
            for e in entries
        ],
    }


def to_text(entries: list[Entry], *, verbose: bool = False) -> str:
    """One line per card or model; underneath, the checks that need attention and every figure measured on
    this host (with its protocol and kernels); all checks with ``verbose``."""
    out = []
    for e in entries:
        counts = Counter(_tally(c) for c in e.checks)
        state = "FAIL" if e.failed else ("ok" if not counts["not_checked"] else "incomplete")
        summary = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items()))
        out.append(f"{state:<4} {e.kind} {e.subject}: {summary}")
        skipped: dict[str, list[str]] = {}  # one line per reason, not per check it stopped
        for c in e.checks:
            if c.status is Status.NOT_CHECKED:
                skipped.setdefault(c.message, []).append(c.id)
            elif verbose or c.status is not Status.PASS or c.id.split(".")[0] in _MEASURED:
                mark = "info" if _tally(c) == "info" else _MARK[c.status]
                out.append(f"     {mark:<4} {c.id}: {c.message}")
        out += [f"     {_MARK[Status.NOT_CHECKED]:<4} {', '.join(ids)}: {reason}" for reason, ids in skipped.items()]
    t = totals(entries)
    ran = f"{t['pass']} passed, {t['fail']} failed, {t['warn']} warnings, {t['info']} info"
    if t["not_checked"]:
        ran += (f"; {t['not_checked']} not checked ({', '.join(_not_run(entries))}): run them (fetch the file, "
                "add what they need) or --strict to fail on them")
    out.append(f"{verdict(entries)}: {ran}")
    return "\n".join(map(printable, out))  # subjects and messages name files and cells of a pull request


def _not_run(entries: list[Entry]) -> list[str]:
    """The rule families that did not run, in first-seen order (``golden``, ``artifact``, ...)."""
    return list(dict.fromkeys(c.id.split(".")[0] for e in entries for c in e.checks if c.status is Status.NOT_CHECKED))


def to_junit(entries: list[Entry]) -> bytes:
    import xml.etree.ElementTree as ET

    t = totals(entries)
    suites = ET.Element("testsuites", name="zoo verify", tests=str(sum(t.values())), failures=str(t['fail']),
                        skipped=str(t['not_checked']))
    for e in entries:
        counts = Counter(c.status for c in e.checks)
        suite = ET.SubElement(suites, "testsuite", name=printable(f"{e.kind} {e.subject}"), tests=str(len(e.checks)),
                              failures=str(counts[Status.FAIL]), skipped=str(counts[Status.NOT_CHECKED]), errors="0")
        for c in e.checks:
            name = f"{c.id}[{c.details['record']}]" if "record" in c.details else c.id
            how = ", ".join(f"{c.details[k]} {k}" for k in ("protocol", "kernels") if k in c.details)
            case = ET.SubElement(suite, "testcase", classname=printable(f"{e.kind}.{e.subject}"),
                                 name=printable(f"{name} ({how})" if how else name))  # a figure says how it was made
            message = printable(c.message)  # XML 1.0 has no control characters; a CI parser would refuse the file
            if c.status is Status.FAIL:
                ET.SubElement(case, "failure", message=message, type=c.severity.value).text = message
            elif c.status is Status.NOT_CHECKED:
                ET.SubElement(case, "skipped", message=message)
            elif c.status is Status.WARN:
                ET.SubElement(case, "system-out").text = f"warning: {message}"
            elif "measured" in c.details or "kernels" in c.details:  # figures: shown, with how they were measured
                ET.SubElement(case, "system-out").text = message
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


@dataclass
class VerifyReport:
    """What ``zoo.verify`` found, and the same findings as text, JSON, JUnit and the records ``--write`` stores.

    ``passed`` is False when any check failed (with ``strict``, every check that could not run has failed).
    """

    entries: list[Entry]
    strict: bool = False

    @property
    def passed(self) -> bool:
        return not any(e.failed for e in self.entries)

    @property
    def totals(self) -> dict[str, int]:
        return totals(self.entries)

    def to_text(self, *, verbose: bool = False) -> str:
        return to_text(self.entries, verbose=verbose)

    def to_json(self) -> dict[str, Any]:
        """The document of ``zoo verify --json`` (``schemas/verify-report.schema.json``)."""
        return to_json(self.entries, strict=self.strict)

    def to_junit(self) -> bytes:
        return to_junit(self.entries)

    def write_junit(self, path: str | Path) -> None:
        """Write the JUnit XML atomically: a CI dashboard never reads half a report."""
        write_atomic(path, self.to_junit())

    def write_records(self) -> dict[str, int]:
        """Store the figures measured on this host in their card.yaml files (``--write``); card -> records stored."""
        from zoo.cards.card import read_card
        from zoo.cards.writing import write_records

        by_card = measured_by_card(self.entries)
        for card, records in by_card.items():
            write_records(read_card(card), records)
        return {card: len(records) for card, records in by_card.items()}

    def ci_notice(self) -> str | None:
        return ci_notice(self.entries)

    def raise_for_status(self) -> None:
        """Raise ``VerificationFailed`` (exit 1) when a check failed; the report itself says which."""
        if not self.passed:
            t = self.totals
            raise VerificationFailed(f"{t['fail']} check(s) failed", reported=True)
