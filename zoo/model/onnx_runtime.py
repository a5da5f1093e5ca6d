"""An .onnx file run by onnxruntime (CPU) behind the interface ``zoo.model.runtime.LoadedModel`` has.

``zoo.model.runtime.open_model`` builds one of these for an ONNX file (told by content), after
``zoo.model.onnx_reader`` checked it and ``zoo.model.sandbox`` ran it once in a child. Kernel sets map to
onnxruntime's graph optimisation levels:

- ``optimized``: every graph optimisation (``ORT_ENABLE_ALL``): QDQ pairs fused into integer kernels, what
  a host deployment runs;
- ``reference``: no graph optimisation (``ORT_DISABLE_ALL``): each node as the file writes it, so a QDQ
  model computes dequantize -> float op -> quantize, the arithmetic the ONNX standard defines.

A dynamic dimension (``batch``) runs as 1, as TFLite runs a ``-1`` batch.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.errors import ModelFileError, RuntimeMissingError
from zoo.model.tensors import TensorInfo

INSTALL_HINT = "running .onnx files needs onnxruntime: pip install 'zoo[onnx]'"


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise RuntimeMissingError(INSTALL_HINT) from None
    return onnxruntime


def onnx_runtime_name() -> str:
    """``onnxruntime 1.20.1``."""
    return f"onnxruntime {_ort().__version__}"


def _dtype(ort_type: str) -> str:
    """``tensor(float)`` -> ``float32``."""
    name = ort_type.removeprefix("tensor(").removesuffix(")")
    return {"float": "float32", "double": "float64", "float16": "float16"}.get(name, name)


def _tensor(arg: Any, index: int) -> TensorInfo:
    dims = list(arg.shape or [])
    shape = tuple(d if isinstance(d, int) and d >= 0 else 1 for d in dims)
    return TensorInfo(arg.name, index, shape, _dtype(arg.type), (), (), 0)


class OnnxLoadedModel:
    """An ONNX model ready to run: its tensors and an ``invoke`` for one input batch (``LoadedModel``'s interface)."""

    def __init__(self, path: str | Path, threads: int = 1, kernels: str = "optimized") -> None:
        ort = _ort()
        self.path = Path(path)
        self.kernels = kernels
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initializers are noise in every report
        options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if kernels == "optimized"
                                            else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        try:
            self._session = ort.InferenceSession(str(self.path), sess_options=options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidGraph/... types
            raise ModelFileError(f"not a loadable ONNX model: {_last_line(exc)}", path=self.path) from None
        self.inputs = [_tensor(a, i) for i, a in enumerate(self._session.get_inputs())]
        self.outputs = [_tensor(a, i) for i, a in enumerate(self._session.get_outputs())]
        self._feed: dict[str, np.ndarray] = {}
        self._results: list[np.ndarray] = []

    def invoke(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Run once on arrays matching ``inputs`` (shape and dtype); return the outputs."""
        self.feed(*arrays)
        self.run()
        return [np.array(r, copy=True) for r in self._results]

    def feed(self, *arrays: np.ndarray) -> None:
        """Set the inputs once; latency loops then time ``run`` alone."""
        self._feed = {info.name: array for info, array in zip(self.inputs, arrays, strict=True)}

    def run(self) -> None:
        """One inference on the inputs last fed; onnxruntime's refusal becomes a one-line ``ModelFileError``."""
        try:
            self._results = self._session.run(None, self._feed)
        except Exception as exc:  # noqa: BLE001 - onnxruntime's exception types are not importable by name
            raise ModelFileError(f"onnxruntime failed: {_last_line(exc)}", path=self.path) from None
        if self.outputs and any(o.shape != r.shape for o, r in zip(self.outputs, self._results)):
            self.outputs = [replace(o, shape=tuple(r.shape)) for o, r in zip(self.outputs, self._results)]


def _last_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:300]
