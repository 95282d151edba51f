"""registry-verify certificate (SPEC §4.3, §4.6): a wipe certificate, binary
or proto3 JSON, against a CERTIFICATE vkey, with no server. The certificates
are made here with python3-nacl, independently of the server's signer. A file
that is not a certificate at all is "invalid: BODY_MALFORMED" (exit 1, like
any malformed input); usage and I/O errors exit 2."""

import base64
import json
import tempfile
import unittest

import nacl.signing  # Debian's python3-nacl
from google.protobuf import json_format

import harness
import logutil
import test_verify
from registry.v1 import wipe_pb2

CONTEXT = b"registry.v1.WipeCertificate\n"
NAME = "reg.test/certificate"


def make_key(name=NAME):
    sk = nacl.signing.SigningKey.generate()
    pk = bytes(sk.verify_key)
    return sk, logutil.key_id(name, pk).hex(), logutil.vkey(name, pk)


def make_certificate(sk, key_id, cert_id="crt_test1"):
    body = wipe_pb2.WipeCertificateBody(
        certificate_id=cert_id, registry_id="reg.test", issuer_organization_id="org_1",
        record_id="wpr_1", item_id="itm_1",
        device=wipe_pb2.Device(brand="Acme", model="X1", serial_no="SN123"),
        media=[wipe_pb2.Medium(type=wipe_pb2.MEDIA_TYPE_SSD, serial_no="M1",
                               capacity_bytes=256 << 30)],
        method=wipe_pb2.WIPE_METHOD_PURGE, technique=wipe_pb2.WIPE_TECHNIQUE_CRYPTO_ERASE,
        verification=wipe_pb2.VERIFICATION_FULL, verified_percent=100,
        tool_name="wiper", tool_version="1.0", operator_name_masked="Z*",
        operator_ref=b"\x01\x02\x03", result=wipe_pb2.WIPE_RESULT_SUCCESS)
    body.issued_at.FromSeconds(1700000000)
    raw = body.SerializeToString()
    sig = sk.sign(CONTEXT + raw).signature
    return wipe_pb2.Certificate(id=cert_id, body=raw, signature=sig, key_id=key_id,
                                event_id="evt_1", log_index=7, sequenced=True)


class VerifyCertificateTest(unittest.TestCase):
    file = test_verify.VerifyTest.file
    run_verify = test_verify.VerifyTest.run_verify

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="verify-cert-", dir=harness.var_dir())
        self.sk, self.key_id, self.vkey = make_key()
        self.cert = make_certificate(self.sk, self.key_id)

    def verify(self, cert_bytes, vkey=None, name="cert"):
        return self.run_verify("certificate", self.file(name, cert_bytes),
                               "--vkey", vkey or self.vkey)

    def assertValid(self, r):
        self.assertEqual((r.returncode, r.stdout), (0, "valid\n"), r.stderr)

    def assertInvalid(self, r, *reasons):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines and all(l.startswith("invalid: ") for l in lines), r.stdout)
        for why in reasons:
            self.assertIn("invalid: " + why, lines, r.stdout)

    def test_good_binary(self):
        self.assertValid(self.verify(self.cert.SerializeToString()))

    def test_good_json(self):
        text = json_format.MessageToJson(self.cert)
        self.assertIn('"keyId"', text)
        self.assertValid(self.verify(text, name="cert.json"))
        # leading white space, and URL-safe base64 without padding
        d = json_format.MessageToDict(self.cert)
        d["signature"] = base64.urlsafe_b64encode(self.cert.signature).decode().rstrip("=")
        self.assertValid(self.verify("\n  " + json.dumps(d), name="cert2.json"))

    def test_tampered_body(self):
        c = wipe_pb2.Certificate()
        c.CopyFrom(self.cert)
        b = bytearray(c.body)
        i = b.index(b"SN123")
        b[i] ^= 1  # still a well-formed body, saying something else
        c.body = bytes(b)
        r = self.verify(c.SerializeToString())
        self.assertInvalid(r, "BAD_SIGNATURE")
        self.assertNotIn("BODY_MALFORMED", r.stdout)
        r = self.verify(json_format.MessageToJson(c), name="bad.json")
        self.assertInvalid(r, "BAD_SIGNATURE")

    def test_other_key(self):
        _, _, other = make_key()
        r = self.verify(self.cert.SerializeToString(), vkey=other)
        self.assertInvalid(r, "UNKNOWN_KEY")

    def test_log_key(self):
        sk, kid, vkey = make_key("reg.test/log")
        cert = make_certificate(sk, kid)
        r = self.verify(cert.SerializeToString(), vkey=vkey)
        self.assertEqual((r.returncode, r.stdout),
                         (1, "invalid: the key is not a CERTIFICATE key\n"), r.stderr)

    def test_malformed(self):
        raw = self.cert.SerializeToString()
        self.assertInvalid(self.verify(raw[:20]), "BODY_MALFORMED")  # cut inside the body
        self.assertInvalid(self.verify(b"\xff\xff\xff\xff garbage"), "BODY_MALFORMED")
        self.assertInvalid(self.verify("{not json", name="bad.json"), "BODY_MALFORMED")
        self.assertInvalid(self.verify('{"body": "%%%"}', name="bad2.json"), "BODY_MALFORMED")
        self.assertInvalid(self.verify('{"unknownField": 1}', name="bad3.json"), "BODY_MALFORMED")
        r = self.verify(raw, vkey="reg.test/certificate+00000000+AA==")
        self.assertEqual((r.returncode, r.stdout), (1, "invalid: malformed vkey\n"))

    def test_usage(self):
        good = self.file("cert", self.cert.SerializeToString())
        self.assertEqual(self.run_verify("certificate", good).returncode, 2)
        self.assertEqual(self.run_verify("certificate", "--vkey", self.vkey).returncode, 2)
        self.assertEqual(self.run_verify("certificate", "/nonexistent", "--vkey",
                                         self.vkey).returncode, 2)
        self.assertEqual(self.run_verify("certificate", good, "--vkey", self.vkey,
                                         "--leaf", good).returncode, 2)


if __name__ == "__main__":
    unittest.main()
