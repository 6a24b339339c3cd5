"""`flask keys ...`: the key set kept outside the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.crypto.keyring import Keyring, write_key_file


def init_key_file(config) -> Path:
    path = Path(config["CAUNOI_KEY_FILE"])
    if path.exists():
        raise click.ClickException(f"{path} already exists; refusing to overwrite a key set")
    write_key_file(path, Keyring.generate())
    return path


@click.group("keys")
def keys_cli():
    """Master keys, blind-index key and audit key."""


@keys_cli.command("init")
@with_appcontext
def init_command():
    """Create a new key set file (0600). Back it up apart from the database."""
    path = init_key_file(current_app.config)
    click.echo(f"Key set written to {path} (mode 0600). Keep a copy apart from database backups.")


commands = [keys_cli]
