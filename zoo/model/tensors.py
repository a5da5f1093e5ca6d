"""Facts about a tensor as a model file declares it: name, shape, dtype and quantization.

Both the flatbuffer reader (``zoo.model.inspection``) and the interpreter (``zoo.model.runtime``) produce these, and the
rules and feature extraction consume them, so they live below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where values are converted: `zoo inspect` never needs it
    import numpy as np


@dataclass(frozen=True)
class TensorInfo:
    """An input or output tensor as the file declares it."""

    name: str
    index: int
    shape: tuple[int, ...]
    dtype: str
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int
    dim_names: tuple[str | None, ...] = ()  # a dynamic dimension's name (ONNX ``dim_param``), its shape entry -1

    @property
    def display_shape(self) -> list[int | str]:
        """The shape as reports show it: a dynamic dimension by its name (``batch``), never as -1.

        >>> TensorInfo("x", 0, (-1, 3), "float32", (), (), 0, ("batch", None)).display_shape
        ['batch', 3]
        """
        names = self.dim_names or (None,) * len(self.shape)
        return [name if name is not None else d for d, name in zip(self.shape, names)]

    @property
    def quantized(self) -> bool:
        return bool(self.scales)

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale(self) -> float | None:
        return self.scales[0] if self.scales else None

    @property
    def zero_point(self) -> int | None:
        return self.zero_points[0] if self.zero_points else None

    def dequantize(self, values: np.ndarray) -> np.ndarray:
        """Real values of a quantized tensor (per-tensor or per-channel); floats pass through."""
        import numpy as np

        if not self.quantized:
            return values.astype(np.float32)
        scales = np.asarray(self.scales, np.float32)
        zeros = np.asarray(self.zero_points, np.float32)
        if self.per_channel:
            shape = [1] * values.ndim
            shape[self.quantized_dimension] = -1
            scales, zeros = scales.reshape(shape), zeros.reshape(shape)
        return (values.astype(np.float32) - zeros) * scales
