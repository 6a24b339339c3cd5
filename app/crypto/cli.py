"""`flask keys ...`: the key set kept outside the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.crypto import rotation
from app.crypto.keyring import Keyring, KeyringError, load_keyring, write_key_file
from app.crypto.rotation import DEFAULT_BATCH_SIZE
from app.permissions import Actor


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


def _fail(exc: Exception):
    raise click.ClickException(str(exc)) from None


@keys_cli.command("rotate")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Data keys re-wrapped and committed per batch.",
)
@with_appcontext
def rotate_command(batch_size: int):
    """Add a new master key version and re-wrap every data key under it.

    \b
    With the key file (CAUNOI_KEY_FILE): writes the new version atomically, then re-wraps the
    data keys in batches, each committed on its own. Safe to interrupt: run it again and it
    continues the unfinished rotation (it adds a version only when no data key is left under an
    older one).
    \b
    In production, with the key set in CAUNOI_KEYS, nothing can be written: the first run
    prints the new key set JSON and changes nothing else. Store it as CAUNOI_KEYS on every app
    server, restart them, then run this command again with the new CAUNOI_KEYS to re-wrap the
    data keys. Afterwards `keys retire OLD_VERSION`.
    """
    actor = Actor.system("cli")
    try:
        ring, result, pending = rotation.prepare_rotation(actor, current_app.config)
        if result.new_keys_json is None:
            click.echo(
                f"Re-wrapping {pending} data key(s) under master key version {result.key_version}"
                + ("" if result.version_added else " (continuing an unfinished rotation)")
            )
            with click.progressbar(length=pending, label="Re-wrapping", show_pos=True) as bar:
                rotation.rewrap_all(
                    actor,
                    ring,
                    result,
                    batch_size=batch_size,
                    on_batch=bar.update,
                    config=current_app.config,
                )
    except (rotation.KeyOperationError, KeyringError) as exc:
        _fail(exc)
    if result.new_keys_json is not None:
        click.echo(
            f"CAUNOI_KEYS is set, so the key set was not written. New master key version "
            f"{result.key_version}: store the JSON below as CAUNOI_KEYS on every app server, "
            "restart them, then run `flask --app app keys rotate` again to re-wrap the data keys.",
            err=True,
        )
        click.echo(result.new_keys_json)
        return
    click.echo(
        f"Master key version {result.key_version} is current; {result.rewrapped} data key(s) "
        f"re-wrapped, {result.resealed} account secret(s) sealed again. Back up the key file "
        "apart from the database, then retire old versions with "
        "`flask --app app keys retire VERSION`."
    )


@keys_cli.command("retire")
@click.argument("version", type=int)
@with_appcontext
def retire_command(version: int):
    """Remove master key VERSION from the key set once no data key uses it.

    Backups wrapped by it become unreadable once every copy of the key is gone. With
    CAUNOI_KEYS (production) the new key set JSON is printed for you to store instead.
    """
    try:
        new_json = rotation.retire_master_version(Actor.system("cli"), current_app.config, version)
    except (rotation.KeyOperationError, KeyringError) as exc:
        _fail(exc)
    if new_json is not None:
        click.echo(
            f"CAUNOI_KEYS is set, so the key set was not written. Store the JSON below as "
            f"CAUNOI_KEYS on every app server (version {version} removed) and restart them.",
            err=True,
        )
        click.echo(new_json)
        return
    click.echo(f"Master key version {version} retired and removed from the key file.")


@keys_cli.command("status")
@with_appcontext
def status_command():
    """Master key versions in the key set and the data keys wrapped by each."""
    try:
        ring = load_keyring(current_app.config)
    except KeyringError as exc:
        _fail(exc)
    counts = rotation.version_counts()
    source = "CAUNOI_KEYS" if rotation.uses_env(current_app.config) else "key file"
    click.echo(f"Key set from {source}; current master key version {ring.current_master_version}")
    for version in sorted(set(ring.master_keys) | set(counts)):
        live, destroyed = counts.get(version, (0, 0))
        if version == ring.current_master_version:
            state = "current"
        elif version in ring.master_keys:
            state = "older"
        elif version in ring.retired_versions and not live:
            state = "retired"
        else:
            state = "MISSING from the key set" if live else "not in the key set"
        click.echo(f"  v{version}: {state}; {live} data key(s), {destroyed} destroyed")
    if ring.retired_versions:
        click.echo("Retired: " + ", ".join(f"v{v}" for v in sorted(ring.retired_versions)))
    pending = rotation.pending_count(ring.current_master_version)
    if pending:
        click.echo(f"{pending} data key(s) still to re-wrap: run `flask --app app keys rotate`.")


commands = [keys_cli]
