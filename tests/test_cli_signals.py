"""The CLI's conventions: Ctrl-C and SIGTERM, running out of memory, ``--version``, exit codes in ``--help``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_spec import EXAMPLE

import maiaplan.commands.plan as plan_command
from maiaplan.cli import COMMAND_MODULES, EXIT_BAD_INPUT, EXIT_CODES_HELP, EXIT_INTERRUPTED, build_parser, main
from maiaplan.version import maiaplan_version

ROOT = Path(__file__).resolve().parent.parent

# A command whose spec loading blocks until it is signalled; it says "ready" on stderr first.
_BLOCKING = """
import sys, time
import maiaplan.commands.plan as command
def load(path):
    print("ready", file=sys.stderr, flush=True)
    time.sleep(60)
command.load_spec = load
from maiaplan.cli import main
sys.exit(main(["plan", sys.argv[1], "--out", sys.argv[2]]))
"""


def _blocked(tmp_path: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _BLOCKING, str(EXAMPLE), str(tmp_path / "plan.txt")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stderr is not None
    assert process.stderr.readline() == "ready\n"
    return process


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [(signal.SIGINT, 130, "maiaplan: interrupted\n"), (signal.SIGTERM, 143, "maiaplan: terminated\n")],
)
def test_a_signal_exits_with_its_code_a_word_and_no_output(
    tmp_path: Path, signum: int, code: int, message: str
) -> None:
    process = _blocked(tmp_path)
    time.sleep(0.2)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (code, "", message)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_ctrl_c_in_any_command_is_exit_130(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    parser = build_parser()
    name = command.replace("_", "-")
    # The least each command's parser takes; the handler is replaced before anything runs.
    argv = {
        "preview": [name, "--stack", "dev"],
        "gate": [name, "--stack", "pilot", "--prometheus", "http://127.0.0.1:9"],
        "advance": [name, "--stack", "pilot", "--prometheus", "http://127.0.0.1:9"],
        "explain": [name, str(EXAMPLE), "embed"],
        "calibrate": [name, str(EXAMPLE), "--results", str(EXAMPLE)],
    }.get(name, [name, str(EXAMPLE)])
    args = parser.parse_args(argv)
    monkeypatch.setattr(args, "handler", interrupted)
    monkeypatch.setattr("maiaplan.cli.build_parser", lambda: _Fixed(args))
    assert main(argv) == EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "maiaplan: interrupted\n")


class _Fixed:
    """A parser stand-in that returns already-parsed arguments."""

    def __init__(self, args: object) -> None:
        self.args = args

    def parse_args(self, argv: object) -> object:
        return self.args


def test_running_out_of_memory_is_exit_2_with_a_paragraph(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def exhausted(*args: object) -> object:
        raise MemoryError

    monkeypatch.setattr(plan_command, "plan_migration", exhausted)
    assert main(["plan", str(EXAMPLE)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("maiaplan: ran out of memory. Fix: ") and captured.err.count("\n") == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"maiaplan {maiaplan_version()}\n"


def test_every_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], *([name.replace("_", "-"), "--help"] for name in COMMAND_MODULES)):
        with pytest.raises(SystemExit):
            main(argv)
        out = " ".join(capsys.readouterr().out.split())
        assert EXIT_CODES_HELP in out, argv
