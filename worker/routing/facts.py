"""Per-lead facts, computed at most once per decision: normalised country/state/postal
code, domains, company key, numbers. Conditions, territories, tags and matching read
these. The costlier ones (web-site domain, company key, phone, territory fields) are
computed on first use only, since most leads are decided without them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from contextlib import suppress

from worker.routing import normalise
from worker.routing.model import Lead

_UNSET: object = object()


def as_number(value: object) -> float | None:
    """A numeric field value, or None when blank or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


class LeadFacts:
    """Normalised views of one lead's fields (read-only by convention)."""

    __slots__ = (
        "lead", "country", "state", "email", "email_domain", "email_is_public",
        "_website_domain", "_company_key", "_phone_key",
    )  # fmt: skip

    def __init__(self, lead: Lead) -> None:
        f = lead.fields
        self.lead = lead
        self.country = normalise.country_code(f.get("CountryCode") or f.get("Country"))
        state = f.get("StateCode") or f.get("State")
        self.state = normalise.state_code(state, self.country) if state else None
        self.email = normalise.email_address(f.get("Email"))
        self.email_domain = normalise.email_domain(self.email) if self.email else ""
        self.email_is_public = bool(self.email_domain) and normalise.is_public_mail_domain(
            self.email_domain
        )
        self._website_domain: object = _UNSET
        self._company_key: object = _UNSET
        self._phone_key: object = _UNSET

    @property
    def website_domain(self) -> str:
        if self._website_domain is _UNSET:
            self._website_domain = normalise.website_domain(self.lead.fields.get("Website"))
        return str(self._website_domain)

    @property
    def company_key(self) -> str:
        if self._company_key is _UNSET:
            self._company_key = normalise.company_key(self.lead.fields.get("Company"))
        return str(self._company_key)

    @property
    def phone_key(self) -> str:
        if self._phone_key is _UNSET:
            self._phone_key = normalise.phone_key(self.lead.fields.get("Phone"))
        return str(self._phone_key)

    @property
    def postal(self) -> str:
        return _text(self.lead.fields.get("PostalCode")).upper().replace(" ", "")

    @property
    def industry(self) -> str:
        return _text(self.lead.fields.get("Industry")).lower()

    @property
    def employees(self) -> float | None:
        return as_number(self.lead.fields.get("NumberOfEmployees"))

    @property
    def revenue(self) -> float | None:
        return as_number(self.lead.fields.get("AnnualRevenue"))


RECENT_MAX = 4_096  # more than an intake page (2,000 leads)
_RECENT: OrderedDict[int, LeadFacts] = OrderedDict()  # id(lead) -> its facts, oldest first


def lead_emails(leads: Iterable[Lead]) -> set[str]:
    """The leads' e-mail addresses, normalised as :class:`LeadFacts` does (without the
    rest of the facts: an intake page asks for 2,000 of these)."""
    return {e for lead in leads if (e := normalise.email_address(lead.fields.get("Email")))}


def lead_facts(lead: Lead) -> LeadFacts:
    """The lead's facts. The last few thousand leads' are remembered (by object: the facts
    hold their lead, so its id cannot be reused meanwhile), so a page whose accounts were
    looked up by these facts is routed without computing them again."""
    hit = _RECENT.get(id(lead))
    if hit is not None and hit.lead is lead:
        return hit
    facts = LeadFacts(lead)
    if len(_RECENT) >= RECENT_MAX:
        with suppress(KeyError):  # another thread emptied it meanwhile
            _RECENT.popitem(last=False)
    _RECENT[id(lead)] = facts
    return facts
