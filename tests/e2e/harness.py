"""Helpers for the browser tests: the guard, axe, screenshots, text and tap-target measurements.

The fixtures that use them are in `tests/e2e/conftest.py`; docs/testing-browser.md says how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, Route

import civicpoints.web

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
VENDOR = Path(civicpoints.web.__file__).parent / "static" / "vendor"
AXE_FILE = VENDOR / "axe-core" / "axe.min.js"
AXE_URL = "/static/vendor/axe-core/axe.min.js"
LOCAL_HOST = "127.0.0.1"
_NOT_NETWORK = {"data", "blob", "about"}

# Viewports: pass to `new_context(**RESIDENT)` or use the `resident_page` / `desktop_page`
# fixtures. Resident pages are made for an old Android phone (UI.md), staff pages for an office PC.
RESIDENT: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}


def is_local(url: str) -> bool:
    """A URL the pages may load: the live server on 127.0.0.1 (any port), or no network at all."""
    parts = urlsplit(url)
    return parts.scheme in _NOT_NETWORK or parts.hostname == LOCAL_HOST


# -- the guard -----------------------------------------------------------------------------


@dataclass
class Guard:
    """Records what went wrong in the watched browser contexts; `check` fails on any of it.

    Recorded: console errors, uncaught page errors, failed requests, HTTP responses ≥ 400 whose
    status the test did not `expect`, and every request to a host other than 127.0.0.1 (which
    `watch` also blocks, so nothing leaves the machine).
    """

    problems: list[str] = field(default_factory=list)
    expected: dict[int, int] = field(default_factory=dict)  # status → times seen
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    _outside: dict[int, Request] = field(default_factory=dict)  # kept alive: ids stay unique

    def expect(self, *statuses: int) -> None:
        """Declare error statuses this test expects; each must occur at least once."""
        for status in statuses:
            assert status >= 400, f"expect_status is for error statuses, not {status}"
            self.expected.setdefault(status, 0)

    def allow(self, pattern: str) -> None:
        """Ignore problems whose text matches `pattern` (a regex): say why at the call site."""
        self.allowed.append(re.compile(pattern))

    def watch(self, context: BrowserContext) -> None:
        """Block and record requests leaving 127.0.0.1; record errors on every page."""
        context.route("**/*", self._route)
        context.on("request", self._on_request)
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self._add(f"page error: {error.error}"))

    def _add(self, problem: str) -> None:
        if not any(p.search(problem) for p in self.allowed):
            self.problems.append(problem)

    def _outside_request(self, request: Request) -> None:
        if id(request) not in self._outside:
            self._outside[id(request)] = request
            self._add(f"request outside {LOCAL_HOST} (blocked): {request.method} {request.url}")

    def _route(self, route: Route) -> None:
        if is_local(route.request.url):
            route.fallback()
            return
        self._outside_request(route.request)
        route.abort("blockedbyclient")

    def _on_request(self, request: Request) -> None:
        if not is_local(request.url):
            self._outside_request(request)

    def _on_request_failed(self, request: Request) -> None:
        if not is_local(request.url):  # outside requests are already recorded as blocked
            return
        if request.failure == "net::ERR_ABORTED" and not request.is_navigation_request():
            return  # the page moved on (a click) before a stylesheet or script finished: normal
        self._add(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        status = response.status
        if status < 400:
            return
        if status in self.expected:
            self.expected[status] += 1
            return
        self._add(f"HTTP {status} {response.request.method} {response.url}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # "Failed to load resource: …" repeats a response or failure the listeners above saw
        # (or an expected status): the network events are the record.
        if message.text.startswith("Failed to load resource:"):
            return
        where = message.location.get("url", "")
        self._add(f"console error: {message.text}" + (f" ({where})" if where else ""))

    def report(self) -> list[str]:
        """Everything that makes the test fail: problems, then expected statuses never seen."""
        unseen = [
            f"expected HTTP {status} but no response had it"
            for status, seen in self.expected.items()
            if not seen
        ]
        return [*self.problems, *unseen]

    def check(self) -> None:
        """Fail listing every problem."""
        found = self.report()
        assert not found, "the browser guard found:\n  " + "\n  ".join(found)


# -- axe -----------------------------------------------------------------------------------


def run_axe(page: Page, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Inject the vendored axe-core and return `axe.run()`'s results for the whole page.

    On the live server the file comes from the app's own /static (the pages' CSP allows
    `script-src 'self'` only); on a page without a server (`set_content`) it is inlined.
    """
    # A check right after a click that navigates would otherwise run on a document still being
    # parsed (no <head> yet: add_script_tag fails) or on the page being left.
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        origin = urlsplit(page.url)
        if origin.hostname == LOCAL_HOST:
            page.add_script_tag(url=f"{origin.scheme}://{origin.netloc}{AXE_URL}")
        else:
            page.add_script_tag(path=AXE_FILE)
    results: dict[str, Any] = page.evaluate(
        "options => axe.run(document, options)", options or {"resultTypes": ["violations"]}
    )
    return results


def check_axe(
    page: Page, impacts: tuple[str, ...] = ("serious", "critical"), disable: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Fail listing each axe violation of these impacts (id, help, nodes); return the results.

    `disable` names rules to skip, e.g. ("color-contrast",) on a page under construction — a
    test that uses it says why.
    """
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    results = run_axe(page, options)
    bad = [v for v in results["violations"] if v.get("impact") in impacts]
    lines = []
    for v in bad:
        lines.append(f"{v['impact']}: {v['id']} — {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    assert not bad, f"axe found {len(bad)} {'/'.join(impacts)} violation(s) on {page.url}:\n" + (
        "\n".join(lines)
    )
    return results


# -- screenshots ---------------------------------------------------------------------------


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot at the current viewport: var/screenshots/<name>-<width>.png."""
    assert re.fullmatch(r"[\w.-]+", name), f"screenshot names are file names: {name!r}"
    width = page.viewport_size["width"] if page.viewport_size else page.evaluate("innerWidth")
    path = SCREENSHOTS / f"{name}-{width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    page.screenshot(path=path, full_page=True)
    return path


# -- text and tap targets (长辈模式 checks) -------------------------------------------------

_TEXT_JS = """
() => {
  const visible = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({opacityProperty: true,
      visibilityProperty: true});
  };
  const backgrounds = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      layers.push(bg);
      if (/^rgb\\(/.test(bg) || /^rgba\\(.*,\\s*1\\)$/.test(bg)) break;
    }
    return layers;
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent)
      .join('').trim();
    if (!own || !visible(el)) continue;
    const s = getComputedStyle(el);
    out.push({element: describe(el), text: own.slice(0, 40), font_size: s.fontSize,
      line_height: s.lineHeight, color: s.color, backgrounds: backgrounds(el)});
  }
  const b = getComputedStyle(document.body);
  return {body: {font_size: b.fontSize, line_height: b.lineHeight}, elements: out};
}
"""

_TARGETS_JS = """
(minPx) => {
  const sel = 'a, button, input, select, textarea, summary, [role=button], label>input';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.type === 'hidden') continue;
    // A control inside its label is tapped through the label: measure the label.
    const box = (el.tagName === 'INPUT' && el.closest('label')) || el;
    const r = box.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true})))
      continue;
    // Moved off the page until focused (a skip link): not a target for a finger.
    if (r.right <= 0 || r.bottom <= 0) continue;
    if (r.width < minPx || r.height < minPx)
      out.push({element: el.outerHTML.slice(0, 120), width: r.width, height: r.height,
        display: getComputedStyle(box).display});
  }
  return out;
}
"""

_RGB = re.compile(
    r"^(?:rgba?\(|color\(srgb\s+)([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\)$"
)


@dataclass(frozen=True)
class TextSample:
    """One visible element with its own text: computed sizes and the contrast ratio."""

    element: str
    text: str
    font_px: float
    line_height_px: float | None  # None: `normal`, i.e. the page set none
    color: str
    background: str  # the effective background, composited over white
    contrast: float


@dataclass(frozen=True)
class TextReport:
    """The body's computed font size and line height, and every visible text element."""

    body_font_px: float
    body_line_height_px: float | None
    elements: list[TextSample]

    @property
    def body_line_height(self) -> float | None:
        """The body's line height as a multiple of its font size (UI.md: 1.5, 长辈模式 1.6)."""
        if self.body_line_height_px is None:
            return None
        return self.body_line_height_px / self.body_font_px

    def below(self, contrast: float) -> list[TextSample]:
        """The elements whose text contrast is under `contrast` (e.g. 7.0 for WCAG AAA)."""
        return [e for e in self.elements if e.contrast < contrast]


def parse_color(css: str) -> tuple[float, float, float, float]:
    """`rgb(…)`, `rgba(…)` or `color(srgb …)` as 0–255 channels and an alpha 0–1."""
    m = _RGB.match(css.strip())
    if not m:
        raise ValueError(f"a colour the harness cannot read: {css!r} (use rgb or hex in CSS)")
    srgb = css.strip().startswith("color(")
    r, g, b = (float(m.group(i)) * (255 if srgb else 1) for i in (1, 2, 3))
    a = m.group(4)
    alpha = 1.0 if a is None else float(a[:-1]) / 100 if a.endswith("%") else float(a)
    return r, g, b, alpha


def _over(
    top: tuple[float, float, float, float], under: tuple[float, float, float]
) -> tuple[float, float, float]:
    r, g, b, a = top
    return (r * a + under[0] * (1 - a), g * a + under[1] * (1 - a), b * a + under[2] * (1 - a))


def effective_background(layers: list[str]) -> tuple[float, float, float]:
    """The colour behind the text: the element's and its ancestors' backgrounds over white.

    Background images and positioned overlaps are not seen: check those pages with axe too.
    """
    colour = (255.0, 255.0, 255.0)
    for layer in reversed(layers):  # the outermost first
        colour = _over(parse_color(layer), colour)
    return colour


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0–255 channels)."""

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _px(value: str) -> float | None:
    return float(value[:-2]) if value.endswith("px") else None


def measure_text(page: Page) -> TextReport:
    """Computed body font size and line height; size and contrast of each visible text element."""
    page.wait_for_load_state("load")  # the stylesheet applied, not the unstyled first paint
    raw = page.evaluate(_TEXT_JS)
    samples = []
    for e in raw["elements"]:
        bg = effective_background(e["backgrounds"])
        fg = _over(parse_color(e["color"]), bg)
        rgb = "#{:02x}{:02x}{:02x}"
        samples.append(
            TextSample(
                element=e["element"],
                text=e["text"],
                font_px=_px(e["font_size"]) or 0.0,
                line_height_px=_px(e["line_height"]),
                color=rgb.format(*(round(c) for c in fg)),
                background=rgb.format(*(round(c) for c in bg)),
                contrast=round(contrast_ratio(fg, bg), 2),
            )
        )
    body = raw["body"]
    return TextReport(_px(body["font_size"]) or 0.0, _px(body["line_height"]), samples)


def small_targets(page: Page, min_px: float) -> list[dict[str, Any]]:
    """Visible controls whose box is under `min_px` wide or high (UI.md: 48, 长辈模式 60).

    Each: element (its HTML, cut short), width, height, display. A checkbox or radio inside
    its <label> is measured by the label, which is what a finger taps.
    """
    page.wait_for_load_state("load")
    found: list[dict[str, Any]] = page.evaluate(_TARGETS_JS, min_px)
    return found


_TRANSFER_JS = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const items = [{name: nav.name, bytes: nav.transferSize || nav.encodedBodySize}];
  for (const r of performance.getEntriesByType('resource'))
    items.push({name: r.name, bytes: r.transferSize || r.encodedBodySize});
  return items;
}
"""


def first_load_bytes(page: Page, exclude: str = r"/(photos|rewards)/") -> tuple[int, list[Any]]:
    """Bytes over the wire for the current page and everything it loaded (photos excepted).

    Measured by the browser's Resource Timing; load the page in a fresh context for a first
    load (nothing cached). `exclude` names the URLs not counted (UI.md: photos excepted).
    """
    page.wait_for_load_state("load")
    items = [i for i in page.evaluate(_TRANSFER_JS) if not re.search(exclude, i["name"])]
    return sum(int(i["bytes"]) for i in items), items


def assert_elderly_rules(page: Page) -> None:
    """长辈模式 by measurement, after the 2021 elderly-friendly rules (UI.md: text ≥ 20 px,
    line height ≥ 1.5, contrast ≥ 7:1, every visible tap target ≥ 60 × 60 px)."""
    where = page.url
    text = measure_text(page)
    assert text.body_font_px >= 20, where
    assert text.body_line_height is not None and text.body_line_height >= 1.5, where
    small = [(e.text, e.font_px) for e in text.elements if e.font_px < 20]
    assert small == [], (where, small)
    low = [(e.text, round(e.contrast, 2)) for e in text.below(7.0)]
    assert low == [], (where, low)
    assert small_targets(page, 60) == [], (where, small_targets(page, 60))
