#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into corpus/<name>/
(files named seed-*; libFuzzer's own additions are named by their SHA-1).
Run from anywhere: python3 tests/fuzz/seeds.py. See README.md."""
import hashlib
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
DATA = os.path.join(HERE, "..", "data", "identifiers.json")
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
from pbwire import ld, varint  # noqa: E402


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- protobuf

def fstr(num, s):
    return ld(num, s)


def fint(num, v):
    return varint(num << 3) + varint(v & 0xFFFFFFFFFFFFFFFF)


def frame(msg, flag=0, length=None):
    return bytes([flag]) + struct.pack(">I", len(msg) if length is None else length) + msg


UUID = "0b6c3c8e-4d2a-4f6e-9a51-3f2d7c1e8a90"
create_org = (fstr(1, UUID) + fstr(2, "张三回收有限公司") + fstr(3, "911403223AKQ350B93") +
              fstr(4, bytes([1, 2])) + fstr(5, "140302"))


# ---------------------------------------------------------------- frame

def frame_seeds():
    whole, bytewise, mixed = [255] * 8, [1] * 8, [3, 7, 1, 5, 2, 9, 4, 6]
    nobudget = 0xFF

    def seed(name, mx, budget, chunks, stream):
        put("frame", name, bytes([mx, budget]) + bytes(chunks) + stream)

    m1, m2 = frame(b"hello"), frame(create_org)
    seed("one-whole", 100, nobudget, whole, m1)
    seed("one-bytewise", 100, nobudget, bytewise, m1)
    seed("two-mixed", 0xC0, nobudget, mixed, m1 + m2 + frame(b""))
    seed("empty-message", 10, nobudget, whole, frame(b"") * 3)
    seed("at-limit", 5, nobudget, mixed, frame(b"12345"))
    seed("over-limit", 5, nobudget, whole, frame(b"123456"))
    seed("huge-length", 0xFF, nobudget, mixed, frame(b"x", length=0xFFFFFFFF))
    seed("huge-length-split", 0xFF, nobudget, bytewise, frame(b"", length=0x7FFFFFFF))
    seed("compressed", 100, nobudget, whole, frame(b"abc", flag=1))
    seed("bad-flag", 100, nobudget, whole, m1 + frame(b"abc", flag=0x80))
    seed("truncated-prefix", 100, nobudget, whole, m1 + b"\x00\x00\x00")
    seed("truncated-body", 100, nobudget, mixed, frame(b"abcdef")[:-2])
    seed("budget-ok", 100, 0x02, mixed, m1 + frame(b"x" * 60))
    seed("budget-exceeded", 200, 0x01, bytewise, frame(b"y" * 100))
    seed("budget-half-used", 200, 0x82, mixed, frame(b"z" * 90))
    seed("big-split-kib", 0xD0, nobudget, [200] * 8, frame(b"q" * 1500))
    seed("callback-refuses", 100, nobudget, [2, 2, 2, 2, 2, 2, 2, 0xF1], m1 + m1 + m1)
    seed("zero-chunks", 100, nobudget, [0, 0, 0, 0, 0, 0, 0, 0], m1)


# ---------------------------------------------------------------- request

# Order of registry_methods[] (services/methods.c), then health, reflection.
def method_indices():
    """fuzz_request's selector: the index of a method in registry_methods[]
    (services/methods.c, read here so that seeds follow the table), then
    the built-in health and reflection requests."""
    src = open(os.path.join(HERE, "..", "..", "services", "methods.c"), encoding="utf-8").read()
    table = src[src.index("registry_methods[] = {"):]
    names = re.findall(r'(?:UNARY|PUBLIC)\(\s*\w+,\s*(\w+),|"/registry\.v1\.\w+/(\w+)"', table)
    idx = {}
    for unary, path in names:
        idx.setdefault(unary or path, len(idx))
    idx["HealthCheck"] = len(idx)
    idx["Reflection"] = len(idx)
    return idx


IDX = method_indices()


def request_seeds():
    def seed(name, method, body):
        put("request", name, bytes([IDX[method]]) + body)

    seed("create-valid", "CreateOrganization", create_org)
    seed("create-packed-unpacked-roles", "CreateOrganization",
         fstr(2, "x") + fint(4, 1) + fint(4, 6) + fstr(4, bytes([2, 3])))
    seed("create-name-0xff", "CreateOrganization", fstr(1, UUID) + fstr(2, b"\xff"))
    seed("create-name-overlong", "CreateOrganization", fstr(2, b"\xc0\xaf"))
    seed("create-name-surrogate", "CreateOrganization", fstr(2, b"ab\xed\xa0\x80"))
    seed("create-name-above-10ffff", "CreateOrganization", fstr(2, b"\xf4\x90\x80\x80"))
    seed("create-name-truncated-seq", "CreateOrganization", fstr(2, "名".encode()[:2]))
    seed("create-uscc-nul", "CreateOrganization", fstr(3, b"91\x00\xff"))
    seed("create-truncated-varint", "CreateOrganization", fstr(2, "x") + b"\x20\x80")
    seed("create-wrong-wiretype", "CreateOrganization", fint(2, 7))
    seed("create-unknown-fields", "CreateOrganization",
         fstr(2, "a") + fint(99, 5) + fstr(100, b"\xff\xfe") + b"\x0d\x01\x02\x03\x04")
    seed("create-length-past-end", "CreateOrganization", b"\x12\x7fabc")
    seed("issue-valid-until", "IssueApiKey",
         fstr(1, UUID) + fstr(3, fint(1, 1767225600) + fint(2, 5)))
    seed("issue-timestamp-bad-utf8-unknown", "IssueApiKey", fstr(3, fstr(7, b"\xff")))
    seed("revoke", "RevokeApiKey", fstr(1, UUID) + fstr(2, "k_abc"))
    seed("list-keys", "ListApiKeys", fint(2, -1) + fstr(3, "tok"))
    seed("suspend-bad-reason", "SuspendOrganization", fstr(2, UUID) + fstr(3, b"r\xe2\x82"))
    seed("reinstate", "ReinstateOrganization", fstr(2, UUID) + fstr(3, "申诉通过"))
    seed("get", "GetOrganization", fstr(1, UUID))
    seed("whoami-empty", "WhoAmI", b"")
    seed("set-qualification", "SetQualification",
         fstr(1, UUID) + fstr(2, UUID) + fint(3, 1) + fstr(4, "NO.1") +
         fstr(5, "2024-01-01") + fstr(6, "2026-12-31"))
    seed("revoke-qualification-bad", "RevokeQualification", fint(3, 2) + fstr(4, b"\x80"))
    seed("list-orgs", "ListOrganizations", fint(1, 2) + fstr(3, "2025-06-01") + fint(4, 50))
    seed("health-check", "HealthCheck", fstr(1, "registry.v1.OrgService"))
    seed("health-check-bad", "HealthCheck", fstr(1, b"\xc3"))
    seed("reflection-list", "Reflection", fstr(1, "h") + fstr(7, "*"))
    seed("reflection-symbol", "Reflection", fstr(4, "registry.v1.OrgService"))
    seed("reflection-extension", "Reflection", fstr(5, fstr(1, b"x\xff") + fint(2, 100)))
    seed("pbc-overlong-field0", "WhoAmI", b"\x80\x00\x5b")
    # grpc-timeout values (the whole input is also parsed as one)
    for v in ["1H", "5M", "30S", "100m", "250u", "1n", "999n", "99999999H", "0S",
              "123456789S", "12x", "1", "-1S", "1 S"]:
        put("request", "timeout-" + v.replace(" ", "_"), v)


# ---------------------------------------------------------------- ident

def ident_seeds():
    with open(DATA) as f:
        ids = json.load(f)
    for k, vals in ids.items():
        if k.startswith("_"):
            continue
        for i, v in enumerate(vals[:4]):
            put("ident", "%s-%d" % (k, i), v)
        put("ident", "%s-lower" % k, vals[0].lower())
    for name, v in [("uuid", UUID), ("uuid-upper", UUID.upper()),
                    ("uuid-bad", UUID.replace("-", "_", 1)),
                    ("name-3", "张小三"), ("name-4", "欧阳小明"), ("name-2", "李四"),
                    ("name-1", "王"), ("empty", ""), ("phone", "13812345678"),
                    ("phone-short", "1381234"), ("id-8", "12345678"),
                    ("invalid-utf8", b"\xe5\xbc\xa0\xff\x80abc"),
                    ("leading-continuation", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"),
                    ("resident-future", "110105209912310010"),
                    ("resident-feb30", "110105200002300016"),
                    ("nul-inside", b"LSVW760SX\x00NP803517")]:
        put("ident", name, v)


# ---------------------------------------------------------------- ptoken

PT_KEY = bytes(range(1, 33))


def filter_hash(parts):
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        p = p.encode()
        h.update(struct.pack(">Q", len(p)))
        h.update(p)
    return h.digest()


def ptoken(fh, cursor):
    raw = bytes([1]) + fh + cursor
    mac = hashlib.blake2b(raw, key=PT_KEY, digest_size=16).digest()
    import base64
    return base64.urlsafe_b64encode(raw + mac).rstrip(b"=")


def ptoken_seeds():
    fh = filter_hash(["kind", "ROLE_PLATFORM"])
    other = filter_hash(["kind", "ROLE_INSPECTOR"])
    put("ptoken", "decode-genuine", b"\x00" + ptoken(fh, b"2024-01-01|0b6c3c8e"))
    put("ptoken", "decode-genuine-empty-cursor", b"\x00" + ptoken(fh, b""))
    put("ptoken", "decode-other-filters", b"\x00" + ptoken(other, b"cursor"))
    put("ptoken", "decode-garbage", b"\x00" + b"not a token!")
    put("ptoken", "decode-padding", b"\x00" + ptoken(fh, b"ab") + b"==")
    put("ptoken", "decode-long", b"\x00" + b"A" * 400)
    put("ptoken", "encode-cursor", b"\x01\x07" + b"2024-01-01|org")
    put("ptoken", "encode-empty", b"\x01\x00")
    put("ptoken", "encode-max", b"\x01\x33" + b"c" * 256)
    put("ptoken", "encode-too-long", b"\x01\x33" + b"c" * 257)


# ---------------------------------------------------------------- h2

def hpack_int(n, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if n < limit:
        return bytes([first | n])
    out = bytearray([first | limit])
    n -= limit
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def hpack(headers):
    out = bytearray()
    for k, v in headers:
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        out += b"\x00" + hpack_int(len(k), 7) + k + hpack_int(len(v), 7) + v
    return bytes(out)


def h2frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


DATA_, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 1, 4, 1


def req_headers(path, extra=(), method="POST", ct="application/grpc"):
    h = [(":method", method), (":scheme", "http"), (":path", path),
         (":authority", "localhost"), ("content-type", ct), ("te", "trailers")]
    return hpack(h + list(extra))


def call(sid, path, msgs, extra=(), end=True, **kw):
    out = h2frame(HEADERS, END_HEADERS | (0 if msgs or not end else END_STREAM), sid,
                  req_headers(path, extra, **kw))
    for i, m in enumerate(msgs):
        last = i == len(msgs) - 1
        out += h2frame(DATA_, END_STREAM if last and end else 0, sid, m)
    return out


SETTINGS0 = h2frame(SETTINGS, 0, 0, b"")
SETTINGS_ACK = h2frame(SETTINGS, ACK, 0, b"")
WHOAMI = "/registry.v1.OrgService/WhoAmI"
CREATE = "/registry.v1.OrgService/CreateOrganization"
ECHO = "/fuzz.v1.Echo/Chat"
CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"
REFL = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
REFLA = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
GOOD = [("authorization", "Bearer good")]


def h2_seeds():
    def seed(name, body, chunk=0):
        put("h2", name, bytes([chunk]) + SETTINGS0 + SETTINGS_ACK + body)

    seed("whoami-good-key", call(1, WHOAMI, [frame(b"")], GOOD))
    seed("whoami-no-key", call(1, WHOAMI, [frame(b"")]))
    seed("whoami-bad-key", call(1, WHOAMI, [frame(b"")], [("authorization", "Bearer nope")]))
    seed("create-ok", call(1, CREATE, [frame(create_org)], [("grpc-timeout", "5S")]))
    seed("create-no-name", call(1, CREATE, [frame(fstr(1, UUID))]))
    seed("create-no-roles", call(1, CREATE, [frame(fstr(2, "n"))]))
    seed("create-many-roles", call(1, CREATE, [frame(fstr(2, "n") + fstr(4, bytes([1, 2, 3, 4])))]))
    seed("create-bad-utf8", call(1, CREATE, [frame(fstr(2, b"\xff\xfe"))]))
    seed("create-malformed", call(1, CREATE, [frame(b"\x12\x7fabc")]))
    seed("create-split", call(1, CREATE, [frame(create_org)[:7], frame(create_org)[7:]]), chunk=3)
    seed("create-two-messages", call(1, CREATE, [frame(create_org) + frame(create_org)]))
    seed("create-no-message", call(1, CREATE, [], end=True))
    seed("create-ends-inside", call(1, CREATE, [frame(create_org)[:-3]]))
    seed("create-too-big", call(1, CREATE, [frame(b"", length=70000)]))
    seed("create-compressed", call(1, CREATE, [frame(b"", flag=1)]))
    seed("create-gzip", call(1, CREATE, [frame(create_org)], [("grpc-encoding", "gzip")]))
    seed("create-bad-timeout", call(1, CREATE, [frame(create_org)], [("grpc-timeout", "5x")]))
    seed("create-deadline-1n", call(1, CREATE, [frame(create_org)], [("grpc-timeout", "1n")]))
    seed("create-open-deadline", call(1, CREATE, [frame(create_org)], [("grpc-timeout", "1u")],
                                     end=False))
    seed("unknown-method", call(1, "/nope.v1.X/Y", [frame(b"")]))
    seed("get-method", call(1, CHECK, [frame(b"")], method="GET"))
    seed("wrong-content-type", call(1, CHECK, [frame(b"")], ct="text/plain"))
    seed("content-type-proto", call(1, CHECK, [frame(b"")], ct="application/grpc+proto"))
    seed("health-check", call(1, CHECK, [frame(b"")]))
    seed("health-check-unknown", call(1, CHECK, [frame(fstr(1, "nope.v1.S"))]))
    seed("health-watch", call(1, WATCH, [frame(fstr(1, "registry.v1.OrgService"))]))
    seed("health-watch-open", call(1, WATCH, [frame(b"")], end=False))
    seed("reflection-v1", call(1, REFL, [frame(fstr(7, "")),
                                         frame(fstr(4, "registry.v1.OrgService")),
                                         frame(fstr(3, "registry/v1/org.proto")),
                                         frame(fstr(4, "registry.v1.Role.ROLE_ADMIN")),
                                         frame(fstr(4, "nope")),
                                         frame(fstr(5, fstr(1, "x") + fint(2, 1))),
                                         frame(fstr(6, "registry.v1.Organization"))]))
    seed("reflection-v1alpha", call(1, REFLA, [frame(fstr(3, "google/protobuf/timestamp.proto"))]))
    seed("echo", call(1, ECHO, [frame(fstr(2, "a")), frame(fstr(2, "b"))]))
    seed("echo-fail", call(1, ECHO, [frame(fstr(2, "fail")), frame(fstr(2, "x"))]))
    seed("echo-bad-utf8", call(1, ECHO, [frame(fstr(2, b"\xc0"))]))
    seed("echo-open", call(1, ECHO, [frame(fstr(2, "a"))], end=False))
    seed("many-streams",
         call(1, CREATE, [frame(create_org)]) + call(3, CHECK, [frame(b"")]) +
         call(5, ECHO, [frame(fstr(2, "z"))]) + call(7, WHOAMI, [frame(b"")], GOOD))
    seed("rst-after-headers",
         call(1, CREATE, [], end=False) + h2frame(RST, 0, 1, struct.pack(">I", 8)))
    seed("rst-echo",
         call(1, ECHO, [frame(fstr(2, "a"))], end=False) + h2frame(RST, 0, 1, struct.pack(">I", 8)))
    seed("ping-window-goaway",
         h2frame(PING, 0, 0, b"12345678") + h2frame(WINDOW, 0, 0, struct.pack(">I", 1000)) +
         call(1, CHECK, [frame(b"")]) + h2frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)))
    hb = req_headers(CHECK)
    seed("continuation",
         h2frame(HEADERS, 0, 1, hb[:10]) + h2frame(CONT, END_HEADERS, 1, hb[10:]) +
         h2frame(DATA_, END_STREAM, 1, frame(b"")))
    seed("window-zero",
         h2frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0)) +
         call(1, REFL, [frame(fstr(4, "registry.v1.OrgService"))]))
    seed("huge-bearer", call(1, WHOAMI, [frame(b"")], [("authorization", "Bearer " + "k" * 1100)]))
    seed("garbage", b"\xff" * 20)
    seed("bytewise", call(1, CREATE, [frame(create_org)], GOOD), chunk=1)


if __name__ == "__main__":
    frame_seeds()
    request_seeds()
    ident_seeds()
    ptoken_seeds()
    h2_seeds()
