"""Every page type passes axe-core (npm; ``make test`` installs it with
scripts/install-axe.sh) in Chromium with no serious or critical violation, and reads at
390 px without sideways scrolling. Screenshots of the index and two change pages go to
test-artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.test_site_browser import ARTIFACTS, browser, built, context, serve  # noqa: F401

AXE_VERSION = "4.14.1"
RUN_AXE = """async () => {
  for (const d of document.querySelectorAll("details")) d.open = true;  /* check hidden parts too */
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def axe_script() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    default = cache / "policywatch" / f"axe-core-{AXE_VERSION}"
    path = Path(os.environ.get("POLICYWATCH_AXE_DIR") or default)
    script = path / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        pytest.fail(f"no axe-core at {script}: run `bash scripts/install-axe.sh` (make test does)")
    return script


def page_types(out: Path) -> dict[str, str]:
    """One page of each type, by type."""
    changes = sorted(str(p.relative_to(out)) for p in (out / "changes").glob("*.html"))
    text = {p: (out / p).read_text(encoding="utf-8") for p in changes}
    return {
        "index": "index.html",
        "category": str(next((out / "categories").glob("*.html")).relative_to(out)),
        "change (legal basis)": next(p for p in changes if 'id="why"' in text[p]),
        "change (link health)": next(p for p in changes if "What changed" not in text[p]),
        "document": str(next((out / "documents").glob("*.html")).relative_to(out)),
        "version": str(next((out / "versions").glob("*.html")).relative_to(out)),
        "links": "links.html",
    }


def test_every_page_type_has_no_serious_axe_violation(browser: Any, built: Path) -> None:  # noqa: F811
    script = axe_script()
    pages = page_types(built)
    found: dict[str, list[dict[str, Any]]] = {}
    with serve(built) as base, context(browser, base, bypass_csp=True) as (ctx, watch):
        page = ctx.new_page()
        for kind, rel in pages.items():
            page.goto(base + rel)
            page.add_script_tag(path=str(script))
            violations = page.evaluate(RUN_AXE)
            bad = [v for v in violations if v["impact"] in ("serious", "critical")]
            if bad:
                found[f"{kind} ({rel})"] = bad
        assert found == {}, found
    watch.check()


def test_every_page_type_reads_at_390_px_and_screenshots(browser: Any, built: Path) -> None:  # noqa: F811
    pages = page_types(built)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(built) as base, context(browser, base) as (ctx, watch):
        page = ctx.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "index.html")
        page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)
        for name, kind in (
            ("change-legal-basis", "change (legal basis)"),
            ("change-link-health", "change (link health)"),
        ):
            page.goto(base + pages[kind])
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        for kind, rel in pages.items():
            page.goto(base + rel)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{kind} ({rel}) scrolls sideways on a phone: {width} px"
        page.goto(base + pages["change (legal basis)"])
        page.screenshot(path=str(ARTIFACTS / "change-legal-basis-phone.png"), full_page=True)
    watch.check()
    for name in ("index", "change-legal-basis", "change-link-health"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
