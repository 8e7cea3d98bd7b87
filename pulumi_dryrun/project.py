"""Reading a Pulumi project and a stack's configuration the way the Pulumi CLI does.

The CLI, not the language SDK, reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml``: it applies the
project's typed ``config:`` defaults, checks declared types, refuses a stack that misses a required
value, and hands the program every value as a string (objects and arrays JSON-encoded) plus the
list of secret keys. This module does the same, so a program sees exactly what ``pulumi preview``
would give it.

``secure:`` values are encrypted with the stack's secrets provider, which is not available offline;
the program receives ``SECRET_PLACEHOLDER`` for them, still marked secret.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from pulumi_dryrun.errors import DryRunError, did_you_mean

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
# What the program receives for a `secure:` value that cannot be decrypted offline.
SECRET_PLACEHOLDER = "[secret]"
CONFIG_TYPES = ("string", "integer", "boolean", "array")
_DECLARATION_KEYS = frozenset({"type", "description", "items", "default", "value", "secret"})
# Stack names: letters, digits, '-', '_' and '.', optionally qualified as org/project/stack.
_STACK_NAME = re.compile(r"^(?:[A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
_MISSING = object()


@dataclass(frozen=True)
class ConfigDeclaration:
    """One entry of the project's ``config:`` block: a declared type and/or a default value."""

    key: str
    type: str | None = None
    default: Any = None
    has_default: bool = False
    secret: bool = False
    description: str = ""


@dataclass(frozen=True)
class Project:
    """A Pulumi project on disk.

    ``program`` is what the language host runs: a directory holding ``__main__.py`` or a file.
    """

    name: str
    directory: Path
    file: Path
    program: Path
    stack_config_dir: Path
    declarations: Mapping[str, ConfigDeclaration] = field(default_factory=dict)
    runtime_options: Mapping[str, Any] = field(default_factory=dict)

    def stack_config_file(self, stack: str) -> Path:
        """The ``Pulumi.<stack>.yaml`` of a stack (short name of a qualified org/project/stack)."""
        short = stack.rsplit("/", 1)[-1]
        for suffix in (".yaml", ".yml"):
            candidate = self.stack_config_dir / f"Pulumi.{short}{suffix}"
            if candidate.exists():
                return candidate
        return self.stack_config_dir / f"Pulumi.{short}.yaml"

    def known_stacks(self) -> list[str]:
        """Stack names that have a config file in the stack config directory."""
        names = set()
        for path in self.stack_config_dir.glob("Pulumi.*.y*ml"):
            stem = path.name[len("Pulumi.") :].rsplit(".", 1)[0]
            if stem and path.suffix in (".yaml", ".yml"):
                names.add(stem)
        return sorted(names)


@dataclass(frozen=True)
class StackConfig:
    """A stack's configuration as the CLI hands it to a program.

    ``values`` maps ``namespace:key`` to the string the program reads; ``secret_keys`` are the keys
    whose values are secret; ``secret_values`` are the plaintexts that must never be printed;
    ``structured`` holds the parsed value of each key whose value is an object or an array.
    """

    stack: str
    file: Path
    values: Mapping[str, str]
    secret_keys: frozenset[str] = frozenset()
    secret_values: tuple[str, ...] = ()
    structured: Mapping[str, Any] = field(default_factory=dict)

    def namespace(self, package: str) -> dict[str, str]:
        """The values under ``package:``, keyed without the namespace (a default provider's config)."""
        prefix = f"{package}:"
        return {key[len(prefix) :]: value for key, value in self.values.items() if key.startswith(prefix)}


def with_overrides(project: Project, config: StackConfig, overrides: Mapping[str, Any] | None) -> StackConfig:
    """``config`` with ``overrides`` set over the stack file's values (a bare key is the project's)."""
    if not overrides:
        return config
    values = dict(config.values)
    secret_values = set(config.secret_values)
    for raw_key, value in overrides.items():
        key = _qualify(raw_key, project.name)
        declared = project.declarations.get(key)
        if declared is not None and declared.type is not None:
            _check_type(Path("--config"), key, declared.type, value, secret=False)
        values[key] = config_string(value)
        if key in config.secret_keys and values[key] and values[key] != SECRET_PLACEHOLDER:
            secret_values.add(values[key])  # a secret given on the command line stays secret
    return replace(config, values=dict(sorted(values.items())), secret_values=tuple(sorted(secret_values)))


def find_project_file(directory: Path) -> Path:
    """The ``Pulumi.yaml`` of ``directory``; bad input if there is none."""
    for name in PROJECT_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise DryRunError(
        str(directory),
        "",
        "is not a Pulumi project: it has no Pulumi.yaml.",
        "pass --project with the directory that holds the program's Pulumi.yaml.",
    )


def load_project(directory: Path | str) -> Project:
    """Read ``Pulumi.yaml`` in ``directory``.

    Raises:
        DryRunError: no project file, unreadable YAML, a runtime other than Python, a missing
            program, or a malformed ``config:`` block.
    """
    directory = Path(directory).resolve()
    if not directory.is_dir():
        raise DryRunError(str(directory), "", "is not a directory.", "pass --project with the project's directory.")
    file = find_project_file(directory)
    document = _read_yaml_mapping(file)
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise DryRunError(str(file), "name", "the project has no name.", "add `name: <project>` to Pulumi.yaml.")
    runtime = document.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if runtime_name != "python":
        raise DryRunError(
            str(file),
            "runtime",
            f"the runtime is {runtime_name!r}; the offline preview runs Python programs only.",
            "use `pulumi preview` with the real CLI for programs in other languages.",
        )
    program = directory / str(document.get("main") or ".")
    if program.is_dir():
        if not (program / "__main__.py").is_file():
            raise DryRunError(
                str(file),
                "main",
                f"the program directory {program} has no __main__.py.",
                "add __main__.py or point `main:` at the program.",
            )
    elif not program.is_file():
        raise DryRunError(str(file), "main", f"the program {program} does not exist.", "fix `main:`.")
    config_dir = document.get("stackConfigDir")
    stack_config_dir = directory / str(config_dir) if config_dir else directory
    declarations = _declarations(file, name, document.get("config"))
    options = runtime.get("options") if isinstance(runtime, Mapping) else None
    if options is not None and not isinstance(options, Mapping):
        raise DryRunError(
            str(file), "runtime.options", "must be a mapping.", "write e.g. `options: {virtualenv: venv}`."
        )
    return Project(name, directory, file, program, stack_config_dir, declarations, dict(options or {}))


def program_interpreter(project: Project) -> str:
    """The Python interpreter the language host would run the program with.

    As ``pulumi-language-python`` reads ``runtime.options``: ``virtualenv`` (relative to the
    project) names the environment whose ``bin/python`` runs the program; toolchain ``uv`` without
    one uses ``.venv``; toolchain ``poetry`` asks ``poetry env info --executable``. Without any,
    ``PULUMI_PYTHON_CMD`` when set, else the interpreter running the engine.

    Raises:
        DryRunError: the virtualenv (or poetry) the project names is not there.
    """
    options = project.runtime_options
    toolchain = str(options.get("toolchain") or "pip")
    if toolchain not in ("pip", "uv", "poetry"):
        raise DryRunError(
            str(project.file),
            "runtime.options.toolchain",
            f"unknown toolchain {toolchain!r}.",
            "use pip, uv or poetry.",
        )
    virtualenv = options.get("virtualenv") or (".venv" if toolchain == "uv" else None)
    if virtualenv:
        root = Path(str(virtualenv)).expanduser()
        root = root if root.is_absolute() else project.directory / root
        python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if not python.exists():
            raise DryRunError(
                str(project.file),
                "runtime.options.virtualenv",
                f"the virtualenv {virtualenv!r} has no interpreter at {python}.",
                f"create it: `python3 -m venv {virtualenv} && {virtualenv}/bin/pip install -r requirements.txt`.",
            )
        return str(python)
    if toolchain == "poetry":
        poetry = shutil.which("poetry")
        found = (
            subprocess.run(
                [poetry, "env", "info", "--executable"],
                cwd=project.directory,
                capture_output=True,
                text=True,
                check=False,
            )
            if poetry
            else None
        )
        if found is None or found.returncode != 0 or not found.stdout.strip():
            raise DryRunError(
                str(project.file),
                "runtime.options.toolchain",
                "the project uses poetry, but `poetry env info --executable` names no environment.",
                "install poetry and run `poetry install` in the project.",
            )
        return found.stdout.strip()
    command = os.environ.get("PULUMI_PYTHON_CMD")
    if command:
        resolved = shutil.which(command)
        if resolved is None:
            raise DryRunError(
                "PULUMI_PYTHON_CMD", "", f"{command!r} is not an executable on PATH.", "unset it or fix it."
            )
        return resolved
    return sys.executable


def load_stack_config(project: Project, stack: str) -> StackConfig:
    """Read ``Pulumi.<stack>.yaml``, apply the project's defaults and check declared types.

    Raises:
        DryRunError: a malformed stack name, no config file for the stack (with the closest known
            stack), a value of the wrong declared type, or a declared value without default that
            the stack does not set.
    """
    if not _STACK_NAME.match(stack):
        raise DryRunError(
            stack,
            "",
            "is not a valid stack name (letters, digits, '-', '_' and '.', optionally org/project/stack).",
            "pass --stack with the name of one of the project's stacks.",
        )
    file = project.stack_config_file(stack)
    if not file.is_file():
        known = project.known_stacks()
        short = stack.rsplit("/", 1)[-1]
        listing = ", ".join(known) if known else "none"
        raise DryRunError(
            str(file),
            "",
            f"stack {short!r} has no config file{did_you_mean(short, known)} (stacks: {listing}).",
            f"pass --stack with one of the stacks in {project.stack_config_dir}, or create {file.name}.",
        )
    document = _read_yaml_mapping(file) if file.stat().st_size else {}
    raw = document.get("config") or {}
    if not isinstance(raw, Mapping):
        raise DryRunError(str(file), "config", "must be a mapping of keys to values.", "")
    values: dict[str, str] = {}
    structured: dict[str, Any] = {}
    secret_keys: set[str] = set()
    secret_values: list[str] = []
    for declaration in project.declarations.values():
        if declaration.has_default:
            values[declaration.key] = config_string(declaration.default)
            if isinstance(declaration.default, Mapping | list):
                structured[declaration.key] = declaration.default
        if declaration.secret:
            secret_keys.add(declaration.key)
    for raw_key, raw_value in raw.items():
        key = _qualify(str(raw_key), project.name)
        plain, secret = _stack_value(raw_value)
        if secret:
            secret_keys.add(key)
        declared = project.declarations.get(key)
        if declared is not None and declared.secret and not secret:
            raise DryRunError(
                str(file),
                f"config.{key}",
                f"Pulumi.yaml declares {key!r} secret, but this stack gives it in plaintext.",
                f"set it with `pulumi config set --secret {key} <value>`, which writes a `secure:` value.",
            )
        if declared is not None and declared.type is not None:
            _check_type(file, key, declared.type, plain, secret)
        values[key] = config_string(plain)
        if isinstance(plain, Mapping | list):
            structured[key] = plain
        else:
            structured.pop(key, None)
    for declaration in project.declarations.values():
        if declaration.key not in values:
            raise DryRunError(
                str(file),
                f"config.{declaration.key}",
                f"stack {stack!r} is missing configuration value {declaration.key!r}"
                + (f" ({declaration.description.rstrip('.')})" if declaration.description else "")
                + ".",
                f"add `{declaration.key}: <value>` under `config:` in {file.name}, or a default in Pulumi.yaml.",
            )
    for key in secret_keys:
        if key in values and values[key] != SECRET_PLACEHOLDER:
            secret_values.append(values[key])
    return StackConfig(
        stack=stack.rsplit("/", 1)[-1],
        file=file,
        values=dict(sorted(values.items())),
        secret_keys=frozenset(secret_keys),
        secret_values=tuple(sorted({value for value in secret_values if value})),
        structured=structured,
    )


class _ConfigLoader(yaml.SafeLoader):
    """YAML as the CLI reads its project and stack files: a date-like value stays the text it is."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    """A YAML timestamp (``2024-01-01``) as its text, which is what the CLI hands the program.

    One that is not a real date (``2024-13-01``) is refused with its line: it is almost always a typo.
    """
    text = str(loader.construct_scalar(node))
    try:
        yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as error:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} looks like a date but is not one ({error}); quote it if it is text", node.start_mark
        ) from None
    return text


_ConfigLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _read_yaml_mapping(file: Path) -> dict[str, Any]:
    try:
        document = yaml.load(file.read_text(encoding="utf-8"), Loader=_ConfigLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        parts = [getattr(error, "context", None), getattr(error, "problem", None)]
        problem = "; ".join(str(part) for part in parts if part) or str(error).splitlines()[0]
        raise DryRunError(
            str(file), where, f"is not valid YAML: {problem}.", "fix the YAML syntax (quote a value that is text)."
        ) from None
    except OSError as error:
        raise DryRunError(str(file), "", f"cannot be read: {error.strerror}.", "") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise DryRunError(str(file), "", "must be a YAML mapping.", "")
    return document


def _qualify(key: str, project: str) -> str:
    """``key`` with its namespace; a bare key belongs to the project."""
    return key if ":" in key else f"{project}:{key}"


def _declarations(file: Path, project: str, block: Any) -> dict[str, ConfigDeclaration]:
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise DryRunError(str(file), "config", "must be a mapping of config keys.", "")
    declarations: dict[str, ConfigDeclaration] = {}
    for raw_key, entry in block.items():
        key = _qualify(str(raw_key), project)
        if isinstance(entry, Mapping) and entry and set(entry) <= _DECLARATION_KEYS:
            declared_type = entry.get("type")
            if declared_type is not None and declared_type not in CONFIG_TYPES:
                raise DryRunError(
                    str(file),
                    f"config.{raw_key}.type",
                    f"unknown config type {declared_type!r}{did_you_mean(str(declared_type), CONFIG_TYPES)}.",
                    f"use one of {', '.join(CONFIG_TYPES)}.",
                )
            default = entry.get("default", entry.get("value", _MISSING))
            if default is not _MISSING and declared_type is not None:
                _check_type(file, key, declared_type, default, secret=False)
            declarations[key] = ConfigDeclaration(
                key=key,
                type=declared_type,
                default=None if default is _MISSING else default,
                has_default=default is not _MISSING,
                secret=bool(entry.get("secret", False)),
                description=str(entry.get("description") or ""),
            )
        else:
            declarations[key] = ConfigDeclaration(key=key, default=entry, has_default=True)
    return declarations


def _stack_value(raw: Any) -> tuple[Any, bool]:
    """The plain value of a stack config entry and whether any part of it was ``secure:``."""
    if isinstance(raw, Mapping):
        if set(raw) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        secret = False
        plain: dict[str, Any] = {}
        for key, value in raw.items():
            plain[str(key)], inner_secret = _stack_value(value)
            secret = secret or inner_secret
        return plain, secret
    if isinstance(raw, list):
        items = [_stack_value(item) for item in raw]
        return [value for value, _ in items], any(secret for _, secret in items)
    return raw, False


def config_string(value: Any) -> str:
    """A config value as the CLI passes it to a program: strings as-is, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=False)


def _check_type(file: Path, key: str, declared: str, value: Any, secret: bool) -> None:
    if secret:
        return
    ok: bool
    if declared == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()) is not None
        )
    elif declared == "boolean":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false"))
    elif declared == "array":
        ok = isinstance(value, list)
    else:
        ok = not isinstance(value, Mapping | list)
    if not ok:
        raise DryRunError(
            str(file),
            f"config.{key}",
            f"value {value!r} must be of type {declared!r}, as Pulumi.yaml declares.",
            f"give {key} a value of type {declared}.",
        )
