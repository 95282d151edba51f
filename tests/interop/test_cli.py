"""registryd's command line (SPEC §4.1, §4.6, §5): admin bootstrap refuses a
second ADMIN, admin issue-key lets a locked-out organization back in,
keys rotate makes a new current signing key and keeps the old one listed,
migrate is idempotent, and the signing keys carry C2SP key ids."""

import hashlib
import unittest

import harness
from registry.v1 import common_pb2, log_pb2, org_pb2

import grpc

C = grpc.StatusCode


def key_id(name, pub):
    return hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex()


class CommandLineTest(harness.RegistryTestCase):

    def test_bootstrap_refuses_a_second_admin(self):
        s = self.server
        r = s.run_cli("admin", "bootstrap", "--name", "Another operator")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(s.db.scalar("SELECT count(*) FROM organizations WHERE 6 = ANY (roles)"), "1")

    def test_bootstrap_needs_a_name(self):
        r = self.server.run_cli("admin", "bootstrap")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")

    def test_issue_key_for_a_locked_out_organization(self):
        s = self.server
        org = s.create_org([common_pb2.ROLE_PLATFORM])
        # the organization revokes its only key: locked out
        rv = s.call("RevokeApiKey", org_pb2.RevokeApiKeyRequest(request_id=harness.rid(), key_id=org.key_id),
                    key=org.api_key)
        self.assertOK(rv)
        self.assertEqual(s.call("WhoAmI", key=org.api_key).code, C.UNAUTHENTICATED)

        issued = ("SELECT count(*) FROM events WHERE type = %d" % log_pb2.EVENT_TYPE_API_KEY_ISSUED)
        before = int(s.db.scalar(issued))
        r = s.run_cli("admin", "issue-key", "--organization", org.organization.id)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertRegex(lines[0], r"^rk_[A-Za-z0-9_-]{43}$")
        who = self.assertOK(s.call("WhoAmI", key=lines[0]))
        self.assertEqual(who.organization.id, org.organization.id)
        # the issue is one event; from the command line the organization
        # itself is the acting one (over gRPC it was the ADMIN that created it)
        self.assertEqual(int(s.db.scalar(issued)), before + 1)
        n = s.db.scalar("SELECT count(*) FROM events WHERE type = %d AND organization_id = '%s'"
                        % (log_pb2.EVENT_TYPE_API_KEY_ISSUED, org.organization.id))
        self.assertEqual(n, "1")

    def test_issue_key_unknown_organization(self):
        r = self.server.run_cli("admin", "issue-key", "--organization", "org_000000000000000000000000")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")

    def test_signing_keys_and_rotation(self):
        s = self.server
        rows = s.db.query("SELECT purpose, key_id, name, encode(public_key, 'hex') FROM signing_keys "
                          "WHERE valid_until IS NULL ORDER BY purpose")
        self.assertEqual([int(r[0]) for r in rows], [1, 2, 3])
        names = {1: s.registry_id + "/certificate", 2: s.registry_id + "/invoice", 3: s.registry_id}
        for purpose, kid, name, pub_hex in rows:
            self.assertEqual(name, names[int(purpose)])
            self.assertEqual(kid, key_id(name, bytes.fromhex(pub_hex)))
        # no secret in clear: the stored secret is wrapped (64-byte key + overhead)
        n = s.db.scalar("SELECT count(*) FROM signing_keys WHERE length(wrapped_secret) <> 64 + 41")
        self.assertEqual(n, "0")

        old = [r for r in rows if r[0] == "3"][0][1]
        r = s.run_cli("keys", "rotate", "--purpose", "LOG")
        self.assertEqual(r.returncode, 0, r.stderr)
        new = r.stdout.strip()
        self.assertRegex(new, r"^[0-9a-f]{8}$")
        self.assertNotEqual(new, old)
        cur = s.db.query("SELECT key_id FROM signing_keys WHERE purpose = 3 AND valid_until IS NULL")
        self.assertEqual(cur, [[new]])
        kept = s.db.query("SELECT key_id FROM signing_keys WHERE purpose = 3 AND valid_until IS NOT NULL")
        self.assertEqual(kept, [[old]])
        self.assertEqual(s.db.scalar("SELECT count(*) FROM events WHERE type = %d"
                                     % log_pb2.EVENT_TYPE_SIGNING_KEY_ROTATED), "1")
        # the other purposes are untouched
        self.assertEqual(s.db.scalar("SELECT count(*) FROM signing_keys WHERE purpose <> 3"), "2")

        bad = s.run_cli("keys", "rotate", "--purpose", "NOPE")
        self.assertEqual(bad.returncode, 1)

    def test_migrate_is_idempotent(self):
        s = self.server
        count = ("SELECT (SELECT count(*) FROM schema_migrations) || '/' || "
                 "(SELECT count(*) FROM signing_keys) || '/' || (SELECT count(*) FROM pii_data_keys)")
        before = s.db.scalar(count)
        self.assertTrue(before.endswith("/1"), before)  # one personal-data key
        r = s.run_cli("migrate")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(s.db.scalar(count), before)

    def test_unknown_command_and_flag(self):
        s = self.server
        self.assertEqual(s.run_cli("frobnicate").returncode, 1)
        self.assertEqual(s.run_cli("migrate", "--no-such-flag", "x").returncode, 1)


if __name__ == "__main__":
    unittest.main()
