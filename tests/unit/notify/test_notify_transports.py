"""A ``Retry-After`` header is honoured in both of its forms: delay-seconds and HTTP-date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from worker.notify.model import SmtpSettings
from worker.notify.transports import SendError, Transports, retry_after_seconds

NOW = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("Wed, 21 Oct 2026 07:29:30 GMT", 90.0),  # IMF-fixdate
        ("Wednesday, 21-Oct-26 07:29:30 GMT", 90.0),  # obsolete RFC 850 form
        ("Wed Oct 21 07:29:30 2026", 90.0),  # obsolete asctime form
        ("Wed, 21 Oct 2026 07:00:00 GMT", 0.0),  # already past: retry now
        ("-5", 0.0),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


@responses.activate
def test_a_date_form_retry_after_is_counted_from_the_servers_clock() -> None:
    responses.post(
        "https://hooks.example.com/x",
        status=503,
        headers={"Retry-After": "Wed, 21 Oct 2026 07:30:00 GMT",
                 "Date": "Wed, 21 Oct 2026 07:29:00 GMT"},
    )  # fmt: skip

    with pytest.raises(SendError) as err:
        Transports(SmtpSettings()).post("https://hooks.example.com/x", b"{}", {})

    assert err.value.retry_after == 60.0 and not err.value.permanent
