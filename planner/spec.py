"""The migration spec (version 1): pydantic models, cross-reference checks, and the loader.

The format is the one of ``examples/maia-pilot.yaml``. Field checks live in ``Field(...)``;
cross-field and cross-reference checks in ``model_validator``s, which raise :class:`SpecPathError`
so that :func:`load_spec` can name the exact field path of the problem.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

import networkx as nx
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from planner.catalog import (
    PROVIDERS,
    Accelerator,
    AcceleratorOverride,
    CatalogEntryError,
    Provider,
    resolve_catalog,
)
from planner.errors import InputError, did_you_mean, some_names
from planner.gates import GateRule
from planner.limits import workloads_over_limit
from planner.names import MAX_CLUSTER_WORKLOAD_LENGTH, check_name
from planner.performance import DEFAULT_OUTPUT_TOKENS
from planner.yaml_input import load_yaml

Isolation = Literal["hardware", "shared"]
Sensitivity = Literal["low", "medium", "high"]
Dtype = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
TopologyKind = Literal["mesh", "torus2d", "torus3d", "fat-tree"]

SENSITIVITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}
DTYPE_BYTES: dict[str, float] = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}


class SpecPathError(ValueError):
    """A cross-field problem at ``path`` (relative to the model that raises it)."""

    def __init__(self, path: str, message: str, fix: str = "") -> None:
        self.path = path
        self.fix = fix
        super().__init__(message)


class SpecProblems(ValueError):
    """Several independent cross-field problems, each a :class:`SpecPathError`, reported together."""

    def __init__(self, problems: Sequence[SpecPathError]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def _spec_name(name: str) -> str:
    try:
        return check_name(name)
    except ValueError as error:
        raise SpecPathError("", str(error), "rename it, and every reference to it, to follow the rule") from None


SpecName = Annotated[str, AfterValidator(_spec_name)]
"""A tenant, cluster, contract or workload name: the rule of planner/names.py, checked at load."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Tenant(_Model):
    name: SpecName
    isolation: Isolation


class Topology(_Model):
    """A cluster's network: ``racks`` racks of ``nodes_per_rack`` nodes (chips per node from the catalog)."""

    kind: TopologyKind
    nodes_per_rack: int = Field(ge=1)
    racks: int = Field(ge=1)

    @property
    def nodes(self) -> int:
        return self.nodes_per_rack * self.racks


class Cluster(_Model):
    name: SpecName
    provider: Provider
    region: str = Field(min_length=1)
    zone: str | None = Field(
        default=None, min_length=1, description="Availability zone, where the provider needs one (TPU VMs)."
    )
    accelerator: str = Field(min_length=1)
    tenant: str = Field(min_length=1)
    topology: Topology
    capacity_by_phase: tuple[int, ...] | None = Field(
        default=None, description="Chips usable when each phase starts; the full size after the list ends."
    )

    @field_validator("capacity_by_phase")
    @classmethod
    def _non_negative(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        for index, chips in enumerate(value or ()):
            if chips < 0:
                raise SpecPathError(f"[{index}]", f"must be 0 or more chips (got {chips})", "use 0 for no capacity")
        return value


class Contract(_Model):
    name: SpecName
    tenant: str = Field(min_length=1)
    provider: Provider
    min_share: float | None = Field(default=None, ge=0, le=1)
    min_chips: int | None = Field(default=None, ge=0)
    max_chips: int | None = Field(default=None, ge=0)
    regions: tuple[str, ...] | None = Field(default=None, min_length=1)
    exclusive_workloads: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _chip_bounds_ordered(self) -> Contract:
        if self.min_chips is not None and self.max_chips is not None and self.min_chips > self.max_chips:
            raise SpecPathError(
                "min_chips",
                f"min_chips {self.min_chips} exceeds max_chips {self.max_chips}",
                "lower min_chips or raise max_chips",
            )
        return self


class Model(_Model):
    """A transformer's shape: what sizes its weights and its KV cache."""

    params_b: float = Field(gt=0, le=100_000, description="Parameters, in billions.")
    dtype: Dtype
    layers: int = Field(ge=1, le=10_000)
    kv_heads: int = Field(ge=1, le=10_000)
    head_dim: int = Field(ge=1, le=100_000)
    kv_dtype: Dtype | None = Field(default=None, description="KV cache dtype; default the model's dtype.")
    attention_heads: int | None = Field(
        default=None, ge=1, le=100_000, description="Query heads; default hidden size estimate ÷ head_dim."
    )
    active_params_b: float | None = Field(
        default=None, gt=0, le=100_000, description="Parameters a token uses (mixture of experts); default all."
    )

    @model_validator(mode="after")
    def _active_within_total(self) -> Model:
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise SpecPathError(
                "active_params_b",
                f"active_params_b {self.active_params_b:g} exceeds params_b {self.params_b:g}",
                "give the parameters one token uses, at most params_b",
            )
        return self

    @property
    def dtype_bytes(self) -> float:
        return DTYPE_BYTES[self.dtype]

    @property
    def active_b(self) -> float:
        """Billions of parameters one token's forward pass uses (all of them for a dense model)."""
        return self.active_params_b if self.active_params_b is not None else self.params_b

    @property
    def kv_dtype_bytes(self) -> float:
        return DTYPE_BYTES[self.kv_dtype or self.dtype]


class Serving(_Model):
    tokens_per_s: float = Field(gt=0, le=1e12, description="Peak output tokens per second, all sequences together.")
    p99_ms_per_token: float = Field(gt=0, le=1e7, description="Bound on one decode step.")
    context_tokens: int = Field(
        ge=1,
        le=100_000_000,
        description="Average live context of a sequence (sizes the KV cache); default input + output / 2.",
    )
    input_tokens: int | None = Field(
        default=None, ge=1, le=100_000_000, description="Mean prompt tokens per request; unset: prefill not modelled."
    )
    output_tokens: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="Mean output tokens per request (default 256 with input_tokens).",
    )
    p99_ms_to_first_token: float | None = Field(
        default=None, gt=0, le=1e7, description="Bound on the time to the first token (prefill and queue)."
    )
    max_sequences_per_replica: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Engine limit (vLLM max_num_seqs); default planner.performance."
    )
    max_tokens_per_step: int | None = Field(
        default=None, ge=1, le=100_000_000, description="Engine limit (vLLM max_num_batched_tokens)."
    )

    @model_validator(mode="before")
    @classmethod
    def _context_from_request_lengths(cls, data: Any) -> Any:
        # Without context_tokens, a request's mean live context is its prompt plus half its output.
        if isinstance(data, dict) and "context_tokens" not in data and isinstance(data.get("input_tokens"), int):
            output = data.get("output_tokens")
            output = output if isinstance(output, int) else DEFAULT_OUTPUT_TOKENS
            return {**data, "context_tokens": data["input_tokens"] + output // 2}
        return data


class ShardingPin(_Model):
    """A sharding a team runs today, pinned on the workload's current cluster; unset parts are chosen."""

    tensor_parallel: int | None = Field(default=None, ge=1, le=4096)
    pipeline_parallel: int | None = Field(default=None, ge=1, le=4096)
    batch_per_replica: int | None = Field(default=None, ge=1, le=1_000_000)


class Workload(_Model):
    name: SpecName
    tenant: str = Field(min_length=1)
    model: Model
    serving: Serving
    sensitivity: Sensitivity
    current: str = Field(min_length=1)
    target: tuple[str, ...] = Field(
        default=(), description="Providers and/or cluster names it may move to; empty: it stays."
    )
    depends_on: tuple[str, ...] = ()
    sharding: ShardingPin | None = Field(default=None, description="Pins TP/PP/batch on the current cluster.")

    @field_validator("target", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        # `target: azure` and `target: [azure, gcp]` are both valid spellings.
        return (value,) if isinstance(value, str) else value


class Migration(_Model):
    max_phases: int = Field(ge=1)
    traffic_steps: tuple[int, ...] = Field(min_length=1)
    first_phase_max_sensitivity: Sensitivity = "high"
    gate_max_error_rate: float = Field(
        default=0.001, ge=0, le=1, description="Error rate a traffic step must stay under before the next step."
    )
    gates: tuple[GateRule, ...] = Field(
        default=(), description="Checks that override a default gate check by name, or add one (planner/gates.py)."
    )

    @field_validator("gates")
    @classmethod
    def _gate_names_unique(cls, gates: tuple[GateRule, ...]) -> tuple[GateRule, ...]:
        duplicate = next(_duplicates([gate.name for gate in gates]), None)
        if duplicate is not None:
            again = duplicate[1]
            raise SpecPathError(f"[{again}].name", f"duplicate gate '{gates[again].name}'", "name each gate once")
        return gates

    @field_validator("traffic_steps")
    @classmethod
    def _steps_rise_to_100(cls, steps: tuple[int, ...]) -> tuple[int, ...]:
        for index, percent in enumerate(steps):
            if not 1 <= percent <= 100:
                raise SpecPathError(
                    f"[{index}]",
                    f"must be a percent from 1 to 100 (got {percent})",
                    "e.g. traffic_steps: [1, 10, 50, 100]",
                )
            if index and percent <= steps[index - 1]:
                raise SpecPathError(
                    f"[{index}]",
                    f"must rise step by step (got {steps[index - 1]} then {percent})",
                    "list the percents in increasing order, e.g. [1, 10, 50, 100]",
                )
        if steps[-1] != 100:
            raise SpecPathError(
                f"[{len(steps) - 1}]",
                f"the last step must be 100 (got {steps[-1]})",
                "end with 100: a move completes with all its traffic on the new home",
            )
        return steps


def _duplicates(names: Sequence[str]) -> Iterator[tuple[int, int]]:
    """(first index, repeated index) of every name seen before."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            yield seen[name], index
        else:
            seen[name] = index


class MigrationSpec(_Model):
    """A whole migration spec, with every reference checked."""

    version: Literal[1]
    name: str = Field(min_length=1)
    tenants: tuple[Tenant, ...] = Field(min_length=1)
    catalog: Mapping[str, AcceleratorOverride] = Field(default_factory=dict)
    clusters: tuple[Cluster, ...] = Field(min_length=1)
    contracts: tuple[Contract, ...] = ()
    workloads: tuple[Workload, ...] = ()
    migration: Migration
    _source_file: str = PrivateAttr(default="<spec>")

    @property
    def source_file(self) -> str:
        """The file this spec was loaded from, for error messages."""
        return self._source_file

    # --- lookups -------------------------------------------------------------------------------
    @cached_property
    def accelerators(self) -> dict[str, Accelerator]:
        """The catalog this spec plans with: built-in figures, then the spec's overrides."""
        return resolve_catalog(self.catalog)

    @cached_property
    def tenant_by_name(self) -> dict[str, Tenant]:
        return {tenant.name: tenant for tenant in self.tenants}

    @cached_property
    def cluster_by_name(self) -> dict[str, Cluster]:
        return {cluster.name: cluster for cluster in self.clusters}

    @cached_property
    def workload_by_name(self) -> dict[str, Workload]:
        return {workload.name: workload for workload in self.workloads}

    def accelerator_of(self, cluster: Cluster) -> Accelerator:
        return self.accelerators[cluster.accelerator]

    def cluster_chips(self, cluster: Cluster) -> int:
        """A cluster's full size in chips: nodes × the accelerator's chips per node."""
        return cluster.topology.nodes * self.accelerator_of(cluster).chips_per_node

    def capacity_in_phase(self, cluster: Cluster, phase: int) -> int:
        """Chips a cluster may hold in ``phase`` (1-based): its ramp entry, or its full size after it."""
        ramp = cluster.capacity_by_phase
        if ramp is not None and 1 <= phase <= len(ramp):
            return ramp[phase - 1]
        return self.cluster_chips(cluster)

    # --- cross-reference checks ------------------------------------------------------------------
    @model_validator(mode="after")
    def _references_resolve(self) -> MigrationSpec:
        problems: list[SpecPathError] = []
        for section, items in (
            ("tenants", self.tenants),
            ("clusters", self.clusters),
            ("contracts", self.contracts),
            ("workloads", self.workloads),
        ):
            for first, again in _duplicates([item.name for item in items]):
                problems.append(
                    SpecPathError(
                        f"{section}[{again}].name",
                        f"duplicate name '{items[again].name}' (also {section}[{first}].name)",
                        "give every entry of a section its own name",
                    )
                )
        if not problems:  # names are unique: references can be resolved
            problems.extend(self._reference_problems())
        if not problems:
            cycle = self._dependency_cycle()
            if cycle is not None:
                problems.append(cycle)
        if problems:
            raise SpecProblems(problems)
        return self

    def _unknown(self, path: str, kind: str, name: str, known: Sequence[str]) -> SpecPathError:
        return SpecPathError(
            path,
            f"unknown {kind} '{name}'{did_you_mean(name, known)}",
            f"use one of the {kind}s the spec defines: {some_names(sorted(known))}",
        )

    def _reference_problems(self) -> Iterator[SpecPathError]:
        tenants = self.tenant_by_name
        clusters = self.cluster_by_name
        workloads = self.workload_by_name
        try:
            accelerators = self.accelerators
        except CatalogEntryError as error:
            yield SpecPathError(
                f"catalog.{error.accelerator}.{error.field}", str(error), "complete or correct the entry"
            )
            return
        longest_cluster: dict[tuple[str, str], str] = {}  # (tenant, provider) -> its longest cluster name
        for cluster in self.clusters:
            key = (cluster.tenant, cluster.provider)
            if len(cluster.name) > len(longest_cluster.get(key, "")):
                longest_cluster[key] = cluster.name
        for i, cluster in enumerate(self.clusters):
            at = f"clusters[{i}]"
            if cluster.tenant not in tenants:
                yield self._unknown(f"{at}.tenant", "tenant", cluster.tenant, list(tenants))
            if cluster.accelerator not in accelerators:
                yield SpecPathError(
                    f"{at}.accelerator",
                    f"unknown accelerator '{cluster.accelerator}'{did_you_mean(cluster.accelerator, accelerators)}",
                    f"use a catalog accelerator ({', '.join(accelerators)}) or add one under catalog:",
                )
                continue
            accelerator = accelerators[cluster.accelerator]
            if accelerator.provider != cluster.provider:
                yield SpecPathError(
                    f"{at}.provider",
                    f"'{cluster.accelerator}' is sold by {accelerator.provider}, not {cluster.provider}",
                    f"set provider: {accelerator.provider}, or pick an accelerator sold by {cluster.provider}",
                )
            size = self.cluster_chips(cluster)
            over = [k for k, chips in enumerate(cluster.capacity_by_phase or ()) if chips > size]
            if over:
                k = over[0]
                later = (
                    f" (and {len(over) - 1} later entr{'ies' if len(over) > 2 else 'y'} too)" if len(over) > 1 else ""
                )
                yield SpecPathError(
                    f"{at}.capacity_by_phase[{k}]",
                    f"{(cluster.capacity_by_phase or ())[k]} chips exceeds the cluster's size of {size} chips "
                    f"({cluster.topology.racks} racks × {cluster.topology.nodes_per_rack} nodes × "
                    f"{accelerator.chips_per_node} chips){later}",
                    f"lower it to at most {size}, or enlarge the topology",
                )
        for i, contract in enumerate(self.contracts):
            at = f"contracts[{i}]"
            if contract.tenant not in tenants:
                yield self._unknown(f"{at}.tenant", "tenant", contract.tenant, list(tenants))
            for j, name in enumerate(contract.exclusive_workloads):
                if name not in workloads:
                    yield self._unknown(f"{at}.exclusive_workloads[{j}]", "workload", name, list(workloads))
                elif workloads[name].tenant != contract.tenant and contract.tenant in tenants:
                    yield SpecPathError(
                        f"{at}.exclusive_workloads[{j}]",
                        f"workload '{name}' belongs to tenant '{workloads[name].tenant}', "
                        f"not to the contract's tenant '{contract.tenant}'",
                        "list only the contract tenant's workloads",
                    )
        for i, workload in enumerate(self.workloads):
            at = f"workloads[{i}]"
            if workload.tenant not in tenants:
                yield self._unknown(f"{at}.tenant", "tenant", workload.tenant, list(tenants))
            current = clusters.get(workload.current)
            if current is None:
                yield self._unknown(f"{at}.current", "cluster", workload.current, list(clusters))
            elif current.tenant != workload.tenant and workload.tenant in tenants:
                yield SpecPathError(
                    f"{at}.current",
                    f"cluster '{current.name}' belongs to tenant '{current.tenant}', "
                    f"not to the workload's tenant '{workload.tenant}'",
                    "a workload runs only on a cluster of its own tenant",
                )
            for j, target in enumerate(workload.target):
                if target in PROVIDERS:
                    continue
                if target not in clusters:
                    yield SpecPathError(
                        f"{at}.target[{j}]",
                        f"'{target}' is neither a provider nor a cluster"
                        f"{did_you_mean(target, [*PROVIDERS, *clusters])}",
                        f"name a provider ({', '.join(PROVIDERS)}) or a cluster of the spec",
                    )
                elif clusters[target].tenant != workload.tenant and workload.tenant in tenants:
                    yield SpecPathError(
                        f"{at}.target[{j}]",
                        f"cluster '{target}' belongs to tenant '{clusters[target].tenant}', "
                        f"not to the workload's tenant '{workload.tenant}'",
                        "target only clusters of the workload's own tenant",
                    )
            for j, dependency in enumerate(workload.depends_on):
                if dependency == workload.name:
                    yield SpecPathError(
                        f"{at}.depends_on[{j}]", "a workload cannot depend on itself", "remove the entry"
                    )
                elif dependency not in workloads:
                    yield self._unknown(f"{at}.depends_on[{j}]", "workload", dependency, list(workloads))
            home = self._longest_home(workload, longest_cluster)
            if home is not None and len(home) + len(workload.name) > MAX_CLUSTER_WORKLOAD_LENGTH:
                yield SpecPathError(
                    f"{at}.name",
                    f"'{workload.name}' and cluster '{home}', where it may run, have {len(workload.name) + len(home)} "
                    f"characters together, more than {MAX_CLUSTER_WORKLOAD_LENGTH}: the cloud names derived from "
                    f"them ('{home}-{workload.name}-<slice>-<suffix>') would exceed the 63 characters GCP allows",
                    "shorten the workload's or the cluster's name",
                )

    def _longest_home(self, workload: Workload, longest_cluster: Mapping[tuple[str, str], str]) -> str | None:
        """The longest name of the clusters ``workload`` may run on (current, targets), if any."""
        homes = [workload.current] if workload.current in self.cluster_by_name else []
        for target in workload.target:
            if target in PROVIDERS:
                homes.append(longest_cluster.get((workload.tenant, target), ""))
            elif target in self.cluster_by_name:
                homes.append(target)
        return max(homes, key=len, default=None)

    @cached_property
    def dependency_graph(self) -> nx.DiGraph:
        """Workloads with an edge dependency -> dependent (read-only: it is shared)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self.workload_by_name)
        graph.add_edges_from((dep, w.name) for w in self.workloads for dep in w.depends_on)
        return graph

    def _dependency_cycle(self) -> SpecPathError | None:
        try:
            cycle = nx.find_cycle(self.dependency_graph)
        except nx.NetworkXNoCycle:
            return None
        names = [edge[0] for edge in cycle]
        index = next(i for i, w in enumerate(self.workloads) if w.name == cycle[-1][1])
        return SpecPathError(
            f"workloads[{index}].depends_on",
            "dependency cycle: " + " → ".join([*names, names[0]]) + " (each must move before the next)",
            "break the cycle by removing one depends_on entry",
        )


# --- loading -------------------------------------------------------------------------------------


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object hook that rejects duplicate keys instead of keeping the last one."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateJsonKey(key)
        seen[key] = value
    return seen


class _DuplicateJsonKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def format_loc(loc: Sequence[int | str]) -> str:
    """``('workloads', 3, 'serving', 'tokens_per_s')`` -> ``workloads[3].serving.tokens_per_s``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


Problem = tuple[str, str, str]
"""(field path, what is wrong, the fix) of one problem."""


def _describe(error: ErrorDetails) -> list[Problem]:
    """The problems of one pydantic error: one, or each of a :class:`SpecProblems`."""
    loc = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, (SpecPathError, SpecProblems)):
        base = format_loc(loc)
        problems = cause.problems if isinstance(cause, SpecProblems) else (cause,)
        return [(_join_path(base, problem.path), str(problem), problem.fix) for problem in problems]
    path = format_loc(loc)
    kind = error["type"]
    if kind == "missing":
        return [(path, "is required but missing", f"add '{loc[-1]}'")]
    if kind == "extra_forbidden":
        field = str(loc[-1])
        return [
            (
                path,
                f"unknown field '{field}'{_extra_field_hint(error)}",
                "remove it, or correct its spelling (see examples/maia-pilot.yaml)",
            )
        ]
    got = error.get("input")
    if isinstance(got, float):
        shown = f"{got:g}"  # inf, nan, 1e+300: as YAML users write them
    elif isinstance(got, (str, int)) or got is None:
        shown = json.dumps(got)
    else:
        shown = type(got).__name__
    problem = f"{error['msg'][0].lower()}{error['msg'][1:]} (got {shown})"
    fix = f"set {path} to a value that satisfies this"
    if kind == "literal_error" and isinstance(got, str):
        problem += did_you_mean(got, re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", "")))
    if kind == "string_type" and isinstance(got, (bool, int, float)):
        fix = "quote it: YAML reads unquoted yes/no/on/off as booleans and digits as numbers"
    return [(path, problem, fix)]


def _join_path(base: str, relative: str) -> str:
    if not relative:
        return base
    if not base:
        return relative
    return f"{base}{relative}" if relative.startswith("[") else f"{base}.{relative}"


def _extra_field_hint(spec_error: ErrorDetails) -> str:
    """For an unknown field, the closest allowed field name of the same model, if any."""
    loc = spec_error["loc"]
    model: type[BaseModel] | None = MigrationSpec
    next_is_key = False  # after a mapping field (catalog:), the next part is an entry's name
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if next_is_key:
            next_is_key = False
            continue
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        next_is_key = get_origin(annotation) in (Mapping, dict)
        model = _model_in(annotation)
    if model is None:
        return ""
    return did_you_mean(str(loc[-1]), model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _validation_problems(details: Sequence[ErrorDetails]) -> list[Problem]:
    """Every problem of a failed validation, in document order, read as a user would:

    - a misspelt required field is one problem, the unknown key with the field it was meant to be,
      not also that field reported missing;
    - several required fields missing from one entry are one problem naming them all.
    """
    missing: dict[tuple[Any, ...], list[str]] = {}  # parent loc -> its missing fields
    for detail in details:
        if detail["type"] == "missing" and detail["loc"] and isinstance(detail["loc"][-1], str):
            missing.setdefault(tuple(detail["loc"][:-1]), []).append(detail["loc"][-1])
    for detail in details:
        if detail["type"] == "extra_forbidden":
            fields = missing.get(tuple(detail["loc"][:-1]), [])
            meant = difflib.get_close_matches(str(detail["loc"][-1]), fields, n=1, cutoff=0.6)
            if meant:
                fields.remove(meant[0])
    problems: list[Problem] = []
    for detail in details:
        parent = tuple(detail["loc"][:-1])
        if detail["type"] != "missing" or parent not in missing:
            if detail["type"] != "missing" or not detail["loc"] or not isinstance(detail["loc"][-1], str):
                problems.extend(_describe(detail))
            continue
        fields = missing.pop(parent)
        if len(fields) == 1:
            problems.extend(_describe({**detail, "loc": (*parent, fields[0])}))
        elif fields:
            listed = ", ".join(f"'{field}'" for field in fields)
            problems.append((format_loc(parent), f"is missing the required fields {listed}", f"add {listed}"))
    return problems


def parse_spec(data: Any, file: str) -> MigrationSpec:
    """Validate already-parsed spec data.

    Parameters
    ----------
    data
        The parsed YAML or JSON document.
    file
        Its file name, for error messages.

    Raises
    ------
    InputError
        When the spec has more workloads than maiaplan plans (planner/limits.py: checked first, on
        the raw list, before any model is built); else with the file and every problem found (field
        path, what is wrong, the fix), independent problems together.

    Complexity: O(size of the spec) for the models; the checks across entries are O(entries).
    """
    if not isinstance(data, dict):
        raise InputError(
            file,
            "",
            f"the spec must be a mapping at the top level (got {type(data).__name__})",
            "start from examples/maia-pilot.yaml",
        )
    workloads = data.get("workloads")
    if isinstance(workloads, list):
        over = workloads_over_limit(len(workloads))
        if over is not None:
            raise InputError(file, "workloads", *over)
    try:
        spec = MigrationSpec.model_validate(data)
    except ValidationError as error:
        raise InputError.of_problems(file, _validation_problems(error.errors())) from None
    spec._source_file = file
    return spec


def load_spec(path: str | Path) -> MigrationSpec:
    """Read a spec from a YAML or JSON file (JSON when the name ends in ``.json``).

    Parameters
    ----------
    path
        The spec file.

    Returns
    -------
    MigrationSpec
        The validated spec.

    Raises
    ------
    InputError
        When the file cannot be read, does not parse, or does not validate.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(file, "", f"cannot be read ({error.strerror})", "check the path") from None
    except UnicodeDecodeError:
        raise InputError(file, "", "is not UTF-8 text", "save the spec as UTF-8 YAML or JSON") from None
    if file.endswith(".json"):
        try:
            data = json.loads(text, object_pairs_hook=_unique_json_object)
        except _DuplicateJsonKey as error:
            raise InputError(
                file,
                "",
                f"is not valid: duplicate key '{error.key}' in one JSON object",
                "keep one of the two entries",
            ) from None
        except json.JSONDecodeError as error:
            raise InputError(
                file,
                f"line {error.lineno}, column {error.colno}",
                f"is not valid JSON: {error.msg}",
                "correct the JSON syntax there",
            ) from None
        except RecursionError:
            raise InputError(file, "", "is nested too deeply to read", "flatten the document") from None
    else:
        data = load_yaml(text, file)
    return parse_spec(data, file)
