"""Secrets with characters that every format escapes (`"`, `&`, `|`, `<`) never reach a report or stderr.

Before, the filter ran on the finished text, after JSON, XML and Markdown escaping, so such a secret
leaked as ``\\"``, ``&amp;`` or ``\\|``; and a pack's exception repeating a secret leaked on stderr.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from maiaplan.cli import main
from maiaplan.formats import FORMATS

pytestmark = pytest.mark.slow

PACK = Path(__file__).resolve().parents[1] / "fixtures" / "secret_pack"
SECRET = 'tok"en&pipe|<x>'


def escaped_forms(secret: str) -> set[str]:
    """The secret as each format may escape it."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        secret.replace("|", "\\|"),
        html.escape(secret).replace("|", "\\|"),
        json.dumps(secret, ensure_ascii=True)[1:-1].replace("|", "\\|"),
    }


def project(tmp_path: Path, mode: str) -> Path:
    directory = tmp_path / f"secrets-{mode}"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: secrets\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (directory / "__main__.py").write_text(
        "import pulumi\nfrom pulumi_aws import s3\n"
        f"token = pulumi.Output.secret({SECRET!r})\n"
        f"s3.Bucket('logs', tags={{'token': token, 'mode': {mode!r}}})\n"
        "pulumi.export('token', token)\n"
        f"print('the program prints', {SECRET!r})\n"
    )
    return directory


@pytest.mark.parametrize("format_", FORMATS)
def test_a_secret_with_special_characters_is_in_no_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], format_: str
) -> None:
    code = main(["preview", "--project", str(project(tmp_path, "report")), "--stack", "dev",
                 "--policy-pack", str(PACK), "--format", format_])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert "token-echo" in captured.out and "[secret]" in captured.out
    for form in escaped_forms(SECRET):
        assert form not in captured.out, (format_, form)
        assert form not in captured.err


def test_a_pack_that_repeats_a_secret_in_an_exception_does_not_leak_it_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["preview", "--project", str(project(tmp_path, "raise")), "--stack", "dev",
                 "--policy-pack", str(PACK)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert "cannot check token [secret]" in captured.err
    for form in escaped_forms(SECRET):
        assert form not in captured.err and form not in captured.out
