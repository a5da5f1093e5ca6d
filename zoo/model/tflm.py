"""TensorFlow Lite for Microcontrollers' own arena plan for a model, from the ``tflite-micro`` package.

TFLM is native code that prints its allocation report on the process's stderr and aborts or crashes on
models it cannot handle, so it never runs inside zoo's process: a child Python builds the interpreter
(``tflite_micro.python.tflite_micro.runtime.Interpreter.from_file(path, arena_size=...)``), calls
``print_allocations()``, and zoo parses "Arena allocation head/tail/total N bytes" from the child's
stderr. A crash, a timeout or a refusal becomes one ``ModelFileError`` line; an arena that was too small
is retried larger. Head = the planned activations (TFLM's greedy planner), total = head + persistent tail.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from zoo.core.errors import ModelFileError, RuntimeMissingError
from zoo.model.sandbox import run_python, signal_name

INSTALL_HINT = "TFLM figures need the tflite-micro package: pip install 'zoo[mcu]'"
TIMEOUT_S = 120.0
MAX_ARENA = 1 << 30
_CHILD = """
import sys
try:
    from tflite_micro.python.tflite_micro import runtime
    runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2])).print_allocations()
except BaseException as exc:
    print(f"{type(exc).__name__}: {exc}".splitlines()[0], flush=True)
    sys.exit(1)
"""
_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


@dataclass(frozen=True)
class TflmArena:
    head: int  # activations, as TFLM's greedy planner lays them out
    tail: int  # persistent data: tensor structs, quantization, kernel buffers
    total: int


def available() -> bool:
    return importlib.util.find_spec("tflite_micro") is not None


def tflm_arena(path: str | Path, first_guess: int) -> TflmArena:
    """TFLM's arena for ``path``, starting with an arena of twice ``first_guess`` bytes (doubled on refusal)."""
    if not available():
        raise RuntimeMissingError(INSTALL_HINT)
    path = Path(path)
    size = max(1 << 20, 2 * first_guess)
    while True:
        figures, reason = _run(path, size)
        if figures is not None:
            return figures
        if "allocate" not in reason or size >= MAX_ARENA:
            raise ModelFileError(f"TFLM cannot plan this model: {reason}", path=path)
        size *= 4


def _run(path: Path, arena: int) -> tuple[TflmArena | None, str]:
    """One child run: the figures, or None and why not."""
    done = run_python(["-I", "-c", _CHILD, str(path), str(arena)], TIMEOUT_S)
    if done is None:
        return None, f"no answer within {TIMEOUT_S:.0f} s"
    if done.returncode < 0:
        return None, f"TFLM crashed ({signal_name(done.returncode)})"
    found = {k: int(v) for k, v in _LINE.findall(done.stderr)}
    if done.returncode == 0 and {"head", "tail"} <= found.keys():
        return TflmArena(found["head"], found["tail"], found.get("total", found["head"] + found["tail"])), ""
    said = [line.strip() for line in (done.stderr + "\n" + done.stdout).splitlines() if line.strip()]
    native = next((line for line in said if "ailed" in line or "nsupported" in line or "find op" in line), None)
    return None, native or (said[-1] if said else f"exit status {done.returncode}")

