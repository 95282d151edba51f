"""Transport-level behaviour seen from a stock client (SPEC §2): unknown
methods, the message size limit, invalid UTF-8, malformed bodies, deadlines
(abandoned and rolled back), the per-key rate limit with ErrorInfo and
RetryInfo, and the Prometheus metrics."""

import socket
import threading
import time
import unittest

import grpc

import harness
from harness import rid
from registry.v1 import common_pb2, org_pb2

C = grpc.StatusCode
PLATFORM = common_pb2.ROLE_PLATFORM
LIMIT = 65536


class TransportTest(harness.RegistryTestCase):
    server_args = ("--max-message-bytes", str(LIMIT))

    def raw_create(self, body, key=None):
        return harness.invoke(self.server.channel, harness.ORG + "CreateOrganization", body,
                              org_pb2.CreateOrganizationResponse,
                              key=key or self.server.admin_key)

    def count_orgs(self, uscc):
        return int(self.server.db.scalar(
            "SELECT count(*) FROM organizations WHERE uscc='%s'" % uscc))

    def test_unknown_method_unimplemented(self):
        s = self.server
        for path in (harness.ORG + "NoSuchMethod", "/registry.v1.NoSuchService/WhoAmI",
                     "/grpc.health.v1.Health/NoSuch"):
            for key in (s.admin_key, None):
                with self.subTest(path=path, key=bool(key)):
                    r = harness.invoke(s.channel, path, b"", None, key=key)
                    self.assertEqual(r.code, C.UNIMPLEMENTED, r)
        self.assertOK(s.call("WhoAmI", key=s.admin_key))

    def test_oversized_message_resource_exhausted(self):
        s = self.server
        uscc = s.uscc()
        req = org_pb2.CreateOrganizationRequest(
            request_id=rid(), name="N" * 100_000, uscc=uscc, roles=[PLATFORM],
            region_code="140302")
        self.assertGreater(req.ByteSize(), LIMIT)
        r = s.call("CreateOrganization", req, key=s.admin_key)
        self.assertEqual(r.code, C.RESOURCE_EXHAUSTED, r)
        self.assertTrue(s.alive())
        self.assertEqual(self.count_orgs(uscc), 0)
        # The connection and the server still work; a message under the limit passes.
        self.assertOK(s.call("WhoAmI", key=s.admin_key))
        small = org_pb2.CreateOrganizationRequest(
            request_id=rid(), name="Small enough Co", uscc=uscc, roles=[PLATFORM],
            region_code="140302")
        self.assertOK(s.call("CreateOrganization", small, key=s.admin_key))

    def test_invalid_utf8_name(self):
        s = self.server
        uscc = s.uscc()
        placeholder = "PLACEHOLDER-NAME"
        req = org_pb2.CreateOrganizationRequest(
            request_id=rid(), name=placeholder, uscc=uscc, roles=[PLATFORM],
            region_code="140302")
        good = req.SerializeToString()
        for bad in (b"\xff\xfe-bad-utf8-xx", b"abc\xc3(def-ghi-jk", b"\xed\xa0\x80surrogate-x",
                    b"overlong\xc0\xaf-xyz"):
            bad = bad[:len(placeholder)].ljust(len(placeholder), b"-")
            body = good.replace(placeholder.encode(), bad)
            self.assertEqual(len(body), len(good))
            with self.subTest(name=bad):
                self.assertField(self.raw_create(body), "name")
        self.assertEqual(self.count_orgs(uscc), 0)
        # A valid multi-byte name is fine.
        req.name = "太原市二手车交易市场有限公司"
        resp = self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        self.assertEqual(resp.organization.name, req.name)

    def test_malformed_body_invalid_argument(self):
        # A truncated length-delimited field cannot be decoded.
        r = self.raw_create(b"\x12\x40abc")
        self.assertCode(r, C.INVALID_ARGUMENT)
        self.assertTrue(self.server.alive())

    def test_deadline_already_short(self):
        s = self.server
        r = s.call("WhoAmI", key=s.admin_key, timeout=0.001)
        self.assertCode(r, C.DEADLINE_EXCEEDED, details_required=False)
        self.assertOK(s.call("WhoAmI", key=s.admin_key))

    def test_deadline_passes_during_work_rolls_back(self):
        # The organizations table is locked, so CreateOrganization cannot
        # finish before its 1 s deadline; once the lock is gone the work must
        # have been abandoned: no organization, request_id unused.
        s = self.server
        req = org_pb2.CreateOrganizationRequest(
            request_id=rid(), name="Too Slow Co", uscc=s.uscc(), roles=[PLATFORM],
            region_code="140302")
        lock = harness.TableLock(s.db.conninfo, "organizations")
        try:
            t0 = time.monotonic()
            r = s.call("CreateOrganization", req, key=s.admin_key, timeout=1.0)
            elapsed = time.monotonic() - t0
            # Keep the lock well past the server's own view of the deadline
            # (its clock starts when the headers arrive, a little later).
            time.sleep(1.5)
        finally:
            lock.release()
        self.assertCode(r, C.DEADLINE_EXCEEDED, details_required=False)
        self.assertLess(elapsed, 5)
        time.sleep(2)  # anything the server still did would be committed by now
        self.assertEqual(self.count_orgs(req.uscc), 0, "work past the deadline was committed")
        self.assertEqual(s.db.scalar("SELECT count(*) FROM request_ids WHERE request_id='%s'"
                                     % req.request_id), "0")
        self.assertTrue(s.alive())
        # The same request now succeeds (the id was left unused).
        self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        self.assertEqual(self.count_orgs(req.uscc), 1)

    def test_many_concurrent_calls(self):
        s = self.server
        errors = []

        def go():
            ch = harness.grpc.insecure_channel(s.addr)
            try:
                for _ in range(20):
                    r = harness.invoke(ch, harness.ORG + "WhoAmI", org_pb2.WhoAmIRequest(),
                                       org_pb2.WhoAmIResponse, key=s.admin_key)
                    if r.code != grpc.StatusCode.OK:
                        errors.append(r)
            finally:
                ch.close()
        threads = [threading.Thread(target=go) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertTrue(s.alive())

    def test_cancelled_and_abandoned_calls_leave_server_healthy(self):
        s = self.server
        lock = harness.TableLock(s.db.conninfo, "organizations")
        try:
            fn = harness.stub(s.channel, harness.ORG + "CreateOrganization",
                              org_pb2.CreateOrganizationRequest,
                              org_pb2.CreateOrganizationResponse)
            futs = [fn.future(org_pb2.CreateOrganizationRequest(
                request_id=rid(), name="Cancelled %d" % i, uscc=s.uscc(), roles=[PLATFORM],
                region_code="140302"), metadata=harness.auth_md(s.admin_key), timeout=30)
                for i in range(4)]
            time.sleep(0.5)
            for f in futs:
                f.cancel()
            # Connections that go away mid-call.
            for _ in range(3):
                ch = harness.grpc.insecure_channel(s.addr)
                harness.stub(ch, harness.ORG + "WhoAmI", org_pb2.WhoAmIRequest,
                             org_pb2.WhoAmIResponse).future(
                    org_pb2.WhoAmIRequest(), metadata=harness.auth_md(s.admin_key), timeout=30)
                time.sleep(0.1)
                ch.close()
        finally:
            lock.release()
        time.sleep(1)
        self.assertTrue(s.alive(), s.log_tail())
        for _ in range(5):
            self.assertOK(s.call("WhoAmI", key=s.admin_key))

    def test_garbage_on_the_socket(self):
        s = self.server
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64,
                     bytes(range(256)) * 4):
            with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
                try:
                    c.sendall(junk)
                    c.settimeout(2)
                    c.recv(4096)
                except OSError:
                    pass
        self.assertTrue(s.alive(), s.log_tail())
        self.assertOK(s.call("WhoAmI", key=s.admin_key))

    def test_deadline_abandons_blocked_query(self):
        # SPEC §5: the remaining deadline becomes the statement timeout, so a
        # call blocked in PostgreSQL stops waiting once its deadline passed
        # (it does not hold a worker and a backend until the lock goes away).
        s = self.server
        req = org_pb2.CreateOrganizationRequest(
            request_id=rid(), name="Blocked Co", uscc=s.uscc(), roles=[PLATFORM],
            region_code="140302")
        lock = harness.TableLock(s.db.conninfo, "organizations")
        try:
            r = s.call("CreateOrganization", req, key=s.admin_key, timeout=1.0)
            self.assertCode(r, C.DEADLINE_EXCEEDED, details_required=False)
            time.sleep(1.5)
            waiting = s.db.query(
                "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        finally:
            lock.release()
        self.assertEqual(waiting, [], "queries still waiting 1.5 s after the deadline")

    def test_metrics(self):
        s = self.server
        text0 = s.metrics()
        before = harness.metric(text0, "registry_rpc_calls_total",
                                method=harness.ORG + "WhoAmI", code="OK") or 0
        for _ in range(3):
            self.assertOK(s.call("WhoAmI", key=s.admin_key))
        self.assertCode(s.call("WhoAmI", key="rk_garbage"), C.UNAUTHENTICATED)
        text = s.metrics()
        ok = harness.metric(text, "registry_rpc_calls_total", method=harness.ORG + "WhoAmI",
                            code="OK")
        self.assertIsNotNone(ok, "no registry_rpc_calls_total for WhoAmI OK:\n" + text[:3000])
        self.assertGreaterEqual(ok - before, 3)
        unauth = harness.metric(text, "registry_rpc_calls_total",
                                method=harness.ORG + "WhoAmI", code="UNAUTHENTICATED")
        self.assertIsNotNone(unauth, "no UNAUTHENTICATED sample")
        self.assertGreaterEqual(unauth, 1)
        count = harness.metric(text, "registry_rpc_duration_seconds_count",
                               method=harness.ORG + "WhoAmI")
        self.assertIsNotNone(count, "no registry_rpc_duration_seconds histogram for WhoAmI")
        self.assertGreaterEqual(count, ok)
        inf = harness.metric(text, "registry_rpc_duration_seconds_bucket",
                             method=harness.ORG + "WhoAmI", le="+Inf")
        self.assertEqual(inf, count)
        self.assertEqual(harness.metric(text, "registry_pg_up"), 1.0)
        self.assertEqual(harness.metric(text, "registry_redis_up"), 1.0)
        self.assertIsNotNone(harness.metric(text, "registry_worker_queue_depth"))
        self.assertIn("# TYPE registry_rpc_calls_total counter", text)
        self.assertIn("# TYPE registry_rpc_duration_seconds histogram", text)

    def test_metrics_log_tree_size(self):
        # SPEC §6 "Operation" lists it beside the others; 0 before any sequencing.
        value = harness.metric(self.server.metrics(), "registry_log_tree_size")
        self.assertIsNotNone(value, "no registry_log_tree_size in /metrics")
        self.assertGreaterEqual(value, 0)


class RateLimitTest(harness.RegistryTestCase):
    server_args = ("--rate-limit-per-second", "1", "--rate-limit-burst", "3")

    def test_fourth_quick_call_rate_limited(self):
        s = self.server
        p = s.create_org([PLATFORM])
        replies = [s.call("WhoAmI", key=p.api_key) for _ in range(4)]
        for r in replies[:3]:
            self.assertOK(r)
        d = self.assertReason(replies[3], C.RESOURCE_EXHAUSTED, "RATE_LIMITED")
        self.assertIsNotNone(d.retry_info, "no RetryInfo: %r" % (replies[3],))
        delay = d.retry_info.retry_delay.seconds + d.retry_info.retry_delay.nanos / 1e9
        self.assertGreater(delay, 0)
        self.assertLessEqual(delay, 2)  # one token at 1/s
        # Per key: another organization's key is not affected.
        q = s.create_org([PLATFORM])
        self.assertOK(s.call("WhoAmI", key=q.api_key))
        # After the delay a token is back.
        time.sleep(delay + 0.3)
        self.assertOK(s.call("WhoAmI", key=p.api_key))


if __name__ == "__main__":
    unittest.main()
