"""Commands import only what they use: the start-up budgets (``zoo --help`` within 60 ms and ``zoo list`` within 100
ms of a bare interpreter) are measured by benchmarks/bench_startup.py; these tests keep the heavy imports off the
paths that do not need them, in a fresh interpreter each."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zoo.core.resources import data_dir

HEAVY = ("numpy", "tabulate", "yaml", "requests", "logging", "ai_edge_litert", "flatbuffers", "jsonschema")
DEMO = data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"


def imported(argv: list[str]) -> set[str]:
    code = ("import contextlib, io, json, sys\nfrom zoo.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            f"    main({argv!r})\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(("argv", "allowed"), [
    (["--help"], set()),
    (["list", "--json"], {"yaml"}),  # the registry is YAML; its schema verdict spares jsonschema
    # the flatbuffer reader needs no numpy; FILE|ID brings the fetch layer (its logger)
    (["inspect", str(DEMO), "--json", "--offline"], {"yaml", "logging"}),
    (["footprint", str(DEMO), "--json", "--offline"], {"yaml", "logging"}),
])
def test_a_command_imports_only_what_it_uses(argv: list[str], allowed: set[str]) -> None:
    imported(argv)  # the first run caches the registry's schema verdict, as any earlier command would
    assert imported(argv) <= allowed
