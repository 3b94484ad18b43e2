"""Malformed config files of every kind: one clear line per problem, naming the file and
the key path (and the line where there is one), never a traceback.

Routing YAML and its ``notifications:`` section are checked through the loader functions
and through ``leadrouter config check FILE``. The fuzz tests at the end mutate the example
configs at random and require problems, not exceptions. (Users file and settings:
``test_users_and_settings_hostile.py``.)
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.hostile.strategies import any_value
from tests.unit.test_config_loader import MINIMAL
from worker.cli import cli
from worker.notify.config import NotifyConfigError, load_notify_settings, parse_notify_section
from worker.routing_config import ConfigError, check_config, check_text, load_config
from worker.routing_config.loader import build
from worker.routing_config.problems import Collector

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_RULE = "  - {name: default, action: {pool: main}}\n"


def _edit(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new, 1)


def _rule(when: str) -> str:
    return _edit(DEFAULT_RULE, f"  - {{name: r, when: [{when}], action: hold}}\n{DEFAULT_RULE}")


def _big() -> bytes:
    reps = "".join(f"  - {{email: r{i}@x.io, weight: 1}}\n" for i in range(140_000))
    return ("reps:\n" + reps).encode()


# (content, fragment the one error must contain, its line or None)
ROUTING_CASES = [
    pytest.param("reps:\n  - [unclosed\n", "(file): not valid YAML", 3, id="not-yaml"),
    pytest.param(
        "- reps\n- pools\n", "(top level): must be a mapping, got a list", 1, id="top-is-a-list"
    ),
    pytest.param("just text\n", "(top level): must be a mapping, got text", 1, id="top-is-text"),
    pytest.param(MINIMAL + "colour: red\n", "colour: unknown key", 9, id="unknown-top-key"),
    pytest.param(
        MINIMAL + '"two\\nlines\\u2028": 1\n',
        "two\\nlines\\u2028: unknown key",
        9,
        id="line-breaks-in-a-key",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: 2, colour: red}"),
        "reps[0].colour: unknown key",
        2,
        id="unknown-rep-key",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: heavy}"),
        "reps[0].weight: must be a number, got text",
        2,
        id="weight-not-a-number",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: [2]}"),
        "reps[0].weight: must be a number, got a list",
        2,
        id="weight-a-list",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: .nan}"),
        "reps[0].weight: must be a finite number",
        2,
        id="weight-nan",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: .inf}"),
        "reps[0].weight: must be a finite number",
        2,
        id="weight-inf",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: -1}"), "reps[0].weight: must be > 0", 2, id="negative-weight"
    ),
    pytest.param(
        _edit("weight: 2}", "weight: 2, caps: {per_day: -3}}"),
        "reps[0].caps.per_day: must be >= 0",
        2,
        id="negative-cap",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: 2, caps: {per_day: .inf}}"),
        "reps[0].caps.per_day: must be a finite number",
        2,
        id="infinite-cap",
    ),
    pytest.param(
        _edit("reps:\n", "reps:\n  - {email: ann@x.io}\n"),
        "reps[1].email: duplicate rep ann@x.io",
        3,
        id="duplicate-rep",
    ),
    pytest.param(
        _edit("{email: ben@x.io}", "{email: ben@x.io}\n  - {email: BEN@X.IO}"),
        "reps[2].email: duplicate rep ben@x.io",
        4,
        id="duplicate-rep-other-case",
    ),
    pytest.param(
        _edit("[ann@x.io, ben@x.io]", "[ann@x.io, zed@x.io]"),
        "pools.main.members[1]: unknown rep 'zed@x.io'",
        6,
        id="pool-member-not-a-rep",
    ),
    pytest.param(
        _edit("{pool: main}", "{pool: nowhere}"),
        "rules[0].action.pool: unknown pool 'nowhere'",
        8,
        id="rule-to-missing-pool",
    ),
    pytest.param(
        _edit(
            "members: [ann@x.io, ben@x.io]",
            "members: [ann@x.io, ben@x.io]\n    fallback: [{pool: gone}]",
        ),
        "pools.main.fallback[0]: unknown pool 'gone'",
        7,
        id="fallback-to-missing-pool",
    ),
    pytest.param(
        MINIMAL.replace("pools:\n  main:\n    members: [ann@x.io, ben@x.io]\n", "pools: 5\n"),
        "pools: must be a mapping, got int",
        4,
        id="pools-a-number",
    ),
    pytest.param(
        _edit("[ann@x.io, ben@x.io]", "{ann: 1}"),
        "pools.main.members: must be a list, got a mapping",
        6,
        id="members-a-mapping",
    ),
    pytest.param(
        _edit(DEFAULT_RULE, "  - default\n"),
        "rules[0]: must be a mapping, got text",
        8,
        id="rule-not-a-mapping",
    ),
    pytest.param(
        _edit("Europe/Berlin", "Europe/Berln"),
        "reps[0].timezone: unknown time zone 'Europe/Berln'",
        2,
        id="bad-time-zone",
    ),
    pytest.param(
        _edit("Europe/Berlin", "'../../../etc/passwd'"),
        "reps[0].timezone: unknown time zone",
        2,
        id="path-as-time-zone",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: 2, holidays: XX}"),
        "reps[0].holidays: unknown holiday calendar 'XX'",
        2,
        id="bad-holiday-country",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: 2, working_hours: {mon: ['25:00-26:00']}}"),
        "reps[0].working_hours.mon[0]: not a time of day",
        2,
        id="bad-working-hours",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: 2, out_of_office: [{from: 2026-13-45, to: 2026-12-01}]}"),
        "reps[0].out_of_office[0].from: not a valid value '2026-13-45'",
        2,
        id="impossible-date",
    ),
    pytest.param(
        _rule("{field: Email, regex: '(('}"),
        "rules[0].when[0].regex: invalid regular expression",
        8,
        id="bad-regex",
    ),
    pytest.param(
        _rule("{field: Company, regex: '^(\\w+)\\s\\1$'}"),
        "rules[0].when[0].regex: not supported by the linear-time regex engine (RE2)",
        8,
        id="backreference-regex",
    ),
    pytest.param(
        _rule("{field: Country, equals: Narnia}"),
        "rules[0].when[0].equals: unknown country 'Narnia'",
        8,
        id="bad-condition-value",
    ),
    pytest.param(
        _rule("{field: 'Id, Name', equals: x}"),
        "rules[0].when[0].field: not a field API name",
        8,
        id="field-name-injection",
    ),
    pytest.param(
        MINIMAL + "lead_tags:\n  - {field: 'Id, (SELECT Id FROM Tasks)'}\n",
        "lead_tags[0].field: not a field API name",
        10,
        id="tag-field-injection",
    ),
    pytest.param(
        MINIMAL + "retention_days: forever\n",
        "retention_days: must be a number, got text",
        9,
        id="retention-not-a-number",
    ),
    pytest.param(
        _edit("weight: 2}", "weight: !!python/object/apply:os.system [ls]}"),
        "reps[0].weight: not a valid value",
        2,
        id="python-tag",
    ),
    pytest.param(
        MINIMAL + "x: &a [*a]\n", "x[0]: an alias refers to its own parent", 9, id="recursive-alias"
    ),
    pytest.param(
        "reps: " + "[" * 1000 + "]" * 1000 + "\n",
        "(file): not valid YAML: nested too deeply",
        None,
        id="nested-too-deep",
    ),
    pytest.param(
        MINIMAL + "# bell \x07\n",
        "(file): not valid YAML: control character #x07",
        9,
        id="control-character",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
        "(file): not UTF-8 text (byte 0x89 at offset 0)",
        1,
        id="binary-garbage",
    ),
    pytest.param(_big(), "(file): larger than 2,000,000 characters", None, id="5-MB-file"),
]
# true consequences, each on its own line: `pools: 5` also leaves the rule's pool unknown
FOLLOW_ONS = {"pools-a-number": 2}
# a file that is empty (or only comments) lacks the three required sections: one line each
EMPTY_CASES = [
    pytest.param("", id="empty-file"),
    pytest.param("# nothing yet\n", id="only-comments"),
]


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "routing.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _check_cli(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["config", "check", *args, str(path)])


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(("content", "fragment", "line"), ROUTING_CASES)
def test_loader_gives_one_line_naming_file_line_and_key(
    tmp_path: Path, content: str | bytes, fragment: str, line: int | None, request: Any
) -> None:
    path = _write(tmp_path, content)
    errors = [str(p) for p in check_config(path).errors]
    assert len(errors) == FOLLOW_ONS.get(request.node.callspec.id, 1), errors
    where = f"{path}:{line} " if line is not None else f"{path} "
    assert errors[0].startswith(where) and fragment in errors[0], errors[0]
    assert len(errors[0].splitlines()) == 1 and len(errors[0]) < 400
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == "\n".join(errors)


@pytest.mark.parametrize(("content", "fragment", "line"), ROUTING_CASES)
def test_config_check_cli_prints_the_error_without_a_traceback(
    tmp_path: Path, content: str | bytes, fragment: str, line: int | None
) -> None:
    path = _write(tmp_path, content)
    result = _check_cli(path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = _error_lines(result)
    assert lines and all(f"error: {path}" in error for error in lines), result.output
    where = f"error: {path}:{line} " if line is not None else f"error: {path} "
    assert lines[0].startswith(where) and fragment in lines[0], result.output
    assert result.output.splitlines()[-1].startswith(f"Error: {path}: ")


FILE_LEVEL = [p for p in ROUTING_CASES if p.id in {"not-yaml", "top-is-a-list", "top-is-text",
              "control-character", "binary-garbage", "5-MB-file", "python-tag", "impossible-date"}]  # fmt: skip


@pytest.mark.parametrize(("content", "fragment", "line"), FILE_LEVEL)
def test_config_check_cli_prints_a_file_level_problem_once(
    tmp_path: Path, content: str | bytes, fragment: str, line: int | None
) -> None:
    assert len(_error_lines(_check_cli(_write(tmp_path, content)))) == 1


@pytest.mark.parametrize("content", EMPTY_CASES)
def test_an_empty_file_names_each_missing_section(tmp_path: Path, content: str) -> None:
    path = _write(tmp_path, content)
    errors = [str(p) for p in check_config(path).errors]
    assert errors == [f"{path} {key}: is required" for key in ("reps", "pools", "rules")]
    result = _check_cli(path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert _error_lines(result) == [f"error: {e}" for e in errors]


def test_mutual_overflow_between_two_pools_is_allowed_and_terminates(tmp_path: Path) -> None:
    """Two pools backing each other up is a legitimate setup (not a malformed loop): the
    router never revisits a pool of the chain, so a lead nobody can take is held. The
    check warns about the cycle, but does not reject the file."""
    from datetime import UTC, datetime

    from worker.routing import RoutingContext, empty_state, route_lead
    from worker.routing.model import Lead

    text = _edit("members: [ann@x.io, ben@x.io]", "members: [ann@x.io]\n    fallback: [{pool: other}]\n"
                 "  other:\n    members: [ben@x.io]\n    fallback: [{pool: main}]")  # fmt: skip
    config = load_config(_write(tmp_path, text))
    decision, _ = route_lead(Lead("00Q1", {}), config=config, context=RoutingContext(),
                             state=empty_state(), now=datetime(2026, 11, 23, 14, tzinfo=UTC))  # fmt: skip
    assert decision.action == "hold"
    assert decision.reason == (
        "Held in the intake queue: main: nobody with a Salesforce user;"
        " other: nobody with a Salesforce user"
    )
    assert [w.message.split(":")[0] for w in check_config(_write(tmp_path, text)).warnings] == [
        "overflow cycle main → other → main"
    ]


# ---------------------------------------------------------------------------------------
# notifications section
# ---------------------------------------------------------------------------------------

CHANNEL = (
    "  channels:\n    ops: {type: slack, url: 'https://hooks.example.com/x', rate_per_minute: 10}\n"
)
NOTIFY_CASES = [
    pytest.param(
        'notifications: {"a\\nb": 1}\n',
        "notifications.a\\nb: unknown key",
        id="line-break-in-a-key",
    ),
    pytest.param("notifications: 5\n", "notifications: must be a mapping", id="not-a-mapping"),
    pytest.param(
        "notifications: {colour: red}\n", "notifications.colour: unknown key", id="unknown-key"
    ),
    pytest.param(
        "notifications:\n  channels:\n    ops: {type: pager}\n",
        "notifications.channels.ops.type: must be one of",
        id="bad-channel-type",
    ),
    pytest.param(
        "notifications:\n  channels:\n    ops: {type: slack, url: 'http://hooks.example.com/x'}\n",
        "notifications.channels.ops.url: must be https",
        id="plain-http",
    ),
    pytest.param(
        "notifications:\n" + CHANNEL.replace("10}", ".inf}"),
        "notifications.channels.ops.rate_per_minute: must be a finite number",
        id="infinite-rate",
    ),
    pytest.param(
        "notifications:\n" + CHANNEL.replace("10}", ".nan}"),
        "notifications.channels.ops.rate_per_minute: must be a finite number",
        id="nan-rate",
    ),
    pytest.param(
        "notifications:\n  delivery: {max_attempts: .inf}\n",
        "notifications.delivery.max_attempts: must be a finite number",
        id="infinite-attempts",
    ),
    pytest.param(
        "notifications:\n  delivery: {batch_size: many}\n",
        "notifications.delivery.batch_size: must be a number",
        id="batch-size-text",
    ),
    pytest.param(
        "notifications:\n  reminder_at: 7\n",
        "notifications.reminder_at: must be between 0 and 1",
        id="reminder-out-of-range",
    ),
    pytest.param(
        "notifications:\n  events: {lead_exploded: {notify: [owner]}}\n",
        "notifications.events.lead_exploded: unknown event",
        id="unknown-event",
    ),
    pytest.param(
        "notifications:\n  people: {not-an-address: {}}\n",
        "notifications.people.not-an-address: 'not-an-address' is not an e-mail address",
        id="bad-person",
    ),
    pytest.param(
        "notifications:\n  channels:\n    ops: {type: slack, url_env: LEADROUTER_TEST_UNSET_URL}\n",
        "notifications.channels.ops.url_env: variable LEADROUTER_TEST_UNSET_URL is not set",
        id="url-env-unset",
    ),
]


@pytest.mark.parametrize(("section", "fragment"), NOTIFY_CASES)
def test_notifications_section_gives_one_line_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: str, fragment: str
) -> None:
    monkeypatch.delenv("LEADROUTER_TEST_UNSET_URL", raising=False)
    path = _write(tmp_path, MINIMAL + section)
    with pytest.raises(NotifyConfigError) as info:
        load_notify_settings(path, environ={})
    assert str(info.value).startswith(fragment) and len(str(info.value).splitlines()) == 1
    result = _check_cli(path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    # one loader for the whole file: the notifier's message, with the line it is about
    (line,) = _error_lines(result)
    assert re.fullmatch(rf"error: {re.escape(str(path))}:\d+ {re.escape(str(info.value))}", line)


# ---------------------------------------------------------------------------------------
# fuzz: the example configs with one part replaced by anything
# ---------------------------------------------------------------------------------------


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*here, i))
    return out


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


ROUTING_DOC = yaml.safe_load((ROOT / "config" / "routing.yaml").read_text())
NOTIFY_DOC = yaml.safe_load((ROOT / "config" / "notifications.example.yaml").read_text())
yaml_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
hostile = st.one_of(
    yaml_values, any_value.filter(lambda v: not isinstance(v, str) or len(v) < 2_000)
)


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(_paths(ROUTING_DOC)), value=hostile)
def test_any_part_of_the_routing_config_replaced_by_anything_gives_problems(
    path: tuple[Any, ...], value: Any
) -> None:
    """Straight into the validator (YAML parsing of the 20 kB example would make this
    slow; the YAML layer has its own cases above)."""
    c = Collector(file="r.yaml")
    build(c, _replaced(ROUTING_DOC, path, value))
    for problem in c.problems + c.warnings:
        assert len(str(problem).splitlines()) == 1 and str(problem).startswith("r.yaml"), str(
            problem
        )


@settings(max_examples=10, deadline=None)
@given(path=st.sampled_from(_paths(ROUTING_DOC)), value=yaml_values)
def test_the_same_through_yaml_text(path: tuple[Any, ...], value: Any) -> None:
    text = yaml.safe_dump(_replaced(ROUTING_DOC, path, value), allow_unicode=True)
    result = check_text(text, "r.yaml")
    assert all(len(str(p).splitlines()) == 1 for p in result.errors + result.warnings)


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(_paths(NOTIFY_DOC["notifications"])), value=hostile)
def test_any_part_of_the_notifications_section_replaced_by_anything_gives_one_error(
    path: tuple[Any, ...], value: Any
) -> None:
    section = _replaced(NOTIFY_DOC["notifications"], path, value)
    env = {"LEADROUTER_SLACK_SALES_URL": "https://hooks.example.com/s", "LEADROUTER_SLACK_REVOPS_URL":
           "https://hooks.example.com/r", "LEADROUTER_WEBHOOK_SECRET": "k"}  # fmt: skip
    try:
        parse_notify_section(section, environ=env)
    except NotifyConfigError as exc:
        assert len(str(exc).splitlines()) == 1 and str(exc).startswith("notifications"), str(exc)
