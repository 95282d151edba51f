"""WatchEvents with Redis stopped (SPEC §5): the live tail falls back to
polling PostgreSQL every second, so a watcher still gets new events, and it
keeps working when Redis is back."""

import time
import unittest

import harness
from harness import rid, ctl
from registry.v1 import common_pb2, log_pb2, org_pb2
from test_watch import Watch


class WatchWithoutRedisTest(harness.RegistryTestCase):

    def test_events_delivered_with_redis_stopped(self):
        s = self.server
        a = s.create_org([common_pb2.ROLE_PLATFORM], name="Watcher")
        # its creation was the ADMIN's act; its own first act:
        r = s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(request_id=rid()), key=a.api_key)
        self.assertEqual(r.code, harness.OK, r)
        w = Watch(s.channel, a.api_key)
        self.addCleanup(w.close)
        self.assertTrue(w.wait(lambda ev: len(ev) >= 1), "the first event did not arrive")
        n = len(w.events)

        ctl("REG_TEST_REDISCTL", "stop")
        self.addCleanup(ctl, "REG_TEST_REDISCTL", "start")
        for i in range(2):
            r = s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(request_id=rid()), key=a.api_key)
            self.assertEqual(r.code, harness.OK, r)
        self.assertTrue(w.wait(lambda ev: len(ev) >= n + 2, timeout=20),
                        "events not delivered with Redis stopped (got %d)" % len(w.events))
        self.assertTrue(all(e.type == log_pb2.EVENT_TYPE_API_KEY_ISSUED for e in w.events[n:n + 2]))

        ctl("REG_TEST_REDISCTL", "start")
        time.sleep(1)
        r = s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(request_id=rid()), key=a.api_key)
        self.assertEqual(r.code, harness.OK, r)
        self.assertTrue(w.wait(lambda ev: len(ev) >= n + 3, timeout=20),
                        "events not delivered after Redis came back")
        idx = [e.log_index for e in w.events]
        self.assertEqual(idx, sorted(idx))
        self.assertEqual(len(idx), len(set(idx)))


if __name__ == "__main__":
    unittest.main()
