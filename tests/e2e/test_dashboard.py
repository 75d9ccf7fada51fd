"""The operations dashboard in a real browser (Playwright driving Debian's headless Chromium) after a
simulated half year of several hundred households through the real HTTP APIs: the page shows exactly
what the read side's API answers for the same date and province; a reader without person-level access
sees counts rounded to tens with small counts withheld, on the page and in the API. Screenshots go to
test-artifacts/ (docs/dashboard.png is one of them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from history.domain.disclosure import CONTROLLED
from simulator.flow import Simulation, SimulationReport
from simulator.parameters import dashboard
from tests.e2e.stack import Chain, ServiceStack
from tests.fixtures import MintToken

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
HOUSEHOLDS = 200
AT_CRISIS_LOCATION = dashboard(HOUSEHOLDS).crisis_households  # single adults there: a count below 5
NO_FIGURE = "\u2013"  # what the page shows where there is no figure (an en dash)


@pytest.fixture(scope="module")
async def simulated(stack: ServiceStack, token_for: MintToken) -> AsyncIterator[SimulationReport]:
    chain = Chain(stack, token_for)
    report = await Simulation(chain, dashboard(HOUSEHOLDS)).run()  # returns once the chain is quiet
    print(
        f"simulation: {report.commands} commands, {report.registered_people} people, {report.seconds:.0f} s"
    )
    print(f"simulation phases (s): {report.phases}")
    yield report
    await chain.close()


def chromium() -> str:
    assert CHROMIUM.exists(), (
        "Debian's chromium is missing: deploy/chromium/chromium.sh ensure (make test does)"
    )
    return str(CHROMIUM)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


async def open_dashboard(browser: Browser, url: str, token: str) -> tuple[Page, list[str]]:
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{url}/dashboard")
    await page.fill("#token", token)
    return page, problems


async def show(page: Page, day: str, province: str = "") -> None:
    await page.fill("#valid-at", day)
    if province:
        await page.select_option("#province", province)
    await page.click("#show")
    await page.wait_for_selector(f'body[data-loaded="{day}|{province}"]', timeout=30_000)


def shown(value: int | None) -> str:
    return "<5" if value is None else str(value)


async def api(chain: Chain, agency: str, path: str, **params: str) -> dict[str, Any]:
    query = urlencode({k: v for k, v in params.items() if v})
    response = await chain.call("GET", "history", f"{path}?{query}", agency)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def text(page: Page, selector: str) -> str:
    return (await page.locator(selector).inner_text()).strip()


async def assert_page_equals_api(page: Page, chain: Chain, agency: str, day: str, province: str = "") -> int:
    """Every figure of every section against the API's answer; returns how many were compared."""
    compared = 0
    by_type = await api(chain, agency, "/v1/occupancy", validAt=day, groupBy="type", province=province)
    for row in by_type["results"]:
        section = "occupancy-avoided" if row["toBeAvoided"] else "occupancy-type"
        cells = f'[data-testid="{section}-{row["key"]}"]'
        assert await text(page, f"{cells} .people") == shown(row["occupancy"]), row
        assert await text(page, f"{cells} .places") == str(row["capacity"]), row
        compared += 2
    assert await text(page, '[data-testid="occupancy-total"]') == shown(by_type["totalOccupancy"])
    assert await text(page, '[data-testid="capacity-total"]') == str(by_type["totalCapacity"])
    by_province = await api(chain, agency, "/v1/occupancy", validAt=day, groupBy="province")
    for row in by_province["results"]:
        assert await text(page, f'[data-testid="occupancy-province-{row["key"]}"] .people') == shown(
            row["occupancy"]
        )
        compared += 1
    provinces = await api(chain, agency, "/v1/provinces", validAt=day)
    assert len(provinces["results"]) == 12
    for row in provinces["results"]:
        cells = f'[data-testid="province-{row["province"]}"]'
        assert await text(page, f"{cells} .realised") == str(row["realised"])
        assert await text(page, f"{cells} .target") == str(row["target"])
        assert await text(page, f"{cells} .people") == shown(row["occupancy"])
        compared += 3
    flows = await api(chain, agency, "/v1/flows", validAt=day)
    for month in flows["months"]:
        for field in ("registered", "decided", "housed", "departed", "otherEnds"):
            assert await text(page, f'[data-testid="flows-{month["month"]}"] .{field}') == shown(month[field])
            compared += 1
    streams = await api(chain, agency, "/v1/streams", validAt=day)
    for row in streams["results"]:
        cells = f'[data-testid="stream-{row["stream"]}"]'
        assert await text(page, f"{cells} .people") == shown(row["people"])
        days = row["medianDaysToDecision"]
        on_page = await text(page, f"{cells} .days-to-decision")
        assert on_page == NO_FIGURE if days is None else float(on_page) == days, (row, on_page)
        compared += 2
    moves = await api(chain, agency, "/v1/move-statistics", validAt=day, province=province)
    assert await page.locator("#moves-table tbody tr").count() == len(moves["results"])
    for row in moves["results"]:
        forced = "forced" if row["forced"] else "unforced"
        cell = f'[data-testid="moves-{row["month"]}-{row["reason"]}-{forced}"] .moves'
        assert await text(page, cell) == shown(row["moves"])
        compared += 1
    children = moves["childrenPolicy"]
    for testid, field in (
        ("children-forced-more-than-once", "childrenMovedByForceMoreThanOnce"),
        ("children-school-time-moves", "schoolAgeMovesOutsideHolidays"),
        ("children-out-of-region", "outOfRegionMoves"),
    ):
        assert await text(page, f'[data-testid="{testid}"]') == shown(children[field])
        compared += 1
    return compared


async def test_the_dashboard_shows_what_the_api_answers_for_the_date_and_province_chosen(
    simulated: SimulationReport, browser: Browser, chain: Chain, token_for: MintToken
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert len(simulated.households) == HOUSEHOLDS and simulated.registered_people > HOUSEHOLDS
    today = datetime.now(UTC).date().isoformat()
    page, problems = await open_dashboard(browser, chain.stack.urls["history"], token_for("COA"))

    # COA (person-level access) sees today's figures, nationally: exact, and equal to the API's
    await show(page, today)
    assert await page.locator("#disclosure").is_hidden()
    assert await assert_page_equals_api(page, chain, "COA", today) > 100
    flows = await api(chain, "COA", "/v1/flows", validAt=today)
    assert sum(m["registered"] for m in flows["months"]) >= simulated.registered_people
    assert sum(m["housed"] + m["departed"] for m in flows["months"]) > 0
    national = await api(chain, "COA", "/v1/occupancy", validAt=today, groupBy="type")
    avoided = [r for r in national["results"] if r["toBeAvoided"]]
    assert [(r["key"], r["occupancy"]) for r in avoided] == [("crisisnoodopvang", AT_CRISIS_LOCATION)]
    assert await text(page, '[data-testid="occupancy-avoided-crisisnoodopvang"] .people') == str(
        AT_CRISIS_LOCATION
    )
    health = page.locator('[data-testid="health-history-history"]')
    assert await health.locator(".lag").inner_text() == "0"
    await page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)

    # the children policy's drill-down lists the moves behind the count (pseudonymous ids only)
    await page.click('button.drill[data-list="schoolAgeMovesOutsideHolidays"]')
    await page.wait_for_selector("#drill-down:not([hidden])")
    counts = await api(chain, "COA", "/v1/move-statistics", validAt=today)
    rows = await page.locator("#drill-table tbody tr").count()
    assert rows == counts["childrenPolicy"]["schoolAgeMovesOutsideHolidays"]

    # switching to two months ago in Noord-Brabant: the page follows, still equal to the API
    earlier = (datetime.now(UTC) - timedelta(days=61)).date().isoformat()
    await show(page, earlier, "Noord-Brabant")
    assert await assert_page_equals_api(page, chain, "COA", earlier, "Noord-Brabant") > 50
    brabant = await api(
        chain, "COA", "/v1/occupancy", validAt=earlier, groupBy="type", province="Noord-Brabant"
    )
    assert brabant["totalCapacity"] > 0 and brabant["totalCapacity"] < national["totalCapacity"]
    await page.screenshot(path=ARTIFACTS / "dashboard-noord-brabant.png", full_page=True)
    assert not problems, problems
    await page.close()


async def test_a_steering_table_sees_only_rounded_counts_on_the_page_and_in_the_api(
    simulated: SimulationReport, browser: Browser, chain: Chain, token_for: MintToken
) -> None:
    today = datetime.now(UTC).date().isoformat()

    # In the API: every count of people is the exact one rounded to tens, or withheld below 5
    withheld = 0
    exact = await api(chain, "COA", "/v1/move-statistics", validAt=today)
    controlled = await api(chain, "REGIETAFEL", "/v1/move-statistics", validAt=today)
    assert controlled["disclosureControl"]["applied"] and not exact["disclosureControl"]["applied"]
    for precise, rounded in zip(exact["results"], controlled["results"], strict=True):
        assert rounded["moves"] == CONTROLLED.count(precise["moves"])
        withheld += rounded["moves"] is None
    # (only occupancy is grouped; the others take no groupBy, and an unknown parameter is a 400)
    for path, rows, field, grouped in (
        ("/v1/occupancy", "results", "occupancy", {"groupBy": "type"}),
        ("/v1/provinces", "results", "occupancy", {}),
        ("/v1/streams", "results", "people", {}),
        ("/v1/flows", "months", "registered", {}),
    ):
        precise_rows = (await api(chain, "COA", path, validAt=today, **grouped))[rows]
        rounded_rows = (await api(chain, "REGIETAFEL", path, validAt=today, **grouped))[rows]
        for precise, rounded in zip(precise_rows, rounded_rows, strict=True):
            assert rounded[field] == CONTROLLED.count(precise[field]), (path, precise, rounded)
            withheld += rounded[field] is None
    assert withheld > 0  # at least the crisis location's three
    # and the person-level lists stay closed to it
    for person_level in ("/v1/children-policy", "/v1/moves"):
        refused = await chain.call("GET", "history", person_level, "REGIETAFEL")
        assert refused.status_code == 403 and refused.json()["code"] == "insufficient-scope"

    # On the page: the same rounded answers, the notice shown, no drill-down offered
    page, problems = await open_dashboard(browser, chain.stack.urls["history"], token_for("REGIETAFEL"))
    await show(page, today)
    assert await page.locator("#disclosure").is_visible()
    assert await assert_page_equals_api(page, chain, "REGIETAFEL", today) > 100
    people = await page.locator("td.people, td.moves, td.registered, td.decided").all_inner_texts()
    assert people and all(t == "<5" or int(t) % 10 == 0 for t in people), people
    assert "<5" in people
    crisis = '[data-testid="occupancy-avoided-crisisnoodopvang"] .people'
    assert await text(page, crisis) == "<5"  # three people: withheld
    assert all([await button.is_hidden() for button in await page.locator("button.drill").all()])
    await page.screenshot(path=ARTIFACTS / "dashboard-disclosure-control.png", full_page=True)
    assert not problems, problems
    await page.close()


async def test_the_page_and_its_assets_carry_no_data_and_a_strict_content_security_policy(
    chain: Chain,
) -> None:
    async with httpx.AsyncClient(timeout=10) as anonymous:
        page = await anonymous.get(chain.stack.urls["history"] + "/dashboard")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        chart = await anonymous.get(chain.stack.urls["history"] + "/dashboard/assets/chart.umd.min.js")
        assert chart.status_code == 200 and "Chart.js v4" in chart.text[:200]
        outside = await anonymous.get(chain.stack.urls["history"] + "/dashboard/assets/..%2Fdashboard.py")
        assert outside.status_code == 404
        figures = await anonymous.get(chain.stack.urls["history"] + "/v1/flows")
        assert figures.status_code == 401
