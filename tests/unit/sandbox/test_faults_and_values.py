from datetime import UTC, datetime

import pytest

from devkit.sandbox.faults import REQUEST_FAULTS, FaultConfig, FaultInjector
from devkit.sandbox.schema import LEAD
from devkit.sandbox.values import DmlError, coerce, parse_datetime


def test_uniform_spreads_the_rate_over_every_request_fault():
    config = FaultConfig.uniform(0.2)
    assert sum(getattr(config, k) for k in REQUEST_FAULTS) == pytest.approx(0.2)


def test_unknown_or_out_of_range_fault_settings_are_refused():
    with pytest.raises(ValueError, match="unknown fault setting"):
        FaultConfig.from_dict({"explode": 0.1})
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultConfig.from_dict({"reset": 1.5})


def test_seeded_injector_is_reproducible_and_counts_what_it_injects():
    a, b = (FaultInjector(FaultConfig.uniform(0.5, seed=9)) for _ in range(2))
    assert [a.request_fault() for _ in range(50)] == [b.request_fault() for _ in range(50)]
    injector = FaultInjector(FaultConfig(server_unavailable=1.0))
    assert [injector.request_fault() for _ in range(3)] == ["server_unavailable"] * 3
    assert injector.counts == {"server_unavailable": 3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05.000+0000", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_datetime_input_formats(text, expected):
    assert parse_datetime(text) == expected


def test_empty_text_is_stored_as_null_and_long_text_is_refused():
    assert coerce(LEAD.field("Email"), "") is None
    with pytest.raises(DmlError) as info:
        coerce(LEAD.field("City"), "x" * 41)
    assert info.value.code == "STRING_TOO_LONG"
    with pytest.raises(DmlError) as info:
        coerce(LEAD.field("Email"), "not-an-email")
    assert info.value.code == "INVALID_EMAIL_ADDRESS"
