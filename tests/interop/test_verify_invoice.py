"""registry-verify invoice (SPEC §4.5, §4.6): a reverse or red invoice,
binary or proto3 JSON, against an INVOICE vkey, with no server. The invoices
are made here with python3-nacl, independently of the server's signer:
Ed25519 over "registry.v1.ReverseInvoice\\n" ‖ the serialized
ReverseInvoiceBody, whose invoice_id must be the invoice's id. Every reason
is printed, one "invalid: <REASON>" line each (exit 1); a file that is not
an invoice at all is "invalid: BODY_MALFORMED"; usage and I/O errors exit
2. Modelled on test_verify_certificate.py."""

import base64
import json
import tempfile
import unittest

import nacl.signing  # Debian's python3-nacl
from google.protobuf import json_format

import harness
import invoiceutil as iu
import listingutil as lu
import logutil
import test_verify
from registry.v1 import common_pb2, invoice_pb2

I = invoice_pb2  # noqa: E741
CONTEXT = b"registry.v1.ReverseInvoice\n"
NAME = "reg.test/invoice"
INV_ID = "inv_01JQ3Z5V8R6W2X9Y4T7N0M1K2P"


def make_key(name=NAME):
    sk = nacl.signing.SigningKey.generate()
    pk = bytes(sk.verify_key)
    return sk, logutil.key_id(name, pk).hex(), logutil.vkey(name, pk)


def make_invoice(sk, key_id, inv_id=INV_ID, body_id=None, red=False):
    """An Invoice as GetInvoice returns it, its body signed by sk."""
    sign = -1 if red else 1
    lines = [
        I.InvoiceLine(category=I.INVOICE_CATEGORY_SCRAP_METAL, description="copper wire",
                      quantity_milli=12500, unit=I.QUANTITY_UNIT_KG, unit_price_fen=5600,
                      amount_fen=sign * 70000),
        I.InvoiceLine(category=I.INVOICE_CATEGORY_SCRAP_VEHICLE, description="sedan",
                      quantity_milli=1000, unit=I.QUANTITY_UNIT_VEHICLE,
                      unit_price_fen=300000, amount_fen=sign * 300000,
                      vin="LSVAU2180N2183294", scrap_certificate_no="BF2026000123"),
    ]
    kind = I.INVOICE_KIND_RED if red else I.INVOICE_KIND_BLUE
    amount = sign * 370000
    extra = {}
    if red:
        extra = dict(original_invoice_id="inv_01JQ3Z5V8R6W2X9Y4T7N0M1K00",
                     red_reason=I.RED_REASON_GOODS_RETURNED)
    body = I.ReverseInvoiceBody(
        invoice_id=body_id or inv_id, invoice_number="26140000001000000042",
        registry_id="reg.test", kind=kind, issuer_organization_id="org_1",
        seller_name_masked="Z**", seller_id_number_masked="110***********001X",
        seller_ref=bytes(range(32)), lines=lines, amount_fen=amount, vat_rate_bp=0,
        vat_fen=0, income_tax_rate_bp=50, income_tax_fen=sign * 1850, total_fen=amount,
        issued_on="2026-03-15", **extra)
    body.issued_at.FromSeconds(1773540000)
    raw = body.SerializeToString()
    sig = sk.sign(CONTEXT + raw).signature
    return I.Invoice(
        id=inv_id, invoice_number="26140000001000000042", kind=kind, issuer_id="org_1",
        seller=common_pb2.Person(name="Z**", id_number="110***********001X"), lines=lines,
        amount_fen=amount, vat_rate_bp=0, vat_fen=0, income_tax_rate_bp=50,
        income_tax_fen=sign * 1850, total_fen=amount, issued_on="2026-03-15", body=raw,
        signature=sig, key_id=key_id, event_id="evt_1", log_index=7, sequenced=True, **extra)


def tamper(inv, old, new):
    """inv with one byte of its body changed (old → new, the body still a
    well-formed ReverseInvoiceBody saying something else)."""
    t = I.Invoice()
    t.CopyFrom(inv)
    b = bytearray(t.body)
    i = b.index(old)
    b[i:i + len(old)] = new
    t.body = bytes(b)
    I.ReverseInvoiceBody.FromString(t.body)  # still parses
    return t


class VerifyInvoiceTest(unittest.TestCase):
    file = test_verify.VerifyTest.file
    run_verify = test_verify.VerifyTest.run_verify

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="verify-inv-", dir=harness.var_dir())
        self.sk, self.key_id, self.vkey = make_key()
        self.inv = make_invoice(self.sk, self.key_id)

    def verify(self, data, vkey=None, name="inv"):
        return self.run_verify("invoice", self.file(name, data), "--vkey", vkey or self.vkey)

    def assertValid(self, r):
        self.assertEqual((r.returncode, r.stdout), (0, "valid\n"), r.stderr)

    def assertInvalid(self, r, *reasons):
        """Exit 1 and exactly these reasons (none given: any)."""
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines and all(l.startswith("invalid: ") for l in lines), r.stdout)
        if reasons:
            self.assertEqual(sorted(lines), sorted("invalid: " + w for w in reasons), r.stdout)

    def both(self, inv):
        """The verdicts on inv as binary and as JSON."""
        return (self.verify(inv.SerializeToString()),
                self.verify(json_format.MessageToJson(inv), name="inv.json"))

    def test_good_binary(self):
        self.assertValid(self.verify(self.inv.SerializeToString()))

    def test_good_json(self):
        text = json_format.MessageToJson(self.inv)
        # what the decoder has to take: lowerCamel keys, a nested Person,
        # repeated messages, enums by name, 64-bit integers as strings
        d = json.loads(text)
        self.assertEqual(d["keyId"], self.key_id)
        self.assertEqual(d["kind"], "INVOICE_KIND_BLUE")
        self.assertEqual(d["amountFen"], "370000")
        self.assertEqual(d["lines"][1]["scrapCertificateNo"], "BF2026000123")
        self.assertValid(self.verify(text, name="inv.json"))
        # original field names, enums by number, integers as numbers, nulls,
        # leading white space, URL-safe base64 without padding
        d = json_format.MessageToDict(self.inv, preserving_proto_field_name=True,
                                      use_integers_for_enums=True)
        d["amount_fen"] = int(d["amount_fen"])
        d["event_id"] = None
        d["signature"] = base64.urlsafe_b64encode(self.inv.signature).decode().rstrip("=")
        self.assertValid(self.verify("\n  " + json.dumps(d), name="inv2.json"))

    def test_red_invoice(self):
        red = make_invoice(self.sk, self.key_id, red=True)
        self.assertLess(red.amount_fen, 0)
        for r in self.both(red):
            self.assertValid(r)

    def test_tampered_body(self):
        # one byte of the body: a description, and an amount in the varint
        for old, new in ((b"copper", b"Copper"), (b"sedan", b"Sedan")):
            for r in self.both(tamper(self.inv, old, new)):
                self.assertInvalid(r, "BAD_SIGNATURE")
        b = I.ReverseInvoiceBody.FromString(self.inv.body)
        b.total_fen += 1
        t = I.Invoice()
        t.CopyFrom(self.inv)
        t.body = b.SerializeToString()
        self.assertEqual(len(t.body), len(self.inv.body))
        self.assertEqual(sum(x != y for x, y in zip(t.body, self.inv.body)), 1)
        for r in self.both(t):
            self.assertInvalid(r, "BAD_SIGNATURE")

    def test_tampered_signature(self):
        t = I.Invoice()
        t.CopyFrom(self.inv)
        s = bytearray(t.signature)
        s[10] ^= 0x20
        t.signature = bytes(s)
        for r in self.both(t):
            self.assertInvalid(r, "BAD_SIGNATURE")
        t.signature = self.inv.signature[:63]
        self.assertInvalid(self.verify(t.SerializeToString()), "BAD_SIGNATURE")

    def test_wrong_key(self):
        # another INVOICE key: its key id is not the invoice's
        _, _, other = make_key()
        r = self.verify(self.inv.SerializeToString(), vkey=other)
        self.assertInvalid(r, "UNKNOWN_KEY")
        # signed by another key but naming ours
        sk2, _, _ = make_key()
        forged = make_invoice(sk2, self.key_id)
        for r in self.both(forged):
            self.assertInvalid(r, "BAD_SIGNATURE")
        # signed in a wipe certificate's context
        t = I.Invoice()
        t.CopyFrom(self.inv)
        t.signature = self.sk.sign(b"registry.v1.WipeCertificate\n" + t.body).signature
        self.assertInvalid(self.verify(t.SerializeToString()), "BAD_SIGNATURE")

    def test_not_an_invoice_key(self):
        for purpose in ("certificate", "log"):
            sk, kid, vkey = make_key("reg.test/" + purpose)
            inv = make_invoice(sk, kid)
            r = self.verify(inv.SerializeToString(), vkey=vkey)
            self.assertEqual((r.returncode, r.stdout),
                             (1, "invalid: the key is not an INVOICE key\n"), r.stderr)

    def test_id_mismatch(self):
        # the invoice's id changed
        t = I.Invoice()
        t.CopyFrom(self.inv)
        t.id = "inv_01JQ3Z5V8R6W2X9Y4T7N0M1K2Z"
        for r in self.both(t):
            self.assertInvalid(r, "ID_MISMATCH")
        # a genuine body of another invoice, under this id
        other = make_invoice(self.sk, self.key_id, body_id="inv_someone_else")
        for r in self.both(other):
            self.assertInvalid(r, "ID_MISMATCH")
        # and tampered as well: both reasons
        t = tamper(other, b"copper", b"Copper")
        self.assertInvalid(self.verify(t.SerializeToString()), "ID_MISMATCH", "BAD_SIGNATURE")

    def test_malformed(self):
        raw = self.inv.SerializeToString()
        self.assertInvalid(self.verify(raw[:20]), "BODY_MALFORMED")
        self.assertInvalid(self.verify(b"\xff\xff\xff\xff garbage"), "BODY_MALFORMED")
        t = I.Invoice()
        t.CopyFrom(self.inv)
        t.body = b"\x0a\x7finv"  # not a ReverseInvoiceBody
        t.signature = self.sk.sign(CONTEXT + t.body).signature
        self.assertInvalid(self.verify(t.SerializeToString()), "BODY_MALFORMED")
        d = json_format.MessageToDict(self.inv)
        for bad in ("{not json", '{"body": "%%%"}', '{"unknownField": 1}',
                    json.dumps(dict(d, kind="INVOICE_KIND_PURPLE")),
                    json.dumps(dict(d, amountFen="12x")),
                    json.dumps(dict(d, vatRateBp=2 ** 31)),
                    json.dumps(dict(d, lines={"description": "not a list"})),
                    json.dumps(dict(d, lines=[None])),
                    json.dumps(dict(d, seller="Z**")),
                    json.dumps(dict(d, seller={"nickname": "Z"})),
                    json.dumps(dict(d, key_id=d["keyId"])),  # one field, both names
                    '{"id": "a", "id": "b"}',
                    "[]"):
            self.assertInvalid(self.verify(bad, name="bad.json"), "BODY_MALFORMED")
        r = self.verify(raw, vkey="reg.test/invoice+00000000+AA==")
        self.assertEqual((r.returncode, r.stdout), (1, "invalid: malformed vkey\n"))

    def test_usage(self):
        good = self.file("inv", self.inv.SerializeToString())
        self.assertEqual(self.run_verify("invoice", good).returncode, 2)
        self.assertEqual(self.run_verify("invoice", "--vkey", self.vkey).returncode, 2)
        self.assertEqual(self.run_verify("invoice", "/nonexistent", "--vkey",
                                         self.vkey).returncode, 2)
        self.assertEqual(self.run_verify("invoice", good, "--vkey", self.vkey,
                                         "--leaf", good).returncode, 2)
        self.assertEqual(self.run_verify("invoice", good, good, "--vkey",
                                         self.vkey).returncode, 2)


class VerifyIssuedInvoiceTest(harness.RegistryTestCase):
    """Invoices the registry itself issued (blue and red), as GetInvoice
    returns them to the issuer — the seller in clear — verified against the
    INVOICE vkey ListSigningKeys lists."""

    file = test_verify.VerifyTest.file
    run_verify = test_verify.VerifyTest.run_verify

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="verify-inv-", dir=harness.var_dir())

    def test_issued_invoices_verify(self):
        s = self.server
        org = iu.make_recycler(s, (iu.REVERSE_INVOICE,), name="Verify Offline Recycling Co")
        person = lu.person(name="欧阳明月")
        req = iu.issue_req(person, [iu.line(iu.METAL, 2000, 4500), iu.line(iu.PAPER, 1000, 700)])
        r = s.call("IssueReverseInvoice", req, key=org.key)
        self.assertEqual(r.code, harness.OK, r)
        blue = r.response.invoice
        r = s.call("IssueRedInvoice", iu.red_req(blue.id, full=True), key=org.key)
        self.assertEqual(r.code, harness.OK, r)
        red = r.response.invoice
        vkey = iu.current_invoice_key(s).vkey
        for inv in (blue, red):
            r = s.call("GetInvoice", I.GetInvoiceRequest(invoice_id=inv.id), key=org.key)
            self.assertEqual(r.code, harness.OK, r)
            got = r.response.invoice
            for name, data in (("inv", got.SerializeToString()),
                               ("inv.json", json_format.MessageToJson(got))):
                r = self.run_verify("invoice", self.file(name, data), "--vkey", vkey)
                self.assertEqual((r.returncode, r.stdout), (0, "valid\n"), r.stderr)
            t = tamper(got, got.invoice_number.encode(),
                       got.invoice_number[:-1].encode() + b"X")
            r = self.run_verify("invoice", self.file("bad", t.SerializeToString()), "--vkey", vkey)
            self.assertEqual((r.returncode, r.stdout), (1, "invalid: BAD_SIGNATURE\n"))


if __name__ == "__main__":
    unittest.main()
