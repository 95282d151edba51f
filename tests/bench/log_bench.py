"""Helpers of tests/bench/log_bench.sh, the transparency-log benchmark (run
with Debian's /usr/bin/python3; PYTHONPATH must hold the protoc --python_out
modules of proto/). Each measuring command appends one JSON line to
--results; `report` turns that file into the table.

  backlog   --pg C --start S --count N     COPY N valid event rows (queued by
                                           the trigger) straight into `events`
  integrate --pg C --target N --t0 T       poll log_state.tree_size every
                                           100 ms until N: events/s, the rate
                                           by tenths, CPU of registryd,
                                           PostgreSQL and Redis, then the wait
                                           for a checkpoint at N
  lag       --addr A --pg C --admin-key K  a sustained IssueApiKey load at a
                                           fixed rate; per event, completion
                                           of the call -> log_index set (DB
                                           poll every 10 ms) and -> delivered
                                           by WatchEvents to an INSPECTOR
  proofs    --addr A --pg C                GetInclusionProof / Get-
                                           ConsistencyProof latency with
                                           grpcio threads; a sample of the
                                           answers verified (RFC 9162)
  payload   --kind inclusion|consistency   one gRPC-framed request for h2load
  h2load    --txt F --log F ...            h2load's rate and the percentiles
                                           of its --log-file, checked against
                                           /metrics
  storage   --pg C --label L               relation sizes, per million leaves
  pgstat    --pg C                         top statements of pg_stat_statements
  report    RESULTS                        the table

PostgreSQL is reached through libpq itself (bench_tool.Pg, ctypes): Debian's
python3 has no driver, and a psql per 100 ms poll would load the machine
being measured. What the benchmarks share is bench_tool.py's.
"""

import datetime
import hashlib
import json
import os
import random
import re
import sys
import threading
import time
import uuid

import bench_tool as bt
from bench_tool import Pg, channel, cpu_s, create_org, emit, md, pct, tree_cpu_s, unary
from pbwire import ld as field_bytes, varint  # tests/interop, on sys.path by bench_tool
from rfc9162 import leaf_hash, verify_consistency, verify_inclusion

LOG = "/registry.v1.LogService/"
ORG = "/registry.v1.OrgService/"

# -- leaves ------------------------------------------------------------------------


def leaf_bytes(event_id, etype, secs, nanos, org_id, item_id):
    """A serialized registry.v1.LogLeaf (fields in number order, as the server
    writes them): checked against the generated module in cmd_backlog."""
    ts = b"\x08" + varint(secs) + (b"\x10" + varint(nanos) if nanos else b"")
    return (field_bytes(1, event_id.encode()) + b"\x10" + varint(etype) + field_bytes(3, ts)
            + field_bytes(4, org_id.encode()) + field_bytes(5, item_id.encode())
            + field_bytes(10, hashlib.sha256(event_id.encode()).digest()))


ITEM_REGISTERED = 7
BENCH_ORGS = 100  # acting organizations the generated events cycle through


def event_row(n, secs, nanos):
    eid, org, item = "evt_bench_%d" % n, "org_bench_%d" % (n % BENCH_ORGS), "itm_bench_%d" % n
    return eid, org, item, leaf_bytes(eid, ITEM_REGISTERED, secs, nanos, org, item)


def cmd_backlog(a):
    from registry.v1 import log_pb2
    from google.protobuf import timestamp_pb2
    # the hand encoding must be the generated module's, byte for byte
    eid, org, item, leaf = event_row(a.start, 1767225600, 123000)
    ref = log_pb2.LogLeaf(event_id=eid, type=ITEM_REGISTERED,
                          at=timestamp_pb2.Timestamp(seconds=1767225600, nanos=123000),
                          organization_id=org, item_id=item,
                          record_sha256=hashlib.sha256(eid.encode()).digest())
    if ref.SerializeToString() != leaf:
        sys.exit("log_bench: hand-encoded LogLeaf differs from protoc's")
    pg = Pg(a.pg)
    base_us = int(time.time() * 1e6) - a.count  # one microsecond apart, in the past

    def chunks():
        buf = []
        size = 0
        for n in range(a.start, a.start + a.count):
            us = base_us + (n - a.start)
            secs, nanos = divmod(us, 1000000)
            eid, org, item, leaf = event_row(n, secs, nanos * 1000)
            at = datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc)
            line = "%s\t%d\t%s\t%s\t\\\\x%s\t%s\n" % (eid, ITEM_REGISTERED, org, item, leaf.hex(),
                                                       at.isoformat())
            buf.append(line)
            size += len(line)
            if size >= 1 << 20:
                yield "".join(buf).encode()
                buf, size = [], 0
        if buf:
            yield "".join(buf).encode()

    t0 = time.monotonic()
    pg.copy_in("COPY events (event_id, type, organization_id, item_id, leaf, created_at) "
               "FROM STDIN", chunks())
    secs = time.monotonic() - t0
    emit(a, {"kind": "backlog", "label": a.label, "start": a.start, "count": a.count,
             "seconds": round(secs, 1), "rows_per_s": round(a.count / secs)})


# -- integration -----------------------------------------------------------------


def cmd_integrate(a):
    pg = Pg(a.pg)
    target = a.target
    c0 = {"registryd": cpu_s(a.pid), "postgres": tree_cpu_s(a.pg_pid), "redis": cpu_s(a.redis_pid)}
    start_size = a.start_size
    samples = []
    deadline = time.time() + a.timeout
    while True:
        size = int(pg.scalar("SELECT tree_size FROM log_state"))
        now = time.time()
        samples.append((now, size))
        if size >= target:
            break
        if now > deadline:
            sys.exit("log_bench: tree_size %d after %ds, expected %d" % (size, a.timeout, target))
        if a.pid and cpu_s(a.pid) == 0 and not os.path.exists("/proc/%d" % a.pid):
            sys.exit("log_bench: registryd (pid %d) is gone" % a.pid)
        time.sleep(max(0.0, 0.1 - (time.time() - now)))
    t_end = samples[-1][0]
    c1 = {"registryd": cpu_s(a.pid), "postgres": tree_cpu_s(a.pg_pid), "redis": cpu_s(a.redis_pid)}
    n = target - start_size
    wall = t_end - a.t0
    first = next(t for t, s in samples if s > start_size)
    # the time each tenth of the backlog took: a rate that falls as the
    # table grows shows here
    tenths = []
    for k in range(1, 11):
        goal = start_size + n * k // 10
        t = next(t for t, s in samples if s >= goal)
        tenths.append(t)
    per_tenth = [round((n / 10) / (t - p)) if t > p else None
                 for p, t in zip([first] + tenths[:-1], tenths)]
    cpu = {k: round((c1[k] - c0[k]) / wall * 100) for k in c0}
    # the checkpoint covering the whole backlog
    cp_wait = None
    t_cp0 = time.time()
    while time.time() - t_cp0 < a.timeout:
        if int(pg.scalar("SELECT coalesce(max(tree_size), 0) FROM log_checkpoints")) >= target:
            cp_wait = time.time() - t_end
            break
        time.sleep(0.1)
    emit(a, {"kind": "integrate", "label": a.label, "events": n, "batch": a.batch,
             "seconds": round(wall, 2), "rate": round(n / wall),
             "startup_s": round(first - a.t0, 2),
             "rate_after_first": round(n / (t_end - first)) if t_end > first else None,
             "rate_by_tenth": per_tenth, "cpu_pct": cpu,
             "checkpoint_after_s": None if cp_wait is None else round(cp_wait, 2),
             "checkpoints": int(pg.scalar("SELECT count(*) FROM log_checkpoints"))})


# -- gRPC ---------------------------------------------------------------------------


def cmd_lag(a):
    import grpc
    from registry.v1 import common_pb2, log_pb2, org_pb2
    pg = Pg(a.pg)
    ch = channel(a.addr)
    salt = random.randrange(1000000)
    orgs = [create_org(ch, a.admin_key, common_pb2.ROLE_PLATFORM, "Bench platform %d" % i,
                       salt * 64 + i) for i in range(a.threads)]
    _, inspector = create_org(ch, a.admin_key, common_pb2.ROLE_INSPECTOR, "Bench inspector",
                              salt * 64 + 63)
    # start once everything before the load is sequenced
    deadline = time.time() + 60
    while True:
        total, seq = pg.query("SELECT count(*), count(log_index) FROM event_log")[0]
        if total == seq:
            break
        if time.time() > deadline:
            sys.exit("log_bench: setup events not sequenced")
        time.sleep(0.05)
    from_index = int(pg.scalar("SELECT tree_size FROM log_state"))
    org_ids = {o for o, _ in orgs}
    stop = threading.Event()
    seen_db = {}      # org -> [(log_index, t)]
    seen_watch = {}
    lock = threading.Lock()

    def poll_db():
        p = Pg(a.pg)
        nxt = from_index
        while True:
            rows = p.query("SELECT log_index, organization_id FROM event_log WHERE log_index >= %d "
                           "ORDER BY log_index LIMIT 10000" % nxt)
            now = time.time()
            for li, org in rows:
                if org in org_ids:
                    seen_db.setdefault(org, []).append((int(li), now))
            if rows:
                nxt = int(rows[-1][0]) + 1
            if stop.is_set() and not rows:
                break
            time.sleep(0.01)
        p.close()

    watch_call = ch.unary_stream(LOG + "WatchEvents",
                                 request_serializer=log_pb2.WatchEventsRequest.SerializeToString,
                                 response_deserializer=log_pb2.WatchEventsResponse.FromString)
    stream = watch_call(log_pb2.WatchEventsRequest(from_index=from_index), metadata=md(inspector),
                        timeout=a.seconds + 180)
    watch_err = []

    def watch():
        try:
            for m in stream:
                now = time.time()
                if m.event.organization_id in org_ids:
                    with lock:
                        seen_watch.setdefault(m.event.organization_id, []).append(
                            (m.event.log_index, now))
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                watch_err.append("%s %s" % (e.code().name, e.details()))

    done = {o: [] for o, _ in orgs}
    errors = []
    per_thread = a.rate / a.threads

    def load(org, key):
        lch = channel(a.addr)
        call = unary(lch, ORG + "IssueApiKey", org_pb2.IssueApiKeyRequest,
                     org_pb2.IssueApiKeyResponse)
        t0 = time.time()
        i = 0
        while True:
            due = t0 + i / per_thread
            now = time.time()
            if due - t0 >= a.seconds:
                break
            if due > now:
                time.sleep(due - now)
            try:
                call(org_pb2.IssueApiKeyRequest(request_id=str(uuid.uuid4())), metadata=md(key),
                     timeout=30)
                done[org].append(time.time())
            except grpc.RpcError as e:
                errors.append("%s %s" % (e.code().name, e.details()))
            i += 1
        lch.close()

    threads = [threading.Thread(target=poll_db), threading.Thread(target=watch)]
    loaders = [threading.Thread(target=load, args=o) for o in orgs]
    for t in threads + loaders:
        t.start()
    t_load0 = time.time()
    for t in loaders:
        t.join()
    t_load = time.time() - t_load0
    n_calls = sum(len(v) for v in done.values())
    # wait until both observers saw every event of the load
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            w = sum(len(v) for v in seen_watch.values())
        d = sum(len(v) for v in seen_db.values())
        if w >= n_calls and d >= n_calls:
            break
        time.sleep(0.1)
    stop.set()
    stream.cancel()
    for t in threads:
        t.join(30)

    def lags(seen):
        out, mismatched = [], 0
        for org, ends in done.items():
            obs = sorted(seen.get(org, []))
            if len(obs) != len(ends):
                mismatched += 1
            # one thread per organization, one call at a time: the k-th call's
            # event is the organization's k-th in log order
            out += [(t_obs - t_end) * 1000 for (li, t_obs), t_end in zip(obs, ends)]
        return out, mismatched

    res = {"kind": "lag", "label": a.label, "threads": a.threads, "target_rate": a.rate,
           "seconds": round(t_load, 1), "calls": n_calls, "errors": len(errors),
           "error_sample": errors[:3], "rate": round(n_calls / t_load, 1),
           "watch_error": watch_err[:1]}
    for name, seen in (("sequenced", seen_db), ("delivered", seen_watch)):
        ls, bad = lags(seen)
        res[name] = {"n": len(ls), "orgs_incomplete": bad,
                     "p50_ms": round(pct(ls, 50), 1) if ls else None,
                     "p99_ms": round(pct(ls, 99), 1) if ls else None,
                     "max_ms": round(max(ls), 1) if ls else None}
    emit(a, res)
    ch.close()
    if errors or watch_err or res["sequenced"]["orgs_incomplete"] or res["delivered"]["orgs_incomplete"]:
        return 1
    return 0


# -- proofs ---------------------------------------------------------------------------




def checkpoint(ch):
    """(size, root) of the latest checkpoint, its note verified with the LOG key."""
    import base64
    import nacl.signing
    from registry.v1 import log_pb2
    cp = unary(ch, LOG + "GetCheckpoint", log_pb2.GetCheckpointRequest,
               log_pb2.GetCheckpointResponse)(log_pb2.GetCheckpointRequest(), timeout=10)
    keys = unary(ch, LOG + "ListSigningKeys", log_pb2.ListSigningKeysRequest,
                 log_pb2.ListSigningKeysResponse)(log_pb2.ListSigningKeysRequest(), timeout=10)
    key = [k for k in keys.keys if k.purpose == log_pb2.KEY_PURPOSE_LOG
           and not k.HasField("valid_until")][0]
    text, _, sigs = cp.note.partition("\n\n")
    kid = hashlib.sha256(key.name.encode() + b"\n\x01" + key.public_key).digest()[:4]
    ok = False
    for line in sigs.strip("\n").split("\n"):
        name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64)
        if name == key.name and raw[:4] == kid:
            nacl.signing.VerifyKey(key.public_key).verify((text + "\n").encode(), raw[4:])
            ok = True
    lines = text.split("\n")
    if not ok or int(lines[1]) != cp.tree_size or base64.b64decode(lines[2]) != cp.root_hash:
        sys.exit("log_bench: checkpoint note does not verify")
    return cp.tree_size, cp.root_hash


def cmd_proofs(a):
    from registry.v1 import log_pb2
    pg = Pg(a.pg)
    ch = channel(a.addr)
    size, root = checkpoint(ch)
    state = int(pg.scalar("SELECT tree_size FROM log_state"))
    incl = unary(ch, LOG + "GetInclusionProof", log_pb2.GetInclusionProofRequest,
                 log_pb2.GetInclusionProofResponse)
    cons = unary(ch, LOG + "GetConsistencyProof", log_pb2.GetConsistencyProofRequest,
                 log_pb2.GetConsistencyProofResponse)
    # correctness first: random indices against the checkpoint's root, the
    # leaf hashed here from the event row's bytes; the size is asked for
    # explicitly, since a newer checkpoint may appear meanwhile
    bad = []
    rnd = random.Random(1)
    for _ in range(a.verify):
        i = rnd.randrange(size)
        r = incl(log_pb2.GetInclusionProofRequest(leaf_index=i, tree_size=size), timeout=10)
        leaf = bytes.fromhex(pg.scalar("SELECT leaf FROM event_log WHERE log_index = %d" % i)[2:])
        if r.tree_size != size or not verify_inclusion(i, size, leaf_hash(leaf), r.hashes, root):
            bad.append("inclusion %d" % i)
    cps = pg.query("SELECT tree_size, encode(root, 'hex') FROM log_checkpoints "
                   "WHERE tree_size < %d ORDER BY random() LIMIT %d" % (size, a.verify))
    for s, rhex in cps:
        s = int(s)
        r = cons(log_pb2.GetConsistencyProofRequest(first_size=s, second_size=size), timeout=10)
        if r.second_size != size or not verify_consistency(s, size, bytes.fromhex(rhex), root,
                                                           r.hashes):
            bad.append("consistency %d" % s)
    # both ends of the tree too
    for i in (0, size - 1):
        r = incl(log_pb2.GetInclusionProofRequest(leaf_index=i, tree_size=size), timeout=10)
        leaf = bytes.fromhex(pg.scalar("SELECT leaf FROM event_log WHERE log_index = %d" % i)[2:])
        if not verify_inclusion(i, size, leaf_hash(leaf), r.hashes, root):
            bad.append("inclusion %d" % i)
    res = {"kind": "proofs", "label": a.label, "tree_size": size, "state_size": state,
           "threads": a.threads, "seconds": a.seconds,
           "verified": {"inclusion": a.verify + 2, "consistency": len(cps), "bad": bad[:5]}}

    def mk_incl(c):
        f = unary(c, LOG + "GetInclusionProof", log_pb2.GetInclusionProofRequest,
                  log_pb2.GetInclusionProofResponse)
        return (lambda rnd: log_pb2.GetInclusionProofRequest(leaf_index=rnd.randrange(size),
                                                             tree_size=0),
                lambda req: f(req, timeout=10))

    def mk_cons(c):
        f = unary(c, LOG + "GetConsistencyProof", log_pb2.GetConsistencyProofRequest,
                  log_pb2.GetConsistencyProofResponse)
        return (lambda rnd: log_pb2.GetConsistencyProofRequest(first_size=rnd.randrange(1, size),
                                                               second_size=0),
                lambda req: f(req, timeout=10))

    for name, mk in (("inclusion", mk_incl), ("consistency", mk_cons)):
        for threads in (1, a.threads):
            lat, errors, wall = bt.timed_run(a.addr, threads, a.seconds, mk)
            rate = len(lat) / wall
            res["%s_t%d" % (name, threads)] = {
                "calls": len(lat), "errors": len(errors), "error_sample": errors[:2],
                "calls_per_s": round(rate), "p50_ms": round(pct(lat, 50), 2),
                "p99_ms": round(pct(lat, 99), 2)}
    emit(a, res)
    return 1 if bad else 0


def cmd_payload(a):
    from registry.v1 import log_pb2
    if a.kind == "inclusion":
        m = log_pb2.GetInclusionProofRequest(leaf_index=a.index, tree_size=0)
    else:
        m = log_pb2.GetConsistencyProofRequest(first_size=a.index, second_size=0)
    body = m.SerializeToString()
    with open(a.out, "wb") as f:
        f.write(b"\x00" + len(body).to_bytes(4, "big") + body)


def cmd_h2load(a):
    with open(a.txt) as f:
        txt = f.read()
    m = re.search(r"finished in [0-9.]+\w+, ([0-9.]+) req/s", txt)
    s = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded", txt)
    lat = []
    with open(a.log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                lat.append(int(parts[2]) / 1000)
    after = bt.scrape(a.metrics, a.method)
    with open(a.before) as f:
        before = json.load(f)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    delta = {k: v for k, v in delta.items() if v}
    total = int(s.group(1)) if s else 0
    emit(a, {"kind": "h2load", "label": a.label, "method": a.method, "load": a.load,
             "requests": total, "http_ok": int(s.group(2)) if s else 0,
             "calls_per_s": round(float(m.group(1))) if m else None,
             "p50_ms": round(pct(lat, 50), 2) if lat else None,
             "p99_ms": round(pct(lat, 99), 2) if lat else None,
             "codes": delta, "all_ok": delta == {"OK": total}})


def cmd_scrape(a):
    print(json.dumps(bt.scrape(a.metrics, a.method)))


# -- storage ----------------------------------------------------------------------------


def cmd_storage(a):
    pg = Pg(a.pg)
    pg.query("ANALYZE events")
    leaves = int(pg.scalar("SELECT tree_size FROM log_state"))
    rels = {}
    for rel in ("events", "events_pending", "log_entries", "log_tiles", "log_checkpoints"):
        tot, heap, idx, toast = pg.query(
            "SELECT pg_total_relation_size('%s'), pg_relation_size('%s'), "
            "pg_indexes_size('%s'), pg_total_relation_size('%s') - pg_relation_size('%s') "
            "- pg_indexes_size('%s')" % ((rel,) * 6))[0]
        rows, dead = pg.query("SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables "
                              "WHERE relname = '%s'" % rel)[0]
        rels[rel] = {"total": int(tot), "heap": int(heap), "indexes": int(idx),
                     "toast": int(toast), "live_rows": int(rows), "dead_rows": int(dead)}
    idx = {r[0]: int(r[1]) for r in pg.query(
        "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
        "WHERE relname IN ('events', 'events_pending', 'log_entries', 'log_tiles', 'log_checkpoints')")}
    emit(a, {"kind": "storage", "label": a.label, "leaves": leaves, "relations": rels,
             "index_sizes": idx,
             "avg_leaf_bytes": float(pg.scalar("SELECT avg(length(leaf)) FROM "
                                               "(SELECT leaf FROM events LIMIT 10000) s"))})


# -- the table ---------------------------------------------------------------------------


def mb(n):
    return "%.1f MB" % (n / 1e6)


def cmd_report(a):
    recs = bt.read_results(a.results)
    out = []
    w = out.append
    w("### 1. Backlog integration (events inserted by COPY with registryd stopped, then `serve`)")
    w("")
    w("| run | batch | events | COPY rows/s | wall s | events/s | ≥ 20k/s | events/s by tenth | "
      "CPU registryd / PG / Redis | checkpoint after |")
    w("|---|---:|---:|---:|---:|---:|---|---|---|---:|")
    backlog = {r["label"]: r for r in recs if r["kind"] == "backlog"}
    for r in recs:
        if r["kind"] != "integrate":
            continue
        b = backlog.get(r["label"], {})
        c = r["cpu_pct"]
        tenths = ", ".join("%.1fk" % (x / 1000) if x else "-" for x in r["rate_by_tenth"])
        w("| %s | %s | %s | %s | %.1f | %s | %s | %s | %d %% / %d %% / %d %% | %s s |" % (
            r["label"], r["batch"], f"{r['events']:,}",
            f"{b['rows_per_s']:,}" if b else "-", r["seconds"], f"{r['rate']:,}",
            "yes" if r["rate"] >= 20000 else "**no**", tenths, c["registryd"], c["postgres"],
            c["redis"], r["checkpoint_after_s"]))
    lag = [r for r in recs if r["kind"] == "lag"]
    if lag:
        w("")
        w("### 2. Lag behind a sustained mutation load (IssueApiKey, one platform per thread)")
        w("")
        w("| run | threads | target/s | achieved/s | calls | errors | sequenced p50 / p99 / max | "
          "WatchEvents p50 / p99 / max |")
        w("|---|---:|---:|---:|---:|---:|---|---|")
        for r in lag:
            s, d = r["sequenced"], r["delivered"]
            w("| %s | %d | %d | %.1f | %s | %d | %s / %s / %s ms | %s / %s / %s ms |" % (
                r["label"], r["threads"], r["target_rate"], r["rate"], f"{r['calls']:,}",
                r["errors"], s["p50_ms"], s["p99_ms"], s["max_ms"], d["p50_ms"], d["p99_ms"],
                d["max_ms"]))
    pr = [r for r in recs if r["kind"] == "proofs"]
    h2 = [r for r in recs if r["kind"] == "h2load"]
    if pr or h2:
        w("")
        w("### 3. Proofs")
        w("")
        w("| run | leaves | method | client | calls/s | p50 | p99 | verified | all OK |")
        w("|---|---:|---|---|---:|---:|---:|---|---|")
        for r in pr:
            v = r["verified"]
            for name in ("inclusion", "consistency"):
                for k in sorted(x for x in r if x.startswith(name + "_t")):
                    x = r[k]
                    w("| %s | %s | %s | grpcio, %s thread(s) | %s | %.2f ms | %.2f ms | %s | %s |" % (
                        r["label"], f"{r['tree_size']:,}",
                        "GetInclusionProof" if name == "inclusion" else "GetConsistencyProof",
                        k.split("_t")[1], f"{x['calls_per_s']:,}", x["p50_ms"], x["p99_ms"],
                        "%d/%d" % (v[name] - sum(1 for b in v["bad"] if b.startswith(name)),
                                   v[name]),
                        "yes" if not x["errors"] and not v["bad"] else "**no**"))
        for r in h2:
            w("| %s | | %s | h2load %s, one fixed request | %s | %.2f ms | %.2f ms | - | %s |" % (
                r["label"], r["method"].rsplit("/", 1)[1], r["load"], f"{r['calls_per_s']:,}",
                r["p50_ms"], r["p99_ms"], "yes" if r["all_ok"] else "**no** %s" % r["codes"]))
    st = [r for r in recs if r["kind"] == "storage"]
    if st:
        w("")
        w("### 4. Storage (pg_total_relation_size: heap + indexes + TOAST)")
        w("")
        w("| run | leaves | events (heap + idx) | log_entries | log_tiles | log_checkpoints | "
          "total | per million leaves |")
        w("|---|---:|---|---:|---:|---:|---:|---:|")
        for r in st:
            if "log_entries" not in r["relations"]:
                continue  # a run from before log_entries (0202)
            rel = r["relations"]
            e = rel["events"]
            tot = sum(x["total"] for x in rel.values())
            per = 1e6 / r["leaves"] if r["leaves"] else 0
            w("| %s | %s | %s (%s + %s) | %s | %s | %s | %s | %s |" % (
                r["label"], f"{r['leaves']:,}", mb(e["total"]), mb(e["heap"]),
                mb(e["indexes"]), mb(rel["log_entries"]["total"]),
                mb(rel["log_tiles"]["total"]), mb(rel["log_checkpoints"]["total"]),
                mb(tot), mb(tot * per)))
        w("")
        w("per million leaves, by relation (last run): " + ", ".join(
            "%s %s" % (k, mb(v["total"] * 1e6 / st[-1]["leaves"]))
            for k, v in st[-1]["relations"].items()))
    print("\n".join(out))
    return 0


COMMANDS = {
    "backlog": (cmd_backlog, "--pg!", "--start:int=0", "--count:int!", "--label="),
    "integrate": (cmd_integrate, "--pg!",
                  ("--start-size", {"type": int, "required": True, "help": "tree size before serve"}),
                  "--target:int!",
                  ("--t0", {"type": float, "required": True,
                            "help": "when serve was started (epoch s)"}),
                  ("--pid", {"type": int, "default": 0, "help": "registryd"}),
                  ("--pg-pid", {"type": int, "default": 0, "help": "the postmaster"}),
                  "--redis-pid:int=0", "--batch=256", "--timeout:int=3600", "--label="),
    "lag": (cmd_lag, "--addr!", "--pg!", "--admin-key!", "--rate:float=200",
            "--seconds:float=30", "--threads:int=8", "--label="),
    "proofs": (cmd_proofs, "--addr!", "--pg!", "--threads:int=8", "--seconds:float=15",
               "--verify:int=200", "--label="),
    "payload": (cmd_payload, ("--kind", {"choices": ("inclusion", "consistency"), "required": True}),
                "--index:int!", "--out!"),
    "h2load": (cmd_h2load, "--txt!", "--log!", "--metrics!", "--method!", "--before!", "--load=",
               "--label="),
    "scrape": (cmd_scrape, "--metrics!", "--method!"),
    "storage": (cmd_storage, "--pg!", "--label="),
}


if __name__ == "__main__":
    sys.exit(bt.bench_main(__doc__, COMMANDS, cmd_report))
