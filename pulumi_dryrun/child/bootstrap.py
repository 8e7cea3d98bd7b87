"""The program's side of a dry run: configure the Pulumi SDK as the language host does, run the program.

The engine runs this file with the project's own interpreter, in a process (and process group) of
its own, as ``pulumi-language-python-exec`` is run by the Python language host::

    python -u bootstrap.py --monitor ADDR --engine ADDR --project P --stack S --organization O
        --root-directory DIR --parallel N --dry-run true --pwd DIR --lifeline FD PROGRAM

with the stack's config in ``PULUMI_CONFIG`` (JSON) and its secret keys in
``PULUMI_CONFIG_SECRET_KEYS``. The SDK then talks to the engine's resource monitor and log service
at those addresses, exactly as under ``pulumi preview``.

Besides the SDK's own calls, the bootstrap reports to the engine's ``pulumi_dryrun.Bootstrap``
service (JSON over the same gRPC server): each resource type's schema, read from the SDK class the
program used, before its first registration (``Describe``); that the program's code returned
(``Returned``); its failure (``Failed``) or its end (``Finished``); and, when the engine probes a
program that does not finish (SIGUSR1), what it is doing (``Waiting``). It needs nothing but the
standard library and the Pulumi SDK the program imports: it runs with the project's packages, not
the engine's. The private SDK internals it needs are checked at start (``compat``): an SDK that
lacks them is reported (``Incompatible``) rather than misread. When the engine's process dies, the ``--lifeline`` pipe closes and the program ends.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import inspect
import json
import logging
import os
import runpy
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
SERVICE = "/pulumi_dryrun.Bootstrap/"
# How many constructed-but-unregistered resources and pending tasks a probe reports.
_PROBE_LIMIT = 20


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run a Pulumi Python program for an offline preview.")
    for name in ("monitor", "engine", "project", "stack", "organization", "root-directory", "pwd"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--dry-run", default="true")
    parser.add_argument("--lifeline", type=int)
    parser.add_argument("program")
    return parser.parse_args()


class Reporter:
    """The bootstrap's calls to the engine's ``pulumi_dryrun.Bootstrap`` service (JSON payloads)."""

    def __init__(self, grpc: Any, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._grpc = grpc

    def send(self, method: str, payload: Any) -> None:
        call = self._channel.unary_unary(SERVICE + method)
        call(json.dumps(payload, default=str).encode("utf-8"), timeout=60)


class EngineWithoutDebug:
    """The engine's log service as the program's SDK sees it, less debug messages.

    The SDK logs several debug lines per resource, each a blocking call; the CLI shows none of them
    without ``-v``, and neither does the dry run, so they are dropped here rather than sent (for a
    2,000-resource program, about 10,000 calls). Every other call goes to the engine.
    """

    def __init__(self, stub: Any, debug_severity: int) -> None:
        self._stub = stub
        self._debug = debug_severity

    def Log(self, request: Any) -> Any:
        if request.severity == self._debug:
            return None
        return self._stub.Log(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)


def _load_child_package() -> ModuleType:
    """This directory's package (``compat``, ``describe``), under a private name the program cannot
    collide with, without putting the engine on the program's ``sys.path``."""
    spec = importlib.util.spec_from_file_location(
        "_pulumi_dryrun_child", HERE / "__init__.py", submodule_search_locations=[str(HERE)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    return package


def _watch_lifeline(fd: int) -> None:
    """End the process (and so the program) when the engine's end of the pipe closes."""

    def watch() -> None:
        try:
            while os.read(fd, 1):
                pass
        except OSError:
            pass
        os._exit(137)

    threading.Thread(target=watch, name="pulumi-dryrun-lifeline", daemon=True).start()


def _failure(error: BaseException) -> dict[str, Any]:
    """The exception and its causes, outermost first, with their frames and what the engine needs
    to name a config key or pass a file-and-field error through in its own words."""
    chain: list[dict[str, Any]] = []
    seen: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in seen:
        seen.append(link)
        entry: dict[str, Any] = {
            "type": type(link).__name__,
            "message": str(link),
            "frames": [
                [frame.filename, frame.lineno, frame.name, frame.line or ""]
                for frame in traceback.extract_tb(link.__traceback__)
            ],
        }
        name = type(link).__name__
        if name == "ConfigMissingError":
            entry["config_missing"] = {"key": str(link.key), "secret": bool(getattr(link, "secret", False))}  # type: ignore[attr-defined]
        elif name == "ConfigTypeError":
            entry["config_type"] = {
                "key": str(link.key),  # type: ignore[attr-defined]
                "value": str(link.value),  # type: ignore[attr-defined]
                "expect_type": str(getattr(link, "expect_type", "")),
            }
        fields = [getattr(link, attribute, None) for attribute in ("file", "path", "problem", "fix")]
        if all(isinstance(value, str) for value in fields):
            entry["input_error"] = dict(zip(("file", "path", "problem", "fix"), fields, strict=True))
        chain.append(entry)
        link = link.__cause__ or link.__context__
    return {"chain": chain}


def main() -> int:
    if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
        del sys.path[0]  # the bootstrap's directory is not the program's
    args = _arguments()
    if args.lifeline is not None:
        _watch_lifeline(args.lifeline)
    try:
        import grpc
        import pulumi
        import pulumi.runtime
    except ImportError:
        print(traceback.format_exc(), file=sys.stderr)
        print(
            f"The Pulumi SDK is not installed for {sys.executable}: install the project's requirements "
            "into the interpreter (or virtualenv) that Pulumi.yaml names.",
            file=sys.stderr,
        )
        return 1
    reporter = Reporter(grpc, args.monitor)
    _load_child_package()
    compat = importlib.import_module("_pulumi_dryrun_child.compat")
    describe = importlib.import_module("_pulumi_dryrun_child.describe")
    missing = compat.missing()
    if missing:
        reporter.send("Incompatible", {"sdk": compat.sdk_version(), "missing": missing})
        return 1

    # As pulumi-language-python-exec does it, for the SDK versions a project may pin.
    config = pulumi.runtime.get_config_env()
    if hasattr(pulumi.runtime, "get_config_secret_keys_env") and hasattr(pulumi.runtime, "set_all_config"):
        pulumi.runtime.set_all_config(config, pulumi.runtime.get_config_secret_keys_env())
    else:
        for key, value in config.items():
            pulumi.runtime.set_config(key, value)
    from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

    engine = EngineWithoutDebug(engine_pb2_grpc.EngineStub(grpc.insecure_channel(args.engine)), engine_pb2.DEBUG)
    settings = {
        "monitor": args.monitor,
        "engine": engine,
        "project": args.project,
        "stack": args.stack,
        "parallel": args.parallel,
        "dry_run": args.dry_run == "true",
        "organization": args.organization,
        "root_directory": args.root_directory,
    }
    accepted = inspect.signature(pulumi.runtime.Settings).parameters
    pulumi.runtime.configure(pulumi.runtime.Settings(**{k: v for k, v in settings.items() if k in accepted}))

    program = Path(args.program)
    program_dir = program if program.is_dir() else program.parent
    for directory in reversed(list(dict.fromkeys([str(program_dir), args.pwd]))):
        sys.path.insert(0, directory)
    sys.argv = [str(program)]
    os.chdir(args.pwd)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)

    described: set[str] = set()
    constructed: list[tuple[str, str]] = []

    def note(transform: Any) -> None:
        # Every resource's constructor runs the stack's transformations before it registers.
        constructed.append((transform.type_, transform.name))
        if transform.type_ in described or not isinstance(transform.resource, pulumi.CustomResource):
            return
        described.add(transform.type_)
        try:
            schema = describe.describe(type(transform.resource))
        except Exception:  # a class whose hints do not resolve: the engine goes without its schema
            return
        reporter.send("Describe", {"type": transform.type_, "schema": schema})

    def probe(_signum: int, frame: FrameType | None) -> None:
        stack = traceback.extract_stack(frame) if frame is not None else []
        tasks: list[list[Any]] = []
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
            for task in list(asyncio.all_tasks(loop))[:_PROBE_LIMIT]:
                frames = task.get_stack()
                where = [[f.f_code.co_filename, f.f_lineno, f.f_code.co_name] for f in frames]
                tasks.append([task.get_coro().__qualname__, where])  # type: ignore[union-attr]
        except Exception:
            pass
        threads = [
            thread.name
            for thread in threading.enumerate()
            if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
        ]
        reporter.send(
            "Waiting",
            {
                "frames": [[f.filename, f.lineno, f.name, f.line or ""] for f in stack],
                "tasks": tasks,
                "threads": threads,
                "constructed": constructed[-500:],
            },
        )

    signal.signal(signal.SIGUSR1, probe)
    if compat.untested():
        pulumi.log.warn(
            f"the project's Pulumi SDK {compat.sdk_version()} is outside the versions the offline preview "
            "is tested with (3.200 to 3.x); check its results with the real CLI."
        )

    async def run_program() -> None:
        pulumi.runtime.register_stack_transformation(note)
        runpy.run_path(str(program), run_name="__main__")
        reporter.send("Returned", {})
        # Let the registrations the program queued start before the SDK waits for them: the SDK
        # then drains its outstanding calls one by one, rather than polling every pending output.
        await asyncio.sleep(0)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK makes several asyncio tasks and futures per property of every resource; the cyclic
    # collector's full passes over that heap took 60 % of the CPU of a 2,000-resource program. The
    # process ends after the run, so the collector stays off (reference counting still frees).
    gc.disable()
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(run_program))
    except KeyboardInterrupt:
        return 130
    except BaseException as error:  # the program's failure (SystemExit included), reported as such
        reporter.send("Failed", _failure(error))
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    loop.run_until_complete(loop.shutdown_default_executor())  # the SDK's RPC threads end here
    threads = [
        thread.name
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
    ]
    reporter.send("Finished", {"threads": threads})
    if not threads:
        # Nothing left to wait for: end without tearing down the runtime's objects (seconds for a
        # large program), as the output is flushed and the engine has every answer.
        os._exit(0)
    return 0  # the interpreter waits for the non-daemon threads, as under the CLI


if __name__ == "__main__":
    sys.exit(main())
