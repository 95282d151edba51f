"""Helpers of tests/bench/run_bench.sh (run with Debian's /usr/bin/python3).

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

import argparse
import json
import re
import statistics
import sys
import time
import urllib.request

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


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


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
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("wait")
    s.add_argument("target")
    s.add_argument("--timeout", type=float, default=30)
    s.set_defaults(fn=cmd_wait)
    s = sub.add_parser("check")
    s.add_argument("target")
    s.add_argument("method")
    s.add_argument("--key")
    s.add_argument("--n", type=int, default=5)
    s.set_defaults(fn=cmd_check)
    s = sub.add_parser("calls")
    s.add_argument("url")
    s.add_argument("method")
    s.add_argument("--since")
    s.add_argument("--expect", type=int)
    s.add_argument("--settle", type=float, default=2.0)
    s.set_defaults(fn=cmd_calls)
    s = sub.add_parser("record")
    for f in ("server", "method", "round", "h2load", "h2load-lat", "reqlog"):
        s.add_argument("--" + f, required=True)
    s.add_argument("--load", default="")
    for f in ("before", "after", "check"):
        s.add_argument("--" + f)
    s.add_argument("--cpu", type=optional_float)
    s.add_argument("--h2load-cpu", type=optional_float)
    s.set_defaults(fn=cmd_record)
    s = sub.add_parser("summarize")
    s.add_argument("results")
    s.set_defaults(fn=cmd_summarize)
    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
