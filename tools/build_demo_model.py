"""Build the demo model: a small OSNet trained on synthetic identities, converted to a full-int8 TFLite file.

The offline demo needs a model we may ship and re-create. This script trains a reduced OSNet (omni-scale
residual blocks with a unified aggregation gate, as in arXiv:1905.00953) with a softmax identity loss on
synthetic people from ``zoo.reid.synthetic``, then converts it the way the STM32 model zoo converts its re-ID
models: post-training int8 quantization calibrated on training images, uint8 input with scale 1/127.5 and
zero point 127 (raw 0-255 pixels; the quantization performs the ``x/127.5 - 1`` rescale), int8 output.
The classifier head is dropped before conversion so the file ends in MEAN (global average pooling) and
returns the embedding, like ``osnet_a025``.

Seeds fix the data, the initial weights and the op order, so a re-run on the same TensorFlow version and
CPU yields the same file. Needs the ``tools`` extra (``pip install -e '.[tools]'``); takes a few minutes on
two cores.

    python tools/build_demo_model.py                  # writes registry/mirror/osnet_demo/osnet_demo_int8.tflite
    python tools/build_demo_model.py --epochs 2 --out /tmp/quick.tflite
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from zoo.reid import synthetic  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "registry" / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite"
layers = tf.keras.layers


def conv_bn(x, filters: int, kernel: int = 1, strides: int = 1, relu: bool = True):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x) if relu else x


def lite3x3(x, filters: int):
    """OSNet's lightweight 3x3: a linear 1x1, then a depthwise 3x3, batch norm, ReLU."""
    x = layers.Conv2D(filters, 1, use_bias=False)(x)
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


class ChannelGate:
    """The unified aggregation gate: one set of weights shared by every stream of a block."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        self.pool = layers.GlobalAveragePooling2D(keepdims=True)
        self.fc1 = layers.Conv2D(max(channels // reduction, 4), 1, activation="relu")
        self.fc2 = layers.Conv2D(channels, 1, activation="sigmoid")

    def __call__(self, x):
        return layers.Multiply()([x, self.fc2(self.fc1(self.pool(x)))])


def os_block(x, filters: int, streams: int = 4):
    """Omni-scale residual block: 1x1 reduce, ``streams`` chains of 1..T lite 3x3, gated sum, 1x1 expand."""
    mid = filters // 4
    reduced = conv_bn(x, mid)
    gate = ChannelGate(mid)
    branches = []
    for depth in range(1, streams + 1):
        y = reduced
        for _ in range(depth):
            y = lite3x3(y, mid)
        branches.append(gate(y))
    y = conv_bn(layers.Add()(branches), filters, relu=False)
    shortcut = x if x.shape[-1] == filters else conv_bn(x, filters, relu=False)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def build_osnet(height: int, width: int, channels: tuple[int, ...], embedding: int) -> tf.keras.Model:
    """Stem, one OS block per stage with 1x1 + average-pool transitions, 1x1 to the embedding, global pool."""
    inputs = layers.Input((height, width, 3), name="image")
    x = conv_bn(inputs, channels[0], kernel=3, strides=2)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for i, filters in enumerate(channels[1:]):
        x = os_block(x, filters)
        if i < len(channels) - 2:
            x = layers.AveragePooling2D(2)(conv_bn(x, filters))
    x = conv_bn(x, embedding)
    return tf.keras.Model(inputs, layers.GlobalAveragePooling2D(name="embedding")(x), name="osnet_demo")


def to_model_input(images: np.ndarray) -> np.ndarray:
    """The float input the network trains on: the card's rescale, ``x / 127.5 - 1``."""
    return images.astype(np.float32) / 127.5 - 1.0


def train(backbone: tf.keras.Model, args: argparse.Namespace) -> None:
    classifier = tf.keras.Sequential([layers.BatchNormalization(), layers.Dense(args.identities)])
    model = tf.keras.Model(backbone.input, classifier(backbone.output))
    steps = args.epochs * (args.identities * args.images_per_identity // args.batch)
    schedule = tf.keras.optimizers.schedules.CosineDecay(args.lr, steps)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(schedule),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    for epoch in range(args.epochs):
        start = time.perf_counter()
        images, labels = synthetic.training_arrays(
            args.identities, args.images_per_identity, seed=args.seed, epoch=epoch, size=(args.height, args.width)
        )
        history = model.fit(to_model_input(images), labels, batch_size=args.batch, shuffle=True, verbose=0)
        print(
            f"epoch {epoch + 1}/{args.epochs}: loss {history.history['loss'][-1]:.3f} "
            f"train accuracy {history.history['accuracy'][-1]:.3f} ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )


def convert(backbone: tf.keras.Model, args: argparse.Namespace) -> bytes:
    """Full-int8 conversion; the calibration set includes a black and a white image so the input range
    is exactly [-1, 1], which gives the uint8 input scale 1/127.5 and zero point 127."""
    images, _ = synthetic.training_arrays(
        args.identities, 1, seed=args.seed, epoch=10_000, size=(args.height, args.width)
    )
    extremes = np.stack([np.zeros_like(images[0]), np.full_like(images[0], 255)])
    calibration = to_model_input(np.concatenate([extremes, images[: args.calibration]]))

    def representative():
        for image in calibration:
            yield [image[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(backbone)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    return converter.convert()


def describe(path: Path) -> None:
    """Print what the file holds, read back the way ``zoo verify`` reads it (what the card must state)."""
    from zoo.model.inspection import inspect_model

    info = inspect_model(path)
    for kind, tensor in (("input", info.inputs[0]), ("output", info.outputs[0])):
        print(f"{kind}: {tensor.dtype} {list(tensor.shape)} scale {tensor.scale!r} zero point {tensor.zero_point}")
    ops = ", ".join(f"{n} {name}" for name, n in info.ops.items())
    print(f"ops: {info.op_count} ({ops}); output produced by {info.output_producers[0]}")
    print(f"constant parameters: {info.parameters} {info.parameters_by_dtype}")
    print(f"wrote {path}: {info.size} bytes, sha256 {info.sha256}")


def report_accuracy(path: Path, args: argparse.Namespace) -> None:
    """Evaluate on the synthetic test split the card names, with zoo's own evaluation: the card's figures."""
    import tempfile

    from zoo.reid.evaluation import evaluate
    from zoo.model.latency import cpu_model
    from zoo.model.runtime import runtime_name

    preprocessing = {
        "resize": {"height": args.height, "width": args.width, "interpolation": "nearest", "aspect_ratio": "fit"},
        "color_mode": "rgb",
        "rescale": {"scale": 1 / 127.5, "offset": -1},
    }
    with tempfile.TemporaryDirectory() as tmp:
        synthetic.write_test_set(tmp, seed=args.seed, size=(args.height, args.width))
        result = evaluate(path, Path(tmp), preprocessing=preprocessing)
    print(f"synthetic test split ({result.num_queries} queries, {result.num_gallery} gallery): {result.as_percent()}")
    print(f"measured with {runtime_name()} on {cpu_model()}, 1 thread")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
    parser.add_argument("--identities", type=int, default=300, help="training identities (classes)")
    parser.add_argument("--images-per-identity", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--height", type=int, default=synthetic.DEFAULT_SIZE[0])
    parser.add_argument("--width", type=int, default=synthetic.DEFAULT_SIZE[1])
    parser.add_argument("--channels", type=int, nargs="+", default=[16, 32, 48, 64], help="stem, then one per OS block")
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--calibration", type=int, default=200, help="training images used for calibration")
    args = parser.parse_args()

    tf.keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    backbone = build_osnet(args.height, args.width, tuple(args.channels), args.embedding)
    print(f"OSNet demo: input {args.height}x{args.width}x3, channels {args.channels}, embedding {args.embedding}, "
          f"{backbone.count_params()} Keras parameters; training on {args.identities} synthetic identities "
          f"x {args.images_per_identity} images, seed {args.seed}, TensorFlow {tf.__version__}")
    train(backbone, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(convert(backbone, args))
    tmp.replace(args.out)
    describe(args.out)
    report_accuracy(args.out, args)


if __name__ == "__main__":
    main()
