"""LogService.WatchEvents through a stock client (SPEC §4.6, §5): events in
index order, resumable from an index, filtered by type, visible only to the
acting organization (INSPECTOR sees all), live after catch-up, and still
delivered with Redis stopped (PostgreSQL polling)."""

import time
import unittest

import grpc

import harness
from harness import rid, stub, auth_md
from registry.v1 import common_pb2, log_pb2, org_pb2

C = grpc.StatusCode
PATH = "/registry.v1.LogService/WatchEvents"


class Watch(harness.StreamReader):
    """A WatchEvents stream; events collects each Event received."""

    def __init__(self, channel, key, from_index=0, types=()):
        fn = stub(channel, PATH, log_pb2.WatchEventsRequest, log_pb2.WatchEventsResponse,
                  kind="unary_stream")
        md = tuple(auth_md(key)) if key else None
        super().__init__(fn(log_pb2.WatchEventsRequest(from_index=from_index, types=list(types)),
                            metadata=md, timeout=120), item=lambda m: m.event)

    @property
    def events(self):
        return self.items

    def wait(self, pred, timeout=20):
        return super().wait(pred, timeout)

    def close(self):
        self.cancel()


class WatchEventsTest(harness.RegistryTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.a = s.create_org([common_pb2.ROLE_PLATFORM], name="Platform A")
        cls.b = s.create_org([common_pb2.ROLE_PLATFORM], name="Platform B")
        cls.i = s.create_org([common_pb2.ROLE_INSPECTOR], name="Inspector")
        for org in (cls.a, cls.b, cls.a):
            r = s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(request_id=rid()), key=org.api_key)
            assert r.code == harness.OK, r

    def sequenced(self, timeout=20):
        """Waits until every event row has its index; returns them
        [(index, event_id, type, organization_id)] in index order."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.server.db.scalar("SELECT count(*) FROM event_log WHERE log_index IS NULL") == "0":
                break
            time.sleep(0.1)
        rows = self.server.db.query(
            "SELECT log_index, event_id, type, organization_id FROM event_log ORDER BY log_index")
        self.assertTrue(rows and all(r[0] for r in rows), "events not sequenced: %r" % rows)
        return [(int(r[0]), r[1], int(r[2]), r[3]) for r in rows]

    def watch(self, key, **kw):
        w = Watch(self.server.channel, key, **kw)
        self.addCleanup(w.close)
        return w

    def test_inspector_sees_everything_in_order(self):
        rows = self.sequenced()
        w = self.watch(self.i.api_key)
        self.assertTrue(w.wait(lambda ev: len(ev) >= len(rows)), "got %d of %d" % (len(w.events), len(rows)))
        got = [(e.log_index, e.event_id, e.type, e.organization_id) for e in w.events[:len(rows)]]
        self.assertEqual(got, rows)
        for e in w.events[:len(rows)]:
            leaf = log_pb2.LogLeaf.FromString(e.leaf)
            self.assertEqual(leaf.event_id, e.event_id)
            self.assertEqual(leaf.type, e.type)
            self.assertEqual(leaf.at, e.at)

    def test_platform_sees_only_its_own(self):
        rows = self.sequenced()
        mine = [r for r in rows if r[3] == self.a.organization.id]
        self.assertTrue(mine)
        w = self.watch(self.a.api_key)
        self.assertTrue(w.wait(lambda ev: len(ev) >= len(mine)))
        time.sleep(0.5)  # nothing else should follow
        self.assertEqual([(e.log_index, e.event_id) for e in w.events], [(r[0], r[1]) for r in mine])
        self.assertNotIn(self.b.organization.id, {e.organization_id for e in w.events})

    def test_resume_from_an_index(self):
        rows = self.sequenced()
        k = rows[len(rows) // 2][0]
        w = self.watch(self.i.api_key, from_index=k)
        want = [r for r in rows if r[0] >= k]
        self.assertTrue(w.wait(lambda ev: len(ev) >= len(want)))
        self.assertEqual([e.log_index for e in w.events[:len(want)]], [r[0] for r in want])

    def test_types_filter(self):
        rows = self.sequenced()
        issued = [r for r in rows if r[2] == log_pb2.EVENT_TYPE_API_KEY_ISSUED]
        w = self.watch(self.i.api_key, types=[log_pb2.EVENT_TYPE_API_KEY_ISSUED])
        self.assertTrue(w.wait(lambda ev: len(ev) >= len(issued)))
        time.sleep(0.5)
        self.assertEqual([e.log_index for e in w.events], [r[0] for r in issued])

    def test_live_tail(self):
        self.sequenced()
        w = self.watch(self.a.api_key)
        n0 = len([r for r in self.sequenced() if r[3] == self.a.organization.id])
        self.assertTrue(w.wait(lambda ev: len(ev) >= n0))
        r = self.server.call("IssueApiKey", org_pb2.IssueApiKeyRequest(request_id=rid()), key=self.a.api_key)
        self.assertEqual(r.code, harness.OK)
        self.assertTrue(w.wait(lambda ev: len(ev) >= n0 + 1, timeout=15), "live event not delivered")
        e = w.events[n0]
        self.assertEqual(e.type, log_pb2.EVENT_TYPE_API_KEY_ISSUED)
        self.assertEqual(e.organization_id, self.a.organization.id)
        self.assertGreater(e.log_index, w.events[n0 - 1].log_index)

    def test_errors(self):
        w = self.watch(None)
        self.assertEqual(w.wait_end(10), C.UNAUTHENTICATED)
        w = self.watch(self.a.api_key, from_index=-1)
        self.assertEqual(w.wait_end(10), C.INVALID_ARGUMENT)
        w = self.watch(self.a.api_key, types=[999])
        self.assertEqual(w.wait_end(10), C.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
