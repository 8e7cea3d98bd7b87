"""The Pulumi program's decisions, importable and tested: what a stack declares at one moment of the plan.

- :mod:`deployment.settings`: the stack's ``maiaplan:*`` config, read and checked.
- :mod:`deployment.moment`: where the stack stands (phase, step, what each workload holds), sizes
  in each cloud's units, the stack's summary.
- :mod:`deployment.network`: each cluster's address ranges.
- :mod:`deployment.adapters`: one adapter per provider (Azure, AWS, GCP): its cluster component,
  the pools a move adds, and the labels of a workload's metrics on its clusters (what gates read).
- :mod:`deployment.traffic`: the weighted routing of a move.

It may import :mod:`planner` and :mod:`components`; components do no planning, and ``__main__.py``
only reads the config and declares.
"""
