"""Write registry/goldens/<file>.json for .tflite files: python tools/make_goldens.py FILE.tflite ...

Run it on the released bytes (their sha256 must match the registry); only the small JSON is committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zoo.model.goldens import make_golden
from zoo.catalog.registry import default_registry_path, load_registry


def main(paths: list[str]) -> int:
    registry = load_registry()
    out_dir = default_registry_path().parent / "goldens"
    for name in paths:
        doc = make_golden(name)
        if registry.by_sha256(doc["sha256"]) is None:
            print(f"{name}: not a registry artifact (sha256 {doc['sha256']})", file=sys.stderr)
            return 1
        out = out_dir / (Path(name).stem + ".json")
        out.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
