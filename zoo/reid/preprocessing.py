"""Turn an image file into the exact input tensor the card's recipe defines.

The reference pipeline decodes, then resizes with ``tf.image.resize`` (half-pixel centres, no
antialiasing), then rescales. Host accuracy only matches the published figures if every step matches,
so the resize is TensorFlow's kernel arithmetic re-done in numpy (float32, same index formulas), not
Pillow's resize, which samples differently, and JPEG is decoded with TensorFlow's DCT settings. ``tests/test_preprocessing.py`` compares it with TensorFlow.

The card's ``preprocessing`` block::

    resize: {height: 256, width: 128, interpolation: nearest|bilinear, aspect_ratio: fit|crop|pad}
    # fit: stretch; crop: centre crop to the aspect ratio, then resize; pad: letterbox, then resize
    color_mode: rgb|bgr|grayscale
    rescale: {scale: 0.00784313725490196, offset: -1}
    normalization: {mean: [...], std: [...]}   # optional, applied after rescale

How the result meets the model depends on the evaluation protocol (``zoo.reid.protocols``). By default
(``market1501``) a uint8 input takes the resized 0-255 pixels as they are (its input quantization stands for
the rescale, as the recipe's int8 export intends); an int8 input takes the rescaled values quantized with
the input's scale and zero point; a float input takes the rescaled values. With ``requantize`` (the
``st-modelzoo`` protocols) every quantized input is re-quantized from the rescaled float image the way the
ST services do it (``Preprocessing.requantized``), which moves many uint8 pixels by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.errors import ConfigError, DatasetError

INTERPOLATIONS = ("nearest", "bilinear")
ASPECT_RATIOS = ("fit", "crop", "pad")
COLOR_MODES = ("rgb", "bgr", "grayscale")
MAX_PIXELS = 40_000_000  # 40 megapixels: far above any person crop or camera frame, far below a bomb's gigapixels


@dataclass(frozen=True)
class Preprocessing:
    height: int
    width: int
    interpolation: str = "nearest"
    aspect_ratio: str = "fit"
    color_mode: str = "rgb"
    scale: float = 1.0
    offset: float = 0.0
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    @classmethod
    def from_card(cls, block: Any, *, source: str | Path | None = None) -> "Preprocessing":
        """Read a card's ``preprocessing`` mapping; a missing or unknown value is a ``ConfigError``."""
        try:
            resize, rescale = block["resize"], block.get("rescale") or {}
            norm = block.get("normalization") or {}
            prep = cls(
                height=int(resize["height"]),
                width=int(resize["width"]),
                interpolation=resize.get("interpolation", "nearest"),
                aspect_ratio=resize.get("aspect_ratio", "fit"),
                color_mode=block.get("color_mode", "rgb"),
                scale=float(rescale.get("scale", 1.0)),
                offset=float(rescale.get("offset", 0.0)),
                mean=tuple(float(v) for v in np.atleast_1d(norm["mean"])) if "mean" in norm else None,
                std=tuple(float(v) for v in np.atleast_1d(norm["std"])) if "std" in norm else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"preprocessing: missing or malformed {exc}", path=source) from None
        for name, value, allowed in (
            ("resize.interpolation", prep.interpolation, INTERPOLATIONS),
            ("resize.aspect_ratio", prep.aspect_ratio, ASPECT_RATIOS),
            ("color_mode", prep.color_mode, COLOR_MODES),
        ):
            if value not in allowed:
                raise ConfigError(f"preprocessing: {name} {value!r} is not one of {', '.join(allowed)}", path=source)
        return prep

    def image(self, path: Path) -> np.ndarray:
        """Decode ``path`` and bring it to height x width x channels as the recipe does (no rescale)."""
        image = decode(path, self.color_mode)
        if self.aspect_ratio != "fit":
            image = to_aspect(image, self.height, self.width, self.aspect_ratio)
        return resize(image, self.height, self.width, self.interpolation)

    def rescaled(self, image: np.ndarray) -> np.ndarray:
        """The float values the float model was trained on: rescale, then optional normalization."""
        values = image.astype(np.float32) * np.float32(self.scale) + np.float32(self.offset)
        if self.mean is not None:
            values = values - np.asarray(self.mean, np.float32)
        if self.std is not None:
            values = values / np.asarray(self.std, np.float32)
        return values

    def model_input(self, path: Path, dtype: str, scale: float | None, zero_point: int | None, *,
                    requantize: bool = False) -> np.ndarray:
        """One batch-of-one input array of ``dtype`` for the image at ``path`` (``requantize``: the ST way)."""
        image = self.image(path)
        if requantize:
            return self.requantized(image, dtype, scale, zero_point, source=path)[None]
        if dtype == "uint8":
            if image.dtype != np.uint8:  # bilinear gives floats: round to the nearest pixel value
                image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
            return image[None]
        values = self.rescaled(image)
        if dtype == "int8":
            if not scale:
                raise ConfigError(f"the model's int8 input has no quantization scale ({path})")
            return np.clip(np.rint(values / np.float32(scale) + zero_point), -128, 127).astype(np.int8)[None]
        return values.astype(dtype)[None]

    def requantized(self, image: np.ndarray, dtype: str, scale: float | None, zero_point: int | None, *,
                    source: Path | None = None) -> np.ndarray:
        """The input the ST model zoo services feed a quantized model (their host evaluation), in numpy.

        Their steps: Keras ``Rescaling(scale, offset)`` on the float image, ``tf.image.resize`` to the model
        size again (bilinear; at the same size the identity, see ``resize``), then ``np.round(x / in_scale + in_zero_point)`` in float32 (half to even), clipped to the
        dtype's range. With scale 1/127.5 and offset -1 a pixel p becomes about p - 0.5 before rounding, so
        float32 rounding decides whether it stays p or drops to p - 1. A float input takes the values as is.
        """
        values = resize(self.rescaled(image), self.height, self.width, "bilinear")
        if dtype not in ("uint8", "int8"):
            return values.astype(dtype)
        if not scale:
            raise ConfigError(f"the model's {dtype} input has no quantization scale", path=source)
        bounds = np.iinfo(dtype)
        quantized = np.round(values / np.float32(scale) + np.float32(zero_point or 0))
        return np.clip(quantized, bounds.min, bounds.max).astype(dtype)


def decode(path: Path, color_mode: str) -> np.ndarray:
    """Pixels of an image file as uint8 height x width x channels (1 for grayscale, else 3).

    JPEG goes through libjpeg-turbo with the fast integer DCT (simplejpeg, ``fastdct=True``), which is
    what ``tf.io.decode_image`` uses by default: Pillow's accurate DCT changes most pixels by a few
    levels, enough to move the CUHK03 sample's rank-1 by a point. Other formats are lossless; Pillow.
    """
    from PIL import Image

    try:
        if path.suffix.lower() in (".jpg", ".jpeg"):
            import simplejpeg

            data = path.read_bytes()
            _check_pixels(path, *simplejpeg.decode_jpeg_header(data)[:2])
            colorspace = "GRAY" if color_mode == "grayscale" else "RGB"
            pixels = simplejpeg.decode_jpeg(data, colorspace=colorspace, fastdct=True, fastupsample=False)
        else:
            with Image.open(path) as im:  # reads the header only: the size is known before any pixel
                _check_pixels(path, im.height, im.width)
                pixels = np.asarray(im.convert("L" if color_mode == "grayscale" else "RGB"))
    except DatasetError:  # _check_pixels' own verdict, already one line naming the image
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        raise DatasetError([f"cannot decode image: {exc}"], path=path) from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return pixels[:, :, ::-1] if color_mode == "bgr" else pixels


def _check_pixels(path: Path, height: int, width: int) -> None:
    """Refuse an image whose header promises more pixels than any crop needs (a decompression bomb)."""
    if height * width > MAX_PIXELS:
        raise DatasetError([f"image of {width}x{height} pixels is larger than the {MAX_PIXELS:,} zoo decodes "
                            "(a decompression bomb?)"], path=path)


@lru_cache(maxsize=64)
def _source_coords(out_size: int, in_size: int) -> np.ndarray:
    """TF's HalfPixelScaler in float32: source coordinate ``(i + 0.5) * in/out`` of each output index."""
    scale = np.float32(in_size) / np.float32(out_size)
    coords = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale
    coords.flags.writeable = False  # shared by the cache
    return coords


def resize(image: np.ndarray, height: int, width: int, method: str) -> np.ndarray:
    """``tf.image.resize(image, (height, width), method)`` for ``nearest`` and ``bilinear``.

    Nearest keeps the dtype (TF's ResizeNearestNeighbor, half_pixel_centers=True: index
    ``floor((i + 0.5) * scale)`` clamped); bilinear returns float32 (ResizeBilinear, half_pixel_centers=True:
    source ``(i + 0.5) * scale - 0.5``, neighbours clamped to the edge, lerp on rows then columns).
    At the same size both are the identity (every source coordinate is exactly ``i``, every weight 0, and
    ``x + (y - x) * 0 == x`` for finite values), returned without the arithmetic: 8 ms an image saved.
    """
    in_h, in_w = image.shape[:2]
    if (in_h, in_w) == (height, width) and method in INTERPOLATIONS:
        return image if method == "nearest" else image.astype(np.float32)
    if method == "nearest":
        ys = np.minimum(np.floor(_source_coords(height, in_h)).astype(np.intp), in_h - 1)
        xs = np.minimum(np.floor(_source_coords(width, in_w)).astype(np.intp), in_w - 1)
        return image[ys[:, None], xs]
    if method != "bilinear":
        raise ValueError(f"unknown interpolation {method!r}")
    (y0, y1, fy), (x0, x1, fx) = _linear(height, in_h), _linear(width, in_w)
    pixels = image.astype(np.float32)
    top_left, top_right = pixels[y0][:, x0], pixels[y0][:, x1]
    bottom_left, bottom_right = pixels[y1][:, x0], pixels[y1][:, x1]
    fx = fx[None, :, None]
    top = top_left + (top_right - top_left) * fx
    bottom = bottom_left + (bottom_right - bottom_left) * fx
    return top + (bottom - top) * fy[:, None, None]


def _linear(out_size: int, in_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper source indices and the interpolation weight, as TF's compute_interpolation_weights."""
    coords = _source_coords(out_size, in_size) - np.float32(0.5)
    floor = np.floor(coords)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(coords).astype(np.int64), in_size - 1)
    return lower, upper, (coords - floor).astype(np.float32)


def to_aspect(image: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    """Centre-crop (``crop``) or zero-pad (``pad``) to the target aspect ratio, before the resize.

    The window arithmetic is Keras's (``smart_resize`` / ``pad_to_aspect_ratio``), which the reference
    training pipelines use for these modes.
    """
    in_h, in_w = image.shape[:2]
    want_h, want_w = int(float(in_w * height) / width), int(float(in_h * width) / height)
    if mode == "crop":
        crop_h, crop_w = max(min(in_h, want_h), 1), max(min(in_w, want_w), 1)
        top, left = int(float(in_h - crop_h) / 2), int(float(in_w - crop_w) / 2)
        return image[top : top + crop_h, left : left + crop_w]
    top, left = (max(in_h, want_h) - in_h) // 2, (max(in_w, want_w) - in_w) // 2
    out = np.zeros((in_h + 2 * top, in_w + 2 * left, image.shape[2]), image.dtype)  # same margin both sides
    out[top : top + in_h, left : left + in_w] = image
    return out
