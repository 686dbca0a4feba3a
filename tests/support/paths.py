"""Where the tests find the repository and the sweep examples."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "support" / "sweep_examples"
