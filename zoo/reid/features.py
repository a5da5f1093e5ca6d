"""Embed images with a TFLite or ONNX model: decode, resize, quantize, invoke, take the output, streamed over every core.

The evaluation protocol (``zoo.reid.protocols``) decides how the input is quantized and whether the output is
dequantized; the kernel set (``zoo.model.runtime.KERNELS``) which arithmetic the interpreter runs.

Each worker thread owns its own interpreter (one interpreter must not be shared between threads) and
runs whole images: the image decoders (simplejpeg, Pillow) and the LiteRT ``invoke`` release the GIL, so
with N workers N images are in flight and the decode of one hides behind the invoke of another. Threads
rather than processes also for the reference kernels (about 80 ms an image): a process pool was no faster
in ``benchmarks/bench_kernels.py`` and adds start-up and pickling.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.errors import ConfigError, ModelFileError
from zoo.reid.preprocessing import Preprocessing
from zoo.cards.protocol import DEFAULT_PROTOCOL
from zoo.reid.protocols import Protocol, get_protocol
from zoo.model.runtime import LoadedModel, load_model
from zoo.model.tensors import TensorInfo


def check_input(model: LoadedModel, prep: Preprocessing) -> TensorInfo:
    """The model's one image input, refusing a card whose resize does not match the file's input shape.

    NHWC (TFLite, Keras) or NCHW (PyTorch exports to ONNX): ``channels_first`` says which the file takes.
    """
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4:
        raise ConfigError("expected one image input of shape [1, height, width, channels]", path=model.path)
    info = model.inputs[0]
    channels = 1 if prep.color_mode == "grayscale" else 3
    if info.shape[1:] != (prep.height, prep.width, channels) and not channels_first(info, prep):
        raise ConfigError(
            f"input shape {list(info.shape)} does not match the card's preprocessing "
            f"({prep.height}x{prep.width}, {prep.color_mode})",
            path=model.path,
        )
    return info


def channels_first(info: TensorInfo, prep: Preprocessing) -> bool:
    """True when the input is [1, channels, height, width] for the card's image (and not also NHWC)."""
    channels = 1 if prep.color_mode == "grayscale" else 3
    return info.shape[1:] == (channels, prep.height, prep.width) != (prep.height, prep.width, channels)


def extract_features(
    model_file: str | Path,
    images: Sequence[Path],
    preprocessing: Preprocessing,
    *,
    protocol: Protocol | None = None,
    kernels: str = "optimized",
    workers: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """One float32 embedding (the first output, flattened) per image, in ``images`` order.

    ``protocol`` (default ``market1501``) fixes the input quantization and whether the output is
    dequantized or taken raw; ``kernels`` is the interpreter's kernel set. ``workers`` defaults to the
    number of CPUs; each uses a single-threaded interpreter. ``progress`` shows a tqdm bar, on a terminal only.
    """
    protocol = protocol or get_protocol(DEFAULT_PROTOCOL)
    first = load_model(model_file, kernels=kernels)
    nchw = channels_first(check_input(first, preprocessing), preprocessing)
    spare = [first]  # the first worker reuses the interpreter loaded for the check
    local = threading.local()
    lock = threading.Lock()

    def interpreter() -> LoadedModel:
        if not hasattr(local, "model"):
            with lock:
                local.model = spare.pop() if spare else load_model(model_file, kernels=kernels)
        return local.model

    def embed(path: Path) -> np.ndarray:
        model = interpreter()
        info = model.inputs[0]
        array = preprocessing.model_input(path, info.dtype, info.scale, info.zero_point,
                                          requantize=protocol.requantize_input)
        if nchw:
            array = np.ascontiguousarray(array.transpose(0, 3, 1, 2))
        raw = model.invoke(array)[0]
        row = (raw.astype(np.float32) if not protocol.dequantize_output else model.outputs[0].dequantize(raw)).reshape(-1)
        if not np.isfinite(row).all():  # a NaN would rank silently anywhere: refuse the model, naming the image
            raise ModelFileError(f"the model's output for {path} is not finite (NaN or infinity)", path=model.path)
        return row

    workers = workers or os.cpu_count() or 1
    rows = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoo-features") as pool:
        bar = _bar(len(images), f"features ({kernels} kernels)", progress)
        try:
            with bar:
                for row in pool.map(embed, images):
                    rows.append(row)
                    bar.update()
        except BaseException:  # a bad image (or Ctrl-C) stops the queue instead of finishing it
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if not rows:
        return np.zeros((0, 0), np.float32)
    return np.stack(rows)


def _bar(total: int, desc: str, progress: bool) -> Any:
    """A tqdm bar on a terminal when ``progress``; else a bar that draws nothing (tqdm not even imported)."""
    if not progress:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="img", desc=desc, disable=None)


class _NoBar(contextlib.nullcontext):
    def update(self, n: int = 1) -> None:
        pass
