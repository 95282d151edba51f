"""The one harness of the interop and integration tests (tests/README.md).

It starts a real registryd against a fresh PostgreSQL database and the real
Redis the test command provides, talks to it over real gRPC from Debian's
stock python3-grpcio, and kills every process it started, even on failure.

- Server: a fresh database `reg_it_<random>`, `registryd migrate`,
  `registryd admin bootstrap` (the admin key), then `registryd serve` on free
  loopback ports (gRPC and metrics) with its own lock directory.
- RegistryTestCase: one Server per test class (setUpClass), torn down by a
  class cleanup that runs even when setUpClass fails half-way.
- call(): a unary call returning Reply(response, code, details); `details`
  decodes grpc-status-details-bin into google.rpc.Status and its BadRequest /
  ErrorInfo / RetryInfo.
- psql(): a query against the test's own database.
- Identifiers: valid USCCs from tests/data/identifiers.json (then more, made
  by the same GB 32100-2015 rule, only once that rule accepts every vector in
  the file and refuses every bad one).

Environment (ops/test exports it): REG_TEST_PG, REG_TEST_REDIS,
REG_TEST_MASTER_KEY_FILE, REG_TEST_VAR, REG_TEST_BUILD (or
REG_TEST_REGISTRYD), REG_TEST_PGCTL, REG_TEST_REDISCTL. A test is skipped
only when REG_TEST_PG or REG_TEST_REDIS is absent.
"""

import atexit
import datetime
import glob
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid
from typing import NamedTuple, Optional

# -- generated modules --------------------------------------------------------


def _find_pygen():
    cands = []
    if os.environ.get("REG_TEST_PYGEN"):
        cands.append(os.environ["REG_TEST_PYGEN"])
    cands += [p for p in sys.path if p]
    for p in cands:
        if os.path.exists(os.path.join(p, "registry", "v1", "org_pb2.py")):
            return os.path.abspath(p)
    raise ImportError(
        "generated Python modules not found: build the `interop_pygen` target "
        "and put <build>/tests/pygen on PYTHONPATH (tests/README.md)")


PYGEN = _find_pygen()
if PYGEN not in sys.path:
    sys.path.insert(0, PYGEN)

import grpc  # noqa: E402  (Debian's python3-grpcio)

# Our generated grpc/health and grpc/reflection live beside registry/ under
# PYGEN; the real `grpc` package wins the import, so extend its path.
_pygen_grpc = os.path.join(PYGEN, "grpc")
if _pygen_grpc not in grpc.__path__:
    grpc.__path__.append(_pygen_grpc)

from google.protobuf import timestamp_pb2  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from grpc.health.v1 import health_pb2  # noqa: E402
from registry.v1 import org_pb2  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))  # no DST since 1991

# -- methods ------------------------------------------------------------------

ORG = "/registry.v1.OrgService/"
METHODS = {}
for _name in ("CreateOrganization", "IssueApiKey", "RevokeApiKey", "ListApiKeys",
              "SuspendOrganization", "ReinstateOrganization", "GetOrganization",
              "WhoAmI", "SetQualification", "RevokeQualification",
              "ListOrganizations"):
    METHODS[_name] = (ORG + _name, getattr(org_pb2, _name + "Request"),
                      getattr(org_pb2, _name + "Response"))
METHODS["Health.Check"] = ("/grpc.health.v1.Health/Check",
                           health_pb2.HealthCheckRequest,
                           health_pb2.HealthCheckResponse)

OK = grpc.StatusCode.OK


def stub(channel, path, req_cls, resp_cls, kind="unary_unary"):
    """A callable for `path` on `channel`: kind is unary_unary, unary_stream
    or stream_stream. req_cls None sends raw bytes; resp_cls None returns
    raw bytes."""
    ser = (lambda b: b) if req_cls is None else req_cls.SerializeToString
    de = (lambda b: b) if resp_cls is None else resp_cls.FromString
    return getattr(channel, kind)(path, request_serializer=ser,
                                  response_deserializer=de)


# -- errors -------------------------------------------------------------------


class Details(NamedTuple):
    message: str                      # grpc-message
    status: Optional[object]          # google.rpc.Status or None
    bad_request: Optional[object]     # google.rpc.BadRequest or None
    error_info: Optional[object]      # google.rpc.ErrorInfo or None
    retry_info: Optional[object]      # google.rpc.RetryInfo or None
    raw: Optional[bytes]              # grpc-status-details-bin, None if absent

    def fields(self):
        """The BadRequest field paths, in order."""
        if self.bad_request is None:
            return []
        return [v.field for v in self.bad_request.field_violations]


def decode_details(message, trailing):
    raw = None
    for k, v in trailing or ():
        if k == "grpc-status-details-bin":
            raw = v if isinstance(v, bytes) else v.encode()
    st = br = ei = ri = None
    if raw is not None:
        st = status_pb2.Status.FromString(raw)
        for anyd in st.details:
            for cls in (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo,
                        error_details_pb2.RetryInfo):
                if anyd.Is(cls.DESCRIPTOR):
                    m = cls()
                    anyd.Unpack(m)
                    if cls is error_details_pb2.BadRequest:
                        br = m
                    elif cls is error_details_pb2.ErrorInfo:
                        ei = m
                    else:
                        ri = m
    return Details(message or "", st, br, ei, ri, raw)


class Reply(NamedTuple):
    response: object          # the response message, None on error
    code: grpc.StatusCode
    details: Details

    def __repr__(self):
        d = self.details
        return ("Reply(code=%s, message=%r, fields=%r, reason=%r, response=%s)"
                % (self.code.name, d.message, d.fields(),
                   d.error_info.reason if d.error_info else None,
                   None if self.response is None else
                   str(self.response).replace("\n", " ")[:300]))


def auth_md(key):
    return () if key is None else (("authorization", "Bearer " + key),)


def invoke(channel, path, request, resp_cls, key=None, timeout=15.0,
           metadata=()):
    """A unary call; request is a message or raw bytes (then resp_cls may be
    None for raw bytes back). Returns Reply; never raises for a status."""
    req_cls = None if isinstance(request, (bytes, bytearray)) else type(request)
    fn = stub(channel, path, req_cls, resp_cls)
    md = tuple(auth_md(key)) + tuple(metadata)
    try:
        resp, _ = fn.with_call(request, metadata=md or None, timeout=timeout)
        return Reply(resp, OK, Details("", None, None, None, None, None))
    except grpc.RpcError as e:
        return Reply(None, e.code(), decode_details(e.details(),
                                                     e.trailing_metadata()))


# -- identifiers --------------------------------------------------------------

with open(os.path.join(DATA, "identifiers.json"), encoding="utf-8") as _f:
    IDS = json.load(_f)

_USCC_CH = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def _org_code_check(body8):
    val = lambda c: int(c) if c.isdigit() else ord(c) - 55  # noqa: E731
    c = 11 - sum(val(ch) * w for ch, w in zip(body8, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def _uscc_check(first17):
    t = sum(_USCC_CH.index(c) * w for c, w in zip(first17, _USCC_W))
    return _USCC_CH[(31 - t % 31) % 31]


def uscc_ok(u):
    """GB 32100-2015 with the embedded GB 11714 check character."""
    return (len(u) == 18 and all(c in _USCC_CH for c in u)
            and _org_code_check(u[8:16]) == u[16] and _uscc_check(u[:17]) == u[17])


_RULE_MATCHES_VECTORS = (all(uscc_ok(u) for u in IDS["uscc_valid"])
                         and not any(uscc_ok(u) for u in IDS["uscc_bad"]))


def make_uscc(n):
    """The n-th made-up USCC (only when the rule matches the vectors)."""
    if not _RULE_MATCHES_VECTORS:
        raise AssertionError("out of USCC vectors and the GB 32100 rule does "
                             "not match tests/data/identifiers.json")
    body = "Q%07d" % (7000000 + n)          # 8 characters, organization code body
    first17 = "91140302" + body + _org_code_check(body)
    return first17 + _uscc_check(first17)


class UsccPool:
    """Hands out each valid USCC once (per database)."""

    def __init__(self):
        self.i = 0

    def __call__(self):
        i, self.i = self.i, self.i + 1
        valid = IDS["uscc_valid"]
        return valid[i] if i < len(valid) else make_uscc(i)


def rid():
    return str(uuid.uuid4())


# -- dates and times ------------------------------------------------------------


def today_cst():
    return datetime.datetime.now(SHANGHAI).date()


def day(offset_days):
    """YYYY-MM-DD, today (Asia/Shanghai) + offset_days."""
    return (today_cst() + datetime.timedelta(days=offset_days)).isoformat()


def ts(dt):
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt.astimezone(datetime.timezone.utc).replace(tzinfo=None))
    return t


def ts_in(seconds):
    return ts(datetime.datetime.now(datetime.timezone.utc)
              + datetime.timedelta(seconds=seconds))


# -- environment ----------------------------------------------------------------


def env_or_skip(name):
    v = os.environ.get(name)
    if not v:
        raise unittest.SkipTest("%s is not set (run through ops/test)" % name)
    return v


def registryd_path():
    p = os.environ.get("REG_TEST_REGISTRYD")
    if not p:
        build = os.environ.get("REG_TEST_BUILD")
        if not build:
            raise unittest.SkipTest("neither REG_TEST_REGISTRYD nor REG_TEST_BUILD is set")
        p = os.path.join(build, "services", "registryd")
    if not os.access(p, os.X_OK):
        raise AssertionError("registryd not built at %s" % p)
    return p


def var_dir():
    v = os.environ.get("REG_TEST_VAR")
    if v:
        os.makedirs(v, exist_ok=True)
        return v
    return tempfile.gettempdir()


_master_key_tmp = None


def master_key_file():
    global _master_key_tmp
    f = os.environ.get("REG_TEST_MASTER_KEY_FILE")
    if f:
        return f
    if _master_key_tmp is None:
        fd, _master_key_tmp = tempfile.mkstemp(prefix="reg-it-mk-", dir=var_dir())
        os.write(fd, secrets.token_hex(32).encode() + b"\n")
        os.close(fd)
        os.chmod(_master_key_tmp, 0o600)
        atexit.register(lambda: os.path.exists(_master_key_tmp) and os.unlink(_master_key_tmp))
    return _master_key_tmp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(var, action):
    """Runs `$REG_TEST_PGCTL stop` and the like."""
    cmd = shlex.split(env_or_skip(var)) + [action]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("%s %s failed: %s" % (var, action, r.stdout.decode(errors="replace")))


# -- PostgreSQL ------------------------------------------------------------------


def psql(conninfo, sql, timeout=60):
    """Rows of `sql` as lists of strings (tab-separated, NULL as '<NULL>')."""
    r = subprocess.run(
        ["psql", "-X", "-q", "-tA", "-F", "\t", "-P", "null=<NULL>",
         "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("psql failed (%s): %s" % (sql, r.stderr.decode(errors="replace")))
    out = r.stdout.decode()
    return [line.split("\t") for line in out.splitlines() if line != ""]


class Database:
    """A fresh database `reg_it_<random>` on REG_TEST_PG, dropped by drop()."""

    def __init__(self):
        self.base = env_or_skip("REG_TEST_PG")
        self.name = "reg_it_" + secrets.token_hex(6)
        psql(self.base + " dbname=postgres", "CREATE DATABASE %s" % self.name)
        self.conninfo = "%s dbname=%s" % (self.base, self.name)

    def query(self, sql):
        return psql(self.conninfo, sql)

    def scalar(self, sql):
        rows = self.query(sql)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise AssertionError("expected one value from %r, got %r" % (sql, rows))
        return rows[0][0]

    def drop(self):
        try:
            psql(self.base + " dbname=postgres",
                 "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)
        except Exception as e:  # PostgreSQL may be down after a failed fault test
            sys.stderr.write("warning: could not drop %s: %s\n" % (self.name, e))


class TableLock:
    """Holds `LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE` in an open
    transaction of a psql session until release()."""

    def __init__(self, conninfo, table):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-tA", "-d", conninfo],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        _track(self.p)
        self.p.stdin.write("BEGIN;\nLOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n"
                           "SELECT 'locked';\n" % table)
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line != "locked":
            self.release()
            raise AssertionError("could not lock %s: %r" % (table, line))

    def release(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.write("ROLLBACK;\n")
                self.p.stdin.close()
                self.p.wait(timeout=10)
            except Exception:
                self.p.kill()
                self.p.wait()


# -- processes -------------------------------------------------------------------

_procs = []


def _track(p):
    _procs.append(p)
    return p


@atexit.register
def _kill_leftovers():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except Exception:
                pass


def _pdeathsig():
    # Ask the kernel to kill registryd if this test process dies first.
    return ["setpriv", "--pdeathsig", "KILL"] if shutil.which("setpriv") else []


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "ThreadSanitizer")


class Server:
    """One registryd on a fresh database (or a given one).

    Attributes after start(): port, metrics_port, addr, channel, admin_key,
    db (Database), dir (its scratch directory: lock dir, logs)."""

    def __init__(self, extra_args=(), db=None, registry_id=None):
        self.extra_args = list(extra_args)
        self.own_db = db is None
        self.db = db
        self.registry_id = registry_id or "registry.test"
        self.proc = None
        self.channel = None
        self.admin_key = None
        self.uscc = UsccPool()
        self.binary = registryd_path()
        self.redis = env_or_skip("REG_TEST_REDIS")
        env_or_skip("REG_TEST_PG")

    # - command line -
    def env(self):
        e = dict(os.environ)
        e.update({
            "REGISTRY_PG": self.db.conninfo,
            "REGISTRY_REDIS": self.redis,
            "REGISTRY_MASTER_KEY_FILE": master_key_file(),
            "REGISTRY_LOCK_DIR": self.lock_dir,
            "REGISTRY_ID": self.registry_id,
        })
        return e

    def common_flags(self):
        return ["--pg", self.db.conninfo, "--redis", self.redis,
                "--master-key-file", master_key_file()]

    def run_cli(self, *args, timeout=120):
        """Runs `registryd ARGS --pg … --redis … --master-key-file …`;
        returns CompletedProcess (text)."""
        cmd = [self.binary] + list(args) + self.common_flags()
        return subprocess.run(cmd, env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout)

    def serve_cmd(self, port=None, metrics_port=None, extra=()):
        port = self.port if port is None else port
        metrics_port = self.metrics_port if metrics_port is None else metrics_port
        return ([self.binary, "serve",
                 "--listen", "127.0.0.1:%d" % port,
                 "--metrics-listen", "127.0.0.1:%d" % metrics_port,
                 "--registry-id", self.registry_id,
                 "--lock-dir", self.lock_dir]
                + self.common_flags() + self.extra_args + list(extra))

    def spawn(self, cmd, log_name):
        """Starts cmd with stdout+stderr to <dir>/<log_name>; tracked."""
        log = open(os.path.join(self.dir, log_name), "ab")
        p = subprocess.Popen(_pdeathsig() + cmd, env=self.env(), stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        return _track(p)

    # - life cycle -
    def start(self):
        self.dir = tempfile.mkdtemp(prefix="it-", dir=var_dir())
        self.lock_dir = os.path.join(self.dir, "lock")
        os.makedirs(self.lock_dir)
        if self.db is None:
            self.db = Database()
        r = self.run_cli("migrate")
        if r.returncode != 0:
            raise AssertionError("registryd migrate exited %d: %s" % (r.returncode, r.stderr[-3000:]))
        r = self.run_cli("admin", "bootstrap", "--name", "Registry Operator")
        lines = [line for line in r.stdout.splitlines() if line.strip()]
        if r.returncode != 0 or len(lines) != 1 or not lines[0].startswith("rk_"):
            raise AssertionError("registryd admin bootstrap: exit %d, stdout %r, stderr %s"
                                 % (r.returncode, r.stdout, r.stderr[-3000:]))
        self.admin_key = lines[0].strip()
        self.port = free_port()
        self.metrics_port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.proc = self.spawn(self.serve_cmd(), "registryd.log")
        self.channel = grpc.insecure_channel(self.addr)
        self.wait_serving()
        return self

    def wait_serving(self, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("registryd exited %d at start:\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            last = self.health()
            if last.code == OK and last.response.status == health_pb2.HealthCheckResponse.SERVING:
                return
            time.sleep(0.1)
        raise AssertionError("registryd not SERVING after %ds (last %r):\n%s"
                             % (timeout, last, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=30):
        """SIGTERM and wait; SIGKILL after timeout. Returns the exit status
        (negative: killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "timeout"
        return self.proc.returncode

    def stop(self):
        """Stops registryd, drops its database; raises if the server's log
        holds a sanitizer report."""
        try:
            if self.channel is not None:
                self.channel.close()
            self.terminate()
        finally:
            if self.own_db and self.db is not None:
                self.db.drop()
        report = self.sanitizer_report()
        if report:
            raise AssertionError("sanitizer report in %s:\n%s" % (self.dir, report))

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "registryd.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, AttributeError):
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def sanitizer_report(self):
        out = []
        for path in glob.glob(os.path.join(self.dir, "*.log")):
            with open(path, "rb") as f:
                text = f.read().decode(errors="replace")
            for i, line in enumerate(text.splitlines()):
                if any(m in line for m in SANITIZER_MARKS):
                    out.append("%s: %s" % (os.path.basename(path), line))
        return "\n".join(out[:20])

    # - calls -
    def call(self, method, request=None, key=None, timeout=15.0, metadata=()):
        """A unary call of METHODS[method] (request defaults to an empty
        request) → Reply(response, code, details)."""
        path, req_cls, resp_cls = METHODS[method]
        if request is None:
            request = req_cls()
        return invoke(self.channel, path, request, resp_cls, key=key,
                      timeout=timeout, metadata=metadata)

    def health(self, service="", timeout=5.0):
        return self.call("Health.Check", health_pb2.HealthCheckRequest(service=service),
                         timeout=timeout)

    def metrics(self, timeout=5.0):
        """The /metrics text."""
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                    timeout=timeout) as r:
            return r.read().decode()

    # - organizations -
    def create_org(self, roles, name=None, uscc=None, key=None, region_code="140302"):
        """CreateOrganization as admin (or key); asserts OK; returns the
        response (organization, api_key, key_id)."""
        req = org_pb2.CreateOrganizationRequest(
            request_id=rid(), name=name or "Org %s" % secrets.token_hex(3),
            uscc=uscc or self.uscc(), roles=list(roles), region_code=region_code)
        r = self.call("CreateOrganization", req, key=key or self.admin_key)
        if r.code != OK:
            raise AssertionError("CreateOrganization failed: %r" % (r,))
        return r.response


def parse_metrics(text):
    """Prometheus text → list of (name, {label: value}, float)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line.split("{", 1)
            labels_s, value = rest.rsplit("}", 1)
            labels = {}
            i = 0
            while i < len(labels_s):
                eq = labels_s.index("=", i)
                k = labels_s[i:eq].strip().lstrip(",").strip()
                j = eq + 2  # past ="
                v = []
                while labels_s[j] != '"':
                    if labels_s[j] == "\\":
                        j += 1
                    v.append(labels_s[j])
                    j += 1
                labels[k] = "".join(v)
                i = j + 1
                while i < len(labels_s) and labels_s[i] in ", ":
                    i += 1
        else:
            name, value = line.split(None, 1)
            labels = {}
        value = value.split()[0]
        out.append((name.strip(), labels, float(value)))
    return out


def metric(text, name, **labels):
    """The value of the sample `name` whose labels include `labels`, or None."""
    for n, lab, v in parse_metrics(text):
        if n == name and all(lab.get(k) == val for k, val in labels.items()):
            return v
    return None


def eventually(fn, timeout=10.0, interval=0.2):
    """Calls fn until it returns a truthy value or timeout; returns the last
    value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


class StreamReader:
    """A server-streaming call read on a thread: `items` collects
    item(message) for each message, in order; `end` becomes the final
    status code (OK, or the error's code)."""

    def __init__(self, call, item=lambda m: m):
        self.call = call
        self.item = item
        self.items = []
        self.end = None
        self.cv = threading.Condition()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        end = OK
        try:
            for m in self.call:
                with self.cv:
                    self.items.append(self.item(m))
                    self.cv.notify_all()
        except grpc.RpcError as e:
            end = e.code()
        with self.cv:
            self.end = end
            self.cv.notify_all()

    def wait(self, pred, timeout):
        """True once pred(items) holds; False at the timeout or when the call
        ended without it."""
        with self.cv:
            self.cv.wait_for(lambda: pred(self.items) or self.end is not None, timeout=timeout)
            return pred(self.items)

    def wait_end(self, timeout):
        with self.cv:
            self.cv.wait_for(lambda: self.end is not None, timeout=timeout)
            return self.end

    def cancel(self):
        self.call.cancel()
        self.t.join(10)


class HealthWatch(StreamReader):
    """A health Watch stream; statuses collects each ServingStatus received."""

    def __init__(self, channel, service=""):
        fn = stub(channel, "/grpc.health.v1.Health/Watch",
                  health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse,
                  kind="unary_stream")
        super().__init__(fn(health_pb2.HealthCheckRequest(service=service), timeout=300),
                         item=lambda m: m.status)

    @property
    def statuses(self):
        return self.items

    def wait_for(self, status, timeout):
        """True once `status` has been received (at any point)."""
        return self.wait(lambda items: status in items, timeout)

    def wait_for_after(self, n, status, timeout):
        """True once `status` is received at a position >= n."""
        return self.wait(lambda items: status in items[n:], timeout)


# -- test case ---------------------------------------------------------------------


class RegistryTestCase(unittest.TestCase):
    """One registryd (fresh database) per class: cls.server."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=cls.server_args)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    # - assertions -
    def assertOK(self, reply):
        self.assertEqual(reply.code, OK, "expected OK, got %r" % (reply,))
        return reply.response

    def assertCode(self, reply, code, details_required=True):
        """reply has status `code`; when details_required, it also carries
        grpc-status-details-bin whose google.rpc.Status.code is that code."""
        self.assertEqual(reply.code, code, "expected %s, got %r" % (code.name, reply))
        if details_required:
            self.assertIsNotNone(reply.details.status,
                                 "%s without grpc-status-details-bin: %r" % (code.name, reply))
            self.assertEqual(reply.details.status.code, code.value[0],
                             "google.rpc.Status.code differs from grpc-status")
        return reply.details

    def assertField(self, reply, field):
        """INVALID_ARGUMENT whose first BadRequest violation is `field`."""
        d = self.assertCode(reply, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIsNotNone(d.bad_request, "INVALID_ARGUMENT without BadRequest: %r" % (reply,))
        self.assertTrue(d.fields(), "BadRequest with no field violation: %r" % (reply,))
        self.assertEqual(d.fields()[0], field, "field_violations: %r" % (d.fields(),))
        return d

    def assertReason(self, reply, code, reason):
        """`code` with ErrorInfo{reason, domain registry.v1}."""
        d = self.assertCode(reply, code)
        self.assertIsNotNone(d.error_info, "%s without ErrorInfo: %r" % (code.name, reply))
        self.assertEqual(d.error_info.reason, reason)
        self.assertEqual(d.error_info.domain, "registry.v1")
        return d
