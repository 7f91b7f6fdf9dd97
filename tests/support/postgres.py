"""A throwaway PostgreSQL server for the tests: one cluster per test session, on loopback.

The server binaries come from Debian's ``postgresql`` package (``make system-deps``
installs it); the cluster the package may have created is never used. ``initdb``
writes a new cluster into a temporary folder, the server listens on a free port of
127.0.0.1 only (no unix socket), and ``stop`` shuts it down and deletes the folder.

PostgreSQL refuses to run as root: a test run as root starts the server as
``nobody`` (through ``setpriv``), in a folder that ``nobody`` owns; any other user
runs it as itself. Authentication is ``trust`` on loopback, except for the role
``PASSWORD_ROLE``, which must give ``PASSWORD`` (scram-sha-256), so that a password
taken from the environment is tested against a real server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "churn"
PASSWORD_ROLE = "churn_pw"
#: Every character that has a meaning in a URL, so that a password is only right if
#: it reaches the server exactly as it is in the environment.
PASSWORD = "p@ss:w/rd?%41#&+ é"
#: PostgreSQL will not run as root; a root test run starts the server as this user.
UNPRIVILEGED_USER = "nobody"
FOLDER_PREFIX = "churn-pg-"
OWNER_FILE = "owner.pid"  # the test process that started the cluster

MISSING = (
    "the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed: run "
    "`make system-deps` (it installs Debian's postgresql package), or deselect these "
    "tests with -m 'not postgres'"
)


class ServerError(RuntimeError):
    """The test cluster could not be created, started or stopped."""


def server_binaries() -> Path:
    """The folder holding initdb, pg_ctl and postgres: on PATH, else Debian's newest."""
    names = ("initdb", "pg_ctl", "postgres")
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).parent] if on_path else []
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))[::-1]
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in names):
            return folder
    raise ServerError(MISSING)


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when this process is root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise ServerError(
            f"the tests run as root and PostgreSQL refuses to: the user {UNPRIVILEGED_USER!r} "
            "to run it as does not exist"
        ) from None
    return account.pw_uid, account.pw_gid


def _run_as(account: tuple[int, int] | None, argv: list[str], timeout: float = 120):
    """Run ``argv`` as ``account`` (see ``_server_account``); output is captured as text."""
    if account is not None:
        uid, gid = account
        argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *argv]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Cluster:
    root: Path
    port: int
    bindir: Path
    account: tuple[int, int] | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A SQLAlchemy URL; ``password`` is put in as written (e.g. a ``${VAR}`` reference)."""
        credentials = f"{user}:{password}" if password is not None else user
        return f"postgresql+psycopg://{credentials}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        """A psycopg connection as the superuser, in autocommit mode."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True
        )

    def create_database(self, name: str) -> str:
        from psycopg import sql

        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended) and delete its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                pg_ctl = str(self.bindir / "pg_ctl")
                done = _run_as(self.account, [pg_ctl, "stop", "-D", str(self.data), "-m", "fast"])
                if done.returncode != 0:
                    done = _run_as(
                        self.account, [pg_ctl, "stop", "-D", str(self.data), "-m", "immediate"]
                    )
                if done.returncode != 0:
                    raise ServerError(f"pg_ctl stop failed: {done.stderr}\n{self.log()}")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _stop_orphans() -> None:
    """Stop and delete the clusters of earlier test runs that were killed before teardown."""
    for root in Path(tempfile.gettempdir()).glob(FOLDER_PREFIX + "*"):
        owner = root / OWNER_FILE
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being set up
        if _alive(pid):
            continue
        stat = root.stat()
        if os.geteuid() not in (0, stat.st_uid):
            continue
        account = None if stat.st_uid == os.geteuid() else (stat.st_uid, stat.st_gid)
        with contextlib.suppress(ServerError):
            Cluster(root, 0, server_binaries(), account).stop()


def start_cluster() -> Cluster:
    """initdb a new cluster in a temporary folder and start it on a free loopback port."""
    bindir = server_binaries()
    account = _server_account()
    _stop_orphans()
    root = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    cluster = Cluster(root, 0, bindir, account)
    try:
        if account is not None:
            os.chown(root, *account)
        init = _run_as(
            account,
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(cluster.data),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
        )
        if init.returncode != 0:
            raise ServerError(f"initdb failed:\n{init.stdout}{init.stderr}")
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# throwaway test cluster: loopback only, no unix socket, no durability\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "timezone = 'UTC'\n"
            )
        (cluster.data / "pg_hba.conf").write_text(
            f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        (root / OWNER_FILE).write_text(str(os.getpid()))
        for _ in range(5):  # another process may take the free port before the server does
            cluster.port = _free_port()
            started = _run_as(
                account,
                [
                    str(bindir / "pg_ctl"),
                    "start",
                    "--pgdata",
                    str(cluster.data),
                    "--log",
                    str(root / "server.log"),
                    "--options",
                    f"-p {cluster.port}",
                    "--wait",
                    "--timeout",
                    "60",
                    "--silent",
                ],
            )
            if started.returncode == 0:
                break
            if "could not bind" not in cluster.log():
                raise ServerError(f"pg_ctl start failed: {started.stderr}\n{cluster.log()}")
        else:
            raise ServerError(f"no free loopback port for the server:\n{cluster.log()}")
        with cluster.admin() as conn:
            from psycopg import sql

            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE pg_read_all_data").format(
                    sql.Identifier(PASSWORD_ROLE), sql.Literal(PASSWORD)
                )
            )
    except BaseException:
        cluster.stop()
        raise
    return cluster
