"""The verifier side of the transparency log, written independently of the
server (RFC 9162 §2.1, c2sp.org/signed-note, c2sp.org/tlog-checkpoint,
c2sp.org/tlog-proof), and helpers the log tests share: LogService calls,
waiting for the sequencer, events inserted by SQL."""

import base64
import datetime
import hashlib
import subprocess
import time

import harness
from harness import OK, METHODS
from registry.v1 import log_pb2

LOG = "/registry.v1.LogService/"
for _name in ("ListSigningKeys", "GetCheckpoint", "GetInclusionProof",
              "GetInclusionProofByHash", "GetConsistencyProof", "GetEntries",
              "GetReceipt"):
    METHODS[_name] = (LOG + _name, getattr(log_pb2, _name + "Request"),
                      getattr(log_pb2, _name + "Response"))

# -- RFC 9162 -------------------------------------------------------------------


from rfc9162 import leaf_hash, mth, node_hash, verify_consistency, verify_inclusion  # noqa: E402,F401


def key_id(name, pk):
    return hashlib.sha256(name.encode() + b"\n\x01" + pk).digest()[:4]


def vkey(name, pk):
    return "%s+%s+%s" % (name, key_id(name, pk).hex(), base64.b64encode(b"\x01" + pk).decode())


def split_note(note):
    """(text, [(name, key id bytes, signature bytes)])."""
    text, sep, sigs = note.partition("\n\n")
    assert sep, "no blank line in note %r" % note
    text += "\n"
    out = []
    assert sigs.endswith("\n"), "note does not end in a newline"
    for line in sigs[:-1].split("\n"):
        assert line.startswith("\u2014 "), "bad signature line %r" % line
        name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64, validate=True)
        assert len(raw) == 68, "signature line of %d bytes" % len(raw)
        out.append((name, raw[:4], raw[4:]))
    return text, out


def verify_note(note, name, pk):
    """The text of `note` if it carries a good signature by (name, pk);
    raises otherwise."""
    import nacl.signing  # Debian's python3-nacl
    text, sigs = split_note(note)
    kid = key_id(name, pk)
    mine = [s for s in sigs if s[0] == name and s[1] == kid]
    assert mine, "no signature by %s/%s in %r" % (name, kid.hex(), note)
    nacl.signing.VerifyKey(pk).verify(text.encode(), mine[0][2])
    return text


def parse_checkpoint(text):
    """(origin, size, root) of a checkpoint body."""
    lines = text.split("\n")
    assert len(lines) >= 4 and lines[-1] == "", "checkpoint body %r" % text
    return lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)


def parse_receipt(text):
    """(index, [hashes], note) of a c2sp.org/tlog-proof@v1 text."""
    head, sep, note = text.partition("\n\n")
    assert sep, "no blank line in receipt"
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1", lines[0]
    i = 1
    if lines[i].startswith("extra "):
        i += 1
    assert lines[i].startswith("index "), lines[i]
    index = int(lines[i][6:])
    assert str(index) == lines[i][6:], "index with leading zeros"
    hashes = [base64.b64decode(h, validate=True) for h in lines[i + 1:]]
    assert all(len(h) == 32 for h in hashes)
    return index, hashes, note


# -- the server side -------------------------------------------------------------------


def log_key(server):
    """(name, public key) of the current LOG key, from ListSigningKeys without a key."""
    r = server.call("ListSigningKeys")
    assert r.code == OK, r
    cur = [k for k in r.response.keys
           if k.purpose == log_pb2.KEY_PURPOSE_LOG and not k.HasField("valid_until")]
    assert len(cur) == 1, r.response
    return cur[0].name, cur[0].public_key


def tree_size(server):
    return int(server.db.scalar("SELECT tree_size FROM log_state"))


def events_count(server):
    return int(server.db.scalar("SELECT count(*) FROM events"))


def wait_sequenced(server, timeout=30):
    """Waits until every committed event has an index; returns the size."""
    deadline = time.monotonic() + timeout
    while True:
        rows = server.db.query("SELECT count(*), count(log_index) FROM event_log")
        if rows[0][0] == rows[0][1]:
            return int(rows[0][1])
        if time.monotonic() > deadline:
            raise AssertionError("events not sequenced after %ds: %r" % (timeout, rows))
        time.sleep(0.1)


def wait_checkpoint(server, size, timeout=30):
    """Waits for a checkpoint of at least `size` leaves; returns GetCheckpoint."""
    deadline = time.monotonic() + timeout
    while True:
        r = server.call("GetCheckpoint")
        if r.code == OK and r.response.tree_size >= size:
            return r.response
        if time.monotonic() > deadline:
            raise AssertionError("no checkpoint of size >= %d after %ds: %r" % (size, timeout, r))
        time.sleep(0.1)


def make_leaf(event_id, org_id="org_bulk", etype=log_pb2.EVENT_TYPE_ITEM_REGISTERED):
    at = harness.ts(datetime.datetime.now(datetime.timezone.utc))
    leaf = log_pb2.LogLeaf(event_id=event_id, type=etype, at=at, organization_id=org_id,
                           item_id="itm_" + event_id[4:],
                           record_sha256=hashlib.sha256(event_id.encode()).digest())
    return leaf.SerializeToString()


def insert_sql(event_id, leaf, org_id="org_bulk", etype=log_pb2.EVENT_TYPE_ITEM_REGISTERED):
    return ("INSERT INTO events (event_id, type, organization_id, leaf, created_at) "
            "VALUES ('%s', %d, '%s', '\\x%s'::bytea, now());"
            % (event_id, etype, org_id, leaf.hex()))


def run_sql(conninfo, sql, timeout=120):
    """Runs a (possibly long) SQL script through psql's standard input."""
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo],
                       input=sql.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("psql failed: %s" % r.stderr.decode(errors="replace"))
