"""``maiaplan validate``: a summary of a good spec; bad input is one paragraph on stderr and exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_spec import EXAMPLE, example_data, workload_named, write_json, write_yaml

from maiaplan.cli import EXIT_BAD_INPUT, main

Writer = Callable[[Path], Path]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_paragraph(err: str) -> str:
    """stderr holds exactly one line starting with ``maiaplan: `` and no traceback; returns the line."""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("maiaplan: ")
    assert "Traceback" not in err
    return err.rstrip("\n")


def test_validate_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "validate", str(EXAMPLE))
    assert (code, err) == (0, "")
    assert out == (
        f"{EXAMPLE}: valid spec 'maia-pilot': 2 tenants, 6 clusters (1,664 chips), 3 contracts, 8 workloads; "
        "catalog overrides: maia-100\n"
    )


def test_validate_the_example_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "validate", str(EXAMPLE), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "spec": "maia-pilot",
        "file": str(EXAMPLE),
        "valid": True,
        "tenants": 2,
        "clusters": 6,
        "chips": 256 + 256 + 128 + 512 + 256 + 256,
        "contracts": 3,
        "workloads": 8,
        "catalog_overrides": ["maia-100"],
    }


def test_validate_a_json_spec_without_overrides(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = example_data()
    del data["catalog"]
    path = write_json(tmp_path, data)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 0
    assert out.endswith("catalog overrides: none\n")


def _edited(edit: Callable[[dict[str, Any]], Any], json_file: bool = False) -> Writer:
    def write(directory: Path) -> Path:
        data = example_data()
        edit(data)
        return write_json(directory, data) if json_file else write_yaml(directory, data)

    return write


def _text(name: str, text: str) -> Writer:
    def write(directory: Path) -> Path:
        path = directory / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


BAD_SPECS: list[tuple[str, Writer, str]] = [
    (
        "unknown-field",
        _edited(lambda d: d["workloads"][3]["serving"].update(tokens_per_sec=1)),
        "workloads[3].serving.tokens_per_sec: unknown field 'tokens_per_sec' — did you mean 'tokens_per_s'?",
    ),
    (
        "unknown-cluster",
        _edited(lambda d: workload_named(d, "chat-fast").update(current="aws-use1-trn")),
        "workloads[3].current: unknown cluster 'aws-use1-trn' — did you mean 'aws-use1-trn2'?",
    ),
    (
        "bad-value",
        _edited(lambda d: d["workloads"][3]["serving"].update(tokens_per_s=0)),
        "workloads[3].serving.tokens_per_s: input should be greater than 0 (got 0)",
    ),
    (
        "cycle",
        _edited(lambda d: workload_named(d, "router-small").update(depends_on=["chat-xl"])),
        "dependency cycle: router-small → safety-filter → chat-fast → chat-xl → router-small",
    ),
    (
        "json",
        _edited(lambda d: d["clusters"][0].update(capacity_by_phase=[512]), json_file=True),
        "clusters[0].capacity_by_phase[0]: 512 chips exceeds the cluster's size of 256 chips",
    ),
    ("yaml-syntax", _text("spec.yaml", "version: 1\n\tname: x\n"), "line 2, column 1: is not valid YAML"),
    (
        "duplicate-key",
        _text("spec.yaml", "version: 1\nversion: 1\n"),
        "line 2, column 1: is not valid YAML: duplicate key",
    ),
    ("not-a-mapping", _text("spec.yaml", "- 1\n- 2\n"), "the spec must be a mapping at the top level (got list)"),
    ("json-syntax", _text("spec.json", '{\n  "version": 1,\n}\n'), "line 3, column 1: is not valid JSON"),
    ("missing-file", lambda directory: directory / "absent.yaml", "cannot be read (No such file or directory)"),
    ("directory", lambda directory: directory, "cannot be read (Is a directory)"),
]


@pytest.mark.parametrize(("case", "write", "expected"), BAD_SPECS, ids=[case for case, _, _ in BAD_SPECS])
def test_bad_input_exits_2_with_one_paragraph(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, write: Writer, expected: str
) -> None:
    path = write(tmp_path)
    code, out, err = _run(capsys, "validate", str(path))
    assert code == EXIT_BAD_INPUT == 2
    assert out == ""
    line = _assert_one_paragraph(err)
    assert line.startswith(f"maiaplan: {path}: ")
    assert expected in line, case
    assert " Fix: " in line


def test_bad_input_in_json_format_still_goes_to_stderr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_yaml(tmp_path, {"version": 1})
    code, out, err = _run(capsys, "validate", str(path), "--format", "json")
    assert (code, out) == (2, "")
    assert "is missing the required fields 'name', 'tenants', 'clusters', 'migration'" in _assert_one_paragraph(err)


@pytest.mark.parametrize(
    "argv",
    [[], ["validate"], ["nosuchcommand"], ["validate", str(EXAMPLE), "--format", "yaml"]],
    ids=["no-command", "no-spec", "unknown-command", "unknown-format"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: maiaplan")
    assert "Traceback" not in err


def _console_script() -> str:
    """The installed ``maiaplan`` console script of this interpreter's environment."""
    for directory in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(directory) / "maiaplan"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("maiaplan")
    if found is None:
        pytest.fail("the maiaplan console script is not installed: run pip install -e '.[dev]'")
    return found


@pytest.mark.slow
def test_console_script_reports_bad_input_as_one_paragraph(tmp_path: Path) -> None:
    data = example_data()
    data["clusters"][3]["accelerator"] = "trn-2"
    path = write_yaml(tmp_path, data)
    result = subprocess.run(
        [_console_script(), "validate", str(path)], capture_output=True, timeout=60, check=False, cwd=tmp_path
    )
    err = result.stderr.decode("utf-8", errors="replace")
    assert result.returncode == 2, err
    assert result.stdout == b""
    line = _assert_one_paragraph(err)
    assert line.startswith(f"maiaplan: {path}: clusters[3].accelerator: unknown accelerator 'trn-2'")
    assert "did you mean 'trn2'?" in line


@pytest.mark.slow
def test_console_script_validates_the_example() -> None:
    result = subprocess.run(
        [_console_script(), "validate", str(EXAMPLE), "--format", "json"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert json.loads(result.stdout)["chips"] == 1664


# --- "valid" means it will plan ------------------------------------------------------------------


def test_a_workload_that_fits_on_no_cluster_is_invalid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = example_data()
    workload_named(data, "embed")["model"]["params_b"] = 90_000  # 180 TB of weights: no cluster holds them
    workload_named(data, "chat-xl")["model"]["params_b"] = 90_000
    path = write_yaml(tmp_path, data)
    code, out, err = _run(capsys, "validate", str(path))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    lines = err.splitlines()
    assert [line.split(": ")[2] for line in lines] == ["workloads[2].current", "workloads[4].current"]
    assert all("fits on no cluster, not even its current one" in line and " Fix: " in line for line in lines)
    assert main(["plan", str(path)]) == EXIT_BAD_INPUT  # what validate promises: plan fails as well


def test_a_current_fleet_over_its_capacity_is_invalid(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = example_data()
    data["clusters"][4]["capacity_by_phase"] = [8]  # aws-use1-h100 holds router-small and safety-filter
    path = write_yaml(tmp_path, data)
    code, out, err = _run(capsys, "validate", str(path))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert "clusters[4].capacity_by_phase[0]: the workloads on aws-use1-h100 already hold" in _assert_one_paragraph(err)


@pytest.mark.parametrize("name", ["Embed", "embed_v2", "émbed", "2024-13-01"])
def test_a_name_the_clouds_would_refuse_is_invalid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("  - name: embed\n", f"  - name: {name}\n")
    text = text.replace("[embed]", f"['{name}']").replace("[embed,", f"['{name}',")
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = _run(capsys, "validate", str(path))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    line = err.splitlines()[0]
    assert line.startswith(f"maiaplan: {path}: workloads[2].name: '{name}' ")
    assert "a name is lowercase ASCII letters, digits and '-'" in line and "Traceback" not in err


def test_validate_writes_to_out(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    assert main(["validate", str(EXAMPLE), "--format", "json", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["valid"] is True
