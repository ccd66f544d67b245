"""The ops console in a real browser (Debian's headless Chromium driven by Playwright) against a live worker: sign in
with a token, pick a property, see its locks, credentials and the master-key shift's progress; a wrong-tenant token
sees nothing of the tenant. Screenshots are saved under ``$LIS_SCREENSHOT_DIR`` (default ``.var/console``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from app.devstack.browser import chromium_bin
from app.domain.ops_access import OpsRole
from tests.pipeline import Pipeline, distinct

ROOMS = 4
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=ROOMS)]
SHOTS = Path(os.environ.get("LIS_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / ".var" / "console"))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before any page
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium_bin()), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


async def sign_in_and_pick(browser: Browser, url: str, token: str, key: str) -> Page:
    page = await browser.new_page(viewport={"width": 1100, "height": 800})
    await page.goto(f"{url}/ops/console")
    await page.fill("#token", token)
    await page.click("#sign-in button")
    await page.fill("#property", key)
    await page.click("#pick button[type=submit]")
    await page.wait_for_selector("#property-view:not([hidden]), #error:not([hidden])")
    return page


async def test_the_console_shows_a_propertys_locks_credentials_and_shift_and_nothing_to_another_tenant(
    pipeline: Pipeline, browser: Browser,
) -> None:
    await pipeline.publish(pipeline.confirmations(range(1, ROOMS + 1)))
    issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    assert len(distinct(issued, "key.issued")) == ROOMS
    pipeline.lis("master-key", "shift", "--tenant", pipeline.tenant, "--property", "p1", "--timeout", "120")
    tenant, url = pipeline.tenant, f"http://127.0.0.1:{pipeline.web_port}"
    operator = pipeline.stack.ops_issuer.issue(subject="desk", role=OpsRole.TENANT_OPERATOR, tenants=[tenant])
    page = await sign_in_and_pick(browser, url, operator, f"{tenant}/p1")
    await page.screenshot(path=SHOTS / "property.png", full_page=True)
    assert await page.locator("#error").is_hidden()
    assert await page.locator("#sign-in").is_hidden(), "signed in: the token form is gone"
    rows = page.locator("#locks tbody tr")
    assert await rows.count() == ROOMS
    for n in range(1, ROOMS + 1):
        row = page.locator(f'#locks tbody tr[data-lock="door-{n}"]')
        assert f"{tenant}/p1/R{n}: issued (passcode)" in await row.inner_text()
    assert await page.inner_text('[data-fact="locks"]') == str(ROOMS)
    assert await page.inner_text('[data-fact="failed steps"]') == "0"
    assert "completed" in await page.inner_text("#shift-status")
    progress = page.locator("#shift-progress")
    assert await progress.get_attribute("value") == await progress.get_attribute("max") == str(ROOMS)

    stranger = pipeline.stack.ops_issuer.issue(subject="other", role=OpsRole.TENANT_OPERATOR, tenants=["elsewhere"])
    page = await sign_in_and_pick(browser, url, stranger, f"{tenant}/p1")
    await page.screenshot(path=SHOTS / "wrong-tenant.png", full_page=True)
    assert await page.inner_text("#error") == "Refused: 403 tenant_not_allowed"
    assert await page.locator("#property-view").is_hidden()
    shown = await page.evaluate("document.body.innerText")
    assert "door-" not in shown, shown
    assert "issued" not in shown, shown
    assert await page.locator("#locks tbody tr").count() == 0
