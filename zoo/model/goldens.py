"""Golden outputs: proof that a file still computes what it computed when its card was checked.

A golden file stores a recipe for a few deterministic inputs (seeds for ``synthetic_input``) and the raw
outputs the artifact produced for them; the inputs themselves are regenerated, never stored. Integer
outputs must match exactly or within one quantization step (XNNPACK and the reference kernels may round
differently); float outputs within a small relative tolerance, or one step where an ONNX QDQ graph
dequantizes them (``zoo.model.onnx_reader.output_steps``). Goldens are recorded and replayed with the
optimized kernels; ``kernel_agreement`` runs the same inputs through both kernel sets (``zoo.model.runtime.KERNELS``)
to show how far what a host computes is from what an MCU computes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.errors import ConfigError, FileAccessError, UsageError
from zoo.core.files import read_text, sha256_file
from zoo.model.runtime import load_model, runtime_name, synthetic_input

GOLDEN_VERSION = 1
DEFAULT_CASES = 3
FLOAT_RTOL = 1e-3
#: What a golden may ask for. It arrives in a pull request, and each case is one inference: a real golden has
#: 3 cases of 1-4 outputs of up to a few thousand values; these leave room without letting it run for minutes.
MAX_CASES = 64
MAX_OUTPUTS = 64
MAX_VALUES = 1 << 22  # output elements over the whole file
DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "float16", "float32", "float64")


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
    if not 1 <= cases <= MAX_CASES:
        raise UsageError(f"a golden holds 1 to {MAX_CASES} cases, not {cases}")
    path = Path(path)
    outputs = _run_cases(path, seed, cases)
    return {
        "golden_version": GOLDEN_VERSION,
        "file": path.name,
        "sha256": sha256_file(path),
        "runtime": runtime_name(path),
        "recipe": {"generator": "zoo.runtime.synthetic_input (SHAKE-256)", "seed": seed, "cases": cases},
        "expected": [[{"dtype": o.dtype.name, "shape": list(o.shape), "values": o.ravel().tolist()} for o in case]
                     for case in outputs],
    }


def load_golden(path: str | Path) -> dict[str, Any]:
    """A golden file, checked whole before any of it is used: its schema (``schemas/golden.schema.json``,
    with ``MAX_CASES`` and ``MAX_OUTPUTS``), one stored case per recipe case, and each output's values as
    many as its shape says, finite and representable in its dtype. ``ConfigError`` names the first problem."""
    path = Path(path)
    try:
        doc = json.loads(read_text(path)[0])  # the registry names it: a pull request may point it at /dev/zero
    except FileNotFoundError:
        raise ConfigError("golden file not found", path=path) from None
    except FileAccessError as exc:
        raise ConfigError(f"unusable golden file: {exc.message}", path=path) from None
    except RecursionError:
        raise ConfigError("unusable golden file: JSON nested too deeply", path=path) from None
    except ValueError as exc:
        raise ConfigError(f"unusable golden file: {exc}", path=path) from None
    if problem := golden_problem(doc):
        raise ConfigError(f"unusable golden file: {problem}", path=path)
    return doc


def golden_problem(doc: Any) -> str | None:
    """The first reason ``doc`` is no golden this zoo can replay, or None.

    >>> golden_problem({"golden_version": 1, "recipe": {"seed": "s", "cases": 1},
    ...                 "expected": [[{"dtype": "int8", "shape": [1, 2], "values": [1, -128]}]]}) is None
    True
    >>> golden_problem({"golden_version": 1, "recipe": {"seed": "s", "cases": 2},
    ...                 "expected": [[{"dtype": "int8", "shape": [2], "values": [1, 300]}]]})
    'recipe.cases is 2 but 1 case(s) are stored'
    """
    from zoo.core.documents import Document, schema_problems
    from zoo.core.resources import load_schema

    if problems := schema_problems(Document(Path("golden"), doc, {}), load_schema("golden")):
        return problems[0].split(": ", 1)[1]
    if len(doc["expected"]) != doc["recipe"]["cases"]:
        return f"recipe.cases is {doc['recipe']['cases']} but {len(doc['expected'])} case(s) are stored"
    if len({len(case) for case in doc["expected"]}) > 1:
        return "the cases store different numbers of outputs"
    total = 0
    for c, case in enumerate(doc["expected"]):
        for o, output in enumerate(case):
            where = f"expected[{c}][{o}]"
            count = int(np.prod(output["shape"], dtype=np.int64)) if output["shape"] else 1
            total += len(output["values"])
            if total > MAX_VALUES:
                return f"more than {MAX_VALUES:,} output values"
            if count != len(output["values"]):
                return f"{where}: shape {output['shape']} holds {count} values, {len(output['values'])} are stored"
            if why := _values_problem(output["values"], output["dtype"]):
                return f"{where}: {why}"
    return None


def _values_problem(values: list[Any], dtype: str) -> str | None:
    """Why ``values`` cannot be ``dtype`` outputs: not numbers, not finite, not whole or out of range."""
    if not all(type(v) in (int, float, bool) for v in values):
        return "values must be numbers"
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        return "values must be finite numbers"
    kind = np.dtype(dtype)
    if kind.kind in "iub":
        info = np.iinfo(kind) if kind.kind != "b" else None
        low, high = (info.min, info.max) if info is not None else (0, 1)
        if (array != np.round(array)).any() or (array < low).any() or (array > high).any():
            return f"values must be whole numbers from {low} to {high} for {dtype}"
    return None


def check_golden(model_path: str | Path, golden: dict[str, Any]) -> GoldenResult:
    """Replay ``golden``'s recipe on ``model_path`` and compare every output element."""
    recipe = golden["recipe"]
    actual = _run_cases(Path(model_path), recipe["seed"], int(recipe["cases"]))
    steps = _float_steps(Path(model_path))
    worst, bad = 0.0, 0
    for got_case, want_case in zip(actual, golden["expected"], strict=True):  # load_golden: one per case
        if len(got_case) != len(want_case):  # a golden of another model: nothing of it reproduces
            return GoldenResult(cases=len(actual), max_diff=float("inf"), passed=False,
                                mismatches=sum(len(w["values"]) for w in want_case))
        for j, (got, want) in enumerate(zip(got_case, want_case)):
            expected = np.asarray(want["values"], dtype=want["dtype"]).reshape(want["shape"])
            if got.shape != expected.shape:
                return GoldenResult(cases=len(actual), max_diff=float("inf"), mismatches=int(expected.size), passed=False)
            diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            step = steps[j] if j < len(steps) else None
            limit = 1.0 if expected.dtype.kind in "iu" else np.maximum(FLOAT_RTOL * (np.abs(expected) + 1e-6),
                                                                        (step or 0.0) * 1.0001)
            worst = max(worst, float(diff.max(initial=0.0)))
            bad += int(np.count_nonzero(diff > limit))
    return GoldenResult(cases=len(actual), max_diff=worst, mismatches=bad, passed=bad == 0)


def _float_steps(path: Path) -> list[float | None]:
    """One quantization step per output for float outputs dequantized inside an ONNX graph (QDQ), else None."""
    from zoo.model.formats import is_onnx

    if not is_onnx(path):
        return []
    from zoo.model.onnx_reader import output_steps

    return output_steps(path)


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
