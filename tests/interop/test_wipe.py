"""WipeService through a stock gRPC client (SPEC §4.3, §4.2 listing gate,
§6; DOMAIN §3; services/wipe/README.md), checked the way a user would:

- a certificate is verified here with python3-nacl against the CERTIFICATE
  key ListSigningKeys lists (called without a key), and its body parses as
  WipeCertificateBody saying exactly what was submitted;
- the signed body holds the operator only masked, with a 32-byte
  operator_ref stable per (wiping company, name);
- refused submissions are stored without a certificate and say why;
  meaningless combinations are INVALID_ARGUMENT naming the field and store
  nothing (the device stays unknown);
- the certificate is sequenced into the transparency log and its receipt
  proves the leaf that commits to the signed body;
- VerifyCertificate needs no key; tampered bodies, unknown keys and
  revocations are not valid;
- revocation suspends the listings that relied on the certificate; the
  listing gate WIPE_CERTIFICATE_REQUIRED, also for a resold phone;
- callers, qualification, request_id replay, ListCertificates filters;
- registry-verify on a real certificate, binary and proto3 JSON;
- `registryd keys rotate --purpose CERTIFICATE`: old certificates still
  verify, new ones carry the new key."""

import hashlib
import os
import tempfile
import time

import grpc
import nacl.exceptions
import nacl.signing
from google.protobuf import json_format

import harness
import listingutil as lu
import logutil
import wipeutil as wu
from harness import rid
from listingutil import L, PLATFORM, INSPECTOR
from registry.v1 import log_pb2, wipe_pb2

W = wipe_pb2
C = grpc.StatusCode
FP = C.FAILED_PRECONDITION
GiB = wu.GiB
REGISTRY_ID = "registry.test"


class WipeCase(harness.RegistryTestCase):
    """Shared helpers; each subclass has its own registryd and database."""

    @classmethod
    def org(cls, *roles, name=None):
        return lu.make_org(cls.server, roles, name=name)

    def call(self, method, req=None, org=None):
        key = org.key if hasattr(org, "key") else org
        return self.server.call(method, req, key=key)

    def ok(self, method, req, org):
        return self.assertOK(self.call(method, req, org))

    def submit(self, org, req):
        return self.ok("SubmitWipe", req, org)

    def certify(self, org, req=None):
        """SubmitWipe that must earn a certificate → (response, certificate)."""
        r = self.submit(org, req or wu.wipe_req())
        self.assertTrue(r.record_id.startswith("wpr_"), r)
        self.assertEqual(r.certificate_refused_reason, "", r)
        self.assertTrue(r.HasField("certificate"), "no certificate: %s" % r)
        self.assertTrue(r.certificate.id.startswith("crt_"), r)
        return r, r.certificate

    def refused(self, org, req, reason):
        """SubmitWipe that is stored without a certificate → response."""
        r = self.submit(org, req)
        self.assertTrue(r.record_id.startswith("wpr_"), r)
        self.assertFalse(r.HasField("certificate"), "unexpected certificate: %s" % r)
        self.assertEqual(r.certificate_refused_reason, reason)
        return r

    def body(self, cert):
        return W.WipeCertificateBody.FromString(cert.body)

    def get_cert(self, org, cert_id):
        return self.ok("GetCertificate", W.GetCertificateRequest(certificate_id=cert_id),
                       org).certificate

    def verify(self, **kw):
        """VerifyCertificate WITHOUT an API key."""
        return self.assertOK(self.server.call("VerifyCertificate",
                                              W.VerifyCertificateRequest(**kw)))

    def history(self, org, **key):
        return self.ok("GetItemHistory", L.GetItemHistoryRequest(**key), org)

    def phone_item(self, org, storage_bytes=128 * GiB, **kw):
        return lu.register(self.server, org.key,
                           lu.electronic(storage_bytes=storage_bytes, **kw)).item

    def create_listing(self, org, item_id, **kw):
        return self.call("CreateListing", lu.listing_req(item_id, **kw), org)

    def get_listing(self, org, listing_id):
        return self.ok("GetListing", L.GetListingRequest(listing_id=listing_id), org).listing

    def update(self, org, listing_id, status=0, wipe_certificate_id=""):
        return self.call("UpdateListing", L.UpdateListingRequest(
            request_id=rid(), listing_id=listing_id, status=status,
            wipe_certificate_id=wipe_certificate_id), org)

    def revoke(self, org, cert_id, reason="wrong erasure profile used on this device"):
        return self.call("RevokeCertificate", W.RevokeCertificateRequest(
            request_id=rid(), certificate_id=cert_id, reason=reason), org)

    def list_certs(self, org, **kw):
        return self.call("ListCertificates", W.ListCertificatesRequest(**kw), org)

    def count(self, sql):
        return int(self.server.db.scalar(sql))

    def events(self, etype, **where):
        """How many events of `etype` name the given ids (SPEC §4.6)."""
        cond = "".join(" AND %s = '%s'" % kv for kv in sorted(where.items()))
        return self.count("SELECT count(*) FROM events WHERE type = %d%s" % (etype, cond))

    def assertNaclValid(self, cert, public_key):
        try:
            wu.nacl_verify(public_key, cert)
        except nacl.exceptions.BadSignatureError:
            self.fail("certificate %s does not verify under key %s"
                      % (cert.id, public_key.hex()))

    def assertUnknownDevice(self, imei):
        self.assertCode(self.call("GetItemHistory", L.GetItemHistoryRequest(imei=imei),
                                  self.insp), C.NOT_FOUND)


# ---------------------------------------------------------------------------------------
# Certificates, refusals, the log, verification, revocation, listings
# ---------------------------------------------------------------------------------------


class WipeTest(WipeCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.w = wu.make_wiper(s, name="Taiyuan Secure Erase Co")
        cls.w2 = wu.make_wiper(s, name="Yangquan Refurbishers")
        cls.unqualified = wu.make_wiper(s, name="Unaccredited Wiper", qualified=False)
        cls.p = cls.org(PLATFORM, name="Platform P")
        cls.p2 = cls.org(PLATFORM, name="Platform Q")
        cls.insp = cls.org(INSPECTOR, name="Market Supervision")

    # -- a certificate, checked independently ------------------------------------------

    def test_ssd_certificate_verifies_with_nacl(self):
        media = [wu.medium(W.MEDIA_TYPE_SSD, 512 * GiB, serial_no="S4EVNX0R123456")]
        req = wu.wipe_req(device=wu.computer_device(), media=media,
                          method=W.WIPE_METHOD_PURGE, technique=W.WIPE_TECHNIQUE_BLOCK_ERASE,
                          passes=0, verification=W.VERIFICATION_SAMPLE, verified_percent=10,
                          tool_name="Parted Magic Secure Erase", tool_version="2024.05.03",
                          destination=W.DESTINATION_REUSE)
        before = time.time()
        r, cert = self.certify(self.w, req)
        after = time.time()
        self.assertTrue(r.item_id.startswith("itm_"), r)
        self.assertEqual(len(cert.signature), 64)
        self.assertRegex(cert.key_id, r"^[0-9a-f]{8}$")

        # The key: a CERTIFICATE key of ListSigningKeys (no API key), by key_id.
        key = wu.cert_key(self.server, cert.key_id)
        self.assertEqual(key.purpose, log_pb2.KEY_PURPOSE_CERTIFICATE)
        self.assertEqual(key.name, REGISTRY_ID + "/certificate")
        self.assertEqual(key.key_id, logutil.key_id(key.name, key.public_key).hex())
        self.assertNaclValid(cert, key.public_key)
        vk = nacl.signing.VerifyKey(bytes(key.public_key))
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            vk.verify(cert.body, cert.signature)  # the context string is part of it
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            vk.verify(wu.CONTEXT + wu.flip_in(cert.body, b"Parted"), cert.signature)

        # The body says what was submitted.
        b = self.body(cert)
        self.assertEqual(b.certificate_id, cert.id)
        self.assertEqual(b.registry_id, REGISTRY_ID)
        self.assertEqual(b.issuer_organization_id, self.w.id)
        self.assertEqual(b.record_id, r.record_id)
        self.assertEqual(b.item_id, r.item_id)
        self.assertEqual(b.device.item_id, r.item_id)
        self.assertEqual((b.device.category, b.device.brand, b.device.model, b.device.serial_no,
                          b.device.imei),
                         (req.device.category, req.device.brand, req.device.model,
                          req.device.serial_no, ""))
        self.assertEqual(list(b.media), list(req.media))
        self.assertEqual((b.method, b.technique, b.passes, b.random_pass),
                         (W.WIPE_METHOD_PURGE, W.WIPE_TECHNIQUE_BLOCK_ERASE, 0, False))
        self.assertEqual((b.verification, b.verified_percent), (W.VERIFICATION_SAMPLE, 10))
        self.assertEqual((b.tool_name, b.tool_version),
                         ("Parted Magic Secure Erase", "2024.05.03"))
        self.assertEqual(b.started_at, req.started_at)
        self.assertEqual(b.finished_at, req.finished_at)
        self.assertEqual(b.performed_at, req.performed_at)
        self.assertEqual((b.destination, b.result), (W.DESTINATION_REUSE, W.WIPE_RESULT_SUCCESS))
        self.assertTrue(b.HasField("issued_at"))
        issued = b.issued_at.ToNanoseconds() / 1e9
        self.assertTrue(before - 5 <= issued <= after + 5, (before, issued, after))
        self.assertGreaterEqual(b.issued_at.ToNanoseconds(), key.valid_from.ToNanoseconds())

        # GetCertificate returns the same signed bytes; the laptop is an
        # electronic item whose storage is the medium's capacity.
        got = self.get_cert(self.p, cert.id)
        self.assertEqual((got.id, got.body, got.signature, got.key_id, got.event_id),
                         (cert.id, cert.body, cert.signature, cert.key_id, cert.event_id))
        self.assertFalse(got.revoked)
        item = self.ok("GetItem", L.GetItemRequest(item_id=r.item_id), self.p).item
        self.assertEqual(item.kind, L.ITEM_KIND_ELECTRONIC)
        self.assertEqual(item.electronic.serial_no, req.device.serial_no)
        self.assertEqual(item.electronic.storage_bytes, 512 * GiB)
        # one event each: the implicit registration, the record, the certificate
        self.assertEqual([self.events(t, item_id=r.item_id) for t in (
            log_pb2.EVENT_TYPE_ITEM_REGISTERED, log_pb2.EVENT_TYPE_WIPE_RECORDED,
            log_pb2.EVENT_TYPE_CERTIFICATE_ISSUED)], [1, 1, 1])
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_CERTIFICATE_ISSUED,
                                     certificate_id=cert.id, event_id=cert.event_id), 1)

    def test_operator_is_masked_with_a_stable_ref(self):
        name = "欧阳建国"
        certs = {}
        for label, org, op in (("a1", self.w, name), ("a2", self.w, name),
                               ("other_name", self.w, "李明华"), ("other_org", self.w2, name)):
            _, certs[label] = self.certify(org, wu.wipe_req(operator_name=op))
        bodies = {k: self.body(c) for k, c in certs.items()}
        for k, c in certs.items():
            with self.subTest(cert=k):
                for full in (name, "李明华"):
                    self.assertNotIn(full.encode(), c.body)
                    self.assertNotIn(full.encode(), c.SerializeToString())
                    got = self.get_cert(self.p, c.id)
                    self.assertNotIn(full.encode(), got.SerializeToString())
                self.assertEqual(len(bodies[k].operator_ref), 32)
        self.assertEqual(bodies["a1"].operator_name_masked, "欧*国")
        self.assertEqual(bodies["a2"].operator_name_masked, "欧*国")
        self.assertEqual(bodies["other_name"].operator_name_masked, "李*华")
        for op, masked in (("李四", "李*"), ("王", "*")):
            with self.subTest(operator=op):
                _, c = self.certify(self.w, wu.wipe_req(operator_name=op))
                self.assertEqual(self.body(c).operator_name_masked, masked)
                self.assertNotIn(op.encode(), c.body)
        self.assertEqual(bodies["a1"].operator_ref, bodies["a2"].operator_ref)
        self.assertNotEqual(bodies["a1"].operator_ref, bodies["other_name"].operator_ref)
        # the ref is keyed by the wiping company as well (README)
        self.assertNotEqual(bodies["a1"].operator_ref, bodies["other_org"].operator_ref)

    # -- refusals that are stored ----------------------------------------------------------

    def test_hdd_refusals_are_stored_and_three_passes_certify(self):
        dev = wu.computer_device(model="ThinkCentre M720")
        media = [wu.medium(W.MEDIA_TYPE_HDD, 1000 * GiB, serial_no="WD-WCC4E1234567")]
        weak = dict(device=dev, media=media, method=W.WIPE_METHOD_CLEAR,
                    technique=W.WIPE_TECHNIQUE_OVERWRITE, passes=1, random_pass=False,
                    verification=W.VERIFICATION_FULL, verified_percent=100,
                    result=W.WIPE_RESULT_SUCCESS)
        r1 = self.refused(self.w, wu.hdd_req(**weak), "WIPE_METHOD_INSUFFICIENT")
        r2 = self.refused(self.w, wu.hdd_req(**dict(weak, result=W.WIPE_RESULT_FAILED)),
                          "WIPE_FAILED")
        r3 = self.refused(self.w, wu.hdd_req(**dict(weak, verification=W.VERIFICATION_NONE,
                                                    verified_percent=0)),
                          "WIPE_NOT_VERIFIED")
        r4 = self.refused(self.w, wu.hdd_req(**dict(weak, passes=3)), "WIPE_METHOD_INSUFFICIENT")
        r5 = self.refused(self.w, wu.hdd_req(**dict(weak, passes=3, random_pass=True,
                                                    result=W.WIPE_RESULT_ABORTED)),
                          "WIPE_FAILED")
        refused = [r1, r2, r3, r4, r5]
        item_id = r1.item_id
        self.assertTrue(item_id.startswith("itm_"))
        self.assertEqual({r.item_id for r in refused}, {item_id})
        self.assertEqual(len({r.record_id for r in refused}), 5)

        # A failed device can never pass as wiped.
        self.assertEqual(list(self.assertOK(self.list_certs(self.p, item_id=item_id))
                              .certificates), [])
        self.assertReason(self.create_listing(self.p, item_id), FP, "WIPE_CERTIFICATE_REQUIRED")

        r6, cert = self.certify(self.w, wu.hdd_req(**dict(weak, passes=3, random_pass=True)))
        self.assertEqual(r6.item_id, item_id)
        b = self.body(cert)
        self.assertEqual((b.method, b.technique, b.passes, b.random_pass),
                         (W.WIPE_METHOD_CLEAR, W.WIPE_TECHNIQUE_OVERWRITE, 3, True))
        self.assertEqual([m.type for m in b.media], [W.MEDIA_TYPE_HDD])
        self.assertNaclValid(cert, wu.cert_key(self.server, cert.key_id).public_key)

        wiped = [e for e in self.history(self.p, item_id=item_id).entries
                 if e.kind == L.HISTORY_KIND_WIPED]
        self.assertEqual(len(wiped), 6, wiped)
        self.assertEqual([e.certificate_id for e in wiped], [""] * 5 + [cert.id])
        self.assertEqual([e.detail for e in wiped],
                         ["WIPE_METHOD_INSUFFICIENT", "WIPE_FAILED", "WIPE_NOT_VERIFIED",
                          "WIPE_METHOD_INSUFFICIENT", "WIPE_FAILED", "CERTIFIED"])
        self.assertTrue(all(e.organization_id == self.w.id for e in wiped))
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_WIPE_RECORDED, item_id=item_id), 6)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_CERTIFICATE_ISSUED, item_id=item_id), 1)

    # -- meaningless combinations: nothing stored ----------------------------------------------

    def test_meaningless_combinations_store_nothing(self):
        HDD, SSD = W.MEDIA_TYPE_HDD, W.MEDIA_TYPE_SSD
        cases = [
            ("technique", dict(method=W.WIPE_METHOD_DESTROY, technique=W.WIPE_TECHNIQUE_OVERWRITE,
                               passes=1, destination=W.DESTINATION_RECYCLE)),
            ("technique", dict(method=W.WIPE_METHOD_CLEAR, technique=W.WIPE_TECHNIQUE_SHRED,
                               destination=W.DESTINATION_RECYCLE)),
            ("media[0].type", dict(method=W.WIPE_METHOD_PURGE, technique=W.WIPE_TECHNIQUE_DEGAUSS,
                                   media=[wu.medium(SSD)], destination=W.DESTINATION_RECYCLE)),
            ("media[1].type", dict(method=W.WIPE_METHOD_PURGE, technique=W.WIPE_TECHNIQUE_DEGAUSS,
                                   media=[wu.medium(HDD), wu.medium(SSD)],
                                   destination=W.DESTINATION_RECYCLE)),
            ("passes", dict(technique=W.WIPE_TECHNIQUE_BLOCK_ERASE, passes=2)),
            ("passes", dict(technique=W.WIPE_TECHNIQUE_CRYPTO_ERASE, passes=1)),
            ("passes", dict(method=W.WIPE_METHOD_CLEAR, technique=W.WIPE_TECHNIQUE_OVERWRITE,
                            passes=0)),
            ("verified_percent", dict(verification=W.VERIFICATION_SAMPLE, verified_percent=100)),
            ("verified_percent", dict(verification=W.VERIFICATION_SAMPLE, verified_percent=0)),
            ("verified_percent", dict(verification=W.VERIFICATION_NONE, verified_percent=10)),
            ("verified_percent", dict(verification=W.VERIFICATION_FULL, verified_percent=99)),
            ("destination", dict(method=W.WIPE_METHOD_DESTROY, technique=W.WIPE_TECHNIQUE_SHRED,
                                 destination=W.DESTINATION_RESALE)),
            ("destination", dict(method=W.WIPE_METHOD_DESTROY,
                                 technique=W.WIPE_TECHNIQUE_DISINTEGRATE,
                                 destination=W.DESTINATION_REUSE)),
            ("destination", dict(method=W.WIPE_METHOD_PURGE, technique=W.WIPE_TECHNIQUE_DEGAUSS,
                                 media=[wu.medium(HDD)], destination=W.DESTINATION_RESALE)),
        ]
        records = "SELECT count(*) FROM wipe_records"
        before = self.count(records)
        last = None
        for field, kw in cases:
            for result in (W.WIPE_RESULT_SUCCESS, W.WIPE_RESULT_FAILED):
                req = wu.wipe_req(result=result, **kw)
                with self.subTest(field=field, case=kw, result=result):
                    self.assertField(self.call("SubmitWipe", req, self.w), field)
                    self.assertUnknownDevice(req.device.imei)
                last = req
        self.assertEqual(self.count(records), before)
        # The refused request_id is unused: the corrected request takes it.
        fixed = wu.wipe_req(request_id=last.request_id, device=last.device)
        _, cert = self.certify(self.w, fixed)
        self.assertEqual(self.history(self.insp, imei=last.device.imei).item.electronic.imei,
                         last.device.imei)

    def test_required_fields_and_times(self):
        now = int(time.time())
        future = harness.timestamp_pb2.Timestamp(seconds=now + 3600)
        cases = [
            ("device", dict(device=W.Device(category=L.ELECTRONIC_CATEGORY_PHONE,
                                            brand="Xiaomi"))),
            ("media", dict(media=[])),
            ("method", dict(method=W.WIPE_METHOD_UNSPECIFIED)),
            ("technique", dict(technique=W.WIPE_TECHNIQUE_UNSPECIFIED)),
            ("verification", dict(verification=W.VERIFICATION_UNSPECIFIED)),
            ("tool_name", dict(tool_name="")),
            ("operator_name", dict(operator_name="  ")),
            ("destination", dict(destination=W.DESTINATION_UNSPECIFIED)),
            ("result", dict(result=W.WIPE_RESULT_UNSPECIFIED)),
            ("finished_at", dict(started_at=wu.at(600), finished_at=wu.at(1200))),
            ("finished_at", dict(finished_at=future)),
            ("performed_at", dict(performed_at=future)),
        ]
        for field, kw in cases:
            req = wu.wipe_req(**kw)
            with self.subTest(field=field, case=kw):
                self.assertField(self.call("SubmitWipe", req, self.w), field)
                if req.device.imei:
                    self.assertUnknownDevice(req.device.imei)
        self.assertField(self.call("SubmitWipe", wu.wipe_req(request_id="not-a-uuid"), self.w),
                         "request_id")

    def test_device_by_item_id(self):
        item = self.phone_item(self.p)
        # the same IMEI names the same item
        e = item.electronic
        r, cert = self.certify(self.w, wu.wipe_req(device=wu.phone_device(
            imei=e.imei, brand=e.brand, model=e.model, serial_no=e.serial_no)))
        self.assertEqual(r.item_id, item.id)
        self.assertEqual(self.body(cert).device.imei, e.imei)
        # item_id alone: the registered item's identifiers go on the certificate
        r2, cert2 = self.certify(self.w, wu.wipe_req(device=W.Device(item_id=item.id)))
        self.assertEqual(r2.item_id, item.id)
        d = self.body(cert2).device
        self.assertEqual((d.item_id, d.category, d.brand, d.model, d.imei, d.serial_no),
                         (item.id, item.electronic.category, item.electronic.brand,
                          item.electronic.model, item.electronic.imei, item.electronic.serial_no))
        self.assertCode(self.call("SubmitWipe", wu.wipe_req(device=W.Device(
            item_id="itm_doesnotexist")), self.w), C.NOT_FOUND)
        car = lu.new_vehicle(self.server, self.p.key)
        self.assertField(self.call("SubmitWipe", wu.wipe_req(device=W.Device(item_id=car.id)),
                                   self.w), "device.item_id")
        self.assertField(self.call("SubmitWipe", wu.wipe_req(device=W.Device(
            item_id=item.id, imei=item.electronic.imei)), self.w), "device.imei")
        bad_imei = wu.phone_device(imei=harness.IDS["imei_bad"][0])
        self.assertField(self.call("SubmitWipe", wu.wipe_req(device=bad_imei), self.w),
                         "device.imei")

    # -- the transparency log --------------------------------------------------------------------

    def test_certificate_is_sequenced_and_has_a_receipt(self):
        r, cert = self.certify(self.w)
        self.assertTrue(cert.event_id.startswith("evt_"), cert)
        got = self.get_cert(self.p, cert.id)  # at once
        self.assertEqual(got.event_id, cert.event_id)

        seq = harness.eventually(lambda: (lambda c: c if c.sequenced else None)(
            self.get_cert(self.p, cert.id)), timeout=10, interval=0.1)
        self.assertTrue(seq, "certificate %s not sequenced after 10 s" % cert.id)
        self.assertGreaterEqual(seq.log_index, 0)

        def receipt():
            rr = self.call("GetReceipt", log_pb2.GetReceiptRequest(event_id=cert.event_id),
                           self.p)
            if rr.code == C.NOT_FOUND:
                return None
            return self.assertOK(rr)
        rec = harness.eventually(receipt, timeout=10, interval=0.1)
        self.assertTrue(rec, "no receipt for %s after 10 s" % cert.event_id)
        self.assertEqual(rec.log_index, seq.log_index)

        # The leaf commits to the signed body; the receipt proves the leaf.
        entries = self.ok("GetEntries", log_pb2.GetEntriesRequest(
            start=seq.log_index, end=seq.log_index + 1), self.p).entries
        self.assertEqual(len(entries), 1)
        leaf = log_pb2.LogLeaf.FromString(entries[0].leaf)
        self.assertEqual(leaf.event_id, cert.event_id)
        self.assertEqual(leaf.type, log_pb2.EVENT_TYPE_CERTIFICATE_ISSUED)
        self.assertEqual(leaf.certificate_id, cert.id)
        self.assertEqual(leaf.item_id, r.item_id)
        self.assertEqual(leaf.organization_id, self.w.id)
        self.assertEqual(leaf.record_sha256, hashlib.sha256(cert.body).digest())
        idx, hashes, note = logutil.parse_receipt(rec.receipt)
        self.assertEqual(idx, seq.log_index)
        name, pk = logutil.log_key(self.server)
        origin, size, root = logutil.parse_checkpoint(logutil.verify_note(note, name, pk))
        self.assertEqual(origin, REGISTRY_ID)
        self.assertTrue(logutil.verify_inclusion(idx, size, logutil.leaf_hash(entries[0].leaf),
                                                 hashes, root))

    # -- VerifyCertificate ------------------------------------------------------------------------

    def test_verify_certificate_without_a_key(self):
        _, cert = self.certify(self.w, wu.wipe_req(tool_name="Blancco Mobile Diagnostics"))
        v = self.verify(certificate_id=cert.id)
        self.assertEqual((v.valid, list(v.reasons), v.revoked, v.key_id),
                         (True, [], False, cert.key_id))
        v = self.verify(certificate=cert)
        self.assertEqual((v.valid, list(v.reasons), v.revoked, v.key_id),
                         (True, [], False, cert.key_id))

        flipped = wu.tampered(cert, b"Blancco")
        W.WipeCertificateBody.FromString(flipped.body)  # still a well-formed body
        v = self.verify(certificate=flipped)
        self.assertFalse(v.valid)
        self.assertIn("BAD_SIGNATURE", v.reasons)
        self.assertNotIn("BODY_MALFORMED", v.reasons)

        other_sig = W.Certificate()
        other_sig.CopyFrom(cert)
        _, another = self.certify(self.w)
        other_sig.signature = another.signature
        v = self.verify(certificate=other_sig)
        self.assertFalse(v.valid)
        self.assertIn("BAD_SIGNATURE", v.reasons)

        known = {k.key_id for k in wu.cert_keys(self.server)}
        unknown = next(k for k in ("00000000", "ffffffff", "0badc0de") if k not in known)
        nokey = W.Certificate()
        nokey.CopyFrom(cert)
        nokey.key_id = unknown
        v = self.verify(certificate=nokey)
        self.assertFalse(v.valid)
        self.assertIn("UNKNOWN_KEY", v.reasons)

        renamed = W.Certificate()
        renamed.CopyFrom(cert)
        renamed.id = another.id
        v = self.verify(certificate=renamed)
        self.assertFalse(v.valid)
        self.assertIn("ID_MISMATCH", v.reasons)

        self.assertCode(self.server.call("VerifyCertificate", W.VerifyCertificateRequest(
            certificate_id="crt_doesnotexist")), C.NOT_FOUND)
        self.assertCode(self.server.call("VerifyCertificate", W.VerifyCertificateRequest()),
                        C.INVALID_ARGUMENT)

    # -- revocation ----------------------------------------------------------------------------------

    def test_revocation_suspends_listings(self):
        ACTIVE, SUSPENDED = L.LISTING_STATUS_ACTIVE, L.LISTING_STATUS_SUSPENDED
        item = self.phone_item(self.p)
        _, c1 = self.certify(self.w, wu.wipe_req(device=W.Device(item_id=item.id)))
        # Platform P's first listing is withdrawn before the revocation; it
        # lists again (the certificate on file); platform Q names the
        # certificate and has its listing RESERVED.
        old = self.assertOK(self.create_listing(self.p, item.id)).listing
        self.assertOK(self.update(self.p, old.id, L.LISTING_STATUS_WITHDRAWN))
        lst = self.assertOK(self.create_listing(self.p, item.id)).listing
        self.assertEqual((lst.status, lst.wipe_certificate_id), (ACTIVE, c1.id))
        res = self.assertOK(self.create_listing(self.p2, item.id,
                                                wipe_certificate_id=c1.id)).listing
        self.assertEqual(res.wipe_certificate_id, c1.id)
        self.assertOK(self.update(self.p2, res.id, L.LISTING_STATUS_RESERVED))

        # Who may revoke: the issuer or an inspector; a reason is required.
        self.assertCode(self.revoke(self.w2, c1.id), C.PERMISSION_DENIED)
        self.assertCode(self.revoke(self.p, c1.id), C.PERMISSION_DENIED)
        self.assertField(self.revoke(self.w, c1.id, reason=""), "reason")
        self.assertCode(self.revoke(self.w, "crt_doesnotexist"), C.NOT_FOUND)
        self.assertTrue(self.verify(certificate_id=c1.id).valid)
        self.assertEqual(self.get_listing(self.p, lst.id).status, ACTIVE)

        why = "operator used a quick-erase profile"
        rreq = W.RevokeCertificateRequest(request_id=rid(), certificate_id=c1.id, reason=why)
        rv = self.ok("RevokeCertificate", rreq, self.w)
        self.assertEqual(rv.certificate.id, c1.id)
        self.assertTrue(rv.certificate.revoked)
        self.assertEqual(rv.certificate.revoked_reason, why)
        self.assertEqual(sorted(rv.suspended_listing_ids), sorted([lst.id, res.id]))
        self.assertEqual(self.get_listing(self.p, lst.id).status, SUSPENDED)
        self.assertEqual(self.get_listing(self.p2, res.id).status, SUSPENDED)
        self.assertEqual(self.get_listing(self.p, old.id).status, L.LISTING_STATUS_WITHDRAWN)
        self.assertTrue(self.get_cert(self.p, c1.id).revoked)
        listed = self.assertOK(self.list_certs(self.p, item_id=item.id)).certificates
        self.assertEqual([(c.id, c.revoked) for c in listed], [(c1.id, True)])
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_CERTIFICATE_REVOKED,
                                     certificate_id=c1.id), 1)
        self.assertEqual([self.events(log_pb2.EVENT_TYPE_LISTING_SUSPENDED, listing_id=x)
                          for x in (lst.id, res.id, old.id)], [1, 1, 0])
        v = self.verify(certificate_id=c1.id)
        self.assertFalse(v.valid)
        self.assertTrue(v.revoked)
        self.assertIn("REVOKED", v.reasons)
        self.assertEqual(v.key_id, c1.key_id)
        v = self.verify(certificate=c1)  # by value: revocation looked up by the body's id
        self.assertFalse(v.valid)
        self.assertIn("REVOKED", v.reasons)

        # A replay answers the same; a new revocation is refused.
        again = self.ok("RevokeCertificate", rreq, self.w)
        self.assertEqual((again.certificate.id, sorted(again.suspended_listing_ids)),
                         (c1.id, sorted(rv.suspended_listing_ids)))
        for org in (self.w, self.insp):
            with self.subTest(again_by=org):
                self.assertReason(self.revoke(org, c1.id), FP, "ALREADY_REVOKED")
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_CERTIFICATE_REVOKED,
                                     certificate_id=c1.id), 1)

        # Back to ACTIVE only with a new valid certificate for this item.
        self.assertReason(self.update(self.p, lst.id, ACTIVE), FP, "WIPE_CERTIFICATE_REQUIRED")
        self.assertReason(self.update(self.p, lst.id, ACTIVE, c1.id), FP,
                          "WIPE_CERTIFICATE_REQUIRED")
        _, c_other = self.certify(self.w)  # another phone's
        self.assertReason(self.update(self.p, lst.id, ACTIVE, c_other.id), FP,
                          "WIPE_CERTIFICATE_REQUIRED")
        self.assertEqual(self.get_listing(self.p, lst.id).status, SUSPENDED)
        p3 = self.org(PLATFORM, name="Platform R")
        self.assertReason(self.create_listing(p3, item.id), FP, "WIPE_CERTIFICATE_REQUIRED")
        _, c2 = self.certify(self.w2, wu.wipe_req(device=W.Device(item_id=item.id)))
        up = self.assertOK(self.update(self.p, lst.id, ACTIVE, c2.id)).listing
        self.assertEqual((up.status, up.wipe_certificate_id), (ACTIVE, c2.id))
        self.assertEqual(self.get_listing(self.p2, res.id).status, SUSPENDED)

        # An inspector revokes the new one: P's listing is suspended again.
        rv2 = self.assertOK(self.revoke(self.insp, c2.id, reason="tool not accredited"))
        self.assertEqual(list(rv2.suspended_listing_ids), [lst.id])
        self.assertEqual(self.get_listing(self.p, lst.id).status, SUSPENDED)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_CERTIFICATE_REVOKED, item_id=item.id), 2)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_LISTING_SUSPENDED, listing_id=lst.id), 2)

        entries = self.history(p3, item_id=item.id).entries
        wiped = [e.certificate_id for e in entries if e.kind == L.HISTORY_KIND_WIPED]
        revoked = [e for e in entries if e.kind == L.HISTORY_KIND_CERTIFICATE_REVOKED]
        self.assertEqual(wiped, [c1.id, c2.id])
        self.assertEqual([e.certificate_id for e in revoked], [c1.id, c2.id])
        self.assertEqual([e.organization_id for e in revoked], [self.w.id, self.insp.id])
        self.assertEqual(revoked[0].detail, why)
        kinds = [(e.kind, e.certificate_id) for e in entries]
        self.assertLess(kinds.index((L.HISTORY_KIND_WIPED, c1.id)),
                        kinds.index((L.HISTORY_KIND_CERTIFICATE_REVOKED, c1.id)))

    # -- the listing gate ------------------------------------------------------------------------------

    def test_listing_gate(self):
        item = self.phone_item(self.p, storage_bytes=64 * GiB)
        self.assertReason(self.create_listing(self.p, item.id), FP, "WIPE_CERTIFICATE_REQUIRED")
        self.assertCode(self.create_listing(self.p, item.id,
                                            wipe_certificate_id="crt_doesnotexist"), C.NOT_FOUND)
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                    % item.id), 0)
        _, c1 = self.certify(self.w, wu.wipe_req(device=W.Device(item_id=item.id)))
        lst = self.assertOK(self.create_listing(self.p, item.id)).listing
        self.assertEqual(lst.wipe_certificate_id, c1.id)
        self.assertEqual(self.get_listing(self.p, lst.id).wipe_certificate_id, c1.id)
        # another item's certificate does not vouch for this one
        other = self.phone_item(self.p2)
        self.assertReason(self.create_listing(self.p2, other.id, wipe_certificate_id=c1.id), FP,
                          "WIPE_CERTIFICATE_REQUIRED")
        # a phone without storage needs no certificate
        bare = self.phone_item(self.p, storage_bytes=0)
        lst0 = self.assertOK(self.create_listing(self.p, bare.id)).listing
        self.assertEqual(lst0.wipe_certificate_id, "")

    def test_resold_phone_needs_a_new_certificate(self):
        item = self.phone_item(self.p, storage_bytes=256 * GiB)
        _, c1 = self.certify(self.w, wu.wipe_req(device=W.Device(item_id=item.id)))
        lst = self.assertOK(self.create_listing(self.p, item.id, wipe_certificate_id=c1.id)).listing
        self.assertEqual(lst.wipe_certificate_id, c1.id)
        lu.record_sale(self.server, self.p.key, lst.id)
        self.assertReason(self.create_listing(self.p2, item.id), FP, "WIPE_CERTIFICATE_REQUIRED")
        self.assertReason(self.create_listing(self.p2, item.id, wipe_certificate_id=c1.id), FP,
                          "WIPE_CERTIFICATE_REQUIRED")
        self.assertReason(self.create_listing(self.p, item.id), FP, "WIPE_CERTIFICATE_REQUIRED")
        # C1 itself is still a valid certificate, just not for the new owner
        self.assertTrue(self.verify(certificate_id=c1.id).valid)
        _, c2 = self.certify(self.w2, wu.wipe_req(device=W.Device(item_id=item.id)))
        lst2 = self.assertOK(self.create_listing(self.p2, item.id)).listing
        self.assertEqual(lst2.wipe_certificate_id, c2.id)

    # -- callers -------------------------------------------------------------------------------------

    def test_callers(self):
        req = wu.wipe_req()
        self.assertReason(self.call("SubmitWipe", req, self.unqualified), FP,
                          "QUALIFICATION_MISSING")
        expired = wu.make_wiper(self.server, name="Lapsed Wiper", qualified=False)
        lu.set_qualification(self.server, expired.id, kind=wu.DATA_WIPE,
                             valid_from=harness.day(-400), valid_until=harness.day(-1))
        self.assertReason(self.call("SubmitWipe", req, expired), FP, "QUALIFICATION_MISSING")
        for org in (self.p, self.insp):
            with self.subTest(org=org):
                self.assertCode(self.call("SubmitWipe", req, org), C.PERMISSION_DENIED)
        self.assertCode(self.server.call("SubmitWipe", req), C.UNAUTHENTICATED)
        self.assertUnknownDevice(req.device.imei)
        self.assertEqual(self.count("SELECT count(*) FROM request_ids WHERE request_id = '%s'"
                                    % req.request_id), 0)
        # The qualified wiper may.
        self.certify(self.w, req)
        # Reads need a key, VerifyCertificate does not.
        self.assertCode(self.server.call("GetCertificate", W.GetCertificateRequest(
            certificate_id="crt_x")), C.UNAUTHENTICATED)
        self.assertCode(self.server.call("ListCertificates", W.ListCertificatesRequest()),
                        C.UNAUTHENTICATED)
        self.assertCode(self.server.call("RevokeCertificate", W.RevokeCertificateRequest(
            request_id=rid(), certificate_id="crt_x", reason="x")), C.UNAUTHENTICATED)

    def test_request_id_replay(self):
        req = wu.wipe_req()
        r1, c1 = self.certify(self.w, req)
        r2, c2 = self.certify(self.w, req)
        self.assertEqual((r2.record_id, r2.item_id), (r1.record_id, r1.item_id))
        self.assertEqual((c2.id, c2.body, c2.signature, c2.key_id), (c1.id, c1.body,
                                                                      c1.signature, c1.key_id))
        self.assertEqual(self.count("SELECT count(*) FROM wipe_records WHERE item_id = '%s'"
                                    % r1.item_id), 1)
        self.assertEqual(len(self.assertOK(self.list_certs(self.p, imei=req.device.imei))
                             .certificates), 1)
        changed = W.SubmitWipeRequest()
        changed.CopyFrom(req)
        changed.tool_version = "7.2.2"
        self.assertReason(self.call("SubmitWipe", changed, self.w), C.ALREADY_EXISTS,
                          "REQUEST_ID_REUSED")
        # a stored refusal replays the same way
        failed = wu.wipe_req(device=req.device, result=W.WIPE_RESULT_FAILED)
        f1 = self.refused(self.w, failed, "WIPE_FAILED")
        f2 = self.refused(self.w, failed, "WIPE_FAILED")
        self.assertEqual(f2.record_id, f1.record_id)
        self.assertEqual(self.count("SELECT count(*) FROM wipe_records WHERE item_id = '%s'"
                                    % r1.item_id), 2)
        # request ids are per organization
        r3, c3 = self.certify(self.w2, req)
        self.assertNotEqual((r3.record_id, c3.id), (r1.record_id, c1.id))
        self.assertEqual(r3.item_id, r1.item_id)

    # -- ListCertificates -----------------------------------------------------------------------------

    def test_list_certificates(self):
        w3 = wu.make_wiper(self.server, name="Lister Wiper")
        phone = wu.phone_device()
        laptop = wu.computer_device()
        ra1, ca1 = self.certify(w3, wu.wipe_req(device=phone))
        self.refused(w3, wu.wipe_req(device=phone, result=W.WIPE_RESULT_FAILED), "WIPE_FAILED")
        ra2, ca2 = self.certify(w3, wu.wipe_req(device=phone))
        rb, cb = self.certify(w3, wu.wipe_req(device=laptop, media=[wu.medium(W.MEDIA_TYPE_SSD)]))
        self.assertEqual(ra1.item_id, ra2.item_id)
        ids = lambda resp: [c.id for c in resp.certificates]  # noqa: E731

        r = self.assertOK(self.list_certs(self.p, item_id=ra1.item_id))
        self.assertEqual(ids(r), [ca1.id, ca2.id])
        self.assertEqual(r.next_page_token, "")
        self.assertEqual(r.certificates[0].body, ca1.body)
        self.assertEqual(ids(self.assertOK(self.list_certs(self.p, imei=phone.imei))),
                         [ca1.id, ca2.id])
        self.assertEqual(ids(self.assertOK(self.list_certs(self.p, serial_no=laptop.serial_no))),
                         [cb.id])
        self.assertEqual(ids(self.assertOK(self.list_certs(self.p2, issuer_id=w3.id))),
                         [ca1.id, ca2.id, cb.id])
        self.assertEqual(ids(self.assertOK(self.list_certs(w3))), [ca1.id, ca2.id, cb.id])
        self.assertEqual(ids(self.assertOK(self.list_certs(self.p, imei=lu.make_imei()))), [])

        # page by page
        p1 = self.assertOK(self.list_certs(self.p, issuer_id=w3.id, page_size=2))
        self.assertEqual(ids(p1), [ca1.id, ca2.id])
        self.assertNotEqual(p1.next_page_token, "")
        p2 = self.assertOK(self.list_certs(self.p, issuer_id=w3.id, page_size=2,
                                           page_token=p1.next_page_token))
        self.assertEqual(ids(p2), [cb.id])
        self.assertEqual(p2.next_page_token, "")
        self.assertCode(self.list_certs(self.p, issuer_id=self.w.id, page_size=2,
                                        page_token=p1.next_page_token), C.INVALID_ARGUMENT)
        self.assertField(self.list_certs(self.p, issuer_id=w3.id, page_size=-1), "page_size")

        # at most one filter
        for kw in (dict(item_id=ra1.item_id, imei=phone.imei),
                   dict(imei=phone.imei, issuer_id=w3.id),
                   dict(item_id=ra1.item_id, serial_no=laptop.serial_no),
                   dict(serial_no=laptop.serial_no, issuer_id=w3.id)):
            with self.subTest(filters=sorted(kw)):
                self.assertCode(self.list_certs(self.p, **kw), C.INVALID_ARGUMENT)

    # -- registry-verify -----------------------------------------------------------------------------

    def test_command_line_verifier(self):
        _, cert = self.certify(self.w, wu.wipe_req(tool_name="Blancco Mobile Diagnostics"))
        seq = harness.eventually(lambda: (lambda c: c if c.sequenced else None)(
            self.get_cert(self.p, cert.id)), timeout=10, interval=0.1)
        got = seq or self.get_cert(self.p, cert.id)  # sequenced or not, it must verify
        vkey = wu.cert_key(self.server, got.key_id).vkey
        tmp = tempfile.mkdtemp(prefix="wipe-verify-", dir=harness.var_dir())

        def write(name, data):
            p = os.path.join(tmp, name)
            with open(p, "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
            return p

        def check(path, key):
            return wu.run_verify("certificate", path, "--vkey", key)

        def invalid(r, reason):
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("invalid: " + reason, r.stdout.splitlines(), r.stdout)

        binf = write("cert.bin", got.SerializeToString())
        text = json_format.MessageToJson(got)
        self.assertIn('"keyId"', text)
        jsonf = write("cert.json", text)
        for path in (binf, jsonf):
            with self.subTest(file=os.path.basename(path)):
                r = check(path, vkey)
                self.assertEqual((r.returncode, r.stdout), (0, "valid\n"), r.stderr)

        bad = wu.tampered(got, b"Blancco")
        invalid(check(write("bad.bin", bad.SerializeToString()), vkey), "BAD_SIGNATURE")
        invalid(check(write("bad.json", json_format.MessageToJson(bad)), vkey), "BAD_SIGNATURE")

        other = nacl.signing.SigningKey.generate()
        other_vkey = logutil.vkey(REGISTRY_ID + "/certificate", bytes(other.verify_key))
        for path in (binf, jsonf):
            with self.subTest(other_key=os.path.basename(path)):
                r = check(path, other_vkey)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertTrue(r.stdout.startswith("invalid:"), r.stdout)


# ---------------------------------------------------------------------------------------
# CERTIFICATE key rotation (its own registryd: the rotation changes every later signature)
# ---------------------------------------------------------------------------------------


class CertificateKeyRotationTest(WipeCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.w = wu.make_wiper(cls.server, name="Rotation Wiper")
        cls.p = cls.org(PLATFORM, name="Rotation Platform")

    def test_old_certificates_verify_after_rotation(self):
        s = self.server
        old_key = wu.current_cert_key(s)
        _, old = self.certify(self.w)
        self.assertEqual(old.key_id, old_key.key_id)

        r = s.run_cli("keys", "rotate", "--purpose", "CERTIFICATE")
        self.assertEqual(r.returncode, 0, r.stderr)
        new_id = r.stdout.strip()
        self.assertRegex(new_id, r"^[0-9a-f]{8}$")
        self.assertNotEqual(new_id, old_key.key_id)

        keys = wu.cert_keys(s)
        self.assertEqual(sorted(k.key_id for k in keys), sorted([old_key.key_id, new_id]))
        new_key = wu.current_cert_key(s)
        self.assertEqual(new_key.key_id, new_id)
        retired = wu.cert_key(s, old_key.key_id)
        self.assertTrue(retired.HasField("valid_until"))
        self.assertEqual(retired.public_key, old_key.public_key)
        self.assertLess(self.body(old).issued_at.ToNanoseconds(),
                        retired.valid_until.ToNanoseconds())
        # the other purposes are untouched
        others = [k for k in wu.signing_keys(s) if k.purpose != log_pb2.KEY_PURPOSE_CERTIFICATE]
        self.assertEqual(len(others), 2)

        # the old certificate still verifies, by the registry and by nacl
        for v in (self.verify(certificate_id=old.id), self.verify(certificate=old)):
            self.assertEqual((v.valid, list(v.reasons), v.key_id), (True, [], old_key.key_id))
        self.assertNaclValid(old, retired.public_key)

        # a new certificate carries the new key
        _, new = self.certify(self.w)
        self.assertEqual(new.key_id, new_id)
        self.assertNaclValid(new, new_key.public_key)
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            wu.nacl_verify(old_key.public_key, new)
        v = self.verify(certificate_id=new.id)
        self.assertEqual((v.valid, v.key_id), (True, new_id))
        self.assertGreaterEqual(self.body(new).issued_at.ToNanoseconds(),
                                new_key.valid_from.ToNanoseconds())

        # offline: each certificate under its own key's vkey, not the other's
        tmp = tempfile.mkdtemp(prefix="wipe-rot-", dir=harness.var_dir())
        paths = {}
        for label, c in (("old", old), ("new", new)):
            paths[label] = os.path.join(tmp, label + ".bin")
            with open(paths[label], "wb") as f:
                f.write(c.SerializeToString())
        for label, vkey, code in (("old", retired.vkey, 0), ("new", new_key.vkey, 0),
                                  ("old", new_key.vkey, 1), ("new", retired.vkey, 1)):
            with self.subTest(cert=label, vkey=vkey):
                r = wu.run_verify("certificate", paths[label], "--vkey", vkey)
                self.assertEqual(r.returncode, code, r.stdout + r.stderr)
                if code == 1:
                    self.assertIn("invalid: UNKNOWN_KEY", r.stdout.splitlines(), r.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main()
