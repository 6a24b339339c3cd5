"""Restore drill, last step: sign in to the restored app as the demo caseworker and open one
case: its page answers 200 and shows the decrypted name (so the restored key set opens the
restored data). Prints the case code only."""

from __future__ import annotations

import re
import sys

from app import create_app
from app.cases.fields import read_field
from app.cases.models import Case
from app.extensions import db

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def main(password: str) -> int:
    app = create_app()
    client = app.test_client()
    form = client.get("/auth/sign-in").get_data(as_text=True)
    token = CSRF.search(form)
    data = {"username": "caseworker", "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    signed_in = client.post("/auth/sign-in", data=data)
    if signed_in.status_code != 302:
        print(f"sign-in failed: {signed_in.status_code}", file=sys.stderr)
        return 1
    listing = client.get("/cases/").get_data(as_text=True)
    codes = re.findall(r'href="/cases/([A-Z0-9-]+)"', listing)
    if not codes:
        print("the restored case list is empty", file=sys.stderr)
        return 1
    page = client.get(f"/cases/{codes[0]}")
    with app.app_context():
        case = db.session.query(Case).filter_by(code=codes[0]).one()
        name = read_field(case, "full_name")  # decrypted with the restored key set
    body = page.get_data(as_text=True)
    if page.status_code != 200 or not name or name not in body:
        print(f"case {codes[0]} did not read back ({page.status_code})", file=sys.stderr)
        return 1
    print(f"case {codes[0]} read back through the app")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
