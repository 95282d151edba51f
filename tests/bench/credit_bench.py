"""Helpers of tests/bench/credit_bench.sh, the CreditService benchmark
(issue 7; Debian's /usr/bin/python3; PYTHONPATH must hold the protoc
--python_out modules of proto/). Each measuring command appends one JSON
line to --results; `report` turns that file into the tables.

  setup     --addr A --admin-key K --pg C   an INSPECTOR organization (the
                                      source of every record, the SubmitRecord
                                      caller) and a PLATFORM one (the profile
                                      reader); PERSONS SELLER_PERSON subjects
                                      registered through RegisterSubject (the
                                      server seals them); SUBJECTS − PERSONS
                                      SELLER_BUSINESS subjects and RECORDS
                                      records COPYed into PostgreSQL → JSON
  verify    --addr A --orgs F --pg C  a few profiles against the grade rule of
                                      SPEC §6 computed here from the rows
  bump      --orgs F --redis-port P   INCR every subject's credit:{id}:gen
                                      (so that the next read of each is a miss)
  bodies    --orgs F --method M       grpc_load's input (GetCreditProfile of
                                      org or person subjects, in a random
                                      order, or of the subjects the run
                                      --hit-of sent; SubmitRecord about random
                                      subjects) and its key file
  cload     --client B --bodies F     grpc_load; for SubmitRecord the records
                                      stored against the requests sent
  sample    --addr A --orgs F         serial SubmitRecord calls (to be captured)
  capture   --log F --offset B        the statements they issued
  script    --captured F --orgs F     the pgbench script made of the last one
  pgbench   --pg C --script F         pgbench -M prepared, then the records
                                      stored against its transactions
  pgstat    --pg C                    the top statements of pg_stat_statements
  report    RESULTS                   the tables

Subject ids: the COPYed organizations are sub_<24 hex digits of i>, i = 1 …
SUBJECTS − PERSONS (so pgbench can draw one: 'sub_' || lpad(to_hex(:s), 24,
'0')); persons have the server's ids. Records are spread uniformly at
random over all subjects (persons included), categories uniform over the 12,
severities 1–5, occurred_on uniform over the last 8 years (so some negative
ones are EXPIRED), a third with an ended_on; no disputes, supersessions or
list entries.
"""

import datetime
import json
import random
import re
import socket
import sys
import threading
import time
import uuid

import bench_tool as bt
from bench_tool import Pg, channel, create_org, emit, fmt, md, unary

CREDIT = "/registry.v1.CreditService/"
USCC_BASE = 7400000          # make_uscc bodies of the organizations (other benches: 71…, 72…)
SUBJECT_USCC_BASE = 5000000  # the COPYed subjects' USCCs (credit_subjects only)
CST = datetime.timezone(datetime.timedelta(hours=8))
PURPOSE = "credit check before a trade (bench)"
DOUBLED = {6, 7, 8, 9}
NEGATIVE = set(range(4, 12))
POSITIVE = {1, 2, 3}


def org_subject_id(i):
    return "sub_%024x" % i


def today():
    return datetime.datetime.now(CST).date()


# -- data ----------------------------------------------------------------------------------

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(k):
    """Person k's resident ID (GB 11643; area 140302), distinct for k < 18,000,000."""
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=(k // 1000) * 17 % 18000)
    first17 = "140302" + born.strftime("%Y%m%d") + "%03d" % (k % 1000)
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _W)) % 11]


def register_persons(addr, key, n, threads=8):
    """n SELLER_PERSON subjects through RegisterSubject, `threads` at a time → ids."""
    from registry.v1 import credit_pb2 as C
    salt = random.randrange(1000) * 20000
    ids = [None] * n
    errors = []

    def work(t):
        ch = channel(addr)
        call = unary(ch, CREDIT + "RegisterSubject", C.RegisterSubjectRequest,
                     C.RegisterSubjectResponse)
        for k in range(t, n, threads):
            try:
                r = call(C.RegisterSubjectRequest(
                    request_id=str(uuid.uuid4()), kind=C.SUBJECT_KIND_SELLER_PERSON,
                    name="王%s" % "伟芳娜敏静丽强磊军洋"[k % 10], id_number=id_number(salt + k)),
                    metadata=md(key), timeout=30)
                ids[k] = r.subject.id
            except Exception as e:  # noqa: BLE001
                errors.append(str(e)[:200])
                return
        ch.close()
    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("credit_bench: RegisterSubject failed: %s" % errors[0])
    return ids


def cmd_setup(a):
    from registry.v1 import common_pb2
    ch = channel(a.addr)
    salt = random.randrange(100)
    insp_id, insp_key = create_org(ch, a.admin_key, common_pb2.ROLE_INSPECTOR,
                                   "Bench credit inspector", USCC_BASE + salt * 10)
    read_id, read_key = create_org(ch, a.admin_key, common_pb2.ROLE_PLATFORM,
                                   "Bench credit reader", USCC_BASE + salt * 10 + 1)
    ch.close()
    n_org = a.subjects - a.persons
    t0 = time.time()
    persons = register_persons(a.addr, insp_key, a.persons)
    t_persons = time.time() - t0
    pg = Pg(a.pg)
    t0 = time.time()

    def subjects():
        buf = []
        for i in range(1, n_org + 1):
            buf.append("%s\t3\t\\N\t\\N\t%s\tBench seller business %d\t\\N\t%s\tevt_bench_s%d\t"
                       "now\n" % (org_subject_id(i), bt.make_uscc(SUBJECT_USCC_BASE + i), i,
                                  insp_id, i))
            if len(buf) == 5000:
                yield "".join(buf).encode()
                buf = []
        yield "".join(buf).encode()
    pg.copy_in("COPY credit_subjects (id, kind, person_ref, person_enc, uscc, name, "
               "organization_id, registered_by, event_id, created_at) FROM STDIN", subjects())
    t_subjects = time.time() - t0
    all_ids = [org_subject_id(i) for i in range(1, n_org + 1)] + persons
    rnd = random.Random(a.seed)
    d0 = today()
    t0 = time.time()

    def records():
        buf = []
        for j in range(1, a.records + 1):
            sid = all_ids[rnd.randrange(len(all_ids))]
            occ = d0 - datetime.timedelta(days=rnd.randrange(1, 8 * 365))
            end = ("\\N" if rnd.randrange(3) else
                   (occ + datetime.timedelta(days=rnd.randrange(0, (d0 - occ).days + 1))).isoformat())
            buf.append("rec_%024x\t%s\t%d\t%d\t%s\t%s\tbench record %d\t%s\tevt_bench_r%d\tnow\n"
                       % (j, sid, rnd.randrange(1, 13), rnd.randrange(1, 6), occ.isoformat(),
                          end, j, insp_id, j))
            if len(buf) == 10000:
                yield "".join(buf).encode()
                buf = []
        yield "".join(buf).encode()
    pg.copy_in("COPY credit_records (id, subject_id, category, severity, occurred_on, ended_on, "
               "summary, source_organization_id, event_id, created_at) FROM STDIN", records())
    t_records = time.time() - t0
    pg.query("ANALYZE credit_subjects")
    pg.query("ANALYZE credit_records")
    counts = pg.query("SELECT (SELECT count(*) FROM credit_subjects), "
                      "(SELECT count(*) FROM credit_records), "
                      "pg_size_pretty(pg_total_relation_size('credit_records'))")[0]
    pg.close()
    out = {"inspector": {"id": insp_id, "key": insp_key}, "reader": {"id": read_id, "key": read_key},
           "inspectors": [{"id": insp_id, "key": insp_key}],
           "org_subjects": n_org, "persons": persons, "records": a.records}
    with open(a.out, "w") as f:
        json.dump(out, f)
    emit(a, {"kind": "load", "subjects": int(counts[0]), "records": int(counts[1]),
             "records_size": counts[2], "persons": len(persons), "org_subjects": n_org,
             "persons_s": round(t_persons, 1), "subjects_copy_s": round(t_subjects, 1),
             "records_copy_s": round(t_records, 1)})
    sys.stderr.write("credit_bench: %s subjects (%d persons through RegisterSubject in %.0f s), "
                     "%s records (%s) COPYed in %.0f s\n" % (counts[0], len(persons), t_persons,
                                                            counts[1], counts[2], t_records))
    return 0


def anniversary(d, years):
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February → 28 February
        return d.replace(year=d.year + years, day=28)


def expected_profile(rows, day):
    """SPEC §6 over (category, severity, occurred_on, ended_on) rows without
    disputes, supersessions or list entries → (grade, score, points, pos, neg)."""
    points = pos = neg = 0
    for cat, sev, occ, end in rows:
        if cat in POSITIVE:
            pos += 1
        if cat not in NEGATIVE:
            continue
        base = datetime.date.fromisoformat(end or occ)
        if day >= anniversary(base, 5):
            continue
        neg += 1
        points += sev * (2 if cat in DOUBLED else 1)
    grade = 1 if points == 0 else 2 if points <= 4 else 3 if points <= 9 else 4
    return grade, max(0, 100 - 5 * points), points, pos, neg


def cmd_verify(a):
    """A few profiles of each kind (as the reader) against expected_profile."""
    from registry.v1 import credit_pb2 as C
    with open(a.orgs) as f:
        o = json.load(f)
    pg = Pg(a.pg)
    ch = channel(a.addr)
    call = unary(ch, CREDIT + "GetCreditProfile", C.GetCreditProfileRequest,
                 C.GetCreditProfileResponse)
    rnd = random.Random(7)
    subs = [org_subject_id(rnd.randrange(1, o["org_subjects"] + 1)) for _ in range(a.count)]
    subs += [rnd.choice(o["persons"]) for _ in range(a.count) if o["persons"]]
    bad = []
    for sid in subs:
        rows = [(int(c), int(s), occ, end) for c, s, occ, end in pg.query(
            "SELECT category, severity, occurred_on::text, ended_on::text FROM credit_records "
            "WHERE subject_id = '%s'" % sid)]
        r = call(C.GetCreditProfileRequest(subject_id=sid, purpose=PURPOSE),
                 metadata=md(o["reader"]["key"]), timeout=30)
        got = (r.grade, r.score, r.points, r.positive_count, r.negative_count)
        want = expected_profile(rows, today())
        if got != want:
            bad.append("%s: %r, expected %r" % (sid, got, want))
    pg.close()
    ch.close()
    emit(a, {"kind": "verify", "profiles": len(subs), "wrong": bad[:5], "ok": not bad})
    if bad:
        sys.stderr.write("credit_bench: wrong profiles: %s\n" % "; ".join(bad[:3]))
        return 1
    return 0


def all_subjects(o):
    return [org_subject_id(i) for i in range(1, o["org_subjects"] + 1)] + o["persons"]


def cmd_bump(a):
    """INCR credit:{id}:gen of every subject, pipelined over one socket."""
    with open(a.orgs) as f:
        ids = all_subjects(json.load(f))
    s = socket.create_connection(("127.0.0.1", a.redis_port))
    t0 = time.time()
    for i in range(0, len(ids), 5000):
        chunk = ids[i:i + 5000]
        s.sendall(b"".join(b"*2\r\n$4\r\nINCR\r\n$%d\r\n%s\r\n" % (len(k), k)
                           for k in (("credit:{%s}:gen" % x).encode() for x in chunk)))
        need, got = len(chunk), b""
        while got.count(b"\r\n") < need:
            got += s.recv(1 << 16)
        if b"-" in got.split(b"\r\n")[0][:1]:
            sys.exit("credit_bench: Redis: %r" % got[:200])
    s.close()
    sys.stderr.write("credit_bench: %d generations bumped in %.1f s\n" % (len(ids), time.time() - t0))
    return 0


# -- grpc_load's input --------------------------------------------------------------------


def cmd_bodies(a):
    from registry.v1 import credit_pb2 as C
    with open(a.orgs) as f:
        o = json.load(f)
    rnd = random.Random(a.seed)
    if a.method == "GetCreditProfile":
        if a.hit_of:
            prev = [r for r in bt.read_results(a.results)
                    if r["kind"] == "grpc" and r["label"] == a.hit_of][-1]
            order = prev["order"]
        else:
            pool = ([org_subject_id(i) for i in range(1, o["org_subjects"] + 1)]
                    if a.kind == "org" else list(o["persons"]))
            rnd.shuffle(pool)
            order = pool
        purpose = PURPOSE if a.kind == "person" else ""
        msgs = (C.GetCreditProfileRequest(subject_id=order[i % len(order)], purpose=purpose)
                for i in range(a.count))
        keys = [o["reader"]]
        with open(a.out + ".order.json", "w") as f:
            json.dump(order, f)
    else:
        ids = all_subjects(o)
        d0 = today()

        def submit():
            occ = d0 - datetime.timedelta(days=rnd.randrange(0, 3 * 365))
            return C.SubmitRecordRequest(
                request_id=str(uuid.uuid4()), subject_id=ids[rnd.randrange(len(ids))],
                category=rnd.randrange(1, 13), severity=rnd.randrange(1, 6),
                occurred_on=occ.isoformat(), ended_on="",
                summary="bench: submitted record about the subject's conduct")
        msgs = (submit() for _ in range(a.count))
        keys = [o["inspector"]]
    n, size = bt.write_bodies(a.out, msgs)
    bt.write_keys(a.keys_out, keys)
    sys.stderr.write("credit_bench: %d %s requests, %.0f bytes each\n" % (n, a.method,
                                                                        size / max(n, 1)))
    return 0


def record_count(pg):
    return int(pg.scalar("SELECT count(*) FROM credit_records"))


def cmd_cload(a):
    """grpc_load on the method; the record gets the bodies sent (and, for a
    profile run, the subject order, so that a hit run can replay it)."""
    pg = Pg(a.pg)
    before = record_count(pg)
    method = a.method
    rec = bt.grpc_load(a, CREDIT + method, "credit_bench", registryd_digits=1)
    if rec is None:
        return 1
    total = bt.count_bodies(a.bodies)
    rec.update(method=method, part=a.part, sent=total - rec["bodies_left"])
    ok = bt.grpc_load_ok("credit_bench", rec, "raise --max-rate")
    if method == "GetCreditProfile":
        with open(a.bodies + ".order.json") as f:
            order = json.load(f)
        rec["pool"] = len(order)
        rec["repeats"] = max(0, rec["sent"] - len(order))
        rec["order"] = order[:min(rec["sent"], len(order))] if "-miss-" in a.part else []
        # profiles computed from PostgreSQL since quiesce's reset (warm-up included): the
        # server's own measure of misses
        rec["computed"] = int(pg.scalar(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE "
            "'SELECT r.id, r.subject_id%WHERE r.subject_id = $1'"))
        rec["served_from_cache"] = max(0, rec["sent"] - rec["computed"])
    else:
        stored = record_count(pg) - before
        rec["stored"] = stored
        ok = ok and stored == rec["sent"]
        if stored != rec["sent"]:
            sys.stderr.write("credit_bench: %d SubmitRecord sent, %d records stored\n"
                             % (rec["sent"], stored))
    rec["checked_ok"] = ok
    pg.close()
    emit(a, rec)
    return 0 if ok else 1


# -- SubmitRecord: the captured statements and pgbench ---------------------------------------


def cmd_sample(a):
    from registry.v1 import credit_pb2 as C
    with open(a.orgs) as f:
        o = json.load(f)
    ch = channel(a.addr)
    call = unary(ch, CREDIT + "SubmitRecord", C.SubmitRecordRequest, C.SubmitRecordResponse)
    for j in range(a.count):
        sid = org_subject_id(1 + j)
        r = call(C.SubmitRecordRequest(request_id=str(uuid.uuid4()), subject_id=sid, category=4,
                                       severity=2, occurred_on=today().isoformat(),
                                       summary="bench: sample record"),
                 metadata=md(o["inspector"]["key"]), timeout=30)
        if r.record.subject_id != sid or r.record.status != C.RECORD_STATUS_ACTIVE:
            sys.exit("credit_bench: SubmitRecord answered %r" % r.record)
    ch.close()
    return 0


def cmd_capture(a):
    bt.capture(a, "INSERT INTO credit_records", "SubmitRecord", "credit_bench")


SCRIPT_DOC = """-- One SubmitRecord as registryd issued it (captured with log_statement=all
-- by credit_bench.sh): the same statements in the same order, each parameter
-- the literal the server sent, except
--   the subject: 'sub_' || lpad(to_hex((:s)::int8), 24, '0'), :s uniform over the
--               COPYed organization subjects (the gRPC load also draws
--               persons; an organization's subject row is what is read);
--   :org, :keyhash  the INSPECTOR and its API-key hash;
--   request ids and generated ids (rec_, evt_, …): unique per transaction.
-- What registryd computes in C (the event's leaf, the recorded response,
-- times) stays the captured bytes; the Redis INCR of the subject's
-- generation after the commit is not in it."""

_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")
_ID = re.compile(r"'([a-z]{3})_[0-9a-f]{24}'")


def cmd_script(a):
    call, org_ids, hashes = bt.script_inputs(a, "inspectors")
    with open(a.orgs) as f:
        o = json.load(f)
    sample_sid = "'%s'" % org_subject_id(a.sample_first + a.sample_count)
    subst = {sample_sid: ("subject id", "('sub_' || lpad(to_hex((:s)::int8), 24, '0'))"),
             "'%s'" % org_ids[0]: ("organization id", ":org"),
             "'\\x%s'" % hashes[0]: ("API-key hash", ":keyhash")}
    uniq = "(:run)::text || '/' || (:client_id)::text || '/' || (:k)::text"
    ids, seen = {}, {}
    lines = bt.script_head(SCRIPT_DOC, org_ids, hashes) + \
        ["\\set s random(1, %d)" % o["org_subjects"]]
    for stmt, params in call:
        params = {int(k): v for k, v in params.items()}

        def expr(k):
            v = params.get(k)
            if v is None or v == "NULL":
                return "NULL"
            if v in subst:
                name, e = subst[v]
                seen[name] = seen.get(name, 0) + 1
                return e
            if _UUID.fullmatch(v):
                seen["request id"] = seen.get("request id", 0) + 1
                return "(md5('R' || %s))" % uniq
            m = _ID.fullmatch(v)
            if m:
                j = ids.setdefault(v, len(ids))
                seen[m.group(1) + "_ id"] = seen.get(m.group(1) + "_ id", 0) + 1
                return "('%s_' || left(md5('I%d' || %s), 24))" % (m.group(1), j, uniq)
            return v
        lines.append(re.sub(r"\$(\d+)\b", lambda m: expr(int(m.group(1))), stmt) + ";")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    missing = [x for x in ("subject id", "organization id", "API-key hash") if x not in seen]
    emit(a, {"kind": "script", "label": a.label, "statements": len(call), "replaced": seen,
             "missing": missing, "shapes": [bt.shape(s) for s, _ in call]})
    if missing:
        sys.stderr.write("credit_bench: the captured call never sent %s as a parameter (see %s)\n"
                         % (", ".join(missing), a.out))
        return 1
    return 0


def cmd_pgbench(a):
    pg = Pg(a.pg)
    before = record_count(pg)
    rc = bt.cmd_pgbench(a)
    rec = [r for r in bt.read_results(a.results) if r["kind"] == "pgbench"][-1]
    stored = record_count(pg) - before
    pg.close()
    emit(a, {"kind": "check", "label": a.label, "run": "pgbench-c%d" % a.clients,
             "sent": rec["transactions"] or 0, "stored": stored,
             "ok": stored == (rec["transactions"] or 0)})
    return rc or (0 if stored == (rec["transactions"] or 0) else 1)


# -- the tables ------------------------------------------------------------------------------


def cmd_report(a):
    recs = bt.read_results(a.results)
    out = []
    w = out.append
    for r in (x for x in recs if x["kind"] == "load"):
        w("data: %d subjects (%d SELLER_BUSINESS COPYed, %d SELLER_PERSON through "
          "RegisterSubject in %s s), %d credit records COPYed in %s s (credit_records with its "
          "indexes: %s)" % (r["subjects"], r["org_subjects"], r["persons"], r["persons_s"],
                            r["records"], r["records_copy_s"], r["records_size"]))
    for r in (x for x in recs if x["kind"] == "verify"):
        w("")
        w("profiles checked against the SPEC §6 rule computed from the rows: %d, %s"
          % (r["profiles"], "all right" if r["ok"] else "**wrong: %s**" % "; ".join(r["wrong"])))
    prof = [r for r in recs if r["kind"] == "grpc" and r.get("method") == "GetCreditProfile"]
    if prof:
        w("")
        w("### GetCreditProfile (grpc_load; the reader is a PLATFORM organization)")
        w("")
        w("miss: every subject read for the first time since its generation was bumped (each "
          "subject once; `repeats` counts calls beyond the pool, which should be hits); hit: the "
          "subjects the miss run just read, again, within the TTL. CPU per call: registryd's "
          "and PostgreSQL's CPU over the measured window ÷ calls.")
        w("")
        w("")
        w("sent: calls sent in the run, warm-up included; computed: profiles the server "
          "computed from PostgreSQL in that time (pg_stat_statements' calls of the records "
          "query) — sent − computed were served from the cache.")
        w("")
        w("| subjects | cache | in flight | calls/s | p50 | p99 | max | registryd CPU | "
          "registryd µs/call | PG µs/call | calls | repeats | sent | computed | errors |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in prof:
            kind, cache = r["part"].split("-")[0], r["part"].split("-")[1]
            rate = r["calls_per_s"] or 0
            c = r["cpu_pct"]
            bad = {k: v for k, v in r["codes"].items() if k != "OK"}
            w(bt.md_row([kind, cache, "%d" % r["clients"], fmt(rate, 1),
                         "%.2f ms" % r["p50_ms"], "%.2f ms" % r["p99_ms"], "%.1f ms" % r["max_ms"],
                         "%s %%" % c["registryd"],
                         "%.0f" % (c["registryd"] * 1e4 / rate) if rate and c["registryd"] else "-",
                         "%.0f" % (c["postgres"] * 1e4 / rate) if rate and c["postgres"] else "-",
                         "%d" % r["calls"], "%d" % r["repeats"], "%d" % r["sent"],
                         "%s" % r.get("computed", "-"),
                         " ".join("%s %d" % kv for kv in bad.items()) or "0"]))
    g = [r for r in recs if r["kind"] == "grpc" and r.get("method") == "SubmitRecord"]
    p = [r for r in recs if r["kind"] == "pgbench"]
    if g or p:
        w("")
        w("### SubmitRecord (INSPECTOR, random subjects) against pgbench running the same "
          "statements")
        w("")
        ratios = bt.rounds_table(w, g, p, cpu="%.0f %% / %.0f %% / %.1f %%",
                                 per_call="%.3f / %.2f / %.3f")
        for r in g:
            bt.ran_out_note(w, r)
        if ratios:
            w("")
            w("ratio (calls/s ÷ best pgbench tps of the round) by round: %s; median **%.0f %%**"
              % (", ".join("%.0f %%" % (x * 100) for x in ratios),
                 statistics_median(ratios) * 100))
        cpu = ["%.0f µs" % (r["cpu_pct"]["registryd"] * 1e4 / r["calls_per_s"]) for r in g
               if r["calls_per_s"] and r["cpu_pct"]["registryd"]]
        if cpu:
            w("")
            w("registryd CPU per SubmitRecord call: %s" % ", ".join(cpu))
        checks = [r for r in recs if r["kind"] == "check"]
        w("")
        w("records stored = calls sent: %s" % "; ".join(
            ["%s %s: %d/%d" % (r["label"], r["run"], r["stored"], r["sent"]) for r in checks] +
            ["%s grpc: %d/%d" % (r["label"], r["stored"], r["sent"]) for r in g]))
    bt.shapes_table(w, recs, "SubmitRecord")
    print("\n".join(out))
    return 0


def statistics_median(xs):
    import statistics
    return statistics.median(xs)


COMMANDS = {
    "setup": (cmd_setup, "--addr!", "--admin-key!", "--pg!", "--subjects:int=100000",
              "--persons:int=2000", "--records:int=1000000", "--seed:int=1", "--out!"),
    "verify": (cmd_verify, "--addr!", "--orgs!", "--pg!", "--count:int=20"),
    "bump": (cmd_bump, "--orgs!", "--redis-port:int!"),
    "bodies": (cmd_bodies, "--orgs!", ("--method", {"required": True,
                                                    "choices": ["GetCreditProfile",
                                                                "SubmitRecord"]}),
               ("--kind", {"default": "org", "choices": ["org", "person"]}), "--hit-of",
               "--seed:int=0", "--count:int!", "--out!", "--keys-out!"),
    "cload": (cmd_cload,) + bt.CLOAD + ("--pg!", "--method!", "--part="),
    "sample": (cmd_sample, "--addr!", "--orgs!", "--count:int=5"),
    "capture": (cmd_capture,) + bt.CAPTURE,
    "script": (cmd_script,) + bt.SCRIPT,
    "pgbench": (cmd_pgbench,) + bt.PGBENCH[1:],
}


if __name__ == "__main__":
    sys.exit(bt.bench_main(__doc__, COMMANDS, cmd_report))
