"""``zoo verify``: whether cards are true to the registry and the released files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.cli.common import (MAX_THREADS, add_fetch_options, add_kernels_option, count, load_registry_for, print_json,
                            show_progress)
from zoo.reid.protocols import PROTOCOLS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check cards against the registry and the released files")
    p.add_argument("targets", nargs="*", metavar="ID|CARD", help="model ids or card files (default: every model)")
    p.add_argument("--all", action="store_true", help="every model of the registry (the default without targets)")
    p.add_argument("--dataset", type=Path, metavar="DIR", help="measure re-ID accuracy on this dataset folder")
    p.add_argument("--dataset-id", metavar="ID", help="the card dataset DIR holds (default: matched by folder name)")
    p.add_argument("--tolerance-pp", type=float, metavar="X",
                   help="accuracy may differ from the card by X percentage points (default 1)")
    p.add_argument("--latency", action="store_true", help="measure host latency and compare with host records")
    p.add_argument("--threads", type=count(1, MAX_THREADS), default=1, metavar="N",
                   help="threads for --latency (default 1)")
    p.add_argument("--write", action="store_true", help="record measured host figures in the card.yaml files")
    strict = p.add_mutually_exclusive_group()
    strict.add_argument("--strict", action="store_true", default=None,
                        help="a check that could not run (file unavailable, nothing to compare) fails (also "
                        "$ZOO_STRICT=1; the default when CI=true)")
    strict.add_argument("--no-strict", dest="strict", action="store_false", default=None,
                        help="report checks that could not run without failing, even under CI=true")
    p.add_argument("--jobs", type=count(1, MAX_THREADS), default=1, metavar="N", help="verify N models in parallel")
    p.add_argument("--shard", metavar="I/N", help="only the I-th of N deterministic shares of the models (CI)")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("--protocol", choices=tuple(PROTOCOLS), help="measure accuracy under this protocol only (default: "
                   "each protocol the card's claims use); claims under another are not checked")
    add_kernels_option(p, both=True)
    p.add_argument("-v", "--verbose", action="store_true", help="list passing checks too")
    add_fetch_options(p)
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> None:
    from zoo.api import verify
    from zoo.core.errors import UsageError

    if args.all and args.targets:
        raise UsageError("give model ids / cards or --all, not both")
    report = verify(args.targets, registry=load_registry_for(args), settings=args.settings, jobs=args.jobs,
                    shard=args.shard, dataset=args.dataset, dataset_id=args.dataset_id,
                    **({} if args.tolerance_pp is None else {"tolerance_pp": args.tolerance_pp}), latency=args.latency, threads=args.threads, write=args.write,
                    protocol=args.protocol, kernels=args.kernels, progress=show_progress(args))
    if args.write:
        for card, stored in report.write_records().items():
            print(f"recorded {stored} measured record(s) in {card}", file=sys.stderr)
    if args.junit:
        report.write_junit(args.junit)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.to_text(verbose=args.verbose))
    if args.settings.ci and (notice := report.ci_notice()):
        print(notice, file=sys.stderr)  # the last line a CI log shows
    report.raise_for_status()
