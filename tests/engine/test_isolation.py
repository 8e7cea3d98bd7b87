"""Hostile and broken programs: each ran inside maiaplan's process before, and could change the verdict,
corrupt stdout, hang the run, end maiaplan or use maiaplan's packages. Each test reproduced its fault."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from maiaplan.cli import main
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.runner import run_program

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DEMO = FIXTURES / "demo_project"
PACK = FIXTURES / "demo_pack"


def demo_copy(tmp_path: Path, appended: str) -> Path:
    """The demo project copied, with ``appended`` at the end of its program."""
    project = tmp_path / "demo"
    shutil.copytree(DEMO, project)
    program = project / "__main__.py"
    program.write_text(program.read_text() + "\n" + appended + "\n")
    return project


def small_project(tmp_path: Path, program: str, name: str = "hostile") -> Path:
    project = tmp_path / name
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (project / "__main__.py").write_text(program)
    return project


def test_a_program_cannot_flip_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile = (
        "import sys\n"
        "for _name in ('maiaplan.engine.policy', 'pulumi_dryrun.policy', 'pulumi_dryrun.preview'):\n"
        "    try:\n"
        "        _module = __import__(_name, fromlist=['fails'])\n"
        "        _module.fails = lambda v, f: False\n"
        "        _module.PreviewResult.exit_code = lambda self, fail_on: 0\n"
        "    except Exception:\n"
        "        pass\n"
    )
    project = demo_copy(tmp_path, hostile)
    code = main(["preview", "--project", str(project), "--stack", "oversized", "--policy-pack", str(PACK)])
    out = capsys.readouterr().out
    assert code == 1
    assert "Result: failed" in out


def test_what_a_program_prints_goes_to_the_diagnostics_not_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = demo_copy(tmp_path, "print('hello from the program {')\nimport sys\nprint('to stderr', file=sys.stderr)")
    assert main(["preview", "--project", str(project), "--stack", "dev", "--format", "json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # stdout is the report, and only the report
    messages = [entry["message"] for entry in document["diagnostics"]]
    assert "hello from the program {" in messages
    assert "to stderr" in messages
    assert "hello" not in captured.err


@pytest.mark.parametrize(
    ("program", "waiting"),
    [
        ("import pulumi\nwhile True:\n    pass\n", r"still running at __main__\.py:[23] in <module>"),
        (
            "import asyncio, pulumi\nfrom pulumi_aws import s3\n"
            "never = asyncio.get_event_loop().create_future()\n"
            "s3.Bucket('stuck', bucket=pulumi.Output.from_input(never))\n",
            r"aws:s3/bucket:Bucket 'stuck', which never registered",
        ),
        (
            "import threading, time\nimport pulumi\n"
            "threading.Thread(target=time.sleep, args=(3600,), name='poller').start()\n"
            "pulumi.export('ok', 1)\n",
            r"non-daemon thread\(s\) poller kept it running",
        ),
    ],
    ids=["busy-loop", "never-resolving-output", "non-daemon-thread"],
)
def test_a_program_that_does_not_finish_is_stopped_at_the_timeout(tmp_path: Path, program: str, waiting: str) -> None:
    project = small_project(tmp_path, program)
    started = time.monotonic()
    with pytest.raises(DryRunError, match=r"did not finish within 3 s: .*" + waiting):
        run_program(project, "dev", timeout_s=3)
    assert time.monotonic() - started < 20


def test_a_program_that_exits_early_is_exit_2_with_its_code_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_project(tmp_path, "import os\nprint('about to leave')\nos._exit(3)\n")
    assert main(["preview", "--project", str(project), "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert "exited with code 3 before it finished" in err
    assert "about to leave" in err


def test_duplicate_urns_in_a_program_are_exit_2(tmp_path: Path) -> None:
    program = (
        "import pulumi\nfrom pulumi_aws import s3\n"
        "s3.Bucket('twin')\n"
        "try:\n    s3.Bucket('twin')\nexcept Exception:\n    pass\n"
    )
    with pytest.raises(
        DryRunError, match="Duplicate resource URN 'urn:pulumi:dev::hostile::aws:s3/bucket:Bucket::twin'"
    ):
        run_program(small_project(tmp_path, program), "dev", timeout_s=60)


def test_a_project_runs_with_its_own_virtualenv(tmp_path: Path) -> None:
    project = small_project(
        tmp_path,
        "import sys\nimport pulumi\nfrom pulumi_aws import s3\n"
        "pulumi.export('python', sys.prefix)\ns3.Bucket('logs')\n",
        name="venvproject",
    )
    venv = project / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    # The project's environment has its own pulumi_aws distribution (metadata only: the code is the
    # shared one), so the program's provider version is not maiaplan's.
    site = next(venv.glob("lib/python*/site-packages"))
    info = site / "pulumi_aws-7.40.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pulumi_aws\nVersion: 7.40.0\n")
    (project / "Pulumi.yaml").write_text(
        "name: venvproject\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    run = run_program(project, "dev", timeout_s=120)
    assert Path(run.outputs["python"]).resolve() == venv.resolve()
    assert "urn:pulumi:dev::venvproject::pulumi:providers:aws::default_7_40_0" in run.by_urn()


def test_a_missing_virtualenv_is_one_paragraph(tmp_path: Path) -> None:
    project = small_project(tmp_path, "import pulumi\n")
    (project / "Pulumi.yaml").write_text("name: hostile\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    with pytest.raises(DryRunError, match="the virtualenv 'venv' has no interpreter") as caught:
        run_program(project, "dev")
    assert caught.value.path == "runtime.options.virtualenv"


def _marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (everything a run started inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_program_and_every_pack_and_leaves_no_file(tmp_path: Path, signum: int, code: int) -> None:
    started = tmp_path / "started"
    project = demo_copy(
        tmp_path,
        f"import pathlib, time\npathlib.Path({str(started)!r}).write_text('x')\nwhile True:\n    time.sleep(0.1)\n",
    )
    out = tmp_path / "report.json"
    marker = f"MAIAPLAN_TEST_RUN={uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), marker.split("=")[0]: marker.split("=")[1]}
    cli = subprocess.Popen(
        [sys.executable, "-m", "maiaplan.cli", "preview", "--project", str(project), "--stack", "dev",
         "--policy-pack", str(PACK), "--format", "json", "--out", str(out)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (started.exists() and len(_marked_processes(marker)) >= 3):
        time.sleep(0.1)
    assert started.exists(), "the program never started"
    time.sleep(0.5)  # let the pack come up
    cli.send_signal(signum)
    _, err = cli.communicate(timeout=30)
    assert cli.returncode == code
    assert b"interrupted" in err
    assert not out.exists()
    time.sleep(0.5)
    assert _marked_processes(marker) == []


def test_the_timeout_option_stops_a_hanging_program_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = small_project(tmp_path, "import time\nprint('waiting for godot')\nwhile True:\n    time.sleep(0.1)\n")
    out = tmp_path / "report.json"
    code = main(["preview", "--project", str(project), "--stack", "dev", "--timeout", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "did not finish within 2 s: its code was still running at __main__.py:4" in err
    assert "its last output: waiting for godot" in err
    assert not out.exists()


def test_a_program_can_still_log_and_read_its_config(tmp_path: Path) -> None:
    project = small_project(
        tmp_path,
        "import pulumi\nfrom pulumi_aws import get_region\n"
        "pulumi.log.info('hello')\npulumi.log.debug('not shown')\n"
        "pulumi.export('region', get_region().name)\npulumi.export('config', pulumi.Config('aws').get('region'))\n",
    )
    run = run_program(project, "dev", timeout_s=120)
    assert run.outputs == {"region": "eu-west-1", "config": "eu-west-1"}
    messages = [entry.message for entry in run.log]
    assert "hello" in messages and "not shown" not in messages


@pytest.mark.parametrize("format_", ["json", "junit", "text"])
def test_same_bytes_whatever_the_hash_seed_and_the_checkout_directory(tmp_path: Path, format_: str) -> None:
    reports = []
    for seed, checkout in (("1", tmp_path / "a"), ("4242", tmp_path / "b" / "deeper")):
        shutil.copytree(DEMO, checkout / "demo_project")
        shutil.copytree(PACK, checkout / "demo_pack")
        out = checkout / "report"
        subprocess.run(
            [sys.executable, "-m", "maiaplan.cli", "preview", "--project", "demo_project", "--stack", "oversized",
             "--policy-pack", "demo_pack", "--format", format_, "--out", str(out)],
            cwd=checkout, env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}, check=False,
        )  # fmt: skip
        reports.append(out.read_bytes())
    assert reports[0] == reports[1]
    assert str(tmp_path).encode() not in reports[0]


def test_a_program_that_prints_without_end_keeps_its_last_lines(tmp_path: Path) -> None:
    project = small_project(tmp_path, "for i in range(50_000):\n    print('line', i)\n")
    run = run_program(project, "dev", timeout_s=120)
    messages = [entry.message for entry in run.log]
    assert messages[:2] == ["line 0", "[47999 line(s) of stdout not kept]"]
    assert messages[-1] == "line 49999"


def test_the_timeout_bounds_a_pack_that_never_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = main(["preview", "--project", str(DEMO), "--stack", "dev", "--policy-pack", str(FIXTURES / "hanging_pack"),
                 "--timeout", "5"])  # fmt: skip
    assert code == 2
    assert "DEADLINE_EXCEEDED" in capsys.readouterr().err
    assert time.monotonic() - started < 40
