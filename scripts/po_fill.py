"""Fill translations into the zh-CN catalog from lines of `English<TAB>中文` on standard input.

    make messages                       # new strings appear in the catalog, untranslated
    printf 'Sign in\t登录\n' | .venv/bin/python scripts/po_fill.py

A line whose English is not in the catalog is reported and skipped (run `make messages` first).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path("src/civicpoints/web/locale/zh_CN/LC_MESSAGES/messages.po")


def main() -> int:
    """Read the pairs, set each msgstr, write the catalog back."""
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    missing = 0
    for line in sys.stdin.read().splitlines():
        if not line.strip():
            continue
        english, _, chinese = line.partition("\t")
        message = catalog.get(english)
        if message is None or not chinese:
            print(f"not in the catalog (or no translation): {english!r}", file=sys.stderr)
            missing += 1
            continue
        message.string = chinese
        message.flags.discard("fuzzy")
    with PO.open("wb") as f:
        write_po(f, catalog, omit_header=True, no_location=True, sort_output=True, width=100)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
