"""registryd audit (SPEC §5, issue: the transparency log): it passes on an
untouched database and fails, naming the index, after an event row was
changed or deleted behind the server's back (with the append-only trigger
disabled, as a tampering database administrator would)."""

import time
import unittest

import harness
import logutil
from harness import rid
from registry.v1 import common_pb2, org_pb2


AT_4 = "id = (SELECT event_row FROM log_entries WHERE log_index = 4)"


class AuditTest(harness.RegistryTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        for _ in range(3):
            org = s.create_org([common_pb2.ROLE_PLATFORM])
            s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(request_id=rid()), key=org.api_key)

    def wait_checkpointed(self, timeout=20):
        db = self.server.db
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = int(db.scalar("SELECT count(*) FROM events"))
            unseq = int(db.scalar("SELECT count(*) FROM event_log WHERE log_index IS NULL"))
            cp = int(db.scalar("SELECT coalesce(max(tree_size), 0) FROM log_checkpoints"))
            if unseq == 0 and cp == n:
                return n
            time.sleep(0.2)
        self.fail("the log did not sequence and checkpoint every event in time")

    def audit(self):
        return self.server.run_cli("audit", "--registry-id", self.server.registry_id)

    def tamper(self, sql):
        self.server.db.query("ALTER TABLE events DISABLE TRIGGER events_append_only; " + sql +
                             "; ALTER TABLE events ENABLE TRIGGER events_append_only")

    def test_untouched_then_changed_then_deleted(self):
        n = self.wait_checkpointed()
        self.assertGreaterEqual(n, 6)
        r = self.audit()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("%d leaves" % n, r.stdout)

        # an edited leaf is named by its index
        original = self.server.db.scalar("SELECT encode(leaf, 'hex') FROM event_log WHERE log_index = 4")
        self.tamper("UPDATE events SET leaf = leaf || '\\x00'::bytea WHERE %s" % AT_4)
        r = self.audit()
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("index 4:", r.stdout)

        # restored: passes again
        self.tamper("UPDATE events SET leaf = decode('%s', 'hex') WHERE %s" % (original, AT_4))
        r = self.audit()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # a deleted row is named by its index
        self.tamper("DELETE FROM events WHERE id = (SELECT event_row FROM log_entries WHERE log_index = 2)")
        r = self.audit()
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("index 2:", r.stdout)



class AuditQueueTest(harness.RegistryTestCase):
    """An event taken off the sequencer's queue behind the server's back
    would never reach the log: audit names it."""

    def test_event_taken_off_the_queue(self):
        s = self.server
        logutil.wait_sequenced(s)
        ev = "evt_dequeued000000000000001"
        logutil.run_sql(s.db.conninfo, "BEGIN; " + logutil.insert_sql(ev, logutil.make_leaf(ev)) +
                        " DELETE FROM events_pending WHERE id = currval('events_id_seq'); COMMIT;")
        r = s.run_cli("audit", "--registry-id", s.registry_id)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("event %s:" % ev, r.stdout)


if __name__ == "__main__":
    unittest.main()
