"""`zoo evaluate` of osnet_a025 on the 400 CUHK03 crops against a straightforward script doing the same work.

Whole processes, interleaved, medians. The script is what a person would write: one LiteRT interpreter on
one thread, the images one after another through zoo's own TF-exact decode and resize
(``Preprocessing.model_input``, so both sides compute the same inputs), dequantized and L2-normalised
embeddings, a cosine distance matrix and torchreid's mAP and rank-1 in numpy (zoo runs ``--protocol market1501``,
the same computation). No validation, no sandbox,
no card. zoo runs as a user runs it: it reads and validates the file, matches it to its card by sha256,
runs it once in a child on a first run (``first run``: an empty cache) or trusts its signed verdict after
one (``warm``), and extracts features on every core. The script's mAP must equal zoo's (the same work).

Run: python benchmarks/bench_evaluate.py [--runs 5] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import sys
from pathlib import Path
import numpy as np
from ai_edge_litert.interpreter import Interpreter
from zoo.reid.preprocessing import Preprocessing

model_file, root = sys.argv[1], Path(sys.argv[2])
prep = Preprocessing(height=256, width=128, interpolation="nearest", scale=1 / 127.5, offset=-1.0)
interp = Interpreter(model_path=model_file, num_threads=1)
interp.allocate_tensors()
inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
(in_scale, in_zero), (out_scale, out_zero) = inp["quantization"], out["quantization"]

def embed(folder):
    feats, pids, cams = [], [], []
    for path in sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png")):
        interp.set_tensor(inp["index"], prep.model_input(path, np.dtype(inp["dtype"]).name, in_scale, in_zero))
        interp.invoke()
        feats.append((interp.get_tensor(out["index"]).astype(np.float32).reshape(-1) - out_zero) * out_scale)
        pid, cam = path.stem.split("_")[:2]
        pids.append(int(pid)), cams.append(int(cam.lstrip("c").split("s")[0]) if not cam.isdigit() else int(cam))
    feats = np.stack(feats)
    return feats / np.linalg.norm(feats, axis=1, keepdims=True), np.array(pids), np.array(cams)

q, qp, qc = embed(root / "reid_test" / "query")
g, gp, gc = embed(root / "reid_test" / "gallery")
dist = 1 - q @ g.T
aps, hits = [], []
for i in range(len(q)):
    order = np.argsort(dist[i], kind="stable")
    keep = ~((gp[order] == qp[i]) & (gc[order] == qc[i]))
    match = (gp[order] == qp[i])[keep]
    if not match.any():
        continue
    hits.append(match[0])
    precision = np.cumsum(match) / np.arange(1, len(match) + 1)
    aps.append((precision * match).sum() / match.sum())
print(f"{100 * np.mean(aps):.2f} {100 * np.mean(hits):.1f}")
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("ZOO_SHARED_DIR", REPO.parent / "shared")))
    args = parser.parse_args()
    model_file = args.shared / "artifacts" / "stm32ai-modelzoo" / "osnet_a025_256_128_tfs_int8.tflite"
    dataset = args.shared / "datasets" / "cuhk03-reid-sample"
    if not model_file.exists() or not dataset.exists():
        sys.exit(f"bench_evaluate: needs {model_file} and {dataset} (../shared or $ZOO_SHARED_DIR)")
    script = Path(sys.executable).with_name("zoo")
    zoo = [str(script)] if script.is_file() else [sys.executable, "-m", "zoo"]
    times: dict[str, list[float]] = {"script": [], "zoo first run": [], "zoo warm": []}
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as tmp:
        env = {**os.environ, "ZOO_CACHE_DIR": str(Path(tmp) / "cache")}
        evaluate = [*zoo, "evaluate", str(model_file), "--dataset", str(dataset), "--json", "--protocol", "market1501"]
        for _ in range(args.runs):
            seconds, out = timed([sys.executable, "-c", SCRIPT, str(model_file), str(dataset)], env)
            times["script"].append(seconds)
            script_map = float(out.split()[0])
            shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)
            for name in ("zoo first run", "zoo warm"):
                seconds, out = timed(evaluate, env)
                times[name].append(seconds)
                report = json.loads(out)
        zoo_map = 100 * report["mAP"]
    base = statistics.median(times["script"])
    print(f"osnet_a025 on {dataset.name}, medians of {args.runs} whole processes; mAP zoo {zoo_map:.2f} / script "
          f"{script_map:.2f}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<15} {median:6.2f} s   ratio {median / base:.2f}")


if __name__ == "__main__":
    main()
