"""Every page of the dashboard in a real browser, against the shared demo stack, at 1280
and 1440 px: a screenshot of each (test-artifacts/screenshots/<page>-<width>.png) and,
for each, no Streamlit exception, its tables inside the viewport with their first
(important) column in view, and no cell reading "None" or "nan". Admin pages, the "why"
page of a real lead (a deep link, ``?lead=<Id>``) and the rep's My leads.

A data grid draws on a canvas and draws a missing value as a grey "None" that its
accessible text leaves blank, so the cells are checked in the data the server sent the
browser (each table's Arrow data, read from the page's websocket frames), and in the
accessible text too."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import (
    DEMO_GROUP,
    REP_KEY,
    REP_USER,
    SHOTS,
    routed_lead,
    settle,
    signed_in_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration,
              pytest.mark.xdist_group(DEMO_GROUP)]  # fmt: skip
WIDTHS = (1280, 1440)
HEIGHT = 1600  # Streamlit scrolls inside its own container: a tall window shows more
ADMIN_PAGES = ("Overview", "Distribution log", "Fairness audit", "Team settings", "What-if",
               "Routing editor", "Team today", "Find a lead")  # fmt: skip
EMPTY_LOOKING = {"None", "nan", "NaN", "NaT", "<NA>", "null"}
EMPTY_CELLS: list[str] = []  # the cells that would read "None" or "nan", on any page
# each table (data grid or static table) as seen in the page: where its frame is, where
# its first column header is, how wide its content is, and the text of every cell
TABLES_JS = """() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
                        return {left: r.left, right: r.right, width: r.width}; };
  const grids = [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter((el) => el.offsetParent !== null)
    .map((el) => {
      const scroller = el.querySelector('.dvn-scroller');
      const header = el.querySelector('[role="columnheader"]');
      return {kind: 'grid', frame: box(el), first: box(header),
              firstName: header ? header.textContent : null,
              scrollWidth: scroller ? scroller.scrollWidth : null,
              scrollLeft: scroller ? scroller.scrollLeft : null,
              clientWidth: scroller ? scroller.clientWidth : null,
              cells: [...el.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent)};
    });
  const tables = [...document.querySelectorAll('[data-testid="stTable"]')]
    .filter((el) => el.offsetParent !== null)
    .map((el) => {
      const header = el.querySelector('th');
      return {kind: 'table', frame: box(el), first: box(header),
              firstName: header ? header.textContent : null,
              scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
              scrollLeft: el.scrollLeft,
              cells: [...el.querySelectorAll('td')].map((c) => c.textContent)};
    });
  return grids.concat(tables);
}"""


class Sent:
    """The tables the server sent a page (websocket frames, Streamlit's ForwardMsg)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.seen = 0
        self.tables = 0  # how many tables were checked

    def listen(self, page: Any) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: self.frames.append(f)))

    def new_tables(self) -> list[tuple[str, Any, list[str], bool]]:
        """(kind, Arrow table, shown columns, whether a missing value reads "None") of
        each table sent since the last call."""
        import pyarrow as pa
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        found = []
        for frame in self.frames[self.seen :]:
            if not isinstance(frame, bytes):
                continue
            msg = ForwardMsg()
            msg.ParseFromString(frame)
            assert msg.WhichOneof("type") != "ref_hash", "a cached message: its table unseen"
            if not msg.HasField("delta") or msg.delta.WhichOneof("type") != "new_element":
                continue
            element = msg.delta.new_element
            kind = element.WhichOneof("type")
            if kind not in ("dataframe", "table"):
                continue
            proto = getattr(element, kind)
            if not proto.arrow_data.data:  # loaded lazily: nothing to check here
                continue
            table = pa.ipc.open_stream(proto.arrow_data.data).read_all()
            names = [n for n in table.schema.names if not n.startswith("__index_level")]
            missing_drawn = True  # a missing value is drawn as "None" ...
            if kind == "dataframe":
                config = json.loads(proto.columns or "{}")
                names = list(proto.column_order) or names
                names = [n for n in names if not config.get(n, {}).get("hidden")]
                # ... unless the grid has a placeholder for it ("" for a blank)
                missing_drawn = proto.placeholder == "None" or not proto.HasField("placeholder")
            found.append((kind, table, names, missing_drawn))
        self.seen = len(self.frames)
        self.tables += len(found)
        return found


def _sent_problems(sent: Sent, where: str) -> list[str]:
    """Cells of the tables sent for this page that would read "None" or "nan"."""
    problems = []
    for kind, table, names, missing_drawn in sent.new_tables():
        for name in names:
            column = table.column(name)
            if missing_drawn and column.null_count:
                problems.append(f"{where}, {kind} column {name!r}: {column.null_count} empty")
            texts = {str(v) for v in column.to_pylist() if isinstance(v, str)}
            if texts & EMPTY_LOOKING:
                problems.append(f"{where}, {kind} column {name!r}: {sorted(texts & EMPTY_LOOKING)}")
    return problems


def _slug(title: str) -> str:
    return re.sub(r"[^a-z]+", "-", title.lower()).strip("-")


def _check_and_shoot(page: Any, title: str, width: int, sent: Sent) -> list[str]:
    """Screenshot the page and check it; returns the tables whose columns do not all fit
    (their content scrolls sideways inside the frame), for the report."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=60_000)
    settle(page)
    page.screenshot(path=str(SHOTS / f"{_slug(title)}-{width}.png"), full_page=True)
    where = f"{title} at {width} px"
    assert page.locator('[data-testid="stException"]').count() == 0, (
        f"{where}: {page.locator('[data-testid=stException]').first.inner_text()}"
    )
    EMPTY_CELLS.extend(_sent_problems(sent, where))  # all pages' shown before failing
    narrow = []
    for n, table in enumerate(page.evaluate(TABLES_JS), 1):
        name = f"{where}, {table['kind']} {n} ({table['firstName']!r} first)"
        frame = table["frame"]
        assert frame["left"] >= 0 and frame["right"] <= width + 1, f"{name}: {frame}"
        # the grid is scrolled to its start: the first (important) column is in view
        assert table["scrollLeft"] in (None, 0), f"{name}: scrolled by {table['scrollLeft']}"
        empty = sorted({c.strip() for c in table["cells"]} & EMPTY_LOOKING)
        if empty:
            EMPTY_CELLS.append(f"{name}: cells read {empty}")
        if table["scrollWidth"] and table["scrollWidth"] > table["clientWidth"] + 1:
            narrow.append(
                f"{name}: {table['scrollWidth']} px of columns in {table['clientWidth']} px"
            )
    return narrow


def _open(page: Any, title: str) -> None:
    page.get_by_role("link", name=title).click()
    if title == "What-if":  # its table appears once run
        from playwright.sync_api import expect

        expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=60_000)
        settle(page)
        page.get_by_role("button", name="Run what-if").click()
        replayed = re.compile("Leads replayed|No leads were routed")
        expect(page.get_by_text(replayed).first).to_be_visible(timeout=60_000)


def test_every_page_at_1280_and_1440(browser: Any, demo_stack: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    lead_id = routed_lead(demo_stack)
    routed_lead(demo_stack, REP_KEY)  # so the rep's page has a table too
    narrow: list[str] = []
    checked = 0
    for width in WIDTHS:
        sent = Sent()
        page = signed_in_page(browser, demo_stack, width=width, height=HEIGHT, on_page=sent.listen)
        narrow += _check_and_shoot(page, "Overview", width, sent)
        for title in ADMIN_PAGES[1:]:
            _open(page, title)
            if title == "Find a lead":
                settle(page)
                page.get_by_role("textbox", name="Search").fill(lead_id)
                page.get_by_role("textbox", name="Search").press("Enter")
            narrow += _check_and_shoot(page, title, width, sent)
        # a notification's deep link: ?lead=<Id> opens the lead's "why" page
        session = parse_qs(urlsplit(page.url).query)["session"][0]
        page.goto(f"{demo_stack['dashboard_url']}/?lead={lead_id}&session={session}")
        narrow += _check_and_shoot(page, "Why this lead", width, sent)
        page.context.close()
        checked += sent.tables

        sent = Sent()
        rep = signed_in_page(
            browser, demo_stack, REP_USER, width=width, height=HEIGHT, on_page=sent.listen
        )
        narrow += _check_and_shoot(rep, "My leads", width, sent)
        rep.context.close()
        checked += sent.tables
    assert checked >= 10, f"only {checked} tables seen in the traffic: is the check blind?"
    if EMPTY_CELLS:
        pytest.fail("cells that read None or nan:\n" + "\n".join(EMPTY_CELLS))
    print(f"{checked} tables checked in the data sent;", end=" ")
    print("\n".join(["tables whose columns scroll inside their frame:", *narrow]))
