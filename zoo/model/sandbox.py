"""Run a model file once in a child process before this process trusts the native runtime with it.

The runtimes are C++ (LiteRT, and onnxruntime for ONNX files): a crafted or corrupted file that passes every check of ``zoo.model.inspection`` can
still crash it (a segmentation fault takes the whole process, so ``zoo verify`` would write no report). A
child builds the interpreter, allocates and invokes it once on a synthetic input, which runs every op of
the graph; if the child dies, the file is refused with a one-line error and this process never loads it.
A file that ran once is not probed again in the same process (keyed by path, size, mtime and kernels), nor
in a later run while a signed verdict for its sha256 says so (``zoo.core.verdicts``: a planted or stale
verdict does not verify, and the file runs in a child as if there were none).

>>> from zoo.core.resources import data_dir
>>> ensure_runs(data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite")
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from zoo.core.errors import ModelFileError
from zoo.core.files import path_error
from zoo.core.verdicts import Verdicts, current
from zoo.model.formats import is_onnx

PROBE_TIMEOUT_S = 300.0  # reference kernels on a large model take seconds; a hang is a failure too
_probed: set[tuple[str, int, int, str]] = set()
_lock = threading.Lock()


def ensure_runs(path: str | Path, kernels: str = "optimized") -> None:
    """Return when ``path`` loads and runs once in a child; raise ``ModelFileError`` naming the file if not."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, kernels)
    with _lock:
        if key in _probed:
            return
    outside = False  # an ONNX file's weights may live in files beside it, which a verdict on its bytes does not cover
    if is_onnx(path):  # checked (external data above all) before onnxruntime, even in a child, reads it
        from zoo.model.onnx_reader import read_onnx, uses_external_data

        outside = uses_external_data(read_onnx(path).model)
    verdicts, facts = (None, ("", "", "")) if outside else _verdict_facts(path, kernels)
    if verdicts is not None and verdicts.ran(*facts):
        with _lock:
            _probed.add(key)
        return
    done = run_python(["-m", "zoo.model.runtime", str(path), kernels], PROBE_TIMEOUT_S)  # zoo.model.runtime's probe
    if done is None:
        raise ModelFileError(f"the runtime did not finish one inference in {PROBE_TIMEOUT_S:g} s", path=path)
    if done.returncode < 0:
        raise ModelFileError(f"the runtime crashed ({signal_name(done.returncode)}) running this file: it is "
                             "malformed", path=path)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ModelFileError(lines[-1] if lines else f"the runtime failed (exit {done.returncode})", path=path)
    if verdicts is not None:
        verdicts.record(*facts)
    with _lock:
        _probed.add(key)


def _verdict_facts(path: Path, kernels: str) -> tuple[Verdicts | None, tuple[str, str, str]]:
    """This process's verdicts (if any) and what a verdict on ``path`` must name: its bytes, kernels, runtime."""
    verdicts = current()
    if verdicts is None:
        return None, ("", "", "")
    from zoo.core.files import sha256_file
    from zoo.model.runtime import runtime_name

    return verdicts, (sha256_file(path), kernels, runtime_name(path))


def run_python(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    """This Python on ``args`` in a child with no stdin, output captured as text; None when it timed out.

    A child that cannot be started (no permission to execute the interpreter, no memory, no processes left)
    is one ``FileAccessError`` naming the interpreter: nothing is run unprobed."""
    try:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, errors="replace",
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    except OSError as exc:
        raise path_error(exc, sys.executable, "cannot start the child process that runs a model first") from None


def signal_name(returncode: int) -> str:
    """``SIGSEGV`` for a child that returned -11.

    >>> signal_name(-11), signal_name(-99)
    ('SIGSEGV', 'signal 99')
    """
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"
