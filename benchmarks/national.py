"""National-shape benchmark: all 34 provinces of the official list, cases spread unevenly.

    .venv/bin/python benchmarks/national.py [--cases 100000] [--dir /tmp/caunoi-bench-national]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/caunoi_national_x]
        [--samples 40] [--seconds 8] [--connections 16] [--no-gunicorn] [--build-only]
        [--only "dashboard,case page"]

The data set: the demo province (Ninh Bình), then every other province and its communes/wards
from the `vietnam-provinces` package (3,321 units), then `--cases` cases spread over the
provinces unevenly (the first provinces of the list get up to 8 times the share of the last;
inside a province, evenly over its communes), three referrals per case on average (over her
needs, to the demo's partner services, in the mix of statuses the reports count; a request
older than its answer time has been cancelled by the scheduler, as the app does), one outreach
activity per case (held by the communes in the same uneven spread), then the reports' figures.
Cases go through the application's own bulk seeding (every case with its own wrapped data key
and sealed fields); referrals and activities are bulk-inserted with SQLAlchemy Core (their notes
hold random bytes). Then, on every run, the central unit above the provinces (`add_central_unit`)
and three users: a caseworker and a supervisor of Hà Nội (the largest province) and a national
supervisor. It is built once per directory (or PostgreSQL database) and reused; every run first
migrates it (`flask db upgrade`). A million cases take an hour to build on two cores: build the
SQLite set, then copy it into PostgreSQL with benchmarks/copy_to_postgres.py (minutes).

Figures:
1. in-process p50/p95 (Flask test client, one process) of the case list (no filter, each filter,
   page 1 and 40 pages down by keyset), search by name, a case page, home, the province
   dashboard, the six-monthly report and the national dashboard;
2. under gunicorn (2 workers, `wrk -t2 -c16`), requests per second of each, and their ratio to a
   hello-world Flask app measured the same way in the same run (benchmarks/serving.py).

"Before" figures: run this script from a worktree of the older commit (it skips the national
dashboard where there is no central level), against the same data set, before the newer code
has added the central unit to it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import cases as casebench  # noqa: E402  (benchmarks/cases.py: data set environment)
import serving  # noqa: E402  (benchmarks/serving.py: gunicorn and wrk beside hello-world)
from reports import REASONS, STATUSES  # noqa: E402  (the reports benchmark's referral mix)

PASSWORD = casebench.PASSWORD
LIST_FILTERS = ("", "status=open", "category=health", "mine=1", "attention=1")


def _load(count: int) -> None:
    """Run inside the app (a subprocess with the data set's environment): build the data."""
    from vietnam_provinces import Province

    from app.cases import demo as case_demo
    from app.extensions import db
    from app.orgs import services as org_services
    from app.orgs.models import OrgUnit
    from app.orgs.official import official_rows, province_code
    from app.permissions import Actor
    from app.reports import figures

    actor = Actor.system("national-benchmark")
    codes = sorted(province_code(p.code) for p in Province.iter_all())
    for code in codes:
        rows = official_rows(code)
        if rows:
            org_services.import_org_units(actor, rows, via="vietnam-provinces")
            db.session.commit()
    provinces = [db.session.query(OrgUnit).filter_by(code=c).one() for c in codes]
    weights = [8 / (1 + 7 * i / (len(provinces) - 1)) for i in range(len(provinces))]
    total_weight = sum(weights)
    spread = []  # (commune ids, share) per province
    for province, weight in zip(provinces, weights, strict=True):
        share = int(count * weight / total_weight)
        communes = (
            db.session.query(OrgUnit)
            .filter(OrgUnit.path.startswith(province.path), OrgUnit.id != province.id)
            .all()
        )
        if share and communes:
            case_demo.bulk_seed(communes, share)
            db.session.commit()
            spread.append(([c.id for c in communes], share))
    db.session.remove()
    started = time.perf_counter()
    made = _load_referrals(db.engine, 3 * count)
    print(f"{made} referrals in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    made = _load_outreach(db.engine, spread)
    print(f"{made} outreach activities in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    figures.rebuild(db.session.connection())
    db.session.commit()
    print(f"figures rebuilt in {time.perf_counter() - started:.0f} s")


CHUNK = 10_000
EXPIRY_DAYS = 6  # a referral's respond_by (5 days) and a day's grace


def _reference(n: int) -> str:
    """A partner reference unique by construction (the app draws them at random)."""
    from app.referrals.references import ALPHABET, REFERRAL_PREFIX

    body = "".join(ALPHABET[(n >> (5 * i)) & 31] for i in range(7, -1, -1))
    return f"{REFERRAL_PREFIX}-{body[:4]}-{body[4:]}"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def _load_referrals(engine, total: int) -> int:
    """About `total` referrals over the cases' needs, in the mix of statuses the reports count."""
    import sqlalchemy as sa

    from app.cases.models import Case, Need
    from app.referrals.models import PartnerService, Referral

    rng = random.Random(14)  # noqa: S311
    now = datetime.now(UTC)
    today = now.date()
    with engine.connect() as conn:
        services = conn.execute(
            sa.select(PartnerService.id, PartnerService.organization_id, PartnerService.category)
        ).all()
        needs_per_case = conn.scalar(sa.select(sa.func.count()).select_from(Need)) / max(
            1, conn.scalar(sa.select(sa.func.count()).select_from(Case))
        )
        next_id = (conn.scalar(sa.select(sa.func.max(Referral.id))) or 0) + 1
    by_category: dict[str, list] = {}
    for service in services:
        by_category.setdefault(service.category, []).append(service)
    per_need = 3 / needs_per_case  # referrals per need, so that a case has three on average
    done, last_need = 0, 0
    while done < total:
        with engine.connect() as conn:
            needs = conn.execute(
                sa.select(Need.id, Need.case_id, Need.category, Need.identified_on)
                .where(Need.id > last_need)
                .order_by(Need.id)
                .limit(CHUNK)
            ).all()
        if not needs:
            break
        last_need = needs[-1].id
        rows = []
        for need in needs:
            for _ in range(int(per_need) + (rng.random() < per_need % 1)):
                choices = by_category.get(need.category) or services
                service = rng.choice(choices)
                status = rng.choice(STATUSES)
                created = min(today, need.identified_on + timedelta(days=rng.randrange(5)))
                if status == "requested" and created < today - timedelta(days=EXPIRY_DAYS):
                    # The scheduler cancels what is left unanswered past respond_by: only the
                    # last days' requests are still waiting.
                    status = "cancelled"
                sent = None if status == "draft" else _at(created)
                answered = status not in ("draft", "requested")
                completed = (
                    min(today, created + timedelta(days=rng.randrange(120)))
                    if status in ("completed", "entered-in-error")
                    else None
                )
                outcome = rng.choice(["service_received", "enrolled"]) if completed else None
                reason = rng.choice(REASONS[status]) if status in REASONS else None
                if status == "cancelled" and sent and created < today - timedelta(days=EXPIRY_DAYS):
                    reason = rng.choice([reason, "expired_no_response"])
                rows.append(
                    {
                        "id": next_id,
                        "partner_reference": _reference(next_id),
                        "case_id": need.case_id,
                        "need_id": need.id,
                        "service_id": service.id,
                        "organization_id": service.organization_id,
                        "category": need.category,
                        "status": status,
                        "priority": "routine",
                        "created_at": _at(created),
                        "updated_at": now,
                        "sent_at": sent,
                        "respond_by": created + timedelta(days=5) if sent else None,
                        "responded_at": _at(created + timedelta(days=rng.randrange(12)))
                        if answered
                        else None,
                        "completed_on": completed,
                        "outcome": outcome,
                        "reason_code": outcome or reason,
                        "shared_fields": [],
                        "note_enc": os.urandom(24),
                    }
                )
                next_id += 1
        with engine.begin() as conn:
            conn.execute(sa.insert(Referral.__table__), rows)
        done += len(rows)
    _reset_sequence(engine, "referrals")
    return done


def _load_outreach(engine, spread: list[tuple[list[int], int]]) -> int:
    """One activity per case, held by the communes of each province (the same uneven spread)."""
    import sqlalchemy as sa

    from app.outreach.models import OutreachActivity, OutreachTopic
    from app.outreach.vocab import AUDIENCES, FORMS, PLACES, TOPICS

    rng = random.Random(15)  # noqa: S311
    start = datetime.now(UTC).date() - timedelta(days=700)
    with engine.connect() as conn:
        next_id = (conn.scalar(sa.select(sa.func.max(OutreachActivity.id))) or 0) + 1
    done = 0
    for communes, share in spread:
        for first in range(0, share, CHUNK):
            rows, topics = [], []
            for _ in range(min(CHUNK, share - first)):
                rows.append(
                    {
                        "id": next_id,
                        "org_unit_id": rng.choice(communes),
                        "held_on": start + timedelta(days=rng.randrange(700)),
                        "form": rng.choice(list(FORMS)),
                        "place": rng.choice(list(PLACES)),
                        "idempotency_key": f"national-{next_id}",
                        **{f"reached_{a}": rng.randrange(0, 40) for a in AUDIENCES},
                        "partners_involved": "",
                        "notes": "",
                    }
                )
                topics.append({"activity_id": next_id, "topic": rng.choice(list(TOPICS))})
                next_id += 1
            with engine.begin() as conn:
                conn.execute(sa.insert(OutreachActivity.__table__), rows)
                conn.execute(sa.insert(OutreachTopic.__table__), topics)
            done += len(rows)
    _reset_sequence(engine, "outreach_activities")
    return done


def _reset_sequence(engine, table: str) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them past the inserted rows."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )


def build(directory: Path, count: int) -> None:
    env = casebench.env_for(directory)
    flask = [str(casebench.VENV_BIN / "flask"), "--app", "app"]
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "keys.json").exists():
        subprocess.run([*flask, "keys", "init"], env=env, cwd=ROOT, check=True)
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    marker = directory / f"national-{count}"
    if marker.exists():
        print(f"reusing the data set in {directory} (migrated)")
        return
    started = time.perf_counter()
    subprocess.run([*flask, "demo", "--password", PASSWORD], env=env, cwd=ROOT, check=True)
    code = (
        "import sys; sys.path.insert(0, 'benchmarks')\n"
        "from app import create_app\nimport national\napp = create_app()\n"
        f"with app.app_context():\n    national._load({count})\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    if casebench.DATABASE_URL and not casebench.DATABASE_URL.startswith("sqlite"):
        code = "import sqlalchemy as sa, os\n"
        code += "e = sa.create_engine(os.environ['DATABASE_URL'], isolation_level='AUTOCOMMIT')\n"
        code += "with e.connect() as c:\n    c.exec_driver_sql('VACUUM ANALYZE')\n"
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    print(f"built {count} cases in {time.perf_counter() - started:.0f} s")
    marker.touch()


def _ensure_users(directory: Path) -> None:
    """The central unit above the provinces (`add_central_unit`, as a deployment becoming
    national does), a province-level caseworker and supervisor in the largest province (Hà Nội)
    and a national supervisor: added to a data set of any age (idempotent)."""
    code = (
        "from app import create_app\nfrom app.extensions import db\n"
        "from app.orgs.models import OrgLevel, OrgUnit, User\nfrom app.orgs.services import users\n"
        "try:\n    from app.orgs.services import add_central_unit\n"
        "except ImportError:  # a version before the central level (a 'before' run)\n"
        "    def add_central_unit(*args, **kwargs): pass\n"
        "    OrgLevel.CENTRAL = 'central'\n"
        "from app.permissions import Actor\napp = create_app()\n"
        "actor = Actor.system('national-benchmark')\n"
        "with app.app_context():\n"
        "    if not db.session.query(OrgUnit).filter_by(level=OrgLevel.CENTRAL).count():\n"
        "        add_central_unit(actor, code='TW', name='Trung ương Hội LHPN Việt Nam')\n"
        "    for name, (role, unit) in " + repr(USERS) + ".items():\n"
        "        unit = db.session.query(OrgUnit).filter_by(code=unit).first()\n"
        "        if unit and not db.session.query(User).filter_by(username=name).first():\n"
        "            users.create_user(actor, username=name, role=role, org_unit=unit,\n"
        "                password=" + repr(PASSWORD) + ")\n"
        "    db.session.commit()\n"
    )
    if casebench.DATABASE_URL and not casebench.DATABASE_URL.startswith("sqlite"):
        # Moving the provinces rewrote every path: fresh statistics, as autovacuum would give
        # (this machine's PostgreSQL runs without it), or plans take the subtree for one row.
        code += "    db.session.execute(db.text('ANALYZE org_units'))\n    db.session.commit()\n"
    env = casebench.env_for(directory)
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


USERS = {
    "hn-caseworker": ("caseworker", "01"),
    "hn-supervisor": ("supervisor", "01"),
    "tw-supervisor": ("supervisor", "TW"),
}
CASEWORKER, SUPERVISOR, NATIONAL_SUPERVISOR = USERS


def _timed(fn, samples: int) -> tuple[float, float]:
    fn()  # warm
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1]


def _deep(client, query: str, pages: int = 40) -> str:
    """The URL of the list page `pages` keyset pages down (1,000 cases at 25 a page)."""
    url = f"/cases/?{query}"
    for _ in range(pages):
        body = client.get(url).get_data(as_text=True)
        found = re.search(r'href="(/cases/\?[^"]*after=[^"]+)"', body)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    return url


def pages(directory: Path) -> list[serving.Page]:
    """The pages measured, as the province's caseworker and supervisor would open them."""
    os.environ.update(casebench.env_for(directory))
    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    client.post("/auth/sign-in", data={"username": CASEWORKER, "password": PASSWORD})
    body = client.get("/cases/").get_data(as_text=True)
    code = re.search(r'href="/cases/([A-Z]{2}-[^"?]+)"', body).group(1)
    cw = CASEWORKER
    # The floor: a signed-in page that reads no case (session, CSRF, navigation, bell, render).
    # No page of the caseworker's can serve more requests a second than this one.
    out = [serving.Page("floor: signed-in, no case", "/account/api-tokens", cw)]
    out += [serving.Page(f"list {q or 'no filter'}", f"/cases/?{q}", cw) for q in LIST_FILTERS]
    out += [
        serving.Page("list deep page, no filter", _deep(client, ""), cw),
        serving.Page("list deep page, attention=1", _deep(client, "attention=1"), cw),
        serving.Page("search by name", "/cases/search", cw, form={"q": "Nguyễn Thị Hoa"}),
        serving.Page("case page", f"/cases/{code}", cw),
        serving.Page("home (caseworker)", "/home", cw),
        serving.Page("province dashboard", "/reports/", SUPERVISOR),
        serving.Page("six-monthly report", "/reports/report?kind=six_monthly", SUPERVISOR),
    ]
    national = app.test_client()
    signed_in = national.post(
        "/auth/sign-in", data={"username": NATIONAL_SUPERVISOR, "password": PASSWORD}
    )
    if signed_in.status_code == 302:  # a version with the central level
        out.append(serving.Page("national dashboard", "/reports/", NATIONAL_SUPERVISOR))
    return out


def in_process(directory: Path, measured: list[serving.Page], samples: int) -> dict:
    os.environ.update(casebench.env_for(directory))
    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    clients = {}
    for user in {page.user for page in measured}:
        clients[user] = client = app.test_client()
        response = client.post("/auth/sign-in", data={"username": user, "password": PASSWORD})
        assert response.status_code == 302, (user, response.status_code)
    gc.collect()
    gc.freeze()  # as each gunicorn worker does once warm (app/wsgi.py)

    def call(page: serving.Page):
        def run():
            client = clients[page.user]
            if page.form is None:
                response = client.get(page.path)
            else:
                response = client.post(page.path, data=page.form)
            if response.status_code != 200:
                raise PageFailed(f"{page.path} answered {response.status_code}")

        return run

    out = {}
    for page in measured:
        try:
            out[page.name] = _timed(call(page), samples)
        except PageFailed as failed:  # e.g. 503: a statement ran past statement_timeout
            print(f"{page.name}: {failed}", flush=True)
            out[page.name] = (float("nan"), float("nan"))
    return out


class PageFailed(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--dir", default="/tmp/caunoi-bench-national")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-gunicorn", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--only", default="", help="measure only the pages whose name holds one of these words"
    )
    args = parser.parse_args()
    casebench.DATABASE_URL = args.database_url
    directory = Path(args.dir)
    build(directory, args.cases)
    _ensure_users(directory)
    if args.build_only:
        return
    measured = pages(directory)
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        measured = [p for p in measured if any(w in p.name for w in words)]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    timings = in_process(directory, measured, args.samples)
    print(f"\n{args.cases:,} cases, {backend}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':<30} {'p50 ms':>7} {'p95 ms':>7}")
    for page in measured:
        p50, p95 = timings[page.name]
        print(f"{page.name:<30} {p50:7.1f} {p95:7.1f}", flush=True)
    if args.no_gunicorn:
        return
    hello = serving.hello_rps(args.seconds, args.connections)
    rps = serving.page_rps(directory, measured, args.seconds, args.connections)
    hello = (hello + serving.hello_rps(args.seconds, args.connections)) / 2
    print(f"\ngunicorn, 2 workers, wrk -t2 -c{args.connections}, {args.seconds:g} s a page")
    print(f"{'page':<30} {'req/s':>7} {'ratio':>6}")
    for page in measured:
        print(f"{page.name:<30} {rps[page.name]:7.0f} {rps[page.name] / hello:6.3f}")
    print(f"{'hello-world (before/after mean)':<30} {hello:7.0f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
