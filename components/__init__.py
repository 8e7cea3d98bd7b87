"""Pulumi components that turn a maiaplan plan into Azure, AWS and GCP resources.

They know nothing of planning: every size comes in their typed args, computed by the program from
the plan's allocations and the catalog's chips per SKU unit. Type tokens: ``maiaplan:<module>:<Name>``.

- :mod:`components.azure`: ``MaiaCluster`` (network, hosts) and ``MaiaNodePool`` (a VM scale set).
- :mod:`components.aws`: ``AcceleratorCluster`` (VPC, placement) and ``AcceleratorPool`` (template, group).
- :mod:`components.gcp`: ``TpuCluster`` (network) and ``TpuPool`` (TPU VM slices).
- :mod:`components.traffic`: ``TrafficShift`` (weighted Traffic Manager routing of one move).
- :mod:`components.phase`: ``MigrationPhase`` (the pools and shifts one phase adds).
- :mod:`components.tags`, :mod:`components.images`: the tags and OS images they share.
"""
