"""Print the README's key table from the action registry; `--write` puts it into README.md
between the `<!-- keys:begin -->` and `<!-- keys:end -->` markers (nothing else changes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dstui.tui.key_table import key_table, with_key_table

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    if not args.write:
        print(key_table())
        return
    README.write_text(with_key_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated the key table in {README}")


if __name__ == "__main__":
    main()
