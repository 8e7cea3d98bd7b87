"""``--out`` and standard output: what maiaplan writes where, and what it refuses (README "Output files")."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers_spec import EXAMPLE

from maiaplan.cli import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, main
from maiaplan.output import write_atomic

ROOT = Path(__file__).resolve().parent.parent


def _spec(tmp_path: Path) -> Path:
    return Path(shutil.copy(EXAMPLE, tmp_path / "spec.yaml"))


def _maiaplan(*argv: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "maiaplan.cli", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )


def test_out_refuses_to_overwrite_the_spec_it_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec(tmp_path)
    before = spec.read_bytes()
    assert main(["plan", str(spec), "--out", str(spec)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"--out: is {spec}, a file this command reads" in err and "Traceback" not in err
    assert spec.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_out_refuses_the_input_through_a_link_or_another_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "link.yaml").symlink_to(spec)
    before = spec.read_bytes()
    assert main(["policy-config", str(tmp_path / "link.yaml"), "--out", str(spec)]) == EXIT_BAD_INPUT
    assert main(["policy-config", str(spec), "--out", str(tmp_path / "link.yaml")]) == EXIT_BAD_INPUT
    assert main(["validate", str(spec), "--out", f"{tmp_path}/./spec.yaml"]) == EXIT_BAD_INPUT
    assert spec.read_bytes() == before
    assert (tmp_path / "link.yaml").is_symlink()


def test_out_refuses_a_waivers_file_it_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("[]\n")
    assert main(["policy-config", str(EXAMPLE), "--waivers", str(waivers), "--out", str(waivers)]) == EXIT_BAD_INPUT
    assert waivers.read_text() == "[]\n"


def test_explicitly_protected_inputs_are_refused(tmp_path: Path) -> None:
    protected = tmp_path / "stack.yaml"
    protected.write_text("config: {}\n")
    with pytest.raises(Exception, match="a file this command reads"):
        write_atomic(protected, "x", protect=[protected])
    assert protected.read_text() == "config: {}\n"


def test_out_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old\n")
    link = tmp_path / "out.json"
    link.symlink_to(target.name)
    assert main(["policy-config", str(EXAMPLE), "--out", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert json.loads(target.read_text())["dedicated-hardware"]


def test_a_dangling_symlink_is_written_at_its_target(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("new.json")
    assert main(["policy-config", str(EXAMPLE), "--out", str(link)]) == 0
    assert link.is_symlink() and (tmp_path / "new.json").is_file()


def test_new_files_follow_the_umask_and_existing_ones_keep_their_mode(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        assert main(["policy-config", str(EXAMPLE), "--out", str(tmp_path / "new.json")]) == 0
        existing = tmp_path / "existing.json"
        existing.write_text("")
        existing.chmod(0o604)
        assert main(["policy-config", str(EXAMPLE), "--out", str(existing)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640
    assert stat.S_IMODE(existing.stat().st_mode) == 0o604


def test_a_missing_directory_is_named_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports" / "plan.json"
    assert main(["plan", str(EXAMPLE), "--out", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"the directory {tmp_path / 'reports'} does not exist" in err and "mkdir -p" in err
    assert not (tmp_path / "reports").exists()


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    code = main(["policy-config", str(EXAMPLE), "--out", str(fifo)])
    if code != 0:  # unblock the reader before failing
        fifo.write_text("")
    reader.join(timeout=30)
    assert code == 0
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert json.loads(received[0])["contract-limits"]


def test_dev_null_stays_a_device() -> None:
    assert main(["policy-config", str(EXAMPLE), "--out", os.devnull]) == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_dev_full_is_exit_2_and_stays_a_device() -> None:
    run = _maiaplan("policy-config", str(EXAMPLE), "--out", "/dev/full")
    assert run.returncode == EXIT_BAD_INPUT
    assert (
        run.stderr == "maiaplan: /dev/full: --out: cannot be written (No space left on device) Fix: write elsewhere\n"
    )
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("stream", ["/dev/stdout", "/dev/fd/1"])
def test_out_dev_stdout_prints_to_a_pipe_and_to_a_redirected_file(tmp_path: Path, stream: str) -> None:
    piped = _maiaplan("policy-config", str(EXAMPLE), "--out", stream)
    assert piped.returncode == 0 and json.loads(piped.stdout)["dedicated-hardware"]
    redirected = tmp_path / "out.json"
    with redirected.open("w") as handle:
        run = _maiaplan("policy-config", str(EXAMPLE), "--out", stream, stdout=handle)
    assert run.returncode == 0
    assert json.loads(redirected.read_text()) == json.loads(piped.stdout)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("command", [["plan"], ["validate"], ["policy-config"]])
def test_stdout_on_a_full_device_is_exit_2_with_a_paragraph(command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        run = _maiaplan(*command, str(EXAMPLE), stdout=full)
    assert run.returncode == EXIT_BAD_INPUT
    assert run.stderr == (
        "maiaplan: cannot write the output (No space left on device). "
        "Fix: free space, or write to another file with --out\n"
    )


def test_a_closed_pipe_stops_quietly() -> None:
    code = (
        "import sys\n"
        "from maiaplan.cli import main\n"
        "class Closed:\n"
        "    def write(self, text): raise BrokenPipeError(32, 'Broken pipe')\n"
        "    def flush(self): pass\n"
        "sys.stdout = Closed()\n"
        f"sys.exit(main(['policy-config', {str(EXAMPLE)!r}]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert (run.returncode, run.stderr) == (EXIT_BROKEN_PIPE, "")


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "plan.json"
    out.write_text("old\n")

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, "new\n")
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


@pytest.mark.slow
def test_preview_out_refuses_its_stack_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = Path(shutil.copytree(ROOT / "tests" / "fixtures" / "demo_project", tmp_path / "project"))
    stack, stack_file = "dev", project / "stacks" / "Pulumi.dev.yaml"
    before = stack_file.read_bytes()
    assert main(["preview", "--project", str(project), "--stack", stack, "--out", str(stack_file)]) == EXIT_BAD_INPUT
    assert "a file this command reads" in capsys.readouterr().err
    assert stack_file.read_bytes() == before
