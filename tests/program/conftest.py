"""Program tests share the recording mocks runner of the component tests (tests/components/pulumi_mocks.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "components"))
