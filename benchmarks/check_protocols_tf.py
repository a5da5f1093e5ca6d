"""Every protocol and kernel set on the real osnet_a025 and the whole CUHK03 sample: zoo against TensorFlow.

    python benchmarks/check_protocols_tf.py [--kernels optimized reference] [--protocols ...]

The suite compares the optimized kernels on the real files (``tests/test_protocol_figures.py``); the
reference kernels take about 80 ms an image, so over 400 images and both sides this takes minutes and
lives here. For each (protocol, kernels) it prints zoo's figures, the independent TensorFlow
implementation's (``tests/tf_protocols.py``), whether they are equal, and the time each side took.
Exits 1 when any pair differs. Needs TensorFlow (``pip install -e '.[test]'``) and ../shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ZOO_SHARED_DIR", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "tests"))

import tf_protocols  # noqa: E402

from zoo.cards.card import load_card  # noqa: E402
from zoo.reid.evaluation import evaluate  # noqa: E402
from zoo.reid.protocols import PROTOCOLS  # noqa: E402
from zoo.catalog.registry import load_registry  # noqa: E402
from zoo.model.runtime import KERNELS  # noqa: E402

FIGURES = ("mAP", "rank1", "rank5", "rank10")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", nargs="+", choices=KERNELS, default=list(KERNELS))
    parser.add_argument("--protocols", nargs="+", choices=tuple(PROTOCOLS), default=list(PROTOCOLS))
    parser.add_argument("--model", type=Path, default=SHARED / "artifacts/stm32ai-modelzoo/osnet_a025_256_128_tfs_int8.tflite")
    parser.add_argument("--dataset", type=Path, default=SHARED / "datasets/cuhk03-reid-sample")
    args = parser.parse_args()
    import tensorflow as tf

    prep = load_card(load_registry().get("osnet_a025").card).preprocessing
    failed = False
    print(f"{'protocol':<25}{'kernels':<11}{'side':<6}" + "".join(f"{k:>8}" for k in FIGURES) + "  seconds")
    for kernels in args.kernels:
        for protocol in args.protocols:
            start = time.perf_counter()
            result = evaluate(args.model, args.dataset, preprocessing=prep, protocol=protocol, kernels=kernels,
                              progress=sys.stderr.isatty())
            ours = {k: result.as_percent()[k] for k in FIGURES}
            middle = time.perf_counter()
            theirs = tf_protocols.protocol_figures(tf, protocol, args.model, args.dataset, prep, kernels)
            end = time.perf_counter()
            for side, figures, seconds in (("zoo", ours, middle - start), ("tf", theirs, end - middle)):
                print(f"{protocol:<25}{kernels:<11}{side:<6}" + "".join(f"{figures[k]:8.2f}" for k in FIGURES)
                      + f"  {seconds:7.1f}", flush=True)
            if ours != {k: theirs[k] for k in FIGURES}:
                failed = True
                print(f"  DIFFERENT: {protocol} with {kernels} kernels", flush=True)
    print("FAILED" if failed else "every protocol and kernel set equals the TensorFlow implementation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
