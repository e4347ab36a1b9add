"""Private PostgreSQL clusters on loopback: a primary and streaming replicas.

Each cluster lives in a folder of its own, listens on one loopback port and a
Unix socket in that folder, and never talks to any other PostgreSQL server
(the PG* variables of the caller's environment are dropped). A primary is made
with `initdb` and trust authentication for 127.0.0.1, replication included; a
replica is a `pg_basebackup -R` of it, started on another port as a hot
standby streaming from the primary.

PostgreSQL refuses to run as root; when the caller runs as root, the clusters
run as the `postgres` account and their folders are handed over to it.
"""

import os
import pathlib
import pwd
import signal
import subprocess
import time

def _newest_pg_bin():
    versions = sorted(
        pathlib.Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else pathlib.Path("/usr/lib/postgresql/15/bin")


PG_BIN = pathlib.Path(os.environ.get("NEWSDESK_PG_BIN") or _newest_pg_bin())
SUPERUSER = "newsdesk"
DATABASE = "newsdesk"
FIELD_SEPARATOR = "\x1f"
RECORD_SEPARATOR = "\x1e"

# What a primary needs so that replicas can stream from it (PostgreSQL 15's
# defaults already say so for most; written out so the intent is visible).
REPLICATION_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "10",
    "wal_keep_size": "256MB",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
}

PG_HBA = """\
# Private test cluster: loopback only, no passwords.
local   all             all                     trust
host    all             all     127.0.0.1/32    trust
local   replication     all                     trust
host    replication     all     127.0.0.1/32    trust
"""


def clean_env():
    """The environment without PG* variables, so nothing points at another server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def children_of(pid):
    """Process ids whose parent is `pid` (PostgreSQL's backends and workers)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid):
    try:
        state = (pathlib.Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class PrivateCluster:
    """initdb (or base backup), start, stop and query one private cluster."""

    def __init__(self, folder, port, log, settings=None, preexec_fn=None):
        self.folder = pathlib.Path(folder)
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.port = port
        self.log = log
        self.settings = dict(settings or {})
        # Run in the postmaster before exec, e.g. to have it killed with its caller.
        self.preexec_fn = preexec_fn
        self.process = None
        self.orphans = []
        self.run_as = None
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            self.run_as = (account.pw_uid, account.pw_gid)

    @property
    def url(self):
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}?sslmode=disable"

    def _as_owner(self):
        if self.run_as is None:
            return {}
        uid, gid = self.run_as
        return {"user": uid, "group": gid, "extra_groups": []}

    def _hand_over(self, path):
        if self.run_as is not None:
            os.chown(path, *self.run_as)

    def _make_folders(self):
        for path in (self.folder, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
            self._hand_over(path)
        # The parent folders must be traversable by the cluster's account.
        self.folder.parent.chmod(0o755)

    def _run_tool(self, *args):
        subprocess.run([str(a) for a in args], check=True, stdout=self.log, stderr=self.log,
                       env=clean_env(), cwd=self.folder, **self._as_owner())

    def initdb(self):
        """Creates the cluster (trust authentication, loopback only) and its database."""
        self._make_folders()
        self._run_tool(PG_BIN / "initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust",
                       "-E", "UTF8", "--locale=C", "--no-instructions")
        (self.data / "pg_hba.conf").write_text(PG_HBA)
        if self.settings:
            with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write("\n# private test cluster\n")
                for name, value in self.settings.items():
                    conf.write(f"{name} = '{value}'\n")
        self.start()
        self.psql(f"CREATE DATABASE {DATABASE}", database="postgres")

    def base_backup_of(self, primary):
        """Makes this cluster a streaming replica of `primary` (pg_basebackup -R) and starts it."""
        self._make_folders()
        self._run_tool(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port,
                       "-U", SUPERUSER, "-D", self.data, "-R", "-X", "stream", "-c", "fast")
        self.start()

    def start(self, timeout=60):
        """Starts the postmaster and waits until it accepts connections.

        A start can fail while backends of a killed postmaster still hold its
        shared memory; it is tried again until the timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.process = subprocess.Popen(
                [PG_BIN / "postgres", "-D", self.data, "-p", str(self.port), "-k", self.socket_dir,
                 "-c", "listen_addresses=127.0.0.1"],
                stdout=self.log, stderr=self.log, env=clean_env(), cwd=self.folder,
                preexec_fn=self.preexec_fn, **self._as_owner())
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if self.ready():
                    return
                time.sleep(0.1)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"PostgreSQL did not accept connections within {timeout} s")
            if time.monotonic() >= deadline:
                raise RuntimeError("PostgreSQL did not start (see its log)")
            time.sleep(0.3)

    def ready(self):
        done = subprocess.run(
            [PG_BIN / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
             "-d", "postgres", "-t", "1"], env=clean_env())
        return done.returncode == 0

    @property
    def postmaster_pid(self):
        return self.process.pid if self.process else None

    def kill_postmaster(self):
        """SIGKILLs the postmaster alone; its backends notice and exit by themselves."""
        pid = self.process.pid
        self.orphans = children_of(pid)
        os.kill(pid, signal.SIGKILL)
        self.process.wait()
        return pid

    def wait_for_orphans(self, timeout=15):
        """Waits for a stopped postmaster's backends to exit; SIGKILLs any left at the timeout.

        Returns the ids of those that had to be killed.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = [pid for pid in self.orphans if alive(pid)]
            if not left:
                self.orphans = []
                return []
            time.sleep(0.05)
        left = [pid for pid in self.orphans if alive(pid)]
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.orphans = []
        return left

    def stop(self, timeout=30):
        """Fast shutdown (SIGINT); SIGKILL after the timeout. Safe to call twice."""
        if self.process is not None and self.process.poll() is None:
            self.orphans = children_of(self.process.pid)
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.wait_for_orphans(timeout=5)

    def psql(self, sql, database=DATABASE):
        """Runs SQL; returns the rows of the last statement as lists of strings (NULL is '')."""
        done = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", FIELD_SEPARATOR,
             "-R", RECORD_SEPARATOR, "-c", sql,
             f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database} "
             "sslmode=disable connect_timeout=5"],
            capture_output=True, text=True, env=clean_env())
        if done.returncode != 0:
            raise RuntimeError(f"psql: {done.stderr.strip()}")
        out = done.stdout
        if out.endswith("\n"):
            out = out[:-1]
        if not out:
            return []
        return [record.split(FIELD_SEPARATOR) for record in out.split(RECORD_SEPARATOR)]

    def value(self, sql, database=DATABASE):
        """The first column of the first row, or None."""
        rows = self.psql(sql, database=database)
        return rows[0][0] if rows else None

    def setting(self, name):
        return self.psql(f"SHOW {name}")[0][0]


def make_primary(folder, port, log, preexec_fn=None):
    """A new primary that replicas can stream from, started."""
    primary = PrivateCluster(folder, port, log, settings=REPLICATION_SETTINGS, preexec_fn=preexec_fn)
    primary.initdb()
    return primary


def make_replica(primary, folder, port, log, preexec_fn=None):
    """A hot standby of `primary`, made from a base backup and started."""
    replica = PrivateCluster(folder, port, log, preexec_fn=preexec_fn)
    replica.base_backup_of(primary)
    return replica


def wait_streaming(primary, replica, timeout=60):
    """Waits until the replica is in recovery and the primary has a streaming WAL sender."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            recovering = replica.value("SELECT pg_is_in_recovery()", database="postgres") == "t"
            senders = int(primary.value(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                database="postgres"))
        except RuntimeError:
            recovering, senders = False, 0
        if recovering and senders > 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the replica on port {replica.port} is not streaming after {timeout} s")


def wait_replayed(primary, replica, timeout=30):
    """Waits until the replica has replayed everything the primary has written so far."""
    target = primary.value("SELECT pg_current_wal_lsn()", database="postgres")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        behind = replica.value(
            f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn()) > 0", database="postgres")
        if behind == "f":
            return
        time.sleep(0.05)
    raise RuntimeError(f"the replica has not replayed {target} after {timeout} s")
