"""Add translations to a zh-CN catalog from lines of `English<TAB>中文` on standard input.

    printf 'Sign in\t登录\n' | .venv/bin/python scripts/po_fill.py            # messages.po
    printf 'Roster\t名单\n' | .venv/bin/python scripts/po_fill.py staff.po    # another area's

Each area of the app keeps its own file under src/civicpoints/web/locale/zh_CN/LC_MESSAGES/
(they are read together), so work on different pages never edits the same file. A string
already translated in another file is reported and skipped. `tests/unit/test_i18n.py` lists
what is still missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

FOLDER = Path("src/civicpoints/web/locale/zh_CN/LC_MESSAGES")


def _read(path: Path) -> Catalog:
    if not path.exists():
        return Catalog(locale="zh_CN")
    with path.open("rb") as f:
        return read_po(f, locale="zh_CN")


def main() -> int:
    """Read the pairs, add or update each in the named file, write it back."""
    target = FOLDER / (sys.argv[1] if len(sys.argv) > 1 else "messages.po")
    catalog = _read(target)
    elsewhere = {
        m.id
        for po in FOLDER.glob("*.po")
        if po != target
        for m in _read(po)
        if m.id and m.string
    }
    for line in sys.stdin.read().splitlines():
        english, _, chinese = line.partition("\t")
        if not english.strip() or not chinese:
            continue
        if english in elsewhere:
            print(f"already translated in another file: {english!r}", file=sys.stderr)
            continue
        flags = ["python-format"] if "%(" in english else []
        catalog.add(english, chinese, flags=flags)
    with target.open("wb") as f:
        write_po(f, catalog, omit_header=True, no_location=True, sort_output=True, width=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
