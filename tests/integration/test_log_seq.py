"""The log sequencer against real commit orders (SPEC §4.6): an event that
commits after a later-numbered one still gets an index (the outbox trap:
never "id > last"); two registryd on one database take turns under the
advisory lock, and the result is one contiguous tree whose every checkpoint
is the Merkle root of its prefix."""

import signal
import subprocess
import threading
import time

import harness
import logutil
from logutil import leaf_hash, mth


def indices(server):
    rows = server.db.query("SELECT count(*), count(log_index), count(DISTINCT log_index), "
                           "coalesce(min(log_index), -1), coalesce(max(log_index), -1) FROM event_log")
    return [int(x) for x in rows[0]]


def check_tree(test, server):
    """Indices 0..n-1, each once; the state row, leaf hashes and every
    checkpoint agree with the leaves."""
    n, sequenced, distinct, lo, hi = indices(server)
    test.assertEqual((sequenced, distinct, lo, hi), (n, n, 0, n - 1))
    test.assertEqual(logutil.tree_size(server), n)
    leaves = [bytes.fromhex(r[0]) for r in server.db.query(
        "SELECT encode(leaf, 'hex') FROM event_log ORDER BY log_index")]
    hashes = [leaf_hash(x) for x in leaves]
    stored = [bytes.fromhex(r[0]) for r in server.db.query(
        "SELECT encode(leaf_hash, 'hex') FROM log_entries ORDER BY log_index")]
    test.assertEqual(stored, hashes)
    root = bytes.fromhex(server.db.scalar("SELECT encode(root, 'hex') FROM log_state"))
    test.assertEqual(root, mth(hashes))
    cps = server.db.query("SELECT tree_size, encode(root, 'hex') FROM log_checkpoints "
                          "ORDER BY created_at, tree_size")
    sizes = [int(c[0]) for c in cps]
    test.assertEqual(sizes, sorted(set(sizes)), "checkpoint sizes must only grow")
    for size, r in cps:
        test.assertEqual(bytes.fromhex(r), mth(hashes[:int(size)]), "checkpoint %s" % size)


class HeldOpen:
    """A psql session that inserts an event and keeps its transaction open
    until commit()."""

    def __init__(self, conninfo, event_id):
        self.p = harness._track(subprocess.Popen(
            ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", conninfo],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        self.p.stdin.write("BEGIN;\n%s\nSELECT 'inserted';\n"
                           % logutil.insert_sql(event_id, logutil.make_leaf(event_id)))
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line != "inserted":
            self.close()
            raise AssertionError("insert in the held transaction failed: %r" % line)

    def commit(self):
        self.p.stdin.write("COMMIT;\nSELECT 'committed';\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        if line != "committed":
            raise AssertionError("commit failed: %r" % line)

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(timeout=10)
            except Exception:
                self.p.kill()
                self.p.wait()


class LateCommitTest(harness.RegistryTestCase):

    server_args = ("--log-batch-ms", "20")

    def test_event_committed_late_gets_the_next_index(self):
        s = self.server
        logutil.wait_sequenced(s)
        held = HeldOpen(s.db.conninfo, "evt_late0000000000000000001")
        self.addCleanup(held.close)
        logutil.run_sql(s.db.conninfo, logutil.insert_sql(
            "evt_early000000000000000001", logutil.make_leaf("evt_early000000000000000001")))
        logutil.wait_sequenced(s)  # sees only the committed one
        rows = s.db.query("SELECT id, log_index FROM event_log WHERE event_id = "
                          "'evt_early000000000000000001'")
        early_id, early_index = int(rows[0][0]), int(rows[0][1])
        # the sequencer went past it: several more passes, still nothing else to do
        time.sleep(0.3)
        held.commit()
        logutil.wait_sequenced(s)
        rows = s.db.query("SELECT id, log_index FROM event_log WHERE event_id = "
                          "'evt_late0000000000000000001'")
        late_id, late_index = int(rows[0][0]), int(rows[0][1])
        self.assertLess(late_id, early_id, "the held row should have the lower id")
        self.assertEqual(late_index, early_index + 1)
        check_tree(self, s)
        # and a checkpoint covers it: its receipt verifies
        cp = logutil.wait_checkpoint(s, late_index + 1)
        r = self.assertOK(s.call("GetReceipt", logutil.log_pb2.GetReceiptRequest(
            event_id="evt_late0000000000000000001"), key=s.admin_key))
        idx, hashes, note = logutil.parse_receipt(r.receipt)
        self.assertEqual(idx, late_index)
        name, pk = logutil.log_key(s)
        _, size, root = logutil.parse_checkpoint(logutil.verify_note(note, name, pk))
        self.assertGreaterEqual(size, cp.tree_size)
        leaf_hex = s.db.scalar("SELECT encode(leaf, 'hex') FROM events WHERE event_id = "
                               "'evt_late0000000000000000001'")
        self.assertTrue(logutil.verify_inclusion(idx, size, leaf_hash(bytes.fromhex(leaf_hex)),
                                                 hashes, root))


class TwoSequencersTest(harness.RegistryTestCase):
    """Two registryd on one database, small batches, events committed from
    three sessions at once."""

    server_args = ("--log-batch-size", "16", "--log-batch-ms", "5")

    def test_one_contiguous_tree(self):
        s = self.server
        second = s.spawn(s.serve_cmd(port=harness.free_port(), metrics_port=harness.free_port()),
                         "registryd2.log")

        def stop_second():
            if second.poll() is None:
                second.send_signal(signal.SIGTERM)
                try:
                    second.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    second.kill()
                    second.wait()
        self.addCleanup(stop_second)

        errors = []

        def writer(w):
            try:
                for b in range(5):
                    sql = "".join(
                        logutil.insert_sql("evt_w%d_%03d_%04d" % (w, b, i),
                                           logutil.make_leaf("evt_w%d_%03d_%04d" % (w, b, i)))
                        for i in range(40))
                    logutil.run_sql(s.db.conninfo, "BEGIN;\n" + sql + "COMMIT;\n")
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        n = logutil.wait_sequenced(s, timeout=60)
        self.assertGreaterEqual(n, 600)
        logutil.wait_checkpoint(s, n, timeout=30)
        self.assertIsNone(second.poll(), "the second registryd exited")
        stop_second()
        self.assertEqual(second.returncode, 0)
        check_tree(self, s)
