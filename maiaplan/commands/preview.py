"""``maiaplan preview --stack NAME``: the offline dry run of a Pulumi project, policies included.

Runs the project's program under a preview in a process of its own, behind a resource monitor, as the
Pulumi CLI does (no CLI, no cloud credentials; the engine is ``pulumi_dryrun``), diffs
it against a prior state, runs the policy packs over the analyzer protocol, and reports: the main
``--format`` on standard output (or ``--out``), and any of ``--json-output``, ``--sarif-output``,
``--junit-output``, ``--markdown-output`` beside it, from the same run. Exit 0 when nothing fails
the preview, 1 on a violation at or above ``--fail-on``, 2 on bad input or a failing program, 3 when
``--expect-no-changes`` and the preview proposes a change, 130/143 when interrupted by
SIGINT/SIGTERM (no report written). docs/preview.md documents the command and its JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maiaplan.formats import FORMATS, TextOptions, render
from maiaplan.guard_config import policy_config
from maiaplan.output import emit, write_atomic
from maiaplan.render.plans import plan_markdown
from maiaplan.render.progress import progress
from maiaplan.version import state_manifest_version
from planner.errors import InputError
from planner.plan_builder import plan_migration
from planner.plan_document import MigrationPlan
from planner.spec import load_spec
from pulumi_dryrun.diff import Plan
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.policy import FAIL_ON, PolicyPackRequest
from pulumi_dryrun.preview import PreviewResult, run_preview
from pulumi_dryrun.project import Project, StackConfig, load_project, load_stack_config, with_overrides
from pulumi_dryrun.runner import DEFAULT_TIMEOUT_S
from pulumi_dryrun.state import state_text

POLICY_PACK_FILE = "PulumiPolicy.yaml"
DEFAULT_POLICY_DIR = "policies"
# The stack config of maiaplan's own program (__main__.py): the spec, the phase and the traffic step.
SPEC_KEY = "maiaplan:spec"
PHASE_KEY = "maiaplan:phase"
STEP_KEY = "maiaplan:step"
# The exit code of a preview that proposes a change under --expect-no-changes (violations, 1, win).
EXIT_CHANGES = 3
# The report files one run can write beside its main output: option, format.
REPORT_OPTIONS = (
    ("json_output", "json"),
    ("sarif_output", "sarif"),
    ("junit_output", "junit"),
    ("markdown_output", "markdown"),
)


@dataclass(frozen=True)
class ProjectDefaults:
    """What the preview uses for a project when the command line does not say: the policy packs
    (each with its configuration, a parsed ``--policy-pack-config`` document or None), and the
    paragraph that heads the Markdown report."""

    policy_packs: tuple[PolicyPackRequest, ...] = ()
    summary_markdown: str | None = None


def project_defaults(project: Project, config: StackConfig, summary: bool = True) -> ProjectDefaults:
    """The project's own policy pack, ``policies/``, when it has one; and for a stack whose config
    names a maiaplan spec (``maiaplan:spec``), the guard's configuration derived from that spec (as
    ``maiaplan policy-config`` writes it) and, when ``summary``, the plan's summary.

    A spec that names no file is left for the program to report, in its own words.
    """
    pack = project.directory / DEFAULT_POLICY_DIR
    packs = [pack] if (pack / POLICY_PACK_FILE).is_file() else []
    spec_value = config.values.get(SPEC_KEY)
    spec_path = project.directory / spec_value if spec_value else None
    if spec_path is None or not spec_path.is_file():
        return ProjectDefaults(policy_packs=tuple(PolicyPackRequest(directory) for directory in packs))
    spec = load_spec(spec_path)
    guard_config = policy_config(spec, {})
    return ProjectDefaults(
        policy_packs=tuple(PolicyPackRequest(directory, guard_config) for directory in packs),
        summary_markdown=plan_summary(plan_migration(spec), config) if summary else None,
    )


def plan_summary(plan: MigrationPlan, config: StackConfig) -> str:
    """Where the stack stands in the plan, the moves of its phase, and the whole plan folded."""
    phase = _whole(config.values.get(PHASE_KEY))
    step = _whole(config.values.get(STEP_KEY))
    total = len(plan.phases)
    if phase is None or step is None:
        moment = f"**Plan `{plan.spec}`: {total} phase(s).**"
    elif phase == 0:
        moment = f"**Plan `{plan.spec}`: before phase 1 of {total}; nothing has moved.**"
    else:
        share = "complete, its sources released" if step == 100 else f"{step} % of its traffic on the new homes"
        moment = f"**Plan `{plan.spec}`: phase {phase} of {total}, {share}.**"
    current = next((planned for planned in plan.phases if planned.phase == phase), None)
    if current is not None and current.moves:
        moves = "; ".join(
            f"`{move.workload}` {move.from_cluster} → {move.to_cluster} ({move.chips} chips)" for move in current.moves
        )
        moment += f" This phase moves {moves}."
    return f"{moment}\n\n<details><summary>The whole plan</summary>\n\n{plan_markdown(plan).strip()}\n\n</details>"


def _whole(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="dry-run a Pulumi project offline: what would change, and is it allowed",
        description=(
            "Run the Pulumi program in its own process as `pulumi preview` does (no CLI, no credentials), "
            "diff it against a prior state and check it with policy packs."
        ),
        epilog=(
            f"preview also exits {EXIT_CHANGES} when --expect-no-changes is given and the preview proposes a "
            "change (a failing violation's 1 comes first); no report is written when it exits 2, 130 or 143."
        ),
    )
    parser.add_argument("-s", "--stack", required=True, help="the stack (its config is Pulumi.<stack>.yaml)")
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
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="the main report: text (default), json, markdown, sarif, junit, github (workflow annotations), "
        "violations (only the violations, one a line)",
    )
    parser.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    parser.add_argument("--out", type=Path, help="write the main report here (atomically) instead of standard output")
    for option, format_ in REPORT_OPTIONS:
        parser.add_argument(
            f"--{option.replace('_', '-')}",
            dest=option,
            type=Path,
            metavar="FILE",
            help=f"also write the {format_} report here, from the same run (atomically; none on a failure)",
        )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="text: list every property of each create, update, replace and delete, as `pulumi preview --diff`",
    )
    parser.add_argument(
        "--suppress-outputs", action="store_true", help="text and markdown: leave the stack outputs out"
    )
    parser.add_argument(
        "--expect-no-changes",
        action="store_true",
        help=f"exit {EXIT_CHANGES} when the preview proposes any change (a violation's exit 1 comes first)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop a program that has not finished after this long (exit 2); default {DEFAULT_TIMEOUT_S:g}",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="mandatory",
        help="the lowest enforcement level that fails the preview (exit 1): none, advisory or mandatory "
        "(default); waived violations never fail it",
    )
    parser.set_defaults(handler=run)


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: the preview stops, and with it the program and every pack."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def run(args: argparse.Namespace) -> int:
    """The preview; on SIGINT or SIGTERM, everything it started stopped, "interrupted", 128 + signal."""
    try:
        with _interruptible():
            return _preview(args)
    except DryRunError as error:
        raise _blame_overrides(error, _overrides(args.config_overrides)) from None
    except Interrupted as interrupted:
        print("maiaplan: interrupted", file=sys.stderr)
        return 128 + interrupted.signum


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` once; a second one during the clean-up is ignored,
    so the clean-up (every program and pack process group stopped) runs to its end."""

    def interrupt(signum: int, _frame: object) -> None:
        for each in (signal.SIGINT, signal.SIGTERM):
            signal.signal(each, lambda *_: None)
        raise Interrupted(signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {each: signal.signal(each, interrupt) for each in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT) from None
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return value


def _preview(args: argparse.Namespace) -> int:
    reports = _report_files(args)
    project = load_project(args.project)
    overrides = _overrides(args.config_overrides)
    config = with_overrides(project, load_stack_config(project, args.stack), overrides)
    wants_markdown = args.format == "markdown" or args.markdown_output is not None
    defaults = project_defaults(project, config, summary=wants_markdown)
    packs = _policy_packs(args, defaults)
    with progress(f"previewing {project.name}/{args.stack}") as status:
        result = run_preview(
            project.directory,
            args.stack,
            state=args.state,
            policy_packs=packs,
            overrides=overrides,
            summary_markdown=defaults.summary_markdown,
            timeout_s=args.timeout,
        )
        status.done(f"previewed {project.name}/{args.stack}")
    to_terminal = args.out is None and sys.stdout.isatty()
    options = TextOptions(
        colour=args.format == "text" and to_terminal and "NO_COLOR" not in os.environ,
        diff=args.diff,
        suppress_outputs=args.suppress_outputs,
        width=shutil.get_terminal_size().columns if to_terminal else None,
    )
    # Everything is rendered before anything is written: a failure leaves no report behind.
    files = [
        (path, render(result, format_, args.fail_on, TextOptions(suppress_outputs=args.suppress_outputs)))
        for path, format_ in reports
    ]
    main_report = render(result, args.format, args.fail_on, options)
    if args.save_state is not None:
        write_atomic(args.save_state, state_text(result.run.resources, state_manifest_version()))
    for path, text in files:
        write_atomic(path, text)
    emit(main_report, args.out)
    return _exit_code(result, args)


def proposed_changes(plan: Plan) -> int:
    """The changes ``--expect-no-changes`` refuses: every step but same and read, as the engine's
    ``ResourceChanges.HasChanges`` counts them (a data source read is no change to the stack)."""
    return sum(count for op, count in plan.counts.items() if op not in ("same", "read"))


def _exit_code(result: PreviewResult, args: argparse.Namespace) -> int:
    code = result.exit_code(args.fail_on)
    changed = proposed_changes(result.plan)
    if code == 0 and args.expect_no_changes and changed:
        print(
            f"maiaplan: --expect-no-changes: the preview proposes {changed} change{'s' if changed != 1 else ''}",
            file=sys.stderr,
        )
        return EXIT_CHANGES
    return code


def _report_files(args: argparse.Namespace) -> list[tuple[Path, str]]:
    """The extra reports asked for, each path once (two reports cannot share a file)."""
    reports = [(getattr(args, option), format_) for option, format_ in REPORT_OPTIONS if getattr(args, option)]
    seen: dict[str, str] = {}
    named = [("--out", args.out), ("--save-state", args.save_state)]
    named += [(f"--{option.replace('_', '-')}", getattr(args, option)) for option, _ in REPORT_OPTIONS]
    for option, path in named:
        if path is None:
            continue
        key = os.path.realpath(path)
        if os.path.exists(key) and not os.path.isfile(key):
            continue  # a stream or device (/dev/null, a FIFO) is written through: sharing one is harmless
        if key in seen:
            raise InputError(
                str(path),
                option,
                f"is also given to {seen[key]}; two outputs cannot share a file.",
                "give each output its own file.",
            )
        seen[key] = option
    return reports


def _blame_overrides(error: DryRunError, overrides: dict[str, str]) -> InputError:
    """The error as bad input; one the program blamed on a stack-file key that ``--config`` set
    names the ``--config`` option instead (the value came from the command line, not the file)."""
    stack_file = re.fullmatch(r"Pulumi\.[^/]+\.ya?ml", Path(error.file).name) is not None
    for key in overrides:
        if stack_file and (error.path in (key, f"config.{key}") or error.path.endswith((f".{key}", f":{key}"))):
            # The key, never its value: a secret's plaintext given with --config stays unprinted.
            return InputError(
                "--config",
                key,
                error.problem,
                f"{error.fix.rstrip('.')} in --config {key}=…" if error.fix else f"change --config {key}=…",
            )
    return InputError(error.file, error.path, error.problem, error.fix)


def _policy_packs(args: argparse.Namespace, defaults: ProjectDefaults) -> list[PolicyPackRequest]:
    """Each pack with its config: from the command line, else the project's defaults (whose config a
    ``--policy-pack-config`` replaces)."""
    directories: Sequence[Path] = args.policy_packs or [pack.directory for pack in defaults.policy_packs]
    if args.policy_pack_configs:
        if len(args.policy_pack_configs) != len(directories):
            raise InputError(
                "--policy-pack-config",
                "",
                f"{len(args.policy_pack_configs)} config file(s) for {len(directories)} policy pack(s).",
                "give one --policy-pack-config per --policy-pack, in the same order.",
            )
        return [PolicyPackRequest(Path(d), Path(c)) for d, c in zip(directories, args.policy_pack_configs, strict=True)]
    if args.policy_packs:
        return [PolicyPackRequest(Path(directory)) for directory in directories]
    return list(defaults.policy_packs)


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``--config`` pairs by key (the last of a key wins)."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise InputError(
                "--config", pair, "is not KEY=VALUE.", "write e.g. --config maiaplan:phase=2 (namespace:key=value)."
            )
        overrides[key.strip()] = value
    return overrides
