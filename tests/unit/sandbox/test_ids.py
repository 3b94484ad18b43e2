import pytest

from worker.sfdc.ids import MalformedId, checksum, make_id, normalise, object_of


@pytest.mark.parametrize(
    ("id15", "suffix"),
    [
        ("005i0000002MUqL", "AAW"),
        ("00Di0000000icUB", "EAY"),
        ("a0BA0000000L2ZC", "MA0"),
        ("00558000001N0Ke", "AAK"),
        ("70130000001tcyI", "AAQ"),
        ("a0D30000001n7Pi", "EAI"),
    ],
)
def test_checksum_matches_published_vectors(id15, suffix):
    assert checksum(id15) == suffix


def test_made_ids_have_prefix_length_and_valid_checksum():
    value = make_id("Lead", 12345)
    assert len(value) == 18 and value.startswith("00Q") and value[15:] == checksum(value[:15])
    assert object_of(value) == "Lead"


def test_18_char_ids_are_case_insensitive_and_15_char_ids_are_extended():
    value = make_id("Account", 99)
    assert normalise(value.lower()) == value
    assert normalise(value[:15]) == value


@pytest.mark.parametrize("bad", ["", "00Q", "00Q!s0000000001", "00QHs0000000001MA9", "x" * 19])
def test_malformed_ids_are_refused(bad):
    with pytest.raises(MalformedId):
        normalise(bad)
