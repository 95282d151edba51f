"""Faults of the real parts (SPEC §2, §5): PostgreSQL and Redis taken down and
brought back under a running registryd, a second registryd on the same port,
and SIGTERM. These stop the shared private servers, so ctest runs them alone
(RUN_SERIAL); every test brings the servers back even when it fails."""

import os
import subprocess
import time
import unittest

import grpc

import harness
from harness import OK, health_pb2, rid
from registry.v1 import common_pb2, org_pb2

C = grpc.StatusCode
PLATFORM = common_pb2.ROLE_PLATFORM
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def create_req(server):
    return org_pb2.CreateOrganizationRequest(
        request_id=rid(), name="Fault Co", uscc=server.uscc(), roles=[PLATFORM],
        region_code="140302")


class PostgresOutageTest(harness.RegistryTestCase):

    def test_postgres_down_then_back(self):
        s = self.server
        harness.env_or_skip("REG_TEST_PGCTL")
        p = s.create_org([PLATFORM])
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        watch = harness.HealthWatch(s.channel, "")
        self.addCleanup(watch.cancel)
        self.assertTrue(watch.wait_for(SERVING, 10), "Watch: %r" % (watch.statuses,))
        pid = s.proc.pid

        harness.ctl("REG_TEST_PGCTL", "stop")
        self.addCleanup(harness.ctl, "REG_TEST_PGCTL", "start")  # even on failure
        t_stop = time.monotonic()

        # Calls fail with UNAVAILABLE, never a crash nor another code.
        codes = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = s.call("WhoAmI", key=p.api_key, timeout=10)
            codes.append(r.code)
            if r.code == C.UNAVAILABLE:
                self.assertCode(r, C.UNAVAILABLE)
                break
            self.assertEqual(r.code, OK, "WhoAmI with PostgreSQL down: %r" % (r,))
            time.sleep(0.2)
        self.assertEqual(codes[-1], C.UNAVAILABLE, "WhoAmI codes with PostgreSQL down: %r" % codes)
        req = create_req(s)
        self.assertCode(s.call("CreateOrganization", req, key=s.admin_key, timeout=10),
                        C.UNAVAILABLE)
        self.assertTrue(s.alive(), "registryd died with PostgreSQL down:\n" + s.log_tail())
        self.assertEqual(s.proc.pid, pid)

        # Health says so within ~3 s, on Check and on Watch.
        r = harness.eventually(
            lambda: (lambda h: h if h.code == OK and h.response.status == NOT_SERVING
                     else None)(s.health()),
            timeout=max(0.5, 3.5 - (time.monotonic() - t_stop)))
        self.assertIsNotNone(r, "health Check still %r" % (s.health(),))
        self.assertTrue(watch.wait_for(NOT_SERVING, 3), "Watch: %r" % (watch.statuses,))
        n = len(watch.statuses)
        # Metrics say so too.
        self.assertEqual(harness.eventually(
            lambda: harness.metric(s.metrics(), "registry_pg_up") == 0.0, timeout=5), True)

        harness.ctl("REG_TEST_PGCTL", "start")
        # Both recover without a restart.
        r = harness.eventually(lambda: s.call("WhoAmI", key=p.api_key).code == OK, timeout=15)
        self.assertTrue(r, "WhoAmI after PostgreSQL came back: %r"
                        % (s.call("WhoAmI", key=p.api_key),))
        self.assertTrue(harness.eventually(
            lambda: (lambda h: h.code == OK and h.response.status == SERVING)(s.health()),
            timeout=10), "health after PostgreSQL came back: %r" % (s.health(),))
        self.assertTrue(watch.wait_for_after(n, SERVING, 10), "Watch: %r" % (watch.statuses,))
        self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        self.assertEqual(s.db.scalar("SELECT count(*) FROM organizations WHERE uscc='%s'"
                                     % req.uscc), "1")
        self.assertEqual(s.proc.pid, pid)
        self.assertTrue(s.alive())
        self.assertEqual(harness.eventually(
            lambda: harness.metric(s.metrics(), "registry_pg_up") == 1.0, timeout=5), True)


class RedisOutageTest(harness.RegistryTestCase):

    def test_redis_down_unary_calls_still_work(self):
        s = self.server
        harness.env_or_skip("REG_TEST_REDISCTL")
        p = s.create_org([PLATFORM])
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        self.assertEqual(harness.metric(s.metrics(), "registry_redis_up"), 1.0)

        harness.ctl("REG_TEST_REDISCTL", "stop")
        self.addCleanup(harness.ctl, "REG_TEST_REDISCTL", "start")

        for _ in range(3):
            self.assertOK(s.call("WhoAmI", key=p.api_key, timeout=10))
        q = self.assertOK(s.call("CreateOrganization", create_req(s), key=s.admin_key,
                                 timeout=10))
        self.assertOK(s.call("WhoAmI", key=q.api_key, timeout=10))
        self.assertOK(s.call("ListOrganizations", key=q.api_key, timeout=10))
        self.assertTrue(harness.eventually(
            lambda: harness.metric(s.metrics(), "registry_redis_up") == 0.0, timeout=10),
            "registry_redis_up with Redis down: %r"
            % (harness.metric(s.metrics(), "registry_redis_up"),))
        self.assertTrue(s.alive())

        harness.ctl("REG_TEST_REDISCTL", "start")
        self.assertTrue(harness.eventually(
            lambda: harness.metric(s.metrics(), "registry_redis_up") == 1.0, timeout=15),
            "registry_redis_up after Redis came back: %r"
            % (harness.metric(s.metrics(), "registry_redis_up"),))
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        self.assertOK(s.call("CreateOrganization", create_req(s), key=s.admin_key))


class ProcessTest(harness.RegistryTestCase):

    def test_second_server_on_same_port_exits_1(self):
        s = self.server
        # Same gRPC port and lock directory, another metrics port: the lock
        # is the only conflict.
        cmd = s.serve_cmd(metrics_port=harness.free_port())
        second = s.spawn(cmd, "second.log")
        try:
            rc = second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
            self.fail("a second registryd on port %d kept running" % s.port)
        self.assertEqual(rc, 1, open(os.path.join(s.dir, "second.log"), errors="replace").read()[-2000:])
        # The first one is untouched.
        self.assertTrue(s.alive())
        for _ in range(5):
            self.assertOK(s.call("WhoAmI", key=s.admin_key))

    def test_sigterm_exits_0(self):
        srv = harness.Server(extra_args=("--drain-seconds", "2"))
        self.addCleanup(srv.stop)
        srv.start()
        self.assertOK(srv.call("WhoAmI", key=srv.admin_key))
        watch = harness.HealthWatch(srv.channel, "")
        self.addCleanup(watch.cancel)
        self.assertTrue(watch.wait_for(SERVING, 10))
        t0 = time.monotonic()
        rc = srv.terminate(timeout=20)
        self.assertEqual(rc, 0, "exit status after SIGTERM:\n" + srv.log_tail())
        self.assertLess(time.monotonic() - t0, 15)
        # Health Watch heard NOT_SERVING, then its stream ended.
        self.assertIn(NOT_SERVING, watch.statuses, "Watch: %r" % (watch.statuses,))
        self.assertIsNotNone(watch.wait_end(5))
        # Nothing listens any more.
        r = harness.invoke(srv.channel, "/grpc.health.v1.Health/Check",
                           health_pb2.HealthCheckRequest(), health_pb2.HealthCheckResponse,
                           timeout=2)
        self.assertEqual(r.code, C.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
