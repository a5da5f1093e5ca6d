"""Host latency of a .tflite file, measured the way TFLite's ``benchmark_model`` does.

Init time (load + allocate), the first inference on its own, then warm-up runs for ``warmup_s`` seconds,
then timed runs until both ``min_runs`` and ``min_seconds`` are reached. Inputs are set once and only
``invoke`` is timed. A host figure means nothing without the CPU, the thread count and the kernel set
(``zoo.model.runtime.KERNELS``: the reference kernels are tens of times slower), so all three travel with it.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.model.runtime import load_model, runtime_name, synthetic_input


@dataclass(frozen=True)
class LatencyResult:
    """Times in milliseconds; ``count`` timed runs after ``warmup_runs`` untimed ones."""

    path: str
    runtime: str
    cpu: str
    threads: int
    kernels: str
    init_ms: float
    first_ms: float
    warmup_runs: int
    count: int
    mean_ms: float
    std_ms: float
    min_ms: float
    p5_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` "model name"), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def measure_latency(
    path: str | Path,
    *,
    threads: int = 1,
    kernels: str = "optimized",
    warmup_s: float = 0.5,
    min_runs: int = 50,
    min_seconds: float = 1.0,
) -> LatencyResult:
    """Benchmark ``path`` on this host (call ``inspect_model`` first on untrusted files)."""
    start = time.perf_counter()
    model = load_model(path, threads=threads, kernels=kernels)
    init = time.perf_counter() - start
    model.feed(*(synthetic_input(t, f"latency:{i}") for i, t in enumerate(model.inputs)))
    start = time.perf_counter()
    model.run()
    first = time.perf_counter() - start

    warmup_runs = 0
    end = time.perf_counter() + warmup_s
    while time.perf_counter() < end:
        model.run()
        warmup_runs += 1

    times: list[float] = []
    began = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - began < min_seconds:
        t0 = time.perf_counter()
        model.run()
        times.append(time.perf_counter() - t0)

    ms = np.asarray(times) * 1000.0
    p5, p50, p95 = np.percentile(ms, [5, 50, 95])
    return LatencyResult(
        path=str(path),
        runtime=runtime_name(path),
        cpu=cpu_model(),
        threads=threads,
        kernels=kernels,
        init_ms=init * 1000.0,
        first_ms=first * 1000.0,
        warmup_runs=warmup_runs,
        count=len(times),
        mean_ms=float(ms.mean()),
        std_ms=float(ms.std()),
        min_ms=float(ms.min()),
        p5_ms=float(p5),
        p50_ms=float(p50),
        p95_ms=float(p95),
        max_ms=float(ms.max()),
    )
