"""Size and complexity figures of the harness package, for before/after notes of a refactor.

Needs radon (`pip install radon`; not a project dependency). Prints the largest functions by length
and by cyclomatic complexity (radon's McCabe count) and the modules over 300 lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class

ROOT = Path(__file__).resolve().parent.parent / "harness"
TOP = 8


def blocks() -> list[tuple[str, int, int]]:
    """(qualified name, length in lines, complexity) of every function and method."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        module = path.relative_to(ROOT.parent).as_posix()
        for block in cc_visit(path.read_text(encoding="utf-8")):
            if isinstance(block, Class):
                continue
            name = f"{block.classname}.{block.name}" if block.classname else block.name
            found.append((f"{module}:{name}", block.endline - block.lineno + 1, block.complexity))
    return found


def main() -> int:
    found = blocks()
    print(f"functions: {len(found)}")
    print("longest:")
    for name, length, complexity in sorted(found, key=lambda b: -b[1])[:TOP]:
        print(f"  {length:4d} lines  cc {complexity:3d}  {name}")
    print("most complex:")
    for name, length, complexity in sorted(found, key=lambda b: -b[2])[:TOP]:
        print(f"  cc {complexity:3d}  {length:4d} lines  {name}")
    big = sorted(
        (
            (len(p.read_text(encoding="utf-8").splitlines()), p.relative_to(ROOT.parent).as_posix())
            for p in ROOT.rglob("*.py")
        ),
        reverse=True,
    )
    over = [(n, p) for n, p in big if n > 300]
    print(f"modules over 300 lines: {len(over)}")
    for n, p in over:
        print(f"  {n:4d}  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
