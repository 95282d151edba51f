"""Health and server reflection, as a stock client (grpcurl's way) uses them:
no API key, grpc.health.v1 Check and Watch, reflection v1 and v1alpha
(list, file_containing_symbol, file_by_filename, unknown symbol)."""

import unittest

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

import harness
from harness import health_pb2
from grpc.reflection.v1 import reflection_pb2 as refl_v1
from grpc.reflection.v1alpha import reflection_pb2 as refl_v1alpha
from registry.v1 import org_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING

EXPECTED_SERVICES = {
    "registry.v1.OrgService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
}


class HealthTest(harness.RegistryTestCase):

    def test_check_serving_without_key(self):
        r = self.server.health("")
        self.assertOK(r)
        self.assertEqual(r.response.status, SERVING)

    def test_check_unknown_service_not_found(self):
        # grpc.health.v1: "If the requested service is unknown, the call will
        # fail with status NOT_FOUND."
        r = self.server.health("no.such.Service")
        self.assertEqual(r.code, grpc.StatusCode.NOT_FOUND, r)

    def test_watch_delivers_first_status(self):
        w = harness.HealthWatch(self.server.channel, "")
        try:
            self.assertTrue(w.wait_for(SERVING, timeout=10),
                            "no SERVING from Watch: got %r, end %r" % (w.statuses, w.end))
            self.assertEqual(w.statuses[0], SERVING)
            self.assertIsNone(w.end, "Watch ended early with %r" % (w.end,))
        finally:
            w.cancel()


class ReflectionMixin:
    """The same checks for v1 and v1alpha (pb = the generated module)."""

    pb = None
    service = None

    def ask(self, *requests):
        fn = harness.stub(self.server.channel,
                          "/%s/ServerReflectionInfo" % self.service,
                          self.pb.ServerReflectionRequest,
                          self.pb.ServerReflectionResponse, kind="stream_stream")
        try:
            return list(fn(iter(requests), timeout=15))
        except grpc.RpcError as e:
            self.fail("%s failed: %s %s" % (self.service, e.code(), e.details()))

    def test_list_services_without_key(self):
        (resp,) = self.ask(self.pb.ServerReflectionRequest(list_services="*"))
        self.assertEqual(resp.WhichOneof("message_response"), "list_services_response", resp)
        names = [s.name for s in resp.list_services_response.service]
        self.assertTrue(EXPECTED_SERVICES <= set(names),
                        "missing %r in %r" % (EXPECTED_SERVICES - set(names), names))
        self.assertEqual(len(names), len(set(names)), "duplicates in %r" % names)

    def _resolve(self, files):
        """Adds `files` (serialized FileDescriptorProtos) and every missing
        dependency (asked by file_by_filename) into a fresh pool, the way
        grpcurl's `describe` does. Returns (pool, {name: FileDescriptorProto})."""
        protos = {}
        queue = list(files)
        asked = set()
        while True:
            for raw in queue:
                fdp = descriptor_pb2.FileDescriptorProto.FromString(raw)
                protos.setdefault(fdp.name, fdp)
            queue = []
            missing = [d for f in protos.values() for d in f.dependency
                       if d not in protos and d not in asked]
            if not missing:
                break
            for name in missing:
                asked.add(name)
                (resp,) = self.ask(self.pb.ServerReflectionRequest(file_by_filename=name))
                self.assertEqual(resp.WhichOneof("message_response"), "file_descriptor_response",
                                 "file_by_filename(%s): %s" % (name, resp))
                queue += list(resp.file_descriptor_response.file_descriptor_proto)
        pool = descriptor_pool.DescriptorPool()
        added = set()

        def add(name):
            if name in added:
                return
            for dep in protos[name].dependency:
                add(dep)
            pool.Add(protos[name])
            added.add(name)
        for name in list(protos):
            add(name)
        return pool, protos

    def test_file_containing_symbol_org_service(self):
        (resp,) = self.ask(self.pb.ServerReflectionRequest(
            file_containing_symbol="registry.v1.OrgService"))
        self.assertEqual(resp.WhichOneof("message_response"), "file_descriptor_response", resp)
        files = list(resp.file_descriptor_response.file_descriptor_proto)
        self.assertTrue(files)
        parsed = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in files]
        with_service = [f for f in parsed if any(s.name == "OrgService" for s in f.service)]
        self.assertEqual(len(with_service), 1, [f.name for f in parsed])
        fdp = with_service[0]
        self.assertEqual(fdp.package, "registry.v1")
        svc = next(s for s in fdp.service if s.name == "OrgService")
        want = org_pb2.DESCRIPTOR.services_by_name["OrgService"]
        self.assertEqual({m.name: (m.input_type, m.output_type) for m in svc.method},
                         {m.name: ("." + m.input_type.full_name, "." + m.output_type.full_name)
                          for m in want.methods})
        # Everything it needs resolves, as `grpcurl describe` requires.
        pool, _ = self._resolve(files)
        sd = pool.FindServiceByName("registry.v1.OrgService")
        self.assertEqual(sorted(m.name for m in sd.methods),
                         sorted(m.name for m in want.methods))
        req = pool.FindMessageTypeByName("registry.v1.CreateOrganizationRequest")
        self.assertEqual(sorted(f.name for f in req.fields),
                         sorted(f.name for f in org_pb2.CreateOrganizationRequest.DESCRIPTOR.fields))

    def test_file_containing_symbol_health(self):
        (resp,) = self.ask(self.pb.ServerReflectionRequest(
            file_containing_symbol="grpc.health.v1.Health"))
        self.assertEqual(resp.WhichOneof("message_response"), "file_descriptor_response", resp)
        pool, _ = self._resolve(list(resp.file_descriptor_response.file_descriptor_proto))
        sd = pool.FindServiceByName("grpc.health.v1.Health")
        self.assertEqual(sorted(m.name for m in sd.methods), ["Check", "Watch"])

    def test_unknown_symbol_not_found(self):
        (resp,) = self.ask(self.pb.ServerReflectionRequest(
            file_containing_symbol="registry.v1.NoSuchService"))
        self.assertEqual(resp.WhichOneof("message_response"), "error_response", resp)
        self.assertEqual(resp.error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])

    def test_several_requests_on_one_stream(self):
        resps = self.ask(self.pb.ServerReflectionRequest(list_services="*"),
                         self.pb.ServerReflectionRequest(
                             file_containing_symbol="registry.v1.WhoAmIRequest"),
                         self.pb.ServerReflectionRequest(list_services="*"))
        self.assertEqual([r.WhichOneof("message_response") for r in resps],
                         ["list_services_response", "file_descriptor_response",
                          "list_services_response"])
        # Each response echoes its request.
        self.assertEqual(resps[1].original_request.file_containing_symbol,
                         "registry.v1.WhoAmIRequest")


class ReflectionV1Test(ReflectionMixin, harness.RegistryTestCase):
    pb = refl_v1
    service = "grpc.reflection.v1.ServerReflection"


class ReflectionV1AlphaTest(ReflectionMixin, harness.RegistryTestCase):
    pb = refl_v1alpha
    service = "grpc.reflection.v1alpha.ServerReflection"


if __name__ == "__main__":
    unittest.main()
