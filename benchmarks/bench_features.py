"""End-to-end feature extraction vs the bare interpreter, on the 400 real CUHK03 crops with osnet_a025.

Baseline: one single-threaded interpreter invoking the 400 already-preprocessed inputs back to back
(no decode, no resize, no Python pipeline). Measured: ``zoo.reid.features.extract_features`` from the image
files (decode, TF-exact resize, invoke, dequantize on every core). The target is a ratio <= 1.3.

    python benchmarks/bench_features.py [--shared ../shared (default: $ZOO_SHARED_DIR)] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from zoo.reid.datasets import load_dataset
from zoo.reid.features import extract_features
from zoo.reid.preprocessing import Preprocessing
from zoo.model.runtime import load_model, runtime_name

REPO = Path(__file__).resolve().parent.parent
CARD_PREPROCESSING = {
    "resize": {"height": 256, "width": 128, "interpolation": "nearest", "aspect_ratio": "fit"},
    "color_mode": "rgb",
    "rescale": {"scale": 1 / 127.5, "offset": -1},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("ZOO_SHARED_DIR", REPO.parent / "shared")))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    model_file = args.shared / "artifacts" / "stm32ai-modelzoo" / "osnet_a025_256_128_tfs_int8.tflite"
    data = load_dataset(args.shared / "datasets" / "cuhk03-reid-sample")
    paths = [item.path for item in data.query + data.gallery]
    prep = Preprocessing.from_card(CARD_PREPROCESSING)

    model = load_model(model_file)
    info = model.inputs[0]
    inputs = [prep.model_input(p, info.dtype, info.scale, info.zero_point) for p in paths]
    bare, end_to_end = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for array in inputs:
            model.invoke(array)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        extract_features(model_file, paths, prep)
        end_to_end.append(time.perf_counter() - start)
    b, e = min(bare), min(end_to_end)
    print(f"{len(paths)} images, {model_file.name}, {runtime_name()}, {os.cpu_count()} CPUs")
    print(f"bare invoke (1 interpreter, 1 thread, inputs ready)  {b:6.3f} s  ({1000 * b / len(paths):.2f} ms/image)")
    print(f"extract_features end to end (decode+resize+invoke)   {e:6.3f} s  ({1000 * e / len(paths):.2f} ms/image)")
    print(f"ratio end-to-end / bare invoke: {e / b:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
