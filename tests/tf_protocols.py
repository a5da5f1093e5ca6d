"""Each evaluation protocol written again, independently of ``zoo``, with TensorFlow and plain numpy loops.

Nothing here imports ``zoo``. Written from the protocol descriptions (REFERENCE.md, "How the ST services
evaluate re-ID"; torchreid's ``eval_market1501``): the decode, resizes, Rescaling and normalisation are
TensorFlow's calls, the ranking and metrics textbook loops, the interpreter LiteRT's own (``_interpreter``
says why not ``tf.lite``). ``tests/test_protocol_figures.py`` compares ``zoo evaluate`` with it;
``benchmarks/check_protocols_tf.py`` runs it with the reference kernels on the whole sample.

Figures are percentages rounded to 2 decimals, the rounding every protocol reports.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

import numpy as np


def _interpreter(tf, model_file: Path, kernels: str):
    """LiteRT's interpreter, called directly: the kernels are not part of a protocol, and TensorFlow's bundled
    ``tf.lite`` ships other optimized kernels (TF 2.21 differs from ai-edge-litert 2.3 by 4 steps on one
    CUHK03 crop), so the same runtime as zoo's keeps the comparison about the protocol."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(model_file), num_threads=1, experimental_op_resolver_type=
                         OpResolverType.BUILTIN_REF if kernels == "reference" else OpResolverType.AUTO)
    interp.allocate_tensors()
    return interp


def _image(tf, path: Path, size: tuple[int, int], interpolation: str):
    image = tf.image.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    return tf.image.resize(image, size, method=interpolation, preserve_aspect_ratio=False)


@functools.lru_cache(maxsize=4)  # st-modelzoo and st-modelzoo-dequantized share the inputs and raw outputs
def _st_raw(tf, model_file: Path, paths: tuple[Path, ...], interpolation: str, rescale: tuple[float, float],
            kernels: str) -> tuple[np.ndarray, float, int]:
    """The ST services' host path: Rescaling, resize again, np.round re-quantization, raw outputs."""
    import keras

    interp = _interpreter(tf, model_file, kernels)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    size = tuple(int(d) for d in inp["shape"][1:3])
    rescaling = keras.layers.Rescaling(*rescale)
    in_scale, in_zero = inp["quantization"]
    bounds = np.iinfo(inp["dtype"])
    rows = []
    for path in paths:
        x = tf.image.resize(rescaling(tf.cast(_image(tf, path, size, interpolation), tf.float32)), size).numpy()
        x = np.clip(np.round(x / in_scale + in_zero), bounds.min, bounds.max).astype(inp["dtype"])
        interp.set_tensor(inp["index"], x[None])
        interp.invoke()
        rows.append(interp.get_tensor(out["index"]).astype(np.float32).reshape(-1))
    scale, zero = out["quantization"]
    return np.stack(rows), scale, zero


def st_features(tf, model_file: Path, paths: list[Path], prep: dict, *, dequantize: bool, kernels: str) -> np.ndarray:
    """Raw integer outputs as float32 (``target: host``), or dequantized (the STEdgeAI targets)."""
    rescale = (prep["rescale"]["scale"], prep["rescale"]["offset"])
    raw, scale, zero = _st_raw(tf, model_file, tuple(paths), prep["resize"]["interpolation"], rescale, kernels)
    return (raw - zero) * scale if dequantize else raw


def st_figures(q: np.ndarray, g: np.ndarray, q_labels: list[int], g_labels: list[int]) -> dict[str, float]:
    """ST's metrics: tf.math.l2_normalize, cosine clipped to [0, 2], tf.argsort, rank-k and their mAP."""
    import tensorflow as tf

    qn, gn = tf.math.l2_normalize(tf.cast(q, tf.float32), axis=1), tf.math.l2_normalize(tf.cast(g, tf.float32), axis=1)
    dist = tf.clip_by_value(1.0 - tf.matmul(qn, gn, transpose_b=True), 0.0, 2.0)
    order = tf.argsort(dist, axis=1, direction="ASCENDING").numpy()
    ranked = np.asarray(g_labels)[order]
    hits = ranked == np.asarray(q_labels)[:, None]
    figures = {f"rank{k}": 100 * float(np.mean([row[:k].any() for row in hits])) for k in (1, 5, 10)}
    aps = []
    for row in hits:
        positions = [i for i, hit in enumerate(row) if hit]
        if positions:
            aps.append(np.mean([(n + 1) / (pos + 1) for n, pos in enumerate(positions)]))
    figures["mAP"] = 100 * float(np.mean(aps))
    return {k: round(v, 2) for k, v in figures.items()}


def st_labels(query: list[Path], gallery: list[Path]) -> tuple[list[int], list[int]]:
    """Class names from the query folder; a label is the file name before the first ``_``; others -1."""
    classes = sorted({p.name.split("_")[0] for p in query})
    label = {name: i for i, name in enumerate(classes)}
    return [label[p.name.split("_")[0]] for p in query], [label.get(p.name.split("_")[0], -1) for p in gallery]


def st_protocol(tf, model_file: Path, dataset: Path, prep: dict, *, dequantize: bool, kernels: str = "optimized"):
    """Figures of the ``st-modelzoo`` (``dequantize=False``) or ``st-modelzoo-dequantized`` protocol."""
    folders = [dataset / "reid_test" / name for name in ("query", "gallery")]
    query, gallery = ([f / name for name in sorted(os.listdir(f))] for f in folders)
    feats = st_features(tf, model_file, query + gallery, prep, dequantize=dequantize, kernels=kernels)
    q_labels, g_labels = st_labels(query, gallery)
    return st_figures(feats[: len(query)], feats[len(query):], q_labels, g_labels)


def market1501_protocol(tf, model_file: Path, dataset: Path, prep: dict, *, kernels: str = "optimized"):
    """torchreid's protocol (manifest or DeepSportradar layout): raw uint8 pixels in, dequantize, cosine, same-camera removal."""
    if (dataset / "manifest.csv").is_file():
        with (dataset / "manifest.csv").open(newline="") as fh:
            rows = sorted((r for r in csv.DictReader(fh) if r["split"] in ("query", "gallery")), key=lambda r: r["path"])
    else:  # DeepSportradar: <pid>_<seq>_<frame>, queries camera 0, gallery camera 1 (the challenge's loader)
        rows = [{"path": f"reid_test/{split}/{name}", "pid": str(int(name.split("_")[0])), "camid": str(cam),
                 "split": split} for cam, split in enumerate(("query", "gallery"))
                for name in sorted(os.listdir(dataset / "reid_test" / split))]
    query = [r for r in rows if r["split"] == "query"]
    gallery = [r for r in rows if r["split"] == "gallery"]
    interp = _interpreter(tf, model_file, kernels)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    size = tuple(int(d) for d in inp["shape"][1:3])
    feats = []
    for r in query + gallery:
        pixels = _image(tf, dataset / r["path"], size, prep["resize"]["interpolation"]).numpy()
        interp.set_tensor(inp["index"], np.clip(np.rint(pixels), 0, 255).astype(np.uint8)[None])
        interp.invoke()
        scale, zero = out["quantization"]
        feats.append((interp.get_tensor(out["index"]).astype(np.float32).reshape(-1) - zero) * scale)
    feats = tf.math.l2_normalize(np.stack(feats), axis=1).numpy()
    n = len(query)
    dist = np.clip(1.0 - feats[:n] @ feats[n:].T, 0.0, 2.0)
    aps, first = [], []
    for i, q in enumerate(query):
        order = np.argsort(dist[i], kind="stable")
        keep = [j for j in order if not (gallery[j]["pid"] == q["pid"] and gallery[j]["camid"] == q["camid"])]
        hits = [gallery[j]["pid"] == q["pid"] for j in keep]
        positions = [k for k, hit in enumerate(hits) if hit]
        if not positions:
            continue
        aps.append(np.mean([(m + 1) / (pos + 1) for m, pos in enumerate(positions)]))
        first.append(positions[0])
    figures = {"mAP": 100 * float(np.mean(aps)), **{f"rank{k}": 100 * float(np.mean(np.array(first) < k))
                                                    for k in (1, 5, 10)}}
    return {k: round(v, 2) for k, v in figures.items()}


def protocol_figures(tf, protocol: str, model_file: Path, dataset: Path, prep: dict, kernels: str = "optimized"):
    """Figures of the named protocol, computed here."""
    if protocol == "market1501":
        return market1501_protocol(tf, model_file, dataset, prep, kernels=kernels)
    return st_protocol(tf, model_file, dataset, prep, dequantize=protocol.endswith("-dequantized"), kernels=kernels)
