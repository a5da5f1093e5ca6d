"""The public API: what the ``zoo`` command does, as functions a release script calls (``import zoo``).

Every function takes ``settings`` (default: ``Settings.from_env()``, the same environment the command
reads) and, where a registry is involved, ``registry`` (a loaded ``Registry``, a path, or None for the
one the settings select). A model is named as the command line names it: a model id (``ID`` or
``ID@VERSION``, fetched into the verified cache) or a model file (matched to the registry by sha256).
Problems are raised as ``zoo.ZooError`` subclasses, each with its exit code and its facts as fields.

The examples run on the bundled offline demo model (``osnet_demo``), in a throwaway cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names for the annotations; importing them here would slow every command's start
    from zoo.artifacts.fetching import Pulled
    from zoo.artifacts.partial import Progress
    from zoo.artifacts.resolving import Resolved
    from zoo.catalog.registry import Artifact, Registry
    from zoo.core.settings import Settings
    from zoo.importer.writing import ImportResult
    from zoo.model.footprint import Footprint
    from zoo.model.inspection import ModelInfo
    from zoo.release.publishing import Published
    from zoo.reid.evaluation import EvaluationResult
    from zoo.review.findings import Finding
    from zoo.render.readme import Rendering
    from zoo.verification.report import VerifyReport

def _settings(settings: Settings | None) -> Settings:
    from zoo.core.settings import Settings

    return settings if settings is not None else Settings.from_env()


def load_registry(path: str | Path | None = None, *, settings: Settings | None = None) -> Registry:
    """The registry at ``path`` (a YAML file or its folder), else the one ``settings`` select, schema-checked.

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> registry = zoo.load_registry(settings=settings)
    >>> registry.get("osnet_demo").artifact("tflite").file
    'osnet_demo_int8.tflite'
    """
    from zoo.catalog.registry import load_registry as load

    settings = _settings(settings)
    return load(path if path is not None else settings.registry, verdicts=settings.cache_dir / "verdicts")


def _registry(registry: Registry | str | Path | None, settings: Settings) -> Registry:
    from zoo.catalog.registry import Registry

    return registry if isinstance(registry, Registry) else load_registry(registry, settings=settings)


def fetch(artifact: Artifact | str, *, registry: Registry | str | Path | None = None, settings: Settings | None = None,
          progress: Progress | None = None) -> Path:
    """The verified cache path of an artifact (or of a model id's tflite or onnx file), downloaded if it is not cached.

    Sources are tried in order (the settings' mirrors first); bytes are hashed while they stream and only
    a file whose sha256 and size match is ever handed out (``IntegrityError`` otherwise).

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> zoo.fetch("osnet_demo", settings=settings).name
    'osnet_demo_int8.tflite'
    """
    from zoo.artifacts.fetching import fetch as fetch_artifact

    settings = _settings(settings)
    if isinstance(artifact, str):
        artifact = _registry(registry, settings).get(artifact).runnable()
    return fetch_artifact(artifact, settings=settings, progress=progress)


def pull(model: str, *, formats: Sequence[str] = (), to: str | Path | None = None,
         registry: Registry | str | Path | None = None, settings: Settings | None = None,
         progress: Progress | None = None) -> list[Pulled]:
    """Fetch a model's artifacts (``formats``: ``tflite``, ``onnx``, ``keras``, ``all``; none: the file zoo runs, its
    tflite or onnx artifact), optionally copied into ``to``.

    Each result says which artifact, where its verified file is, and which source delivered the bytes.

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> [(p.artifact.file, p.path.name, p.source.endswith("mirror/osnet_demo/osnet_demo_int8.tflite"))
    ...  for p in zoo.pull("osnet_demo", settings=settings)]  # from the demo's bundled mirror
    [('osnet_demo_int8.tflite', 'osnet_demo_int8.tflite', True)]
    """
    from zoo.artifacts.fetching import pull as pull_model

    settings = _settings(settings)
    return pull_model(_registry(registry, settings), model, formats=formats, to=Path(to) if to is not None else None,
                      settings=settings, progress=progress)


def resolve(model: str | Path | Resolved, *, registry: Registry | str | Path | None = None,
            settings: Settings | None = None, card: str | Path | None = None, need_card: bool = False,
            progress: Progress | None = None) -> Resolved:
    """What ``model`` names (a model id, fetched, or a model file): its path, registry model and card.

    Every function that takes a model also takes what this returns, so a script resolves (and fetches) once.
    """
    from zoo.artifacts.resolving import Resolved, resolve as resolve_target

    if isinstance(model, Resolved) and card is None and (model.card is not None or not need_card):
        return model
    if isinstance(model, Resolved):
        model = model.path
    settings = _settings(settings)
    return resolve_target(str(model), _registry(registry, settings), card=card, need_card=need_card,
                          fetch=lambda artifact: fetch(artifact, settings=settings, progress=progress),
                          verdicts=settings.cache_dir / "verdicts")


def inspect(model: str | Path | Resolved, *, registry: Registry | str | Path | None = None, settings: Settings | None = None,
            progress: Progress | None = None) -> ModelInfo:
    """What the file holds: inputs and outputs with quantization, ops, parameters, and its registry artifact.

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> info = zoo.inspect("osnet_demo", settings=settings)
    >>> info.precision, [t.shape for t in info.inputs], info.artifact.model_id
    ('int8', [(1, 128, 64, 3)], 'osnet_demo')
    """
    from zoo.model.inspection import inspect_model

    settings = _settings(settings)
    registry = _registry(registry, settings)
    return inspect_model(resolve(model, registry=registry, settings=settings, progress=progress).path, registry)


def footprint(model: str | Path | Resolved, *, tflm: bool = False, registry: Registry | str | Path | None = None,
              settings: Settings | None = None, progress: Progress | None = None) -> Footprint:
    """Memory and compute on a microcontroller, from the file alone (``tflm``: TFLM plans the arena too).

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> fp = zoo.footprint("osnet_demo", settings=settings)
    >>> fp.weights_bytes > 0 and fp.macs > 0 and fp.activation_lower_bound_bytes <= fp.arena_estimate_bytes
    True
    """
    from zoo.core.errors import RuntimeMissingError
    from zoo.model import tflm as micro
    from zoo.model.footprint import compute_footprint

    if tflm and not micro.available():  # before any download
        raise RuntimeMissingError(micro.INSTALL_HINT)
    settings = _settings(settings)
    return compute_footprint(resolve(model, registry=registry, settings=settings, progress=progress).path, tflm=tflm)


def verify(targets: Iterable[str] = (), *, registry: Registry | str | Path | None = None,
           settings: Settings | None = None, strict: bool | None = None, jobs: int = 1, shard: str | None = None,
           **options: Any) -> VerifyReport:
    """Check cards against the registry and the released files (every model when ``targets`` is empty).

    ``targets`` are model ids or card files; ``options`` are those of ``zoo verify`` (``dataset``,
    ``dataset_id``, ``tolerance_pp``, ``latency``, ``threads``, ``write``, ``protocol``, ``kernels``; see
    ``zoo.verification.options.Options``). ``strict`` (default: the settings', as ``--strict``/``--no-strict``
    and ``ZOO_STRICT``) makes every check that could not run a failure.

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> report = zoo.verify(["osnet_demo"], settings=settings, strict=True)
    >>> report.passed, report.totals["fail"], report.totals["not_checked"]
    (True, 0, 0)
    """
    from zoo.verification.options import Options
    from zoo.verification.report import VerifyReport
    from zoo.verification.run import verify as run
    from zoo.verification.targets import select_targets, shard as share

    settings = _settings(settings)
    if strict is not None:
        settings = settings.with_flags(strict=strict)
    registry = _registry(registry, settings)
    chosen = share(select_targets(registry, list(targets)), shard)
    return VerifyReport(run(chosen, registry, Options(**options), settings, jobs=jobs), strict=settings.strict)


def evaluate(model: str | Path | Resolved, dataset: str | Path, *, card: str | Path | None = None, protocol: str | None = None,
             distance: str | None = None, kernels: str = "optimized", layout: str | None = None,
             limit_queries: int | None = None, registry: Registry | str | Path | None = None,
             settings: Settings | None = None, progress: bool = False) -> EvaluationResult:
    """Re-ID accuracy (mAP, rank-k, mINP) of ``model`` on a dataset folder, preprocessed as its card says and
    computed under the card's protocol (or ``protocol``). A file outside the registry needs ``card``."""
    from zoo.reid.evaluation import evaluate as run

    found = resolve(model, registry=registry, settings=settings, card=card, need_card=True)
    assert found.card is not None  # need_card: resolve raised a UsageError otherwise
    return run(found.path, Path(dataset), preprocessing=found.card.preprocessing, card=found.card.path,
               protocol=protocol or found.card.protocol, kernels=kernels, layout=layout,
               distance=distance or found.card.distance, limit_queries=limit_queries, progress=progress)


def validate(paths: Iterable[str | Path] = (), *, registry: Registry | str | Path | None = None,
             settings: Settings | None = None) -> tuple[list[Finding], int]:
    """Every finding about the zoo's registry, targets and cards (or the files named: card.yaml files, and
    published markdown cards reviewed as written), with how many files were read. Nothing is written.

    >>> import tempfile, zoo
    >>> from zoo.core.resources import data_dir
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})
    >>> zoo.validate([data_dir("model_cards") / "osnet_demo"], settings=settings)
    ([], 1)
    """
    from zoo.catalog.registry import Registry
    from zoo.review.validation import validate as run

    settings = _settings(settings)
    if registry is not None and not isinstance(registry, Registry):
        settings = settings.with_flags(registry=registry)
    return run([str(p) if isinstance(p, Path) else p for p in paths], settings,
               registry if isinstance(registry, Registry) else None)


def render_card(card: str | Path, *, registry: Registry | str | Path | None = None, settings: Settings | None = None,
                extra: dict[str, str] | None = None) -> Rendering:
    """What the README beside ``card`` (a card.yaml, its folder or its README) should hold; nothing is written.

    ``rendering.stale`` says whether it differs, ``rendering.diff()`` how, ``rendering.write()`` writes it.

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> from zoo.core.resources import data_dir
    >>> zoo.render_card(data_dir("model_cards") / "osnet_demo", settings=settings).stale
    False
    """
    from zoo.cards.card import card_path, load_card
    from zoo.render.readme import render_card as render

    settings = _settings(settings)
    return render(load_card(card_path(card)), _registry(registry, settings), extra=extra)


def import_card(readme: str | Path, output: str | Path | None = None, *, force: bool = False,
                registry: Registry | str | Path | None = None, settings: Settings | None = None) -> ImportResult:
    """Turn an upstream-style markdown card into ``card.yaml`` plus a README with markers.

    ``output`` is a card.yaml path or a folder, as ``zoo import-card -o`` takes it (``<folder>/<card name>/``, or
    the folder itself when it is named after the card); by default the card is written beside the README.
    Nothing is replaced without ``force``.
    """
    from zoo.importer.writing import import_card as run, import_targets

    settings = _settings(settings)
    ((source, card_path),) = import_targets([Path(readme)], output)
    return run(source, card_path, _registry(registry, settings), force=force)


def publish(model: str, destination: str, *, sign: str | Path | None = None, record: bool = True,
            registry: Registry | str | Path | None = None, settings: Settings | None = None,
            progress: Progress | None = None) -> Published:
    """Release ``model`` (``ID`` or ``ID@VERSION``) to ``oci://HOST[:PORT]/REPO[:TAG]``, ``hf://ORG/REPO[@BRANCH]``
    or a folder, signed with ``sign`` (an EC private key in PEM; needs ``zoo[sign]``), and record the pinned
    source (and, on a first signed release, the trusted key) in the registry unless ``record`` is False.

    >>> import tempfile, zoo
    >>> settings = zoo.Settings.from_env({"ZOO_CACHE_DIR": tempfile.mkdtemp()})  # a throwaway cache
    >>> folder = Path(tempfile.mkdtemp()).resolve()
    >>> done = zoo.publish("osnet_demo", str(folder), record=False, settings=settings)
    >>> done.sources == [f"{folder}/osnet_demo/osnet_demo_int8.tflite"], (folder / "osnet_demo" / "SHA256SUMS").is_file()
    (True, True)
    """
    from zoo.release.publishing import publish as run

    settings = _settings(settings)
    return run(_registry(registry, settings), model, destination, sign_key=Path(sign) if sign is not None else None,
               settings=settings, record=record, progress=progress)
