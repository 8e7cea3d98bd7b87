"""The ``maiaplan`` command: parses arguments, calls library functions, formats results.

Exit codes: 0 ok, 1 policy violations, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from planner.errors import InputError
from pulumi_dryrun.errors import DryRunError

# Sub-command modules under maiaplan.commands, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "validate",
    "shard",
    "plan",
    "explain",
    "place",
    "preview",
    "policy_config",
    "calibrate",
    "claims",
    "gate",
    "advance",
    "report",
)

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maiaplan",
        description="Plan, dry-run and police the phased migration of LLM inference onto Azure Maia.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"maiaplan.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (InputError, DryRunError) as error:  # the engine's errors are bad input too: exit 2
        print(f"maiaplan: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return code


if __name__ == "__main__":
    sys.exit(main())
