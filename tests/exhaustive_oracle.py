"""An exhaustive search of every schedule of a small problem: the tests' oracle for the CP-SAT model.

Independent of the model: per phase it enumerates every combination of (ready workload → stay or
one destination) and checks the whole phase at once with the planner's ledger and full-plan check,
so moves that keep a contract only together are found (the old product search checked each move
against the part of the phase built so far, and missed them). Exponential: for a handful of
workloads only.
"""

from __future__ import annotations

import itertools

from planner.scheduling.problem import Assignment, Candidate, Ledger, Placement, PlanLedgers, Problem


def score(assignment: Assignment) -> tuple[int, int, int]:
    """(moved, phases, Σ phase × chips) of a schedule."""
    return (
        len(assignment),
        max((phase for phase, _ in assignment.values()), default=0),
        sum(phase * candidate.chips for phase, candidate in assignment.values()),
    )


def _key(assignment: Assignment) -> tuple[int, int, int]:
    moved, phases, weighted = score(assignment)
    return (-moved, phases, weighted)


def best_schedule(problem: Problem) -> tuple[tuple[int, int, int], Assignment] | None:
    """The lexicographically best schedule (most moved, fewest phases, least Σ phase × chips), or
    None when no schedule keeps every rule."""
    best: Assignment = {}
    found = False

    def phase_ok(phase: int, state: dict[str, Placement], chosen: list[Candidate]) -> bool:
        ledger = Ledger(problem, state, phase)
        for candidate in chosen:
            ledger.apply(state[candidate.workload], candidate)
        for cluster, caps in problem.capacity.items():
            if ledger.during_load[cluster] > caps[phase - 1]:
                return False
        return all(
            ledger.contract_blocker(contract, during=during) is None
            for contracts in problem.contracts_of.values()
            for contract in contracts
            for during in (True, False)
        )

    seen: set[tuple[int, frozenset[tuple[str, int, str]]]] = set()

    def search(phase: int, state: dict[str, Placement], assignment: Assignment) -> None:
        nonlocal best, found
        key = (phase, frozenset((w, p, c.cluster) for w, (p, c) in assignment.items()))
        if key in seen:
            return
        seen.add(key)
        # A schedule is complete whenever every later phase keeps the rules with no further moves.
        if not PlanLedgers(problem, assignment).broken_rules() and (not found or _key(assignment) < _key(best)):
            best, found = dict(assignment), True
        if phase > problem.max_phases:
            return
        ready = [
            w
            for w in problem.movable
            if w not in assignment
            and problem.sensitivity_allowed(w, phase)
            and all(dep in assignment and assignment[dep][0] < phase for dep in problem.depends_on[w])
        ]
        for choice in itertools.product(*[[None, *problem.candidates[w]] for w in ready]):
            chosen = [c for c in choice if c is not None]
            if not phase_ok(phase, state, chosen):
                continue
            next_state = dict(state)
            next_assignment = dict(assignment)
            for candidate in chosen:
                next_state[candidate.workload] = (candidate.cluster, candidate.chips)
                next_assignment[candidate.workload] = (phase, candidate)
            search(phase + 1, next_state, next_assignment)

    search(1, dict(problem.initial), {})
    return (score(best), best) if found else None
