"""What the benchmarks' Python helpers share, and the helpers of
tests/bench/run_bench.sh (Debian's /usr/bin/python3).

Imported by log_bench.py, listing_bench.py, wipe_bench.py and
invoice_bench.py: PostgreSQL through libpq (Pg: Debian's python3 has no
driver), the results file (emit, read_results), CPU of processes (cpu_s,
TreeCpu), gRPC through grpcio (channel, unary, md, create_org, timed_run),
the statements of one call captured from PostgreSQL's log and the pgbench
script made of them (capture, script_inputs, script_head, cmd_pgbench),
grpc_load's input and its run (write_bodies, grpc_load), the tables the
gRPC-against-pgbench benchmarks share (rounds_table, shapes_table), the CPU
cost of a signature and a key unwrap through libsodium (sign_costs), and
their command line (bench_main: compact option specs, the shared
subcommands).

Run by run_bench.sh (CLI_DOC below): h2load's runs checked apart from
h2load.
"""

import argparse
import ctypes
import datetime
import json
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
# tests/interop's shared helpers (pbwire, rfc9162), for the benchmarks that use them
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

ORG = "/registry.v1.OrgService/"


def identifiers():
    """tests/data/identifiers.json: valid and invalid identifiers, for
    checking the benchmarks' generators against the server's rules."""
    with open(os.path.join(HERE, "..", "data", "identifiers.json")) as f:
        return json.load(f)

# -- PostgreSQL through libpq ---------------------------------------------------


class Pg:
    """One libpq connection: query() for text rows, copy_in() for COPY."""

    _lib = None

    @classmethod
    def lib(cls):
        if cls._lib is None:
            lib = ctypes.CDLL("libpq.so.5")
            vp, cp, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
            for name, res, args in (
                    ("PQconnectdb", vp, [cp]), ("PQstatus", i, [vp]),
                    ("PQerrorMessage", cp, [vp]), ("PQexec", vp, [vp, cp]),
                    ("PQresultStatus", i, [vp]), ("PQresultErrorMessage", cp, [vp]),
                    ("PQntuples", i, [vp]), ("PQnfields", i, [vp]),
                    ("PQgetvalue", cp, [vp, i, i]), ("PQgetisnull", i, [vp, i, i]),
                    ("PQclear", None, [vp]), ("PQfinish", None, [vp]),
                    ("PQputCopyData", i, [vp, cp, i]), ("PQputCopyEnd", i, [vp, cp]),
                    ("PQgetResult", vp, [vp])):
                f = getattr(lib, name)
                f.restype, f.argtypes = res, args
            cls._lib = lib
        return cls._lib

    def __init__(self, conninfo):
        self.L = self.lib()
        self.c = self.L.PQconnectdb(conninfo.encode())
        if self.L.PQstatus(self.c) != 0:
            raise RuntimeError("PostgreSQL: " + self.L.PQerrorMessage(self.c).decode())

    def close(self):
        if self.c:
            self.L.PQfinish(self.c)
            self.c = None

    def query(self, sql):
        """Rows of text (None for NULL); raises on an error."""
        L = self.L
        r = L.PQexec(self.c, sql.encode())
        try:
            st = L.PQresultStatus(r)
            if st not in (1, 2):  # PGRES_COMMAND_OK, PGRES_TUPLES_OK
                raise RuntimeError("%s: %s" % (sql[:80], L.PQresultErrorMessage(r).decode()))
            rows = []
            for i in range(L.PQntuples(r)):
                rows.append(tuple(None if L.PQgetisnull(r, i, j) else L.PQgetvalue(r, i, j).decode()
                                  for j in range(L.PQnfields(r))))
            return rows
        finally:
            L.PQclear(r)

    def scalar(self, sql):
        return self.query(sql)[0][0]

    def copy_start(self, sql):
        """COPY … FROM STDIN begun: then copy_put() the data, copy_end()."""
        L = self.L
        r = L.PQexec(self.c, sql.encode())
        st = L.PQresultStatus(r)
        L.PQclear(r)
        if st != 4:  # PGRES_COPY_IN
            raise RuntimeError("COPY did not start: " + L.PQerrorMessage(self.c).decode())

    def copy_put(self, data):
        if self.L.PQputCopyData(self.c, data, len(data)) != 1:
            raise RuntimeError("COPY data: " + self.L.PQerrorMessage(self.c).decode())

    def copy_end(self):
        L = self.L
        L.PQputCopyEnd(self.c, None)
        err = None
        while True:
            r = L.PQgetResult(self.c)
            if not r:
                break
            if L.PQresultStatus(r) != 1:
                err = L.PQresultErrorMessage(r).decode()
            L.PQclear(r)
        if err:
            raise RuntimeError("COPY: " + err)

    def copy_in(self, sql, chunks):
        """COPY … FROM STDIN with the byte strings of `chunks`."""
        self.copy_start(sql)
        for ch in chunks:
            self.copy_put(ch)
        self.copy_end()


def cmd_pgstat(a):
    """The top statements of pg_stat_statements (since its last reset)."""
    pg = Pg(a.pg)
    rows = pg.query(
        "SELECT calls, round(total_exec_time::numeric, 0), round(mean_exec_time::numeric, 3), "
        "rows, regexp_replace(left(query, 110), '\\s+', ' ', 'g') "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT %d" % a.top)
    emit(a, {"kind": "pgstat", "label": a.label,
             "top": [{"calls": int(c), "total_ms": float(t), "mean_ms": float(m), "rows": int(r),
                      "query": q} for c, t, m, r, q in rows]})


# -- results ---------------------------------------------------------------------


def emit(a, rec):
    """One measurement: a JSON line on stdout and appended to --results."""
    rec["at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = json.dumps(rec, sort_keys=True)
    print(line)
    if a.results:
        with open(a.results, "a") as f:
            f.write(line + "\n")


def read_results(path):
    """The records of a results file, in order."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def fmt(x, nd=0):
    if x is None:
        return "-"
    return f"{x:,.{nd}f}"


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a list in any order."""
    return percentile(sorted(values), p)


# -- CPU of processes ----------------------------------------------------------------


def user_sys(pid):
    """(utime, stime) of a process (all threads), seconds; (0, 0) when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            x = f.read().rsplit(")", 1)[1].split()
        t = os.sysconf("SC_CLK_TCK")
        return int(x[11]) / t, int(x[12]) / t
    except (OSError, ValueError):
        return 0.0, 0.0


def cpu_s(pid):
    """utime + stime of a process (all threads), seconds; 0 when gone."""
    return sum(user_sys(pid))


def child_pids(root):
    """The direct children of root (PostgreSQL: the postmaster's backends)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == root:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def tree_cpu_s(root):
    """CPU of root and its direct children now (a backend that exited took
    its CPU with it: TreeCpu samples over a run)."""
    return cpu_s(root) + sum(cpu_s(p) for p in child_pids(root))


class TreeCpu:
    """CPU seconds of a process and its children (PostgreSQL: the postmaster
    and its backends) over a run, sampled every 0.25 s so that a backend
    that exits before the end (pgbench's connections) still counts up to its
    last sample: start(), stop() → seconds."""

    def __init__(self, root):
        self.root = root
        self.base, self.last = {}, {}
        self.done = threading.Event()
        self.t = None

    def _pids(self):
        return [self.root] + child_pids(self.root)

    def _sample(self):
        for pid in self._pids():
            c = cpu_s(pid)
            if c > 0 or pid not in self.last:
                self.last[pid] = max(c, self.last.get(pid, 0.0))

    def start(self):
        if not self.root:
            return self
        for pid in self._pids():
            self.base[pid] = cpu_s(pid)
        self.last = dict(self.base)

        def run():
            while not self.done.wait(0.25):
                self._sample()
        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()
        return self

    def stop(self):
        if not self.root:
            return 0.0
        self.done.set()
        self.t.join()
        self._sample()
        return sum(c - self.base.get(pid, 0.0) for pid, c in self.last.items())


# -- gRPC -------------------------------------------------------------------------

# grpc-status numbers → names, for the codes of a grpc_load run
GRPC_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
              "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
              "UNAUTHENTICATED"]


def channel(addr):
    import grpc
    return grpc.insecure_channel(addr, options=[("grpc.max_receive_message_length", 64 << 20)])


def unary(ch, path, req_cls, resp_cls):
    return ch.unary_unary(path, request_serializer=req_cls.SerializeToString,
                          response_deserializer=resp_cls.FromString)


def md(key):
    return (("authorization", "Bearer " + key),)


def make_uscc(n):
    """The n-th made-up USCC (GB 32100-2015, with the embedded GB 11714
    check character): the rule of tests/interop/harness.py, which the
    benchmarks cannot import, over another organization-code body range
    ("B" + 7 digits) so that the two never collide in one database."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "B%07d" % (n % 10000000)
    org = -sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    first17 = "91140302" + body + "0123456789X"[org]
    # the USCC check character: weights 3^i mod 31
    return first17 + chars[-sum(chars.index(c) * pow(3, i, 31) for i, c in enumerate(first17)) % 31]


def create_org(ch, admin_key, role, name, n):
    """CreateOrganization (USCC make_uscc(n), region 140302) → the
    organization's id, its API key."""
    from registry.v1 import org_pb2
    call = unary(ch, ORG + "CreateOrganization", org_pb2.CreateOrganizationRequest,
                 org_pb2.CreateOrganizationResponse)
    r = call(org_pb2.CreateOrganizationRequest(request_id=str(uuid.uuid4()), name=name,
                                               uscc=make_uscc(n), roles=[role],
                                               region_code="140302"),
             metadata=md(admin_key), timeout=15)
    return r.organization.id, r.api_key


def timed_run(addr, threads, seconds, make_call, seed=0):
    """Calls by `threads` threads (one channel and one random.Random(seed + i)
    each) for `seconds`: make_call(channel) → (request(rnd), send(request)),
    only send timed → (latencies ms, errors, wall seconds)."""
    import grpc
    lat, errors = [], []
    lock = threading.Lock()
    t_end = time.monotonic() + seconds

    def worker(seed):
        rnd = random.Random(seed)
        ch = channel(addr)
        request, send = make_call(ch)
        mine = []
        while time.monotonic() < t_end:
            req = request(rnd)
            t0 = time.perf_counter()
            try:
                send(req)
                mine.append((time.perf_counter() - t0) * 1000)
            except grpc.RpcError as e:
                errors.append("%s %s" % (e.code().name, e.details()))
        with lock:
            lat.extend(mine)
        ch.close()

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(seed + i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat, errors, time.monotonic() - t0


# -- the statements of one call (PostgreSQL's log_statement=all) --------------------

_LOGLINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\w+):  (.*)$")
_PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def parse_pglog(path, offset):
    """[(pid, statement, {n: literal})] logged by log_statement=all after byte
    `offset` (log_line_prefix '%m [%p] ', PostgreSQL 15's default): each
    `statement:` / `execute <name>:` line with the `parameters:` DETAIL that
    follows it (literals as logged: 'text', NULL)."""
    out = []
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    last = {}
    for line in text.splitlines():
        m = _LOGLINE.match(line)
        if not m:
            continue
        pid, level, msg = int(m.group(1)), m.group(2), m.group(3)
        if level == "LOG":
            sm = re.match(r"(?:statement|execute [^:]*): (.*)$", msg)
            if sm:
                rec = [pid, sm.group(1), {}]
                out.append(rec)
                last[pid] = rec
        elif level == "DETAIL" and msg.startswith("parameters: ") and pid in last:
            last[pid][2] = {int(k): v for k, v in _PARAM.findall(msg)}
    return [tuple(r) for r in out]


def shape(sql):
    """A statement's shape, for comparing the call with the pgbench script:
    its verb, the tables it names in order, the locking function it calls,
    FOR UPDATE."""
    s = " ".join(sql.split())
    verb = s.split(" ", 1)[0].upper()
    tabs = re.findall(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_]+)", s, re.I)
    fn = re.findall(r"\b(pg_advisory_xact_lock|set_config)\b", s)
    lock = " FOR UPDATE" if re.search(r"FOR UPDATE", s, re.I) else ""
    return ("%s %s%s%s" % (verb, ",".join(t.lower() for t in tabs),
                           " " + fn[0] if fn else "", lock)).strip()


def _is_auth(stmt):
    return "api_keys" in stmt and stmt.lstrip().upper().startswith("SELECT")


def capture(a, insert, name, prog):
    """`capture`: the calls in the log (a.log after byte a.offset), each
    from the statement-timeout set_config (when there is one) and the
    API-key lookup to the COMMIT after `insert` (e.g. INSERT INTO listings),
    to a.out (JSON) and its .sql twin; a `capture` record with the shapes of
    the last call."""
    by_pid = {}
    for pid, s, params in parse_pglog(a.log, a.offset):
        by_pid.setdefault(pid, []).append((s, params))
    calls = []
    for ss in by_pid.values():
        starts = [i for i, (s, _) in enumerate(ss) if _is_auth(s)]
        for x, i in enumerate(starts):
            j = starts[x + 1] if x + 1 < len(starts) else len(ss)
            if i > 0 and "set_config" in ss[i - 1][0] and (x == 0 or starts[x - 1] < i - 1):
                i -= 1
            seg = ss[i:j]
            if any(insert in s for s, _ in seg):
                commits = [k for k, (s, _) in enumerate(seg) if s.strip().upper() == "COMMIT"]
                if commits:
                    calls.append(seg[:commits[-1] + 1])
    if not calls:
        sys.exit("%s: no %s (API-key lookup … %s … COMMIT on one connection) in %s after byte %d"
                 % (prog, name, insert, a.log, a.offset))
    with open(a.out, "w") as f:
        json.dump([[[s, {str(k): v for k, v in p.items()}] for s, p in c] for c in calls], f,
                  ensure_ascii=False, indent=0)
    with open(os.path.splitext(a.out)[0] + ".sql", "w") as f:
        for n, c in enumerate(calls):
            f.write("-- call %d: %d statements\n" % (n, len(c)))
            for s, p in c:
                f.write(s + ";\n")
                if p:
                    f.write("--   " + ", ".join("$%d = %s" % (k, v[:80]) for k, v in
                                                sorted(p.items())) + "\n")
    emit(a, {"kind": "capture", "label": a.label, "calls": len(calls),
             "statements": [len(c) for c in calls], "shapes": [shape(s) for s, _ in calls[-1]]})


# -- the pgbench script and its run ------------------------------------------------------


def script_inputs(a, group):
    """For `script`: the last captured call of a.captured (a steady-state
    one: the key's last use already recorded), the ids of the organizations
    a.orgs lists under `group` and their API-key hashes (hex, from a.pg)."""
    with open(a.captured) as f:
        call = json.load(f)[-1]
    with open(a.orgs) as f:
        org_ids = [o["id"] for o in json.load(f)[group]]
    pg = Pg(a.pg)
    hashes = dict(pg.query("SELECT organization_id, encode(key_hash, 'hex') FROM api_keys "
                           "WHERE organization_id IN (%s)" % ", ".join("'%s'" % o for o in org_ids)))
    pg.close()
    return call, org_ids, [hashes[o] for o in org_ids]


def script_head(doc, org_ids, key_hashes):
    """The lines a pgbench script starts with: its comment; the client's
    organization (client_id mod their number) as :org and :keyhash, set by
    its first transaction; :n = first + client_id + clients * k, :k counting
    the client's transactions."""
    return [doc,
            "\\if :k = 0",
            "SELECT (ARRAY[%s])[1 + :client_id %% %d] AS org, (ARRAY[%s])[1 + :client_id %% %d] "
            "AS keyhash \\gset" % (", ".join("'%s'" % o for o in org_ids), len(org_ids),
                                   ", ".join("'\\x%s'" % h for h in key_hashes), len(org_ids)),
            "\\endif",
            "\\set n :first + :client_id + :clients * :k", "\\set k :k + 1"]


def cmd_pgbench(a):
    """pgbench -M prepared with a.script: tps, p50/p99 from its per-transaction
    logs, CPU of registryd (idle), PostgreSQL and pgbench."""
    import resource
    logdir = os.path.dirname(os.path.abspath(a.out_prefix))
    for fn in os.listdir(logdir):
        if fn.startswith(os.path.basename(a.out_prefix) + "."):
            os.unlink(os.path.join(logdir, fn))
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(a.clients), "-j", str(a.jobs),
           "-T", str(a.seconds),
           "-f", a.script, "-l", "--log-prefix", a.out_prefix, "-D", "k=0",
           "-D", "clients=%d" % a.clients, "-D", "first=%d" % a.first_item,
           "-D", "run=%d" % random.randrange(1 << 30)] + \
          [x for d in a.define for x in ("-D", d)] + [a.pg]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pgc = TreeCpu(a.pg_pid).start()
    c0 = (cpu_s(a.pid) if a.pid else 0, 0.0)
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.time() - t0
    c1 = (cpu_s(a.pid) if a.pid else 0, pgc.stop())
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(a.out_prefix + ".txt", "w") as f:
        f.write(" ".join(cmd) + "\n" + r.stdout)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", r.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
    done = re.search(r"number of transactions actually processed: (\d+)", r.stdout)
    lat = []
    for fn in os.listdir(logdir):
        if fn.startswith(os.path.basename(a.out_prefix) + "."):
            with open(os.path.join(logdir, fn)) as f:
                for line in f:
                    p = line.split()
                    if len(p) >= 3 and p[2].isdigit():
                        lat.append(int(p[2]) / 1000)
    client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    emit(a, {"kind": "pgbench", "label": a.label, "clients": a.clients, "jobs": a.jobs,
             "seconds": a.seconds, "exit": r.returncode,
             "tps": float(tps.group(1)) if tps else None,
             "transactions": int(done.group(1)) if done else None,
             "failed": int(failed.group(1)) if failed else None,
             "p50_ms": round(pct(lat, 50), 2) if lat else None,
             "p99_ms": round(pct(lat, 99), 2) if lat else None,
             "error_sample": [ln for ln in r.stdout.splitlines() if "ERROR" in ln][:3],
             "cpu_pct": {"registryd (idle)": round((c1[0] - c0[0]) / wall * 100),
                         "postgres": round((c1[1] - c0[1]) / wall * 100),
                         "pgbench": round(client_cpu / wall * 100)}})
    return 0 if r.returncode == 0 and tps else 1


# -- grpc_load, the C load client ----------------------------------------------------------


def write_bodies(path, messages):
    """grpc_load's input: each message serialized by protoc's module (as
    grpcio sends it) behind a 4-byte big-endian length → (messages, bytes of
    the messages)."""
    n = size = 0
    with open(path, "wb") as f:
        buf = []
        for m in messages:
            b = m.SerializeToString()
            n, size = n + 1, size + len(b)
            buf.append(struct.pack(">I", len(b)) + b)
            if len(buf) == 10000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))
    return n, size


def write_keys(path, orgs):
    """grpc_load's key file: the organizations' API keys, one a line, mode
    0600 (its connection i uses key i mod their number)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(o["key"] + "\n" for o in orgs))


def count_bodies(path):
    """How many requests a write_bodies file holds."""
    total = 0
    with open(path, "rb") as f:
        while True:
            h = f.read(4)
            if len(h) < 4:
                return total
            total += 1
            f.seek(struct.unpack(">I", h)[0], 1)


def grpc_load(a, path, prog, registryd_digits=None):
    """grpc_load (a.client) on method `path` with a.bodies and a.keys, C
    connections × S streams; registryd's (a.pid) and PostgreSQL's (a.pg_pid)
    CPU sampled when it says the measured window opens and closes, the
    client's own from its JSON (getrusage over the window); its stderr and
    result to a.log. → a `grpc` record (client grpc_load; registryd's CPU %
    rounded to registryd_digits), or None when it printed no result."""
    cmd = [a.client, "--addr", a.addr, "--path", path, "--bodies", a.bodies,
           "--connections", str(a.connections), "--streams", str(a.streams),
           "--seconds", str(a.seconds), "--warmup", str(a.warmup)]
    if a.keys:
        cmd += ["--keys", a.keys]
    log = open(a.log, "w") if a.log else None
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pgc, c0, c1, w0, w1, notes = None, None, None, None, None, []
    us0 = us1 = (0.0, 0.0)
    for line in p.stderr:
        if log:
            log.write(line)
        if line.startswith("grpc_load: measuring"):
            pgc = TreeCpu(a.pg_pid).start()
            c0 = (cpu_s(a.pid), 0.0)
            us0 = user_sys(a.pid)
            w0 = time.time()
        elif line.startswith("grpc_load: window over") and c0 and not c1:
            c1 = (cpu_s(a.pid), pgc.stop())
            us1 = user_sys(a.pid)
            w1 = time.time()
        else:
            notes.append(line.strip())
    out = p.stdout.read()
    rc = p.wait()
    if pgc and not c1:
        pgc.stop()
    if log:
        log.write(out)
        log.close()
    try:
        r = json.loads(out)
    except ValueError:
        sys.stderr.write("%s: grpc_load exited %d without a result: %s\n"
                         % (prog, rc, " | ".join(notes[-5:])))
        return None
    wall = (w1 - w0) if c1 else None
    codes = {"OK": r["ok"]} if r["ok"] else {}
    for k, v in r["errors"].items():
        name = GRPC_CODES[int(k)] if k.isdigit() and int(k) < len(GRPC_CODES) else k
        codes[name] = codes.get(name, 0) + v
    return {"kind": "grpc", "client": "grpc_load", "label": a.label,
            "clients": a.connections * a.streams, "connections": a.connections,
            "streams": a.streams, "seconds": r["seconds"], "calls": r["calls"], "ok": r["ok"],
            "calls_per_s": r["calls_per_s"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
            "max_ms": r["max_ms"], "codes": codes, "errors": notes[:5],
            "connection_errors": r["connection_errors"], "bodies_left": r["bodies_left"],
            "bodies_ran_out": r["bodies_ran_out"], "warmup_calls": r["warmup_calls"],
            "late_calls": r["late_calls"], "unfinished": r["unfinished"], "exit": rc,
            "registryd_user_sys_s": [round(us1[0] - us0[0], 2), round(us1[1] - us0[1], 2)],
            "cpu_s": {"registryd": round(c1[0] - c0[0], 3) if wall else None,
                      "postgres": round(c1[1] - c0[1], 3) if wall else None,
                      "client": r["cpu_s"]},
            "cpu_pct": {"registryd": round((c1[0] - c0[0]) / wall * 100, registryd_digits)
                        if wall else None,
                        "postgres": round((c1[1] - c0[1]) / wall * 100) if wall else None,
                        "clients": round(r["cpu_s"] / r["seconds"] * 100, 1)
                        if r["seconds"] else None}}


def grpc_load_ok(prog, rec, hint):
    """Whether a grpc_load run was clean: exit 0, every call OK, the bodies
    enough (else says so, with `hint`)."""
    if rec["bodies_ran_out"]:
        sys.stderr.write("%s: grpc_load ran out of bodies (%s)\n" % (prog, hint))
    return (rec["exit"] == 0 and rec["ok"] and set(rec["codes"]) == {"OK"}
            and not rec["bodies_ran_out"])


# -- the tables --------------------------------------------------------------------------


def md_row(cells):
    """A Markdown table row (an empty cell as `| |`)."""
    return "|" + "|".join(" %s " % c if c != "" else " " for c in cells) + "|"


def rounds_table(w, g, p, extra=None, cpu="%.0f %% / %.0f %% / %.0f %%",
                 per_call="%.2f / %.2f / %.2f"):
    """The rounds of a gRPC-against-pgbench benchmark: per round (label) its
    gRPC runs `g`, each with its ratio to the best pgbench tps of the round,
    then its pgbench runs `p`; CPU in % of one core (format `cpu`) and in ms
    per call (`per_call`). extra = (header, cell(round, record)) adds a
    column before the ratio. → the ratios, in round order."""
    w("| round | run | clients | calls/s | p50 | p99 | errors | CPU registryd / PG / client "
      "| CPU ms/call registryd / PG / client |%s ratio |" % (" %s |" % extra[0] if extra else ""))
    w("|---|---|---:|---:|---:|---:|---|---|---|%s---:|" % ("---:|" if extra else ""))
    more = (lambda rnd, r: [extra[1](rnd, r)]) if extra else (lambda rnd, r: [])
    ratios = []
    for rnd in sorted({r["label"] for r in g + p}):
        pg_best = max((r["tps"] or 0 for r in p if r["label"] == rnd), default=0)
        for r in (x for x in g if x["label"] == rnd):
            c = {k: v or 0 for k, v in r["cpu_pct"].items()}
            rate = r["calls_per_s"] or 0
            ratio = rate / pg_best if pg_best else None
            if ratio:
                ratios.append(ratio)
            bad = {k: v for k, v in r["codes"].items() if k != "OK"}
            bad.update({"conn " + k: v for k, v in r.get("connection_errors", {}).items()})
            if r.get("client") == "grpc_load":
                who = "gRPC, grpc_load %d conns × %d streams" % (r["connections"], r["streams"])
            else:
                who = "gRPC, %d procs × %d threads" % (r["procs"], r["threads"])
            per = tuple(c[k] * 10 / max(rate, 1e-9) for k in ("registryd", "postgres", "clients"))
            w(md_row([rnd, who, "%d" % r["clients"], fmt(rate, 1), "%s ms" % r["p50_ms"],
                      "%s ms" % r["p99_ms"], " ".join("%s %d" % kv for kv in bad.items()) or "0",
                      cpu % (c["registryd"], c["postgres"], c["clients"]), per_call % per]
                     + more(rnd, r) + ["**%.0f %%**" % (ratio * 100) if ratio else "-"]))
        for r in (x for x in p if x["label"] == rnd):
            c = r["cpu_pct"]
            tps = r["tps"] or 0
            w(md_row([rnd, "pgbench -M prepared, -j %d" % r["jobs"], "%d" % r["clients"],
                      fmt(tps, 1), "%s ms" % r["p50_ms"], "%s ms" % r["p99_ms"], str(r["failed"]),
                      "%d %% (idle) / %d %% / %d %%" % (c["registryd (idle)"], c["postgres"],
                                                        c["pgbench"]),
                      "- / %.2f / %.2f" % (c["postgres"] * 10 / tps, c["pgbench"] * 10 / tps)
                      if tps else "-"] + more(rnd, r) + [""]))
    return ratios


def ratio_note(w, ratios):
    """The ratios of rounds_table as listed, their median against the goal."""
    if ratios:
        med = statistics.median(ratios)
        w("")
        w("ratio by round: %s; median **%.0f %%** (goal 80 %%: %s)" % (
            ", ".join("%.0f %%" % (x * 100) for x in ratios), med * 100,
            "met" if med >= 0.8 else "**not met**"))


def ran_out_note(w, r):
    if r.get("bodies_ran_out"):
        w("")
        w("**%s: grpc_load ran out of bodies** (%s s measured)" % (r["label"], r["seconds"]))


def shapes_table(w, recs, name):
    """The statements' shapes of the captured call and of the pgbench script
    side by side (and what the script replaced, when its record says)."""
    c = [r for r in recs if r["kind"] == "capture"]
    s = [r for r in recs if r["kind"] == "script"]
    if not (c or s):
        return
    w("")
    w("### Statements of one %s (captured) and of the pgbench script" % name)
    w("")
    a_sh = c[-1]["shapes"] if c else []
    b_sh = s[-1]["shapes"] if s else []
    w("| # | registryd | pgbench |")
    w("|---:|---|---|")
    for i in range(max(len(a_sh), len(b_sh))):
        x = a_sh[i] if i < len(a_sh) else ""
        y = b_sh[i] if i < len(b_sh) else ""
        w("| %d | %s | %s%s |" % (i + 1, x, y, "" if x == y else " **(differs)**"))
    if s and "replaced" in s[-1]:
        w("")
        w("replaced in the script: %s%s" % (
            ", ".join("%s ×%d" % kv for kv in sorted(s[-1]["replaced"].items())),
            ("; **never a parameter: %s**" % ", ".join(s[-1]["missing"]))
            if s[-1]["missing"] else ""))


# -- the command line ---------------------------------------------------------------------

_OPT = re.compile(r"(--[\w-]+)(?::(int|float))?(!|=(.*))?$")


def add_options(s, specs):
    """argparse options from compact specs: "name" (positional), "--name"
    (text, default None), "--name!" (required), "--name=TEXT" (that
    default; "--name=" for ""), with ":int" / ":float" after the name for a
    number ("--count:int=5"); or (flag, {argparse keywords}) for anything
    else."""
    for spec in specs:
        if isinstance(spec, tuple):
            s.add_argument(spec[0], **spec[1])
            continue
        if not spec.startswith("-"):
            s.add_argument(spec)        # a positional argument
            continue
        flag, typ, req, default = _OPT.match(spec).groups()
        kw = {"type": {"int": int, "float": float}[typ]} if typ else {}
        if req == "!":
            kw["required"] = True
        elif req:
            kw["default"] = (default if not typ else
                             int(default) if re.fullmatch(r"-?\d+", default) else float(default))
        s.add_argument(flag, **kw)


def add_commands(sub, commands):
    """Subcommands from {name: (fn, spec, …)} (add_options' specs)."""
    for name, (fn, *specs) in commands.items():
        s = sub.add_parser(name)
        add_options(s, specs)
        s.set_defaults(fn=fn)


# the subcommands of the gRPC-against-pgbench benchmarks (listing, wipe) with
# the same options; each adds its own cload options (its request's) to CLOAD
CAPTURE = ("--log!", "--offset:int=0", "--out!", "--label=")
SCRIPT = ("--pg!", "--captured!", "--orgs!", "--sample-first:int!", "--sample-count:int=5",
          "--out!", "--label=")
CLOAD = (("--client", {"required": True, "help": "the grpc_load binary"}), "--addr!", "--bodies!",
         "--keys", "--connections:int=4", "--streams:int=8", "--seconds:float=30",
         "--warmup:float=3", "--pid:int=0", "--pg-pid:int=0",
         ("--log", {"help": "grpc_load's stderr and result, here"}), "--label=")
PGBENCH = (cmd_pgbench, "--pg!", "--script!", "--clients:int=32", "--jobs:int=2",
           "--seconds:int=30", "--first-item:int=0", ("--define", {"action": "append", "default": []}),
           "--out-prefix!", "--pid:int=0", "--pg-pid:int=0", "--label=")


def bench_main(doc, commands, report):
    """The command line of a benchmark's helper: --results (where emit
    appends), its subcommands (add_commands), `pgstat` and `report RESULTS`
    (report(a) with a.results)."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--results", help="append the JSON line to this file")
    sub = p.add_subparsers(dest="cmd", required=True)
    add_commands(sub, dict(commands, pgstat=(cmd_pgstat, "--pg!", "--top:int=8", "--label=")))
    s = sub.add_parser("report")
    s.add_argument("results_file")
    s.set_defaults(fn=lambda a: report(argparse.Namespace(results=a.results_file)))
    a = p.parse_args()
    return a.fn(a) or 0


# -- the cost of signing (libsodium, the library registryd links) ------------------------
# (used by invoice_bench.py; wipe_bench.py has its own copy, which also times
# the guarded buffer its server once allocated per call)


def sodium():
    """libsodium.so.23 through ctypes, initialized, with the signatures of
    the functions sign_costs calls."""
    L = ctypes.CDLL("libsodium.so.23")
    if L.sodium_init() < 0:
        sys.exit("bench_tool: sodium_init failed")
    vp, cp, ull = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulonglong
    L.crypto_sign_detached.argtypes = [cp, vp, cp, ull, cp]
    L.crypto_sign_verify_detached.argtypes = [cp, cp, ull, cp]
    L.crypto_sign_keypair.argtypes = [cp, cp]
    L.sodium_memcmp.argtypes = [cp, cp, ctypes.c_size_t]
    L.crypto_kdf_derive_from_key.argtypes = [cp, ctypes.c_size_t, ctypes.c_uint64, cp, cp]
    L.crypto_aead_xchacha20poly1305_ietf_encrypt.argtypes = [cp, vp, cp, ull, cp, ull, vp, cp, cp]
    L.crypto_aead_xchacha20poly1305_ietf_decrypt.argtypes = [cp, vp, vp, cp, ull, cp, ull, cp, cp]
    return L


def _cpu_per_call(fn, n, repeats):
    """Median over `repeats` of the CPU seconds (this process) per call of
    fn over n calls."""
    out = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn(n)
        out.append((time.process_time() - t0) / n)
    out.sort()
    return out[len(out) // 2]


def sign_costs(context, body, iterations=20000, repeats=5):
    """What keystore_sign (services/core/keystore.c) costs registryd in CPU
    besides its SELECT: one Ed25519 signature over context ‖ body
    (crypto_sign_detached, as sig_sign in crypto/sig.c makes it) and the
    unwrap of the 64-byte secret key it does every call (crypto/wrap.c:
    crypto_kdf of the KEK + XChaCha20-Poly1305 open) — into a per-thread
    guarded buffer allocated once, so no sodium_malloc per call. Through
    ctypes, the cost of a ctypes call into libsodium (sodium_memcmp of 0
    bytes) subtracted; the median of `repeats` runs of `iterations` calls.
    → {ctypes_call_us, sign_us, unwrap_us, sign_per_s_one_core, …}"""
    L = sodium()
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    L.crypto_sign_keypair(pk, sk)
    msg = context + body
    sig = ctypes.create_string_buffer(64)
    if L.crypto_sign_detached(sig, None, msg, len(msg), sk) != 0 or \
            L.crypto_sign_verify_detached(sig.raw, msg, len(msg), pk) != 0:
        sys.exit("bench_tool: libsodium signing self-check failed")
    x = ctypes.create_string_buffer(64)

    def sign(n):
        f = L.crypto_sign_detached
        for _ in range(n):
            f(sig, None, msg, len(msg), sk)

    def base(n):
        f = L.sodium_memcmp
        for _ in range(n):
            f(x, x, 0)
    master = os.urandom(32)
    kek = ctypes.create_string_buffer(32)
    ad = b"signing_keys/3/abcdef01"
    nonce = os.urandom(24)
    wrapped = ctypes.create_string_buffer(64 + 16)
    L.crypto_kdf_derive_from_key(kek, 32, 1, b"regwrap0", master)
    L.crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped, None, sk.raw, 64, ad, len(ad), None,
                                                 nonce, kek)
    opened = ctypes.create_string_buffer(64)

    def unwrap(n):
        d, o = L.crypto_kdf_derive_from_key, L.crypto_aead_xchacha20poly1305_ietf_decrypt
        for _ in range(n):
            d(kek, 32, 1, b"regwrap0", master)
            if o(opened, None, None, wrapped, 80, ad, len(ad), nonce, kek) != 0:
                raise RuntimeError("unwrap")
    sign(200)
    t_base = _cpu_per_call(base, iterations, repeats)
    t_sign = _cpu_per_call(sign, iterations, repeats)
    t_unwrap = _cpu_per_call(unwrap, iterations, repeats)
    return {"body_len": len(body), "signed_len": len(msg), "iterations": iterations,
            "repeats": repeats, "ctypes_call_us": round(t_base * 1e6, 3),
            "sign_us": round((t_sign - t_base) * 1e6, 2),
            "unwrap_us": round((t_unwrap - 2 * t_base) * 1e6, 2),
            "sign_per_s_one_core": round(1 / max(t_sign - t_base, 1e-9))}


# == run_bench.sh's helpers =======================================================

CLI_DOC = """Helpers of tests/bench/run_bench.sh.

h2load answers "succeeded" for every HTTP 200, whatever the grpc-status in the
trailers says (SPEC §5), so every run is checked here apart from h2load:

  wait TARGET [--timeout S]             until Health/Check answers OK
  check TARGET METHOD [--key K] [--n N] N real calls with grpcio; JSON result,
                                        exit 1 unless every call is OK
  calls URL METHOD [--since F --expect N --settle S]
                                        registry_rpc_calls_total{method=METHOD}
                                        by code from /metrics, as JSON
  record ...                            one measurement (two h2load runs) ->
                                        one JSON line (calls/s,
                                        p50/p99 from h2load --log-file, checks)
  summarize RESULTS                     the table over all rounds

No generated stubs are needed: the calls go through grpcio's generic unary
API with raw bytes (every request the benchmark sends is empty).
"""

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}


def _grpc():
    import grpc  # Debian's python3-grpcio

    return grpc


def one_call(channel, method, key, timeout=5.0):
    """(code name, response bytes or None, details) of one empty-request call."""
    grpc = _grpc()
    stub = channel.unary_unary(method, request_serializer=None,
                               response_deserializer=None)
    metadata = [("authorization", "Bearer " + key)] if key else None
    try:
        resp = stub(b"", timeout=timeout, metadata=metadata)
        return "OK", resp, ""
    except grpc.RpcError as e:
        return e.code().name, None, e.details() or ""


def cmd_wait(a):
    grpc = _grpc()
    deadline = time.monotonic() + a.timeout
    last = ""
    while time.monotonic() < deadline:
        with grpc.insecure_channel(a.target) as ch:
            code, resp, details = one_call(ch, HEALTH_CHECK, None, timeout=1.0)
        if code == "OK" and resp == SERVING:
            return 0
        last = f"{code} {details}"
        time.sleep(0.2)
    print(f"{a.target}: no SERVING answer in {a.timeout}s (last: {last})",
          file=sys.stderr)
    return 1


def cmd_check(a):
    grpc = _grpc()
    codes, problems = {}, []
    with grpc.insecure_channel(a.target) as ch:
        for _ in range(a.n):
            code, resp, details = one_call(ch, a.method, a.key)
            codes[code] = codes.get(code, 0) + 1
            if code != "OK":
                problems.append(f"{code}: {details}")
            elif a.method == HEALTH_CHECK and resp != SERVING:
                problems.append(f"OK but response {resp!r} is not SERVING")
            elif a.method != HEALTH_CHECK and not resp:
                problems.append("OK but empty response")
    ok = not problems and codes.get("OK", 0) == a.n
    distinct = sorted(set(problems))
    print(json.dumps({"ok": ok, "codes": codes, "problems": distinct[:5]}))
    return 0 if ok else 1


_SAMPLE = re.compile(r'^registry_rpc_calls_total\{([^}]*)\}\s+([0-9.eE+-]+)')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(url, method):
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode("utf-8", "replace")
    counts = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(1)))
        if labels.get("method") == method:
            code = labels.get("code", "?")
            counts[code] = counts.get(code, 0) + int(float(m.group(2)))
    return counts


def cmd_calls(a):
    try:
        counts = scrape(a.url, a.method)
    except OSError as e:
        print(json.dumps({"error": str(e)}))
        return 1
    if a.since and a.expect:
        # The counter may be bumped just after the response went out: give
        # the server a moment to account for the last calls.
        with open(a.since) as f:
            base = json.load(f)
        deadline = time.monotonic() + a.settle
        while (sum(counts.values()) - sum(base.values()) < a.expect
               and time.monotonic() < deadline):
            time.sleep(0.1)
            counts = scrape(a.url, a.method)
    print(json.dumps(counts))
    return 0


def parse_h2load(path):
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    out = {"rps": None, "total": None, "succeeded": None, "failed": None,
           "errored": None, "timeout": None, "status_codes": ""}
    m = re.search(r"^finished in \S+, ([0-9.]+) req/s", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"^requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text, re.M)
    if m:
        out["total"], out["done"], out["succeeded"], out["failed"], \
            out["errored"], out["timeout"] = map(int, m.groups())
    m = re.search(r"^status codes: (.*)$", text, re.M)
    if m:
        out["status_codes"] = m.group(1).strip()
    return out


def parse_reqlog(path):
    """h2load --log-file: start (us), HTTP status, time to end of response (us)."""
    lat = []
    try:
        with open(path) as f:
            for line in f:
                cols = line.split("\t")
                if len(cols) >= 3 and cols[2].strip().isdigit():
                    lat.append(int(cols[2]))
    except OSError:
        pass
    lat.sort()
    return {"n": len(lat), "p50_us": percentile(lat, 50),
            "p99_us": percentile(lat, 99), "max_us": lat[-1] if lat else None}


def load_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def h2load_problems(h, path):
    if h["rps"] is None or h["total"] is None:
        return [f"h2load output not understood (see {path})"]
    bad = h["total"] - h["succeeded"]
    if bad:
        return [f"h2load: {bad} of {h['total']} requests not HTTP 2xx "
                f"({h['failed']} failed, {h['errored']} errored, "
                f"{h['timeout']} timeout; {h['status_codes']}) in {path}"]
    return []


def cmd_record(a):
    h = parse_h2load(a.h2load)
    hl = parse_h2load(a.h2load_lat)
    lat = parse_reqlog(a.reqlog)
    sent = (h["total"] or 0) + (hl["total"] or 0)
    rec = {"server": a.server, "method": a.method, "load": a.load, "round": a.round,
           "rps": h["rps"], "p50_us": lat["p50_us"], "p99_us": lat["p99_us"],
           "max_us": lat["max_us"], "requests": h["total"],
           "latency_requests": hl["total"], "latency_pass_rps": hl["rps"],
           "h2load_status_codes": [h["status_codes"], hl["status_codes"]],
           "server_cpu_pct": a.cpu, "h2load_cpu_pct": a.h2load_cpu,
           "problems": h2load_problems(h, a.h2load) + h2load_problems(hl, a.h2load_lat)}
    if hl["total"] is not None and lat["n"] != hl["total"]:
        rec["problems"].append(f"h2load log has {lat['n']} of {hl['total']} requests")
    if a.before and a.after:
        before, after = load_json(a.before), load_json(a.after)
        if before is None or after is None or "error" in (before or {}) \
                or "error" in (after or {}):
            rec["problems"].append("metrics: /metrics could not be read")
        else:
            delta = {c: after.get(c, 0) - before.get(c, 0)
                     for c in set(before) | set(after)}
            delta = {c: n for c, n in delta.items() if n}
            rec["metrics_delta"] = delta
            if delta.get("OK", 0) != sent:
                rec["problems"].append(
                    f"metrics: {delta.get('OK', 0)} OK calls counted for "
                    f"{sent} requests sent")
            others = {c: n for c, n in delta.items() if c != "OK"}
            if others:
                rec["problems"].append(f"metrics: non-OK codes {others}")
    check = load_json(a.check) if a.check else None
    if a.check:
        if not check:
            rec["problems"].append("grpcio check produced no result")
        elif not check.get("ok"):
            rec["problems"].append(f"grpcio check: {check.get('codes')} "
                                   f"{check.get('problems')}")
    rec["all_ok"] = not rec["problems"]
    print(json.dumps(rec))
    cpu = f"{a.cpu:.0f}%" if a.cpu is not None else "-"
    h2cpu = f"{a.h2load_cpu:.0f}%" if a.h2load_cpu is not None else "-"
    line = (f"{a.server:<4} {a.method:<30} {a.load:<8} round {a.round:<4} "
            f"{(h['rps'] or 0):>10.0f} calls/s  p50 {fmt_ms(lat['p50_us'])}  "
            f"p99 {fmt_ms(lat['p99_us'])}  cpu: server {cpu:>5} h2load {h2cpu:>5}  "
            f"{'all OK' if rec['all_ok'] else 'NOT OK'}")
    print(line, file=sys.stderr)
    for p in rec["problems"]:
        print("    " + p, file=sys.stderr)
    return 0


def fmt_ms(us):
    return "-" if us is None else f"{us / 1000:.2f} ms"


def cmd_summarize(a):
    rows, order = {}, []
    with open(a.results) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r["round"] == "warm":
                continue
            key = (r["server"], r["method"], r.get("load", ""))
            if key not in rows:
                order.append(key)
            rows.setdefault(key, []).append(r)
    cols = [("server", "<6"), ("method", "<30"), ("load", "<7"), ("rounds", ">6"),
            ("calls/s (median)", ">16"), ("min-max", ">13"), ("p50", ">9"),
            ("p99", ">9"), ("server cpu", ">10"), ("calls/cpu-s", ">11"),
            ("h2load cpu", ">10"), ("all OK", "<6")]

    def line(vals):
        return "| " + " | ".join(f"{v:{fmt}}" for v, (_, fmt) in zip(vals, cols)) + " |"

    print(line([c for c, _ in cols]))
    print("|" + "|".join("-" * (len(f"{c:{fmt}}") + 2) for c, fmt in cols) + "|")
    for key in order:
        rs = rows[key]

        def med(field):
            vals = [r[field] for r in rs if r.get(field) is not None]
            return statistics.median(vals) if vals else None

        rps = [r["rps"] for r in rs if r.get("rps") is not None]
        cpu, h2cpu, m_rps = med("server_cpu_pct"), med("h2load_cpu_pct"), med("rps")
        print(line([
            key[0], key[1], key[2], str(len(rs)), f"{m_rps or 0:.0f}",
            f"{min(rps):.0f}-{max(rps):.0f}" if rps else "-",
            fmt_ms(med("p50_us")), fmt_ms(med("p99_us")),
            f"{cpu:.0f}%" if cpu is not None else "-",
            f"{m_rps / (cpu / 100):.0f}" if cpu and m_rps else "-",
            f"{h2cpu:.0f}%" if h2cpu is not None else "-",
            "yes" if all(r["all_ok"] for r in rs) else "NO"]))
    bad = [r for rs in rows.values() for r in rs if not r["all_ok"]]
    for r in bad:
        print(f"  {r['server']} {r['method']} {r.get('load', '')} round {r['round']}: "
              + "; ".join(r["problems"]))
    return 1 if bad else 0


def optional_float(text):
    return float(text) if text.strip() else None


def main():
    p = argparse.ArgumentParser(description=CLI_DOC,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    add_commands(sub, {
        "wait": (cmd_wait, "target", "--timeout:float=30"),
        "check": (cmd_check, "target", "method", "--key", "--n:int=5"),
        "calls": (cmd_calls, "url", "method", "--since", "--expect:int", "--settle:float=2.0"),
        "record": (cmd_record, "--server!", "--method!", "--round!", "--h2load!", "--h2load-lat!",
                   "--reqlog!", "--load=", "--before", "--after", "--check",
                   ("--cpu", {"type": optional_float}),
                   ("--h2load-cpu", {"type": optional_float})),
        "summarize": (cmd_summarize, "results"),
    })
    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
