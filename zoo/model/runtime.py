"""The one place that talks to a model runtime: a TFLite interpreter, or onnxruntime for an ONNX file.

Prefers ``ai-edge-litert`` (the maintained LiteRT wheel), then ``tflite_runtime``, then TensorFlow's
bundled ``tf.lite``. Everything above this module sees ``LoadedModel`` and ``zoo.model.tensors.TensorInfo`` only;
an ONNX file (by content) runs in ``zoo.model.onnx_runtime``, behind the same interface.

Two kernel sets (``KERNELS``), because the host and a microcontroller do not compute the same int8 outputs:

- ``optimized``: the runtime's default kernels (XNNPACK and the optimized builtins), what a host deployment runs;
- ``reference``: the runtime's reference kernels (``OpResolverType.BUILTIN_REF``), the portable integer
  arithmetic that TensorFlow Lite Micro also implements, so their outputs are what an MCU computes
  (``tests/test_kernels.py`` proves them bit-exact with ``tflite-micro``). Tens of times slower.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.errors import ModelFileError, RuntimeMissingError, UsageError, ZooError
from zoo.model.formats import is_onnx
from zoo.model.tensors import TensorInfo

_CANDIDATES = (
    ("ai_edge_litert.interpreter", "ai-edge-litert"),
    ("tflite_runtime.interpreter", "tflite-runtime"),
    ("tensorflow.lite", "tensorflow"),
)
KERNELS = ("optimized", "reference")


def _interpreter_module() -> tuple[Any, str]:
    import importlib

    for module, dist in _CANDIDATES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        return mod, dist
    raise RuntimeMissingError(
        "no TFLite runtime is installed: pip install ai-edge-litert "
        "(or the fallback: pip install 'zoo[tflite-runtime]')"
    )


def runtime_name(path: str | Path | None = None) -> str:
    """Distribution name and version of the runtime that runs ``path`` (default: a TFLite file), e.g.
    ``ai-edge-litert 2.3.0`` or ``onnxruntime 1.20.1``."""
    if path is not None and is_onnx(path):
        from zoo.model.onnx_runtime import onnx_runtime_name

        return onnx_runtime_name()

    mod, dist = _interpreter_module()
    own = getattr(sys.modules.get(mod.__name__.split(".")[0]), "__version__", None)
    if isinstance(own, str):  # the package's own version: importlib.metadata's import and scan cost ~20 ms a run
        return f"{dist} {own}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{dist} {version(dist)}"
    except PackageNotFoundError:  # pragma: no cover - tensorflow installed as tensorflow-cpu etc.
        return dist


def _tensor_info(detail: dict[str, Any]) -> TensorInfo:
    q = detail.get("quantization_parameters") or {}
    scales = tuple(float(s) for s in q.get("scales", ()))
    zeros = tuple(int(z) for z in q.get("zero_points", ()))
    if not scales and detail.get("quantization", (0.0, 0))[0]:
        scales, zeros = (float(detail["quantization"][0]),), (int(detail["quantization"][1]),)
    return TensorInfo(
        name=detail["name"],
        index=int(detail["index"]),
        shape=tuple(int(d) for d in detail["shape"]),
        dtype=np.dtype(detail["dtype"]).name,
        scales=scales,
        zero_points=zeros,
        quantized_dimension=int(q.get("quantized_dimension", 0)),
    )


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """The native runtime prints "INFO: Created TensorFlow Lite XNNPACK delegate" straight to fd 2 while an
    interpreter is built; that line is noise in every report. Failures still surface as exceptions."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (e.g. a closed stderr): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_kernels(kernels: str) -> str:
    """``kernels`` if it names a kernel set, else a usage error listing them."""
    if kernels not in KERNELS:
        raise UsageError(f"unknown kernel set {kernels!r} (choose from {', '.join(KERNELS)})")
    return kernels


def _resolver_options(mod: Any, kernels: str) -> dict[str, Any]:
    """Interpreter keyword arguments that select ``kernels`` (see the module docstring)."""
    if check_kernels(kernels) == "optimized":
        return {}
    resolver = getattr(mod, "OpResolverType", None) or getattr(getattr(mod, "experimental", None), "OpResolverType", None)
    if resolver is None:  # pragma: no cover - every supported runtime has had it since TF 2.5
        raise RuntimeMissingError("this TFLite runtime cannot select reference kernels: pip install ai-edge-litert")
    return {"experimental_op_resolver_type": resolver.BUILTIN_REF}


class LoadedModel:
    """A TFLite model ready to run: its tensors and an ``invoke`` for one input batch."""

    def __init__(self, path: str | Path, threads: int = 1, kernels: str = "optimized") -> None:
        mod, _ = _interpreter_module()
        self.path = Path(path)
        self.kernels = kernels
        options = _resolver_options(mod, kernels)
        try:
            with _native_stderr_silenced():
                self._interp = mod.Interpreter(model_path=str(self.path), num_threads=threads, **options)
                self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"not a loadable TFLite model: {_last_line(exc)}", path=self.path) from None
        self.inputs = [_tensor_info(d) for d in self._interp.get_input_details()]
        self.outputs = [_tensor_info(d) for d in self._interp.get_output_details()]

    def invoke(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Run once on arrays matching ``inputs`` (shape and dtype); return raw outputs (copies)."""
        self.feed(*arrays)
        self.run()
        return [self._interp.get_tensor(info.index).copy() for info in self.outputs]

    def feed(self, *arrays: np.ndarray) -> None:
        """Set the inputs once; latency loops then time ``run`` alone, as TFLite's benchmark_model does."""
        for info, array in zip(self.inputs, arrays, strict=True):
            self._interp.set_tensor(info.index, array)

    def run(self) -> None:
        """One inference on the inputs last fed; the runtime's refusal becomes a one-line ``ModelFileError``."""
        try:
            self._interp.invoke()
        except RuntimeError as exc:
            raise ModelFileError(f"the TFLite runtime failed: {_last_line(exc)}", path=self.path) from None


def _last_line(exc: BaseException) -> str:
    """The native runtime's messages span lines (node numbers, op names); the last one says what failed."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def load_model(path: str | Path, threads: int = 1, kernels: str = "optimized") -> LoadedModel:
    """Load a .tflite or .onnx file (told by content) with the ``kernels`` set; a file its runtime refuses
    raises ``ModelFileError``."""
    from zoo.model.sandbox import ensure_runs

    path = Path(path)
    if not path.is_file():
        raise ModelFileError("no such file", path=path)
    ensure_runs(path, check_kernels(kernels))  # a file that crashes the native runtime does so in a child, not here
    return open_model(path, threads=threads, kernels=kernels)


def open_model(path: str | Path, threads: int = 1, kernels: str = "optimized") -> LoadedModel:
    """The runtime of the file's format, no child first: ``load_model`` for files not yet run once.

    An ONNX file gets ``zoo.model.onnx_runtime.OnnxLoadedModel``, which has ``LoadedModel``'s interface.
    """
    if is_onnx(path):
        from zoo.model.onnx_runtime import OnnxLoadedModel

        return OnnxLoadedModel(path, threads=threads, kernels=kernels)  # type: ignore[return-value]
    return LoadedModel(path, threads=threads, kernels=kernels)


def synthetic_input(info: TensorInfo, seed: str) -> np.ndarray:
    """A deterministic input for ``info`` derived from ``seed`` (SHAKE-256 bytes, same on every machine).

    Integer tensors get values spread over their whole range, float tensors values in [-1, 1). Used for
    golden outputs and latency runs, where the content must be reproducible but need not be an image.
    """
    import hashlib

    dtype = np.dtype(info.dtype)
    count = int(np.prod(info.shape))
    raw = np.frombuffer(hashlib.shake_256(seed.encode()).digest(count * 2), dtype="<u2")
    if dtype.kind in "iu":
        lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
        values = lo + (raw.astype(np.int64) % (hi - lo + 1))
    else:
        values = raw.astype(np.float64) / 32768.0 - 1.0
    return values.astype(dtype).reshape(info.shape)


def _probe(path: str, kernels: str) -> int:
    """``python -m zoo.model.runtime PATH KERNELS``, the child of ``zoo.model.sandbox``: load, allocate, invoke once.

    A refusal is one line on stderr and exit 3; a native crash kills only this child.
    """
    try:
        model = open_model(path, kernels=kernels)
        model.invoke(*(synthetic_input(t, "zoo.sandbox") for t in model.inputs))
    except ZooError as exc:
        print(exc.message, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_probe(sys.argv[1], sys.argv[2]))
