"""OrgService through a stock gRPC client (SPEC §4.1, §3): authentication,
roles, validation with BadRequest details, request_id idempotency, self-service
API keys, suspension, qualifications and the public directory, and the event
rows every mutation writes."""

import datetime
import threading
import time
import unittest

import grpc

import harness
from harness import OK, ts_in, rid, day
from registry.v1 import common_pb2, log_pb2, org_pb2

C = grpc.StatusCode
PLATFORM, RECYCLER, WIPER, APPRAISER, INSPECTOR, ADMIN = (
    common_pb2.ROLE_PLATFORM, common_pb2.ROLE_RECYCLER, common_pb2.ROLE_WIPER,
    common_pb2.ROLE_APPRAISER, common_pb2.ROLE_INSPECTOR, common_pb2.ROLE_ADMIN)
REVERSE_INVOICE = org_pb2.QUALIFICATION_KIND_REVERSE_INVOICE
DATA_WIPE = org_pb2.QUALIFICATION_KIND_DATA_WIPE
APPRAISAL = org_pb2.QUALIFICATION_KIND_APPRAISAL


def create_req(server, **kw):
    base = dict(request_id=rid(), name="Test Org", uscc=None, roles=[PLATFORM],
                region_code="140302")
    base.update(kw)
    if base["uscc"] is None:
        base["uscc"] = server.uscc()
    return org_pb2.CreateOrganizationRequest(**base)


class AuthAndRolesTest(harness.RegistryTestCase):

    def test_create_then_whoami_with_new_key(self):
        s = self.server
        req = create_req(s, name="Shanxi Used Cars Ltd", roles=[PLATFORM, APPRAISER])
        resp = self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        org = resp.organization
        self.assertTrue(org.id.startswith("org_"), org.id)
        self.assertTrue(resp.api_key.startswith("rk_"), resp.api_key)
        self.assertTrue(resp.key_id.startswith("key_"), resp.key_id)
        self.assertEqual(org.name, "Shanxi Used Cars Ltd")
        self.assertEqual(org.uscc, req.uscc)
        self.assertEqual(sorted(org.roles), sorted([PLATFORM, APPRAISER]))
        self.assertEqual(org.status, org_pb2.ORGANIZATION_STATUS_ACTIVE)
        who = self.assertOK(s.call("WhoAmI", key=resp.api_key))
        self.assertEqual(who.organization.id, org.id)
        self.assertEqual(who.organization.uscc, req.uscc)
        self.assertEqual(who.key_id, resp.key_id)
        # The key is stored only as a keyed hash: it appears nowhere in the database.
        dump = s.db.scalar("SELECT count(*) FROM api_keys WHERE row_to_json(api_keys)::text "
                           "LIKE '%%%s%%'" % resp.api_key[3:])
        self.assertEqual(dump, "0", "the API key is stored in clear")

    def test_admin_whoami(self):
        who = self.assertOK(self.server.call("WhoAmI", key=self.server.admin_key))
        self.assertIn(ADMIN, who.organization.roles)

    def test_no_key_unauthenticated(self):
        self.assertCode(self.server.call("WhoAmI"), C.UNAUTHENTICATED)
        self.assertCode(self.server.call("ListOrganizations"), C.UNAUTHENTICATED)

    def test_garbage_key_unauthenticated(self):
        for key in ("rk_garbage", "rk_" + "A" * 43, "not-a-key", "rk_"):
            with self.subTest(key=key):
                self.assertCode(self.server.call("WhoAmI", key=key), C.UNAUTHENTICATED)
        # A malformed authorization header.
        r = self.server.call("WhoAmI", metadata=(("authorization", "Basic Zm9vOmJhcg=="),))
        self.assertCode(r, C.UNAUTHENTICATED)

    def test_platform_cannot_create_organization(self):
        s = self.server
        p = s.create_org([PLATFORM])
        uscc = s.uscc()
        r = s.call("CreateOrganization", create_req(s, uscc=uscc), key=p.api_key)
        self.assertCode(r, C.PERMISSION_DENIED)
        self.assertEqual(s.db.scalar("SELECT count(*) FROM organizations WHERE uscc='%s'" % uscc), "0")
        # Nor suspend, nor grant itself a qualification.
        self.assertCode(s.call("SuspendOrganization", org_pb2.SuspendOrganizationRequest(
            request_id=rid(), organization_id=p.organization.id, reason="x"), key=p.api_key),
            C.PERMISSION_DENIED)
        self.assertCode(s.call("SetQualification", org_pb2.SetQualificationRequest(
            request_id=rid(), organization_id=p.organization.id, kind=APPRAISAL,
            certificate_no="C-1", valid_from=day(-1), valid_until=day(30)), key=p.api_key),
            C.PERMISSION_DENIED)

    def test_get_organization_access(self):
        s = self.server
        p = s.create_org([PLATFORM])
        q = s.create_org([PLATFORM])
        insp = s.create_org([INSPECTOR])
        own = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=p.organization.id), key=p.api_key))
        self.assertEqual(own.organization.id, p.organization.id)
        self.assertCode(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=q.organization.id), key=p.api_key), C.PERMISSION_DENIED)
        for key in (insp.api_key, s.admin_key):
            got = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
                organization_id=q.organization.id), key=key))
            self.assertEqual(got.organization.id, q.organization.id)
        self.assertCode(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id="org_doesnotexist"), key=s.admin_key), C.NOT_FOUND)


class ValidationAndIdempotencyTest(harness.RegistryTestCase):

    def count_orgs(self, uscc):
        return int(self.server.db.scalar(
            "SELECT count(*) FROM organizations WHERE uscc='%s'" % uscc))

    def count_rid(self, request_id):
        return int(self.server.db.scalar(
            "SELECT count(*) FROM request_ids WHERE request_id='%s'" % request_id))

    def test_bad_uscc(self):
        s = self.server
        for bad in harness.IDS["uscc_bad"]:
            with self.subTest(uscc=bad):
                r = s.call("CreateOrganization", create_req(s, uscc=bad), key=s.admin_key)
                self.assertField(r, "uscc")
                self.assertEqual(self.count_orgs(bad), 0)

    def test_missing_name(self):
        s = self.server
        uscc = s.uscc()
        self.assertField(s.call("CreateOrganization", create_req(s, name="", uscc=uscc),
                                key=s.admin_key), "name")
        self.assertEqual(self.count_orgs(uscc), 0)

    def test_roles_required(self):
        s = self.server
        uscc = s.uscc()
        for roles in ([], [common_pb2.ROLE_UNSPECIFIED], [PLATFORM, common_pb2.ROLE_UNSPECIFIED]):
            with self.subTest(roles=roles):
                self.assertField(s.call("CreateOrganization",
                                        create_req(s, roles=roles, uscc=uscc),
                                        key=s.admin_key), "roles")
        self.assertEqual(self.count_orgs(uscc), 0)

    def test_request_id_must_be_uuid(self):
        s = self.server
        uscc = s.uscc()
        for bad in ("", "not-a-uuid", "1234", str(harness.uuid.uuid4()) + "x"):
            with self.subTest(request_id=bad):
                self.assertField(s.call("CreateOrganization",
                                        create_req(s, request_id=bad, uscc=uscc),
                                        key=s.admin_key), "request_id")
        self.assertEqual(self.count_orgs(uscc), 0)

    def test_duplicate_uscc_new_request_id(self):
        s = self.server
        first = s.create_org([PLATFORM])
        r = s.call("CreateOrganization", create_req(s, uscc=first.organization.uscc,
                                                    name="Another name"), key=s.admin_key)
        self.assertCode(r, C.ALREADY_EXISTS)
        self.assertEqual(self.count_orgs(first.organization.uscc), 1)

    def test_replay_returns_first_response(self):
        s = self.server
        req = create_req(s, name="Replay Co")
        a = self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        b = self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        self.assertEqual(b.organization.id, a.organization.id)
        self.assertEqual(b.organization.uscc, req.uscc)
        self.assertEqual(b.key_id, a.key_id)
        self.assertEqual(b.api_key, "", "a replay must not return the key again")
        self.assertEqual(self.count_orgs(req.uscc), 1)
        self.assertEqual(self.count_rid(req.request_id), 1)
        self.assertEqual(s.db.scalar(
            "SELECT method FROM request_ids WHERE request_id='%s'" % req.request_id),
            "/registry.v1.OrgService/CreateOrganization")
        # Only one key was issued: the first one works, the organization has one key.
        self.assertOK(s.call("WhoAmI", key=a.api_key))
        keys = self.assertOK(s.call("ListApiKeys", org_pb2.ListApiKeysRequest(
            organization_id=a.organization.id), key=s.admin_key))
        self.assertEqual([k.key_id for k in keys.keys], [a.key_id])

    def test_request_id_reused_with_other_body(self):
        s = self.server
        req = create_req(s, name="First body")
        a = self.assertOK(s.call("CreateOrganization", req, key=s.admin_key))
        other = org_pb2.CreateOrganizationRequest()
        other.CopyFrom(req)
        other.name = "Second body"
        r = s.call("CreateOrganization", other, key=s.admin_key)
        self.assertReason(r, C.ALREADY_EXISTS, "REQUEST_ID_REUSED")
        # Also with a different natural key: nothing is created.
        other2 = org_pb2.CreateOrganizationRequest()
        other2.CopyFrom(req)
        other2.uscc = s.uscc()
        self.assertReason(s.call("CreateOrganization", other2, key=s.admin_key),
                          C.ALREADY_EXISTS, "REQUEST_ID_REUSED")
        self.assertEqual(self.count_orgs(other2.uscc), 0)
        got = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=a.organization.id), key=s.admin_key))
        self.assertEqual(got.organization.name, "First body")

    def test_refused_call_leaves_request_id_unused(self):
        s = self.server
        request_id = rid()
        bad = create_req(s, request_id=request_id, uscc=harness.IDS["uscc_bad"][0])
        self.assertField(s.call("CreateOrganization", bad, key=s.admin_key), "uscc")
        self.assertEqual(self.count_rid(request_id), 0)
        good = create_req(s, request_id=request_id)
        resp = self.assertOK(s.call("CreateOrganization", good, key=s.admin_key))
        self.assertEqual(resp.organization.uscc, good.uscc)
        self.assertEqual(self.count_rid(request_id), 1)

    def test_request_id_is_per_organization(self):
        # The same request_id from two organizations is two requests.
        s = self.server
        p = s.create_org([PLATFORM])
        q = s.create_org([PLATFORM])
        request_id = rid()
        a = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=request_id), key=p.api_key))
        b = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=request_id), key=q.api_key))
        self.assertNotEqual(a.key_id, b.key_id)
        self.assertTrue(b.api_key)
        self.assertEqual(self.assertOK(s.call("WhoAmI", key=b.api_key)).organization.id,
                         q.organization.id)


    def test_other_string_fields_validated(self):
        s = self.server
        uscc = s.uscc()
        req = create_req(s, uscc=uscc, name="Valid Name", region_code="610113")
        good = req.SerializeToString()
        self.assertEqual(good.count(b"610113"), 1)
        # Invalid UTF-8 in region_code (same length).
        body = good.replace(b"610113", b"61\xff\xfe13")
        r = harness.invoke(s.channel, harness.ORG + "CreateOrganization", body,
                           org_pb2.CreateOrganizationResponse, key=s.admin_key)
        self.assertField(r, "region_code")
        self.assertField(s.call("CreateOrganization", create_req(s, uscc=uscc, region_code="abcdef"),
                                key=s.admin_key), "region_code")
        self.assertEqual(self.count_orgs(uscc), 0)

    def test_concurrent_replays_create_one_organization(self):
        # A client retrying quickly (or twice at once) with one request_id
        # gets the same organization every time, and only one exists.
        s = self.server
        req = create_req(s, name="Concurrent Co")
        replies = [None] * 8

        def go(i):
            replies[i] = s.call("CreateOrganization", req, key=s.admin_key)
        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(replies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in replies:
            self.assertOK(r)
        self.assertEqual(len({r.response.organization.id for r in replies}), 1, replies)
        self.assertEqual(sum(1 for r in replies if r.response.api_key), 1,
                         "exactly one reply carries the key")
        self.assertEqual(self.count_orgs(req.uscc), 1)
        self.assertEqual(self.count_rid(req.request_id), 1)

    def test_concurrent_same_uscc_one_wins(self):
        s = self.server
        uscc = s.uscc()
        replies = [None] * 6

        def go(i):
            replies[i] = s.call("CreateOrganization", create_req(s, uscc=uscc, name="Race %d" % i),
                                key=s.admin_key)
        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(replies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.code.name for r in replies)
        self.assertEqual(codes, ["ALREADY_EXISTS"] * 5 + ["OK"], replies)
        self.assertEqual(self.count_orgs(uscc), 1)


class ApiKeysTest(harness.RegistryTestCase):

    def list_keys(self, key, organization_id=""):
        return self.assertOK(self.server.call("ListApiKeys", org_pb2.ListApiKeysRequest(
            organization_id=organization_id), key=key))

    def test_self_service_keys(self):
        s = self.server
        p = s.create_org([PLATFORM])
        q = s.create_org([PLATFORM])
        pid = p.organization.id
        # Use the first key so that last_used_at is set.
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        # Issue a second key for itself (organization_id empty = own).
        until = ts_in(86400 * 30)
        k2 = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), valid_until=until), key=p.api_key))
        self.assertTrue(k2.api_key.startswith("rk_"))
        self.assertNotEqual(k2.key_id, p.key_id)
        who = self.assertOK(s.call("WhoAmI", key=k2.api_key))
        self.assertEqual(who.organization.id, pid)
        self.assertEqual(who.key_id, k2.key_id)
        # Naming its own organization explicitly works too.
        k3 = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), organization_id=pid), key=p.api_key))

        def listed():
            resp = self.list_keys(p.api_key)
            return resp, {k.key_id: k for k in resp.keys}
        resp, by_id = listed()
        self.assertEqual(set(by_id), {p.key_id, k2.key_id, k3.key_id})
        raw = resp.SerializeToString()
        for secret in (p.api_key, k2.api_key, k3.api_key):
            self.assertNotIn(secret.encode(), raw, "ListApiKeys returned key material")
            self.assertNotIn(secret[3:].encode(), raw, "ListApiKeys returned key material")
        now = time.time()
        for k in resp.keys:
            self.assertEqual(k.organization_id, pid)
            self.assertTrue(k.HasField("created_at"), k)
            self.assertLess(abs(k.created_at.seconds - now), 300, k)
            self.assertFalse(k.revoked)
        self.assertTrue(by_id[k2.key_id].HasField("valid_until"))
        self.assertEqual(by_id[k2.key_id].valid_until.seconds, until.seconds)
        self.assertFalse(by_id[k3.key_id].HasField("valid_until"), "no expiry asked")
        self.assertFalse(by_id[k3.key_id].HasField("last_used_at"), "k3 never used")
        # last_used_at of used keys (the server may record it lazily).
        deadline = time.monotonic() + 5
        while not all(by_id[kid].HasField("last_used_at") for kid in (p.key_id, k2.key_id)) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            _, by_id = listed()
        for kid in (p.key_id, k2.key_id):
            self.assertTrue(by_id[kid].HasField("last_used_at"), "last_used_at unset for %s" % kid)
            self.assertLess(abs(by_id[kid].last_used_at.seconds - now), 300)
        # Another organization's keys are not its business.
        self.assertCode(s.call("ListApiKeys", org_pb2.ListApiKeysRequest(
            organization_id=q.organization.id), key=p.api_key), C.PERMISSION_DENIED)
        self.assertCode(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), organization_id=q.organization.id), key=p.api_key),
            C.PERMISSION_DENIED)
        self.assertCode(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id=rid(), key_id=q.key_id), key=p.api_key), C.PERMISSION_DENIED)
        self.assertOK(s.call("WhoAmI", key=q.api_key))
        # Revoke its own second key: that key stops working, the others do not.
        rv = self.assertOK(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id=rid(), key_id=k2.key_id), key=p.api_key))
        self.assertEqual(rv.key.key_id, k2.key_id)
        self.assertTrue(rv.key.revoked)
        self.assertTrue(rv.key.HasField("revoked_at"))
        self.assertCode(s.call("WhoAmI", key=k2.api_key), C.UNAUTHENTICATED)
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        self.assertOK(s.call("WhoAmI", key=k3.api_key))
        _, by_id = listed()
        self.assertTrue(by_id[k2.key_id].revoked)
        self.assertFalse(by_id[p.key_id].revoked)
        # The admin sees the same list for that organization.
        admin_view = self.list_keys(s.admin_key, pid)
        self.assertEqual({k.key_id for k in admin_view.keys}, {p.key_id, k2.key_id, k3.key_id})

    def test_issue_key_replay_and_validation(self):
        s = self.server
        p = s.create_org([PLATFORM])
        req = org_pb2.IssueApiKeyRequest(request_id=rid())
        a = self.assertOK(s.call("IssueApiKey", req, key=p.api_key))
        b = self.assertOK(s.call("IssueApiKey", req, key=p.api_key))
        self.assertEqual(b.key_id, a.key_id)
        self.assertEqual(b.api_key, "", "a replay must not return the key again")
        keys = self.list_keys(p.api_key)
        self.assertEqual(sorted(k.key_id for k in keys.keys), sorted([p.key_id, a.key_id]))
        # valid_until in the past.
        self.assertField(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), valid_until=ts_in(-3600)), key=p.api_key), "valid_until")
        # Unknown key id.
        self.assertCode(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id=rid(), key_id="key_doesnotexist"), key=s.admin_key), C.NOT_FOUND)
        self.assertField(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id="nope", key_id=a.key_id), key=p.api_key), "request_id")
        self.assertOK(s.call("WhoAmI", key=a.api_key))

    def test_revoke_with_revoked_key_then_self_lockout_needs_admin(self):
        s = self.server
        p = s.create_org([PLATFORM])
        # An organization may revoke the very key it calls with.
        self.assertOK(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id=rid(), key_id=p.key_id), key=p.api_key))
        self.assertCode(s.call("WhoAmI", key=p.api_key), C.UNAUTHENTICATED)
        # The admin issues a new one for it.
        k = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), organization_id=p.organization.id), key=s.admin_key))
        self.assertEqual(self.assertOK(s.call("WhoAmI", key=k.api_key)).organization.id,
                         p.organization.id)

    def test_expired_key_unauthenticated(self):
        s = self.server
        p = s.create_org([PLATFORM])
        short = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), valid_until=ts_in(3)), key=p.api_key))
        self.assertOK(s.call("WhoAmI", key=short.api_key))
        time.sleep(4.5)
        self.assertCode(s.call("WhoAmI", key=short.api_key), C.UNAUTHENTICATED)
        self.assertOK(s.call("WhoAmI", key=p.api_key))

    def test_expired_key_set_in_database(self):
        s = self.server
        p = s.create_org([PLATFORM])
        k = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), valid_until=ts_in(3600)), key=p.api_key))
        self.assertOK(s.call("WhoAmI", key=k.api_key))
        s.db.query("UPDATE api_keys SET valid_until = now() - interval '1 second' "
                   "WHERE valid_until IS NOT NULL AND organization_id = '%s'"
                   % p.organization.id)
        # A cache may hold the key for a moment; within a few seconds it must be refused.
        r = harness.eventually(
            lambda: (lambda x: x if x.code != OK else None)(s.call("WhoAmI", key=k.api_key)),
            timeout=5)
        self.assertIsNotNone(r, "expired key still accepted after 5 s")
        self.assertCode(r, C.UNAUTHENTICATED)


class SuspensionTest(harness.RegistryTestCase):

    def test_suspend_and_reinstate(self):
        s = self.server
        p = s.create_org([PLATFORM])
        pid = p.organization.id
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        k = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid(), organization_id=pid), key=s.admin_key))
        sus = self.assertOK(s.call("SuspendOrganization", org_pb2.SuspendOrganizationRequest(
            request_id=rid(), organization_id=pid, reason="unpaid fees"), key=s.admin_key))
        self.assertEqual(sus.organization.status, org_pb2.ORGANIZATION_STATUS_SUSPENDED)
        for method in ("WhoAmI", "ListOrganizations", "ListApiKeys"):
            with self.subTest(method=method):
                self.assertReason(s.call(method, key=p.api_key), C.PERMISSION_DENIED,
                                  "ORGANIZATION_SUSPENDED")
        # Every key of the organization.
        self.assertReason(s.call("WhoAmI", key=k.api_key), C.PERMISSION_DENIED,
                          "ORGANIZATION_SUSPENDED")
        # Suspended organizations are not in the public directory.
        listed = self.assertOK(s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
            page_size=500), key=s.admin_key))
        self.assertNotIn(pid, [o.id for o in listed.organizations])
        got = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=pid), key=s.admin_key))
        self.assertEqual(got.organization.status, org_pb2.ORGANIZATION_STATUS_SUSPENDED)
        self.assertEqual(got.organization.suspended_reason, "unpaid fees")
        rein = self.assertOK(s.call("ReinstateOrganization", org_pb2.ReinstateOrganizationRequest(
            request_id=rid(), organization_id=pid, reason="paid"), key=s.admin_key))
        self.assertEqual(rein.organization.status, org_pb2.ORGANIZATION_STATUS_ACTIVE)
        who = self.assertOK(s.call("WhoAmI", key=p.api_key))
        self.assertEqual(who.organization.id, pid)
        self.assertEqual(who.organization.status, org_pb2.ORGANIZATION_STATUS_ACTIVE)
        self.assertOK(s.call("WhoAmI", key=k.api_key))
        listed = self.assertOK(s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
            page_size=500), key=p.api_key))
        self.assertIn(pid, [o.id for o in listed.organizations])

    def test_suspend_unknown_organization(self):
        s = self.server
        self.assertCode(s.call("SuspendOrganization", org_pb2.SuspendOrganizationRequest(
            request_id=rid(), organization_id="org_doesnotexist", reason="x"),
            key=s.admin_key), C.NOT_FOUND)


class DirectoryTest(harness.RegistryTestCase):
    """Qualifications and ListOrganizations on a database of known content."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.recycler = s.create_org([RECYCLER, WIPER], name="Recycler A")
        cls.recycler2 = s.create_org([RECYCLER], name="Recycler B")
        cls.platform = s.create_org([PLATFORM], name="Platform C")
        cls.appraiser = s.create_org([APPRAISER], name="Appraiser D")
        rid_ = cls.recycler.organization.id

        def setq(org_id, kind, frm, until, no):
            r = s.call("SetQualification", org_pb2.SetQualificationRequest(
                request_id=rid(), organization_id=org_id, kind=kind, certificate_no=no,
                valid_from=frm, valid_until=until), key=s.admin_key)
            if r.code != OK:
                raise AssertionError("SetQualification: %r" % (r,))
            return r.response
        # Valid now.
        setq(rid_, REVERSE_INVOICE, day(-30), day(365), "REV-001")
        # Expired yesterday.
        setq(rid_, DATA_WIPE, day(-400), day(-1), "WIPE-001")
        # Recycler B: reverse invoicing only from next month.
        setq(cls.recycler2.organization.id, REVERSE_INVOICE, day(30), day(400), "REV-002")
        # Appraiser: valid now, revoked by a test below.
        setq(cls.appraiser.organization.id, APPRAISAL, day(-10), day(100), "APP-001")

    def list_all(self, key=None, **kw):
        s = self.server
        out = []
        token = ""
        for _ in range(100):
            resp = self.assertOK(s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
                page_token=token, **kw), key=key or self.platform.api_key))
            out += list(resp.organizations)
            token = resp.next_page_token
            if not token:
                return out
        self.fail("ListOrganizations never ended")

    def by_id(self, orgs):
        return {o.id: o for o in orgs}

    def test_default_valid_on_hides_expired(self):
        orgs = self.by_id(self.list_all())
        rec = orgs[self.recycler.organization.id]
        self.assertEqual([q.kind for q in rec.qualifications], [REVERSE_INVOICE])
        q = rec.qualifications[0]
        self.assertEqual((q.certificate_no, q.valid_from, q.valid_until),
                         ("REV-001", day(-30), day(365)))
        self.assertEqual(rec.uscc, self.recycler.organization.uscc)
        self.assertEqual(rec.name, "Recycler A")
        self.assertEqual(sorted(rec.roles), sorted([RECYCLER, WIPER]))
        # Not yet valid: hidden too.
        self.assertEqual(list(orgs[self.recycler2.organization.id].qualifications), [])
        # Today given explicitly is the default.
        explicit = self.by_id(self.list_all(valid_on=day(0)))
        self.assertEqual([q.kind for q in explicit[self.recycler.organization.id].qualifications],
                         [REVERSE_INVOICE])

    def test_valid_on_in_the_past_shows_expired(self):
        orgs = self.by_id(self.list_all(valid_on=day(-10)))
        kinds = sorted(q.kind for q in orgs[self.recycler.organization.id].qualifications)
        self.assertEqual(kinds, sorted([REVERSE_INVOICE, DATA_WIPE]))
        # Before either window: none.
        orgs = self.by_id(self.list_all(valid_on=day(-500)))
        self.assertEqual(list(orgs[self.recycler.organization.id].qualifications), [])
        # In the future: recycler B's window has begun, A's DATA_WIPE is long over.
        orgs = self.by_id(self.list_all(valid_on=day(60)))
        self.assertEqual([q.kind for q in orgs[self.recycler2.organization.id].qualifications],
                         [REVERSE_INVOICE])
        self.assertEqual([q.kind for q in orgs[self.recycler.organization.id].qualifications],
                         [REVERSE_INVOICE])

    def test_window_bounds_inclusive(self):
        orgs = self.by_id(self.list_all(valid_on=day(-1)))
        self.assertIn(DATA_WIPE, [q.kind for q in orgs[self.recycler.organization.id].qualifications])
        orgs = self.by_id(self.list_all(valid_on=day(-400)))
        self.assertIn(DATA_WIPE, [q.kind for q in orgs[self.recycler.organization.id].qualifications])

    def test_qualification_kind_filter(self):
        ids = [o.id for o in self.list_all(qualification_kind=REVERSE_INVOICE)]
        self.assertEqual(ids, [self.recycler.organization.id])
        self.assertEqual([o.id for o in self.list_all(qualification_kind=DATA_WIPE)], [])
        self.assertEqual([o.id for o in self.list_all(qualification_kind=DATA_WIPE,
                                                      valid_on=day(-10))],
                         [self.recycler.organization.id])
        self.assertEqual(sorted(o.id for o in self.list_all(qualification_kind=REVERSE_INVOICE,
                                                            valid_on=day(60))),
                         sorted([self.recycler.organization.id, self.recycler2.organization.id]))

    def test_role_filter(self):
        recyclers = self.list_all(role=RECYCLER)
        self.assertEqual(sorted(o.id for o in recyclers),
                         sorted([self.recycler.organization.id, self.recycler2.organization.id]))
        for o in recyclers:
            self.assertIn(RECYCLER, o.roles)
        self.assertEqual([o.id for o in self.list_all(role=WIPER)],
                         [self.recycler.organization.id])
        self.assertEqual([o.id for o in self.list_all(role=PLATFORM)],
                         [self.platform.organization.id])
        both = self.list_all(role=RECYCLER, qualification_kind=REVERSE_INVOICE)
        self.assertEqual([o.id for o in both], [self.recycler.organization.id])

    def test_pagination_walks_every_page(self):
        everything = self.list_all(page_size=500)
        self.assertGreaterEqual(len(everything), 5)  # admin + the 4 above
        s = self.server
        seen = []
        token = ""
        pages = 0
        while True:
            resp = self.assertOK(s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
                page_size=1, page_token=token), key=self.platform.api_key))
            pages += 1
            self.assertLessEqual(len(resp.organizations), 1)
            seen += [o.id for o in resp.organizations]
            token = resp.next_page_token
            if not token:
                break
            self.assertLess(pages, 50, "pagination does not end")
        self.assertEqual(len(seen), len(set(seen)), "an organization on two pages: %r" % seen)
        self.assertEqual(sorted(seen), sorted(o.id for o in everything))
        # No organization carries key material or other orgs' secrets.
        for o in everything:
            self.assertNotIn(b"rk_", o.SerializeToString())

    def test_page_token_with_other_filters(self):
        s = self.server
        first = self.assertOK(s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
            page_size=1), key=self.platform.api_key))
        self.assertTrue(first.next_page_token)
        for kw in (dict(role=RECYCLER), dict(qualification_kind=REVERSE_INVOICE),
                   dict(valid_on=day(-10))):
            with self.subTest(**{k: str(v) for k, v in kw.items()}):
                r = s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
                    page_size=1, page_token=first.next_page_token, **kw),
                    key=self.platform.api_key)
                self.assertCode(r, C.INVALID_ARGUMENT)
        # A tampered token.
        tok = first.next_page_token
        mid = len(tok) // 2
        bad = tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1:]
        r = s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
            page_size=1, page_token=bad), key=self.platform.api_key)
        self.assertCode(r, C.INVALID_ARGUMENT)
        r = s.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
            page_size=1, page_token="garbage"), key=self.platform.api_key)
        self.assertCode(r, C.INVALID_ARGUMENT)

    def test_negative_page_size(self):
        r = self.server.call("ListOrganizations", org_pb2.ListOrganizationsRequest(
            page_size=-1), key=self.platform.api_key)
        self.assertField(r, "page_size")

    def test_bad_valid_on(self):
        for bad in ("2024-02-30", "20240101", "yesterday"):
            with self.subTest(valid_on=bad):
                self.assertField(self.server.call("ListOrganizations",
                                                  org_pb2.ListOrganizationsRequest(valid_on=bad),
                                                  key=self.platform.api_key), "valid_on")

    def test_set_qualification_window_reversed(self):
        s = self.server
        r = s.call("SetQualification", org_pb2.SetQualificationRequest(
            request_id=rid(), organization_id=self.platform.organization.id,
            kind=APPRAISAL, certificate_no="X-1", valid_from=day(10), valid_until=day(5)),
            key=s.admin_key)
        d = self.assertCode(r, C.INVALID_ARGUMENT)
        self.assertIsNotNone(d.bad_request, r)
        self.assertIn(d.fields()[0], ("valid_from", "valid_until"), d.fields())
        got = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=self.platform.organization.id), key=s.admin_key))
        self.assertEqual(list(got.organization.qualifications), [])

    def test_set_qualification_bad_input(self):
        s = self.server
        pid = self.platform.organization.id
        cases = [
            ("kind", dict(kind=org_pb2.QUALIFICATION_KIND_UNSPECIFIED)),
            ("valid_from", dict(valid_from="2024-13-01")),
            ("valid_until", dict(valid_until="tomorrow")),
        ]
        for field, kw in cases:
            with self.subTest(field=field):
                base = dict(request_id=rid(), organization_id=pid, kind=APPRAISAL,
                            certificate_no="X-2", valid_from=day(-1), valid_until=day(10))
                base.update(kw)
                self.assertField(s.call("SetQualification",
                                        org_pb2.SetQualificationRequest(**base),
                                        key=s.admin_key), field)
        self.assertCode(s.call("SetQualification", org_pb2.SetQualificationRequest(
            request_id=rid(), organization_id="org_doesnotexist", kind=APPRAISAL,
            certificate_no="X-3", valid_from=day(-1), valid_until=day(10)),
            key=s.admin_key), C.NOT_FOUND)

    def test_revoke_qualification_hides_it(self):
        s = self.server
        aid = self.appraiser.organization.id
        ids = [o.id for o in self.list_all(qualification_kind=APPRAISAL)]
        self.assertEqual(ids, [aid])
        rv = self.assertOK(s.call("RevokeQualification", org_pb2.RevokeQualificationRequest(
            request_id=rid(), organization_id=aid, kind=APPRAISAL, reason="licence withdrawn"),
            key=s.admin_key))
        self.assertEqual(rv.organization.id, aid)
        self.assertEqual([o.id for o in self.list_all(qualification_kind=APPRAISAL)], [])
        orgs = self.by_id(self.list_all())
        self.assertIn(aid, orgs, "the organization stays listed, without the qualification")
        self.assertEqual(list(orgs[aid].qualifications), [])
        # Hidden on every date, too.
        self.assertEqual([o.id for o in self.list_all(qualification_kind=APPRAISAL,
                                                      valid_on=day(-5))], [])
        # GetOrganization still shows it, as revoked with its reason.
        got = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=aid), key=s.admin_key))
        quals = {q.kind: q for q in got.organization.qualifications}
        self.assertTrue(quals[APPRAISAL].revoked)
        self.assertEqual(quals[APPRAISAL].revoked_reason, "licence withdrawn")
        # GetOrganization shows expired ones too.
        got = self.assertOK(s.call("GetOrganization", org_pb2.GetOrganizationRequest(
            organization_id=self.recycler.organization.id), key=s.admin_key))
        self.assertEqual(sorted(q.kind for q in got.organization.qualifications),
                         sorted([REVERSE_INVOICE, DATA_WIPE]))

    def test_set_qualification_replaces_window(self):
        s = self.server
        org = s.create_org([WIPER], name="Wiper E")
        oid = org.organization.id

        def setq(frm, until, no):
            return self.assertOK(s.call("SetQualification", org_pb2.SetQualificationRequest(
                request_id=rid(), organization_id=oid, kind=DATA_WIPE, certificate_no=no,
                valid_from=frm, valid_until=until), key=s.admin_key))
        setq(day(-100), day(-50), "W-OLD")
        self.assertNotIn(oid, [o.id for o in self.list_all(qualification_kind=DATA_WIPE)])
        resp = setq(day(-1), day(200), "W-NEW")
        quals = [q for q in resp.organization.qualifications if q.kind == DATA_WIPE]
        self.assertEqual(len(quals), 1, "at most one per (organization, kind)")
        self.assertEqual(quals[0].certificate_no, "W-NEW")
        self.assertIn(oid, [o.id for o in self.list_all(qualification_kind=DATA_WIPE)])
        # Keep the other tests' expectations: revoke-free cleanup by suspending.
        self.assertOK(s.call("SuspendOrganization", org_pb2.SuspendOrganizationRequest(
            request_id=rid(), organization_id=oid, reason="test done"), key=s.admin_key))


class EventsTest(harness.RegistryTestCase):
    """Each accepted mutation writes its event row (with a LogLeaf) in the
    same transaction; refused calls and replays write none."""

    def counts(self):
        rows = self.server.db.query("SELECT type, count(*) FROM events GROUP BY type")
        return {int(t): int(n) for t, n in rows}

    def test_every_mutation_writes_its_event(self):
        s = self.server
        admin_id = self.assertOK(s.call("WhoAmI", key=s.admin_key)).organization.id
        start = datetime.datetime.now(datetime.timezone.utc)
        before = self.counts()
        max_id = s.db.scalar("SELECT coalesce(max(id), 0) FROM events")

        create = create_req(s, name="Evented Platform", roles=[PLATFORM])
        p = self.assertOK(s.call("CreateOrganization", create, key=s.admin_key))
        pid = p.organization.id
        k = self.assertOK(s.call("IssueApiKey", org_pb2.IssueApiKeyRequest(
            request_id=rid()), key=p.api_key))
        self.assertOK(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id=rid(), key_id=k.key_id), key=p.api_key))
        self.assertOK(s.call("SuspendOrganization", org_pb2.SuspendOrganizationRequest(
            request_id=rid(), organization_id=pid, reason="check"), key=s.admin_key))
        self.assertOK(s.call("ReinstateOrganization", org_pb2.ReinstateOrganizationRequest(
            request_id=rid(), organization_id=pid, reason="ok"), key=s.admin_key))
        self.assertOK(s.call("SetQualification", org_pb2.SetQualificationRequest(
            request_id=rid(), organization_id=pid, kind=APPRAISAL, certificate_no="E-1",
            valid_from=day(-1), valid_until=day(30)), key=s.admin_key))
        self.assertOK(s.call("RevokeQualification", org_pb2.RevokeQualificationRequest(
            request_id=rid(), organization_id=pid, kind=APPRAISAL, reason="done"),
            key=s.admin_key))
        # None of these writes an event: a replay, refusals, reads, and
        # reinstating an organization that is not suspended (no change).
        self.assertOK(s.call("CreateOrganization", create, key=s.admin_key))
        again = self.assertOK(s.call("ReinstateOrganization", org_pb2.ReinstateOrganizationRequest(
            request_id=rid(), organization_id=pid, reason="again"), key=s.admin_key))
        self.assertEqual(again.organization.status, org_pb2.ORGANIZATION_STATUS_ACTIVE)
        self.assertCode(s.call("CreateOrganization", create_req(
            s, uscc=harness.IDS["uscc_bad"][1]), key=s.admin_key), C.INVALID_ARGUMENT)
        self.assertCode(s.call("CreateOrganization", create_req(
            s, uscc=create.uscc), key=s.admin_key), C.ALREADY_EXISTS)
        self.assertCode(s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(
            request_id=rid(), key_id=p.key_id), key=s.admin_key + "x"), C.UNAUTHENTICATED)
        self.assertOK(s.call("WhoAmI", key=p.api_key))
        self.assertOK(s.call("ListOrganizations", key=p.api_key))
        end = datetime.datetime.now(datetime.timezone.utc)

        after = self.counts()
        delta = {t: after.get(t, 0) - before.get(t, 0) for t in set(after) | set(before)}
        delta = {t: n for t, n in delta.items() if n}
        E = log_pb2
        want = {
            E.EVENT_TYPE_ORGANIZATION_CREATED: 1,
            E.EVENT_TYPE_API_KEY_ISSUED: 2,
            E.EVENT_TYPE_API_KEY_REVOKED: 1,
            E.EVENT_TYPE_ORGANIZATION_SUSPENDED: 1,
            E.EVENT_TYPE_ORGANIZATION_REINSTATED: 1,
            E.EVENT_TYPE_QUALIFICATION_SET: 1,
            E.EVENT_TYPE_QUALIFICATION_REVOKED: 1,
        }
        name = lambda t: E.EventType.Name(t)  # noqa: E731
        self.assertEqual({name(t): n for t, n in delta.items()},
                         {name(t): n for t, n in want.items()})

        rows = s.db.query(
            "SELECT event_id, type, organization_id, encode(leaf, 'hex'), "
            "extract(epoch from created_at)::float8 FROM events WHERE id > %s ORDER BY id" % max_id)
        self.assertEqual(len(rows), sum(want.values()))
        acting = {
            E.EVENT_TYPE_ORGANIZATION_CREATED: [admin_id],
            E.EVENT_TYPE_API_KEY_ISSUED: sorted([admin_id, pid]),
            E.EVENT_TYPE_API_KEY_REVOKED: [pid],
            E.EVENT_TYPE_ORGANIZATION_SUSPENDED: [admin_id],
            E.EVENT_TYPE_ORGANIZATION_REINSTATED: [admin_id],
            E.EVENT_TYPE_QUALIFICATION_SET: [admin_id],
            E.EVENT_TYPE_QUALIFICATION_REVOKED: [admin_id],
        }
        got_acting = {}
        event_ids = set()
        lo, hi = start.timestamp() - 2, end.timestamp() + 2
        for event_id, typ, org_id, leaf_hex, created in rows:
            typ = int(typ)
            leaf_bytes = bytes.fromhex(leaf_hex)
            leaf = log_pb2.LogLeaf.FromString(leaf_bytes)
            with self.subTest(event=event_id, type=name(typ)):
                self.assertTrue(event_id.startswith("evt_"), event_id)
                self.assertEqual(leaf.event_id, event_id)
                self.assertEqual(leaf.type, typ)
                self.assertEqual(leaf.organization_id, org_id)
                self.assertTrue(leaf.HasField("at"))
                at = leaf.at.seconds + leaf.at.nanos / 1e9
                self.assertTrue(lo <= at <= hi, "at %s outside [%s, %s]" % (at, lo, hi))
                self.assertLess(abs(at - float(created)), 5)
                # Only ids, type, time and a hash: no item/listing/... for org events.
                for f in ("item_id", "listing_id", "subject_id", "certificate_id", "invoice_id"):
                    self.assertEqual(getattr(leaf, f), "", f)
                self.assertIn(len(leaf.record_sha256), (0, 32))
                # Canonical bytes: fields in number order, no unknown fields.
                canon = log_pb2.LogLeaf(**{fd.name: v for fd, v in leaf.ListFields()})
                self.assertEqual(canon.SerializeToString(deterministic=True), leaf_bytes)
                self.assertNotIn(create.name.encode(), leaf_bytes)
                self.assertNotIn(p.api_key.encode(), leaf_bytes)
            got_acting.setdefault(typ, []).append(org_id)
            event_ids.add(event_id)
        self.assertEqual(len(event_ids), len(rows), "event_id not unique")
        self.assertEqual({name(t): sorted(v) for t, v in got_acting.items()},
                         {name(t): sorted(v) for t, v in acting.items()})


if __name__ == "__main__":
    unittest.main()
