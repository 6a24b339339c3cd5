"""Weigh the outreach form as a phone downloads it: gzip sizes of HTML + app.css + outreach.js.

Run: .venv/bin/python benchmarks/outreach_page_weight.py
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import make_config, reset_schema, sign_in  # noqa: E402
from tests.factories import OrgUnitFactory, UserFactory  # noqa: E402


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app(make_config(tmp, f"sqlite:///{tmp}/weight.sqlite3"))
    reset_schema(app)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level="province")
        district = OrgUnitFactory(
            code="37-D", name="Huyện Hoa Lư", level="district", parent=province
        )
        for i in range(12):  # a district-level caseworker's select of communes
            OrgUnitFactory(
                code=f"37-C{i:02d}", name=f"Xã Trường Yên {i}", level="commune", parent=district
            )
        volunteer_unit = OrgUnitFactory(
            code="37-V", name="Xã Ninh Hải", level="commune", parent=district
        )
        UserFactory(username="cw", role="caseworker", org_unit=district)
        UserFactory(username="vol", role="volunteer", org_unit=volunteer_unit)
        db.session.commit()
    for username in ("vol", "cw"):
        client = app.test_client()
        sign_in(client, username)
        html = client.get("/outreach/new").data
        parts = {"html": html}
        for src in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
            parts[src.decode().rsplit("/", 1)[-1]] = client.get(src.decode()).data
        raw = {k: len(v) for k, v in parts.items()}
        gz = {k: len(gzip.compress(v, 9)) for k, v in parts.items()}
        print(
            f"{username}: raw {raw} = {sum(raw.values())} B; "
            f"gzip {gz} = {sum(gz.values())} B ({sum(gz.values()) / 1024:.1f} KB)"
        )


if __name__ == "__main__":
    main()
