"""The Salesforce retry policy's back-off: its sleep and its jitter are injected."""

from __future__ import annotations

from random import Random

import pytest

from worker.sfdc.errors import SfdcPermanentError, SfdcTransientError
from worker.sfdc.retry import retrying, with_retry


class Highest(Random):
    """Jitter always at its top."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_the_back_off_doubles_plus_the_injected_jitter_up_to_its_cap() -> None:
    naps: list[float] = []
    calls = iter(range(10))

    def flaky() -> int:
        if next(calls) < 7:
            raise SfdcTransientError("Salesforce answered 503", status=503)
        return 1

    policy = retrying(attempts=8, max_wait=2.0, deadline=1e9, sleep=naps.append, rng=Highest())
    assert with_retry(flaky, policy) == 1
    assert naps == pytest.approx([0.1, 0.15, 0.25, 0.45, 0.85, 1.65, 2.0])


def test_a_permanent_error_is_not_retried_and_nothing_sleeps() -> None:
    naps: list[float] = []

    def refused() -> None:
        raise SfdcPermanentError("Salesforce answered 400", status=400)

    with pytest.raises(SfdcPermanentError):
        with_retry(refused, retrying(sleep=naps.append))
    assert naps == []


def test_each_retry_is_one_line_naming_the_call_the_first_at_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A wrong host: the clear line (what is unreachable) comes first, at WARNING; the
    later retries are INFO; no line says ``<lambda>``."""
    from worker.sfdc.gateway import SimpleSalesforceGateway

    class Unreachable:
        def call(self, fn: object) -> object:
            raise SfdcTransientError(
                "cannot reach the Salesforce token URL https://typo.my.salesforce.com/"
                "services/oauth2/token: ConnectionError"
            )

    naps: list[float] = []
    gateway = SimpleSalesforceGateway(
        Unreachable(),  # type: ignore[arg-type]
        retrying(attempts=4, deadline=1e9, sleep=naps.append, rng=Highest()),
    )
    caplog.set_level("INFO", logger="leadrouter.sfdc.retry")
    with pytest.raises(SfdcTransientError):
        list(gateway._pages("SELECT Id FROM Lead"))
    records = [r for r in caplog.records if r.name == "leadrouter.sfdc.retry"]
    assert [r.levelname for r in records] == ["WARNING", "INFO", "INFO"]
    assert len(naps) == 3
    first = records[0].getMessage()
    assert first.startswith("SimpleSalesforceGateway._pages: sf.query failed (attempt 1): ")
    assert "cannot reach the Salesforce token URL https://typo.my.salesforce.com" in first
    assert all("<lambda>" not in r.getMessage() and "\n" not in r.getMessage() for r in records)


def test_an_explicit_name_wins_and_a_plain_function_is_named_by_its_qualname(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from worker.sfdc.retry import call_name

    def describe_lead() -> None: ...

    assert call_name(describe_lead).endswith("describe_lead")
    attempts = iter(range(3))

    def flaky() -> int:
        if next(attempts) < 1:
            raise SfdcTransientError("Salesforce answered 503", status=503)
        return 1

    caplog.set_level("INFO", logger="leadrouter.sfdc.retry")
    assert with_retry(flaky, retrying(sleep=lambda _s: None), name="describe Lead") == 1
    assert [r.getMessage().split(" failed")[0] for r in caplog.records] == ["describe Lead"]
