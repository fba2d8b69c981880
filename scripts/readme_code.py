"""Extract the python code blocks of a Markdown file, one module each, for the type checkers.

    python scripts/readme_code.py README.md target/readme_code

Writes ``block_<line>.py`` (the line of the block's opening fence) into the output directory,
after emptying it of earlier blocks, and prints how many it wrote. A block starts at a line
``` ```python ``` and ends at the next ``` ``` ``` line. ``make lint`` runs mypy and pyright on them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

OPEN = "```python"
CLOSE = "```"


def blocks(text: str) -> list[tuple[int, str]]:
    """(line of the opening fence, code) of every python block."""
    found: list[tuple[int, str]] = []
    start: int | None = None
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if start is None:
            if line.strip() == OPEN:
                start, lines = number, []
        elif line.strip() == CLOSE:
            found.append((start, "\n".join(lines) + "\n"))
            start = None
        else:
            lines.append(line)
    if start is not None:
        raise ValueError(f"the python block opened at line {start} is never closed")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("markdown", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    found = blocks(args.markdown.read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("block_*.py"):
        old.unlink()
    for line, code in found:
        header = f"# {args.markdown}, the python block at line {line} (scripts/readme_code.py)\n"
        (args.out / f"block_{line}.py").write_text(header + code, encoding="utf-8")
    print(f"{len(found)} python blocks of {args.markdown} written to {args.out}")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
