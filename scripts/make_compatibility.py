"""Write docs/compatibility.md from the compatibility matrix (tiny models of every architecture through
`punc eval`). Usage: .venv/bin/python scripts/make_compatibility.py"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compat"))

import matrix  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generators = matrix.run_generator_matrix(Path(tmp) / "generators")
        judges = matrix.run_judge_matrix(Path(tmp) / "judges")
    page = matrix.render_page(generators, judges)
    (ROOT / "docs" / "compatibility.md").write_text(page)
    print(page)


if __name__ == "__main__":
    main()
