"""Server-drawn inline SVG: progress as a bar against the target line.

No script and no style attribute (the CSP forbids inline style): colours are SVG presentation
attributes and classes, so the picture prints and needs nothing from the network.
"""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 300
HEIGHT = 28
BAR_Y = 6
BAR_H = 16
COLOURS = {"ok": "#1d7a46", "warn": "#a86400", "bad": "#b3261e", "none": "#9aa5b1"}


def _x(value: float, scale: float) -> float:
    return round(max(0.0, min(value, scale)) / scale * WIDTH, 1) if scale > 0 else 0.0


def progress_bar(actual: float | None, target: float, status: str, label: str, *, percent: bool):
    """A bar of `actual` with a vertical line at `target`; `label` is read by screen readers."""
    scale = 100.0 if percent else max(target, actual or 0.0) * 1.1 or 1.0
    bar = _x(actual or 0.0, scale)
    line = _x(target, scale)
    colour = COLOURS.get(status, COLOURS["none"])
    parts = [
        f'<svg class="progress progress-{escape(status)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" height="{HEIGHT}" role="img" aria-label="{escape(label)}" '
        'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<rect class="progress-track" x="0" y="{BAR_Y}" width="{WIDTH}" height="{BAR_H}" '
        'fill="#eef2f6" stroke="#d5dbe3" stroke-width="1"/>',
    ]
    if actual is not None and bar > 0:
        parts.append(
            f'<rect class="progress-bar" x="0" y="{BAR_Y}" width="{bar}" height="{BAR_H}" '
            f'fill="{colour}"/>'
        )
    parts.append(
        f'<line class="progress-target" x1="{line}" y1="1" x2="{line}" y2="{HEIGHT - 1}" '
        'stroke="#1d2733" stroke-width="3"/>'
    )
    parts.append("</svg>")
    # Every interpolated value above is a number or passed through escape().
    return Markup("".join(parts))  # noqa: S704
