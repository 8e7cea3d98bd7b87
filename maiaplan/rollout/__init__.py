"""Running the migration step by step: gates judged on Prometheus metrics, the stack moved, every decision on record.

- :mod:`maiaplan.rollout.prometheus`: the Prometheus HTTP API (instant and range queries).
- :mod:`maiaplan.rollout.judge`: a step's checks against the metrics, and the decision
  (advance, hold, rollback) with its evidence.
- :mod:`maiaplan.rollout.moments`: the (phase, step) before and after a moment, one step at a time.
- :mod:`maiaplan.rollout.stackfile`: the stack file read and rewritten round-trip (comments, order kept).
- :mod:`maiaplan.rollout.audit`: the JSON Lines record of every decision beside the stack file.

docs/gates.md documents the decisions and the exit codes.
"""
