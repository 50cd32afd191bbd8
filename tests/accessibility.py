"""axe-core's check of a page, as a browser test sees it (docs/adr/0025-accessibility-proof.md).

`assert_accessible(page)` runs axe-core (the npm package of package.json, installed by `make`)
with the WCAG 2.0, 2.1 and 2.2 A and AA rules over the page exactly as it stands — after a GET, a
refused form, a confirmation — and fails listing every violation: its rule, impact, the
elements (CSS selectors) and the help text. `enhanced=True` adds axe's AAA contrast rule
(7:1), for the elder mode.

Our pages are tested with JavaScript disabled, and axe cannot run in such a page (it needs
timers and promises, which a page without script never runs, even for Playwright's own
evaluation). So the page's document, as the browser holds it, is loaded again at the same
address in a twin page with script allowed and the Content-Security-Policy bypassed (the CSP
forbids every script; the bypass is the test's, never the site's), with the same viewport,
cookies and language; only the document is replayed, its stylesheets and images are fetched
from the server as usual. Our pages carry no script, so the twin renders the same page, and a
POST's answer (a form with its errors) is checked without posting it twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Route

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


def axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make install` (npm ci installs axe-core)")
    return AXE.read_text(encoding="utf-8")


def axe_options(*, enhanced: bool = False) -> dict[str, Any]:
    """What axe runs: the WCAG A/AA tags; `enhanced` adds the 7:1 contrast rule."""
    options: dict[str, Any] = {
        "runOnly": {"type": "tag", "values": list(WCAG_AA)},
        "resultTypes": ["violations"],
    }
    if enhanced:
        options["rules"] = {"color-contrast-enhanced": {"enabled": True}}
    return options


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, help, and each element's selector."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation.get('impact')}): {violation['help']} "
            f"[{violation.get('helpUrl', '')}]"
        )
        for node in violation["nodes"]:
            target = " ".join(json.dumps(part, ensure_ascii=False) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


@dataclass
class _Twin:
    """The page axe runs in for one tested browser context: same viewport, script allowed, CSP
    bypassed, axe loaded at every navigation; it replays the document it is given."""

    page: Page
    url: str = ""
    document: str = ""


_TWINS: dict[int, _Twin] = {}


async def _twin_of(page: Page) -> _Twin:
    tested = page.context
    twin = _TWINS.get(id(tested))
    if twin is not None:
        return twin
    browser = tested.browser
    assert browser is not None
    context = await browser.new_context(
        viewport=page.viewport_size, java_script_enabled=True, bypass_csp=True
    )
    await context.add_init_script(axe_source())
    twin = _Twin(await context.new_page())

    async def replay(route: Route) -> None:
        await route.fulfill(status=200, body=twin.document, content_type="text/html; charset=utf-8")

    await twin.page.route(lambda address: address.split("#", 1)[0] == twin.url, replay)
    _TWINS[id(tested)] = twin

    async def close_twin(_: object) -> None:
        _TWINS.pop(id(tested), None)
        await context.close()

    tested.on("close", close_twin)
    return twin


async def axe_violations(page: Page, *, enhanced: bool = False) -> list[dict[str, Any]]:
    """axe's violations for `page` as it stands, run in its twin page that may run script."""
    twin = await _twin_of(page)
    twin.url = page.url.split("#", 1)[0]
    twin.document = await page.content()
    await twin.page.context.clear_cookies()
    await twin.page.context.add_cookies(await page.context.cookies())  # type: ignore[arg-type]
    await twin.page.goto(twin.url, wait_until="load")
    result = await twin.page.evaluate(
        "options => axe.run(document, options).then(r => r.violations)",
        axe_options(enhanced=enhanced),
    )
    violations: list[dict[str, Any]] = result
    return violations


async def assert_accessible(page: Page, *, enhanced: bool = False) -> None:
    """Fail, listing each violation, unless axe finds no WCAG 2.x A/AA violation on `page`."""
    violations = await axe_violations(page, enhanced=enhanced)
    assert not violations, (
        f"axe-core: {len(violations)} WCAG violation(s) on {page.url}:\n{describe(violations)}"
    )
