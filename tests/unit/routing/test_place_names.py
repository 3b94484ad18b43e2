"""Country and state names in any language, abbreviated or informal, read as one ISO code;
the same reading for leads and for the config, and a DACH territory that keeps its
Austrian and Swiss leads."""

from __future__ import annotations

import unicodedata

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.routing.builders import NOW, a_context, a_lead
from worker.routing import _libs, empty_state, normalise, route_lead
from worker.routing_config import parse_config

COUNTRIES = [
    # the names people complained about, and the one that already worked
    ("Deutschland", "DE"), ("Österreich", "AT"), ("Schweiz", "CH"), ("Suisse", "CH"),
    ("Svizzera", "CH"), ("España", "ES"), ("Brasil", "BR"), ("Britain", "GB"),
    # case, accents, spaces and punctuation
    ("Osterreich", "AT"), ("ÖSTERREICH", "AT"), ("Oesterreich", "AT"), ("  schweiz ", "CH"),
    ("Côte d’Ivoire", "CI"), ("COTE D'IVOIRE", "CI"), ("Bosnia & Herzegovina", "BA"),
    # ISO codes
    ("at", "AT"), ("AUT", "AT"), ("che", "CH"),
    # abbreviations, informal and historical names
    ("UK", "GB"), ("U.K.", "GB"), ("Great Britain", "GB"), ("England", "GB"), ("USA", "US"),
    ("U.S.A.", "US"), ("U.S.", "US"), ("America", "US"), ("UAE", "AE"), ("Holland", "NL"),
    ("The Netherlands", "NL"), ("Czechia", "CZ"), ("Czech Republic", "CZ"),
    ("South Korea", "KR"), ("Korea, Republic of", "KR"), ("Republic of Korea", "KR"),
    ("Russia", "RU"), ("Turkey", "TR"), ("Ivory Coast", "CI"), ("Burma", "MM"),
    # other languages and scripts
    ("日本", "JP"), ("Россия", "RU"), ("Ελλάδα", "GR"), ("Vereinigte Staaten", "US"),
    ("Estados Unidos", "US"), ("États-Unis", "US"), ("EE. UU.", "US"), ("Royaume-Uni", "GB"),
    ("Großbritannien", "GB"), ("Grossbritannien", "GB"), ("Niederlande", "NL"),
    ("Pays-Bas", "NL"), ("Polska", "PL"), ("Sverige", "SE"), ("Česko", "CZ"),
    ("Türkiye", "TR"), ("Việt Nam", "VN"), ("中国", "CN"), ("대한민국", "KR"), ("한국", "KR"),
    ("Україна", "UA"), ("ישראל", "IL"), ("مصر", "EG"), ("भारत", "IN"), ("ไทย", "TH"),
    ("Belgique", "BE"), ("México", "MX"), ("Magyarország", "HU"), ("Suomi", "FI"),
    # scripts whose marks are part of the letter: Togo and Tonga in Hindi stay apart
    ("टोगो", "TG"), ("टोंगा", "TO"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "code"), COUNTRIES)
def test_country_names_in_any_language_read_as_one_iso_code(value: str, code: str) -> None:
    assert normalise.country_code(value) == code


STATES = [
    # the names people complained about
    ("Bavaria", "DE", "DE-BY"), ("Calif.", "US", "US-CA"),
    # local and English names, other languages
    ("Bayern", "DE", "DE-BY"), ("Bavière", "DE", "DE-BY"), ("Бавария", "DE", "DE-BY"),
    ("Nordrhein-Westfalen", "DE", "DE-NW"), ("North Rhine-Westphalia", "DE", "DE-NW"),
    ("NRW", "DE", "DE-NW"), ("Baden-Wuerttemberg", "DE", "DE-BW"),
    ("Québec", "CA", "CA-QC"), ("Quebec", "CA", "CA-QC"), ("Ontario", "CA", "CA-ON"),
    ("Zürich", "CH", "CH-ZH"), ("Zurich", "CH", "CH-ZH"), ("Genève", "CH", "CH-GE"),
    ("Genf", "CH", "CH-GE"), ("Wien", "AT", "AT-9"), ("Vienna", "AT", "AT-9"),
    ("Lower Austria", "AT", "AT-3"), ("Catalunya", "ES", "ES-CT"), ("Cataluña", "ES", "ES-CT"),
    ("Sao Paulo", "BR", "BR-SP"),
    # postal codes and traditional abbreviations
    ("CA", "US", "US-CA"), ("ny", "US", "US-NY"), ("N.Y.", "US", "US-NY"),
    ("ON", "CA", "CA-ON"), ("Ont.", "CA", "CA-ON"), ("Que.", "CA", "CA-QC"),
    ("Mass.", "US", "US-MA"), ("Penn.", "US", "US-PA"), ("Pa.", "US", "US-PA"),
    ("Wash.", "US", "US-WA"), ("Fla.", "US", "US-FL"), ("W.Va.", "US", "US-WV"),
    ("Tex.", "US", "US-TX"), ("D.C.", "US", "US-DC"), ("NSW", "AU", "AU-NSW"),
    # a state is read relative to its country; a full code needs none
    ("CA", "CA", None), ("ON", "US", None), ("CA", None, None), ("Bavaria", None, None),
    ("US-CA", None, "US-CA"), ("de-by", "AT", "DE-BY"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "country", "code"), STATES)
def test_state_names_and_abbreviations_read_within_the_country(
    value: str, country: str | None, code: str | None
) -> None:
    assert normalise.state_code(value, country) == code


@pytest.mark.parametrize(
    "value", ["N/A", "n/a", "n.a.", "-", "?", "", "   ", "Y", "Other", "unknown", "none", "Narnia"]
)
def test_placeholders_are_no_country_and_no_state(value: str) -> None:
    """ "N/A" is not Namibia (NA), nor Navarre (ES-NA): the lead keeps no country."""
    assert normalise.country_code(value) is None
    assert normalise.state_code(value, "ES") is None


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


ISO_NAMES = sorted(
    (getattr(c, attr), c.alpha_2)
    for c in pycountry.countries
    for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name")
    if hasattr(c, attr)
)
RESPELL = st.sampled_from(
    [str.upper, str.lower, _strip_accents, lambda s: f" {s}. ", lambda s: s.replace(" ", "-")]
)


@given(name=st.sampled_from(ISO_NAMES), respell=st.lists(RESPELL, max_size=3))
def test_every_iso_code_and_name_reads_as_its_own_country_however_written(
    name: tuple[str, str], respell: list
) -> None:  # type: ignore[type-arg]
    text, code = name
    for change in respell:
        text = change(text)
    assert normalise.country_code(text) == code


def test_a_name_two_sources_disagree_on_is_settled_by_rank_then_votes_then_top_level() -> None:
    code, name, alias, other = _libs.CODE, _libs.NAME, _libs.ALIAS, _libs.OTHER
    rows = [(other, "MY", "Mexico")] * 5 + [(name, "MX", "Mexico"), (code, "NA", "NA")]
    rows += [(alias, "NL", "N.A."), (other, "CG", "Kongo"), (other, "CG", "Kongo")]
    rows += [(other, "CD", "Kongo"), (name, "ES-S", "Cantabria"), (name, "ES-CB", "Cantabria")]
    rows += [(other, "ZZ", "Tie"), (other, "YY", "Tie"), (other, "IT", "Ý"), (code, "AT-9", "9")]
    for ordered in (rows, rows[::-1]):
        table = normalise._pick(ordered, inner=frozenset({"ES-S"}))[""]
        assert (table["mexico"], table["na"], table["kongo"]) == ("MX", "NA", "CG")
        assert (table["cantabria"], table["tie"], table["9"]) == ("ES-CB", "YY", "AT-9")
        assert "y" not in table


def test_the_quick_table_agrees_with_the_every_language_one_on_every_key() -> None:
    """Codes and English names are looked up before the table of every language is
    built: each must read the same in both, or a lead's country would depend on whether
    an earlier lead had needed the bigger table."""
    countries, every = normalise._country_table(False), normalise._country_table(True)
    assert {k: every[k] for k in countries} == countries and len(every) > 10 * len(countries)
    states, every_state = normalise._subdivision_table(False), normalise._subdivision_table(True)
    for country, keys in states.items():
        assert {k: every_state[country][k] for k in keys} == keys


@pytest.mark.parametrize(("value", "code"), [("Mexico", "MX"), ("Kongo", "CG"), ("NA", "NA")])
def test_real_collisions_resolve_as_documented(value: str, code: str) -> None:
    """One bundled catalogue calls Malaysia "Mexico"; 70 language sources say "Kongo" for
    the Republic of the Congo and one for the DR Congo; "NA" is Namibia's code."""
    assert normalise.country_code(value) == code


DACH = """\
reps:
  - {email: ann@x.io}
  - {email: ben@x.io}
pools:
  dach: {members: [ann@x.io]}
  rest: {members: [ben@x.io]}
territories:
  - {name: dach, pool: dach, countries: [DE, AT, CH]}
  - {name: bavaria, pool: rest, priority: 10, countries: [DE], states: [BY]}
rules:
  - {name: by territory, action: territory}
  - {name: default, action: {pool: rest}}
"""


@pytest.mark.parametrize(
    ("country", "state", "pool"),
    [("Österreich", None, "dach"), ("Schweiz", None, "dach"), ("Suisse", None, "dach"),
     ("Svizzera", None, "dach"), ("Deutschland", "Hessen", "dach"), ("AUT", None, "dach"),
     ("Germany", "Bayern", "rest"), ("Allemagne", "Bavière", "rest"), ("France", None, "rest")],
)  # fmt: skip
def test_dach_territory_keeps_austrian_and_swiss_leads(
    country: str, state: str | None, pool: str
) -> None:
    cfg = parse_config(DACH)
    lead = a_lead(Country=country, **({"State": state} if state else {}))
    ctx = a_context(["ann@x.io", "ben@x.io"])
    decision, _ = route_lead(lead, config=cfg, context=ctx, state=empty_state(), now=NOW)
    assert decision.pool == pool


def test_the_config_reads_country_and_state_names_as_leads_do() -> None:
    text = DACH.replace("[DE, AT, CH]", "[Deutschland, Österreich, Suisse]")
    cfg = parse_config(text.replace("[DE], states: [BY]", "[Germany], states: [Bavaria]"))
    assert [(t.name, t.countries, t.states) for t in cfg.territories] == [
        ("bavaria", frozenset({"DE"}), frozenset({"DE-BY"})),
        ("dach", frozenset({"DE", "AT", "CH"}), frozenset()),
    ]
