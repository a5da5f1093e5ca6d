"""``zoo init``: a zoo is a folder. Make one a maintainer can fill with ``zoo add`` and check in CI.

It holds ``registry.yaml`` (no models yet), ``model_cards/`` (one folder per card), ``goldens/`` (reference
outputs ``zoo add``/``zoo golden`` record), a commented ``targets.yaml`` to fill with the boards the cards
name, a CI workflow example and a pre-commit config. Commands run inside the folder find it themselves
(``zoo.core.settings.find_zoo``). Nothing that exists is replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

from zoo.core.errors import UsageError
from zoo.core.files import write_atomic

REGISTRY = """\
# The zoo's catalog: each model, its released files (sha256, size) and where their bytes live.
# `zoo add FILE --id ID --source TEMPLATE` appends entries and keeps this file's comments and layout.
schema_version: 1
name: {name}
description: {name} model zoo
models: {{}}
"""

TARGETS = """\
# Peak int8 compute of the boards and series your cards name in `measured_on` (see zoo's own
# registry/targets.yaml for sourced examples). `zoo verify` holds each published inference time against it,
# and a board listed here gives its series to the cards that name the board. Example:
#
# boards:
#   STM32N6570-DK:
#     series: STM32N6
#     part: STM32N657X0
#     engines:
#       NPU:
#         core: Neural-ART
#         clock_mhz: 1000
#         peak_int8_macs_per_second: 300e9
#         sources:
#           clock_mhz: "where this figure comes from"
#           peak: "where this figure comes from"
schema_version: 1
boards: {}
series: {}
"""

PRE_COMMIT = """\
# Keep cards valid and their READMEs current on every commit (pip install pre-commit; pre-commit install).
repos:
  - repo: local
    hooks:
      - id: zoo-validate
        name: zoo validate
        entry: zoo validate
        language: system
        files: (^|/)(card\\.yaml|registry\\.yaml|targets\\.yaml)$
        pass_filenames: false
      - id: zoo-render-card-check
        name: zoo render-card --check
        entry: zoo render-card --check
        language: system
        files: (^|/)(card\\.yaml|README\\.md)$
        pass_filenames: false
"""

CI = """\
# Example CI job (GitHub Actions): every push checks the cards, the READMEs and the released files.
# CI=true makes `zoo verify` fail any check it could not run (pass --no-strict to only report them).
name: zoo
on: [push, pull_request]
jobs:
  zoo:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {{python-version: "3.12"}}
      - run: pip install {package}
      - run: zoo validate
      - run: zoo render-card --check
      - run: zoo verify
"""


def init_zoo(directory: str | Path, *, name: str | None = None, package: str = "zoo") -> list[Path]:
    """Create a zoo in ``directory`` (made when missing); returns the files written.

    Refuses (``UsageError``) a folder that already holds a registry: a zoo is never initialised twice.
    """
    root = Path(directory)
    if (root / "registry.yaml").exists():
        raise UsageError("already holds a zoo (registry.yaml); zoo init never replaces one", path=root)
    if root.exists() and not root.is_dir():
        raise UsageError("is not a folder", path=root)
    name = name or re.sub(r"[^a-z0-9_.-]+", "-", root.resolve().name.lower()).strip("-") or "zoo"
    files = {
        root / "registry.yaml": REGISTRY.format(name=name),
        root / "targets.yaml": TARGETS,
        root / ".pre-commit-config.yaml": PRE_COMMIT,
        root / ".github" / "workflows" / "zoo.yml": CI.format(package=package),
        root / "model_cards" / ".gitkeep": "",
        root / "goldens" / ".gitkeep": "",
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue  # a pre-commit config or workflow of the repository's own stays as it is
        write_atomic(path, text)
        written.append(path)
    return written
