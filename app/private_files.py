"""Files the app keeps under instance/ are its owner's alone: folders 0700, files 0600.

The SQLite database holds ciphertexts, blind indexes and the audit trail; the key set and the
secret key sit beside it. A process umask of 022 (the usual default) would leave the database,
its WAL and shared-memory files world-readable, so modes are set explicitly here instead of
trusting the umask of whoever started the server. SQLite gives the -wal, -shm and -journal
files the mode of the database file, so tightening the database before its first write
covers them too; they are tightened again on every connection for databases created earlier.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: str | os.PathLike) -> Path:
    """Create the folder (and its parents) if needed, and make it 0700."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def tighten(path: str | os.PathLike) -> None:
    """Make an existing file 0600 (a no-op when it does not exist)."""
    try:
        os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass


def open_private(path: str | os.PathLike, mode: str = "w", *, exclusive: bool = False):
    """Open a file for writing, created 0600 whatever the umask (backups, exports)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    if "b" in mode:
        flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(fd, mode)


def sqlite_file(database: str | None) -> Path | None:
    """The file behind a SQLite database name, or None for memory and shared-cache names."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite_file(database: str | None, relative_to: str | os.PathLike = ".") -> None:
    """Before SQLite first opens it: create the database file 0600 (empty) in a 0700 folder."""
    path = sqlite_file(database)
    if path is None:
        return
    path = Path(relative_to) / path  # an absolute path stays itself
    if not path.exists():
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    tighten_sqlite(path)


def tighten_sqlite(path: str | os.PathLike) -> None:
    """The database file and whichever of its companions exist right now, 0600."""
    for suffix in ("", *SQLITE_COMPANIONS):
        tighten(f"{path}{suffix}")
