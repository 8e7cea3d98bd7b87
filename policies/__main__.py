"""maiaplan-guard: run by the Pulumi CLI (``pulumi preview --policy-pack policies``).

Building the pack starts the analyzer server and blocks; the policies themselves live in the
``maiaplan_guard`` package next to this file, which tests import instead of this module.
"""

from maiaplan_guard.pack import serve

serve()
