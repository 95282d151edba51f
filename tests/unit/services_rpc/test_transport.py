"""Interop test of the gRPC transport (services/rpc) with stock clients.

Starts rpc_testd (a server built on the transport) on free ports and drives
it with Debian's python3-grpcio (run with /usr/bin/python3), messages from
`protoc --python_out` generated at build time, and nghttp for raw HTTP/2.
Every server started here is killed at the end, pass or fail.

Usage: test_transport.py --testd PATH --pydir DIR [unittest args]
"""
import argparse
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

ARGS = None
grpc = None


def load_modules(pydir):
    global grpc, t, h, rs, ed, r1, r1a, descriptor_pb2
    sys.path.insert(0, pydir)
    import grpc as _grpc  # noqa: E402
    import rpctest_pb2 as _t  # noqa: E402
    import health_v1_pb2 as _h  # noqa: E402
    import rpc_status_pb2 as _rs  # noqa: E402
    import rpc_error_details_pb2 as _ed  # noqa: E402
    import reflection_v1_pb2 as _r1  # noqa: E402
    import reflection_v1alpha_pb2 as _r1a  # noqa: E402
    from google.protobuf import descriptor_pb2 as _d  # noqa: E402
    grpc, t, h, rs, ed, r1, r1a, descriptor_pb2 = _grpc, _t, _h, _rs, _ed, _r1, _r1a, _d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One rpc_testd process; stop() always kills it."""

    def __init__(self, *extra, port=0, lock_dir=None, metrics=False):
        self.tmp = tempfile.mkdtemp(prefix="rpc_testd.")
        self.lock_dir = lock_dir or self.tmp
        self.metrics_port = free_port() if metrics else None
        cmd = [ARGS.testd, "--listen", f"127.0.0.1:{port}", "--lock-dir", self.lock_dir]
        if metrics:
            cmd += ["--metrics-listen", f"127.0.0.1:{self.metrics_port}"]
        cmd += list(extra)
        self.stderr_path = os.path.join(self.tmp, "stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr)
        self.port = None

    def wait_ready(self, timeout=15):
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith(b"READY "):
            raise RuntimeError(f"rpc_testd did not start: {self.log()}")
        self.port = int(line.split()[1])
        self.target = f"127.0.0.1:{self.port}"
        return self

    def log(self):
        self.stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def terminate(self, timeout=20):
        """SIGTERM and wait: the exit status (sanitizer reports make it non-zero)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def uu(ch, path, req_cls, resp_cls):
    return ch.unary_unary(path, request_serializer=req_cls.SerializeToString,
                          response_deserializer=resp_cls.FromString)


def raw_uu(ch, path, resp_cls):
    return ch.unary_unary(path, request_serializer=lambda b: b,
                          response_deserializer=resp_cls.FromString)


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop"))
from pbwire import ld, varint  # noqa: E402,F401

SVC = "/rpctest.v1.TestService/"
KEY = [("authorization", "Bearer test")]


def rich_status(err):
    md = dict(err.trailing_metadata() or ())
    raw = md.get("grpc-status-details-bin")
    if raw is None:
        return None
    return rs.Status.FromString(raw)


class Stubs:
    def __init__(self, ch):
        self.echo = uu(ch, SVC + "Echo", t.EchoRequest, t.EchoResponse)
        self.secret = uu(ch, SVC + "SecretEcho", t.EchoRequest, t.EchoResponse)
        self.sleep = uu(ch, SVC + "Sleep", t.SleepRequest, t.SleepResponse)
        self.serving = uu(ch, SVC + "SetServing", t.SetServingRequest, t.SetServingResponse)
        self.fail = uu(ch, SVC + "Fail", t.FailRequest, t.FailResponse)
        self.count = ch.unary_stream(SVC + "Count", request_serializer=t.CountRequest.SerializeToString,
                                     response_deserializer=t.CountResponse.FromString)
        self.chat = ch.stream_stream(SVC + "Chat", request_serializer=t.ChatMessage.SerializeToString,
                                     response_deserializer=t.ChatMessage.FromString)
        self.upload = ch.stream_unary(SVC + "Upload", request_serializer=t.ChatMessage.SerializeToString,
                                      response_deserializer=t.ChatMessage.FromString)
        self.check = uu(ch, "/grpc.health.v1.Health/Check", h.HealthCheckRequest, h.HealthCheckResponse)
        self.watch = ch.unary_stream("/grpc.health.v1.Health/Watch",
                                     request_serializer=h.HealthCheckRequest.SerializeToString,
                                     response_deserializer=h.HealthCheckResponse.FromString)
        self.refl = ch.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                     request_serializer=r1.ServerReflectionRequest.SerializeToString,
                                     response_deserializer=r1.ServerReflectionResponse.FromString)
        self.refl_alpha = ch.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=r1a.ServerReflectionRequest.SerializeToString,
            response_deserializer=r1a.ServerReflectionResponse.FromString)


class TransportTest(unittest.TestCase):
    """Most cases share one server (2 loops, 2 workers, 1 MiB limit)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server("--max-message", str(1 << 20), "--workers", "2", "--loops", "2",
                         metrics=True)
        try:
            cls.srv.wait_ready()
        except Exception:
            cls.srv.stop()
            raise
        cls.ch = grpc.insecure_channel(cls.srv.target)
        cls.s = Stubs(cls.ch)

    @classmethod
    def tearDownClass(cls):
        cls.ch.close()
        try:
            code = cls.srv.terminate()
            log = cls.srv.log()
        finally:
            cls.srv.stop()
        if code != 0 or "runtime error" in log or "Sanitizer" in log:
            raise AssertionError(f"rpc_testd exited with {code} after the suite:\n{log}")

    def assertCode(self, ctx, code):
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())

    # ---------------------------------------------------------------- unary

    def test_unary_ok(self):
        r, call = self.s.echo.with_call(t.EchoRequest(text="héllo, 世界 😀"), timeout=5)
        self.assertEqual(r.text, "héllo, 世界 😀")
        self.assertEqual(call.code(), grpc.StatusCode.OK)
        self.assertIn(r.worker, (0, 1))
        big = self.s.echo(t.EchoRequest(text="x", pad_bytes=3 << 20), timeout=10)
        self.assertEqual(len(big.pad), 3 << 20)

    def test_many_concurrent_calls(self):
        futs = [self.s.echo.future(t.EchoRequest(text=str(i)), timeout=30) for i in range(2000)]
        for i, f in enumerate(futs):
            self.assertEqual(f.result().text, str(i))

    def test_unknown_method_and_service(self):
        nope = uu(self.ch, SVC + "Nope", t.EchoRequest, t.EchoResponse)
        with self.assertRaises(grpc.RpcError) as ctx:
            nope(t.EchoRequest(), timeout=5)
        self.assertCode(ctx, grpc.StatusCode.UNIMPLEMENTED)
        st = rich_status(ctx.exception)
        self.assertEqual(st.code, grpc.StatusCode.UNIMPLEMENTED.value[0])
        nosvc = uu(self.ch, "/rpctest.v1.NoSuchService/Echo", t.EchoRequest, t.EchoResponse)
        with self.assertRaises(grpc.RpcError) as ctx:
            nosvc(t.EchoRequest(), timeout=5)
        self.assertCode(ctx, grpc.StatusCode.UNIMPLEMENTED)

    def test_oversized_request(self):
        ok = self.s.echo(t.EchoRequest(blob=b"b" * ((1 << 20) - 64)), timeout=10)
        self.assertEqual(ok.text, "")
        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.echo(t.EchoRequest(blob=b"b" * (2 << 20)), timeout=10)
        self.assertCode(ctx, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(self.s.echo(t.EchoRequest(text="after"), timeout=5).text, "after")

    def test_undecodable_protobuf(self):
        raw = raw_uu(self.ch, SVC + "Echo", t.EchoResponse)
        with self.assertRaises(grpc.RpcError) as ctx:
            raw(b"\x0a\x7fhi", timeout=5)
        self.assertCode(ctx, grpc.StatusCode.INVALID_ARGUMENT)

    def test_invalid_utf8_names_the_field(self):
        raw = raw_uu(self.ch, SVC + "Echo", t.EchoResponse)
        cases = [
            (ld(2, ld(1, ld(1, b"\xc3\x28"))), "seller.person.name"),
            (ld(3, ld(1, b"ok")) * 2 + ld(3, ld(1, b"\xed\xa0\x80")), "lines[2].description"),
            (ld(1, b"\xc0\x80"), "text"),
            (ld(4, ld(1, b"k") + ld(2, b"\xf4\x90\x80\x80")), "labels[0].value"),
            (ld(9, ld(1, b"\xe2\x82")), "note.body"),
        ]
        for body, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(grpc.RpcError) as ctx:
                    raw(body, timeout=5)
                self.assertCode(ctx, grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn(field, ctx.exception.details())
                st = rich_status(ctx.exception)
                self.assertIsNotNone(st)
                self.assertEqual(st.code, 3)
                self.assertEqual(len(st.details), 1)
                self.assertEqual(st.details[0].type_url, "type.googleapis.com/google.rpc.BadRequest")
                br = ed.BadRequest.FromString(st.details[0].value)
                self.assertEqual([v.field for v in br.field_violations], [field])

    def test_rich_errors(self):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.fail(t.FailRequest(code=9), timeout=5)
        self.assertCode(ctx, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(ctx.exception.details(), "seller cap exceeded: 100% used, «ünïcode»")
        st = rich_status(ctx.exception)
        self.assertEqual(st.message, "seller cap exceeded: 100% used, «ünïcode»")
        self.assertEqual(st.details[0].type_url, "type.googleapis.com/google.rpc.ErrorInfo")
        ei = ed.ErrorInfo.FromString(st.details[0].value)
        self.assertEqual(ei.reason, "SELLER_CAP_EXCEEDED")
        self.assertEqual(ei.domain, "registry.v1")
        self.assertEqual(dict(ei.metadata), {"cap_fen": "10000000", "current_total_fen": "9999999"})

        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.fail(t.FailRequest(code=8), timeout=5)
        self.assertCode(ctx, grpc.StatusCode.RESOURCE_EXHAUSTED)
        st = rich_status(ctx.exception)
        urls = [d.type_url for d in st.details]
        self.assertEqual(urls, ["type.googleapis.com/google.rpc.ErrorInfo",
                                "type.googleapis.com/google.rpc.RetryInfo"])
        ri = ed.RetryInfo.FromString(st.details[1].value)
        self.assertEqual((ri.retry_delay.seconds, ri.retry_delay.nanos), (1, 500000000))

        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.fail(t.FailRequest(code=3), timeout=5)
        br = ed.BadRequest.FromString(rich_status(ctx.exception).details[0].value)
        self.assertEqual([v.field for v in br.field_violations],
                         ["seller.person.name", "lines[1].amount_fen"])

    def test_authorization(self):
        for md in (None, [("authorization", "Bearer wrong")], [("authorization", "Basic dGVzdA==")]):
            with self.assertRaises(grpc.RpcError) as ctx:
                self.s.secret(t.EchoRequest(text="x"), timeout=5, metadata=md)
            self.assertCode(ctx, grpc.StatusCode.UNAUTHENTICATED)
        r = self.s.secret(t.EchoRequest(text="x"), timeout=5, metadata=KEY)
        self.assertEqual((r.text, r.caller), ("x", "org_test"))
        with self.assertRaises(grpc.RpcError) as ctx:
            list(self.s.count(t.CountRequest(n=3), timeout=5))
        self.assertCode(ctx, grpc.StatusCode.UNAUTHENTICATED)

    def test_gzip_is_unimplemented(self):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.echo(t.EchoRequest(text="zip"), timeout=5, compression=grpc.Compression.Gzip)
        self.assertCode(ctx, grpc.StatusCode.UNIMPLEMENTED)

    # ---------------------------------------------------------------- deadlines

    def test_deadline(self):
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.sleep(t.SleepRequest(ms=2000), timeout=0.1)
        self.assertCode(ctx, grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - t0, 1.0)
        # the late result (in ~2 s) is dropped; the server stays healthy
        self.assertEqual(self.s.echo(t.EchoRequest(text="alive"), timeout=5).text, "alive")
        time.sleep(2.2)
        self.assertEqual(self.s.echo(t.EchoRequest(text="still"), timeout=5).text, "still")
        self.assertEqual(self.s.check(h.HealthCheckRequest(), timeout=5).status,
                         h.HealthCheckResponse.SERVING)

    def test_expired_call_is_not_started(self):
        time.sleep(2.5)  # let test_deadline's sleeper finish if it ran just before
        before = self.s.echo(t.EchoRequest(), timeout=5).sleeps_started
        busy = [self.s.sleep.future(t.SleepRequest(ms=1500), timeout=10) for _ in range(2)]
        time.sleep(0.3)  # both workers busy now
        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.sleep(t.SleepRequest(ms=1), timeout=0.3)
        self.assertCode(ctx, grpc.StatusCode.DEADLINE_EXCEEDED)
        for f in busy:
            self.assertEqual(f.result().slept_ms, 1500)
        time.sleep(0.2)
        after = self.s.echo(t.EchoRequest(), timeout=5).sleeps_started
        self.assertEqual(after - before, 2)

    def test_stream_deadline_and_cancel(self):
        got = 0
        with self.assertRaises(grpc.RpcError) as ctx:
            for _ in self.s.count(t.CountRequest(n=10_000_000), timeout=0.5, metadata=KEY):
                got += 1
        self.assertCode(ctx, grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertGreater(got, 0)
        it = self.s.count(t.CountRequest(n=10_000_000), timeout=30, metadata=KEY)
        for i, r in enumerate(it):
            if i == 1000:
                it.cancel()
                break
        self.assertEqual(self.s.echo(t.EchoRequest(text="ok"), timeout=5).text, "ok")

    # ---------------------------------------------------------------- streams

    def test_server_stream_10000_in_order(self):
        n = 0
        for r in self.s.count(t.CountRequest(n=10000), timeout=30, metadata=KEY):
            n += 1
            self.assertEqual(r.i, n)
        self.assertEqual(n, 10000)

    def test_bidi_echo_100(self):
        msgs = [t.ChatMessage(text=("worker:m%d" if i % 10 == 0 else "m%d") % i, seq=i)
                for i in range(100)]
        out = list(self.s.chat(iter(msgs), timeout=30))
        self.assertEqual(len(out), 100)
        plain = [m for m in out if not m.text.startswith("WORKER:")]
        self.assertEqual([m.seq for m in plain], [i for i in range(100) if i % 10])
        self.assertEqual([m.text for m in plain], ["m%d" % i for i in range(100) if i % 10])
        worked = sorted(m.seq for m in out if m.text.startswith("WORKER:"))
        self.assertEqual(worked, list(range(0, 100, 10)))

    def test_bidi_interleaved(self):
        q = []
        cv = threading.Condition()

        def gen():
            for i in range(20):
                with cv:
                    q.append(i)
                    cv.notify()
                yield t.ChatMessage(text="p%d" % i, seq=i)
                time.sleep(0.005)

        got = [m.seq for m in self.s.chat(gen(), timeout=30)]
        self.assertEqual(got, list(range(20)))

    def test_client_stream(self):
        r = self.s.upload(iter([t.ChatMessage(text="u", seq=i) for i in range(50)]), timeout=10)
        self.assertEqual((r.text, r.seq), ("got 50", 50))

    # ---------------------------------------------------------------- health

    def test_health_check(self):
        for name in ("", "rpctest.v1.TestService", "grpc.health.v1.Health",
                     "grpc.reflection.v1.ServerReflection"):
            self.assertEqual(self.s.check(h.HealthCheckRequest(service=name), timeout=5).status,
                             h.HealthCheckResponse.SERVING, name)
        with self.assertRaises(grpc.RpcError) as ctx:
            self.s.check(h.HealthCheckRequest(service="nope.Service"), timeout=5)
        self.assertCode(ctx, grpc.StatusCode.NOT_FOUND)

    def test_health_watch(self):
        watches = [self.s.watch(h.HealthCheckRequest(service=""), timeout=20) for _ in range(4)]
        try:
            for w in watches:
                self.assertEqual(next(w).status, h.HealthCheckResponse.SERVING)
            self.s.serving(t.SetServingRequest(serving=False), timeout=5)
            for w in watches:  # every loop's watchers hear it
                self.assertEqual(next(w).status, h.HealthCheckResponse.NOT_SERVING)
            self.assertEqual(self.s.check(h.HealthCheckRequest(), timeout=5).status,
                             h.HealthCheckResponse.NOT_SERVING)
            self.s.serving(t.SetServingRequest(serving=True), timeout=5)
            for w in watches:
                self.assertEqual(next(w).status, h.HealthCheckResponse.SERVING)
        finally:
            for w in watches:
                w.cancel()
            self.s.serving(t.SetServingRequest(serving=True), timeout=5)
        unknown = self.s.watch(h.HealthCheckRequest(service="nope.Service"), timeout=20)
        self.assertEqual(next(unknown).status, h.HealthCheckResponse.SERVICE_UNKNOWN)
        time.sleep(0.2)
        self.assertTrue(unknown.is_active())  # stays open
        unknown.cancel()

    # ---------------------------------------------------------------- reflection

    def reflect(self, stub, mod, reqs):
        return list(stub(iter(reqs), timeout=10))

    def check_reflection(self, stub, mod):
        R = mod.ServerReflectionRequest
        out = self.reflect(stub, mod, [
            R(host="h", list_services=""),
            R(file_containing_symbol="rpctest.v1.TestService"),
            R(file_containing_symbol="rpctest.v1.TestService.Echo"),
            R(file_containing_symbol="rpctest.v1.Party"),
            R(file_containing_symbol="rpctest.v1.EchoRequest.Note"),
            R(file_containing_symbol="rpctest.v1.Mood"),
            R(file_by_filename="grpc/health/v1/health.proto"),
            R(file_containing_symbol="rpctest.v1.Nope"),
            R(file_by_filename="nope.proto"),
            R(file_containing_extension=mod.ExtensionRequest(containing_type="rpctest.v1.Party",
                                                             extension_number=5)),
            R(all_extension_numbers_of_type="rpctest.v1.Party"),
        ])
        self.assertEqual(len(out), 11)
        self.assertEqual(out[0].valid_host, "h")
        self.assertEqual(out[0].original_request.host, "h")
        names = {s.name for s in out[0].list_services_response.service}
        self.assertEqual(names, {"rpctest.v1.TestService", "grpc.health.v1.Health",
                                 "grpc.reflection.v1.ServerReflection",
                                 "grpc.reflection.v1alpha.ServerReflection"})
        for resp in out[1:6]:
            files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                     for b in resp.file_descriptor_response.file_descriptor_proto]
            self.assertEqual(files[0].name, "rpctest.proto")
            self.assertEqual(files[0].package, "rpctest.v1")
            self.assertIn("TestService", [s.name for s in files[0].service])
        hfiles = [descriptor_pb2.FileDescriptorProto.FromString(b)
                  for b in out[6].file_descriptor_response.file_descriptor_proto]
        self.assertEqual(hfiles[0].name, "grpc/health/v1/health.proto")
        self.assertEqual(hfiles[0].service[0].name, "Health")
        for resp in out[7:]:
            self.assertEqual(resp.WhichOneof("message_response"), "error_response")
            self.assertEqual(resp.error_response.error_code, 5)  # NOT_FOUND

    def test_reflection_v1(self):
        self.check_reflection(self.s.refl, r1)

    def test_reflection_v1alpha(self):
        self.check_reflection(self.s.refl_alpha, r1a)

    def test_reflection_dependencies(self):
        out = self.reflect(self.s.refl, r1, [
            r1.ServerReflectionRequest(file_containing_symbol="rpctest.v1.EchoRequest"),
            r1.ServerReflectionRequest(file_by_filename="google/protobuf/timestamp.proto"),
        ])
        names = [descriptor_pb2.FileDescriptorProto.FromString(b).name
                 for b in out[0].file_descriptor_response.file_descriptor_proto]
        self.assertEqual(names, ["rpctest.proto", "google/protobuf/timestamp.proto"])
        names = [descriptor_pb2.FileDescriptorProto.FromString(b).name
                 for b in out[1].file_descriptor_response.file_descriptor_proto]
        self.assertEqual(names, ["google/protobuf/timestamp.proto"])

    # ---------------------------------------------------------------- raw HTTP/2

    def nghttp(self, headers, body, path=SVC + "Echo"):
        if not shutil.which("nghttp"):
            self.skipTest("nghttp (nghttp2-client) not installed")
        with tempfile.NamedTemporaryFile() as f:
            f.write(body)
            f.flush()
            cmd = ["nghttp", "-v", "-t", "5"]
            for k, v in headers:
                cmd += ["-H", f"{k}: {v}"]
            cmd += ["-d", f.name, f"http://{self.srv.target}{path}"]
            p = subprocess.run(cmd, capture_output=True, timeout=20)
            return p.stdout.decode(errors="replace")

    def test_http_415_for_other_content_types(self):
        out = self.nghttp([("content-type", "text/plain")], b"hello")
        self.assertIn(":status: 415", out)
        out = self.nghttp([("content-type", "application/grpc+proto"), ("te", "trailers")],
                          b"\x00\x00\x00\x00\x02\x0a\x00")
        self.assertIn(":status: 200", out)
        self.assertIn("grpc-status: 0", out)

    def test_compressed_flag_is_unimplemented(self):
        out = self.nghttp([("content-type", "application/grpc"), ("te", "trailers")],
                          b"\x01\x00\x00\x00\x02ab")
        self.assertIn("grpc-status: 12", out)

    # ---------------------------------------------------------------- metrics

    def test_metrics(self):
        self.s.echo(t.EchoRequest(text="m"), timeout=5)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.srv.metrics_port}/metrics", timeout=5) as r:
            body = r.read().decode()
            self.assertIn("text/plain", r.headers["Content-Type"])
        self.assertIn('registry_rpc_calls_total{method="/rpctest.v1.TestService/Echo",code="OK"}', body)
        self.assertIn('registry_rpc_duration_seconds_bucket{method="/rpctest.v1.TestService/Echo",le="+Inf"}',
                      body)
        self.assertIn('registry_rpc_duration_seconds_count{method="/rpctest.v1.TestService/Echo"}', body)
        self.assertIn("registry_worker_queue_depth ", body)

    # ---------------------------------------------------------------- process

    def test_second_server_on_the_same_port_exits_1(self):
        other = Server(port=self.srv.port, lock_dir=self.srv.lock_dir)
        try:
            self.assertEqual(other.proc.wait(15), 1, other.log())
        finally:
            other.stop()
        self.assertEqual(self.s.echo(t.EchoRequest(text="mine"), timeout=5).text, "mine")


class DrainTest(unittest.TestCase):
    def test_sigterm_finishes_in_flight_calls_then_exits_0(self):
        srv = Server("--workers", "2").wait_ready()
        try:
            ch = grpc.insecure_channel(srv.target)
            s = Stubs(ch)
            fut = s.sleep.future(t.SleepRequest(ms=1000), timeout=10)
            time.sleep(0.3)
            srv.proc.send_signal(signal.SIGTERM)
            self.assertEqual(fut.result().slept_ms, 1000)
            self.assertEqual(srv.proc.wait(15), 0, srv.log())
            ch.close()
        finally:
            srv.stop()

    def test_watch_hears_not_serving_then_unavailable_at_the_bound(self):
        srv = Server("--drain-seconds", "2").wait_ready()
        try:
            ch = grpc.insecure_channel(srv.target)
            s = Stubs(ch)
            w = s.watch(h.HealthCheckRequest(service=""), timeout=30)
            self.assertEqual(next(w).status, h.HealthCheckResponse.SERVING)
            t0 = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            self.assertEqual(next(w).status, h.HealthCheckResponse.NOT_SERVING)
            with self.assertRaises(grpc.RpcError) as ctx:
                next(w)
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertGreater(time.monotonic() - t0, 1.5)
            self.assertEqual(srv.proc.wait(15), 0, srv.log())
            ch.close()
        finally:
            srv.stop()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--testd", required=True)
    ap.add_argument("--pydir", required=True)
    ARGS, rest = ap.parse_known_args()
    load_modules(ARGS.pydir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
