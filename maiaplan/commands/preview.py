"""``maiaplan preview --stack NAME``: the offline dry run of a Pulumi project, policies included.

Runs the project's program in-process under a preview (no Pulumi CLI, no cloud credentials), diffs
it against a prior state, runs the policy packs over the analyzer protocol, and reports in one of
five formats. Exit 0 when nothing fails the preview, 1 on a violation at or above ``--fail-on``,
2 on bad input or a failing program. docs/preview.md documents the command and its JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maiaplan.engine import maiaplan_version
from maiaplan.engine.policy import FAIL_ON, PolicyPackRequest
from maiaplan.engine.preview import run_preview
from maiaplan.engine.project import Project, load_project
from maiaplan.engine.state import write_state
from maiaplan.formats import FORMATS, render
from maiaplan.output import emit
from planner.errors import InputError

POLICY_PACK_FILE = "PulumiPolicy.yaml"
DEFAULT_POLICY_DIR = "policies"


@dataclass(frozen=True)
class ProjectDefaults:
    """What the preview uses for a project when the command line does not say.

    ``policy_packs`` when no ``--policy-pack`` is given, ``policy_config`` (one per pack, a parsed
    ``--policy-pack-config`` document or None) when no ``--policy-pack-config`` is given, and the
    paragraph that heads the Markdown report.
    """

    policy_packs: tuple[Path, ...] = ()
    policy_config: tuple[Mapping[str, Any] | None, ...] = ()
    summary_markdown: str | None = None


def project_defaults(project: Project) -> ProjectDefaults:
    """The project's own policy pack, ``policies/``, when it has one.

    This is the seam for what needs maiaplan's planner: the policy config derived from the stack's
    spec and the plan summary are added here, from the stack's ``maiaplan:spec``, for the project
    that declares it.
    """
    pack = project.directory / DEFAULT_POLICY_DIR
    if (pack / POLICY_PACK_FILE).is_file():
        return ProjectDefaults(policy_packs=(pack,), policy_config=(None,))
    return ProjectDefaults()


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="dry-run a Pulumi project offline: what would change, and is it allowed",
        description=(
            "Run the Pulumi program in-process as `pulumi preview` would (no CLI, no credentials), "
            "diff it against a prior state and check it with policy packs."
        ),
    )
    parser.add_argument("--stack", required=True, help="the stack (its config is Pulumi.<stack>.yaml)")
    parser.add_argument("--project", type=Path, default=Path("."), help="the project directory (default: .)")
    parser.add_argument(
        "--policy-pack",
        dest="policy_packs",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a Python policy pack to run (repeatable; default: the project's policies/ if present)",
    )
    parser.add_argument(
        "--policy-pack-config",
        dest="policy_pack_configs",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="JSON config of the policy pack in the same position (repeatable, as with the Pulumi CLI)",
    )
    parser.add_argument(
        "--config",
        dest="config_overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config value over the stack file's, e.g. maiaplan:phase=2 (repeatable)",
    )
    parser.add_argument("--state", type=Path, help="the prior state: `pulumi stack export` or --save-state output")
    parser.add_argument("--save-state", type=Path, metavar="FILE", help="write this preview's state here")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of standard output")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="mandatory",
        help="the lowest enforcement level that fails the preview (exit 1); default mandatory",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    defaults = project_defaults(project)
    packs = _policy_packs(args, defaults)
    result = run_preview(
        project.directory,
        args.stack,
        state=args.state,
        policy_packs=packs,
        overrides=_overrides(args.config_overrides),
        summary_markdown=defaults.summary_markdown,
    )
    if args.save_state is not None:
        write_state(args.save_state, result.run.resources, maiaplan_version())
    colour = args.format == "text" and args.out is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    emit(render(result, args.format, args.fail_on, colour=colour), args.out)
    return result.exit_code(args.fail_on)


def _policy_packs(args: argparse.Namespace, defaults: ProjectDefaults) -> list[PolicyPackRequest]:
    """Each pack with its config: from the command line, else the project's defaults."""
    directories: Sequence[Path] = args.policy_packs or defaults.policy_packs
    configs: Sequence[Path | Mapping[str, Any] | None]
    if args.policy_pack_configs:
        if len(args.policy_pack_configs) != len(directories):
            raise InputError(
                "--policy-pack-config",
                "",
                f"{len(args.policy_pack_configs)} config file(s) for {len(directories)} policy pack(s).",
                "give one --policy-pack-config per --policy-pack, in the same order.",
            )
        configs = args.policy_pack_configs
    elif not args.policy_packs and defaults.policy_config:
        configs = defaults.policy_config
    else:
        configs = [None] * len(directories)
    return [PolicyPackRequest(Path(directory), config) for directory, config in zip(directories, configs, strict=True)]


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise InputError(
                "--config", pair, "is not KEY=VALUE.", "write e.g. --config maiaplan:phase=2 (namespace:key=value)."
            )
        overrides[key.strip()] = value
    return overrides
