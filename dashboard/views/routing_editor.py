"""Routing editor (admins): rules, pools and their members (per-pool weights and caps),
distribution method, catch-up and fallback order as forms; territories, tags, SLAs and
anything else in the draft's YAML. Edits go to one shared draft, each checked by the checks
of ``config check`` before it is saved (the message beside the form); the draft is compared
with the published version in plain words, backtested against the journal's recent leads,
published, and any version can be rolled back to. The published version wins over the
config file's routing section from the worker's next cycle (:mod:`worker.config_source`).

Two admins at once: every save names the draft revision the form was shown with; a save
against a newer draft is refused, the page says what the other save changed, and the
refused edit can be applied again to the newer draft with one click (nothing is lost).
No Markdown from data: every value is shown with ``st.dataframe``, ``st.text`` or
``st.code``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, session
from dashboard.context import PageContext
from dashboard.replay import to_lead
from dashboard.shape import routing_backtest, routing_edits
from dashboard.shape import routing_editor_rows as tables
from dashboard.shape.routing_diff import diff_texts
from dashboard.shape.routing_edits import Edit, EditError
from worker.config_source import ConfigSource, publish_routing, routing_section
from worker.routing_config import ConfigError
from worker.store.config_versions_repo import (
    PUBLISHED,
    ConfigVersion,
    PublishConflict,
    StaleDraft,
    load_draft,
    save_draft,
)
from worker.store.config_versions_repo import (
    published as published_version,
)
from worker.store.config_versions_repo import (
    versions as all_versions,
)
from worker.store.team_repo import PermissionDenied

BASE = "routing_editor_base"  # (revision, text) the forms were last shown with
PENDING = "routing_editor_pending"  # a refused edit and what the other save changed
NOTICE = "routing_editor_notice"  # the last save's outcome, shown after the rerun
MAX_LEADS = 20_000
ACTIONS = ("pool", "territory", "hold", "stop", "account_owner")


@dataclass(frozen=True)
class Current:
    """What the page edits: the draft's text and revision (0: no draft saved yet, the
    published version's or the file's routing section), and the published version."""

    text: str
    revision: int
    published: ConfigVersion | None
    file_text: str


def _source(ctx: PageContext) -> ConfigSource:
    return data.config_source(str(ctx.settings.routing_config))


def _current(ctx: PageContext) -> Current:
    engine = data.engine()
    published = published_version(engine)
    draft = load_draft(engine)
    file_text, _ = routing_section(ctx.settings.routing_config.read_text(encoding="utf-8"))
    if draft is not None:
        return Current(draft.body, draft.revision, published, file_text)
    return Current(published.body if published else file_text, 0, published, file_text)


def render(ctx: PageContext) -> None:
    st.title("Routing editor")
    if not ctx.is_admin:
        st.info("Only admins (RevOps) can edit the routing. The history is below.")
        _history(ctx, None, editable=False)
        return
    try:
        current = _current(ctx)
        _source(ctx).file()
    except Exception as exc:  # noqa: BLE001 - any config problem is shown, not raised
        _refused("Cannot load the routing config.", f"{ctx.settings.routing_config}: {exc}")
        return
    base_revision, base_text = st.session_state.get(BASE, (current.revision, current.text))
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.container(border=True, key="routing_notice").text(notice)
    _pending(ctx, current)
    where = (
        f"published version {current.published.number}"
        if current.published
        else "the config file (nothing published yet)"
    )
    st.caption(
        f"The worker routes by {where}. Draft revision {current.revision}; edits are "
        "checked like `leadrouter config check` and saved to the shared draft."
    )
    doc = routing_edits.load(current.text)
    tabs = st.tabs(["Rules", "Pools", "Territories", "YAML", "Review & publish", "History"])
    with tabs[0]:
        _rules(ctx, doc, base_revision, base_text)
    with tabs[1]:
        _pools(ctx, doc, base_revision, base_text)
    with tabs[2]:
        _territories(ctx, doc, base_revision, base_text)
    with tabs[3]:
        _yaml(ctx, current, base_revision, base_text)
    with tabs[4]:
        _review(ctx, current)
    with tabs[5]:
        _history(ctx, current, editable=True)
    # the forms now show this revision: a save from them is based on it
    st.session_state[BASE] = (current.revision, current.text)


def _refused(headline: str, detail: str) -> None:
    """A refusal: a fixed headline, the details (names, values typed) as plain text, never
    Markdown."""
    st.error(headline)
    st.text(detail)


# -- saving ------------------------------------------------------------------------------


def _save(
    ctx: PageContext, edit: Edit, base_revision: int, base_text: str, *, text: str | None = None
) -> bool:
    """Apply ``edit`` to the draft the form was shown with and save it; False (with the
    messages shown) when the checks or the store refuse it."""
    try:
        new_text = (
            text
            if text is not None
            else routing_edits.dump(edit.apply(routing_edits.load(base_text)))
        )
    except EditError as exc:
        _refused("Not saved.", f"{exc.field}: {exc}")
        return False
    overrides = {k: o.data for k, o in data.load_overrides(ctx.url).items()}
    effective, errors, _ = _source(ctx).draft(new_text, overrides)
    if effective is None:
        st.error("Not saved: the checks of `config check` refuse it.")
        st.text("\n".join(routing_edits.messages_for(errors, edit.paths)))
        return False
    published = published_version(data.engine())
    try:
        save_draft(
            data.engine(),
            actor=session.current_actor(),
            body=new_text,
            based_on=base_revision,
            base_number=published.number if published else None,
        )
    except PermissionDenied as exc:
        _refused("Not saved.", str(exc))
        return False
    except StaleDraft as exc:
        theirs = exc.current.body if exc.current else base_text
        st.session_state[PENDING] = (
            edit,
            text,
            exc.current.updated_by if exc.current else "someone",
            diff_texts(base_text, theirs),
        )
        st.session_state.pop(BASE, None)
        st.rerun()
    st.session_state[NOTICE] = f"Saved to the draft: {edit.label}."
    st.session_state.pop(BASE, None)
    st.rerun()
    return True  # pragma: no cover - st.rerun() does not return


def _pending(ctx: PageContext, current: Current) -> None:
    """A refused save: what the other save changed, and the refused edit kept."""
    pending = st.session_state.get(PENDING)
    if pending is None:
        return
    edit, text, who, changes = pending
    box = st.container(border=True, key="routing_conflict")
    box.warning("Not saved: the draft was saved by someone else since you loaded it.")
    box.text(f"Saved by: {who}. Your change, kept: {edit.label}. Their changes:")
    box.text("\n".join(changes) or "(no difference in the routing)")
    left, right = box.columns(2)
    if left.button("Apply my change to the latest draft", key="routing_reapply"):
        st.session_state.pop(PENDING, None)
        _save(ctx, edit, current.revision, current.text, text=text)
    if right.button("Discard my change", key="routing_discard"):
        st.session_state.pop(PENDING, None)
        st.rerun()


# -- rules -------------------------------------------------------------------------------


def _rules(ctx: PageContext, doc: dict[str, Any], base_revision: int, base_text: str) -> None:
    rules = [r for r in doc.get("rules") or [] if isinstance(r, dict)]
    st.dataframe(
        pd.DataFrame(tables.rule_rows(doc), columns=list(tables.RULE_COLUMNS)),
        hide_index=True,
        width="stretch",
        key="routing_rules",
    )
    pools = list((doc.get("pools") or {}).keys())
    with st.form("routing_add_rule", clear_on_submit=False):
        st.subheader("Add a rule")
        name = st.text_input("Rule name", key="rule_name")
        position = st.number_input(
            "Position (1 = first; the last rule must match everything)",
            min_value=1, max_value=max(1, len(rules)), value=max(1, len(rules)), step=1,
            key="rule_position",
        )  # fmt: skip
        conditions = []
        for i in range(3):
            c1, c2, c3 = st.columns([2, 1, 2])
            field = c1.text_input(
                f"Condition {i + 1}: field (any Lead field, custom ones too)", key=f"rule_field_{i}"
            )
            op = c2.selectbox("operator", routing_edits.OPERATORS, key=f"rule_op_{i}")
            val = c3.text_input("value (lists: comma separated)", key=f"rule_value_{i}")
            conditions.append((field, op, val))
        a1, a2 = st.columns(2)
        action = a1.selectbox("Action", ACTIONS, key="rule_action")
        pool = a2.selectbox("Pool (for action pool)", pools, key="rule_pool")
        reason = st.text_input("Reason (optional)", key="rule_reason")
        if st.form_submit_button("Add rule", type="primary"):
            try:
                edit = routing_edits.add_rule(name, conditions, action, pool, int(position), reason)
            except EditError as exc:
                _refused("Not saved.", f"{exc.field}: {exc}")
            else:
                _save(ctx, edit, base_revision, base_text)
    if rules:
        with st.form("routing_remove_rule"):
            gone = st.selectbox(
                "Remove a rule", [str(r.get("name")) for r in rules], key="rule_remove"
            )
            if st.form_submit_button("Remove rule"):
                _save(ctx, routing_edits.remove_rule(gone), base_revision, base_text)


# -- pools -------------------------------------------------------------------------------


def _pools(ctx: PageContext, doc: dict[str, Any], base_revision: int, base_text: str) -> None:
    pools = doc.get("pools") if isinstance(doc.get("pools"), dict) else {}
    if not pools:
        st.info("The draft has no pools.")
        return
    names = list(pools)
    name = st.selectbox("Pool", names, key="pool_pick")
    pool = pools[name] if isinstance(pools[name], dict) else {}
    members = routing_edits.member_rows(doc, name)
    st.dataframe(
        pd.DataFrame(members, columns=list(routing_edits.MEMBER_COLUMNS), dtype=object).map(
            lambda v: "" if v is None else str(v)
        ),
        hide_index=True,
        width="stretch",
        key="routing_members",
    )
    reps = [m["rep"] for m in members]
    left, right = st.columns(2)
    with left.form("routing_move_rep"):
        st.subheader("Move a rep to another pool")
        rep = st.selectbox("Rep to move", reps, key="move_rep")
        target = st.selectbox("To pool", [n for n in names if n != name], key="move_to")
        if st.form_submit_button("Move rep"):
            if rep and target:
                _save(ctx, _edit(lambda: routing_edits.move_member(rep, name, target)),
                      base_revision, base_text)  # fmt: skip
    right.subheader("Weight and caps in this pool")
    rep2 = right.selectbox("Rep whose terms to set", reps, key="terms_rep")
    row = next((m for m in members if m["rep"] == rep2), {})
    # the form shows this rep's values afresh; the key is also the element's CSS class
    suffix = re.sub(r"[^A-Za-z0-9_-]", "-", f"{name}_{rep2}_{base_revision}")
    with right.form("routing_member_terms"):
        weight = st.number_input(
            "Weight in pool (0 = the rep's own)", min_value=0.0, step=0.25,
            value=float(row.get("weight in pool") or 0), key=f"terms_weight_{suffix}",
        )  # fmt: skip
        per_day = st.number_input(
            "Cap per day in pool (0 = none)", min_value=0, step=1,
            value=int(row.get("cap/day in pool") or 0), key=f"terms_day_{suffix}",
        )  # fmt: skip
        per_hour = st.number_input(
            "Cap per hour in pool (0 = none)", min_value=0, step=1,
            value=int(row.get("cap/hour in pool") or 0), key=f"terms_hour_{suffix}",
        )  # fmt: skip
        if st.form_submit_button("Save weight and caps") and rep2:
            edit = routing_edits.set_member_terms(
                name, rep2, weight or None, int(per_day) or None, int(per_hour) or None
            )
            _save(ctx, edit, base_revision, base_text)
    others = [str(r.get("email")).lower() for r in doc.get("reps") or [] if isinstance(r, dict)]
    tag = re.sub(r"[^A-Za-z0-9_-]", "-", f"{name}_{base_revision}")  # fresh per pool
    with st.form("routing_pool_settings"):
        st.subheader("Distribution, catch-up and fallback")
        method = st.selectbox(
            "Method", routing_edits.METHODS,
            index=_index(routing_edits.METHODS, pool.get("method", "weighted_round_robin")),
            key=f"pool_method_{tag}",
        )  # fmt: skip
        mode, capped = routing_edits.catch_up_of(pool)
        c1, c2 = st.columns(2)
        catch_up = c1.selectbox(
            "Catch-up after an absence", routing_edits.CATCH_UP,
            index=_index(routing_edits.CATCH_UP, mode), key=f"pool_catch_up_{tag}",
        )  # fmt: skip
        extra = c2.number_input(
            "Extra leads a day (capped)",
            min_value=1,
            step=1,
            value=capped or 2,
            key=f"pool_capped_{tag}",
        )
        choices = [n for n in names if n != name] + [f"rep:{e}" for e in others] + ["hold"]
        current_chain = [e for e in routing_edits.fallback_entries(pool) if e in choices]
        chain = st.multiselect(
            "Fallback, in order", choices, default=current_chain, key=f"pool_fallback_{tag}"
        )
        if st.form_submit_button("Save pool settings"):
            edit = _edit(
                lambda: routing_edits.set_pool(
                    name, method=method, catch_up=catch_up, capped=int(extra), fallback=chain
                )
            )
            _save(ctx, edit, base_revision, base_text)
    _pool_sla(ctx, name, pool, base_revision, base_text)


def _pool_sla(
    ctx: PageContext, name: str, pool: dict[str, Any], base_revision: int, base_text: str
) -> None:
    sla = routing_edits.sla_of(pool)
    with st.form("routing_pool_sla"):
        st.subheader("SLA of this pool")
        c1, c2, c3 = st.columns(3)
        minutes = c1.number_input(
            "Minutes to a first touch (0 = the default SLA)", min_value=0, step=5,
            value=int(sla["minutes"] or 0), key=f"sla_minutes_{name}_{base_revision}",
        )  # fmt: skip
        breach = c2.selectbox(
            "On a miss", routing_edits.BREACH,
            index=_index(routing_edits.BREACH, sla["on_breach"]),
            key=f"sla_breach_{name}_{base_revision}",
        )  # fmt: skip
        hops = c3.number_input(
            "Re-assignments or reminders before escalating", min_value=0, step=1,
            value=int(sla["max_hops"] or 0), key=f"sla_hops_{name}_{base_revision}",
        )  # fmt: skip
        working = st.checkbox(
            "Count only the owner's working minutes", value=bool(sla["working_hours_only"]),
            key=f"sla_working_{name}_{base_revision}",
        )  # fmt: skip
        if st.form_submit_button("Save SLA"):
            edit = _edit(
                lambda: routing_edits.set_pool_sla(
                    name, minutes=int(minutes) or None, on_breach=breach, max_hops=int(hops),
                    working_hours_only=working,
                )
            )  # fmt: skip
            _save(ctx, edit, base_revision, base_text)


def _territories(ctx: PageContext, doc: dict[str, Any], base_revision: int, base_text: str) -> None:
    rows = routing_edits.territory_rows(doc)
    st.dataframe(pd.DataFrame(rows, columns=["territory", "pool", "priority", "countries", "states"]),
                 hide_index=True, width="stretch", key="routing_territories")  # fmt: skip
    names = [r["territory"] for r in rows]
    pools = list((doc.get("pools") or {}).keys())
    pick = st.selectbox("Territory to edit", ["(a new territory)", *names], key="territory_pick")
    row = next((r for r in rows if r["territory"] == pick), None)
    tag = re.sub(r"[^A-Za-z0-9_-]", "-", f"{pick}_{base_revision}")
    with st.form("routing_territory"):
        name = st.text_input("Name", value=row["territory"] if row else "", key=f"terr_name_{tag}")
        c1, c2 = st.columns(2)
        pool = c1.selectbox(
            "Pool", pools, index=pools.index(row["pool"]) if row and row["pool"] in pools else 0,
            key=f"terr_pool_{tag}",
        )  # fmt: skip
        priority = c2.number_input(
            "Priority (higher wins an overlap)", min_value=0, step=1,
            value=int(row["priority"]) if row else 0, key=f"terr_priority_{tag}",
        )  # fmt: skip
        countries = st.text_input(
            "Countries (comma separated, any language: US, Deutschland, U.K.)",
            value=row["countries"] if row else "", key=f"terr_countries_{tag}",
        )  # fmt: skip
        states = st.text_input(
            "States (comma separated)", value=row["states"] if row else "",
            key=f"terr_states_{tag}",
        )  # fmt: skip
        if st.form_submit_button("Save territory"):
            edit = _edit(
                lambda: routing_edits.set_territory(
                    name, pool=pool or "", priority=int(priority), countries=countries,
                    states=states,
                )
            )  # fmt: skip
            _save(ctx, edit, base_revision, base_text)
    if row is not None and st.button(f"Remove territory {pick}", key="territory_remove"):
        _save(ctx, routing_edits.remove_territory(pick), base_revision, base_text)


def _edit(make: Any) -> Edit:
    """An edit whose own arguments are wrong becomes one that reports it when applied."""
    try:
        edit: Edit = make()
    except EditError as exc:
        error = exc

        def fail(_: dict[str, Any]) -> dict[str, Any]:
            raise error

        return Edit(str(error), fail)
    return edit


def _index(options: tuple[str, ...], value: Any) -> int:
    return options.index(value) if value in options else 0


# -- YAML --------------------------------------------------------------------------------


def _yaml(ctx: PageContext, current: Current, base_revision: int, base_text: str) -> None:
    st.caption(
        "Everything the forms do not cover (lead tags, rule SLAs, reps, intake, "
        "account matching): edit the draft's routing section here. `notifications:` stays "
        "in the config file."
    )
    with st.form("routing_yaml"):
        text = st.text_area(
            "Draft (YAML)", value=current.text, height=420,
            key=f"routing_yaml_text_{current.revision}",
        )  # fmt: skip
        if st.form_submit_button("Save YAML"):
            edit = Edit("edit of the YAML", lambda d: d, ("",))
            _save(ctx, edit, base_revision, base_text, text=text)
    st.download_button(
        "Export the draft (YAML)", current.text.encode("utf-8"), "routing-draft.yaml",
        mime="application/x-yaml", key="routing_export_draft",
    )  # fmt: skip
    upload = st.file_uploader(
        "Import YAML into the draft", type=["yaml", "yml"], key="routing_import"
    )
    if upload is not None and st.button("Load the file into the draft", key="routing_import_go"):
        try:
            raw = upload.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            st.error("Not UTF-8 text.")
            return
        body, dropped = routing_section(raw)
        if dropped:
            st.info("Its notifications section is left out: the config file's apply.")
        _save(ctx, Edit(f"import of {upload.name}", lambda d: d, ("",)),
              base_revision, base_text, text=body)  # fmt: skip


# -- review, backtest, publish -----------------------------------------------------------


def _review(ctx: PageContext, current: Current) -> None:
    published_text = current.published.body if current.published else current.file_text
    against = (
        f"published version {current.published.number}" if current.published else "the config file"
    )
    changes = diff_texts(published_text, current.text)
    st.subheader(f"Draft compared with {against}")
    st.text("\n".join(changes) if changes else "No change: the draft is the published routing.")
    st.subheader("Backtest")
    days = st.slider("Replay the leads of the last N days", 1, 30, 7, key="backtest_days")
    if st.button("Run backtest", key="routing_backtest"):
        _backtest(ctx, current, published_text, days)
    st.subheader("Publish")
    with st.form("routing_publish"):
        message = st.text_input(
            "What changed and why (shown in the history)", key="publish_message"
        )
        if st.form_submit_button("Publish the draft", type="primary", disabled=not changes):
            try:
                version = publish_routing(
                    data.engine(), _source(ctx), actor=session.current_actor(),
                    body=current.text, message=message, draft_revision=current.revision or None,
                )  # fmt: skip
            except ConfigError as exc:
                st.error("Not published: the checks of `config check` refuse the draft.")
                st.text("\n".join(f"{p.path}: {p.message}" for p in exc.problems))
            except (PermissionDenied, StaleDraft, PublishConflict) as exc:
                _refused("Not published.", str(exc))
            else:
                data.clear_settings_caches()
                st.session_state[NOTICE] = (
                    f"Published version {version.number}: the worker routes by it from its next cycle."
                )
                st.session_state.pop(BASE, None)
                st.rerun()


def _backtest(ctx: PageContext, current: Current, published_text: str, days: int) -> None:
    overrides = {k: o.data for k, o in data.load_overrides(ctx.url).items()}
    source = _source(ctx)
    before, _, _ = source.draft(published_text, overrides, name="published")
    after, errors, _ = source.draft(current.text, overrides)
    if before is None or after is None:
        st.error("The draft does not pass the checks: fix it first.")
        st.text("\n".join(f"{p.path}: {p.message}" for p in errors))
        return
    rows = data.load_replay_leads(ctx.url, ctx.minute - timedelta(days=days), "", MAX_LEADS)
    if not rows:
        st.info("No lead was routed in that period: nothing to replay.")
        return
    with st.spinner(f"Replaying {len(rows):,} leads…"):
        leads = [to_lead(r) for r in rows]
        accounts = data.load_account_index(ctx.url, leads, before.routing.account_matching)
        result = routing_backtest.run(
            before.routing, after.routing, rows, accounts=accounts,
            directory=data.load_rep_directory(ctx.url),
        )  # fmt: skip
    names = {k: r.name for k, r in after.routing.reps.items()} | {
        k: r.name for k, r in before.routing.reps.items()
    }
    st.text(routing_backtest.summary(result))
    st.dataframe(pd.DataFrame(routing_backtest.pool_rows(result)), hide_index=True, width="stretch",
                 key="backtest_pools")  # fmt: skip
    st.dataframe(pd.DataFrame(routing_backtest.rep_rows(result, names)), hide_index=True,
                 width="stretch", key="backtest_reps")  # fmt: skip
    changed = routing_backtest.changed_leads(result, names)
    if changed:
        st.caption("Leads the draft would route elsewhere")
        st.dataframe(pd.DataFrame(changed), hide_index=True, width="stretch", key="backtest_leads")


# -- history -----------------------------------------------------------------------------


def _history(ctx: PageContext, current: Current | None, *, editable: bool) -> None:
    engine = data.engine()
    versions = all_versions(engine)
    if not versions:
        st.info("No version published yet: the config file's routing section applies.")
        return
    st.dataframe(
        pd.DataFrame(tables.history_rows(versions), columns=list(tables.HISTORY_COLUMNS)),
        hide_index=True,
        width="stretch",
        key="routing_history",
    )
    numbers = [v.number for v in versions]
    pick = st.selectbox("Version", numbers, key="history_pick")
    chosen = next(v for v in versions if v.number == pick)
    st.download_button(
        f"Export version {pick} (YAML)", chosen.body.encode("utf-8"), f"routing-v{pick}.yaml",
        mime="application/x-yaml", key="routing_export_version",
    )  # fmt: skip
    if not editable or chosen.status == PUBLISHED:
        return
    if st.button(f"Roll back to version {pick}", key="routing_rollback"):
        try:
            publish_routing(
                engine, _source(ctx), actor=session.current_actor(), body=chosen.body,
                message=f"roll back to version {pick}", base_number=pick,
            )  # fmt: skip
        except ConfigError as exc:
            st.error(f"Version {pick} no longer passes the checks:")
            st.text("\n".join(f"{p.path}: {p.message}" for p in exc.problems))
        except (PermissionDenied, PublishConflict) as exc:
            _refused("Not rolled back.", str(exc))
        else:
            data.clear_settings_caches()
            st.session_state[NOTICE] = f"Rolled back: version {pick} is published again."
            st.session_state.pop(BASE, None)
            st.rerun()
