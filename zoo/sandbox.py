"""Run a model file once in a child process before this process trusts the native runtime with it.

The TFLite runtime is C++: a crafted or corrupted file that passes every check of ``zoo.inspection`` can
still crash it (a segmentation fault takes the whole process, so ``zoo verify`` would write no report). A
child builds the interpreter, allocates and invokes it once on a synthetic input, which runs every op of
the graph; if the child dies, the file is refused with a one-line error and this process never loads it.
A file that ran once is not probed again in the same process (keyed by path, size, mtime and kernels).

>>> from zoo.resources import data_dir
>>> ensure_runs(data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite")
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

from zoo.errors import ModelFileError

PROBE_TIMEOUT_S = 300.0  # reference kernels on a large model take seconds; a hang is a failure too
_EXIT_REFUSED = 3  # the child ran but the runtime refused the file (its message is on stderr)
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
    try:
        done = subprocess.run([sys.executable, "-m", "zoo.sandbox", str(path), kernels], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ModelFileError(f"the TFLite runtime did not finish one inference in {PROBE_TIMEOUT_S:g} s",
                             path=path) from None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        raise ModelFileError(f"the TFLite runtime crashed ({name}) running this file: it is malformed", path=path)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ModelFileError(lines[-1] if lines else f"the TFLite runtime failed (exit {done.returncode})",
                             path=path)
    with _lock:
        _probed.add(key)


def _probe(path: str, kernels: str) -> int:
    """The child's side: load, allocate, invoke once; a refusal is one line on stderr and exit 3."""
    from zoo.errors import ZooError
    from zoo.runtime import LoadedModel, synthetic_input

    try:
        model = LoadedModel(path, kernels=kernels)
        model.invoke(*(synthetic_input(t, "zoo.sandbox") for t in model.inputs))
    except ZooError as exc:  # the runtime's own refusals, already one line (zoo.runtime)
        print(exc.message, file=sys.stderr)
        return _EXIT_REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(_probe(sys.argv[1], sys.argv[2]))
