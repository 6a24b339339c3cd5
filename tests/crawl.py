"""Walk every page a role can reach in one Chromium, for the checks that need a real layout.

One app with the demo province, one browser, one page per role: each distinct page shape
(`/cases/NB-2026-00001` and `/cases/NB-2026-00002` are one shape) is visited once, so the walk
stays bounded however much demo data there is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

# Case codes (NB-2026-00042), numbers and UUIDs in a path are one shape.
_SHAPES = (
    (re.compile(r"[A-Z]{2,3}-\d{4}-\d{4,6}"), "{code}"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "{uuid}"),
    (re.compile(r"(?<=/)\d{2}(?:-[A-Z0-9]+)+(?=/|$)"), "{unit}"),  # org unit codes: 37-C01
    (re.compile(r"(?<=/)\d+(?=/|$)"), "{n}"),
)
# Links that change state, leave the pages or download a file.
SKIP = re.compile(
    r"/auth/sign-out|/language|/static/|/api/|\.(csv|xlsx|json|pdf|svg|js)$|/export|/download"
    r"|/print$|sw\.js"
)


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path
    for pattern, name in _SHAPES:
        path = pattern.sub(name, path)
    # Filters and pages of the same list are the same layout; keep only which keys are used.
    keys = sorted({q.split("=")[0] for q in parts.query.split("&") if q})
    return path + ("?" + "&".join(keys) if keys else "")


@dataclass
class Walk:
    base: str
    visited: dict[str, str] = field(default_factory=dict)  # shape -> first url

    def links(self, page) -> list[str]:
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        out = []
        for href in hrefs:
            href = href.split("#")[0]
            if not href.startswith(self.base) or SKIP.search(href):
                continue
            out.append(href)
        return out

    def pages(self, page, start: str = "/", limit: int = 120):
        """Yield each new page shape once, loaded in `page`, breadth first from `start`."""
        queue = [urljoin(self.base, start)]
        while queue and len(self.visited) < limit:
            url = queue.pop(0)
            key = shape(url)
            if key in self.visited:
                continue
            self.visited[key] = url
            try:
                response = page.goto(url)
            except Exception as exc:  # a file to download, not a page
                if "Download is starting" in str(exc):
                    continue
                raise
            if response is None or response.status >= 400 or not page.url.startswith(self.base):
                continue
            if "/auth/sign-in" in page.url:
                continue
            ctype = response.headers.get("content-type", "")
            if "text/html" not in ctype:
                continue
            yield url
            queue.extend(u for u in self.links(page) if shape(u) not in self.visited)
