"""``zoo validate`` of 56 published markdown cards (the size of the held-out review set) against reading and
splitting the same files into tables only, whole processes, in the same run. Budget (issue 21): under 10 s on
2 cores.

The cards are the published ones in ``../shared/cards`` (or ``$ZOO_SHARED_DIR``), repeated to 56; without
them, 56 cards the script writes (every table kind the review reads). Nothing is written outside a temporary
folder.

Run: python benchmarks/bench_validate.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 10.0
SHARED = Path(os.environ.get("ZOO_SHARED_DIR", Path(__file__).resolve().parent.parent.parent / "shared")) / "cards"
BASELINE = ("import sys\nfrom pathlib import Path\nfrom zoo.markdown.tables import parse_tables\n"
            "for p in sys.argv[1:]:\n    parse_tables(Path(p).read_text().splitlines())\n")
_CARD = """# Model {n}

## **Use case** : `Object detection`

## Network inputs / outputs

| Input Shape | Description |
| --- | --- |
| (1, 256, 256, 3) | RGB UINT8 |

### Reference **MCU** memory footprint based on COCO dataset

| Model | Format | Resolution | Series | Activation RAM (KiB) | Runtime RAM (KiB) | Weights Flash (KiB) | Code Flash (KiB) | Total RAM (KiB) | Total Flash (KiB) | STEdgeAI Core version |
|---|---|---|---|---|---|---|---|---|---|---|
{memory}

### Reference **MCU** inference time based on COCO dataset

| Model | Format | Resolution | Board | Execution Engine | Inference time (ms) | Inf / sec | STEdgeAI Core version |
|---|---|---|---|---|---|---|---|
{time}
"""


def cards(folder: Path) -> list[Path]:
    published = sorted(SHARED.glob("st-zoo/*__*.md")) + sorted(SHARED.glob("*.md"))
    out = []
    for n in range(56):
        path = folder / f"card_{n}.md"
        if published:
            path.write_bytes(published[n % len(published)].read_bytes())
        else:
            link = [f"[m{i}](./x/m{i}_256_int8.tflite)" for i in range(12)]
            memory = "\n".join(f"| {l} | Int8 | 256x256x3 | STM32H7 | 100.25 | 10.25 | 300.5 | 30.25 | 110.5 | 330.75 | 4.0.0 |"
                               for l in link)
            time_ = "\n".join(f"| {l} | Int8 | 256x256x3 | STM32H747I-DISCO | 1 CPU | 190.3 | 5.3 | 4.0.0 |" for l in link)
            path.write_text(_CARD.format(n=n, memory=memory, time=time_))
        out.append(path)
    return out


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    zoo = str(Path(sys.executable).with_name("zoo"))
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in cards(Path(tmp))]
        source = "published" if SHARED.is_dir() else "constructed"
        validate, baseline = [], []
        for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
            validate.append(timed([zoo, "validate", *paths]))
            baseline.append(timed([sys.executable, "-c", BASELINE, *paths]))
    v, b = statistics.median(validate), statistics.median(baseline)
    print(f"zoo validate, 56 {source} cards: {v:.3f} s (budget {BUDGET_S:.0f} s: {'ok' if v < BUDGET_S else 'OVER'})")
    print(f"baseline (python, read and split the same files into tables): {b:.3f} s")
    print(f"ratio: {v / b:.2f}x the baseline, {v - b:.3f} s for the review itself and zoo's start-up")


if __name__ == "__main__":
    main()
