"""Translations: Vietnamese is the source language; each module keeps its own English catalog.

Catalogs live in app/translations and app/<module>/translations; Flask-Babel merges them.
`python -m app.i18n` (or `flask --app app i18n compile`) compiles every .po to .mo.
"""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app, has_request_context, session

APP_DIR = Path(__file__).resolve().parent
# The users' clock: dates typed, shown and counted are Vietnamese days.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def translation_directories() -> list[str]:
    dirs = [APP_DIR / "translations", *sorted(APP_DIR.glob("*/translations"))]
    return [str(d) for d in dirs if d.is_dir()]


def select_locale() -> str:
    if not has_request_context():
        return "vi"  # command line: the default language
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else "vi"


def compile_catalogs(verbose: bool = False) -> int:
    """Compile every catalog whose .mo is missing or older than its .po; returns how many."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = 0
    for directory in translation_directories():
        for po_path in Path(directory).glob("*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as f:
                catalog = read_po(f, locale=po_path.parent.parent.name)
            with mo_path.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            compiled += 1
            if verbose:
                click.echo(f"compiled {po_path.relative_to(APP_DIR.parent)}")
    return compiled


@click.group("i18n")
def i18n_cli():
    """Translation catalogs."""


@i18n_cli.command("compile")
def compile_command():
    """Compile the .po catalogs of every module."""
    count = compile_catalogs(verbose=True)
    click.echo(f"{count} catalog(s) compiled")


if __name__ == "__main__":
    compile_catalogs(verbose="-v" in sys.argv)
