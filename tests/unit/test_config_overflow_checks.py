"""``config check`` warnings about overflow: fallback entries never tried, a hold that cuts
off pools listed further on, and cycles, each with its file, line and key path."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from worker.cli import cli
from worker.routing_config import check_text

HEAD = """\
reps:
  - {email: ann@x.io}
  - {email: ben@x.io}
  - {email: cleo@x.io}
pools:
"""
RULES = """\
rules:
  - {name: default, action: {pool: p}}
"""


def _warnings(pools: str) -> list[str]:
    result = check_text(HEAD + pools + RULES, "r.yaml")
    assert result.errors == []
    return [str(w) for w in result.warnings]


def test_entries_after_a_hold_repeated_or_the_pool_itself_are_never_tried() -> None:
    pools = """\
  p:
    members: [ann@x.io]
    fallback:
      - {pool: q}
      - {pool: p}
      - {pool: q}
      - {rep: cleo@x.io}
      - hold
      - {pool: r}
  q:
    members: [ben@x.io]
  r:
    members: [cleo@x.io]
"""
    assert _warnings(pools) == [
        "r.yaml:10 pools.p.fallback[1]: a pool listing itself is never tried again"
        " (each pool once per lead)",
        "r.yaml:11 pools.p.fallback[2]: never tried: repeats fallback[0]",
        "r.yaml:14 pools.p.fallback[5]: never tried: the hold at fallback[4] stops overflow first",
    ]


def test_a_hold_that_cuts_off_a_listed_pools_own_list_is_named() -> None:
    pools = """\
  p:
    members: [ann@x.io]
    fallback: [{pool: q}, {pool: r}]
  q:
    members: [ben@x.io]
    fallback: [hold]
  r:
    members: [ben@x.io]
    fallback: [{pool: s}]
  s:
    members: [cleo@x.io]
"""
    assert _warnings(pools) == [
        "r.yaml:8 pools.p.fallback: overflow from p stops at the hold in"
        " pools.q.fallback[0], so these are never tried from p: pool s (in r's fallback)"
    ]


def test_a_hold_in_the_pools_own_list_before_a_listed_pools_list_is_named_there() -> None:
    pools = """\
  p:
    members: [ann@x.io]
    fallback:
      - {pool: q}
      - hold
  q:
    members: [ben@x.io]
    fallback: [{rep: cleo@x.io}]
"""
    assert _warnings(pools) == [
        "r.yaml:10 pools.p.fallback[1]: overflow from p stops at the hold in"
        " pools.p.fallback[1], so these are never tried from p: rep cleo@x.io (in q's"
        " fallback)"
    ]


def test_overflow_cycles_are_warned_about_once_at_the_entry_closing_them() -> None:
    pools = """\
  p:
    members: [ann@x.io]
    fallback: [{pool: q}]
  q:
    members: [ben@x.io]
    fallback:
      - {pool: r}
  r:
    members: [cleo@x.io]
    fallback:
      - {pool: p}
      - {pool: q}
"""
    warnings = _warnings(pools)
    assert warnings == [
        "r.yaml:16 pools.r.fallback[0]: overflow cycle p → q → r → p: each pool is tried at"
        " most once per lead, so the way back is skipped; check each chain's order is what"
        " you mean",
        "r.yaml:17 pools.r.fallback[1]: overflow cycle q → r → q: each pool is tried at most"
        " once per lead, so the way back is skipped; check each chain's order is what you"
        " mean",
    ]


def test_two_pools_backing_each_other_up_is_a_cycle_warning_not_an_error() -> None:
    pools = """\
  p:
    members: [ann@x.io]
    fallback: [{pool: q}]
  q:
    members: [ben@x.io, cleo@x.io]
    fallback: [{pool: p}]
"""
    assert [w.split(": ", 1)[0] for w in _warnings(pools)] == ["r.yaml:11 pools.q.fallback[0]"]


def test_a_chain_written_in_order_has_no_warnings() -> None:
    pools = """\
  p:
    members: [ann@x.io]
    fallback: [{pool: q}, {pool: r}, {rep: cleo@x.io}, hold]
  q:
    members: [ben@x.io]
    fallback: [{pool: r}]
  r:
    members: [cleo@x.io]
    fallback: [hold]
"""
    assert _warnings(pools) == []


def test_config_check_prints_the_warnings_and_strict_fails_on_them(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        HEAD + "  p:\n    members: [ann@x.io, ben@x.io, cleo@x.io]\n"
        "    fallback: [hold, {rep: ann@x.io}]\n" + RULES,
        encoding="utf-8",
    )
    ok = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert ok.exit_code == 0, ok.output
    assert (
        f"warning: {path}:8 pools.p.fallback[1]: never tried: the hold at fallback[0] stops"
        " overflow first"
    ) in ok.output
    strict = CliRunner().invoke(cli, ["config", "check", str(path), "--strict"])
    assert strict.exit_code == 1
