"""PostgreSQL 15 for tests: a primary and streaming replicas in a temp dir, a
PgBouncer, and the `scaleout pg` proxy, all on free loopback ports.

Reusable by any suite that needs a real PostgreSQL (the pg proxy's, the app
tier's):

    from pg_helpers import PgCluster
    with PgCluster(replicas=1) as pg:
        pg.primary.sql("CREATE TABLE t(x int)")
        pg.wait_replicated()
        print(pg.primary.port, pg.replicas[0].port, pg.password)

Root cannot run postgres, so when the tests run as root every PostgreSQL and
PgBouncer command runs as the unprivileged `postgres` user (created by
Debian's postgresql-common; `nobody` otherwise) through runuser, and the
temp dir belongs to that user. Unix sockets live in the temp dir, never in
/var/run/postgresql. Readiness is polled with a deadline, never a fixed sleep.

Logins made by PgCluster (pg_hba.conf):
    postgres   superuser, trust over TCP from 127.0.0.1 (for the tests' own checks)
    app        password `apppass`, SCRAM-SHA-256
    app_md5    password `md5pass`, stored and checked as md5
    replication: trust
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from proc_helpers import HOST, free_port, scaleout_bin, wait_until

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
PGPOOL = shutil.which("pgpool") or "/usr/sbin/pgpool"
APP_USER, APP_PASSWORD = "app", "apppass"
MD5_USER, MD5_PASSWORD = "app_md5", "md5pass"
READY_TIMEOUT = 30.0


def _run_user():
    """The unprivileged user that runs postgres when we are root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


RUN_USER = _run_user()


def as_user(cmd):
    """cmd (a list) run as RUN_USER when we are root."""
    if RUN_USER is None:
        return list(cmd)
    return ["runuser", "-u", RUN_USER, "--"] + list(cmd)


def _chown(path):
    if RUN_USER is not None:
        pw = pwd.getpwnam(RUN_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def make_tempdir(prefix="scaleout-pg-"):
    """A temp dir that RUN_USER owns (not under pytest's root-only tmp)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    _chown(d)
    return Path(d)


def write_file(path, text, mode=0o644):
    path = Path(path)
    path.write_text(text)
    os.chmod(path, mode)
    _chown(path)
    return path


def port_open(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _check(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout}")
    return r.stdout


class PgServer:
    """One PostgreSQL server (primary or replica) in datadir on port."""

    def __init__(self, datadir, port, sockdir):
        self.datadir = Path(datadir)
        self.port = port
        self.sockdir = sockdir
        self.log = self.datadir.parent / f"pg-{port}.log"

    def start(self):
        _check(as_user([PG_BIN / "pg_ctl", "-D", self.datadir, "-l", self.log, "-w", "-t", "60",
                        "-o", f"-p {self.port} -k {self.sockdir} -c listen_addresses={HOST}", "start"]))
        wait_until(lambda: port_open(self.port), timeout=READY_TIMEOUT, what=f"postgres on {self.port}")

    def stop(self, mode="fast"):
        subprocess.run(as_user([PG_BIN / "pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "30", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def connect(self, user="postgres", dbname="postgres", **kw):
        import psycopg2
        c = psycopg2.connect(host=HOST, port=self.port, user=user, dbname=dbname, connect_timeout=10, **kw)
        c.autocommit = True
        return c

    def sql(self, query, params=None, user="postgres", dbname="postgres"):
        """Run one statement as the superuser; returns all rows (or None)."""
        c = self.connect(user=user, dbname=dbname)
        try:
            with c.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else None
        finally:
            c.close()

    def psql_cmd(self, user="postgres", dbname="postgres"):
        return ["psql", "-X", "-h", HOST, "-p", str(self.port), "-U", user, "-d", dbname]


class PgCluster:
    """A primary and `replicas` streaming replicas (pg_basebackup -R), started
    on free ports. Use as a context manager or call start()/stop()."""

    def __init__(self, replicas=0, conf=""):
        self.nreplicas = replicas
        self.extra_conf = conf
        self.dir = None
        self.primary = None
        self.replicas = []
        self.user, self.password = APP_USER, APP_PASSWORD
        self.md5_user, self.md5_password = MD5_USER, MD5_PASSWORD

    def start(self):
        self.dir = make_tempdir()
        sockdir = self.dir
        pdata = self.dir / "primary"
        pwfile = write_file(self.dir / "pw", "postgres\n", 0o600)
        _check(as_user([PG_BIN / "initdb", "-D", pdata, "-U", "postgres", "-A", "trust", "--no-sync",
                        "--pwfile", pwfile, "-E", "UTF8", "--locale", "C"]))
        with open(pdata / "postgresql.conf", "a") as f:
            f.write("fsync = off\nfull_page_writes = off\n"
                    "max_connections = 100\nwal_level = replica\nmax_wal_senders = 10\n"
                    "hot_standby = on\nshared_buffers = 32MB\n" + self.extra_conf + "\n")
        write_file(pdata / "pg_hba.conf",
                   "local all all trust\n"
                   f"host replication all {HOST}/32 trust\n"
                   f"host all postgres {HOST}/32 trust\n"
                   f"host all {MD5_USER} {HOST}/32 md5\n"
                   f"host all all {HOST}/32 scram-sha-256\n", 0o600)
        self.primary = PgServer(pdata, free_port(), sockdir)
        self.primary.start()
        self.primary.sql(f"CREATE ROLE {APP_USER} LOGIN SUPERUSER PASSWORD '{APP_PASSWORD}'")
        c = self.primary.connect()
        with c.cursor() as cur:
            cur.execute("SET password_encryption = 'md5'")
            cur.execute(f"CREATE ROLE {MD5_USER} LOGIN SUPERUSER PASSWORD '{MD5_PASSWORD}'")
        c.close()
        self.primary.sql(f"CREATE DATABASE appdb OWNER {APP_USER}")
        for i in range(self.nreplicas):
            rdata = self.dir / f"replica{i}"
            _check(as_user([PG_BIN / "pg_basebackup", "-h", HOST, "-p", str(self.primary.port), "-U", "postgres",
                            "-D", rdata, "-R", "-X", "stream", "--no-sync", "-c", "fast"]))
            r = PgServer(rdata, free_port(), sockdir)
            r.start()
            self.replicas.append(r)
        for r in self.replicas:
            wait_until(lambda: r.sql("SELECT pg_is_in_recovery()")[0][0] is True, timeout=READY_TIMEOUT,
                       what="replica in recovery")
        self.wait_replicated()
        return self

    def wait_replicated(self, timeout=20.0):
        """Poll until every replica has replayed the primary's current WAL position."""
        if not self.replicas:
            return
        lsn = self.primary.sql("SELECT pg_current_wal_lsn()")[0][0]
        for r in self.replicas:
            wait_until(lambda: r.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0],
                       timeout=timeout, what=f"replica {r.port} replaying {lsn}")

    def userlist(self, path, users=None):
        """Write a PgBouncer-format user list with cleartext passwords."""
        users = users or {APP_USER: APP_PASSWORD, MD5_USER: MD5_PASSWORD}
        return write_file(path, "".join(f'"{u}" "{p}"\n' for u, p in users.items()), 0o644)

    def stop(self):
        for r in self.replicas:
            r.stop("immediate")
        if self.primary:
            self.primary.stop("immediate")
        if self.dir and not os.environ.get("PG_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


class Proc:
    """A child process with a log file, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, cmd, log, port):
        self.cmd = [str(c) for c in cmd]
        self.logpath = Path(log)
        self.port = port
        self.proc = None

    def start(self, timeout=15.0):
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.cmd[0]} exited {self.proc.returncode}:\n{self.log()}")
            return port_open(self.port)

        wait_until(ready, timeout=timeout, what=f"{self.cmd[0]} on {self.port}")
        return self

    def log(self):
        try:
            return self.logpath.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)
        finally:
            self.logf.close()


def start_scaleout_pg(cluster, workdir, auth="scram-sha-256", mode="transaction", replicas=True, extra=(),
                      port=None, admin_port=None, users=None, primary=None):
    """Start `scaleout pg` in front of cluster; returns a Proc with .port and .admin_port.
    users: {name: password or md5/SCRAM secret} for its auth file (default: the cluster's).
    primary: the --primary address (default: the cluster's primary over TCP)."""
    port = port or free_port()
    admin_port = admin_port or free_port()
    userlist = cluster.userlist(Path(workdir) / f"userlist-{port}.txt", users)
    cmd = [scaleout_bin(), "pg", "--listen", f"{HOST}:{port}", "--primary", primary or f"{HOST}:{cluster.primary.port}",
           "--admin-port", str(admin_port), "--auth-type", auth, "--auth-file", userlist, "--pool-mode", mode]
    if replicas:
        for r in cluster.replicas:
            cmd += ["--replica", f"{HOST}:{r.port}"]
    cmd += list(extra)
    p = Proc(cmd, Path(workdir) / f"scaleout-pg-{port}.log", port)
    p.admin_port = admin_port
    return p.start()


def start_pgbouncer(cluster, workdir, auth="scram-sha-256", mode="transaction", pool_size=20, port=None,
                    server_host=None, admin_users=None):
    """Start Debian's PgBouncer (as RUN_USER: it refuses root) in front of the primary.
    server_host: its host= for the primary (default: HOST; a directory: the Unix-domain socket)."""
    port = port or free_port()
    workdir = Path(workdir)
    userlist = cluster.userlist(workdir / "pgb-userlist.txt")
    ini = write_file(workdir / f"pgbouncer-{port}.ini",
                     "[databases]\n"
                     f"* = host={server_host or HOST} port={cluster.primary.port}\n"
                     "[pgbouncer]\n"
                     f"listen_addr = {HOST}\nlisten_port = {port}\nunix_socket_dir =\n"
                     f"auth_type = {auth}\nauth_file = {userlist}\npool_mode = {mode}\n"
                     f"default_pool_size = {pool_size}\nmax_client_conn = 1000\n"
                     f"pidfile = {workdir}/pgbouncer-{port}.pid\nlogfile = {workdir}/pgbouncer-{port}.log\n"
                     "ignore_startup_parameters = extra_float_digits,options\n" +
                     (f"admin_users = {admin_users}\n" if admin_users else ""))
    return Proc(as_user([PGBOUNCER, ini]), workdir / f"pgbouncer-{port}.out", port).start()


def start_pgpool(cluster, workdir, replicas=True, port=None, children=32, max_pool=4):
    """Start Debian's Pgpool-II (as RUN_USER when root) in front of cluster:
    streaming-replication mode, connection cache, load_balance_mode with the
    replicas taking every read (primary weight 0), SCRAM for clients (pool_hba
    + pool_passwd in clear text), no health or replication checks. Returns a
    Proc whose .proc is the main pgpool (its children do the work)."""
    port = port or free_port()
    wd = Path(workdir) / f"pgpool-{port}"
    wd.mkdir(parents=True, exist_ok=True)
    _chown(wd)
    backends = [cluster.primary] + (list(cluster.replicas) if replicas else [])
    conf = [f"listen_addresses = '{HOST}'", f"port = {port}", f"unix_socket_directories = '{wd}'",
            f"pcp_listen_addresses = ''", f"pcp_port = {free_port()}", f"pcp_socket_dir = '{wd}'",
            f"wd_ipc_socket_dir = '{wd}'", f"pid_file_name = '{wd}/pgpool.pid'", f"logdir = '{wd}'",
            "backend_clustering_mode = 'streaming_replication'",
            f"num_init_children = {children}", f"max_pool = {max_pool}", "connection_cache = on",
            "load_balance_mode = on", "sr_check_period = 0", "sr_check_user = 'postgres'", "sr_check_password = ''", "health_check_period = 0",
            "failover_on_backend_error = off", "enable_pool_hba = on", f"pool_passwd = '{wd}/pool_passwd'",
            "log_destination = 'stderr'", "log_min_messages = warning", "memory_cache_enabled = off"]
    for i, b in enumerate(backends):
        conf += [f"backend_hostname{i} = '{HOST}'", f"backend_port{i} = {b.port}",
                 f"backend_weight{i} = {0 if i == 0 and len(backends) > 1 else 1}",
                 f"backend_flag{i} = 'DISALLOW_TO_FAILOVER'"]
    write_file(wd / "pgpool.conf", "\n".join(conf) + "\n", 0o644)
    write_file(wd / "pool_hba.conf", f"local all all trust\nhost all all {HOST}/32 scram-sha-256\n", 0o644)
    write_file(wd / "pool_passwd", f"{APP_USER}:TEXT{APP_PASSWORD}\n", 0o600)
    write_file(wd / "pcp.conf", "", 0o644)
    for f in ("pgpool.conf", "pool_hba.conf", "pool_passwd", "pcp.conf"):
        _chown(wd / f)
    cmd = as_user([PGPOOL, "-n", "-f", wd / "pgpool.conf", "-a", wd / "pool_hba.conf", "-F", wd / "pcp.conf"])
    return Proc(cmd, wd / "pgpool.out", port).start(timeout=30)
