"""The greedy list scheduler and the earliest phase each workload could move in on its own.

The greedy plan is the CP-SAT model's first hint and its fallback when the model is too big for
the time limit (:mod:`planner.scheduling.cpsat`); it is never the authority on optimality.
"""

from __future__ import annotations

import networkx as nx

from planner.scheduling.problem import Assignment, Candidate, Ledger, Problem


def chain_lengths(graph: nx.DiGraph) -> dict[str, int]:
    """For each vertex, the vertices on the longest path that starts at it (1 for a sink).

    Complexity: O(V + E).
    """
    length: dict[str, int] = {}
    for vertex in reversed(list(nx.topological_sort(graph))):
        length[vertex] = 1 + max((length[s] for s in graph.successors(vertex)), default=0)
    return length


def earliest_phases(problem: Problem) -> dict[str, int]:
    """The earliest phase each movable workload could move in on its own: its dependencies each a
    phase earlier, risk, and the first phase a destination's capacity (from then on) could hold it.
    Workloads that cannot be moved at all are absent.

    Complexity: O(V + E + V · destinations · phases).
    """
    earliest: dict[str, int] = {}
    for name in nx.topological_sort(problem.spec.dependency_graph):
        if name not in problem.candidates or any(dep not in earliest for dep in problem.depends_on[name]):
            continue
        first = 1 if problem.sensitivity_allowed(name, 1) else 2
        first = max([first, *(earliest[dep] + 1 for dep in problem.depends_on[name])])
        by_capacity = {problem.first_phase_fitting(c, chips) for c, chips in problem.candidates[name].placements()}
        fitting = [k for k in by_capacity if k is not None]
        if not fitting:
            continue
        phase = max(first, min(fitting))
        if phase <= problem.max_phases:
            earliest[name] = phase
    return earliest


def schedule_greedy(problem: Problem) -> Assignment:
    """List-schedule the movable workloads phase by phase.

    In each phase, the workloads whose dependencies have moved are tried in order: first those on a
    cluster that later shrinks below what it holds (forced moves), then the longest dependency chain
    they start, then lower sensitivity, then more chips; each goes to its first destination (target
    preference, then cost) that keeps capacity and contracts. A move is checked against the moves
    already accepted in its phase, so moves that keep a contract only together are not found, and a
    forced move may be missed: the CP-SAT model finds those.

    Complexity: O(K · (V log V + V · D · C)) for K phases, V workloads, D destinations each and
    C contracts per tenant.
    """
    chains = chain_lengths(problem.spec.dependency_graph)
    shrinking = problem.shrinking_clusters()
    biggest = {name: max(cands.chip_counts()) for name, cands in problem.candidates.items()}
    order = sorted(
        problem.movable,
        key=lambda w: (
            problem.initial[w][0] not in shrinking,
            -chains[w],
            problem.sensitivity_rank[w],
            -biggest[w],
            w,
        ),
    )
    state = dict(problem.initial)
    assignment: Assignment = {}
    for phase in range(1, problem.max_phases + 1):
        ledger = Ledger(problem, state, phase)
        accepted: list[Candidate] = []
        for name in order:
            if name in assignment or not problem.sensitivity_allowed(name, phase):
                continue
            if any(dep not in assignment or assignment[dep][0] >= phase for dep in problem.depends_on[name]):
                continue
            candidates = problem.candidates[name]
            for index, (cluster, chips) in enumerate(candidates.placements()):
                if ledger.full_during(cluster, chips):
                    continue  # what blocker() would say first, without making the candidate
                candidate = candidates[index]
                if ledger.blocker(state[name], candidate) is None:
                    ledger.apply(state[name], candidate)
                    assignment[name] = (phase, candidate)
                    accepted.append(candidate)
                    break
        for candidate in accepted:
            state[candidate.workload] = (candidate.cluster, candidate.chips)
    return assignment
