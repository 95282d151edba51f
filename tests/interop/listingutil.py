"""Helpers the ListingService tests share (tests/interop/test_listing.py,
tests/integration/test_listing_races.py): the ListingService methods in
harness.METHODS, synthetic identifiers with correct check characters
(DOMAIN §5), request builders, organizations with roles and
qualifications, and a few calls that must succeed.

Identifiers: the vectors of tests/data/identifiers.json first; more are
made by the rules of DOMAIN §5 (VIN position-9 check digit, IMEI Luhn,
resident ID ISO 7064 MOD 11-2), each rule used only once it accepts every
valid vector of the file and refuses every bad one. Made-up values start
from a random offset so that two classes never depend on each other's
numbering (each class has its own database anyway)."""

import datetime
import itertools
import random

import harness
from harness import IDS, METHODS, OK, rid, stub, auth_md
from registry.v1 import common_pb2, listing_pb2, log_pb2, org_pb2

LISTING = "/registry.v1.ListingService/"
for _name in ("RegisterItem", "GetItem", "GetItemHistory", "CreateListing", "UpdateListing",
              "RecordSale", "GetListing", "ListListings", "ListSales", "AttachAppraisal",
              "ReportStolen", "ClearStolen", "ClearBrand", "TakeDownListing", "RegisterMarket"):
    METHODS[_name] = (LISTING + _name, getattr(listing_pb2, _name + "Request"),
                      getattr(listing_pb2, _name + "Response"))

PLATFORM, RECYCLER, WIPER, APPRAISER, INSPECTOR, ADMIN = (
    common_pb2.ROLE_PLATFORM, common_pb2.ROLE_RECYCLER, common_pb2.ROLE_WIPER,
    common_pb2.ROLE_APPRAISER, common_pb2.ROLE_INSPECTOR, common_pb2.ROLE_ADMIN)
APPRAISAL = org_pb2.QUALIFICATION_KIND_APPRAISAL

L = listing_pb2  # enums: L.LISTING_STATUS_ACTIVE, L.VEHICLE_TYPE_SMALL_PASSENGER …

# -- identifiers (DOMAIN §5) ----------------------------------------------------------

_VIN_CH = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # never I, O, Q
_VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def _vin_val(c):
    if c.isdigit():
        return int(c)
    return {**dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7,
            "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}[c]


def vin_check(vin17):
    r = sum(_vin_val(c) * w for c, w in zip(vin17, _VIN_W)) % 11
    return "X" if r == 10 else str(r)


def vin_ok(v):
    return (len(v) == 17 and all(c in _VIN_CH for c in v) and vin_check(v) == v[8])


def luhn_check(digits14):
    total = 0
    for i, ch in enumerate(reversed(digits14)):
        d = int(ch)
        if i % 2 == 0:  # doubled: the rightmost of the 14, next to the check digit
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def imei_ok(s):
    return len(s) == 15 and s.isdigit() and luhn_check(s[:14]) == s[14]


_ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_check(first17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_W)) % 11]


def id_ok(s):
    if len(s) != 18 or not s[:17].isdigit():
        return False
    try:
        datetime.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return id_check(s[:17]) == s[17]


def _check_rule(name, ok, valid, bad):
    if not all(ok(v) for v in IDS[valid]) or any(ok(v) for v in IDS[bad]):
        raise AssertionError("the %s rule of listingutil does not match "
                             "tests/data/identifiers.json" % name)


_check_rule("VIN", vin_ok, "vin_valid", "vin_bad")
_check_rule("IMEI", imei_ok, "imei_valid", "imei_bad")
_check_rule("resident ID", id_ok, "id_number_valid", "id_number_bad")

_seq = itertools.count(random.randrange(1, 10 ** 6) * 1000)


def make_vin():
    """A fresh valid VIN: WMI LT9 (made up), the position-9 check digit, a
    model-year character and a 6-digit serial."""
    n = next(_seq)
    vds = "".join(_VIN_CH[(n // 33 ** k) % 33] for k in range(5))  # positions 4-8
    serial = "%06d" % (n % 1000000)
    body = "LT9" + vds + "0" + "P" + "A" + serial   # check placeholder at 9
    return body[:8] + vin_check(body) + body[9:]


def make_imei():
    n = next(_seq)
    body = "35%012d" % (n % 10 ** 12)
    return body + luhn_check(body)


def make_id_number(birth=datetime.date(1985, 6, 15)):
    """A fresh valid resident ID (area 140302, Yangquan), born on `birth`."""
    n = next(_seq)
    # the birth day varies too, so that more than 1,000 stay distinct
    d = birth + datetime.timedelta(days=(n // 1000) % 3000)
    first17 = "140302" + d.strftime("%Y%m%d") + "%03d" % (n % 1000)
    return first17 + id_check(first17)


def make_serial():
    return "SN%010d" % next(_seq)


# -- masking (SPEC §3) ------------------------------------------------------------------


def mask_name(name):
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" + name[-1]


def mask_id(id_number):
    return id_number[:4] + "*" * 10 + id_number[-4:]


def mask_phone(phone):
    return phone[:3] + "****" + phone[-4:]


# -- dates ---------------------------------------------------------------------------------


def years_ago(years, extra_days=0):
    """YYYY-MM-DD `years` years before today (CST), minus extra_days; 29
    February becomes 28 February."""
    t = harness.today_cst()
    try:
        d = t.replace(year=t.year - years)
    except ValueError:
        d = t.replace(year=t.year - years, day=28)
    return (d - datetime.timedelta(days=extra_days)).isoformat()


# -- builders ------------------------------------------------------------------------------


_names = itertools.cycle(["张小三", "李四", "王", "欧阳明月", "赵晓东"])


def person(name=None, id_number=None, phone=None):
    """A Person; None fields are made up ("" stays empty)."""
    return common_pb2.Person(
        name=next(_names) if name is None else name,
        id_number=make_id_number() if id_number is None else id_number,
        phone="139%08d" % (next(_seq) % 10 ** 8) if phone is None else phone)


def person_party(**kw):
    return common_pb2.Party(person=person(**kw))


def business_party(uscc, name="Shanxi Used Cars Ltd"):
    return common_pb2.Party(business=common_pb2.Business(uscc=uscc, name=name))


def vehicle(vin=None, vehicle_type=L.VEHICLE_TYPE_SMALL_PASSENGER,
            use_nature=L.USE_NATURE_NON_COMMERCIAL, first_registration_date=None,
            mileage_km=0, **kw):
    base = dict(vin=make_vin() if vin is None else vin, plate_no="晋C%05d" % (next(_seq) % 100000),
                make="Volkswagen", model="Lavida", vehicle_type=vehicle_type,
                use_nature=use_nature,
                first_registration_date=first_registration_date or years_ago(3),
                emission_standard=L.EMISSION_STANDARD_GUO6, mileage_km=mileage_km)
    base.update(kw)
    return L.Vehicle(**base)


def electronic(imei=None, storage_bytes=0, **kw):
    base = dict(category=L.ELECTRONIC_CATEGORY_PHONE, brand="Huawei", model="Mate 40",
                imei=make_imei() if imei is None else imei, serial_no=make_serial(),
                storage_bytes=storage_bytes)
    base.update(kw)
    return L.Electronic(**base)


def goods(**kw):
    base = dict(category=L.GOODS_CATEGORY_FURNITURE, title="Oak table",
                description="Solid oak, 1.2 m, minor scratches")
    base.update(kw)
    return L.Goods(**base)


def revised(msg, **fields):
    """A copy of a Vehicle, Electronic or Goods message with `fields` set."""
    out = type(msg)()
    out.CopyFrom(msg)
    for name, value in fields.items():
        setattr(out, name, value)
    return out


def register_req(thing):
    """RegisterItemRequest for a Vehicle, Electronic or Goods message."""
    field = {L.Vehicle: "vehicle", L.Electronic: "electronic", L.Goods: "goods"}[type(thing)]
    return L.RegisterItemRequest(request_id=rid(), **{field: thing})


def listing_req(item_id, seller=None, price_fen=8800000, **kw):
    return L.CreateListingRequest(request_id=rid(), item_id=item_id,
                                  seller=seller or person_party(), price_fen=price_fen, **kw)


def sale_req(listing_id, buyer=None, price_fen=8500000, sold_on=None):
    return L.RecordSaleRequest(request_id=rid(), listing_id=listing_id,
                               buyer=buyer or person_party(), price_fen=price_fen,
                               sold_on=sold_on or harness.day(0))


# -- organizations and must-succeed calls -------------------------------------------------


class Org:
    """An organization made for a test: id, key (its API key), uscc."""

    def __init__(self, resp):
        self.id = resp.organization.id
        self.key = resp.api_key
        self.uscc = resp.organization.uscc
        self.org = resp.organization

    def __repr__(self):
        return "Org(%s)" % self.id


def make_org(server, roles, name=None):
    return Org(server.create_org(list(roles), name=name))


def set_qualification(server, org_id, kind=APPRAISAL, valid_from=None, valid_until=None,
                      certificate_no="APP-0001"):
    r = server.call("SetQualification", org_pb2.SetQualificationRequest(
        request_id=rid(), organization_id=org_id, kind=kind, certificate_no=certificate_no,
        valid_from=valid_from or harness.day(-30), valid_until=valid_until or harness.day(365)),
        key=server.admin_key)
    if r.code != OK:
        raise AssertionError("SetQualification failed: %r" % (r,))
    return r.response


def must(reply, what):
    if reply.code != OK:
        raise AssertionError("%s failed: %r" % (what, reply))
    return reply.response


def register(server, key, thing):
    """RegisterItem that must succeed → RegisterItemResponse."""
    return must(server.call("RegisterItem", register_req(thing), key=key), "RegisterItem")


def new_vehicle(server, key, **kw):
    """A newly registered vehicle → Item."""
    r = register(server, key, vehicle(**kw))
    if not r.created:
        raise AssertionError("RegisterItem: created false for a new VIN: %r" % (r,))
    return r.item


def new_listing(server, key, item_id, **kw):
    """CreateListing that must succeed → CreateListingResponse."""
    return must(server.call("CreateListing", listing_req(item_id, **kw), key=key),
                "CreateListing")


def record_sale(server, key, listing_id, **kw):
    return must(server.call("RecordSale", sale_req(listing_id, **kw), key=key),
                "RecordSale").sale


# -- WatchEvents ---------------------------------------------------------------------------

WATCH = "/registry.v1.LogService/WatchEvents"


class Watch(harness.StreamReader):
    """A WatchEvents stream (as tests/interop/test_watch.py reads it)."""

    def __init__(self, channel, key, from_index=0, types=()):
        fn = stub(channel, WATCH, log_pb2.WatchEventsRequest, log_pb2.WatchEventsResponse,
                  kind="unary_stream")
        super().__init__(fn(log_pb2.WatchEventsRequest(from_index=from_index, types=list(types)),
                            metadata=tuple(auth_md(key)), timeout=120),
                         item=lambda m: m.event)

    @property
    def events(self):
        return self.items
