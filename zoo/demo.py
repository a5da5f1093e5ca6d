"""The offline demo: every step of zoo's job, run on the mini zoo that ships inside the package.

``osnet_demo`` is a small OSNet we trained on synthetic people (``tools/build_demo_model.py``); its file
sits in the bundled mirror (``registry/mirror/<model id>/<file>``), so the whole flow runs without a
network: pull it (verified by sha256 into the cache), validate its card, verify the card against the file,
regenerate the synthetic test set the card's accuracy was measured on, evaluate, compare with the claim,
and check that the card's README is current. Nothing here prints; ``zoo.cli.demo`` shows the steps.
It takes seconds and writes to the cache, so the example is not a doctest (tests/test_demo.py runs it)::

    report = run_demo()
    report.ok, [step.name for step in report.steps]
    # (True, ['pull', 'card', 'verify', 'dataset', 'evaluate', 'readme'])
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from zoo.core.errors import UsageError, ZooError
from zoo.catalog.registry import Registry, load_registry
from zoo.core.resources import data_dir
from zoo.core.settings import Settings
from zoo.verification.rules.base import TOLERANCE_PP

DEMO_MODEL = "osnet_demo"
STEPS = ("pull", "card", "verify", "dataset", "evaluate", "readme")


@dataclass
class Step:
    """What one step found: passed or not, one line for people, and the figures behind it."""

    name: str
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoReport:
    model_id: str
    steps: list[Step]

    @property
    def ok(self) -> bool:
        return len(self.steps) == len(STEPS) and all(step.ok for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model_id, "ok": self.ok, "steps": [asdict(step) for step in self.steps]}


def bundled_mirror() -> Path:
    """The mirror folder shipped with zoo (``<mirror>/<model id>/<file>``)."""
    return data_dir("registry") / "mirror"


class _Demo:
    """The state the steps share: the registry, the pulled file, the card, the generated data."""

    def __init__(self, registry: Registry, model_id: str, settings: Settings, workdir: Path, kept: bool,
                 tolerance_pp: float):
        self.registry = registry
        self.model = registry.get(model_id)
        if self.model.card is None:
            raise UsageError(f"model {model_id!r} has no card, so there is nothing to demonstrate")
        self.card_path: Path = self.model.card
        self.settings = settings.with_flags(mirrors=[str(bundled_mirror())], offline=True)  # no request leaves
        self.workdir = workdir
        self.kept = kept
        self.tolerance_pp = tolerance_pp
        self.file: Path | None = None
        self.dataset: Path | None = None

    @cached_property
    def card(self):  # -> zoo.cards.card.Card
        from zoo.cards.card import read_card

        return read_card(self.card_path)

    def pull(self) -> Step:
        from zoo.core.files import sha256_file
        from zoo.artifacts.fetching import fetch

        artifact = self.model.artifact("tflite")
        self.file = fetch(artifact, settings=self.settings)
        digest = sha256_file(self.file)  # re-read: show the bytes we hand on are the registry's
        ok = digest == artifact.sha256
        return Step("pull", ok, f"{self.file} ({artifact.size:,} bytes, sha256 {digest} "
                    f"{'verified' if ok else 'DIFFERS from the registry'})",
                    {"path": str(self.file), "size": artifact.size, "sha256": digest, "expected_sha256": artifact.sha256,
                     "mirror": self.settings.mirrors[0], "offline": True})

    def validate_card(self) -> Step:
        from zoo.cards.checks import card_problems

        problems = card_problems(self.card, self.registry)
        summary = f"{self.card_path} follows the card schema and is consistent" if not problems else problems[0]
        return Step("card", not problems, summary, {"card": str(self.card_path), "problems": problems})

    def verify(self) -> Step:
        from zoo.verification.run import Options, verify
        from zoo.verification.targets import Target

        target = Target(self.model.id, self.card_path, self.card)
        entries = verify([target], self.registry, Options(), self.settings)
        checks = [c for entry in entries for c in entry.checks]
        counts = dict(Counter(c.status for c in checks))
        failed = [c.message for c in checks if c.status == "fail"]
        groups = ", ".join(dict.fromkeys(c.id.split(".")[0] for c in checks))
        summary = ", ".join(f"{n} {status}" for status, n in counts.items()) + f" ({groups})"
        return Step("verify", not any(e.failed for e in entries), failed[0] if failed else summary,
                    {"counts": counts, "checks": [c.to_json() for c in checks]})

    def generate(self) -> Step:
        from zoo.reid import synthetic

        params = _generator(self.card)
        self.dataset = self.workdir / _generated_dataset(self.card)  # named as the card's dataset id, so that
        # `zoo verify osnet_demo --dataset DIR/<id>` finds the claims to compare by the folder's name
        made = synthetic.write_test_set(self.dataset, **params)
        where = f"in {self.dataset}" if self.kept else "in a temporary folder (--keep DIR keeps them)"
        return Step("dataset", True, f"{made.queries} queries and {made.gallery} gallery images of {made.identities} "
                    f"synthetic identities {where}", {"path": str(self.dataset) if self.kept else None, "generator": params})

    def evaluate(self) -> Step:
        from zoo.reid.evaluation import evaluate

        from zoo.verification.rules.accuracy import accuracy_claim_checks
        from zoo.verification.rules.base import Status

        card = self.card
        dataset_id = _generated_dataset(card)
        result = evaluate(self.file, self.dataset, preprocessing=card.preprocessing, distance=card.distance,
                          protocol=card.protocol)
        measured = result.as_percent(ndigits=None)
        claims = accuracy_claim_checks(card, self.model.id, dataset_id, measured, self.tolerance_pp)
        if not claims:
            raise UsageError(f"{card.path}: no accuracy record of {self.model.id} on the synthetic dataset to compare with")
        compared = {}
        for c in claims:
            metric = c.id.removeprefix("accuracy.")
            compared[metric] = {"claimed": c.details["claimed"], "measured": round(measured[metric], 2),
                                "ok": c.status is Status.PASS}
        ok = bool(compared) and all(c["ok"] for c in compared.values())
        summary = ", ".join(f"{m} {c['measured']:.2f} % (card {c['claimed']} %)" for m, c in compared.items())
        return Step("evaluate", ok, f"{summary}; tolerance {self.tolerance_pp} pp",
                    {"metrics": compared, "mINP": round(measured["mINP"], 2), "num_queries": result.num_queries,
                     "num_valid_queries": result.num_valid_queries, "num_gallery": result.num_gallery,
                     "tolerance_pp": self.tolerance_pp})

    def readme(self) -> Step:
        from zoo.render.readme import render_card

        rendering = render_card(self.card, self.registry)
        ok = not rendering.stale
        return Step("readme", ok, f"{rendering.readme} is {'current' if ok else 'stale: run zoo render-card'}",
                    {"readme": str(rendering.readme), "stale": not ok})


def _generator(card: Any) -> dict[str, Any]:
    """The synthetic set's generator parameters, as the card records them (so we rebuild the same images)."""
    for dataset in card.datasets:
        if "generator" in dataset:
            params = dict(dataset["generator"])
            if params.pop("module") != "zoo.synthetic":
                raise UsageError(f"{card.path}: dataset {dataset['id']!r} names a generator zoo does not have")
            if "size" in params:
                params["size"] = tuple(params["size"])
            return params
    raise UsageError(f"{card.path}: no dataset with generator parameters, so the demo cannot rebuild its test set")


def _generated_dataset(card: Any) -> str:
    """The id of the card's dataset that zoo.reid.synthetic regenerates (its accuracy claims are the demo's)."""
    return next((str(d["id"]) for d in card.datasets if "generator" in d), "")


def run_demo(
    *,
    model_id: str = DEMO_MODEL,
    registry: Registry | None = None,
    settings: Settings | None = None,
    workdir: str | Path | None = None,
    tolerance_pp: float = TOLERANCE_PP,
    on_step: Callable[[Step], None] | None = None,
) -> DemoReport:
    """Run every step offline on the shipped registry (or ``registry``); stop when the file or data is missing.

    ``workdir`` keeps the generated images (default: a temporary folder, removed afterwards);
    ``on_step`` sees each step as soon as it is done, so a terminal can show progress.
    """
    from zoo.verification.options import check_tolerance

    check_tolerance(tolerance_pp, "--tolerance")
    registry = registry or load_registry()
    settings = settings or Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="zoo-demo-") as tmp:
        demo = _Demo(registry, model_id, settings, Path(workdir or tmp), workdir is not None, tolerance_pp)
        report = DemoReport(model_id, [])
        for name, run in zip(STEPS, (demo.pull, demo.validate_card, demo.verify, demo.generate, demo.evaluate,
                                     demo.readme)):
            try:
                step = run()
            except ZooError as exc:
                step = Step(name, False, exc.lines()[0], {"error": type(exc).__name__, "messages": exc.lines()})
            report.steps.append(step)
            if on_step:
                on_step(step)
            if not step.ok and name in ("pull", "dataset"):
                break  # later steps need the file or the images
        return report
