"""InvoiceService through a stock gRPC client (SPEC §4.5, §6 "Invoices" and
"Remaining details"; DOMAIN §1; services/invoice/README.md), checked the way
a recycler, a tax office or an inspector would:

- amounts to the fen: each line half-up(quantity_milli × unit_price_fen /
  1000), the invoice's amount the sum, VAT and income tax half-up on the
  total, total = amount + VAT — every expectation computed here with exact
  integers (invoiceutil.half_up), never by the server's code;
- the 20-digit number: yy, "14", channel "1", the issuer's 6-digit number
  (assigned on its first invoice, from 000001), a 9-digit sequence per
  issuer, consecutive and shared by blue and red, never consumed by a
  refused call or a replay;
- every bad line field named lines[i].<field>, issued_on only today, and
  nothing stored by a refused call (the request_id stays unused);
- who may issue: the three qualifications, VEHICLE_DISMANTLING for vehicle
  lines, QUALIFICATION_MISSING, PERMISSION_DENIED;
- seller consent once per (issuer, seller);
- the seller cap across all recyclers at its exact boundary, CheckSellerCap
  and GetSellerTotal agreeing, a red invoice making room again;
- VAT: the invoice that takes the seller's all-issuer month over
  10,000,000 fen records 1%; the monthly summary's per-seller VAT due and
  adjustment, per category and totals;
- red invoices, full and partial by line position, with the original's rates
  and RED_EXCEEDS_ORIGINAL (amounts, and quantities never beyond what was
  bought);
- a SCRAP_VEHICLE line scraps the vehicle for good; a SCRAP_ELECTRONICS line's
  wipe certificate must exist and vouch;
- the signature verified with python3-nacl under the INVOICE key of
  ListSigningKeys; the signed body holds the seller only masked with a
  32-byte seller_ref; the event's leaf commits to the body and its receipt
  proves it;
- the seller in clear only to the issuer and inspectors (access-logged);
- request_id replay (also once the cap is full); a call that runs past its
  deadline is rolled back and gives its number back;
  `registryd keys rotate --purpose INVOICE`."""

import datetime
import hashlib
import time

import grpc
import nacl.exceptions
import nacl.signing

import harness
import invoiceutil as iu
import listingutil as lu
import logutil
import wipeutil as wu
from harness import rid
from invoiceutil import I, METAL, PAPER, PLASTIC, VEHICLE, ELECTRONICS, BATTERY, TEXTILE
from listingutil import L, PLATFORM, INSPECTOR
from registry.v1 import log_pb2, org_pb2

C = grpc.StatusCode
FP = C.FAILED_PRECONDITION
REGISTRY_ID = "registry.test"
CAP = iu.CAP_FEN


class InvoiceCase(harness.RegistryTestCase):
    """Shared helpers; each subclass has its own registryd and database."""

    @classmethod
    def org(cls, *roles, name=None):
        return lu.make_org(cls.server, roles, name=name)

    @classmethod
    def recycler(cls, *quals, name=None):
        return iu.make_recycler(cls.server, quals, name=name)

    def call(self, method, req=None, org=None):
        key = org.key if hasattr(org, "key") else org
        return self.server.call(method, req, key=key)

    def ok(self, method, req, org):
        return self.assertOK(self.call(method, req, org))

    def issue(self, org, req):
        """IssueReverseInvoice that must succeed → Invoice."""
        inv = self.ok("IssueReverseInvoice", req, org).invoice
        self.assertTrue(inv.id.startswith("inv_"), inv)
        self.assertEqual(inv.kind, iu.BLUE)
        self.assertEqual(inv.issuer_id, org.id)
        return inv

    def issue_fen(self, org, seller, *amounts, with_consent=True, category=METAL):
        """An invoice of one line per amount (one unit at that price)."""
        return self.issue(org, iu.issue_req(seller, [iu.fen_line(a, category) for a in amounts],
                                            with_consent=with_consent))

    def red(self, org, req):
        inv = self.ok("IssueRedInvoice", req, org).invoice
        self.assertTrue(inv.id.startswith("inv_"), inv)
        self.assertEqual(inv.kind, iu.RED)
        return inv

    def get(self, org, invoice_id):
        return self.ok("GetInvoice", I.GetInvoiceRequest(invoice_id=invoice_id), org).invoice

    def list_invoices(self, org, **kw):
        return self.call("ListInvoices", I.ListInvoicesRequest(**kw), org)

    def summary(self, org, issuer_id="", month=None):
        return self.call("GetMonthlySummary", I.GetMonthlySummaryRequest(
            issuer_id=issuer_id, month=month or iu.this_month()), org)

    def cap(self, org, id_number, amount_fen, purpose="pre-purchase check"):
        return self.call("CheckSellerCap", I.CheckSellerCapRequest(
            id_number=id_number, amount_fen=amount_fen, purpose=purpose), org)

    def seller_total(self, org, id_number, purpose="cap supervision"):
        return self.call("GetSellerTotal", I.GetSellerTotalRequest(
            id_number=id_number, purpose=purpose), org)

    def history(self, org, **key):
        return self.call("GetItemHistory", L.GetItemHistoryRequest(**key), org)

    def db(self, sql):
        return self.server.db.query(sql)

    def count(self, sql):
        return int(self.server.db.scalar(sql))

    def invoices_of(self, org):
        return self.count("SELECT count(*) FROM invoices WHERE issuer_id = '%s'" % org.id)

    def events(self, etype, **where):
        cond = "".join(" AND %s = '%s'" % kv for kv in sorted(where.items()))
        return self.count("SELECT count(*) FROM events WHERE type = %d%s" % (etype, cond))

    def access_rows(self, org, method):
        return self.db("SELECT purpose, subject_blind_index IS NOT NULL FROM access_log "
                       "WHERE organization_id = '%s' AND method LIKE '%%/%s' ORDER BY id"
                       % (org.id, method))

    def seq(self, inv):
        return iu.parse_number(inv.invoice_number)[4]

    def issuer_no(self, inv):
        return iu.parse_number(inv.invoice_number)[3]

    # - assertions -
    def assertViolation(self, reply, field):
        """INVALID_ARGUMENT with a BadRequest violation of `field`."""
        d = self.assertCode(reply, C.INVALID_ARGUMENT)
        self.assertIsNotNone(d.bad_request, "INVALID_ARGUMENT without BadRequest: %r" % (reply,))
        self.assertIn(field, d.fields(), "field_violations: %r" % (d.fields(),))
        return d

    def assertMeta(self, details, **want):
        md = dict(details.error_info.metadata)
        for k, v in want.items():
            self.assertEqual(md.get(k), v, "ErrorInfo.metadata %r" % (md,))

    def assertAmounts(self, inv, amount, vat_bp, vat, income, income_bp=iu.INCOME_BP):
        self.assertEqual((inv.amount_fen, inv.vat_rate_bp, inv.vat_fen, inv.income_tax_rate_bp,
                          inv.income_tax_fen, inv.total_fen),
                         (amount, vat_bp, vat, income_bp, income, amount + vat),
                         "invoice %s" % inv.invoice_number)

    def assertSigned(self, inv):
        key = iu.invoice_key(self.server, inv.key_id)
        try:
            iu.nacl_verify(key.public_key, inv)
        except nacl.exceptions.BadSignatureError:
            self.fail("invoice %s does not verify under INVOICE key %s" % (inv.id, inv.key_id))
        return key

    def assertSameInvoice(self, a, b):
        x, y = I.Invoice(), I.Invoice()
        x.CopyFrom(a)
        y.CopyFrom(b)
        for m in (x, y):  # sequencing may happen in between
            m.ClearField("log_index")
            m.ClearField("sequenced")
        self.assertEqual(x, y)


# ---------------------------------------------------------------------------------------
# Issuing: amounts, numbers, validation, callers, consent, reds, vehicles, signatures
# ---------------------------------------------------------------------------------------


class InvoiceTest(InvoiceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.r1 = cls.recycler(iu.REVERSE_INVOICE, name="Yangquan Renewable Resources Co")
        cls.r2 = cls.recycler(iu.REVERSE_INVOICE, name="Pingding Scrap Metal Co")
        cls.rall = cls.recycler(iu.REVERSE_INVOICE, iu.VEHICLE_DISMANTLING, iu.HAZARDOUS_WASTE,
                                name="Shanxi Fully Licensed Recycling")
        cls.rv = cls.recycler(iu.VEHICLE_DISMANTLING, name="Yangquan Vehicle Dismantling Co")
        cls.rh = cls.recycler(iu.HAZARDOUS_WASTE, name="Yangquan Hazardous Waste Co")
        cls.p = cls.org(PLATFORM, name="Platform P")
        cls.insp = cls.org(INSPECTOR, name="Market Supervision")
        cls.w = wu.make_wiper(cls.server, name="Taiyuan Secure Erase Co")

    # -- amounts -------------------------------------------------------------------------------

    def test_amounts_to_the_fen(self):
        s = iu.seller()
        lines = [iu.line(METAL, 1500, 1),       # 1.5 fen     → 2
                 iu.line(PAPER, 333, 3),        # 0.999 fen   → 1
                 iu.line(PLASTIC, 2500, 119),   # 297.5 fen   → 298
                 iu.line(TEXTILE, 500, 1)]      # 0.5 fen     → 1
        self.assertEqual([ln.amount_fen for ln in lines], [2, 1, 298, 1])
        inv = self.issue(self.r1, iu.issue_req(s, lines))
        self.assertEqual(list(inv.lines), lines)
        # income tax on the total: 302 × 0.5% = 1.51 → 2 (per line it would be 1)
        self.assertAmounts(inv, 302, 0, 0, 2)
        self.assertEqual(inv.issued_on, harness.day(0))
        self.assertEqual((inv.original_invoice_id, inv.red_reason), ("", 0))
        self.assertEqual((inv.seller.name, inv.seller.id_number), (s.name, s.id_number))
        self.assertSameInvoice(self.get(self.r1, inv.id), inv)
        self.assertEqual(self.count("SELECT count(*) FROM invoice_lines WHERE invoice_id = '%s'"
                                    % inv.id), 4)

        # income tax half-up at the half fen, on one-line invoices; issued_on
        # given as today is the same as empty
        for amount, income, issued_on in ((100, 1, ""), (99, 0, harness.day(0)),
                                          (299, 1, ""), (300, 2, harness.day(0)),
                                          (1_234_567, 6173, "")):
            with self.subTest(amount=amount):
                self.assertEqual(iu.tax(amount, 50), income)
                got = self.issue(self.r1, iu.issue_req(s, [iu.fen_line(amount)],
                                                       with_consent=False, issued_on=issued_on))
                self.assertAmounts(got, amount, 0, 0, income)
                self.assertEqual(got.issued_on, harness.day(0))

    def test_invoice_numbers_are_consecutive_per_issuer(self):
        a = self.recycler(iu.REVERSE_INVOICE, name="Numbering A")
        b = self.recycler(iu.REVERSE_INVOICE, name="Numbering B")
        s = iu.seller()
        a1 = self.issue_fen(a, s, 1000)
        a2 = self.issue_fen(a, s, 2000, with_consent=False)
        b1 = self.issue_fen(b, s, 3000)
        a3 = self.issue_fen(a, iu.seller(), 4000)
        parts = [iu.parse_number(x.invoice_number) for x in (a1, a2, b1, a3)]
        for yy, region, channel, _, _ in parts:
            self.assertEqual((yy, region, channel), (iu.this_year_yy(), "14", "1"))
        self.assertEqual([p[4] for p in parts], [1, 2, 1, 3])
        self.assertEqual(parts[0][3], parts[1][3])
        self.assertEqual(parts[0][3], parts[3][3])
        self.assertNotEqual(parts[0][3], parts[2][3])
        self.assertNotEqual(parts[2][3], "000000")
        self.assertEqual(a2.invoice_number, a1.invoice_number[:11] + "000000002")

    # -- validation ------------------------------------------------------------------------------

    def test_bad_lines_are_named_and_nothing_is_stored(self):
        s = iu.seller()
        good = [iu.fen_line(1000), iu.fen_line(2000, PAPER), iu.fen_line(3000, PLASTIC)]
        vins = []

        def vin():
            v = lu.make_vin()
            vins.append(v)
            return v

        cases = [
            (1, "category", iu.line(category=0)),
            (1, "category", iu.line(category=99)),
            (1, "unit", iu.line(unit=0)),
            (1, "description", iu.line(description="")),
            (1, "description", iu.line(description="废" * 201)),
            (1, "quantity_milli", iu.line(quantity_milli=0)),
            (1, "quantity_milli", iu.line(quantity_milli=-1000)),
            (1, "quantity_milli", iu.line(quantity_milli=10 ** 12 + 1, unit_price_fen=1)),
            (1, "unit_price_fen", iu.line(unit_price_fen=0)),
            (1, "unit_price_fen", iu.line(unit_price_fen=-5)),
            (1, "unit_price_fen", iu.line(quantity_milli=1, unit_price_fen=10 ** 12 + 1)),
            # 1.5 fen is 2, not 1; 0.999 is 1, not 0; 297.5 is 298, not 297
            (1, "amount_fen", iu.line(METAL, 1500, 1, amount_fen=1)),
            (1, "amount_fen", iu.line(PAPER, 333, 3, amount_fen=0)),
            (1, "amount_fen", iu.line(PLASTIC, 2500, 119, amount_fen=297)),
            (1, "amount_fen", iu.line(METAL, 1000, 100, amount_fen=101)),
            # 0.499 fen rounds to 0: a zero amount
            (1, "amount_fen", iu.line(METAL, 499, 1)),
            (1, "amount_fen", iu.line(METAL, 1000, 100, amount_fen=-100)),
            # the maxima multiply to 10^21 fen: no int64 matches it
            (1, "amount_fen", iu.line(METAL, 10 ** 12, 10 ** 12, amount_fen=2 ** 63 - 1)),
            (1, "vin", iu.line(METAL, vin=lu.make_vin())),
            (1, "scrap_certificate_no", iu.line(METAL, scrap_certificate_no="BF-0001")),
            (1, "wipe_certificate_id", iu.line(METAL, wipe_certificate_id="crt_x")),
            (1, "wipe_certificate_id", iu.line(VEHICLE, 1000, 350000, vin=vin(),
                                               scrap_certificate_no="BF-0002",
                                               wipe_certificate_id="crt_x")),
            (1, "vin", iu.line(VEHICLE, 1000, 350000, scrap_certificate_no="BF-0003")),
            (1, "vin", iu.vehicle_line(harness.IDS["vin_bad"][0])),
            (1, "vin", iu.vehicle_line(harness.IDS["vin_bad"][7])),
            (1, "scrap_certificate_no", iu.line(VEHICLE, 1000, 350000, vin=vin())),
            (0, "amount_fen", iu.line(METAL, 1000, 100, amount_fen=99)),
            (2, "unit", iu.line(PLASTIC, unit=0)),
            (2, "category", iu.line(category=0)),
        ]
        before = self.invoices_of(self.rall)
        listed = len(self.assertOK(self.list_invoices(self.rall)).invoices)
        request_id = rid()
        for i, field, bad in cases:
            lines = list(good)
            lines[i] = bad
            with self.subTest(line=i, field=field, bad=str(bad).replace("\n", " ")):
                r = self.call("IssueReverseInvoice",
                              iu.issue_req(s, lines, request_id=request_id), self.rall)
                d = self.assertViolation(r, "lines[%d].%s" % (i, field))
                self.assertTrue(all(f.startswith("lines[%d]." % i) for f in d.fields()),
                                d.fields())
        for label, lines, field in (("none", [], "lines"),
                                    ("101", [iu.fen_line(10)] * 101, "lines")):
            with self.subTest(lines=label):
                self.assertViolation(self.call("IssueReverseInvoice", iu.issue_req(
                    s, lines, request_id=request_id), self.rall), field)
        # nothing stored: no invoice, no implicitly registered vehicle
        self.assertEqual(self.invoices_of(self.rall), before)
        self.assertEqual(len(self.assertOK(self.list_invoices(self.rall)).invoices), listed)
        for v in vins:
            self.assertCode(self.history(self.p, vin=v), C.NOT_FOUND)
        # the refused request_id is unused: the corrected request takes it
        inv = self.issue(self.rall, iu.issue_req(s, good, request_id=request_id))
        self.assertAmounts(inv, 6000, 0, 0, 30)
        # the largest quantity passes the checks (then meets the cap)
        big = iu.line(METAL, 10 ** 12, 1)
        self.assertEqual(big.amount_fen, 10 ** 9)
        r = self.call("IssueReverseInvoice", iu.issue_req(iu.seller(), [big]), self.rall)
        d = self.assertReason(r, FP, "SELLER_CAP_EXCEEDED")
        self.assertMeta(d, current_total_fen="0", cap_fen=str(CAP))

    def test_issued_on_is_today_only(self):
        s = iu.seller()
        for bad in (harness.day(-1), harness.day(1), harness.day(-365), "2026-02-30",
                    "20260101", "today"):
            with self.subTest(issued_on=bad):
                self.assertViolation(self.call("IssueReverseInvoice", iu.issue_req(
                    s, [iu.fen_line(500)], issued_on=bad), self.r1), "issued_on")
        inv = self.issue(self.r1, iu.issue_req(s, [iu.fen_line(500)], issued_on=harness.day(0)))
        self.assertEqual(inv.issued_on, harness.day(0))

    def test_request_seller_and_consent_fields(self):
        future = I.SellerConsent(consented_at=harness.ts_in(86400), channel="app")
        no_time = I.SellerConsent(channel="counter")
        no_channel = iu.consent(channel="")
        cases = [
            ("request_id", iu.issue_req(iu.seller(), [iu.fen_line(500)], request_id="not-a-uuid")),
            ("seller.id_number", iu.issue_req(iu.seller(id_number=harness.IDS["id_number_bad"][0]),
                                              [iu.fen_line(500)])),
            ("seller.name", iu.issue_req(iu.seller(name=""), [iu.fen_line(500)])),
            ("seller_consent.consented_at", iu.issue_req(iu.seller(), [iu.fen_line(500)],
                                                         with_consent=False,
                                                         seller_consent=future)),
            ("seller_consent.consented_at", iu.issue_req(iu.seller(), [iu.fen_line(500)],
                                                         with_consent=False,
                                                         seller_consent=no_time)),
            ("seller_consent.channel", iu.issue_req(iu.seller(), [iu.fen_line(500)],
                                                    with_consent=False,
                                                    seller_consent=no_channel)),
        ]
        before = self.invoices_of(self.r2)
        for field, req in cases:
            with self.subTest(field=field):
                self.assertViolation(self.call("IssueReverseInvoice", req, self.r2), field)
        no_seller = iu.issue_req(None, [iu.fen_line(500)])
        d = self.assertCode(self.call("IssueReverseInvoice", no_seller, self.r2),
                            C.INVALID_ARGUMENT)
        self.assertTrue(d.fields() and d.fields()[0].startswith("seller"), d.fields())
        self.assertEqual(self.invoices_of(self.r2), before)
        self.assertEqual(self.count("SELECT count(*) FROM seller_consents WHERE issuer_id = '%s'"
                                    % self.r2.id), 0)

    # -- callers ----------------------------------------------------------------------------------

    def test_callers_and_qualifications(self):
        # any one of the three qualifications will do
        inv = self.issue(self.rh, iu.issue_req(iu.seller(), [iu.fen_line(5000, BATTERY)]))
        self.assertEqual(inv.issuer_id, self.rh.id)
        self.issue(self.rv, iu.issue_req(iu.seller(), [iu.fen_line(5000)]))
        self.issue(self.r1, iu.issue_req(iu.seller(), [iu.fen_line(5000)]))

        s = self.server
        none = iu.make_recycler(s, quals=(), name="Unqualified Recycler")
        expired = iu.make_recycler(s, quals=(), name="Lapsed Recycler")
        lu.set_qualification(s, expired.id, kind=iu.REVERSE_INVOICE,
                             valid_from=harness.day(-400), valid_until=harness.day(-1))
        future = iu.make_recycler(s, quals=(), name="Not Yet Recycler")
        lu.set_qualification(s, future.id, kind=iu.REVERSE_INVOICE,
                             valid_from=harness.day(1), valid_until=harness.day(400))
        wipe_only = iu.make_recycler(s, quals=(iu.DATA_WIPE,), name="Wiping Recycler")
        revoked = iu.make_recycler(s, quals=(iu.HAZARDOUS_WASTE,), name="Revoked Recycler")
        self.issue(revoked, iu.issue_req(iu.seller(), [iu.fen_line(700)]))
        self.assertOK(self.server.call("RevokeQualification", org_pb2.RevokeQualificationRequest(
            request_id=rid(), organization_id=revoked.id, kind=iu.HAZARDOUS_WASTE,
            reason="licence withdrawn"), key=s.admin_key))
        refused_before = self.invoices_of(revoked)
        for label, org in (("none", none), ("expired", expired), ("future", future),
                           ("data wipe only", wipe_only), ("revoked", revoked)):
            with self.subTest(recycler=label):
                self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
                    iu.seller(), [iu.fen_line(700)]), org), FP, "QUALIFICATION_MISSING")
        for org in (none, expired, future, wipe_only):
            self.assertEqual(self.invoices_of(org), 0)
        self.assertEqual(self.invoices_of(revoked), refused_before)

        # a vehicle line needs VEHICLE_DISMANTLING, whatever else is held
        for org in (self.rh, self.r1):
            with self.subTest(vehicle_line_by=org):
                vin = lu.make_vin()
                self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
                    iu.seller(), [iu.fen_line(100), iu.vehicle_line(vin)]), org), FP,
                    "QUALIFICATION_MISSING")
                self.assertCode(self.history(self.p, vin=vin), C.NOT_FOUND)

        # other roles may not issue at all
        req = iu.issue_req(iu.seller(), [iu.fen_line(700)])
        for org in (self.p, self.insp, self.w):
            with self.subTest(role_of=org):
                self.assertCode(self.call("IssueReverseInvoice", req, org), C.PERMISSION_DENIED)
                self.assertCode(self.call("IssueRedInvoice", iu.red_req(inv.id, full=True), org),
                                C.PERMISSION_DENIED)
        self.assertCode(self.server.call("IssueReverseInvoice", req), C.UNAUTHENTICATED)
        self.assertEqual(self.count("SELECT count(*) FROM request_ids WHERE request_id = '%s'"
                                    % req.request_id), 0)

    # -- consent ---------------------------------------------------------------------------------------

    def test_seller_consent_once_per_issuer(self):
        s = iu.seller()
        before = self.invoices_of(self.r1)
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.fen_line(800)], with_consent=False), self.r1), FP, "SELLER_CONSENT_MISSING")
        self.assertEqual(self.invoices_of(self.r1), before)
        first = self.issue(self.r1, iu.issue_req(s, [iu.fen_line(800)]))
        # later invoices by the same issuer need none
        self.issue_fen(self.r1, s, 900, with_consent=False)
        self.issue_fen(self.r1, s, 1000, with_consent=False)
        # another issuer needs its own
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.fen_line(800)], with_consent=False), self.r2), FP, "SELLER_CONSENT_MISSING")
        self.issue(self.r2, iu.issue_req(s, [iu.fen_line(800)],
                                         seller_consent=iu.consent(channel="app")))
        self.issue_fen(self.r2, s, 1100, with_consent=False)
        ref = iu.body(first).seller_ref
        self.assertEqual(self.count("SELECT count(*) FROM seller_consents WHERE seller_ref = "
                                    "'\\x%s'::bytea" % ref.hex()), 2)
        # an ID number ending in x is the same seller as with X
        x_upper = lu.person(id_number="14030219600403533X")
        self.issue_fen(self.r1, x_upper, 1300)
        x_lower = lu.person(name=x_upper.name, id_number="14030219600403533x",
                            phone=x_upper.phone)
        xi = self.issue_fen(self.r1, x_lower, 1400, with_consent=False)
        self.assertEqual(xi.seller.id_number, "14030219600403533X")

    # -- red invoices --------------------------------------------------------------------------------------

    def test_red_invoices_partial_then_full(self):
        rr = self.recycler(iu.REVERSE_INVOICE, name="Red Ink Recycler")
        s = iu.seller()
        lines = [iu.line(METAL, 2000, 4500),     # 9000
                 iu.line(PAPER, 1500, 2001),     # 3001.5 → 3002
                 iu.line(PLASTIC, 1000, 999)]    # 999
        blue = self.issue(rr, iu.issue_req(s, lines))
        self.assertAmounts(blue, 13001, 0, 0, 65)   # 65.005 → 65
        self.assertEqual(self.seq(blue), 1)

        red1 = self.red(rr, iu.red_req(blue.id, amounts=[4500, 0, 1], quantities=[1000, 0, 0],
                                       reason=I.RED_REASON_GOODS_RETURNED))
        self.assertEqual((red1.original_invoice_id, red1.red_reason, red1.issuer_id,
                          red1.issued_on), (blue.id, I.RED_REASON_GOODS_RETURNED, rr.id,
                                            harness.day(0)))
        # income tax −22.505 → −23 (half away from zero, the mirror of the blue)
        self.assertAmounts(red1, -4501, 0, 0, -23)
        reversed_lines = [ln for ln in red1.lines if ln.amount_fen != 0]
        self.assertEqual([(ln.category, ln.amount_fen) for ln in reversed_lines],
                         [(METAL, -4500), (PLASTIC, -1)])
        r0 = reversed_lines[0]
        self.assertEqual((r0.description, r0.unit, r0.unit_price_fen, r0.quantity_milli),
                         (lines[0].description, lines[0].unit, 4500, -1000))
        self.assertEqual((red1.seller.name, red1.seller.id_number), (s.name, s.id_number))
        self.assertEqual(self.issuer_no(red1), self.issuer_no(blue))
        self.assertEqual(self.seq(red1), 2, "a red takes the issuer's next number")
        b = iu.body(red1)
        self.assertEqual((b.kind, b.original_invoice_id, b.red_reason, b.amount_fen),
                         (iu.RED, blue.id, I.RED_REASON_GOODS_RETURNED, -4501))
        self.assertEqual(b.seller_ref, iu.body(blue).seller_ref)
        self.assertSigned(red1)

        # over what remains of a line
        for amounts, line_no, remaining in (([4501], "0", "4500"), ([0, 3003], "1", "3002"),
                                            ([0, 0, 999], "2", "998"),
                                            ([4500, 3002, 999], "2", "998")):
            with self.subTest(asked=amounts):
                r = self.call("IssueRedInvoice", iu.red_req(blue.id, amounts), rr)
                d = self.assertReason(r, FP, "RED_EXCEEDS_ORIGINAL")
                self.assertMeta(d, line=line_no, remaining_fen=remaining)

        red2 = self.red(rr, iu.red_req(blue.id, full=True, reason=I.RED_REASON_ERROR))
        # what remains: 4500 + 3002 + 998; income tax −42.5 → −43
        self.assertAmounts(red2, -8500, 0, 0, -43)
        self.assertEqual([(ln.category, ln.amount_fen) for ln in red2.lines if ln.amount_fen],
                         [(METAL, -4500), (PAPER, -3002), (PLASTIC, -998)])
        self.assertEqual(red2.red_reason, I.RED_REASON_ERROR)
        self.assertEqual(self.seq(red2), 3, "refused reds consumed no number")
        self.assertSigned(red2)

        # nothing remains
        self.assertReason(self.call("IssueRedInvoice", iu.red_req(blue.id, [0, 1]), rr), FP,
                          "RED_EXCEEDS_ORIGINAL")
        self.assertCode(self.call("IssueRedInvoice", iu.red_req(blue.id, full=True), rr), FP)
        # a red is not itself reversed
        r = self.call("IssueRedInvoice", iu.red_req(red1.id, full=True), rr)
        self.assertIn(r.code, (C.INVALID_ARGUMENT, FP), r)

        self.assertEqual(self.count("SELECT count(*) FROM invoices WHERE original_invoice_id = "
                                    "'%s'" % blue.id), 2)
        self.assertEqual(self.count("SELECT coalesce(sum(amount_fen), 0) FROM invoices WHERE "
                                    "issuer_id = '%s'" % rr.id), 0)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_RED_INVOICE_ISSUED, invoice_id=red1.id), 1)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_RED_INVOICE_ISSUED, invoice_id=red2.id), 1)
        got = self.assertOK(self.list_invoices(rr)).invoices
        self.assertEqual(sorted(x.id for x in got), sorted([blue.id, red1.id, red2.id]))
        self.assertSameInvoice(self.get(rr, red1.id), red1)
        # the next blue continues the sequence
        self.assertEqual(self.seq(self.issue_fen(rr, s, 100, with_consent=False)), 4)

    def test_red_refusals(self):
        blue = self.issue(self.r1, iu.issue_req(iu.seller(), [iu.fen_line(5000),
                                                               iu.fen_line(600, PAPER)]))
        before = self.invoices_of(self.r1)
        self.assertCode(self.call("IssueRedInvoice", iu.red_req(blue.id, full=True), self.r2),
                        C.PERMISSION_DENIED)
        self.assertCode(self.call("IssueRedInvoice", iu.red_req("inv_doesnotexist", full=True),
                                  self.r1), C.NOT_FOUND)
        self.assertViolation(self.call("IssueRedInvoice", iu.red_req(
            blue.id, full=True, reason=I.RED_REASON_UNSPECIFIED), self.r1), "reason")
        self.assertViolation(self.call("IssueRedInvoice", iu.red_req("", full=True), self.r1),
                             "original_invoice_id")
        self.assertViolation(self.call("IssueRedInvoice", iu.red_req(
            blue.id, full=True, request_id="nope"), self.r1), "request_id")
        both = iu.red_req(blue.id, [100], full=True)
        neither = iu.red_req(blue.id)
        zeros = iu.red_req(blue.id, [0, 0])
        for label, req in (("full and lines", both), ("neither", neither), ("all zero", zeros)):
            with self.subTest(red=label):
                self.assertCode(self.call("IssueRedInvoice", req, self.r1), C.INVALID_ARGUMENT)
        self.assertViolation(self.call("IssueRedInvoice", iu.red_req(blue.id, [-100]), self.r1),
                             "lines[0].amount_fen")
        named = iu.red_req(blue.id, [0, 100])
        named.lines[1].category = PAPER
        self.assertViolation(self.call("IssueRedInvoice", named, self.r1), "lines[1].category")
        described = iu.red_req(blue.id, [100])
        described.lines[0].description = "returned"
        self.assertViolation(self.call("IssueRedInvoice", described, self.r1),
                             "lines[0].description")
        r = self.call("IssueRedInvoice", iu.red_req(blue.id, [0, 0, 100]), self.r1)
        self.assertIn(r.code, (C.INVALID_ARGUMENT, FP), r)
        self.assertEqual(self.invoices_of(self.r1), before)

    def test_red_quantity_cannot_exceed_the_original(self):
        # 2 kg bought at 45.00 CNY/kg; a partial red may name the quantity it
        # takes back, but never more than was bought
        blue = self.issue(self.r1, iu.issue_req(iu.seller(), [iu.line(METAL, 2000, 4500)]))
        before = self.invoices_of(self.r1)
        for qty in (2001, 10 ** 12):
            with self.subTest(quantity_milli=qty):
                r = self.call("IssueRedInvoice", iu.red_req(blue.id, [4500],
                                                            quantities=[qty]), self.r1)
                self.assertIn(r.code, (C.INVALID_ARGUMENT, FP), r)
        self.assertEqual(self.invoices_of(self.r1), before)
        # within what was bought it is fine, and a full red takes the rest
        red = self.red(self.r1, iu.red_req(blue.id, [4500], quantities=[1000]))
        self.assertEqual((red.lines[0].quantity_milli, red.lines[0].amount_fen), (-1000, -4500))
        full = self.red(self.r1, iu.red_req(blue.id, full=True))
        self.assertEqual((full.lines[0].quantity_milli, full.lines[0].amount_fen), (-1000, -4500))

    # -- vehicles and electronics ------------------------------------------------------------------------

    def test_scrap_vehicle_line_scraps_the_vehicle(self):
        vin = lu.make_vin()
        self.assertCode(self.history(self.p, vin=vin), C.NOT_FOUND)
        cert_no = "BF-140302-2026-000117"
        s = iu.seller()
        inv = self.issue(self.rv, iu.issue_req(s, [iu.vehicle_line(vin, 350000, cert_no)]))
        self.assertEqual((inv.lines[0].vin, inv.lines[0].scrap_certificate_no), (vin, cert_no))
        self.assertAmounts(inv, 350000, 0, 0, 1750)

        h = self.assertOK(self.history(self.p, vin=vin))
        self.assertEqual((h.item.kind, h.item.status, h.item.vehicle.vin),
                         (L.ITEM_KIND_VEHICLE, L.ITEM_STATUS_SCRAPPED, vin))
        kinds = [e.kind for e in h.entries]
        self.assertIn(L.HISTORY_KIND_REGISTERED, kinds)
        scrapped = [e for e in h.entries if e.kind == L.HISTORY_KIND_SCRAPPED]
        self.assertEqual(len(scrapped), 1, h)
        self.assertLess(kinds.index(L.HISTORY_KIND_REGISTERED),
                        kinds.index(L.HISTORY_KIND_SCRAPPED))
        self.assertEqual((scrapped[0].invoice_id, scrapped[0].organization_id),
                         (inv.id, self.rv.id))
        self.assertIn(cert_no, scrapped[0].detail)
        self.assertNotIn(s.id_number, str(h))
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_ITEM_SCRAPPED, item_id=h.item.id), 1)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_INVOICE_ISSUED, invoice_id=inv.id), 1)

        # no listing afterwards
        self.assertReason(self.call("CreateListing", lu.listing_req(h.item.id), self.p), FP,
                          "ITEM_SCRAPPED")
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                    % h.item.id), 0)
        # and no second scrapping, by the same issuer or another
        before = self.invoices_of(self.rv), self.invoices_of(self.rall)
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.vehicle_line(vin)], with_consent=False), self.rv), FP, "ITEM_SCRAPPED")
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            iu.seller(), [iu.fen_line(100), iu.vehicle_line(vin)]), self.rall), FP,
            "ITEM_SCRAPPED")
        self.assertEqual((self.invoices_of(self.rv), self.invoices_of(self.rall)), before)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_ITEM_SCRAPPED, item_id=h.item.id), 1)

    def test_scrapping_a_listed_vehicle_and_a_stolen_one(self):
        car = lu.new_vehicle(self.server, self.p.key)
        lst = lu.new_listing(self.server, self.p.key, car.id).listing
        self.issue(self.rv, iu.issue_req(iu.seller(), [iu.vehicle_line(car.vehicle.vin)]))
        item = self.ok("GetItem", L.GetItemRequest(item_id=car.id), self.p).item
        self.assertEqual(item.status, L.ITEM_STATUS_SCRAPPED)
        # the open listing stays as it is but cannot be sold
        got = self.ok("GetListing", L.GetListingRequest(listing_id=lst.id), self.p).listing
        self.assertEqual(got.status, L.LISTING_STATUS_ACTIVE)
        self.assertReason(self.call("RecordSale", lu.sale_req(lst.id), self.p), FP,
                          "ITEM_SCRAPPED")
        # registering the VIN again finds the scrapped vehicle
        again = lu.register(self.server, self.p.key, lu.vehicle(vin=car.vehicle.vin))
        self.assertEqual((again.created, again.item.id, again.item.status),
                         (False, car.id, L.ITEM_STATUS_SCRAPPED))

        stolen = lu.new_vehicle(self.server, self.p.key)
        self.assertOK(self.call("ReportStolen", L.ReportStolenRequest(
            request_id=rid(), vin=stolen.vehicle.vin, report_ref="阳公刑 2026-0311",
            reporter="阳泉市公安局"), self.insp))
        before = self.invoices_of(self.rv)
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            iu.seller(), [iu.vehicle_line(stolen.vehicle.vin)]), self.rv), FP, "ITEM_STOLEN")
        self.assertEqual(self.invoices_of(self.rv), before)
        self.assertEqual(self.ok("GetItem", L.GetItemRequest(item_id=stolen.id), self.p)
                         .item.status, L.ITEM_STATUS_STOLEN)

    def test_scrap_electronics_wipe_certificate(self):
        s = iu.seller()
        before = self.invoices_of(self.rall)
        self.assertCode(self.call("IssueReverseInvoice", iu.issue_req(s, [iu.line(
            ELECTRONICS, 1000, 2000, wipe_certificate_id="crt_doesnotexist")]), self.rall),
            C.NOT_FOUND)
        self.assertEqual(self.invoices_of(self.rall), before)

        wiped = self.ok("SubmitWipe", wu.wipe_req(), self.w)
        cert = wiped.certificate
        self.assertTrue(cert.id.startswith("crt_"), wiped)
        inv = self.issue(self.rall, iu.issue_req(s, [iu.line(ELECTRONICS, 1000, 2000,
                                                              wipe_certificate_id=cert.id)]))
        self.assertEqual(inv.lines[0].wipe_certificate_id, cert.id)
        # without a certificate the line is fine too
        self.issue(self.rall, iu.issue_req(s, [iu.line(ELECTRONICS, 3000, 1500)],
                                           with_consent=False))
        # a revoked certificate vouches for nothing
        self.assertOK(self.call("RevokeCertificate", wu.W.RevokeCertificateRequest(
            request_id=rid(), certificate_id=cert.id, reason="quick-erase profile"), self.w))
        before = self.invoices_of(self.rall)
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(s, [iu.line(
            ELECTRONICS, 1000, 2000, wipe_certificate_id=cert.id)], with_consent=False),
            self.rall), FP, "WIPE_CERTIFICATE_REQUIRED")
        self.assertEqual(self.invoices_of(self.rall), before)

    # -- signature and the signed body --------------------------------------------------------------

    def test_signature_verifies_and_body_has_no_personal_data(self):
        person = lu.person(name="欧阳明月", phone="13912345678")
        lines = [iu.line(METAL, 2000, 4500), iu.line(PAPER, 1000, 700)]
        before = time.time()
        inv = self.issue(self.r1, iu.issue_req(person, lines))
        after = time.time()
        self.assertEqual(len(inv.signature), 64)
        self.assertRegex(inv.key_id, r"^[0-9a-f]{8}$")

        key = self.assertSigned(inv)
        self.assertEqual(key.purpose, log_pb2.KEY_PURPOSE_INVOICE)
        self.assertEqual(key.name, REGISTRY_ID + "/invoice")
        self.assertEqual(key.key_id, logutil.key_id(key.name, key.public_key).hex())
        vk = nacl.signing.VerifyKey(bytes(key.public_key))
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            vk.verify(inv.body, inv.signature)  # the context string is part of it
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            vk.verify(iu.CONTEXT + wu.flip_in(inv.body, inv.invoice_number.encode()),
                      inv.signature)
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            vk.verify(b"registry.v1.WipeCertificate\n" + inv.body, inv.signature)

        b = iu.body(inv)
        self.assertEqual((b.invoice_id, b.invoice_number, b.registry_id, b.kind,
                          b.issuer_organization_id),
                         (inv.id, inv.invoice_number, REGISTRY_ID, iu.BLUE, self.r1.id))
        self.assertEqual((b.seller_name_masked, b.seller_id_number_masked),
                         ("欧*月", lu.mask_id(person.id_number)))
        self.assertEqual(len(b.seller_ref), 32)
        self.assertEqual(list(b.lines), list(inv.lines))
        self.assertEqual(list(b.lines), lines)
        self.assertEqual((b.amount_fen, b.vat_rate_bp, b.vat_fen, b.income_tax_rate_bp,
                          b.income_tax_fen, b.total_fen, b.issued_on),
                         (inv.amount_fen, inv.vat_rate_bp, inv.vat_fen, inv.income_tax_rate_bp,
                          inv.income_tax_fen, inv.total_fen, inv.issued_on))
        self.assertEqual((b.original_invoice_id, b.red_reason), ("", 0))
        issued = b.issued_at.ToNanoseconds() / 1e9
        self.assertTrue(before - 5 <= issued <= after + 5, (before, issued, after))
        self.assertGreaterEqual(b.issued_at.ToNanoseconds(), key.valid_from.ToNanoseconds())
        for secret in (person.id_number, person.name, person.phone, person.id_number[6:14]):
            self.assertNotIn(secret.encode(), inv.body, "%r in the signed body" % secret)

        # the same person has the same ref with any issuer; another person another
        inv2 = self.issue(self.r2, iu.issue_req(person, [iu.fen_line(300)]))
        self.assertEqual(iu.body(inv2).seller_ref, b.seller_ref)
        other = self.issue(self.r2, iu.issue_req(iu.seller(), [iu.fen_line(300)]))
        self.assertNotEqual(iu.body(other).seller_ref, b.seller_ref)
        for name, masked in (("王", "*"), ("李四", "李*")):
            with self.subTest(name=name):
                x = self.issue(self.r2, iu.issue_req(lu.person(name=name), [iu.fen_line(300)]))
                self.assertEqual(iu.body(x).seller_name_masked, masked)
                self.assertNotIn(name.encode(), x.body)
        # GetInvoice returns the same signed bytes
        got = self.get(self.r1, inv.id)
        self.assertEqual((got.body, got.signature, got.key_id), (inv.body, inv.signature,
                                                                  inv.key_id))
        # nothing personal in clear at rest
        self.assertEqual(self.count(
            "SELECT count(*) FROM invoices WHERE position('%s'::bytea in seller_enc) > 0 "
            "OR position('%s'::bytea in body) > 0" % (person.id_number, person.id_number)), 0)

    # -- who sees the seller -------------------------------------------------------------------------

    def test_seller_in_clear_only_to_issuer_and_inspector(self):
        person = lu.person(name="赵晓东", phone="13800001111")
        inv = self.issue(self.r1, iu.issue_req(person, [iu.fen_line(2500)]))
        self.assertEqual(inv.seller, person)

        n = len(self.access_rows(self.r1, "GetInvoice"))
        got = self.get(self.r1, inv.id)
        self.assertEqual(got.seller, person)
        rows = self.access_rows(self.r1, "GetInvoice")
        self.assertEqual(len(rows), n + 1, rows)
        self.assertEqual(rows[-1][1], "t", "the access-log row names the seller's blind index")

        n = len(self.access_rows(self.insp, "GetInvoice"))
        self.assertEqual(self.get(self.insp, inv.id).seller, person)
        self.assertEqual(len(self.access_rows(self.insp, "GetInvoice")), n + 1)

        for org in (self.r2, self.rall, self.p, self.w):
            with self.subTest(reader=org):
                self.assertCode(self.call("GetInvoice", I.GetInvoiceRequest(invoice_id=inv.id),
                                          org), C.PERMISSION_DENIED)
        self.assertCode(self.call("GetInvoice", I.GetInvoiceRequest(invoice_id="inv_nothere"),
                                  self.r1), C.NOT_FOUND)
        self.assertCode(self.server.call("GetInvoice", I.GetInvoiceRequest(invoice_id=inv.id)),
                        C.UNAUTHENTICATED)

        # ListInvoices: an issuer its own, in clear
        mine = self.assertOK(self.list_invoices(self.r1)).invoices
        found = [x for x in mine if x.id == inv.id]
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0].seller, person)
        self.assertTrue(all(x.issuer_id == self.r1.id for x in mine))
        self.assertCode(self.list_invoices(self.r1, issuer_id=self.r2.id), C.PERMISSION_DENIED)
        self.assertCode(self.list_invoices(self.r1, seller_id_number=person.id_number,
                                           purpose="kyc"), C.PERMISSION_DENIED)
        self.assertCode(self.list_invoices(self.p), C.PERMISSION_DENIED)

        # an inspector: by seller with a purpose (access-logged), by issuer
        inv2 = self.issue(self.r2, iu.issue_req(person, [iu.fen_line(2600)]))
        self.assertViolation(self.list_invoices(self.insp, seller_id_number=person.id_number),
                             "purpose")
        n = len(self.access_rows(self.insp, "ListInvoices"))
        by_seller = self.assertOK(self.list_invoices(
            self.insp, seller_id_number=person.id_number, purpose="tax audit 2026-31")).invoices
        self.assertEqual(sorted(x.id for x in by_seller), sorted([inv.id, inv2.id]))
        self.assertTrue(all(x.seller == person for x in by_seller))
        rows = self.access_rows(self.insp, "ListInvoices")
        self.assertGreater(len(rows), n)
        self.assertEqual(rows[-1][0], "tax audit 2026-31")
        by_issuer = [x.id for x in self.assertOK(self.list_invoices(
            self.insp, issuer_id=self.r2.id, page_size=500)).invoices]
        self.assertIn(inv2.id, by_issuer)
        self.assertNotIn(inv.id, by_issuer)

    def test_list_invoices_pages_and_dates(self):
        x = self.recycler(iu.REVERSE_INVOICE, name="Lister Recycler")
        s = iu.seller()
        ids = {self.issue_fen(x, s, a, with_consent=(a == 100)).id for a in (100, 200, 300)}
        p1 = self.assertOK(self.list_invoices(x, page_size=2))
        self.assertEqual(len(p1.invoices), 2)
        self.assertNotEqual(p1.next_page_token, "")
        p2 = self.assertOK(self.list_invoices(x, page_size=2, page_token=p1.next_page_token))
        self.assertEqual(len(p2.invoices), 1)
        self.assertEqual(p2.next_page_token, "")
        self.assertEqual({i.id for i in list(p1.invoices) + list(p2.invoices)}, ids)
        today = harness.day(0)
        self.assertEqual({i.id for i in self.assertOK(self.list_invoices(
            x, from_on=today, to_on=today)).invoices}, ids)
        self.assertEqual(list(self.assertOK(self.list_invoices(
            x, from_on=harness.day(1))).invoices), [])
        self.assertEqual(list(self.assertOK(self.list_invoices(
            x, to_on=harness.day(-1))).invoices), [])
        self.assertViolation(self.list_invoices(x, page_size=-1), "page_size")
        self.assertViolation(self.list_invoices(x, from_on="2026-02-30"), "from_on")
        self.assertCode(self.list_invoices(x, page_size=2, from_on=today,
                                           page_token=p1.next_page_token), C.INVALID_ARGUMENT)

    # -- request_id --------------------------------------------------------------------------------------

    def test_request_id_replay(self):
        a = self.recycler(iu.REVERSE_INVOICE, name="Replay Recycler")
        s = iu.seller()
        req = iu.issue_req(s, [iu.fen_line(1234)])
        i1 = self.issue(a, req)
        i2 = self.issue(a, req)
        self.assertEqual((i2.id, i2.invoice_number, i2.body, i2.signature, i2.key_id,
                          i2.event_id),
                         (i1.id, i1.invoice_number, i1.body, i1.signature, i1.key_id,
                          i1.event_id))
        # the replay shows the seller in clear or masked, never anything else
        self.assertIn((i2.seller.name, i2.seller.id_number),
                      ((s.name, s.id_number), (lu.mask_name(s.name), lu.mask_id(s.id_number))))
        self.assertEqual(self.invoices_of(a), 1)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_INVOICE_ISSUED, invoice_id=i1.id), 1)
        # no number was consumed by the replay
        i3 = self.issue_fen(a, s, 99, with_consent=False)
        self.assertEqual((self.seq(i1), self.seq(i3)), (1, 2))

        changed = I.IssueReverseInvoiceRequest()
        changed.CopyFrom(req)
        changed.lines[0].CopyFrom(iu.fen_line(1235))
        self.assertReason(self.call("IssueReverseInvoice", changed, a), C.ALREADY_EXISTS,
                          "REQUEST_ID_REUSED")
        self.assertEqual(self.invoices_of(a), 2)

        rreq = iu.red_req(i1.id, [34])
        r1 = self.red(a, rreq)
        r2 = self.red(a, rreq)
        self.assertEqual((r2.id, r2.invoice_number, r2.signature), (r1.id, r1.invoice_number,
                                                                    r1.signature))
        self.assertEqual(self.seq(r1), 3)
        self.assertEqual(self.count("SELECT count(*) FROM invoices WHERE original_invoice_id = "
                                    "'%s'" % i1.id), 1)
        self.assertEqual(self.seq(self.issue_fen(a, s, 98, with_consent=False)), 4)

        # request ids are per organization
        b = self.recycler(iu.REVERSE_INVOICE, name="Replay Recycler B")
        j1 = self.issue(b, req)
        self.assertNotEqual(j1.id, i1.id)
        self.assertNotEqual(self.issuer_no(j1), self.issuer_no(i1))
        self.assertEqual(self.seq(j1), 1)

    # -- the transparency log ---------------------------------------------------------------------------

    def test_event_sequenced_and_receipt(self):
        inv = self.issue(self.r1, iu.issue_req(iu.seller(), [iu.fen_line(4321)]))
        self.assertTrue(inv.event_id.startswith("evt_"), inv)
        self.assertEqual(self.get(self.r1, inv.id).event_id, inv.event_id)  # at once

        seq = harness.eventually(lambda: (lambda x: x if x.sequenced else None)(
            self.get(self.r1, inv.id)), timeout=10, interval=0.1)
        self.assertTrue(seq, "invoice %s not sequenced after 10 s" % inv.id)
        self.assertGreaterEqual(seq.log_index, 0)

        def receipt():
            rr = self.call("GetReceipt", log_pb2.GetReceiptRequest(event_id=inv.event_id), self.r1)
            if rr.code == C.NOT_FOUND:
                return None
            return self.assertOK(rr)
        rec = harness.eventually(receipt, timeout=10, interval=0.1)
        self.assertTrue(rec, "no receipt for %s after 10 s" % inv.event_id)
        self.assertEqual(rec.log_index, seq.log_index)

        entries = self.ok("GetEntries", log_pb2.GetEntriesRequest(
            start=seq.log_index, end=seq.log_index + 1), self.r1).entries
        self.assertEqual(len(entries), 1)
        leaf = log_pb2.LogLeaf.FromString(entries[0].leaf)
        self.assertEqual((leaf.event_id, leaf.type, leaf.invoice_id, leaf.organization_id),
                         (inv.event_id, log_pb2.EVENT_TYPE_INVOICE_ISSUED, inv.id, self.r1.id))
        self.assertEqual(leaf.record_sha256, hashlib.sha256(inv.body).digest())
        idx, hashes, note = logutil.parse_receipt(rec.receipt)
        self.assertEqual(idx, seq.log_index)
        name, pk = logutil.log_key(self.server)
        origin, size, root = logutil.parse_checkpoint(logutil.verify_note(note, name, pk))
        self.assertEqual(origin, REGISTRY_ID)
        self.assertTrue(logutil.verify_inclusion(idx, size, logutil.leaf_hash(entries[0].leaf),
                                                 hashes, root))


# ---------------------------------------------------------------------------------------
# The seller's totals: the cap across recyclers, VAT across issuers, the monthly summary
# ---------------------------------------------------------------------------------------


class SellerTotalsTest(InvoiceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.recycler(iu.REVERSE_INVOICE, name="Cap Recycler A")
        cls.b = cls.recycler(iu.HAZARDOUS_WASTE, name="Cap Recycler B")
        cls.p = cls.org(PLATFORM, name="Totals Platform")
        cls.insp = cls.org(INSPECTOR, name="Totals Inspector")

    def assertCap(self, org, id_number, amount, allowed, remaining):
        r = self.assertOK(self.cap(org, id_number, amount))
        self.assertEqual((r.allowed, r.remaining_fen), (allowed, remaining),
                         "CheckSellerCap(%d)" % amount)

    def assertTotal(self, id_number, total):
        t = self.assertOK(self.seller_total(self.insp, id_number))
        self.assertEqual((t.total_fen, t.cap_fen, t.window_from, t.window_to),
                         (total, CAP, iu.window_start(), harness.day(0)))

    def test_seller_cap_across_recyclers(self):
        s = iu.seller()
        idn = s.id_number
        self.assertCap(self.a, idn, 100, True, CAP)
        i1 = self.issue(self.a, iu.issue_req(s, [iu.fen_line(300_000_000)]))
        # the month, this invoice included, is over the VAT threshold
        self.assertAmounts(i1, 300_000_000, 100, 3_000_000, 1_500_000)
        i2 = self.issue(self.b, iu.issue_req(s, [iu.fen_line(199_999_900)]))
        self.assertAmounts(i2, 199_999_900, 100, iu.tax(199_999_900, 100),
                           iu.tax(199_999_900, 50))
        self.assertEqual(iu.tax(199_999_900, 50), 1_000_000)  # 999,999.5 → 1,000,000

        # 4,999,999.00 CNY invoiced: 1.00 more fits, 1.01 does not
        for org in (self.a, self.b):
            self.assertCap(org, idn, 101, False, 100)
            self.assertCap(org, idn, 100, True, 100)
        self.assertTotal(idn, 499_999_900)
        before = self.invoices_of(self.a), self.invoices_of(self.b)
        for org in (self.a, self.b):
            with self.subTest(refused_for=org):
                r = self.call("IssueReverseInvoice", iu.issue_req(
                    s, [iu.fen_line(101)], with_consent=False), org)
                d = self.assertReason(r, FP, "SELLER_CAP_EXCEEDED")
                self.assertMeta(d, current_total_fen="499999900", cap_fen="500000000")
                self.assertNotIn(idn, d.message)
        # split over lines it is the same amount
        r = self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.fen_line(51), iu.fen_line(50, PAPER)], with_consent=False), self.a)
        self.assertReason(r, FP, "SELLER_CAP_EXCEEDED")
        self.assertEqual((self.invoices_of(self.a), self.invoices_of(self.b)), before)

        # exactly the cap is allowed
        req3 = iu.issue_req(s, [iu.fen_line(100)], with_consent=False)
        i3 = self.issue(self.a, req3)
        self.assertAmounts(i3, 100, 100, 1, 1)
        self.assertTotal(idn, CAP)
        self.assertCap(self.b, idn, 1, False, 0)
        d = self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.fen_line(1)], with_consent=False), self.b), FP, "SELLER_CAP_EXCEEDED")
        self.assertMeta(d, current_total_fen="500000000", cap_fen="500000000")

        # a red invoice makes room again
        red = self.red(self.a, iu.red_req(i1.id, [101], reason=I.RED_REASON_ALLOWANCE))
        # the original's rates: VAT 1% of −101 → −1.01 → −1; income −0.505 → −1
        self.assertAmounts(red, -101, 100, -1, -1)
        self.assertTotal(idn, CAP - 101)
        self.assertCap(self.b, idn, 101, True, 101)
        self.assertCap(self.b, idn, 102, False, 101)
        i4 = self.issue_fen(self.b, s, 101, with_consent=False)
        self.assertEqual(i4.amount_fen, 101)
        self.assertTotal(idn, CAP)
        self.assertCap(self.a, idn, 1, False, 0)
        # a retry of an accepted invoice is answered, not refused by the full cap
        again = self.issue(self.a, req3)
        self.assertEqual((again.id, again.invoice_number), (i3.id, i3.invoice_number))
        self.assertTotal(idn, CAP)

    def test_one_invoice_at_and_over_the_cap(self):
        s = iu.seller()
        i1 = self.issue(self.a, iu.issue_req(s, [iu.line(METAL, 1000, CAP)]))
        self.assertEqual(i1.amount_fen, CAP)
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.fen_line(1)], with_consent=False), self.a), FP, "SELLER_CAP_EXCEEDED")
        t = iu.seller()
        d = self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            t, [iu.line(METAL, 1000, CAP + 1)]), self.b), FP, "SELLER_CAP_EXCEEDED")
        self.assertMeta(d, current_total_fen="0", cap_fen=str(CAP))
        self.assertCap(self.b, t.id_number, CAP + 1, False, CAP)
        self.assertTotal(t.id_number, 0)

    def test_check_seller_cap_callers_and_access_log(self):
        s = iu.seller()
        self.issue_fen(self.a, s, 5000)
        n = len(self.access_rows(self.b, "CheckSellerCap"))
        self.assertCap(self.b, s.id_number, 1000, True, CAP - 5000)
        rows = self.access_rows(self.b, "CheckSellerCap")
        self.assertEqual(len(rows), n + 1, rows)
        self.assertEqual(rows[-1], ["pre-purchase check", "t"])
        self.assertViolation(self.cap(self.b, s.id_number, 1000, purpose=""), "purpose")
        self.assertViolation(self.cap(self.b, harness.IDS["id_number_bad"][0], 1000),
                             "id_number")
        for org in (self.p, self.insp):
            with self.subTest(caller=org):
                self.assertCode(self.cap(org, s.id_number, 1000), C.PERMISSION_DENIED)
        self.assertCode(self.server.call("CheckSellerCap", I.CheckSellerCapRequest(
            id_number=s.id_number, amount_fen=1, purpose="x")), C.UNAUTHENTICATED)
        # GetSellerTotal: inspectors, with a purpose, access-logged
        n = len(self.access_rows(self.insp, "GetSellerTotal"))
        self.assertTotal(s.id_number, 5000)
        rows = self.access_rows(self.insp, "GetSellerTotal")
        self.assertEqual(len(rows), n + 1)
        self.assertEqual(rows[-1][0], "cap supervision")
        self.assertViolation(self.seller_total(self.insp, s.id_number, purpose=""), "purpose")
        self.assertViolation(self.cap(self.b, s.id_number, -1), "amount_fen")
        # as of yesterday today's invoice is not counted; tomorrow is not a date to ask
        y = self.assertOK(self.call("GetSellerTotal", I.GetSellerTotalRequest(
            id_number=s.id_number, as_of=harness.day(-1), purpose="x"), self.insp))
        self.assertEqual((y.total_fen, y.window_to, y.window_from),
                         (0, harness.day(-1), iu.window_start(harness.today_cst()
                                                              - datetime.timedelta(days=1))))
        self.assertViolation(self.call("GetSellerTotal", I.GetSellerTotalRequest(
            id_number=s.id_number, as_of=harness.day(1), purpose="x"), self.insp), "as_of")
        for org in (self.a, self.p):
            with self.subTest(total_by=org):
                self.assertCode(self.seller_total(org, s.id_number), C.PERMISSION_DENIED)

    def test_vat_threshold_across_issuers_and_monthly_summary(self):
        va = self.recycler(iu.REVERSE_INVOICE, name="VAT Recycler A")
        vb = self.recycler(iu.REVERSE_INVOICE, name="VAT Recycler B")
        s, t = iu.seller(), iu.seller()
        a1 = self.issue(va, iu.issue_req(s, [iu.fen_line(6_000_000, METAL)]))
        self.assertAmounts(a1, 6_000_000, 0, 0, 30_000)
        # exactly 10,000,000 fen in the month: not over the threshold
        b1 = self.issue(vb, iu.issue_req(s, [iu.fen_line(4_000_000, PAPER)]))
        self.assertAmounts(b1, 4_000_000, 0, 0, 20_000)
        # 150 fen more crosses it: 1% of 150 = 1.5 → 2
        a2 = self.issue(va, iu.issue_req(s, [iu.fen_line(150, PAPER)], with_consent=False))
        self.assertAmounts(a2, 150, 100, 2, 1)
        # after the crossing every invoice records 1%: 10,000.5 → 10,001
        b2 = self.issue(vb, iu.issue_req(s, [iu.fen_line(1_000_050, METAL)],
                                         with_consent=False))
        self.assertAmounts(b2, 1_000_050, 100, 10_001, 5_000)
        # another seller, under the threshold
        a3 = self.issue(va, iu.issue_req(t, [iu.fen_line(1_000_000, BATTERY)]))
        self.assertAmounts(a3, 1_000_000, 0, 0, 5_000)
        month_total = 11_000_200
        self.assertEqual(iu.half_up(6_000_150 * 100, 10000), 60_002)
        self.assertEqual(iu.half_up(5_000_050 * 100, 10000), 50_001)

        def sellers(resp):
            return {x.seller.id_number: x for x in resp.sellers}

        def row(x):
            return (x.amount_fen, x.vat_invoiced_fen, x.vat_due_fen, x.vat_adjustment_fen,
                    x.income_tax_fen, x.all_issuers_amount_fen)

        def cats(resp):
            return {c.category: (c.amount_fen, c.vat_fen, c.income_tax_fen)
                    for c in resp.categories if (c.amount_fen, c.vat_fen, c.income_tax_fen)
                    != (0, 0, 0)}

        def totals(resp):
            x = resp.totals
            return (x.amount_fen, x.vat_invoiced_fen, x.vat_due_fen, x.vat_adjustment_fen,
                    x.income_tax_fen, x.invoice_count)

        n = len(self.access_rows(va, "GetMonthlySummary"))
        sa = self.assertOK(self.summary(va))
        self.assertEqual((sa.issuer_id, sa.month), (va.id, iu.this_month()))
        # one access-log row per seller shown in clear
        rows = self.access_rows(va, "GetMonthlySummary")
        self.assertEqual(len(rows), n + len(sa.sellers), rows)
        self.assertTrue(all(r[1] == "t" for r in rows[n:]), rows)
        by = sellers(sa)
        self.assertEqual(set(by), {s.id_number, t.id_number})
        self.assertEqual(row(by[s.id_number]),
                         (6_000_150, 2, 60_002, 60_000, 30_001, month_total))
        self.assertEqual(row(by[t.id_number]), (1_000_000, 0, 0, 0, 5_000, 1_000_000))
        self.assertEqual((by[s.id_number].seller.name, by[s.id_number].seller.id_number),
                         (s.name, s.id_number))
        self.assertEqual(by[s.id_number].seller_ref, iu.body(a1).seller_ref)
        self.assertEqual(cats(sa), {METAL: (6_000_000, 0, 30_000), PAPER: (150, 2, 1),
                                    BATTERY: (1_000_000, 0, 5_000)})
        self.assertEqual(totals(sa), (7_000_150, 2, 60_002, 60_000, 35_001, 3))

        sb = self.assertOK(self.summary(vb))
        self.assertEqual(set(sellers(sb)), {s.id_number})
        self.assertEqual(row(sellers(sb)[s.id_number]),
                         (5_000_050, 10_001, 50_001, 40_000, 25_000, month_total))
        self.assertEqual(cats(sb), {PAPER: (4_000_000, 0, 20_000),
                                    METAL: (1_000_050, 10_001, 5_000)})
        self.assertEqual(totals(sb), (5_000_050, 10_001, 50_001, 40_000, 25_000, 2))
        for resp in (sa, sb):
            self.assertEqual(sum(c.amount_fen for c in resp.categories), resp.totals.amount_fen)
            self.assertEqual(sum(x.amount_fen for x in resp.sellers), resp.totals.amount_fen)
            self.assertEqual(sum(x.vat_due_fen for x in resp.sellers), resp.totals.vat_due_fen)

        # an inspector reads the same report by naming the issuer
        si = self.assertOK(self.summary(self.insp, issuer_id=va.id))
        self.assertEqual(totals(si), totals(sa))
        self.assertEqual({k: row(v) for k, v in sellers(si).items()},
                         {k: row(v) for k, v in sellers(sa).items()})
        self.assertViolation(self.summary(self.insp), "issuer_id")
        self.assertCode(self.summary(vb, issuer_id=va.id), C.PERMISSION_DENIED)
        self.assertCode(self.summary(self.p, issuer_id=va.id), C.PERMISSION_DENIED)
        self.assertViolation(self.summary(va, month="2026-13"), "month")
        self.assertViolation(self.summary(va, month="2026-1"), "month")
        prev = harness.today_cst().replace(day=1) - datetime.timedelta(days=1)
        empty = self.assertOK(self.summary(va, month=prev.strftime("%Y-%m")))
        self.assertEqual((list(empty.sellers), totals(empty)), ([], (0, 0, 0, 0, 0, 0)))

        # a red keeps the original's rate (0 here, though the month is over the
        # threshold now) and lowers the month
        red = self.red(vb, iu.red_req(b1.id, [200], reason=I.RED_REASON_ALLOWANCE))
        self.assertAmounts(red, -200, 0, 0, -1)
        sb = self.assertOK(self.summary(vb))
        self.assertEqual(row(sellers(sb)[s.id_number]),
                         (4_999_850, 10_001, 49_999, 39_998, 24_999, month_total - 200))
        self.assertEqual(cats(sb), {PAPER: (3_999_800, 0, 19_999),
                                    METAL: (1_000_050, 10_001, 5_000)})
        self.assertEqual(totals(sb)[:5], (4_999_850, 10_001, 49_999, 39_998, 24_999))
        sa = self.assertOK(self.summary(va))
        self.assertEqual(row(sellers(sa)[s.id_number]),
                         (6_000_150, 2, 60_002, 60_000, 30_001, month_total - 200))


# ---------------------------------------------------------------------------------------
# A fresh registry: issuer numbers from 000001 in order of first invoice; gap-free
# ---------------------------------------------------------------------------------------


class NumberingTest(InvoiceCase):

    def test_issuer_numbers_and_gap_free_sequences(self):
        b = self.recycler(iu.REVERSE_INVOICE, name="Created First")
        a = self.recycler(iu.VEHICLE_DISMANTLING, name="Invoices First")
        s = iu.seller()
        a1 = self.issue_fen(a, s, 1000)
        self.assertEqual(iu.parse_number(a1.invoice_number),
                         (iu.this_year_yy(), "14", "1", "000001", 1))
        self.assertEqual(a1.invoice_number, iu.this_year_yy() + "141000001000000001")
        b1 = self.issue_fen(b, s, 1000)
        self.assertEqual(iu.parse_number(b1.invoice_number)[3:], ("000002", 1))
        a2 = self.issue_fen(a, s, 2000, with_consent=False)
        self.assertEqual(self.seq(a2), 2)

        # refusals after the checks consume no number
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            iu.seller(), [iu.fen_line(10)], with_consent=False), a), FP, "SELLER_CONSENT_MISSING")
        self.assertReason(self.call("IssueReverseInvoice", iu.issue_req(
            s, [iu.fen_line(CAP)], with_consent=False), a), FP, "SELLER_CAP_EXCEEDED")
        self.assertReason(self.call("IssueRedInvoice", iu.red_req(a1.id, [1001]), a), FP,
                          "RED_EXCEEDS_ORIGINAL")
        a3 = self.issue_fen(a, s, 3000, with_consent=False)
        ra = self.red(a, iu.red_req(a1.id, full=True))
        a4 = self.issue_fen(a, s, 4000, with_consent=False)
        b2 = self.issue_fen(b, s, 5000, with_consent=False)
        self.assertEqual([self.seq(x) for x in (a1, a2, a3, ra, a4)], [1, 2, 3, 4, 5])
        self.assertEqual({self.issuer_no(x) for x in (a1, a2, a3, ra, a4)}, {"000001"})
        self.assertEqual((self.issuer_no(b2), self.seq(b2)), ("000002", 2))
        year = harness.today_cst().year
        self.assertEqual(sorted(self.db("SELECT issuer_id, year, last_seq FROM invoice_counters")),
                         sorted([[a.id, str(year), "5"], [b.id, str(year), "2"]]))
        self.assertEqual(sorted(self.db("SELECT issuer_id, issuer_no FROM invoice_issuers")),
                         sorted([[a.id, "1"], [b.id, "2"]]))

    def test_timed_out_invoice_gives_its_number_back(self):
        s = self.server
        a = self.recycler(iu.REVERSE_INVOICE, name="Deadline Recycler")
        seller = iu.seller()
        a1 = self.issue_fen(a, seller, 1000)
        req = iu.issue_req(seller, [iu.fen_line(2000)], with_consent=False)
        lock = harness.TableLock(s.db.conninfo, "invoices")
        try:
            t0 = time.monotonic()
            r = s.call("IssueReverseInvoice", req, key=a.key, timeout=1.0)
            elapsed = time.monotonic() - t0
            time.sleep(1.5)  # past the server's own view of the deadline
        finally:
            lock.release()
        self.assertCode(r, C.DEADLINE_EXCEEDED, details_required=False)
        self.assertLess(elapsed, 5)
        time.sleep(2)  # anything the server still did would be committed by now
        self.assertEqual(self.invoices_of(a), 1)
        self.assertEqual(self.db("SELECT last_seq FROM invoice_counters WHERE issuer_id = '%s'"
                                 % a.id), [["1"]])
        self.assertEqual(self.count("SELECT count(*) FROM request_ids WHERE request_id = '%s'"
                                    % req.request_id), 0)
        self.assertTrue(s.alive(), s.log_tail())
        # the same request now succeeds, with the number that was given back
        a2 = self.issue(a, req)
        self.assertEqual((self.seq(a1), self.seq(a2)), (1, 2))


# ---------------------------------------------------------------------------------------
# INVOICE key rotation (its own registryd: the rotation changes every later signature)
# ---------------------------------------------------------------------------------------


class InvoiceKeyRotationTest(InvoiceCase):

    def test_old_invoices_verify_after_rotation(self):
        s = self.server
        a = self.recycler(iu.REVERSE_INVOICE, name="Rotation Recycler")
        old_key = iu.current_invoice_key(s)
        seller = iu.seller()
        old = self.issue_fen(a, seller, 777)
        self.assertEqual(old.key_id, old_key.key_id)

        r = s.run_cli("keys", "rotate", "--purpose", "INVOICE")
        self.assertEqual(r.returncode, 0, r.stderr)
        new_id = r.stdout.strip()
        self.assertRegex(new_id, r"^[0-9a-f]{8}$")
        self.assertNotEqual(new_id, old_key.key_id)
        keys = iu.invoice_keys(s)
        self.assertEqual(sorted(k.key_id for k in keys), sorted([old_key.key_id, new_id]))
        new_key = iu.current_invoice_key(s)
        self.assertEqual(new_key.key_id, new_id)
        retired = iu.invoice_key(s, old_key.key_id)
        self.assertTrue(retired.HasField("valid_until"))
        self.assertEqual(retired.public_key, old_key.public_key)
        others = [k for k in wu.signing_keys(s) if k.purpose != log_pb2.KEY_PURPOSE_INVOICE]
        self.assertEqual(sorted(k.purpose for k in others),
                         [log_pb2.KEY_PURPOSE_CERTIFICATE, log_pb2.KEY_PURPOSE_LOG])

        got = self.get(a, old.id)
        self.assertEqual((got.key_id, got.signature), (old.key_id, old.signature))
        iu.nacl_verify(retired.public_key, got)
        new = self.issue_fen(a, seller, 778, with_consent=False)
        self.assertEqual(new.key_id, new_id)
        iu.nacl_verify(new_key.public_key, new)
        with self.assertRaises(nacl.exceptions.BadSignatureError):
            iu.nacl_verify(old_key.public_key, new)
        self.assertEqual(self.seq(new), 2)


if __name__ == "__main__":
    import unittest
    unittest.main()
