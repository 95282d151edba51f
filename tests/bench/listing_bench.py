"""Helpers of tests/bench/listing_bench.sh, the ListingService benchmark
(Debian's /usr/bin/python3; PYTHONPATH must hold the protoc --python_out
modules of proto/). Each measuring command appends one JSON line to
--results; `report` turns that file into the table.

  load      --pg C --count N          N vehicles with their listings, sales,
                                      odometer readings and history rows,
                                      COPYed straight into the tables
  orgs      --addr A --admin-key K    the platforms of the gRPC load (one per
                                      client thread) and an inspector → JSON
  grpc      --addr A --orgs F         CreateListing with P processes × T
                                      threads for S seconds, each call a
                                      generated item never listed by that
                                      platform: calls/s, p50/p99, codes,
                                      warnings, CPU of registryd, PostgreSQL
                                      and the clients
  bodies    --orgs F --out F          the CreateListing requests of the same
                                      load, serialized for grpc_load (each a
                                      4-byte big-endian length and the
                                      message), and its key file
  cload     --client B --bodies F     CreateListing with grpc_load (the C
                                      client, C connections × S streams): the
                                      same figures as `grpc`
  sample    --addr A --orgs F         a few serial CreateListing calls (to be
                                      captured)
  capture   --log F --offset B        the statements those calls issued
                                      (PostgreSQL's log_statement=all log)
  script    --captured F --orgs F     the pgbench script: the same statements,
                                      per-call values made from pgbench
                                      variables
  pgbench   --pg C --script F         pgbench -M prepared -c 32 with that
                                      script: tps, p50/p99, the same CPU
                                      figures
  history   --addr A --orgs F         GetItemHistory at random generated items
                                      by item_id and by VIN: p50/p99 with 1 and
                                      8 threads
  pgstat    --pg C                    the top statements of pg_stat_statements
  report    RESULTS                   the table

What is synthetic (the benchmark measures the SQL, not the data): every item
is a small or micro passenger car with a VIN valid by GB 16735's check digit;
sellers and buyers of generated listings and sales are random bytes of the
size a sealed Person has (they are never opened by the measured calls);
owners of sold items are businesses (stored in clear, so GetItemHistory
can return them); generated history rows name events that do not exist
(event_id set, no events row: the LEFT JOIN to the log index misses).
"""

import datetime
import hashlib
import json
import random
import re
import sys
import threading
import time
import uuid

import bench_tool as bt
from bench_tool import Pg, channel, cpu_s, create_org, emit, fmt, make_uscc, md, pct, unary
from pbwire import ld, varint  # tests/interop, on sys.path by bench_tool

LISTING = "/registry.v1.ListingService/"
GEN_PLATFORMS = 50          # synthetic platforms of the generated listings
GEN_DEALERS = 1000          # businesses owning the sold generated items

# -- identifiers (DOMAIN §5), checked against tests/data/identifiers.json ------------

_VIN_CH = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
_VIN_T = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
          **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
          **dict(zip("STUVWXYZ", range(2, 10)))}
_ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def vin_check(v):
    r = sum(_VIN_T[c] * w for c, w in zip(v, _VIN_W)) % 11
    return "X" if r == 10 else str(r)


def id_check(first17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_W)) % 11]


def check_rules():
    ids = bt.identifiers()
    vin_ok = lambda v: (len(v) == 17 and all(c in _VIN_CH for c in v)  # noqa: E731
                        and vin_check(v) == v[8])
    id_ok = lambda s: (len(s) == 18 and s[:17].isdigit()  # noqa: E731
                       and id_check(s[:17]) == s[17])
    if not (all(vin_ok(v) for v in ids["vin_valid"]) and not any(vin_ok(v) for v in ids["vin_bad"])
            and all(id_ok(v) for v in ids["id_number_valid"])):
        sys.exit("listing_bench: the VIN / resident ID rules do not match identifiers.json")


def item_id(n):
    return "itm_" + hashlib.md5(b"bench%d" % n).hexdigest()[:24]


def bench_vin(n):
    """The n-th generated VIN: WMI LBN (made up), positions 4-8 n in base 33
    (unique up to 39 million), the check digit, model year R, plant B, a
    6-digit serial."""
    vds = "".join(_VIN_CH[(n // 33 ** k) % 33] for k in range(4, -1, -1))
    body = "LBN" + vds + "0RB" + "%06d" % (n % 1000000)
    return body[:8] + vin_check(body) + body[9:]


def bench_id_number(n):
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n % 15000)
    first17 = "140302" + birth.strftime("%Y%m%d") + "%03d" % ((n // 15000) % 1000)
    return first17 + id_check(first17)


def mileage(n):
    return 5000 + (n * 7919) % 250000


# -- the generator -------------------------------------------------------------------------

MAKES = [("Volkswagen", "Lavida"), ("Toyota", "Corolla"), ("Honda", "Civic"), ("BYD", "Qin"),
         ("Geely", "Emgrand"), ("Nissan", "Sylphy"), ("Buick", "Excelle"), ("Haval", "H6")]
PLATE_PREFIX = "晋A".encode()


def vehicle_bytes(n, first_reg):
    """A packed registry.v1.Vehicle (fields in number order, as protobuf-c
    packs them); checked against protoc's in cmd_load."""
    make, model = MAKES[n % len(MAKES)]
    return (ld(1, bench_vin(n)) + ld(2, PLATE_PREFIX + b"%05d" % (n % 100000)) + ld(3, make)
            + ld(4, model) + b"\x28" + varint(1 + n % 2)       # SMALL / MICRO_PASSENGER
            + b"\x30\x01"                                      # NON_COMMERCIAL
            + ld(7, first_reg) + b"\x40" + varint(5 + n % 2)   # GUO5 / GUO6
            + b"\x48" + varint(mileage(n)))


def cmd_load(a):
    from registry.v1 import listing_pb2
    check_rules()
    ref = listing_pb2.Vehicle(vin=bench_vin(7), plate_no="晋A00007", make=MAKES[7][0],
                              model=MAKES[7][1], vehicle_type=2, use_nature=1,
                              first_registration_date="2020-05-06", emission_standard=6,
                              mileage_km=mileage(7))
    if ref.SerializeToString() != vehicle_bytes(7, "2020-05-06"):
        sys.exit("listing_bench: hand-encoded Vehicle differs from protoc's")
    rnd = random.Random(a.seed)
    pool = rnd.randbytes(1 << 20)   # sealed parties: random bytes of a plausible size

    def blob(size):
        off = rnd.randrange(0, len(pool) - size)
        return pool[off:off + size]

    dealers = [(make_uscc(900000 + i).encode(), ("Dealer %d Motors Ltd" % i).encode())
               for i in range(GEN_DEALERS)]
    now = int(time.time())
    utc = datetime.timezone.utc

    def ts(sec):
        return datetime.datetime.fromtimestamp(sec, utc).isoformat()

    def hx(b):
        return "\\\\x" + b.hex()

    tables = [
        ("items", "id, kind, vin, details, status, brands, highest_mileage_km, owner_kind, "
                  "owner_ref, owner_enc, transfer_count, created_at, updated_at"),
        ("odometer_readings", "item_id, mileage_km, organization_id, listing_id, at"),
        ("listings", "id, item_id, item_kind, platform_id, seller_kind, seller_ref, seller_enc, "
                     "price_fen, status, status_detail, platform_listing_ref, mileage_km, "
                     "created_at, updated_at, closed_at"),
        ("sales", "id, listing_id, item_id, item_kind, platform_id, seller_kind, seller_ref, "
                  "seller_enc, buyer_kind, buyer_ref, buyer_enc, price_fen, sold_on, "
                  "counts_as_flip, created_at"),
        ("item_history", "item_id, at, kind, organization_id, listing_id, sale_id, mileage_km, "
                         "price_fen, detail, event_id"),
    ]
    conns = {}
    for name, cols in tables:
        pg = Pg(a.pg)
        pg.query("SET session_replication_role = replica")  # no FK triggers during the load
        conns[name] = pg
    for name, cols in tables:
        conns[name].copy_start("COPY %s (%s) FROM STDIN" % (name, cols))
    bufs = {name: [] for name, _ in tables}
    counts = {name: 0 for name, _ in tables}
    t0 = time.monotonic()
    N = a.count
    for n in range(a.start, a.start + N):
        iid = item_id(n)
        created = now - 86400 * 30 - rnd.randrange(0, 86400 * 700)
        first_reg = (datetime.date(2015, 1, 1)
                     + datetime.timedelta(days=rnd.randrange(0, 3000))).isoformat()
        km = mileage(n)
        k = 1 + (n % 3 == 0) + (n % 7 == 0)          # listings: 1.48 on average
        sold = n % 5 < 2                              # 40 % sold
        plats = ["org_gen_%02d" % ((n + j * 17) % GEN_PLATFORMS) for j in range(k)]
        lids = ["lst_" + hashlib.md5(b"l%d/%d" % (n, j)).hexdigest()[:24] for j in range(k)]
        l_at = [created + 3600 * (1 + j) for j in range(k)]
        sale_at = created + 86400 * rnd.randrange(1, 29)
        price = 3000000 + (n * 104729) % 20000000
        if sold:
            uscc, dname = dealers[n % GEN_DEALERS]
            owner = "2\t%s\t%s\t1" % (hx(uscc), hx(dname))
        else:
            owner = "\\N\t\\N\t\\N\t0"
        upd = sale_at if sold else l_at[-1]
        bufs["items"].append("%s\t1\t%s\t%s\t1\t0\t%d\t%s\t%s\t%s\n" % (
            iid, bench_vin(n), hx(vehicle_bytes(n, first_reg)), km, owner, ts(created), ts(upd)))
        bufs["odometer_readings"].append("%s\t%d\torg_gen_%02d\t\\N\t%s\n" % (
            iid, km, n % GEN_PLATFORMS, ts(created)))
        hist = ["%s\t%s\t1\torg_gen_%02d\t\\N\t\\N\t0\t0\t\tevt_g%da\n" % (
                    iid, ts(created), n % GEN_PLATFORMS, n),
                "%s\t%s\t2\torg_gen_%02d\t\\N\t\\N\t%d\t0\t\tevt_g%db\n" % (
                    iid, ts(created), n % GEN_PLATFORMS, km, n)]
        for j in range(k):
            status, detail, closed = 1, "", "\\N"
            if sold:
                status, detail, closed = ((3, "", ts(sale_at)) if j == 0
                                          else (4, "SOLD_ELSEWHERE", ts(sale_at)))
            bufs["listings"].append(
                "%s\t%s\t1\t%s\t1\t%s\t%s\t%d\t%d\t%s\tREF-%d-%d\t%d\t%s\t%s\t%s\n" % (
                    lids[j], iid, plats[j], hx(blob(32)), hx(blob(110)), price, status, detail,
                    n, j, km, ts(l_at[j]), ts(upd if sold else l_at[j]), closed))
            hist.append("%s\t%s\t6\t%s\t%s\t\\N\t0\t%d\t\tevt_g%dl%d\n" % (
                iid, ts(l_at[j]), plats[j], lids[j], price, n, j))
        if sold:
            sid = "sal_" + hashlib.md5(b"s%d" % n).hexdigest()[:24]
            sold_on = datetime.datetime.fromtimestamp(sale_at, utc).date().isoformat()
            bufs["sales"].append("%s\t%s\t%s\t1\t%s\t1\t%s\t%s\t2\t%s\t%s\t%d\t%s\tf\t%s\n" % (
                sid, lids[0], iid, plats[0], hx(blob(32)), hx(blob(110)),
                hx(dealers[n % GEN_DEALERS][0]), hx(dealers[n % GEN_DEALERS][1]),
                price - 100000, sold_on, ts(sale_at)))
            hist.append("%s\t%s\t8\t%s\t%s\t%s\t0\t%d\t\tevt_g%ds\n" % (
                iid, ts(sale_at), plats[0], lids[0], sid, price - 100000, n))
            for j in range(1, k):
                hist.append("%s\t%s\t7\t%s\t%s\t\\N\t0\t0\tSOLD_ELSEWHERE\tevt_g%dw%d\n" % (
                    iid, ts(sale_at), plats[0], lids[j], n, j))
        bufs["item_history"].extend(hist)
        if (n + 1) % 20000 == 0 or n == a.start + N - 1:
            for name, _ in tables:
                data = "".join(bufs[name]).encode()
                counts[name] += len(bufs[name])
                bufs[name] = []
                if data:
                    conns[name].copy_put(data)
            if (n + 1 - a.start) % 200000 == 0:
                sys.stderr.write("listing_bench: %d items, %.0f s\n"
                                 % (n + 1 - a.start, time.monotonic() - t0))
    for name, _ in tables:
        conns[name].copy_end()
    secs = time.monotonic() - t0
    pg = conns["items"]
    pg.query("SET session_replication_role = origin")
    for name, _ in tables:
        pg.query("ANALYZE %s" % name)
    sizes = {name: int(pg.scalar("SELECT pg_total_relation_size('%s')" % name))
             for name, _ in tables}
    for c in conns.values():
        c.close()
    rows = sum(counts.values())
    emit(a, {"kind": "load", "label": a.label, "items": N, "rows": counts,
             "seconds": round(secs, 1), "rows_per_s": round(rows / secs),
             "items_per_s": round(N / secs), "bytes": sizes})


# -- organizations ---------------------------------------------------------------------------


def cmd_orgs(a):
    from registry.v1 import common_pb2
    ch = channel(a.addr)
    salt = random.randrange(10000)
    out = {"platforms": [], "inspector": None}
    for i in range(a.count + 1):
        role = common_pb2.ROLE_PLATFORM if i < a.count else common_pb2.ROLE_INSPECTOR
        org_id, key = create_org(ch, a.admin_key, role, "Bench org %d" % i, salt * 100 + i)
        rec = {"id": org_id, "key": key}
        if i < a.count:
            out["platforms"].append(rec)
        else:
            out["inspector"] = rec
    with open(a.out, "w") as f:
        json.dump(out, f)
    ch.close()


# -- CPU ------------------------------------------------------------------------------------


def _proc_cpu(pids):
    return sum(cpu_s(p) for p in pids)


# -- the gRPC CreateListing load ---------------------------------------------------------


def create_listing_request(n, with_mileage):
    """The CreateListing request of the load for generated item n: a fresh
    request id, the item, a natural person as seller, and (with_mileage) a
    reading 800 km above the item's generated one. The grpcio load and
    `bodies` (grpc_load's input) both build it here."""
    from registry.v1 import common_pb2, listing_pb2
    return listing_pb2.CreateListingRequest(
        request_id=str(uuid.uuid4()), item_id=item_id(n),
        seller=common_pb2.Party(person=common_pb2.Person(
            name="张建国", id_number=bench_id_number(n + 7), phone="1390000%04d" % (n % 10000))),
        price_fen=5000000 + n % 1000, platform_listing_ref="BENCH-%d" % n,
        condition_grade="B", mileage_km=mileage(n) + 800 if with_mileage else 0)


def _load_worker(a, proc_no, orgs, t_start, q):
    """One client process: a.threads threads, one channel each."""
    import grpc
    from registry.v1 import listing_pb2
    G = a.procs * a.threads
    t_measure = t_start + a.warmup
    t_stop = t_measure + a.seconds
    res = {"lat": [], "ok": 0, "codes": {}, "warnings": {}, "errors": [], "warm_ok": 0,
           "exhausted": 0}
    lock = threading.Lock()

    def worker(t):
        g = proc_no * a.threads + t
        org = orgs[g % len(orgs)]
        ch = channel(a.addr)
        call = unary(ch, LISTING + "CreateListing", listing_pb2.CreateListingRequest,
                     listing_pb2.CreateListingResponse)
        meta = md(org["key"])
        k = 0
        lat, codes, warns, errs, ok, warm = [], {}, {}, [], 0, 0
        while time.time() < t_start:
            time.sleep(0.001)
        while True:
            n = a.first_item + g + G * k
            k += 1
            if n >= a.first_item + a.items:
                with lock:
                    res["exhausted"] += 1
                break
            req = create_listing_request(n, a.mileage)
            t0 = time.time()
            if t0 >= t_stop:
                break
            try:
                r = call(req, metadata=meta, timeout=30)
                code = "OK"
            except grpc.RpcError as e:
                r, code = None, e.code().name
                if len(errs) < 3:
                    errs.append("%s %s" % (code, e.details()))
            t1 = time.time()
            if t0 >= t_measure and t1 <= t_stop:
                codes[code] = codes.get(code, 0) + 1
                if r is not None:
                    ok += 1
                    lat.append((t1 - t0) * 1000)
                    for w in r.warnings:
                        warns[w.reason] = warns.get(w.reason, 0) + 1
            elif r is not None:
                warm += 1
        ch.close()
        with lock:
            res["lat"] += lat
            res["ok"] += ok
            res["warm_ok"] += warm
            res["errors"] += errs
            for d, src in ((res["codes"], codes), (res["warnings"], warns)):
                for key, v in src.items():
                    d[key] = d.get(key, 0) + v

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(res)


def cmd_grpc(a):
    import multiprocessing as mp
    with open(a.orgs) as f:
        orgs = json.load(f)["platforms"]
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    t_start = time.time() + 2.0          # every process connected and waiting
    procs = [ctx.Process(target=_load_worker, args=(a, i, orgs, t_start, q))
             for i in range(a.procs)]
    for p in procs:
        p.start()
    pids = [p.pid for p in procs]
    t_measure = t_start + a.warmup
    while time.time() < t_measure:
        time.sleep(0.005)
    pgc = bt.TreeCpu(a.pg_pid).start()
    c0 = (cpu_s(a.pid), 0.0, _proc_cpu(pids))
    w0 = time.time()
    while time.time() < t_measure + a.seconds:
        time.sleep(0.005)
    c1 = (cpu_s(a.pid), pgc.stop(), _proc_cpu(pids))
    wall = time.time() - w0
    results = [q.get(timeout=a.seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    lat = [x for r in results for x in r["lat"]]
    codes, warns = {}, {}
    for r in results:
        for d, src in ((codes, r["codes"]), (warns, r["warnings"])):
            for key, v in src.items():
                d[key] = d.get(key, 0) + v
    ok = sum(r["ok"] for r in results)
    emit(a, {"kind": "grpc", "label": a.label, "clients": a.procs * a.threads,
             "procs": a.procs, "threads": a.threads, "seconds": round(wall, 1),
             "calls": sum(codes.values()), "ok": ok, "calls_per_s": round(ok / a.seconds, 1),
             "p50_ms": round(pct(lat, 50), 2) if lat else None,
             "p99_ms": round(pct(lat, 99), 2) if lat else None,
             "codes": codes, "warnings": warns,
             "errors": [e for r in results for e in r["errors"]][:5],
             "exhausted_threads": sum(r["exhausted"] for r in results),
             "mileage": bool(a.mileage),
             "cpu_pct": {"registryd": round((c1[0] - c0[0]) / wall * 100),
                         "postgres": round((c1[1] - c0[1]) / wall * 100),
                         "clients": round((c1[2] - c0[2]) / wall * 100)}})
    return 0 if ok and set(codes) == {"OK"} else 1


# -- the same load from grpc_load, the C client ---------------------------------------------

def cmd_bodies(a):
    """grpc_load's input for one run: the requests of items first..first +
    min(items, count) - 1 in item order (bench_tool.write_bodies), and the
    platforms' API keys (grpc_load's connection i uses key i)."""
    with open(a.orgs) as f:
        plats = json.load(f)["platforms"]
    count = min(a.items, a.count) if a.count else a.items
    bt.write_bodies(a.out, (create_listing_request(n, a.mileage)
                            for n in range(a.first_item, a.first_item + count)))
    if a.keys_out:
        bt.write_keys(a.keys_out, plats)
    return 0


def cmd_cload(a):
    """CreateListing with grpc_load (bench_tool.grpc_load): a `grpc` record
    like cmd_grpc's, with client grpc_load."""
    rec = bt.grpc_load(a, LISTING + "CreateListing", "listing_bench")
    if rec is None:
        return 1
    rec.update({"warnings": {}, "mileage": bool(a.mileage)})
    emit(a, rec)
    return 0 if bt.grpc_load_ok("listing_bench", rec, "raise --count") else 1


# -- the statements of one call ---------------------------------------------------------

def cmd_sample(a):
    """Serial CreateListing calls of platform 0 on items first..first+count-1
    (what `capture` then reads from the log)."""
    from registry.v1 import common_pb2, listing_pb2
    with open(a.orgs) as f:
        org = json.load(f)["platforms"][0]
    ch = channel(a.addr)
    call = unary(ch, LISTING + "CreateListing", listing_pb2.CreateListingRequest,
                 listing_pb2.CreateListingResponse)
    for n in range(a.first_item, a.first_item + a.count):
        call(listing_pb2.CreateListingRequest(
            request_id=str(uuid.uuid4()), item_id=item_id(n),
            seller=common_pb2.Party(person=common_pb2.Person(
                name="张建国", id_number=bench_id_number(n + 7), phone="13900001111")),
            price_fen=5000000, platform_listing_ref="BENCH-%d" % n, condition_grade="B",
            mileage_km=mileage(n) + 800 if a.mileage else 0), metadata=md(org["key"]), timeout=30)
    ch.close()


def cmd_capture(a):
    """The calls in the log (bench_tool.capture): to the COMMIT after INSERT
    INTO listings."""
    bt.capture(a, "INSERT INTO listings", "CreateListing", "listing_bench")


# -- the pgbench script ---------------------------------------------------------------------

SCRIPT_DOC = """-- One CreateListing as registryd issued it (captured with log_statement=all
-- by listing_bench.sh; listing_bench.py `capture`, then `script`): the same
-- statements in the same order, each parameter the literal the server sent,
-- except those that differ from call to call, made from pgbench variables:
--   :n          the item (first + client_id + clients * k; k counts the
--               client's transactions): each client walks its own items, as
--               each gRPC thread does
--   :org, :keyhash  the client's platform (client_id mod the number of
--               bench platforms): its organization id and API-key hash, set
--               once per client by its first transaction
--   :run, :k    request ids, listing and event ids, unique per transaction
-- the listing's seller_ref is the SHA-256 of the item number (a person's
-- blind index in the server). What registryd computes in C (the leaf, the
-- sealed seller, the recorded response, times) stays the captured bytes."""


def _split_top(s):
    out, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _column_params(stmt):
    """{column: n} for `INSERT INTO t (cols) VALUES ($n, …)`."""
    m = re.match(r"\s*INSERT INTO \w+ \((.*?)\) VALUES \((.*)\)", stmt, re.S)
    if not m:
        return {}
    cols = [c.strip() for c in m.group(1).split(",")]
    vals = _split_top(m.group(2))
    out = {}
    for c, v in zip(cols, vals):
        pm = re.fullmatch(r"\$(\d+)(?:::\w+)?", v)
        if pm:
            out[c] = int(pm.group(1))
    return out


_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")


def render_call(call, org_id, key_hash, n_item):
    """The pgbench lines for one captured call (list of (stmt, {n: literal}))."""
    uniq = "(:run)::text || '/' || (:client_id)::text || '/' || (:k)::text"
    item_lit = "'%s'" % item_id(n_item)
    events = {}
    lines = []
    for stmt, params in call:
        params = {int(k): v for k, v in params.items()}
        cols = _column_params(stmt) if stmt.startswith("INSERT INTO listings") else {}
        seller_ref = cols.get("seller_ref")

        def expr(k):
            v = params.get(k)
            if v is None or v == "NULL":
                return "NULL"
            if k == seller_ref:
                return "sha256(('S' || (:n)::text)::bytea)"
            if v == item_lit:
                return "('itm_' || left(md5('bench' || (:n)::text), 24))"
            if v == "'%s'" % org_id:
                return ":org"
            if v == "'\\x%s'" % key_hash:
                return ":keyhash"
            if _UUID.fullmatch(v):
                return "(md5('R' || %s))" % uniq
            if re.fullmatch(r"'lst_[0-9a-f]{24}'", v):
                return "('lst_' || left(md5('L' || %s), 24))" % uniq
            if re.fullmatch(r"'evt_[0-9a-f]{24}'", v):
                j = events.setdefault(v, len(events))
                return "('evt_' || left(md5('E%d' || %s), 24))" % (j, uniq)
            return v
        lines.append(re.sub(r"\$(\d+)\b", lambda m: expr(int(m.group(1))), stmt) + ";")
    return lines


def cmd_script(a):
    call, org_ids, key_hashes = bt.script_inputs(a, "platforms")
    lines = bt.script_head(SCRIPT_DOC, org_ids, key_hashes)
    lines += render_call(call, org_ids[0], key_hashes[0], a.sample_first + a.sample_count - 1)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    emit(a, {"kind": "script", "label": a.label, "statements": len(call),
             "shapes": [bt.shape(s) for s, _ in call]})


# -- GetItemHistory ---------------------------------------------------------------------------


def cmd_history(a):
    from registry.v1 import listing_pb2
    with open(a.orgs) as f:
        key = json.load(f)["platforms"][0]["key"]
    ch = channel(a.addr)
    get = unary(ch, LISTING + "GetItemHistory", listing_pb2.GetItemHistoryRequest,
                listing_pb2.GetItemHistoryResponse)
    # correctness on a sample: the generated rows come back, oldest first
    rnd = random.Random(5)
    for _ in range(50):
        n = a.first_item + rnd.randrange(a.items)
        r = get(listing_pb2.GetItemHistoryRequest(vin=bench_vin(n)), metadata=md(key), timeout=10)
        k = 1 + (n % 3 == 0) + (n % 7 == 0)
        want = 2 + k + ((1 + (k - 1)) if n % 5 < 2 else 0)
        if r.item.id != item_id(n) or len(r.entries) < want:
            sys.exit("listing_bench: GetItemHistory of item %d: id %s, %d entries (want >= %d)"
                     % (n, r.item.id, len(r.entries), want))
    ch.close()
    out = {"kind": "history", "label": a.label, "items": a.items}
    for by in ("item_id", "vin"):
        for threads in a.threads:
            def make_call(c, by=by):
                g = unary(c, LISTING + "GetItemHistory", listing_pb2.GetItemHistoryRequest,
                          listing_pb2.GetItemHistoryResponse)

                def request(rnd):
                    n = a.first_item + rnd.randrange(a.items)
                    return (listing_pb2.GetItemHistoryRequest(item_id=item_id(n)) if by == "item_id"
                            else listing_pb2.GetItemHistoryRequest(vin=bench_vin(n)))
                return request, lambda req: g(req, metadata=md(key), timeout=30)
            pgc = bt.TreeCpu(a.pg_pid).start()
            c0 = (cpu_s(a.pid), 0.0)
            lat, errors, wall = bt.timed_run(a.addr, threads, a.seconds, make_call,
                                             seed=1000 * threads)
            c1 = (cpu_s(a.pid), pgc.stop())
            out["%s_t%d" % (by, threads)] = {
                "calls": len(lat), "calls_per_s": round(len(lat) / wall, 1),
                "p50_ms": round(pct(lat, 50), 2) if lat else None,
                "p99_ms": round(pct(lat, 99), 2) if lat else None,
                "errors": len(errors), "error_sample": errors[:3],
                "cpu_pct": {"registryd": round((c1[0] - c0[0]) / wall * 100),
                            "postgres": round((c1[1] - c0[1]) / wall * 100)}}
    emit(a, out)
    return 0


# -- the table ---------------------------------------------------------------------------------


def cmd_report(a):
    recs = bt.read_results(a.results)
    out = []
    w = out.append
    loads = [r for r in recs if r["kind"] == "load"]
    if loads:
        w("### Data (COPY)")
        w("")
        w("| items | listings | sales | history rows | odometer rows | wall s | items/s | "
          "size (items / listings / sales / history) |")
        w("|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in loads:
            c, b = r["rows"], r["bytes"]
            w("| %s | %s | %s | %s | %s | %.0f | %s | %s |" % (
                fmt(r["items"]), fmt(c["listings"]), fmt(c["sales"]), fmt(c["item_history"]),
                fmt(c["odometer_readings"]), r["seconds"], fmt(r["items_per_s"]),
                " / ".join("%.0f MB" % (b[t] / 1e6)
                           for t in ("items", "listings", "sales", "item_history"))))
    g = [r for r in recs if r["kind"] == "grpc"]
    p = [r for r in recs if r["kind"] == "pgbench"]
    if g or p:
        w("")
        w("### CreateListing: registryd against pgbench running the same statements")
        w("")
        w("ratio: the gRPC run's calls/s ÷ the best pgbench tps of the same round (goal ≥ 80 %); "
          "CPU in % of one core over the run, and in ms per call")
        w("")
        ratios = bt.rounds_table(w, g, p)
        bt.ratio_note(w, sorted(ratios))   # listed ascending, as this report always has
        for r in g:
            bt.ran_out_note(w, r)
            if r["warnings"]:
                w("")
                w("warnings (%s): %s" % (r["label"], ", ".join(
                    "%s %d" % kv for kv in sorted(r["warnings"].items()))))
    h = [r for r in recs if r["kind"] == "history"]
    if h:
        w("")
        w("### GetItemHistory")
        w("")
        w("| items | by | client | calls/s | p50 | p99 | errors | CPU registryd / PG |")
        w("|---:|---|---|---:|---:|---:|---:|---|")
        for r in h:
            for key in sorted(k for k in r if "_t" in k and isinstance(r[k], dict)):
                x = r[key]
                by, t = key.rsplit("_t", 1)
                w("| %s | %s | grpcio, %s thread(s) | %s | %s ms | %s ms | %d | %d %% / %d %% |" % (
                    fmt(r["items"]), by, t, fmt(x["calls_per_s"], 1), x["p50_ms"], x["p99_ms"],
                    x["errors"], x["cpu_pct"]["registryd"], x["cpu_pct"]["postgres"]))
    bt.shapes_table(w, recs, "CreateListing")
    print("\n".join(out))
    return 0


COMMANDS = {
    "load": (cmd_load, "--pg!", "--count:int!", "--start:int=0", "--seed:int=1", "--label="),
    "orgs": (cmd_orgs, "--addr!", "--admin-key!", "--count:int=32", "--out!"),
    "grpc": (cmd_grpc, "--addr!", "--orgs!", "--procs:int=4", "--threads:int=8",
             "--seconds:float=30", "--warmup:float=3", "--first-item:int=0", "--items:int!",
             "--mileage:int=1", "--pid:int=0", "--pg-pid:int=0", "--label="),
    "bodies": (cmd_bodies, "--orgs!", "--first-item:int=0", "--items:int!",
               ("--count", {"type": int, "default": 0, "help": "at most this many (0: --items)"}),
               "--mileage:int=1", "--out!", "--keys-out"),
    "cload": (cmd_cload,) + bt.CLOAD + ("--mileage:int=1",),
    "sample": (cmd_sample, "--addr!", "--orgs!", "--first-item:int!", "--count:int=5",
               "--mileage:int=1"),
    "capture": (cmd_capture,) + bt.CAPTURE,
    "script": (cmd_script,) + bt.SCRIPT,
    "pgbench": bt.PGBENCH,
    "history": (cmd_history, "--addr!", "--orgs!", "--items:int!", "--first-item:int=0",
                ("--threads", {"type": lambda v: [int(x) for x in v.split(",")],
                               "default": [1, 8]}),
                "--seconds:float=15", "--pid:int=0", "--pg-pid:int=0", "--label="),
}


if __name__ == "__main__":
    sys.exit(bt.bench_main(__doc__, COMMANDS, cmd_report))
