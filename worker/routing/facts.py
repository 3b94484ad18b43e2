"""Per-lead facts computed once per decision: normalised country/state/postal code,
domains, company key, numbers. Conditions, territories, tags and matching read these."""

from __future__ import annotations

from dataclasses import dataclass

from worker.routing import normalise
from worker.routing.model import Lead


@dataclass(frozen=True, slots=True)
class LeadFacts:
    lead: Lead
    country: str | None
    state: str | None
    postal: str
    industry: str
    employees: float | None
    revenue: float | None
    email: str
    email_domain: str
    email_is_public: bool
    website_domain: str
    company_key: str
    phone_key: str


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


def lead_facts(lead: Lead) -> LeadFacts:
    f = lead.fields
    country = normalise.country_code(f.get("CountryCode") or f.get("Country"))
    state = normalise.state_code(f.get("StateCode") or f.get("State"), country)
    email = _text(f.get("Email")).lower()
    domain = normalise.email_domain(email)
    return LeadFacts(
        lead=lead,
        country=country,
        state=state,
        postal=_text(f.get("PostalCode")).upper().replace(" ", ""),
        industry=_text(f.get("Industry")).lower(),
        employees=as_number(f.get("NumberOfEmployees")),
        revenue=as_number(f.get("AnnualRevenue")),
        email=email,
        email_domain=domain,
        email_is_public=bool(domain) and normalise.is_public_mail_domain(domain),
        website_domain=normalise.website_domain(f.get("Website")),
        company_key=normalise.company_key(f.get("Company")),
        phone_key=normalise.phone_key(f.get("Phone")),
    )
