"""``zoo publish``: release a model version to an OCI registry, a Hugging Face repo or a mirror folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.cli.common import add_fetch_options, fetch_options, load_registry_for, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="release a model (signed with --sign) to oci://, hf:// or a mirror folder, "
                       "and record the pinned source in the registry")
    p.add_argument("target", metavar="ID[@VERSION]")
    p.add_argument("destination", metavar="DEST",
                   help="oci://HOST[:PORT]/REPO[:TAG], hf://ORG/REPO[@BRANCH], or a folder / file:// path")
    p.add_argument("--sign", metavar="KEY", type=Path,
                   help="EC private key (PEM) to sign each file with model-signing; a registry entry that names "
                   "no trusted key records its public key")
    p.add_argument("--no-record", action="store_true", help="do not write the new source into the registry")
    add_fetch_options(p)
    p.set_defaults(func=cmd_publish)


def cmd_publish(args: argparse.Namespace) -> int:
    from zoo.api import publish

    done = publish(args.target, args.destination, sign=args.sign, record=not args.no_record,
                   registry=load_registry_for(args), **fetch_options(args))
    if args.json:
        print_json(done.to_json())
        return 0
    print(f"published {args.target} to {args.destination}: {len(done.uploaded)} uploaded, "
          f"{len(done.present)} already there" + (f", signed ({len(done.signatures)} signature(s))"
                                                  if done.signatures else ""))
    for source in done.sources:
        print(f"source  {source}" + ("" if args.no_record else "  (recorded in the registry)"))
    if done.trusted_key:
        print(f"trust   {done.trusted_key}  (the registry now refuses files this key did not sign)")
    return 0
