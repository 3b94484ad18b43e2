"""Per-pool member overrides: validated by the file's own rules, applied where the router
reads them, and "pool member value, else rep value" decided in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.config_source import ConfigSource
from worker.routing.members import member_terms, pool_weights
from worker.routing_config import ConfigError, apply_overrides, load_config, validate_rep_override
from worker.routing_config.overrides import apply_valid_overrides

DEMO = Path(__file__).resolve().parents[2] / "config" / "routing.yaml"
JACK = "jack.thompson@acme-sales.example"
SARAH = "sarah.johnson@acme-sales.example"


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return load_config(DEMO)


def _terms(config, pool, rep):  # type: ignore[no-untyped-def]
    return next(t for t in member_terms(config, pool) if t.rep == rep)


def test_the_demo_pool_terms_are_the_pools_not_the_reps(demo) -> None:  # type: ignore[no-untyped-def]
    jack = _terms(demo, "enterprise", JACK)
    assert (jack.weight, jack.weight_source) == (0.5, "pool")
    assert _terms(demo, "apac", JACK).weight == 1.0  # no pool weight in apac: the rep's
    sarah = _terms(demo, "enterprise", SARAH)
    assert sarah.cap("per_day") == (10, "pool") and sarah.rep_caps.per_day == 40
    assert _terms(demo, "na-east", SARAH).cap("per_day") == (40, "rep")


def test_a_rep_default_weight_does_not_reach_a_pool_with_its_own(demo) -> None:  # type: ignore[no-untyped-def]
    changed = apply_overrides(demo, {JACK: {"weight": 3.0}})
    assert pool_weights(changed, "enterprise")[JACK] == 0.5
    assert pool_weights(changed, "apac")[JACK] == 3.0


def test_a_pool_override_changes_that_pool_only(demo) -> None:  # type: ignore[no-untyped-def]
    changed = apply_overrides(
        demo, {JACK: {"pools": {"enterprise": {"weight": 2.0}}},
               SARAH: {"pools": {"enterprise": {"caps": {"per_day": 5}}}}}
    )  # fmt: skip
    assert pool_weights(changed, "enterprise")[JACK] == 2.0
    assert pool_weights(changed, "apac")[JACK] == 1.0
    assert _terms(changed, "enterprise", SARAH).pool_caps.per_day == 5
    assert _terms(changed, "na-east", SARAH).pool_caps.per_day is None


def test_a_null_pool_weight_hands_the_pool_back_to_the_rep_value(demo) -> None:  # type: ignore[no-untyped-def]
    changed = apply_overrides(
        demo, {JACK: {"weight": 1.5, "pools": {"enterprise": {"weight": None}}}}
    )
    jack = _terms(changed, "enterprise", JACK)
    assert (jack.weight, jack.weight_source) == (1.5, "rep")
    cleared = apply_overrides(demo, {SARAH: {"pools": {"enterprise": {"caps": {"per_day": None}}}}})
    assert _terms(cleared, "enterprise", SARAH).cap("per_day") == (40, "rep")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"pools": {"nowhere": {"weight": 1}}},
            "jack.thompson@acme-sales.example.pools.nowhere: unknown pool",
        ),
        ({"pools": {"emea": {"weight": 1}}}, "pools.emea: the rep is not a member of it"),
        ({"pools": {"enterprise": {"weight": 0}}}, "pools.enterprise.weight"),
        ({"pools": {"enterprise": {"colour": "red"}}}, "pools.enterprise.colour: unknown key"),
        ({"pools": {"enterprise": {"caps": {"max_open": 3}}}}, "pools.enterprise.caps"),
        ({"pools": ["enterprise"]}, "pools: must map pool names"),
    ],
)
def test_invalid_pool_overrides_are_refused_naming_the_key(demo, data, message) -> None:  # type: ignore[no-untyped-def]
    problems = validate_rep_override(demo, JACK, data)
    assert problems and any(message in p for p in problems), problems
    with pytest.raises(ConfigError):
        apply_overrides(demo, {JACK: data})


def test_an_override_that_no_longer_fits_the_file_is_left_out_not_fatal(demo) -> None:  # type: ignore[no-untyped-def]
    effective, problems = apply_valid_overrides(
        demo, {JACK: {"pools": {"emea": {"weight": 2}}}, SARAH: {"weight": 2.0}}
    )
    assert [p.path for p in problems] == ["jack.thompson@acme-sales.example.pools.emea"]
    assert effective.reps[SARAH].weight == 2.0 and effective.reps[JACK].weight == 1.0


def test_config_source_gives_the_same_object_while_nothing_changed(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(DEMO.read_text())
    source = ConfigSource(path)
    first = source.effective({JACK: {"weight": 2.0}})
    assert source.effective({JACK: {"weight": 2.0}}) is first
    assert source.effective({JACK: {"weight": 3.0}}) is not first
