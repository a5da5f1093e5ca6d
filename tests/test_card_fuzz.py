"""Seeded fuzz of card YAML: whatever a pull request puts in card.yaml, validate, verify and render-card answer
with an exit code and one-line errors: no traceback, no signal.

One child process runs every mutant through ``zoo.cli.main`` (a native crash would show as a signal there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zoo.demo import bundled_mirror
from zoo.core.resources import data_dir

SEED, MUTANTS = 20261124, 60

_CHILD = r"""
import contextlib, io, json, random, shutil, sys, traceback
from pathlib import Path
from zoo.cli import main

seed, count, work, mirror, cards = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(seed)
shutil.copytree(cards, work / "model_cards")
card = work / "model_cards" / "osnet_demo" / "card.yaml"
original = card.read_text(encoding="utf-8").splitlines()
VALUES = ["", "null", "~", "[]", "{}", "-1", "1e309", ".nan", "9" * 5000, "'x'", "[1, [2, [3]]]", "&a [*a]",
          "!!python/object:os.system ls", "\t", "\u00e9\u0000", "{a: *nope}", "[" * 500 + "]" * 500, "- - -",
          "2026-13-45", "0x1F", "yes", "'" + "a" * 10000 + "'"]

def mutate(lines):
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        kind = rng.randrange(5)
        if kind == 0 and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {rng.choice(VALUES)}"
        elif kind == 1:
            del lines[i]
        elif kind == 2:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 3:
            lines[i] = " " * rng.randrange(6) + lines[i].lstrip()
        else:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return "\n".join(lines) + "\n"

outcomes = []
for n in range(count):
    card.write_text(mutate(original), encoding="utf-8")
    for argv in (["validate", str(card)], ["verify", str(card), "--mirror", mirror, "--offline"],
                 ["render-card", "--check", str(card)]):
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code = "traceback: " + traceback.format_exc().splitlines()[-1]
        errors = [l for l in err.getvalue().splitlines() if l.startswith("zoo: error:")]
        outcomes.append({"mutant": n, "argv": argv[0], "code": code, "errors": errors,
                         "stderr_traceback": "Traceback" in err.getvalue()})
print(json.dumps(outcomes))
"""


def test_mutated_cards_never_crash_or_trace(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(SEED), str(MUTANTS), str(tmp_path),
                           str(bundled_mirror()), str(data_dir("model_cards"))],
                          capture_output=True, text=True, timeout=540, env=None)
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    outcomes = json.loads(done.stdout)
    assert len(outcomes) == 3 * MUTANTS
    bad = [o for o in outcomes if o["code"] not in (0, 1, 2) or o["stderr_traceback"]]
    assert bad == []
    refused = [o for o in outcomes if o["code"] == 2]
    assert refused and all(len(o["errors"]) >= 1 for o in refused)  # a usage error always says why
    assert any(o["code"] == 1 for o in outcomes)  # schema problems are found, not only refusals
