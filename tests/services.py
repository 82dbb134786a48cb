"""Throw-away PostgreSQL and Redis servers for a test run that was given none.

``.ci/run`` points the suite at the machine's own servers
(``MOBILITY_TEST_POSTGRES_URL``, ``MOBILITY_TEST_REDIS_URL``). A newcomer's
``make test`` sets neither: then the first test process starts a PostgreSQL (from
Debian's ``postgresql`` package, which ``make test`` installs) and a Redis on free
loopback ports in a temporary folder, exports their URLs for the test processes it
starts, and stops both when it exits. Either way every test runs: nothing is skipped
for want of a server.

pytest-postgresql was considered: it runs ``initdb`` as the current user, which
PostgreSQL refuses for root (the user CI and these machines run as); here the
server runs as the ``postgres`` system user when the suite runs as root.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["ensure_services"]

POSTGRES_VAR = "MOBILITY_TEST_POSTGRES_URL"
REDIS_VAR = "MOBILITY_TEST_REDIS_URL"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped at start: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} does not answer on 127.0.0.1:{port} after 30 s")


def _as_postgres_user() -> list[str]:
    """``runuser`` to the ``postgres`` user when running as root (PostgreSQL refuses
    root), nothing otherwise."""
    if os.geteuid() != 0:
        return []
    pwd.getpwnam("postgres")  # Debian's postgresql package creates it
    return ["runuser", "-u", "postgres", "--"]


def _start_postgres(folder: Path) -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb")]
    if not found or found[-1] is None:
        raise RuntimeError(
            f"{POSTGRES_VAR} is not set and PostgreSQL's initdb is not installed: "
            "`make test` installs Debian's postgresql"
        )
    bin_dir = Path(found[-1]).parent
    data = folder / "pgdata"
    data.mkdir()
    sudo = _as_postgres_user()
    if sudo:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(
        [*sudo, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = folder / "postgres.log"
    server = subprocess.Popen(
        [
            *sudo,
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=300",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    atexit.register(_stop, server)
    _wait_for(port, "PostgreSQL", server, log)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    _wait_for_queries(url)
    return url


def _wait_for_queries(url: str) -> None:
    """Until the server takes connections (it listens before it has recovered)."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(plain, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _start_redis(folder: Path) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            f"{REDIS_VAR} is not set and redis-server is not installed: "
            "`make test` installs Debian's redis-server"
        )
    port = _free_port()
    log = folder / "redis.log"
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    atexit.register(_stop, server)
    _wait_for(port, "Redis", server, log)
    return f"redis://127.0.0.1:{port}/0"


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def ensure_services() -> None:
    """Give the suite a PostgreSQL and a Redis: the configured ones, else throw-away
    servers started here (their URLs exported for the processes started after)."""
    if os.environ.get(POSTGRES_VAR) and os.environ.get(REDIS_VAR):
        return
    folder = Path(tempfile.mkdtemp(prefix="passaggio-test-services-"))
    atexit.register(shutil.rmtree, folder, True)
    if not os.environ.get(POSTGRES_VAR):
        os.environ[POSTGRES_VAR] = _start_postgres(folder)
    if not os.environ.get(REDIS_VAR):
        os.environ[REDIS_VAR] = _start_redis(folder)
