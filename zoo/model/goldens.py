"""Golden outputs: proof that a file still computes what it computed when its card was checked.

A golden file stores a recipe for a few deterministic inputs (seeds for ``synthetic_input``) and the raw
outputs the artifact produced for them; the inputs themselves are regenerated, never stored. Integer
outputs must match exactly or within one quantization step (XNNPACK and the reference kernels may round
differently); float outputs within a small relative tolerance. Goldens are recorded and replayed with the
optimized kernels; ``kernel_agreement`` runs the same inputs through both kernel sets (``zoo.model.runtime.KERNELS``)
to show how far what a host computes is from what an MCU computes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.errors import ConfigError, FileAccessError
from zoo.core.files import read_text, sha256_file
from zoo.model.runtime import load_model, runtime_name, synthetic_input

GOLDEN_VERSION = 1
DEFAULT_CASES = 3
FLOAT_RTOL = 1e-3


@dataclass(frozen=True)
class GoldenResult:
    """Outcome of replaying a golden file; ``max_diff`` in quantization steps (int) or absolute (float)."""

    cases: int
    max_diff: float
    mismatches: int  # output elements beyond tolerance, over all cases
    passed: bool


def _seed(base: str, case: int) -> str:
    return f"{base}:{case}"


@dataclass(frozen=True)
class KernelAgreement:
    """Optimized vs reference kernels on the golden inputs: integer outputs compared in quantization steps."""

    cases: int
    values: int  # output elements compared, over all cases
    max_steps: float  # largest difference (quantization steps; absolute for float outputs)
    differing: int  # elements that differ at all

    @property
    def differing_share(self) -> float:
        return self.differing / self.values if self.values else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "values": self.values, "max_steps": self.max_steps, "differing": self.differing,
                "differing_share": self.differing_share}


def _run_cases(path: Path, seed: str, cases: int, kernels: str = "optimized") -> list[list[np.ndarray]]:
    model = load_model(path, kernels=kernels)
    return [
        model.invoke(*(synthetic_input(t, f"{_seed(seed, case)}:{i}") for i, t in enumerate(model.inputs)))
        for case in range(cases)
    ]


def make_golden(path: str | Path, *, seed: str = "zoo-golden", cases: int = DEFAULT_CASES) -> dict[str, Any]:
    """The golden document for the file at ``path`` (store it as JSON under ``registry/goldens/``)."""
    path = Path(path)
    outputs = _run_cases(path, seed, cases)
    return {
        "golden_version": GOLDEN_VERSION,
        "file": path.name,
        "sha256": sha256_file(path),
        "runtime": runtime_name(),
        "recipe": {"generator": "zoo.runtime.synthetic_input (SHAKE-256)", "seed": seed, "cases": cases},
        "expected": [[{"dtype": o.dtype.name, "shape": list(o.shape), "values": o.ravel().tolist()} for o in case]
                     for case in outputs],
    }


def load_golden(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        doc = json.loads(read_text(path)[0])  # the registry names it: a pull request may point it at /dev/zero
        if doc.get("golden_version") != GOLDEN_VERSION or not doc["expected"]:
            raise ValueError(f"golden_version must be {GOLDEN_VERSION}")
        doc["recipe"]["seed"], doc["recipe"]["cases"]  # noqa: B018 - fail early on a missing recipe
    except FileNotFoundError:
        raise ConfigError("golden file not found", path=path) from None
    except FileAccessError as exc:
        raise ConfigError(f"unusable golden file: {exc.message}", path=path) from None
    except RecursionError:
        raise ConfigError("unusable golden file: JSON nested too deeply", path=path) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"unusable golden file: {exc}", path=path) from None
    return doc


def check_golden(model_path: str | Path, golden: dict[str, Any]) -> GoldenResult:
    """Replay ``golden``'s recipe on ``model_path`` and compare every output element."""
    recipe = golden["recipe"]
    actual = _run_cases(Path(model_path), recipe["seed"], int(recipe["cases"]))
    worst, bad = 0.0, 0
    for got_case, want_case in zip(actual, golden["expected"], strict=True):
        for got, want in zip(got_case, want_case, strict=True):
            expected = np.asarray(want["values"], dtype=want["dtype"]).reshape(want["shape"])
            if got.shape != expected.shape:
                return GoldenResult(cases=len(actual), max_diff=float("inf"), mismatches=int(expected.size), passed=False)
            diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            limit = 1.0 if expected.dtype.kind in "iu" else FLOAT_RTOL * (np.abs(expected) + 1e-6)
            worst = max(worst, float(diff.max(initial=0.0)))
            bad += int(np.count_nonzero(diff > limit))
    return GoldenResult(cases=len(actual), max_diff=worst, mismatches=bad, passed=bad == 0)


def kernel_agreement(model_path: str | Path, golden: dict[str, Any]) -> KernelAgreement:
    """Run ``golden``'s inputs through the optimized and the reference kernels and compare the outputs.

    The stored expected values are not used: the question is how the two kernel sets differ on this file.
    """
    recipe = golden["recipe"]
    seed, cases = recipe["seed"], int(recipe["cases"])
    runs = [_run_cases(Path(model_path), seed, cases, kernels) for kernels in ("optimized", "reference")]
    worst, differing, values = 0.0, 0, 0
    for fast_case, ref_case in zip(*runs, strict=True):
        for fast, ref in zip(fast_case, ref_case, strict=True):
            diff = np.abs(fast.astype(np.float64) - ref.astype(np.float64))
            worst = max(worst, float(diff.max(initial=0.0)))
            differing += int(np.count_nonzero(diff))
            values += int(diff.size)
    return KernelAgreement(cases=cases, values=values, max_steps=worst, differing=differing)
