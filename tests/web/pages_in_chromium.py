"""The real-browser tests' shared steps: a person signed in in a fresh context, and page screenshots."""

from __future__ import annotations

from typing import Any

from conftest import PASSWORD
from seedpaths import REPO

SHOTS = REPO / "out" / "screenshots"  # test output, not committed
WIDTHS = (360, 1366)

# Boxes that scroll sideways inside the page (a wide table in its wrapper): at phone width their content
# must fit, or part of each row is hidden behind a scroll the person may never find.
_CLIPPED = """() => [...document.querySelectorAll('.table-wrap')]
  .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.closest('section[id]') || e).id + ': ' + e.scrollWidth + ' > ' + e.clientWidth)"""


def person(chromium: Any, base: str, name: str, password: str = PASSWORD, **context: Any) -> Any:
    """A fresh browser context (Vietnamese, desktop size) signed in as `name`; returns its page."""
    page = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN", **context).new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill("#f-name", name)
    page.fill("#f-password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def shoot(page: Any, name: str) -> None:
    """Screenshots at both widths; at phone width nothing scrolls sideways, the page nor a table in it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)  # let the layout settle after the resize (not an assertion)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} scrolls sideways at {width} px ({wide} px wide)"
        if width < 600:
            clipped = page.evaluate(_CLIPPED)
            assert not clipped, f"{name} at {width} px: a table scrolls sideways inside the page: {clipped}"
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
