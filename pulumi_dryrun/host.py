"""The engine side of a running program, served on loopback: resource monitor, log service, bootstrap.

``ProgramHost`` serves, on ``127.0.0.1`` and a port of the system's choosing, what the Pulumi CLI
serves to a program: the ``pulumirpc.ResourceMonitor`` (answered by ``RecordingMonitor``) and the
``pulumirpc.Engine`` log service (``RecordingEngine``); and the ``pulumi_dryrun.Bootstrap`` service
through which the bootstrap in the program's process reports schemas and how the program ended
(``BootstrapReports``). Requests of the bootstrap service are JSON documents.

An exception in the engine's answer becomes the gRPC error the engine would return (a duplicate URN
is ``INVALID_ARGUMENT``), and is kept so that a program that swallows it still fails the preview.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from pulumi_dryrun.monitor import DuplicateURN, RecordingEngine, RecordingMonitor
from pulumi_dryrun.schema import ResourceSchema, parse_schema

BOOTSTRAP_SERVICE = "pulumi_dryrun.Bootstrap"
# The CLI's gRPC message limit (rpcutil.GrpcChannelOptions: 400 MiB).
_MAX_MESSAGE_BYTES = 400 * 1024 * 1024
_WORKERS = 8


@dataclass
class BootstrapReports:
    """What the bootstrap reported: schemas by type token, and how the program went.

    ``returned`` is set when the program's code returned, ``ended`` when the program finished or
    failed (``failure`` then holds the exception chain the bootstrap described); ``waiting`` holds
    the latest answer to a probe of a program that does not finish.
    """

    schemas: dict[str, ResourceSchema] = field(default_factory=dict)
    returned: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    probed: threading.Event = field(default_factory=threading.Event)
    failure: dict[str, Any] | None = None
    finished_threads: tuple[str, ...] | None = None
    waiting: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    def describe(self, document: dict[str, Any]) -> None:
        try:
            self.schemas.setdefault(str(document["type"]), parse_schema(document["schema"]))
        except (KeyError, ValueError) as error:
            self.problems.append(f"the bootstrap described a schema the engine cannot read: {error}")

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        def failed(document: dict[str, Any]) -> None:
            self.failure = document
            self.ended.set()

        def finished(document: dict[str, Any]) -> None:
            self.finished_threads = tuple(str(name) for name in document.get("threads", ()))
            self.ended.set()

        def incompatible(document: dict[str, Any]) -> None:
            missing = ", ".join(str(name) for name in document.get("missing", []))
            self.problems.append(
                f"the project's Pulumi SDK ({document.get('sdk')}) lacks {missing}, which the dry run reads "
                "resource schemas with; install a Pulumi SDK from 3.200 to 3.x in the project's environment"
            )
            self.ended.set()

        def waiting(document: dict[str, Any]) -> None:
            self.waiting = document
            self.probed.set()

        return {
            "Describe": self.describe,
            "Returned": lambda _document: self.returned.set(),
            "Failed": failed,
            "Finished": finished,
            "Waiting": waiting,
            "Incompatible": incompatible,
        }


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """``pulumirpc.ResourceMonitor`` over gRPC, answered by a ``RecordingMonitor``."""

    def __init__(self, monitor: RecordingMonitor, errors: list[str]) -> None:
        self._monitor = monitor
        self._errors = errors

    def _answer(self, method: Callable[[Any], Any], request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(request)
        except DuplicateURN as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except Exception as error:  # the engine's answer failed: the program sees an RPC error
            self._errors.append(f"{type(error).__name__}: {error}")
            context.abort(grpc.StatusCode.UNKNOWN, f"{type(error).__name__}: {error}")

    def GetDeploymentInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.GetDeploymentInfo, request, context)

    def SupportsFeature(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.SupportsFeature, request, context)

    def Invoke(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.Invoke, request, context)

    def Call(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.Call, request, context)

    def ReadResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.ReadResource, request, context)

    def ExistsResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.ExistsResource, request, context)

    def RegisterResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.RegisterResource, request, context)

    def RegisterResourceOutputs(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(self._monitor.RegisterResourceOutputs, request, context)

    # Transforms, hooks and packages are accepted, as a preview without them sees them: the
    # offline providers answer registrations themselves.
    def RegisterStackTransform(self, request: Any, context: grpc.ServicerContext) -> Any:
        return empty_pb2.Empty()

    def RegisterStackInvokeTransform(self, request: Any, context: grpc.ServicerContext) -> Any:
        return empty_pb2.Empty()

    def RegisterResourceHook(self, request: Any, context: grpc.ServicerContext) -> Any:
        return empty_pb2.Empty()

    def RegisterErrorHook(self, request: Any, context: grpc.ServicerContext) -> Any:
        return empty_pb2.Empty()

    def RegisterPackage(self, request: Any, context: grpc.ServicerContext) -> Any:
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}@{request.version}")

    def SignalAndWaitForShutdown(self, request: Any, context: grpc.ServicerContext) -> Any:
        return empty_pb2.Empty()


class _Engine(engine_pb2_grpc.EngineServicer):
    """``pulumirpc.Engine`` over gRPC: the program's log, and its root resource."""

    def __init__(self, engine: RecordingEngine) -> None:
        self._engine = engine

    def Log(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._engine.Log(request)

    def GetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._engine.GetRootResource(request)

    def SetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._engine.SetRootResource(request)


def _bootstrap_handler(reports: BootstrapReports) -> grpc.GenericRpcHandler:
    def method(handle: Callable[[dict[str, Any]], None]) -> grpc.RpcMethodHandler:
        def answer(request: bytes, context: grpc.ServicerContext) -> bytes:
            try:
                document = json.loads(request.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not a JSON document")
            handle(document if isinstance(document, dict) else {})
            return b"{}"

        return grpc.unary_unary_rpc_method_handler(answer)

    return grpc.method_handlers_generic_handler(
        BOOTSTRAP_SERVICE, {name: method(handle) for name, handle in reports.handlers().items()}
    )


class ProgramHost:
    """The gRPC server a program's process talks to; ``address`` once started (context manager)."""

    def __init__(self, monitor: RecordingMonitor, engine: RecordingEngine, reports: BootstrapReports) -> None:
        self.errors: list[str] = []
        self.reports = reports
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="pulumi-dryrun-monitor"),
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(monitor, self.errors), self._server)
        engine_pb2_grpc.add_EngineServicer_to_server(_Engine(engine), self._server)
        self._server.add_generic_rpc_handlers((_bootstrap_handler(reports),))
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.stop(grace=None)
