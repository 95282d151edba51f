"""Helpers of tests/bench/invoice_bench.sh, the IssueReverseInvoice benchmark
(Debian's /usr/bin/python3; PYTHONPATH must hold the protoc --python_out
modules of proto/). Each measuring command appends one JSON line to
--results; `report` turns that file into the table.

  orgs      --addr A --admin-key K    the RECYCLER organizations (COUNT for
                                      part a, one more for part b), each
                                      with a REVERSE_INVOICE qualification
                                      valid today and one invoice already
                                      issued (so every issuer has its
                                      registry number) → JSON
  sample    --addr A --orgs F         a few serial IssueReverseInvoice calls
                                      of the first recycler (to be
                                      captured), each checked: numbers,
                                      amounts, taxes, and a signature that
                                      verifies with the INVOICE key of
                                      ListSigningKeys → JSON (the bodies)
  capture   --log F --offset B        the statements those calls issued
                                      (PostgreSQL's log_statement=all log)
  script    --captured F --orgs F     the pgbench script: the same
                                      statements, per-call values made from
                                      pgbench variables (--group recyclers:
                                      client i on recycler i mod COUNT;
                                      --group single: every client on the
                                      part-b recycler)
  bodies    --orgs F --group G        the requests of one run, serialized
                                      for grpc_load, and its key file
  cload     --client B --bodies F     IssueReverseInvoice with grpc_load:
                                      calls/s, p50/p99, codes, CPU; then
                                      the invoices stored against the
                                      requests sent, and every issuer's
                                      numbers contiguous
  pgbench   --pg C --script F         pgbench -M prepared (bench_tool.py's),
                                      then the same checks against the
                                      transactions it counted
  sqltime   --pg C --run R            statement time per call, and the
                                      counter upsert's (its wait for the
                                      issuer's counter row)
  signcost  --samples F               the CPU cost of one Ed25519 signature
                                      over a real invoice body, and of the
                                      key unwrap keystore_sign does per call
  pgstat    --pg C                    the top statements of pg_stat_statements
  report    RESULTS                   the table

Every request is a blue reverse invoice of two lines (scrap steel, and
cardboard; quantities drawn at random, amounts half-up) to a seller drawn
uniformly from a pool of SELLERS natural persons (valid GB 11643 resident
ID numbers), always with seller_consent (required on the first invoice per
(issuer, seller), accepted afterwards), issued today.
"""

import datetime
import json
import random
import re
import statistics
import sys
import time
import uuid

import bench_tool as bt
from bench_tool import Pg, channel, create_org, emit, fmt, md, unary

INVOICE = "/registry.v1.InvoiceService/"
ORG = "/registry.v1.OrgService/"
LOG = "/registry.v1.LogService/"
CONTEXT = b"registry.v1.ReverseInvoice\n"   # services/invoice/invoice_sig.c
USCC_BASE = 7200000     # make_uscc bodies (wipe_bench: 7100000 + …; listing_bench: < 100000)
CST = datetime.timezone(datetime.timedelta(hours=8))
PRIME_BASE = 2000000    # the sellers of the issuers' first invoices (outside every pool)
SAMPLE_BASE = 3000000   # the sample calls' sellers (ditto)

# -- sellers (GB 11643-1999: 6-digit area, birth date, 3-digit sequence, check) ------------

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check(first17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _W)) % 11]


def id_ok(s):
    """ident_resident_id_check's checksum (services/core/ident.c)."""
    s = s.upper()
    return len(s) == 18 and s[:17].isdigit() and id_check(s[:17]) == s[17]


def id_number(k):
    """Seller k's resident ID (area 140302, Yangquan): born 1950-01-01 plus
    17 × (k // 1000) days modulo 18,000 (1950 to 1999), sequence k % 1000 —
    distinct for k below 18,000,000."""
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=(k // 1000) * 17 % 18000)
    first17 = "140302" + born.strftime("%Y%m%d") + "%03d" % (k % 1000)
    return first17 + id_check(first17)


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国红玉梅秀"


def seller(k):
    from registry.v1 import common_pb2
    name = SURNAMES[k % 20] + GIVEN[(k // 20) % len(GIVEN)] + (GIVEN[(k // 600) % len(GIVEN)] if k % 3 else "")
    return common_pb2.Person(name=name, id_number=id_number(k), phone="139%08d" % (k % 10 ** 8))


def check_rules():
    ids = bt.identifiers()
    if not (all(id_ok(v) for v in ids["id_number_valid"])
            and not any(id_ok(v) for v in ids.get("id_number_bad", []) if len(v) == 18
                        and v[:17].isdigit())):
        sys.exit("invoice_bench: the GB 11643 rule does not match tests/data/identifiers.json")
    if not all(id_ok(id_number(k)) for k in (0, 1, 999, 1000, 123456, 17999999)):
        sys.exit("invoice_bench: a generated resident ID fails its own check")


# -- the request ----------------------------------------------------------------------------


def half_up(n, d):
    """n / d rounded half away from zero (SPEC §4.5), exact."""
    q, r = divmod(abs(n), d)
    if 2 * r >= d:
        q += 1
    return q if n >= 0 else -q


STEEL_FEN_PER_KG, PAPER_FEN_PER_KG = 283, 147


def invoice_lines(rnd):
    """Scrap steel 20–400 kg at 2.83 CNY/kg and cardboard 5–120 kg at 1.47
    CNY/kg, quantities in grams (milli-kg): at most ~1,310 CNY an invoice."""
    from registry.v1 import invoice_pb2 as I
    out = []
    for cat, desc, lo, hi, price in (
            (I.INVOICE_CATEGORY_SCRAP_METAL, "废钢 (scrap steel)", 20000, 400000, STEEL_FEN_PER_KG),
            (I.INVOICE_CATEGORY_SCRAP_PAPER, "废纸 (cardboard)", 5000, 120000, PAPER_FEN_PER_KG)):
        q = rnd.randrange(lo, hi)
        out.append(I.InvoiceLine(category=cat, description=desc, quantity_milli=q,
                                 unit=I.QUANTITY_UNIT_KG, unit_price_fen=price,
                                 amount_fen=half_up(q * price, 1000)))
    return out


def issue_request(k, rnd, now):
    """IssueReverseInvoice to seller k, always with the seller's consent."""
    from google.protobuf import timestamp_pb2
    from registry.v1 import invoice_pb2 as I
    return I.IssueReverseInvoiceRequest(
        request_id=str(uuid.uuid4()), seller=seller(k),
        seller_consent=I.SellerConsent(consented_at=timestamp_pb2.Timestamp(seconds=int(now) - 600),
                                       channel="counter"),
        lines=invoice_lines(rnd), issued_on="")


# -- checking one answer ---------------------------------------------------------------------

NUMBER_RE = re.compile(r"^(\d{2})14(\d)(\d{6})(\d{9})$")


def check_invoice(req, inv, certkeys, issuer_id):
    """What the answer must be for this request → (issuer number, sequence);
    exits on anything wrong."""
    from registry.v1 import invoice_pb2 as I
    m = NUMBER_RE.match(inv.invoice_number)
    if not m or m.group(1) != "%02d" % (datetime.datetime.now(CST).year % 100):
        sys.exit("invoice_bench: bad invoice number %r" % inv.invoice_number)
    amount = sum(ln.amount_fen for ln in req.lines)
    want = (I.INVOICE_KIND_BLUE, issuer_id, amount, 0, 0, 50, half_up(amount * 50, 10000), amount,
            req.seller.id_number)
    got = (inv.kind, inv.issuer_id, inv.amount_fen, inv.vat_rate_bp, inv.vat_fen,
           inv.income_tax_rate_bp, inv.income_tax_fen, inv.total_fen, inv.seller.id_number)
    if got != want:
        sys.exit("invoice_bench: invoice %s: (kind, issuer, amount, VAT bp, VAT, income bp, "
                 "income tax, total, seller) %r, expected %r" % (inv.id, got, want))
    pk = certkeys.get(inv.key_id)
    if pk is None or not _sodium().crypto_sign_verify_detached(
            inv.signature, CONTEXT + inv.body, len(CONTEXT) + len(inv.body), pk) == 0:
        sys.exit("invoice_bench: invoice %s: the signature does not verify with the INVOICE key "
                 "%s of ListSigningKeys" % (inv.id, inv.key_id))
    b = I.ReverseInvoiceBody.FromString(inv.body)
    if (b.invoice_id != inv.id or b.invoice_number != inv.invoice_number
            or len(b.seller_ref) != 32 or b.seller_id_number_masked == req.seller.id_number
            or [ln.amount_fen for ln in b.lines] != [ln.amount_fen for ln in req.lines]):
        sys.exit("invoice_bench: invoice %s: the signed body does not match" % inv.id)
    return int(m.group(3)), int(m.group(4))


_LIB = []


def _sodium():
    if not _LIB:
        _LIB.append(bt.sodium())
    return _LIB[0]


def invoice_keys(ch):
    from registry.v1 import log_pb2
    keys = unary(ch, LOG + "ListSigningKeys", log_pb2.ListSigningKeysRequest,
                 log_pb2.ListSigningKeysResponse)(log_pb2.ListSigningKeysRequest(), timeout=10)
    return {k.key_id: k.public_key for k in keys.keys if k.purpose == log_pb2.KEY_PURPOSE_INVOICE}


def issue_call(ch):
    from registry.v1 import invoice_pb2 as I
    return unary(ch, INVOICE + "IssueReverseInvoice", I.IssueReverseInvoiceRequest,
                 I.IssueReverseInvoiceResponse)


# -- organizations ---------------------------------------------------------------------------


def cmd_orgs(a):
    """COUNT recyclers for part a and one for part b, each qualified
    (REVERSE_INVOICE) and with its first invoice issued, so that no measured
    call takes the first-invoice path (the registry-wide advisory lock and
    the INSERT of the issuer's number)."""
    from registry.v1 import common_pb2, org_pb2
    check_rules()
    ch = channel(a.addr)
    qual = unary(ch, ORG + "SetQualification", org_pb2.SetQualificationRequest,
                 org_pb2.SetQualificationResponse)
    issue = issue_call(ch)
    certkeys = invoice_keys(ch)
    today = datetime.datetime.now(CST).date()
    salt = random.randrange(1000)
    out = {"recyclers": [], "single": [], "sellers": a.sellers}
    now = time.time()
    rnd = random.Random(1)
    for i in range(a.count + 1):
        part_b = i == a.count
        org_id, key = create_org(ch, a.admin_key, common_pb2.ROLE_RECYCLER,
                                 "Bench recycler %s" % ("B" if part_b else i),
                                 USCC_BASE + salt * 100 + i)
        q = qual(org_pb2.SetQualificationRequest(
            request_id=str(uuid.uuid4()), organization_id=org_id,
            kind=org_pb2.QUALIFICATION_KIND_REVERSE_INVOICE, certificate_no="RI-BENCH-%04d" % i,
            valid_from=(today - datetime.timedelta(days=365)).isoformat(),
            valid_until=(today + datetime.timedelta(days=365)).isoformat()),
            metadata=md(a.admin_key), timeout=15)
        if not any(x.kind == org_pb2.QUALIFICATION_KIND_REVERSE_INVOICE
                   for x in q.organization.qualifications):
            sys.exit("invoice_bench: SetQualification did not record REVERSE_INVOICE")
        req = issue_request(PRIME_BASE + i, rnd, now)
        r = issue(req, metadata=md(key), timeout=30)
        no, seq = check_invoice(req, r.invoice, certkeys, org_id)
        if seq != 1:
            sys.exit("invoice_bench: the first invoice of %s has sequence %d" % (org_id, seq))
        out["single" if part_b else "recyclers"].append({"id": org_id, "key": key,
                                                         "issuer_no": no})
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    ch.close()


# -- the sample calls ------------------------------------------------------------------------


def cmd_sample(a):
    """Serial calls of the first recycler: to sellers s0, s0, s1, s1, s2, …
    (SAMPLE_BASE + first + j), so that calls alternate between a first
    invoice to the seller (seller_consents INSERTed) and a later one (not):
    the last call, the one the script is made of, is always a first. Each
    is checked (check_invoice), and the sequence numbers must follow one
    another."""
    check_rules()
    with open(a.orgs) as f:
        org = json.load(f)["recyclers"][0]
    ch = channel(a.addr)
    call = issue_call(ch)
    certkeys = invoice_keys(ch)
    rnd = random.Random(2)
    now = time.time()
    out = {"calls": []}
    last = None
    js = [j // 2 for j in range(a.count)] if a.count % 2 else [(j + 1) // 2 for j in range(a.count)]
    for j in js:
        k = SAMPLE_BASE + a.first + j
        req = issue_request(k, rnd, now)
        t0 = time.perf_counter()
        r = call(req, metadata=md(org["key"]), timeout=30)
        ms = (time.perf_counter() - t0) * 1000
        no, seq = check_invoice(req, r.invoice, certkeys, org["id"])
        if no != org["issuer_no"] or (last is not None and seq != last + 1):
            sys.exit("invoice_bench: invoice %s: number %s after sequence %s"
                     % (r.invoice.id, r.invoice.invoice_number, last))
        last = seq
        out["calls"].append({"seller": k, "invoice_id": r.invoice.id,
                             "invoice_number": r.invoice.invoice_number, "ms": round(ms, 2),
                             "request_bytes": len(req.SerializeToString()),
                             "body_len": len(r.invoice.body), "body": r.invoice.body.hex()})
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    ch.close()


# -- the statements of one call ---------------------------------------------------------

def cmd_capture(a):
    """The calls in the log (bench_tool.capture): to the COMMIT after
    INSERT INTO invoices."""
    bt.capture(a, "INSERT INTO invoices (", "IssueReverseInvoice", "invoice_bench")


# -- the pgbench script ---------------------------------------------------------------------

SCRIPT_DOC = """-- One IssueReverseInvoice as registryd issued it (captured with
-- log_statement=all by invoice_bench.sh; invoice_bench.py `capture`, then
-- `script`): the same statements in the same order, each parameter the
-- literal the server sent, except those that differ from call to call,
-- made from pgbench variables:
--   :s          the seller, uniform over the pool (as the gRPC load's);
--               seller_ref = sha256('S' || s) stands for the server's keyed
--               blind index
--   :consented  whether (issuer, seller) already has a consent row (the
--               server's SELECT, its result kept with \\aset): the consent
--               INSERT runs only when not, as in the server
--   :issuer_no, :last_seq  the issuer's number and the counter's new value
--               (\\gset of the server's own SELECT and upsert): the invoice
--               number is made of them as the server makes it, so pgbench's
--               numbers are gap-free too
--   :org, :keyhash  the client's recycler and its API-key hash, set once
--               per client by its first transaction
--   :run, :k    request ids and every generated id (invoice, events:
--               prefix_ + 24 hex digits), unique per transaction, the same
--               id wherever the call repeated it
-- What registryd computes in C (the sealed seller, the signed body and its
-- signature, the leaf, the recorded response, times) stays the captured
-- bytes."""

_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")
_ID = re.compile(r"'([a-z]{3})_[0-9a-f]{24}'")
_NUMBER = re.compile(r"'(\d{5})\d{15}'")


def render_call(call, org_id, key_hash, pool):
    """The pgbench lines for one captured call (list of (stmt, {n: literal}))
    and what was replaced ({kind: count}); exits when the call lacks a
    statement the script depends on."""
    uniq = "(:run)::text || '/' || (:client_id)::text || '/' || (:k)::text"
    ref = number = None
    for stmt, params in call:
        if "pg_advisory_xact_lock($1::int4, hashtext(encode($2" in stmt:
            ref = params.get("2")
        if stmt.startswith("INSERT INTO invoices ("):
            number = params.get("2")
    need = {"the seller lock": ref, "the invoice number": number}
    for what, stmt in (("the consent SELECT", "SELECT 1 FROM seller_consents"),
                       ("the consent INSERT", "INSERT INTO seller_consents"),
                       ("the issuer-number SELECT", "SELECT issuer_no FROM invoice_issuers"),
                       ("the counter upsert", "INSERT INTO invoice_counters")):
        need[what] = any(s.startswith(stmt) for s, _ in call) or None
    missing = [k for k, v in need.items() if v is None]
    if missing or not _NUMBER.fullmatch(number or ""):
        sys.exit("invoice_bench: the captured call has no %s (see captured.sql)"
                 % ", ".join(missing or ["20-digit invoice number"]))
    subst = {
        ref: ("seller_ref", "sha256(('S' || (:s)::text)::bytea)"),
        number: ("invoice number", "('%s' || lpad((:issuer_no)::text, 6, '0') || "
                 "lpad((:last_seq)::text, 9, '0'))" % _NUMBER.fullmatch(number).group(1)),
        "'%s'" % org_id: ("organization id", ":org"),
        "'\\x%s'" % key_hash: ("API-key hash", ":keyhash"),
    }
    ids, seen = {}, {}
    lines = ["\\set s random(0, %d)" % (pool - 1)]
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
        sql = re.sub(r"\$(\d+)\b", lambda m: expr(int(m.group(1))), stmt)
        if stmt.startswith("SELECT 1 FROM seller_consents"):
            lines += ["\\set consented 0",
                      sql.replace("SELECT 1 FROM", "SELECT 1 AS consented FROM", 1) + " \\aset"]
        elif stmt.startswith("INSERT INTO seller_consents"):
            lines += ["\\if :consented = 0", sql + ";", "\\endif"]
        elif stmt.startswith(("SELECT issuer_no FROM invoice_issuers",
                              "INSERT INTO invoice_counters")):
            lines.append(sql + " \\gset")
        else:
            lines.append(sql + ";")
    return lines, seen


def cmd_script(a):
    call, sample_orgs, sample_hashes = bt.script_inputs(a, "recyclers")
    _, org_ids, key_hashes = bt.script_inputs(a, a.group)
    with open(a.orgs) as f:
        pool = json.load(f)["sellers"]
    body, seen = render_call(call, sample_orgs[0], sample_hashes[0], pool)
    lines = bt.script_head(SCRIPT_DOC, org_ids, key_hashes) + body
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    missing = [x for x in ("seller_ref", "invoice number", "organization id", "API-key hash")
               if x not in seen]
    emit(a, {"kind": "script", "label": a.label, "group": a.group, "issuers": len(org_ids),
             "statements": len(call), "replaced": seen, "missing": missing,
             "shapes": [bt.shape(s) for s, _ in call]})
    if missing:
        sys.stderr.write("invoice_bench: the captured call never sent %s as a parameter (see %s)\n"
                         % (", ".join(missing), a.out))
        return 1
    return 0


# -- grpc_load's input and its run ---------------------------------------------------------


def cmd_bodies(a):
    """grpc_load's input for one run: COUNT requests, sellers drawn from the
    pool with random.Random(seed); and the API keys of the group's
    recyclers (grpc_load's connection i uses key i mod their number)."""
    with open(a.orgs) as f:
        orgs = json.load(f)
    rnd = random.Random(a.seed)
    now = time.time()
    pool = orgs["sellers"]
    n, size = bt.write_bodies(a.out, (issue_request(rnd.randrange(pool), rnd, now)
                                      for _ in range(a.count)))
    bt.write_keys(a.keys_out, orgs[a.group])
    sys.stderr.write("invoice_bench: %d requests, %.0f bytes each on average, %d issuer(s)\n"
                     % (n, size / max(n, 1), len(orgs[a.group])))
    return 0


def invoice_count(pg):
    return int(pg.scalar("SELECT count(*) FROM invoices"))


def numbering(pg):
    """Every issuer's numbers this year: contiguous from 1 to its counter's
    last_seq, each once, with the issuer's own registry number in them →
    (issuers, problems)."""
    rows = pg.query(
        "SELECT c.issuer_id, c.last_seq, ii.issuer_no, count(i.id), "
        "coalesce(min(right(i.invoice_number, 9)::int8), 0), "
        "coalesce(max(right(i.invoice_number, 9)::int8), 0), "
        "count(DISTINCT right(i.invoice_number, 9)), "
        "count(i.id) FILTER (WHERE substr(i.invoice_number, 6, 6)::int <> ii.issuer_no) "
        "FROM invoice_counters c JOIN invoice_issuers ii USING (issuer_id) "
        "LEFT JOIN invoices i ON i.issuer_id = c.issuer_id "
        "AND extract(year FROM i.issued_on) = c.year GROUP BY 1, 2, 3 ORDER BY 1")
    problems = []
    for issuer, last, no, n, lo, hi, distinct, foreign in rows:
        last, n, lo, hi, distinct, foreign = map(int, (last, n, lo, hi, distinct, foreign))
        if not (n == distinct == hi == last and lo == 1 and not foreign):
            problems.append("%s (no. %s): %d invoices, sequences %d..%d (%d distinct), counter %d, "
                            "%d with another issuer number" % (issuer, no, n, lo, hi, distinct,
                                                               last, foreign))
    return len(rows), problems


def check_rows(a, run, sent, before, pg):
    """The `check` record of a run: invoices stored during it against the
    calls or transactions it counted, every issuer's numbers contiguous."""
    after = invoice_count(pg)
    issuers, problems = numbering(pg)
    ok = after - before == sent and not problems
    emit(a, {"kind": "check", "label": a.label, "run": run, "sent": sent,
             "invoices": after - before, "issuers": issuers, "problems": problems[:5], "ok": ok})
    if not ok:
        sys.stderr.write("invoice_bench: %s %s: %d sent, %d new invoices; %s\n"
                         % (a.label, run, sent, after - before, "; ".join(problems[:3]) or
                            "numbers contiguous"))
    return ok


def cmd_cload(a):
    """IssueReverseInvoice with grpc_load (bench_tool.grpc_load); then the
    invoices stored during the whole run (warm-up and late calls included)
    against the requests it sent, and the numbering."""
    pg = Pg(a.pg)
    before = invoice_count(pg)
    rec = bt.grpc_load(a, INVOICE + "IssueReverseInvoice", "invoice_bench", registryd_digits=1)
    if rec is None:
        return 1
    emit(a, rec)
    ok = bt.grpc_load_ok("invoice_bench", rec, "raise --max-rate")
    sent = bt.count_bodies(a.bodies) - rec["bodies_left"]
    rows_ok = check_rows(a, "grpc", sent, before, pg)
    pg.close()
    return 0 if ok and rows_ok else 1


def cmd_pgbench(a):
    """bench_tool's pgbench run, then its transactions against the invoices
    stored, and the numbering."""
    pg = Pg(a.pg)
    before = invoice_count(pg)
    rc = bt.cmd_pgbench(a)
    rec = [r for r in bt.read_results(a.results) if r["kind"] == "pgbench"][-1]
    rows_ok = check_rows(a, "pgbench-c%d" % a.clients, rec["transactions"] or 0, before, pg)
    pg.close()
    return rc or (0 if rows_ok else 1)


# -- statement time per call ---------------------------------------------------------------

_BACKGROUND = ("events_pending", "log_entries", "log_tiles", "log_state", "log_checkpoints",
               "pg_stat_statements")


_OURS = ("FROM invoice_counters c JOIN", "SELECT count(*) FROM invoices")  # check_rows' own


def cmd_sqltime(a):
    """Since the last pg_stat_statements_reset: the execution time of every
    statement but the log's own (sequencer, checkpointer) over the calls of
    INSERT INTO invoices — one per call or pgbench transaction, warm-up
    included; and the mean time of the counter upsert (INSERT INTO
    invoice_counters … ON CONFLICT DO UPDATE), which includes its wait for
    the issuer's counter row, and of the seller's advisory lock.
    Execution only: parse, plan, the protocol and the commit's WAL flush
    are not in it."""
    pg = Pg(a.pg)
    rows = pg.query("SELECT calls, total_exec_time, query FROM pg_stat_statements WHERE dbid = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())")
    syncs = int(pg.scalar("SELECT wal_sync FROM pg_stat_wal"))
    pg.query("SELECT pg_stat_reset_shared('wal')")
    pg.close()
    calls, total, bg = 0, 0.0, 0.0
    counter = [0, 0.0]
    lock = [0, 0.0]
    for c, t, q in rows:
        c, t = int(c), float(t)
        if any(x in q for x in _OURS):
            continue
        if any(x in q for x in _BACKGROUND):
            bg += t
            continue
        total += t
        if q.startswith("INSERT INTO invoices ("):
            calls += c
        elif q.startswith("INSERT INTO invoice_counters"):
            counter[0] += c
            counter[1] += t
        elif "pg_advisory_xact_lock" in q and "hashtext(encode(" in q:
            lock[0] += c
            lock[1] += t
    emit(a, {"kind": "sqltime", "label": a.label, "run": a.run, "calls": calls,
             "exec_ms_per_call": round(total / calls, 3) if calls else None,
             "counter_ms": round(counter[1] / counter[0], 3) if counter[0] else None,
             "seller_lock_ms": round(lock[1] / lock[0], 3) if lock[0] else None,
             "wal_syncs": syncs, "wal_syncs_per_call": round(syncs / calls, 3) if calls else None,
             "log_ms": round(bg, 1)})
    return 0


# -- the cost of signing -------------------------------------------------------------------


def cmd_signcost(a):
    """bench_tool.sign_costs over the context and a real invoice body (the
    last sample call's)."""
    with open(a.samples) as f:
        calls = json.load(f)["calls"]
    rec = bt.sign_costs(CONTEXT, bytes.fromhex(calls[-1]["body"]), a.iterations)
    rec.update(kind="signcost", label=a.label)
    emit(a, rec)
    return 0


# -- the table ---------------------------------------------------------------------------------

PARTS = (("a", "(a) calls spread over the part-a recyclers"),
         ("b", "(b) every call from one recycler"))


def cmd_report(a):
    recs = bt.read_results(a.results)
    out = []
    w = out.append
    g_all = [r for r in recs if r["kind"] == "grpc"]
    p_all = [r for r in recs if r["kind"] == "pgbench"]
    sc = [r for r in recs if r["kind"] == "signcost"]
    sqlt = {(r["label"], r["run"]): r for r in recs if r["kind"] == "sqltime"}
    checks = [r for r in recs if r["kind"] == "check"]
    scripts = {r.get("group"): r for r in recs if r["kind"] == "script"}
    mean = lambda k: (sum(r[k] for r in sc if r.get(k) is not None)  # noqa: E731
                      / max(1, sum(1 for r in sc if r.get(k) is not None)))
    sign_us, unwrap_us = (mean("sign_us"), mean("unwrap_us")) if sc else (None, None)

    def run_of(r):
        return "grpc" if r["kind"] == "grpc" else "pgbench-c%d" % r["clients"]

    def sql_cell(rnd, r):
        s = sqlt.get((rnd, run_of(r)))
        if not s:
            return "-"
        return "%s (%s)" % (fmt(s["exec_ms_per_call"], 2), fmt(s["counter_ms"], 2))

    w("### IssueReverseInvoice: registryd against pgbench running the same statements")
    w("")
    w("ratio (last column): the gRPC run's calls/s ÷ the best pgbench tps of the same round and "
      "part; CPU in % of one core over the measured window, and in ms per call; SQL exec "
      "ms/call: pg_stat_statements' execution time of the call's statements (the log's own "
      "excluded) per INSERT INTO invoices, warm-up included, and in brackets the mean of the "
      "counter upsert (INSERT INTO invoice_counters … DO UPDATE), which includes its wait for "
      "the issuer's counter row")
    parts = {}
    for part, title in PARTS:
        g = [r for r in g_all if r["label"].endswith(part)]
        p = [r for r in p_all if r["label"].endswith(part)]
        if not (g or p):
            continue
        s = scripts.get("recyclers" if part == "a" else "single")
        w("")
        w("#### %s%s" % (title, " (%d issuer%s)" % (s["issuers"], "s" if s["issuers"] > 1 else "")
                          if s else ""))
        w("")
        bt.rounds_table(w, g, p, ("SQL exec ms/call (counter)", sql_cell),
                        cpu="%.0f %% / %.0f %% / %.1f %%", per_call="%.3f / %.2f / %.3f")
        for r in g:
            bt.ran_out_note(w, r)
        parts[part] = (g, p)
    if parts:
        med = statistics.median
        clients = sorted({r["clients"] for _, p in parts.values() for r in p}, reverse=True)

        def m(vals, f="%.1f"):
            vals = [v for v in vals if v is not None]
            return (f % med(vals)) if vals else "-"
        w("")
        w("#### (a) against (b), medians over the rounds")
        w("")
        w("ratio cN: the gRPC run's calls/s ÷ the tps of pgbench with N clients in the same round; "
          "ms per call: 1000 ÷ calls/s (in (b), the time one call holds the issuer's counter "
          "row); counter: the counter upsert's mean ms (its wait for the row); WAL flushes per "
          "call: pg_stat_wal's wal_sync over the INSERT INTO invoices of the run")
        w("")
        w("| part | run | calls/s or tps | p50 | p99 | %s | registryd CPU per call | ms per call "
          "| counter ms | WAL flushes per call |" % " | ".join("ratio c%d" % c for c in clients))
        w("|---|---|---:|---:|---:|%s---:|---:|---:|---:|" % ("---:|" * len(clients)))
        rates = {}
        for part, (g, p) in parts.items():
            byround = {r["label"]: r for r in g}
            runs = [("gRPC", g, "grpc")] + [("pgbench c%d" % c, [r for r in p if r["clients"] == c],
                                             "pgbench-c%d" % c) for c in clients]
            for name, rs, run in runs:
                if not rs:
                    continue
                rate = [r.get("calls_per_s", r.get("tps")) for r in rs]
                sq = [sqlt.get((r["label"], run)) or {} for r in rs]
                ratio_cells = []
                for c in clients:
                    if run != "grpc":
                        ratio_cells.append("")
                        continue
                    rr = [byround[r["label"]]["calls_per_s"] / r["tps"] for r in p
                          if r["clients"] == c and r["tps"] and r["label"] in byround]
                    ratio_cells.append(m([x * 100 for x in rr], "**%.0f %%**"))
                cpu = [r["cpu_pct"]["registryd"] * 1e4 / r["calls_per_s"] for r in rs
                       if run == "grpc" and r["calls_per_s"] and r["cpu_pct"]["registryd"]]
                rates[(part, run)] = med([x for x in rate if x]) if any(rate) else None
                w(bt.md_row([part, name, m(rate), m([r["p50_ms"] for r in rs], "%.1f ms"),
                             m([r["p99_ms"] for r in rs], "%.1f ms")] + ratio_cells + [
                             m(cpu, "%.0f µs"), m([1000 / x for x in rate if x], "%.2f"),
                             m([x.get("counter_ms") for x in sq], "%.2f"),
                             m([x.get("wal_syncs_per_call") for x in sq], "%.2f")]))
        runs = sorted({run for _, run in rates})
        if all((pt, run) in rates and rates[(pt, run)] for pt in ("a", "b") for run in runs):
            w("")
            w("(b) against (a): %s" % "; ".join(
                "%s %.1f× slower (%.1f against %.1f)" % (
                    run.replace("-", " "), rates[("a", run)] / rates[("b", run)],
                    rates[("b", run)], rates[("a", run)]) for run in runs))
    if checks:
        w("")
        w("#### Correctness after every run")
        w("")
        w("| round | run | calls or transactions counted | new invoices | issuers | numbers "
          "contiguous, each issuer's own | ok |")
        w("|---|---|---:|---:|---:|---|---|")
        for r in checks:
            w(bt.md_row([r["label"], r["run"], "%d" % r["sent"], "%d" % r["invoices"],
                         "%d" % r["issuers"], "yes" if not r["problems"] else
                         "**no**: " + "; ".join(r["problems"]),
                         "yes" if r["ok"] else "**NO**"]))
        w("")
        w("gRPC: requests grpc_load sent during the whole run (warm-up and late calls "
          "included); pgbench: the transactions it reports processed. Numbers: for every issuer, "
          "this year's sequences are exactly 1 … its counter's last_seq, once each, with its "
          "registry number (the gRPC runs and pgbench share the issuers and counters).")
    if sc:
        s = sc[-1]
        both = sign_us + unwrap_us
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
                                    "%d-byte invoice body)" % (s["signed_len"], s["body_len"])),
                        ("unwrap_us", "key unwrap (KDF + XChaCha20-Poly1305 open of the 64-byte "
                                      "secret key, every call in keystore_sign)")):
            w("| %s | %s | **%.1f µs** |" % (what, " | ".join(
                "%s µs" % fmt(r[k], 1) if r.get(k) is not None else "-" for r in sc), mean(k)))
        w("")
        w("| round | calls/s | registryd CPU per call | signing | share | sign + unwrap "
          "(%.1f µs) |" % both)
        w("|---|---:|---:|---:|---:|---:|")
        for r in g_all:
            rate = r["calls_per_s"] or 0
            cpu = r["cpu_pct"]["registryd"]
            if not rate or cpu is None:
                continue
            per_call_us = cpu * 1e4 / rate
            w("| %s | %s | %.0f µs | %.1f µs | **%.1f %%** | %.1f %% |" % (
                r["label"], fmt(rate, 1), per_call_us, sign_us, sign_us / per_call_us * 100,
                both / per_call_us * 100))
    bt.shapes_table(w, recs, "IssueReverseInvoice")
    print("\n".join(out))
    return 0


COMMANDS = {
    "orgs": (cmd_orgs, "--addr!", "--admin-key!", "--count:int=16", "--sellers:int=10000",
             "--out!"),
    "sample": (cmd_sample, "--addr!", "--orgs!", "--first:int=0", "--count:int=5", "--out!"),
    "capture": (cmd_capture,) + bt.CAPTURE,
    "script": (cmd_script,) + bt.SCRIPT + (("--group", {"default": "recyclers",
                                                        "choices": ["recyclers", "single"]}),),
    "bodies": (cmd_bodies, "--orgs!", ("--group", {"required": True,
                                                   "choices": ["recyclers", "single"]}),
               "--seed:int=0", "--count:int!", "--out!", "--keys-out!"),
    "cload": (cmd_cload,) + bt.CLOAD + ("--pg!",),
    "pgbench": (cmd_pgbench,) + bt.PGBENCH[1:],
    "sqltime": (cmd_sqltime, "--pg!", ("--run", {"required": True, "help": "grpc, pgbench-c32"}),
                "--label="),
    "signcost": (cmd_signcost, "--samples!", "--iterations:int=20000", "--label="),
}


if __name__ == "__main__":
    sys.exit(bt.bench_main(__doc__, COMMANDS, cmd_report))
