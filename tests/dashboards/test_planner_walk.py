"""The planner's day in a real browser: a real Streamlit server on a small generated home
(planner_walk_home.py says why its flags), Debian's Chromium driven by Playwright.

Find the most urgent line and open it by a row click, change its quantity and approve it,
reject another with a note, approve a whole supplier at once, see that supplier's minimum-order
warning, send (that short order anyway, as the planner chooses), download the purchase order
and the view; then read the decision store and the outbox files directly and check they hold
what the planner did."""

from __future__ import annotations

import csv
import io

import duckdb
import openpyxl
import pytest

from assets.decisions.store import DecisionStore
from assets.outbox import read_manifest
from planner_walk_home import build_walk_home
from test_dashboard_browser import CHROMIUM, LAUNCH_ARGS, streamlit_server

PLANNER = "walk planner"
NOTE = "range being delisted"
ROW_PX = 35  # st.dataframe's default row height (header row included)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]


@pytest.fixture(scope="module")
def walk_home(tmp_path_factory):
    return build_walk_home(tmp_path_factory.mktemp("walk") / "home")


def plan(serving) -> dict:
    """What the walk will do, chosen from the snapshot (independent SQL): the most urgent line
    (its supplier's minimum needs more than this line, so approving it alone leaves the order
    short), another supplier's line to reject, and a third supplier whose suggested lines
    reach its minimum, to approve at once and send."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        lines = con.execute("""
            SELECT s.urgency_rank, s.suggestion_id, s.sku, s.supplier_id, s.suggested_units,
                   s.case_pack, s.unit_cost, su.min_order_value,
                   sum(s.line_value) OVER (PARTITION BY s.supplier_id) AS supplier_total
            FROM marts.replenishment_suggestions AS s JOIN core.suppliers AS su USING (supplier_id)
            ORDER BY s.urgency_rank""").fetchall()
    finally:
        con.close()
    first = lines[0]
    more = first[4] + first[5]  # one case more than suggested
    assert more * first[6] < first[7], "the most urgent line alone should not reach its minimum"
    rejected = next(l for l in lines if l[3] != first[3])
    bulk = next(l[3] for l in lines if l[3] not in (first[3], rejected[3]) and l[8] >= (l[7] or 0))
    return {"first": first, "more": more, "rejected": rejected, "bulk": bulk,
            "bulk_ids": [l[1] for l in lines if l[3] == bulk],
            "rows": [l[1] for l in lines]}


def settle(page) -> None:
    """Wait until the rerun a click started has finished: while it runs, Streamlit keeps the
    previous run's elements on the page, marked stale."""
    from playwright.sync_api import expect

    page.wait_for_timeout(300)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=60_000)


def click_row(page, position: int) -> None:
    """Click row ``position`` (0 = top) of the suggestions table on its row marker."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + ROW_PX * (position + 1) + ROW_PX / 2)
    settle(page)


def test_the_planners_day_in_a_real_browser(walk_home, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    walk = plan(walk_home.serving_path)
    first, rejected, more = walk["first"], walk["rejected"], walk["more"]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with streamlit_server(walk_home.home) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    accept_downloads=True)
            page.set_default_timeout(60_000)
            page.goto(f"{url}/replenishment")
            name = page.get_by_label("Your name (required to decide; kept for this session)")
            name.fill(PLANNER)
            name.press("Enter")
            settle(page)
            detail = page.get_by_role("heading", name="Detail:")

            def detail_shows(text: str) -> None:
                # the line's own heading, and only it: a rerun's stale detail must be gone
                expect(page.get_by_role("heading", name=text.strip())).to_have_count(1)
                expect(detail).to_have_count(1)
                expect(detail).to_contain_text(text)

            # the most urgent line: the table's first row, opened by a click
            click_row(page, 1)  # another row first, so the click on row 0 is what opens it
            detail_shows(f"Detail: #2 ")
            click_row(page, 0)
            detail_shows(f"Detail: #1 {first[2]} ")
            units = page.get_by_role("spinbutton", name="Order units")
            units.fill(str(more))
            units.press("Enter")
            settle(page)
            page.get_by_role("button", name="Approve", exact=True).click()
            page.get_by_text(f"Saved 1 decision(s) by {PLANNER}").wait_for()

            # another line rejected, with a note
            click_row(page, walk["rows"].index(rejected[1]))
            detail_shows(f"Detail: #{rejected[0]} {rejected[2]} ")
            note = page.get_by_label("Note (optional, this decision only)")
            note.fill(NOTE)
            note.press("Enter")
            settle(page)
            page.get_by_role("button", name="Reject", exact=True).click()
            page.get_by_text(f"{rejected[2]} @").filter(has_text="rejected").first.wait_for()

            # the most urgent line's supplier is now short of its minimum: the warning, with
            # the open lines that would top it up
            warning = page.get_by_text("Below the supplier's minimum order value")
            warning.wait_for()
            assert first[3] in warning.inner_text()
            page.get_by_text(f"Top up ").first.wait_for()
            page.screenshot(path=str(shots / "minimum_warning.png"), full_page=True)

            # a whole supplier approved at once: search it, tick every line shown, approve
            search = page.get_by_role("textbox", name="Search supplier")
            search.fill(walk["bulk"])
            search.press("Enter")
            settle(page)
            page.get_by_text("Decide on several lines at once").click()
            page.get_by_text("Select every line shown").click()
            settle(page)
            page.get_by_role("button", name=f"Approve selected ({len(walk['bulk_ids'])})").click()
            page.get_by_text(f"Saved {len(walk['bulk_ids'])} decision(s) by {PLANNER}").wait_for()

            # send: the full order goes out, the short one is held and the page says so
            page.get_by_role("button", name="Send purchase orders").click()
            page.get_by_text(f"Sent by {PLANNER}: {len(walk['bulk_ids'])} line(s) on 1 "
                             "purchase order(s)").wait_for(timeout=180_000)
            held = page.get_by_text("held below the supplier's minimum order value")
            held.wait_for()
            assert first[3] in held.inner_text()
            page.screenshot(path=str(shots / "sent.png"), full_page=True)

            # download the purchase order, and the view as XLSX
            with page.expect_download() as got:  # the one purchase order sent
                page.get_by_role("button", name="CSV", exact=True).click()
            po_csv = got.value.path().read_bytes()
            with page.expect_download() as got:
                page.get_by_role("button",
                                 name="Download replenishment_suggestions (XLSX)").click()
            view_xlsx = got.value.path().read_bytes()
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            browser.close()

    # the audit, read from the decision store itself
    store = DecisionStore(walk_home.home)
    top = store.get(first[1])  # approved at the planner's quantity, held with its supplier
    assert (top["status"], top["quantity"], top["user"]) == ("edited", more, PLANNER)
    assert {r["suggestion_id"] for r in store.pending()} == {first[1]}
    gone = store.get(rejected[1])
    assert (gone["status"], gone["note"], gone["user"]) == ("rejected", NOTE, PLANNER)
    for sid in walk["bulk_ids"]:
        line = store.get(sid)
        assert (line["status"], line["note"]) == ("sent", None), sid  # the reject note stayed
        sends = [h for h in store.history(sid) if h["action"] == "send"]
        assert sends and {h["user"] for h in sends} == {PLANNER}

    # the outbox: one purchase order, the bulk supplier's; the download is its listed file
    entries = [e for e in read_manifest(walk_home.outbox) if e.get("kind") == "supplier_file"]
    assert {(e["supplier_id"], e["format"]) for e in entries} == {
        (walk["bulk"], "csv"), (walk["bulk"], "xlsx")}
    po = next(e for e in entries if e["format"] == "csv")
    assert (walk_home.outbox / po["path"]).read_bytes() == po_csv
    po_lines = list(csv.DictReader(io.StringIO(po_csv.decode("utf-8-sig"))))
    assert len(po_lines) == len(walk["bulk_ids"]) == po["rows"]
    assert {r["po_number"] for r in po_lines} == {store.get(walk["bulk_ids"][0])["po_number"]}

    # the XLSX of the view as shown (still searched to the bulk supplier): its lines
    sheet = openpyxl.load_workbook(io.BytesIO(view_xlsx)).active
    header, *body = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert sorted(r[header.index("suggestion_id")] for r in body) == sorted(walk["bulk_ids"])
    assert {r[header.index("status")] for r in body} == {"sent"}
