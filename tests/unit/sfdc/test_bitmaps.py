"""Header bitmaps -> field names, against hand-built vectors (bit i = schema field i)."""

from __future__ import annotations

from typing import Any

import pytest

from worker.sfdc.pubsub.bitmaps import BitmapError, field_names, set_positions


def _nillable(name: str, type_: Any = "string") -> dict[str, Any]:
    return {"name": name, "type": ["null", type_], "default": None}


NAME = {
    "type": "record",
    "name": "Name",
    "fields": [_nillable("Salutation"), _nillable("FirstName"), _nillable("LastName")],
}
ADDRESS = {
    "type": "record",
    "name": "Address",
    "namespace": "com.sforce.eventbus",
    "fields": [_nillable(n) for n in ("Street", "City", "State", "PostalCode", "Country")],
}
# position: 0 header, 1 Name, 2 Title, 3 Company, 4 Address, 5 Status, 6 LastModifiedDate
LEAD = {
    "type": "record",
    "name": "LeadChangeEvent",
    "namespace": "com.sforce.eventbus",
    "fields": [
        {"name": "ChangeEventHeader", "type": {"type": "record", "name": "H", "fields": []}},
        _nillable("Name", NAME),
        _nillable("Title"),
        _nillable("Company"),
        _nillable("Address", ADDRESS),
        _nillable("Status"),
        _nillable("LastModifiedDate", "long"),
    ],
}


def test_lowest_bit_is_position_zero() -> None:
    assert set_positions("0x01") == [0]
    assert set_positions("0x80") == [7]
    assert set_positions("0x0100") == [8]
    # the guide's example value: 0x650004E0
    assert set_positions("0x650004E0") == [5, 6, 7, 10, 24, 26, 29, 30]


def test_top_level_fields_by_position() -> None:
    # bits 2 (Title), 5 (Status), 6 (LastModifiedDate): 0b1100100
    assert field_names(LEAD, ["0x64"]) == ["Title", "Status", "LastModifiedDate"]
    assert field_names(LEAD, ["0x08"]) == ["Company"]


def test_empty_bitmaps() -> None:
    assert field_names(LEAD, []) == []
    assert field_names(LEAD, ["0x"]) == []
    assert field_names(LEAD, ["0x00"]) == []


def test_compound_name_parts() -> None:
    # Name is position 1; FirstName is its child 1 (0x02), LastName child 2 (0x04)
    names = field_names(LEAD, ["0x40", "1-0x06"])
    assert names == ["LastModifiedDate", "Name.FirstName", "Name.LastName"]


def test_compound_address_alone() -> None:
    # only a compound entry (a nulledFields list whose nulled fields are all parts)
    assert field_names(LEAD, ["4-0x12"]) == ["Address.City", "Address.Country"]


def test_several_compound_entries() -> None:
    names = field_names(LEAD, ["0x20", "1-0x01", "4-0x01"])
    assert names == ["Status", "Name.Salutation", "Address.Street"]


def test_compound_type_referred_to_by_name() -> None:
    # a second address field reuses the Address record type by name
    schema = {
        **LEAD,
        "fields": [*LEAD["fields"], _nillable("OtherAddress", "com.sforce.eventbus.Address")],
    }
    assert field_names(schema, ["7-0x04"]) == ["OtherAddress.State"]


def test_bits_beyond_64() -> None:
    fields = [_nillable(f"F{i}") for i in range(130)]
    wide = {"type": "record", "name": "Wide", "fields": fields}
    value = (1 << 0) | (1 << 63) | (1 << 64) | (1 << 100) | (1 << 129)
    bitmap = "0x" + value.to_bytes(17, "big").hex().upper()
    assert field_names(wide, [bitmap]) == ["F0", "F63", "F64", "F100", "F129"]


def test_lower_case_hex_and_leading_zeros() -> None:
    assert field_names(LEAD, ["0x0004"]) == ["Title"]
    assert field_names(LEAD, ["0x0c"]) == ["Title", "Company"]


@pytest.mark.parametrize(
    "bitmaps",
    [
        ["0x80"],  # position 7: the schema has 7 fields
        ["12"],  # no 0x
        ["0xZZ"],
        ["2-0x01"],  # Title is not compound
        ["1-0x08"],  # Name has 3 parts
        ["x-0x01"],
    ],
)
def test_bitmaps_that_do_not_fit_the_schema(bitmaps: list[str]) -> None:
    with pytest.raises(BitmapError):
        field_names(LEAD, bitmaps)
