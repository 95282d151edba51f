"""Helpers of tests/bench/wipe_bench.sh, the SubmitWipe benchmark (Debian's
/usr/bin/python3; PYTHONPATH must hold the protoc --python_out modules of
proto/). Each measuring command appends one JSON line to --results;
`report` turns that file into the table.

  orgs      --addr A --admin-key K    the WIPER organizations of the load,
                                      each with a DATA_WIPE qualification
                                      valid today → JSON (ids and API keys)
  sample    --addr A --orgs F         a few serial SubmitWipe calls (to be
                                      captured), each checked: a
                                      certificate whose signature verifies
                                      with the CERTIFICATE key of
                                      ListSigningKeys → JSON (the bodies)
  capture   --log F --offset B        the statements those calls issued
                                      (PostgreSQL's log_statement=all log)
  script    --captured F --orgs F     the pgbench script: the same
                                      statements, per-call values made from
                                      pgbench variables
  bodies    --orgs F --out F          the SubmitWipe requests of one run,
                                      serialized for grpc_load (each a
                                      4-byte big-endian length and the
                                      message), and its key file
  cload     --client B --bodies F     SubmitWipe with grpc_load (the C
                                      client): calls/s, p50/p99, codes, CPU
                                      of registryd, PostgreSQL and the
                                      client, rows stored during the run
  pgbench   --pg C --script F         pgbench -M prepared with that script
                                      (bench_tool.py's): tps, p50/p99, the
                                      same CPU figures
  signcost  --samples F               the CPU cost of one Ed25519 signature
                                      over a certificate body of the real
                                      size (libsodium, the library registryd
                                      links, through ctypes), and of a key
                                      unwrap
  perfsum   --data F                  libsodium's share of registryd's perf
                                      samples (the optional cross-check)
  pgstat    --pg C                    the top statements of pg_stat_statements
  report    RESULTS                   the table

Every request is a certified submission — an SSD, PURGE / BLOCK_ERASE,
0 passes, verification SAMPLE 10 %, result SUCCESS, destination RESALE —
on a device never seen before (device n: IMEI "35" + n in 12 digits + the
Luhn check digit, serial number "WB" + n in 10 digits), so every call
registers an item and signs a certificate.
"""

import datetime
import json
import random
import re
import subprocess
import sys
import time
import uuid

import bench_tool as bt
from bench_tool import Pg, channel, create_org, emit, fmt, md, unary

WIPE = "/registry.v1.WipeService/"
ORG = "/registry.v1.OrgService/"
LOG = "/registry.v1.LogService/"
CONTEXT = b"registry.v1.WipeCertificate\n"   # WIPE_CERT_CONTEXT (services/wipe/wipe.h)
BRAND = "Lenovo"
MODEL = "ThinkPad X13 LTE"
OPERATOR = "王建华"
USCC_BASE = 7100000     # make_uscc bodies of the wipers (listing_bench: salt * 100 + i)

# -- devices (DOMAIN §5: IMEI, 15 digits with a Luhn check digit) ---------------------


def luhn_ok(s):
    """ident_imei_check (services/core/ident.c): every second digit from the
    left doubled, the sum a multiple of 10."""
    if len(s) != 15 or not s.isdigit():
        return False
    t = 0
    for i, c in enumerate(s):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        t += d
    return t % 10 == 0


def imei(n):
    body = "35%012d" % n
    t = 0
    for i, c in enumerate(body):
        d = int(c) * (2 if i % 2 == 1 else 1)
        t += d - 9 if d > 9 else d
    return body + str((10 - t % 10) % 10)


def device_serial(n):
    return "WB%010d" % n


def check_rules():
    ids = bt.identifiers()
    if not (all(luhn_ok(v) for v in ids["imei_valid"])
            and not any(luhn_ok(v) for v in ids["imei_bad"])):
        sys.exit("wipe_bench: the IMEI rule does not match tests/data/identifiers.json")


def imei_check_expr():
    """A pgbench \\set expression of :n giving imei(n)'s check digit (digits
    2..13 are n in 12 digits; odd positions doubled, digit-summed)."""
    terms = ["4"]        # '3' at 0, '5' at 1 doubled: 1 + 0
    for j in range(12):
        d = "(:n / %d %% 10)" % 10 ** (11 - j)
        terms.append(d if j % 2 == 0 else "(2 * %s / 10 + 2 * %s %% 10)" % (d, d))
    return "(10 - (%s) %% 10) %% 10" % " + ".join(terms)


def _check_imei_expr():
    e = imei_check_expr()
    for n in (0, 1, 7, 123456789, 10 ** 12 - 1, 31000017):
        want = int(imei(n)[-1])
        got = eval(e.replace(":n", str(n)).replace("/", "//"))
        if got != want:
            sys.exit("wipe_bench: the pgbench IMEI expression is wrong for %d" % n)


def ts(sec):
    from google.protobuf import timestamp_pb2
    return timestamp_pb2.Timestamp(seconds=int(sec))


def wipe_request(n, now):
    """The SubmitWipe of device n: certified (flash, PURGE / BLOCK_ERASE,
    SAMPLE 10 %, SUCCESS, RESALE), a fresh request id. The sample calls and
    `bodies` (grpc_load's input) both build it here."""
    from registry.v1 import listing_pb2, wipe_pb2
    return wipe_pb2.SubmitWipeRequest(
        request_id=str(uuid.uuid4()),
        device=wipe_pb2.Device(category=listing_pb2.ELECTRONIC_CATEGORY_COMPUTER, brand=BRAND,
                               model=MODEL, imei=imei(n), serial_no=device_serial(n)),
        media=[wipe_pb2.Medium(type=wipe_pb2.MEDIA_TYPE_SSD, serial_no="S6PNNF0R%09d" % n,
                               capacity_bytes=512110190592)],
        method=wipe_pb2.WIPE_METHOD_PURGE, technique=wipe_pb2.WIPE_TECHNIQUE_BLOCK_ERASE,
        passes=0, random_pass=False, verification=wipe_pb2.VERIFICATION_SAMPLE,
        verified_percent=10, tool_name="Bench Drive Eraser", tool_version="7.12.1",
        operator_name=OPERATOR, started_at=ts(now - 3600), finished_at=ts(now - 1800),
        performed_at=ts(now - 1800), destination=wipe_pb2.DESTINATION_RESALE,
        result=wipe_pb2.WIPE_RESULT_SUCCESS)


# -- organizations ---------------------------------------------------------------------------


def cmd_orgs(a):
    from registry.v1 import common_pb2, org_pb2
    ch = channel(a.addr)
    qual = unary(ch, ORG + "SetQualification", org_pb2.SetQualificationRequest,
                 org_pb2.SetQualificationResponse)
    today = datetime.date.today()
    salt = random.randrange(1000)
    out = {"wipers": []}
    for i in range(a.count):
        org_id, key = create_org(ch, a.admin_key, common_pb2.ROLE_WIPER, "Bench wiper %d" % i,
                                 USCC_BASE + salt * 100 + i)
        q = qual(org_pb2.SetQualificationRequest(
            request_id=str(uuid.uuid4()), organization_id=org_id,
            kind=org_pb2.QUALIFICATION_KIND_DATA_WIPE, certificate_no="DW-BENCH-%04d" % i,
            valid_from=(today - datetime.timedelta(days=365)).isoformat(),
            valid_until=(today + datetime.timedelta(days=365)).isoformat()),
            metadata=md(a.admin_key), timeout=15)
        if not any(x.kind == org_pb2.QUALIFICATION_KIND_DATA_WIPE for x in q.organization.qualifications):
            sys.exit("wipe_bench: SetQualification did not record DATA_WIPE")
        out["wipers"].append({"id": org_id, "key": key})
    with open(a.out, "w") as f:
        json.dump(out, f)
    ch.close()


def verify(L, pk, body, sig):
    m = CONTEXT + body
    return L.crypto_sign_verify_detached(sig, m, len(m), pk) == 0


# -- the sample calls ------------------------------------------------------------------------


def cmd_sample(a):
    """Serial SubmitWipe calls of wiper 0 on devices first..first+count-1:
    what `capture` reads from the log. Each must return a certificate whose
    signature verifies with the current CERTIFICATE key."""
    from registry.v1 import log_pb2, wipe_pb2
    check_rules()
    _check_imei_expr()
    with open(a.orgs) as f:
        org = json.load(f)["wipers"][0]
    ch = channel(a.addr)
    call = unary(ch, WIPE + "SubmitWipe", wipe_pb2.SubmitWipeRequest,
                 wipe_pb2.SubmitWipeResponse)
    keys = unary(ch, LOG + "ListSigningKeys", log_pb2.ListSigningKeysRequest,
                 log_pb2.ListSigningKeysResponse)(log_pb2.ListSigningKeysRequest(), timeout=10)
    certkeys = {k.key_id: k.public_key for k in keys.keys
                if k.purpose == log_pb2.KEY_PURPOSE_CERTIFICATE}
    L = bt.sodium()
    now = time.time()
    out = {"calls": []}
    for n in range(a.first, a.first + a.count):
        req = wipe_request(n, now)
        t0 = time.perf_counter()
        r = call(req, metadata=md(org["key"]), timeout=30)
        ms = (time.perf_counter() - t0) * 1000
        c = r.certificate
        if r.certificate_refused_reason or not c.id or not c.body:
            sys.exit("wipe_bench: device %d: no certificate (refused: %r)"
                     % (n, r.certificate_refused_reason))
        pk = certkeys.get(c.key_id)
        if pk is None or not verify(L, pk, c.body, c.signature):
            sys.exit("wipe_bench: device %d: the certificate's signature does not verify "
                     "with the CERTIFICATE key %s of ListSigningKeys" % (n, c.key_id))
        body = wipe_pb2.WipeCertificateBody.FromString(c.body)
        if body.device.imei != imei(n) or body.certificate_id != c.id:
            sys.exit("wipe_bench: device %d: the certificate body names %s / %s"
                     % (n, body.device.imei, body.certificate_id))
        out["calls"].append({"n": n, "record_id": r.record_id, "item_id": r.item_id,
                             "certificate_id": c.id, "key_id": c.key_id, "ms": round(ms, 2),
                             "request_bytes": len(req.SerializeToString()),
                             "body_len": len(c.body), "body": c.body.hex()})
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    ch.close()


# -- the statements of one call ---------------------------------------------------------


def cmd_capture(a):
    """The calls in the log (bench_tool.capture, as listing_bench.py's): to
    the COMMIT after INSERT INTO wipe_records."""
    bt.capture(a, "INSERT INTO wipe_records", "SubmitWipe", "wipe_bench")


# -- the pgbench script ---------------------------------------------------------------------

SCRIPT_DOC = """-- One SubmitWipe as registryd issued it (captured with log_statement=all by
-- wipe_bench.sh; wipe_bench.py `capture`, then `script`): the same
-- statements in the same order, each parameter the literal the server sent,
-- except those that differ from call to call, made from pgbench variables:
--   :n          the device (first + client_id + clients * k; k counts the
--               client's transactions): its IMEI ('35', n in 12 digits,
--               the Luhn digit :imeichk) and serial number ('WB', n in 10
--               digits), exactly as the gRPC load's device n
--   :org, :keyhash  the client's wiper (client_id mod the number of bench
--               wipers): its organization id and API-key hash, set once per
--               client by its first transaction
--   :run, :k    request ids and every generated id (item, record,
--               certificate, events: prefix_ + 24 hex digits), unique per
--               transaction, the same id wherever the call repeated it
-- What registryd computes in C (the packed facts and item details, the
-- sealed operator, the certificate body and its signature, the leaves,
-- the recorded response, times) stays the captured bytes."""

_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")
_ID = re.compile(r"'([a-z]{3})_[0-9a-f]{24}'")


def render_call(call, org_id, key_hash, n_dev):
    """The pgbench lines for one captured call (list of (stmt, {n: literal})),
    and what was replaced ({kind: count})."""
    uniq = "(:run)::text || '/' || (:client_id)::text || '/' || (:k)::text"
    ids = {}
    seen = {}
    subst = {
        "'%s'" % imei(n_dev): "('35' || lpad((:n)::text, 12, '0') || (:imeichk)::text)",
        "'%s'" % device_serial(n_dev): "('WB' || lpad((:n)::text, 10, '0'))",
        "'%s'" % org_id: ":org",
        "'\\x%s'" % key_hash: ":keyhash",
    }
    names = {"'%s'" % imei(n_dev): "imei", "'%s'" % device_serial(n_dev): "serial_no",
             "'%s'" % org_id: "organization id", "'\\x%s'" % key_hash: "API-key hash"}
    lines = []
    for stmt, params in call:
        params = {int(k): v for k, v in params.items()}

        def expr(k):
            v = params.get(k)
            if v is None or v == "NULL":
                return "NULL"
            if v in subst:
                seen[names[v]] = seen.get(names[v], 0) + 1
                return subst[v]
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
    return lines, seen


def cmd_script(a):
    call, org_ids, key_hashes = bt.script_inputs(a, "wipers")
    lines = bt.script_head(SCRIPT_DOC, org_ids, key_hashes) + [
        "\\set imeichk " + imei_check_expr()]
    body, seen = render_call(call, org_ids[0], key_hashes[0], a.sample_first + a.sample_count - 1)
    lines += body
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    missing = [x for x in ("imei", "organization id", "API-key hash") if x not in seen]
    emit(a, {"kind": "script", "label": a.label, "statements": len(call),
             "replaced": seen, "missing": missing,
             "shapes": [bt.shape(s) for s, _ in call]})
    if missing:
        sys.stderr.write("wipe_bench: the captured call never sent %s as a parameter: the "
                         "script may repeat a key (see %s)\n" % (", ".join(missing), a.out))
    return 0


# -- grpc_load's input and its run ---------------------------------------------------------


def cmd_bodies(a):
    """grpc_load's input for one run: the requests of devices
    first..first+count-1 (bench_tool.write_bodies); and the wipers' API
    keys (grpc_load's connection i uses key i mod n)."""
    with open(a.orgs) as f:
        wipers = json.load(f)["wipers"]
    now = time.time()
    n, size = bt.write_bodies(a.out, (wipe_request(n, now)
                                      for n in range(a.first, a.first + a.count)))
    if a.keys_out:
        bt.write_keys(a.keys_out, wipers)
    sys.stderr.write("wipe_bench: %d requests, %.0f bytes each on average\n"
                     % (n, size / max(n, 1)))
    return 0


def stored(pg):
    """(wipe_records, certificates, refused records) now."""
    r = pg.query("SELECT (SELECT count(*) FROM wipe_records), (SELECT count(*) FROM certificates), "
                 "(SELECT count(*) FROM wipe_records WHERE refused_reason <> '')")[0]
    return tuple(int(x) for x in r)


def cmd_cload(a):
    """SubmitWipe with grpc_load (bench_tool.grpc_load), and the rows stored
    during the whole run (warm-up and late calls included) against the
    requests it sent."""
    pg = Pg(a.pg) if a.pg else None
    s0 = stored(pg) if pg else None
    rec = bt.grpc_load(a, WIPE + "SubmitWipe", "wipe_bench", registryd_digits=1)
    if rec is None:
        return 1
    s1 = stored(pg) if pg else None
    if pg:
        pg.close()
    sent = bt.count_bodies(a.bodies) - rec["bodies_left"]
    st = None
    if s0 and s1:
        st = {"records": s1[0] - s0[0], "certificates": s1[1] - s0[1], "refused": s1[2] - s0[2],
              "sent": sent}
    rec["stored"] = st
    emit(a, rec)
    ok = bt.grpc_load_ok("wipe_bench", rec, "raise --max-rate")
    bad_rows = st and (st["records"] != sent or st["certificates"] != sent or st["refused"])
    if bad_rows:
        sys.stderr.write("wipe_bench: %d requests sent, %d records, %d certificates, %d refused\n"
                         % (sent, st["records"], st["certificates"], st["refused"]))
    return 0 if ok and not bad_rows else 1


# -- statement time per call ---------------------------------------------------------------

_BACKGROUND = ("events_pending", "log_entries", "log_tiles", "log_state", "log_checkpoints",
               "pg_stat_statements")


def cmd_sqltime(a):
    """PostgreSQL's execution time per call of a run (since the last
    pg_stat_statements_reset): every statement but the log's own (the
    sequencer and checkpointer: events_pending, log_* tables) over the
    calls of INSERT INTO wipe_records — one per SubmitWipe or pgbench
    transaction, warm-up included. Execution only: parse, plan, the
    protocol and the commit's WAL flush are not in it."""
    pg = Pg(a.pg)
    rows = pg.query("SELECT calls, total_exec_time, query FROM pg_stat_statements WHERE dbid = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())")
    pg.close()
    calls, total, bg = 0, 0.0, 0.0
    for c, t, q in rows:
        if any(x in q for x in _BACKGROUND):
            bg += float(t)
            continue
        total += float(t)
        if "INSERT INTO wipe_records" in q:
            calls += int(c)
    emit(a, {"kind": "sqltime", "label": a.label, "run": a.run, "calls": calls,
             "exec_ms_per_call": round(total / calls, 3) if calls else None,
             "log_ms": round(bg, 1)})
    return 0


# -- the cost of signing -------------------------------------------------------------------


def cmd_signcost(a):
    """bench_tool.sign_costs over WIPE_CERT_CONTEXT and a real certificate
    body (the last sample call's): what keystore_sign costs besides its
    SELECT — the signature and the key unwrap."""
    with open(a.samples) as f:
        calls = json.load(f)["calls"]
    rec = bt.sign_costs(CONTEXT, bytes.fromhex(calls[-1]["body"]), a.iterations)
    rec.update(kind="signcost", label=a.label)
    emit(a, rec)
    return 0


# -- perf (the optional cross-check) ----------------------------------------------------------


def cmd_perfsum(a):
    """libsodium's share of registryd's samples in a perf.data, and the top
    symbols (perf report --sort dso,sym)."""
    r = subprocess.run(["perf", "report", "-i", a.data, "--no-children", "--sort", "dso",
                        "--stdio", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    dsos = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)", line)
        if m:
            dsos[m.group(2)] = float(m.group(1))
    r2 = subprocess.run(["perf", "report", "-i", a.data, "--no-children", "--sort", "dso,sym",
                         "--stdio", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    syms = []
    for line in r2.stdout.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[.\]\s+(.*)$", line)
        if m:
            syms.append([float(m.group(1)), m.group(2), m.group(3).strip()])
    with open(a.out, "w") as f:
        f.write(r.stdout + "\n" + r2.stdout)
    sodium_pct = sum(v for k, v in dsos.items() if "libsodium" in k)
    emit(a, {"kind": "perf", "label": a.label, "libsodium_pct": round(sodium_pct, 1),
             "dsos": dict(sorted(dsos.items(), key=lambda kv: -kv[1])[:8]),
             "top": syms[:15], "calls_per_s": a.calls_per_s})
    return 0


# -- the table ---------------------------------------------------------------------------------


def cmd_report(a):
    recs = bt.read_results(a.results)
    out = []
    w = out.append
    g = [r for r in recs if r["kind"] == "grpc" and r["label"] != "perf"]
    p = [r for r in recs if r["kind"] == "pgbench"]
    sc = [r for r in recs if r["kind"] == "signcost"]
    # the cost of one operation: the mean of the measurements (before and
    # after the rounds)
    mean = lambda k: (sum(r[k] for r in sc if r.get(k) is not None)  # noqa: E731
                      / max(1, sum(1 for r in sc if r.get(k) is not None)))
    sign_us = mean("sign_us") if sc else None
    if g or p:
        w("### SubmitWipe: registryd against pgbench running the same statements")
        w("")
        w("ratio: the gRPC run's calls/s ÷ the best pgbench tps of the same round (goal ≥ 80 %); "
          "CPU in % of one core over the measured window, and in ms per call")
        w("")
        sqlt = {(r["label"], r["run"]): r["exec_ms_per_call"] for r in recs
                if r["kind"] == "sqltime"}

        def sql_ms(rnd, r):
            run = "grpc" if r["kind"] == "grpc" else "pgbench-c%d" % r["clients"]
            return fmt(sqlt.get((rnd, run)), 2)
        bt.ratio_note(w, bt.rounds_table(w, g, p, ("SQL exec ms/call", sql_ms),
                                         cpu="%.0f %% / %.0f %% / %.1f %%",
                                         per_call="%.3f / %.2f / %.3f"))
        w("")
        w("SQL exec ms/call: pg_stat_statements' execution time of the call's statements (the "
          "log's own excluded) per INSERT INTO wipe_records, warm-up included; registryd's CPU "
          "user / system: %s" % "; ".join(
              "%s %.1f / %.1f s" % ((r["label"],) + tuple(r["registryd_user_sys_s"]))
              for r in g if r.get("registryd_user_sys_s")))
        for r in g:
            st = r.get("stored")
            if st:
                ok = (st["records"] == st["sent"] == st["certificates"] and not st["refused"])
                w("")
                w("%s: %d requests sent (warm-up and late calls included), %d wipe records, "
                  "%d certificates, %d refused%s" % (
                      r["label"], st["sent"], st["records"], st["certificates"], st["refused"],
                      "" if ok else " **(mismatch)**"))
            bt.ran_out_note(w, r)
    if sc:
        s = sc[-1]
        w("")
        w("### The share of registryd's CPU spent signing")
        w("")
        w("CPU per operation (libsodium.so.23, the library registryd links, through ctypes; "
          "%d × %d calls each, median, the %.2f µs of a ctypes call subtracted), measured %s:" % (
              s["repeats"], s["iterations"], s["ctypes_call_us"],
              " and ".join(r["label"] or "once" for r in sc)))
        w("")
        w("| operation | %s | mean |" % " | ".join(r["label"] or "-" for r in sc))
        w("|---|%s---:|" % ("---:|" * len(sc)))
        for k, what in (("sign_us", "Ed25519 signature over %d bytes (the context and a real "
                                    "%d-byte certificate body)" % (s["signed_len"], s["body_len"])),
                        ("unwrap_us", "key unwrap (KDF + XChaCha20-Poly1305 open of the 64-byte "
                                      "secret key, every call in keystore_sign)")):
            w("| %s | %s | **%.1f µs** |" % (what, " | ".join(
                "%s µs" % fmt(r[k], 1) if r.get(k) is not None else "-" for r in sc), mean(k)))
        keyh = mean("unwrap_us")
        w("")
        w("| round | calls/s | registryd CPU per call | signing | share | sign + unwrap "
          "(%.1f µs) |" % (sign_us + keyh))
        w("|---|---:|---:|---:|---:|---:|")
        shares = []
        for r in g:
            rate = r["calls_per_s"] or 0
            cpu = r["cpu_pct"]["registryd"]
            if not rate or cpu is None:
                continue
            per_call_us = cpu * 1e4 / rate
            share = sign_us / per_call_us
            shares.append(share)
            w("| %s | %s | %.0f µs | %.1f µs | **%.1f %%** | %.1f %% |" % (
                r["label"], fmt(rate, 1), per_call_us, sign_us, share * 100,
                (sign_us + keyh) / per_call_us * 100))
        if shares:
            w("")
            w("signing = %.1f µs of %s µs registryd CPU per call (%s)" % (
                sign_us, " / ".join("%.0f" % (sign_us / x) for x in shares),
                " / ".join("%.1f %%" % (x * 100) for x in shares)))
    pf = [r for r in recs if r["kind"] == "perf"]
    for r in pf:
        w("")
        w("perf cross-check (%s, %s calls/s): libsodium %.1f %% of registryd's samples — an upper "
          "bound for the signature itself (libsodium's code also does the blind indexes, the PII "
          "sealing, key unwraps, random ids, hex decoding); by DSO: %s" % (
              r["label"], fmt(r.get("calls_per_s"), 1), r["libsodium_pct"],
              ", ".join("%s %.1f %%" % kv for kv in
                        sorted(r["dsos"].items(), key=lambda kv: -kv[1]))))
    bt.shapes_table(w, recs, "SubmitWipe")
    print("\n".join(out))
    return 0


COMMANDS = {
    "orgs": (cmd_orgs, "--addr!", "--admin-key!", "--count:int=4", "--out!"),
    "sample": (cmd_sample, "--addr!", "--orgs!", "--first:int!", "--count:int=5", "--out!"),
    "capture": (cmd_capture,) + bt.CAPTURE,
    "script": (cmd_script,) + bt.SCRIPT,
    "bodies": (cmd_bodies, "--orgs!", "--first:int!", "--count:int!", "--out!", "--keys-out"),
    "cload": (cmd_cload,) + bt.CLOAD + (("--pg", {"help": "count the rows stored during the run"}),),
    "pgbench": bt.PGBENCH,
    "sqltime": (cmd_sqltime, "--pg!", ("--run", {"required": True, "help": "grpc, pgbench-c32, …"}),
                "--label="),
    "signcost": (cmd_signcost, "--samples!", "--iterations:int=20000", "--label="),
    "perfsum": (cmd_perfsum, "--data!", "--out!", "--calls-per-s:float", "--label="),
}


if __name__ == "__main__":
    sys.exit(bt.bench_main(__doc__, COMMANDS, cmd_report))
