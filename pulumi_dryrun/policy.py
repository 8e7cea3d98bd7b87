"""Running policy packs over a preview's resources, through the analyzer-protocol client.

Each ``--policy-pack`` runs as the CLI runs it (``pulumi_dryrun.analyzer.PolicyPackSession``): one
``Analyze`` per registered resource (resources read with ``.get`` are not analyzed, as the engine
does not analyze reads), then one ``AnalyzeStack`` over all of them. The report keeps, per pack, its
policies with the level each ran at, and every violation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_dryrun.analyzer import (
    AnalyzerInfo,
    EnforcementLevel,
    PolicyInfo,
    PolicyPackError,
    PolicyPackSession,
    Violation,
)
from pulumi_dryrun.analyzer.session import CALL_TIMEOUT_S, START_TIMEOUT_S
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import ResourceRecord

# --fail-on: "none" fails on nothing (every violation reported, exit 0); see ``fails``.
FAIL_ON = ("none", "advisory", "mandatory")


@dataclass(frozen=True)
class PolicyPackRequest:
    """One ``--policy-pack`` and its ``--policy-pack-config`` (a file, a parsed document, or none)."""

    directory: Path
    config: Path | Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PackResult:
    """A pack's metadata, the level each policy ran at, and its violations in report order."""

    directory: Path
    info: AnalyzerInfo
    levels: Mapping[str, EnforcementLevel]
    violations: tuple[Violation, ...]

    def level(self, policy: PolicyInfo) -> EnforcementLevel:
        return self.levels.get(policy.name, policy.enforcement_level)

    def violations_of(self, policy: PolicyInfo) -> list[Violation]:
        return [violation for violation in self.violations if violation.policy_name == policy.name]


@dataclass(frozen=True)
class PolicyReport:
    """The results of every pack of a preview."""

    packs: tuple[PackResult, ...] = ()

    @property
    def violations(self) -> list[Violation]:
        return [violation for pack in self.packs for violation in pack.violations]

    def failing(self, fail_on: str) -> list[Violation]:
        """The violations that fail the preview: mandatory ones, and advisory ones too when
        ``fail_on`` is ``advisory``. A waived violation never fails it."""
        return [violation for violation in self.violations if fails(violation, fail_on)]

    def counts(self) -> dict[str, int]:
        """Violations by level, waived ones apart."""
        counts = {"mandatory": 0, "advisory": 0, "waived": 0}
        for violation in self.violations:
            counts["waived" if violation.waived else violation.enforcement_level.value] += 1
        return counts


def fails(violation: Violation, fail_on: str) -> bool:
    """Whether ``violation`` fails a preview run with ``--fail-on fail_on``."""
    if violation.waived or fail_on == "none":
        return False
    if violation.blocking:
        return True
    return fail_on == "advisory" and violation.enforcement_level == EnforcementLevel.ADVISORY


# How to see why a pack fails: its program on its own, bounded (a pack that starts serves until the
# timeout; one that crashes prints its traceback and exits). `python -m pulumi.policy` with no engine
# would hang, reporting the crash to an engine that is not there.
PACK_CHECK_FIX = (
    "run the pack's program on its own in its directory to see why: `timeout 60 python -u __main__.py` "
    "(with the pack's virtualenv python if PulumiPolicy.yaml names one)."
)


class PolicyPacks:
    """The policy packs of one preview, started together in the background.

    Starting a pack is a process start and its imports; the program runs meanwhile, so the packs
    are ready when its resources are. Use as a context manager; ``analyze`` waits for the starts.
    """

    def __init__(
        self,
        packs: Sequence[PolicyPackRequest],
        *,
        project: str,
        stack: str,
        config: Mapping[str, str],
        organization: str = "organization",
        timeout_s: float = START_TIMEOUT_S + CALL_TIMEOUT_S,
    ) -> None:
        self._requests = list(packs)
        # Paths are resolved now: the program changes the working directory while the packs start.
        self._sessions = [
            PolicyPackSession(
                request.directory.resolve(),
                project=project,
                stack=stack,
                organization=organization,
                config=dict(config),
                policy_config=request.config.resolve() if isinstance(request.config, Path) else request.config,
                # A preview's timeout bounds each pack's start and each of its calls too.
                start_timeout_s=min(START_TIMEOUT_S, timeout_s),
                call_timeout_s=min(CALL_TIMEOUT_S, timeout_s),
            )
            for request in self._requests
        ]
        self._executor = ThreadPoolExecutor(max_workers=max(1, len(self._sessions)), thread_name_prefix="policy-pack")
        self._starts: list[Future[None]] = []

    def __enter__(self) -> PolicyPacks:
        try:
            self._starts = [self._executor.submit(session.start) for session in self._sessions]
        except BaseException:  # an interruption between two starts: stop the ones begun
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        for start in self._starts:
            start.cancel()
        # Stopping the packs first ends any start still waiting on one, so the shutdown is quick.
        for session in self._sessions:
            session.close()
        self._executor.shutdown(wait=True)

    def analyze(self, records: Sequence[ResourceRecord]) -> PolicyReport:
        """Each pack over ``records``: ``Analyze`` per resource (reads excepted), then ``AnalyzeStack``.

        Raises:
            DryRunError: a directory that is not a Python policy pack, an invalid policy config, or a
                pack that fails to start or to answer (its stderr's tail in the message).
        """
        analyzed = [record for record in records if not record.external]
        results: list[PackResult] = []
        for request, session, start in zip(self._requests, self._sessions, self._starts, strict=True):
            try:
                start.result()
                # Configured again now that the program has ended: nothing it could have sent the
                # pack while it ran (the pack listens on loopback) outlives this call.
                session.configure()
                violations = session.analyze(analyzed) + session.analyze_stack(list(records))
            except PolicyPackError as error:
                raise DryRunError(
                    str(request.directory),
                    "",
                    f"the policy pack failed: {error}",
                    PACK_CHECK_FIX,
                ) from error
            levels = {
                name: policy.enforcement_level
                for name, policy in session.policy_config.items()
                if policy.enforcement_level is not None
            }
            results.append(PackResult(session.pack_dir, session.info, levels, tuple(violations)))
        return PolicyReport(tuple(results))


def run_policy_packs(
    records: Sequence[ResourceRecord],
    packs: Sequence[PolicyPackRequest],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    organization: str = "organization",
) -> PolicyReport:
    """Run each pack over ``records`` (per-resource ``Analyze``, then ``AnalyzeStack``).

    Raises:
        DryRunError: as ``PolicyPacks.analyze``.
    """
    with PolicyPacks(packs, project=project, stack=stack, config=config, organization=organization) as running:
        return running.analyze(records)
