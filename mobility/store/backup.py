"""Backups of the database: PostgreSQL's own dump tools (``pg_dump`` in its custom
format, ``pg_restore``), SQLite's online backup API (a consistent copy while the app
runs). A restore replaces the database's content with the backup's."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import make_url

from mobility.errors import InputDataError

__all__ = ["backup_database", "restore_database"]


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InputDataError("database: an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq(url: str) -> tuple[str, list[str], dict[str, str]]:
    """A libpq connection string for the dump tools (without the password, which goes
    in the environment: a command line is visible to every user of the machine),
    ``--schema`` when the URL sets a search path, and the tools' environment."""
    parsed = make_url(url)
    raw = parsed.query.get("options")
    schema_args: list[str] = []
    if raw:
        text = unquote(raw if isinstance(raw, str) else raw[0])
        for part in text.split():
            if part.startswith("-csearch_path="):
                schema_args = [f"--schema={part.split('=', 1)[1]}"]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql").difference_update_query(["options"])
    plain = plain._replace(password=None)  # set() reads None as "keep it"
    return plain.render_as_string(hide_password=False), schema_args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InputDataError(f"{name}: not installed (Debian: postgresql-client)")
    return found


def backup_database(url: str, out: Path) -> Path:
    """Write a backup of the database at ``url`` to ``out``.

    Raises
    ------
    InputDataError
        When the database cannot be backed up (its message names why).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)  # personal data: readable by the owner only, from the start
    out.chmod(0o600)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(out)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return out
    connection, schema, env = _libpq(url)
    command = [_tool("pg_dump"), "--format=custom", f"--file={out}", *schema, connection]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise InputDataError(f"pg_dump: {result.stderr.strip()[:300]}")
    out.chmod(0o600)
    return out


def restore_database(url: str, backup: Path) -> None:
    """Replace the content of the database at ``url`` with a backup's.

    Raises
    ------
    InputDataError
        For a missing or unreadable backup, or a failed restore.
    """
    if not backup.is_file():
        raise InputDataError(f"{backup}: no such backup file")
    if url.startswith("sqlite"):
        try:
            source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            source.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InputDataError(f"{backup}: not a SQLite backup ({exc})") from None
        target = sqlite3.connect(_sqlite_path(url))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    connection, schema, env = _libpq(url)
    command = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={connection}",
        *schema,
        str(backup),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise InputDataError(f"pg_restore: {result.stderr.strip()[:300]}")
