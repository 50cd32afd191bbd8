"""The project page's figures fill their grid (ADR 0025): once days left are hidden (funded, in
progress, completed, cancelled) three figures remain, and no row of the grid has an empty cell, at
375 px and at 1280 px, in both languages. Real Chromium, script disabled."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, ViewportSize

from tests.browser_fixtures import PHONE, artifact

pytestmark = pytest.mark.browser
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
# Each cell's box, and the grid's: rows are cells sharing a top edge.
CELLS = """() => {
  const grid = document.querySelector('dl.stats').getBoundingClientRect();
  const cells = [...document.querySelectorAll('dl.stats > div')]
    .map(c => c.getBoundingClientRect());
  return {left: grid.left, right: grid.right,
          cells: cells.map(c => ({top: Math.round(c.top), left: c.left, right: c.right}))};
}"""


@pytest.fixture
async def demo(db: str) -> None:
    from linju.projects.demo import load_demo

    assert await load_demo()


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_no_row_of_the_figures_has_a_gap(
    live_server: str, browser: Browser, language: str
) -> None:
    for viewport in (PHONE, DESKTOP):
        context = await browser.new_context(viewport=viewport, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{live_server}/lang/{language}?next=/")
        for slug, cells in (("wuding-huayuan", 3), ("tongqu-leyuan", 4)):  # completed, open
            await page.goto(f"{live_server}/p/{slug}")
            grid = await page.evaluate(CELLS)
            assert len(grid["cells"]) == cells, slug
            rows: dict[int, list[dict[str, float]]] = {}
            for cell in grid["cells"]:
                rows.setdefault(cell["top"], []).append(cell)
            where = f"{slug} at {viewport['width']} px in {language}"
            name = f"figures-{language}-{viewport['width']}-{slug}.png"
            await page.locator("dl.stats").screenshot(path=str(artifact(name)))
            for row in rows.values():
                assert min(c["left"] for c in row) <= grid["left"] + 1, where
                assert max(c["right"] for c in row) >= grid["right"] - 1, f"a gap: {where}"
        await context.close()
