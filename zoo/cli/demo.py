"""``zoo demo``: the whole job on the bundled mini zoo, offline, step by step."""

from __future__ import annotations

import argparse

from zoo.cli.common import add_json_option, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="pull, verify and evaluate the bundled demo model offline, and show what each step found",
        description="Runs zoo's job end to end on osnet_demo, a small OSNet shipped with zoo: pull from the bundled "
        "mirror (no network), validate and verify its card, evaluate it on a freshly generated synthetic re-ID set "
        "and compare with the card's claim, and check that its README is current.",
    )
    p.add_argument("--keep", metavar="DIR", help="write the synthetic images to DIR and keep them")
    p.add_argument("--tolerance", type=float, metavar="PP", help="accuracy tolerance in percentage points (default 1.0)")
    add_json_option(p)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> None:
    from zoo.demo import Step, run_demo

    def show(step: Step) -> None:
        print(f"{'ok' if step.ok else 'FAIL':<4} {step.name:<9} {step.summary}", flush=True)

    tolerance = {} if args.tolerance is None else {"tolerance_pp": args.tolerance}  # else verify's own default
    report = run_demo(settings=args.settings, workdir=args.keep, **tolerance,
                      on_step=None if args.json else show)
    if args.json:
        print_json(report.to_json())
    else:
        print("demo passed: every step checks out" if report.ok else "demo FAILED (see the steps above)")
    if not report.ok:
        from zoo.core.errors import VerificationFailed

        raise VerificationFailed("a demo step failed", reported=True)
