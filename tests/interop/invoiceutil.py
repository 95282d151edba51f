"""Helpers for the InvoiceService tests (tests/interop/test_invoice.py,
tests/integration/test_invoice_races.py): the InvoiceService methods in
harness.METHODS (the ListingService ones come with listingutil, the
LogService ones with logutil), exact half-up arithmetic written here
independently of the server (SPEC §4.5: half away from zero, a red's
negative amounts mirror the blue's), request builders, recyclers with
qualifications, the 20-digit invoice number taken apart, and the INVOICE
signing keys as LogService.ListSigningKeys lists them, with a python3-nacl
check of Ed25519 over "registry.v1.ReverseInvoice\\n" ‖ body."""

import datetime
import re
import time

import nacl.signing  # Debian's python3-nacl
from google.protobuf import timestamp_pb2

import harness
import listingutil as lu
import logutil  # noqa: F401  (registers the LogService methods)
from harness import METHODS, OK, rid
from registry.v1 import invoice_pb2, log_pb2, org_pb2

I = invoice_pb2  # noqa: E741
INVOICE = "/registry.v1.InvoiceService/"
for _name in ("IssueReverseInvoice", "IssueRedInvoice", "CheckSellerCap", "GetInvoice",
              "ListInvoices", "GetMonthlySummary", "GetSellerTotal"):
    METHODS[_name] = (INVOICE + _name, getattr(invoice_pb2, _name + "Request"),
                      getattr(invoice_pb2, _name + "Response"))

CONTEXT = b"registry.v1.ReverseInvoice\n"
INVOICE_PURPOSE = log_pb2.KEY_PURPOSE_INVOICE

REVERSE_INVOICE = org_pb2.QUALIFICATION_KIND_REVERSE_INVOICE
VEHICLE_DISMANTLING = org_pb2.QUALIFICATION_KIND_VEHICLE_DISMANTLING
HAZARDOUS_WASTE = org_pb2.QUALIFICATION_KIND_HAZARDOUS_WASTE
DATA_WIPE = org_pb2.QUALIFICATION_KIND_DATA_WIPE

BLUE, RED = I.INVOICE_KIND_BLUE, I.INVOICE_KIND_RED
METAL, PAPER, PLASTIC = (I.INVOICE_CATEGORY_SCRAP_METAL, I.INVOICE_CATEGORY_SCRAP_PAPER,
                         I.INVOICE_CATEGORY_SCRAP_PLASTIC)
VEHICLE, ELECTRONICS, BATTERY, TEXTILE, APPLIANCE = (
    I.INVOICE_CATEGORY_SCRAP_VEHICLE, I.INVOICE_CATEGORY_SCRAP_ELECTRONICS,
    I.INVOICE_CATEGORY_SCRAP_BATTERY, I.INVOICE_CATEGORY_SCRAP_TEXTILE,
    I.INVOICE_CATEGORY_SCRAP_APPLIANCE)
KG, TONNE, PIECE, UNIT_VEHICLE = (I.QUANTITY_UNIT_KG, I.QUANTITY_UNIT_TONNE,
                                  I.QUANTITY_UNIT_PIECE, I.QUANTITY_UNIT_VEHICLE)

CAP_FEN = 500_000_000          # 5,000,000.00 CNY (DOMAIN §1)
VAT_THRESHOLD_FEN = 10_000_000  # 100,000.00 CNY a month
VAT_BP, INCOME_BP = 100, 50

# -- arithmetic (exact integers) ------------------------------------------------------


def half_up(n, d):
    """n / d rounded half away from zero, d > 0, exact."""
    q, r = divmod(abs(n), d)
    if 2 * r >= d:
        q += 1
    return q if n >= 0 else -q


def line_amount(quantity_milli, unit_price_fen):
    return half_up(quantity_milli * unit_price_fen, 1000)


def tax(amount_fen, rate_bp):
    return half_up(amount_fen * rate_bp, 10000)


# -- builders ------------------------------------------------------------------------------

_DESC = {METAL: "废钢 (scrap steel)", PAPER: "废纸 (cardboard)", PLASTIC: "废塑料 (PET bottles)",
         VEHICLE: "报废小型轿车", ELECTRONICS: "废旧手机", BATTERY: "废铅酸电池",
         TEXTILE: "废旧衣物", APPLIANCE: "废旧空调", I.INVOICE_CATEGORY_OTHER: "其他废品"}


def line(category=METAL, quantity_milli=1000, unit_price_fen=100, amount_fen=None, unit=None,
         description=None, **kw):
    """An InvoiceLine whose amount is right unless amount_fen is given."""
    if unit is None:
        unit = UNIT_VEHICLE if category == VEHICLE else (
            PIECE if category in (ELECTRONICS, APPLIANCE) else KG)
    return I.InvoiceLine(
        category=category, description=_DESC.get(category, "scrap") if description is None
        else description, quantity_milli=quantity_milli, unit=unit,
        unit_price_fen=unit_price_fen,
        amount_fen=line_amount(quantity_milli, unit_price_fen) if amount_fen is None
        else amount_fen, **kw)


def fen_line(amount_fen, category=METAL):
    """One unit (1,000 milli) at `amount_fen`: amount_fen exactly."""
    return line(category, 1000, amount_fen)


def vehicle_line(vin, price_fen=350000, certificate_no=None):
    return line(VEHICLE, 1000, price_fen, vin=vin,
                scrap_certificate_no=certificate_no or "BF-1403-%s" % vin[-6:])


def consent(seconds_ago=600, channel="counter"):
    return I.SellerConsent(consented_at=timestamp_pb2.Timestamp(seconds=int(time.time())
                                                                - seconds_ago),
                           channel=channel)


def issue_req(seller, lines, with_consent=True, issued_on="", request_id=None,
              seller_consent=None):
    """IssueReverseInvoiceRequest; seller a Person. The consent is
    `seller_consent` when given, else a fresh one unless with_consent is
    false."""
    if seller_consent is None and with_consent:
        seller_consent = consent()
    return I.IssueReverseInvoiceRequest(
        request_id=request_id or rid(), seller=seller, seller_consent=seller_consent,
        lines=list(lines), issued_on=issued_on)


def red_req(original_id, amounts=None, full=False, reason=I.RED_REASON_ERROR, quantities=None,
            request_id=None):
    """IssueRedInvoiceRequest: `full`, or partial with `amounts` by the
    original's line positions (and optionally quantities)."""
    lines = []
    for i, a in enumerate(amounts or ()):
        ln = I.InvoiceLine(amount_fen=a)
        if quantities and quantities[i]:
            ln.quantity_milli = quantities[i]
        lines.append(ln)
    return I.IssueRedInvoiceRequest(request_id=request_id or rid(), original_invoice_id=original_id,
                                    full=full, lines=lines, reason=reason)


def seller(**kw):
    return lu.person(**kw)


# -- organizations -------------------------------------------------------------------------


def make_recycler(server, quals=(REVERSE_INVOICE,), name=None, roles=(lu.RECYCLER,)):
    org = lu.make_org(server, roles, name=name)
    for q in quals:
        lu.set_qualification(server, org.id, kind=q,
                             certificate_no="Q%d-%s" % (q, org.id[-6:]))
    return org


# -- numbers -------------------------------------------------------------------------------

NUMBER_RE = re.compile(r"^(\d{2})(14)(\d)(\d{6})(\d{9})$")


def parse_number(number):
    """(yy, region, channel, issuer_no, seq) of a 20-digit invoice number."""
    m = NUMBER_RE.match(number)
    if not m:
        raise AssertionError("not a 20-digit invoice number: %r" % number)
    yy, region, channel, issuer_no, seq = m.groups()
    return yy, region, channel, issuer_no, int(seq)


def this_year_yy():
    return "%02d" % (harness.today_cst().year % 100)


def this_month():
    return harness.today_cst().strftime("%Y-%m")


def window_start(d=None):
    """The first day of the cap window: the month of d and the 11 before."""
    d = d or harness.today_cst()
    m = d.year * 12 + (d.month - 1) - 11
    return datetime.date(m // 12, m % 12 + 1, 1).isoformat()


# -- keys and signatures ----------------------------------------------------------------------


def invoice_keys(server):
    r = server.call("ListSigningKeys")
    if r.code != OK:
        raise AssertionError("ListSigningKeys failed: %r" % (r,))
    return [k for k in r.response.keys if k.purpose == INVOICE_PURPOSE]


def invoice_key(server, key_id):
    ks = [k for k in invoice_keys(server) if k.key_id == key_id]
    if len(ks) != 1:
        raise AssertionError("no single INVOICE key %s among %r" % (key_id, invoice_keys(server)))
    return ks[0]


def current_invoice_key(server):
    ks = [k for k in invoice_keys(server) if not k.HasField("valid_until")]
    if len(ks) != 1:
        raise AssertionError("not one current INVOICE key: %r" % (ks,))
    return ks[0]


def nacl_verify(public_key, invoice):
    """Raises nacl.exceptions.BadSignatureError unless invoice.signature is
    Ed25519 over CONTEXT ‖ invoice.body under public_key."""
    nacl.signing.VerifyKey(bytes(public_key)).verify(CONTEXT + invoice.body, invoice.signature)


def body(invoice):
    return I.ReverseInvoiceBody.FromString(invoice.body)
