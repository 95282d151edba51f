"""ListingService through a stock gRPC client (SPEC §4.2, §3, §6; DOMAIN §2,
§5): items and their identity across platforms, listings, sales, the item
history, appraisals, stolen reports, brands, take-downs and markets; every
refusal as FAILED_PRECONDITION with its ErrorInfo reason, every warning,
every bad field named in BadRequest; platforms kept apart and personal data
masked (an inspector's clear read access-logged); request_id replays;
SOLD_ELSEWHERE; the WatchEvents visibility of listing events (SPEC §4.6)
and the log index of history entries."""

import datetime
import time
import unittest

import grpc
from google.protobuf import wrappers_pb2

import harness
import listingutil as lu
from harness import OK, rid, day
from listingutil import L, PLATFORM, RECYCLER, WIPER, APPRAISER, INSPECTOR
from registry.v1 import common_pb2, log_pb2

C = grpc.StatusCode
FP = C.FAILED_PRECONDITION
H = L  # HistoryKind values: H.HISTORY_KIND_LISTED …


class ListingCase(harness.RegistryTestCase):
    """Shared helpers; each subclass has its own registryd and database."""

    @classmethod
    def org(cls, *roles, name=None):
        return lu.make_org(cls.server, roles, name=name)

    def call(self, method, req, org):
        return self.server.call(method, req, key=org.key if hasattr(org, "key") else org)

    def ok(self, method, req, org):
        return self.assertOK(self.call(method, req, org))

    def vehicle_item(self, org, **kw):
        return lu.new_vehicle(self.server, org.key, **kw)

    def listing(self, org, item_id, **kw):
        return lu.new_listing(self.server, org.key, item_id, **kw)

    def sale(self, org, listing_id, **kw):
        return lu.record_sale(self.server, org.key, listing_id, **kw)

    def get_listing(self, org, listing_id):
        return self.ok("GetListing", L.GetListingRequest(listing_id=listing_id), org).listing

    def get_item(self, org, item_id):
        return self.ok("GetItem", L.GetItemRequest(item_id=item_id), org).item

    def history(self, org, **key):
        return self.ok("GetItemHistory", L.GetItemHistoryRequest(**key), org)

    def update(self, org, listing_id, status=0, price=None, request_id=None):
        req = L.UpdateListingRequest(request_id=request_id or rid(), listing_id=listing_id,
                                     status=status)
        if price is not None:
            req.price_fen.CopyFrom(wrappers_pb2.Int64Value(value=price))
        return self.call("UpdateListing", req, org)

    def db(self, sql):
        return self.server.db.query(sql)

    def scalar(self, sql):
        return self.server.db.scalar(sql)

    def count(self, sql):
        return int(self.scalar(sql))

    def warnings(self, resp):
        return [w.reason for w in resp.warnings]


def is_subsequence(want, got):
    it = iter(got)
    return all(any(w == g for g in it) for w in want)


# ---------------------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------------------


class ItemsTest(ListingCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.org(PLATFORM, name="Platform A")
        cls.b = cls.org(PLATFORM, name="Platform B")
        cls.recycler = cls.org(RECYCLER, WIPER, name="Recycler")
        cls.appraiser = cls.org(APPRAISER, name="Appraiser")
        cls.insp = cls.org(INSPECTOR, name="Inspector")

    def test_register_vehicle_and_same_vin_again(self):
        v = lu.vehicle(mileage_km=52000)
        r = self.ok("RegisterItem", lu.register_req(v), self.a)
        self.assertTrue(r.created)
        item = r.item
        self.assertTrue(item.id.startswith("itm_"), item.id)
        self.assertEqual(item.kind, L.ITEM_KIND_VEHICLE)
        self.assertEqual(item.WhichOneof("details"), "vehicle")
        self.assertEqual(item.vehicle.vin, v.vin)
        self.assertEqual(item.vehicle.vehicle_type, L.VEHICLE_TYPE_SMALL_PASSENGER)
        self.assertEqual(item.vehicle.use_nature, L.USE_NATURE_NON_COMMERCIAL)
        self.assertEqual(item.vehicle.first_registration_date, v.first_registration_date)
        self.assertEqual(item.status, L.ITEM_STATUS_ACTIVE)
        self.assertEqual(list(item.brands), [])
        self.assertEqual(item.transfer_count, 0)
        self.assertEqual(item.highest_mileage_km, 52000)
        self.assertFalse(item.HasField("owner"))
        self.assertTrue(item.HasField("created_at"))
        self.assertEqual(self.count("SELECT count(*) FROM events WHERE type = %d AND item_id = '%s'"
                                    % (log_pb2.EVENT_TYPE_ITEM_REGISTERED, item.id)), 1)
        # The same VIN from another platform, in lower case, with a later
        # reading: the same item, the reading recorded.
        again = L.Vehicle()
        again.CopyFrom(v)
        again.vin = v.vin.lower()
        again.mileage_km = 61000
        r2 = self.ok("RegisterItem", lu.register_req(again), self.b)
        self.assertFalse(r2.created)
        self.assertEqual(r2.item.id, item.id)
        self.assertEqual(r2.item.vehicle.vin, v.vin)
        self.assertEqual(r2.item.highest_mileage_km, 61000)
        self.assertEqual(self.warnings(r2), [])
        self.assertEqual(self.count("SELECT count(*) FROM items WHERE vin = '%s'" % v.vin), 1)
        h = self.history(self.b, item_id=item.id)
        readings = [e.mileage_km for e in h.entries if e.kind == H.HISTORY_KIND_ODOMETER_READING]
        self.assertEqual(readings, [52000, 61000])
        self.assertEqual(h.entries[0].kind, H.HISTORY_KIND_REGISTERED)
        self.assertEqual(h.entries[0].organization_id, self.a.id)

    def test_register_electronic_same_imei_and_same_brand_serial(self):
        e = lu.electronic(storage_bytes=128 << 30)
        r = self.ok("RegisterItem", lu.register_req(e), self.recycler)
        self.assertTrue(r.created)
        self.assertEqual(r.item.kind, L.ITEM_KIND_ELECTRONIC)
        self.assertEqual(r.item.electronic.imei, e.imei)
        self.assertEqual(r.item.electronic.storage_bytes, 128 << 30)
        r2 = self.ok("RegisterItem", lu.register_req(lu.electronic(imei=e.imei)), self.a)
        self.assertFalse(r2.created)
        self.assertEqual(r2.item.id, r.item.id)
        # No IMEI: (brand, serial_no) is the identity, brand case-insensitive.
        serial = lu.make_serial()
        n1 = self.ok("RegisterItem", lu.register_req(lu.electronic(
            imei="", brand="Canon", serial_no=serial, category=L.ELECTRONIC_CATEGORY_CAMERA)),
            self.a)
        self.assertTrue(n1.created)
        n2 = self.ok("RegisterItem", lu.register_req(lu.electronic(
            imei="", brand="CANON", serial_no=serial, category=L.ELECTRONIC_CATEGORY_CAMERA)),
            self.b)
        self.assertFalse(n2.created)
        self.assertEqual(n2.item.id, n1.item.id)
        n3 = self.ok("RegisterItem", lu.register_req(lu.electronic(
            imei="", brand="Nikon", serial_no=serial, category=L.ELECTRONIC_CATEGORY_CAMERA)),
            self.b)
        self.assertTrue(n3.created)

    def test_register_goods_is_always_new(self):
        g = lu.goods()
        r1 = self.ok("RegisterItem", lu.register_req(g), self.a)
        r2 = self.ok("RegisterItem", lu.register_req(g), self.a)
        self.assertTrue(r1.created and r2.created)
        self.assertNotEqual(r1.item.id, r2.item.id)
        self.assertEqual(r1.item.kind, L.ITEM_KIND_GOODS)
        self.assertEqual(r1.item.goods.title, g.title)
        self.assertEqual(r1.item.goods.category, L.GOODS_CATEGORY_FURNITURE)

    def test_callers(self):
        for org in (self.a, self.recycler, self.appraiser, self.insp):
            with self.subTest(org=org):
                self.ok("RegisterItem", lu.register_req(lu.goods()), org)
        self.assertCode(self.call("RegisterItem", lu.register_req(lu.goods()),
                                  self.server.admin_key), C.PERMISSION_DENIED)
        self.assertCode(self.server.call("RegisterItem", lu.register_req(lu.goods())),
                        C.UNAUTHENTICATED)

    def test_get_item(self):
        item = self.vehicle_item(self.a)
        got = self.get_item(self.b, item.id)
        self.assertEqual(got.id, item.id)
        self.assertEqual(got.vehicle.vin, item.vehicle.vin)
        self.assertCode(self.call("GetItem", L.GetItemRequest(item_id="itm_doesnotexist"), self.a),
                        C.NOT_FOUND)

    def test_history_by_item_id_vin_imei(self):
        item = self.vehicle_item(self.a, mileage_km=1000)
        by_id = self.history(self.b, item_id=item.id)
        by_vin = self.history(self.b, vin=item.vehicle.vin)
        by_vin_lower = self.history(self.b, vin=item.vehicle.vin.lower())
        for h in (by_id, by_vin, by_vin_lower):
            self.assertEqual(h.item.id, item.id)
            self.assertEqual([e.kind for e in h.entries], [e.kind for e in by_id.entries])
        self.assertEqual(by_id.entries[0].kind, H.HISTORY_KIND_REGISTERED)
        dev = self.ok("RegisterItem", lu.register_req(lu.electronic()), self.a).item
        by_imei = self.history(self.insp, imei=dev.electronic.imei)
        self.assertEqual(by_imei.item.id, dev.id)
        self.assertEqual(by_imei.entries[0].kind, H.HISTORY_KIND_REGISTERED)
        self.assertCode(self.call("GetItemHistory", L.GetItemHistoryRequest(vin=lu.make_vin()),
                                  self.a), C.NOT_FOUND)
        self.assertField(self.call("GetItemHistory",
                                   L.GetItemHistoryRequest(vin=harness.IDS["vin_bad"][0]),
                                   self.a), "vin")
        self.assertField(self.call("GetItemHistory",
                                   L.GetItemHistoryRequest(imei=harness.IDS["imei_bad"][0]),
                                   self.a), "imei")

    def test_bad_fields(self):
        for bad in harness.IDS["vin_bad"]:
            with self.subTest(vin=bad):
                self.assertField(self.call("RegisterItem", lu.register_req(lu.vehicle(vin=bad)),
                                           self.a), "vehicle.vin")
        for bad in ("LT9AB1234OPA12345", "LT9AB1234QPA12345", ""):
            with self.subTest(vin=bad):
                self.assertField(self.call("RegisterItem", lu.register_req(lu.vehicle(vin=bad)),
                                           self.a), "vehicle.vin")
        for bad in harness.IDS["imei_bad"]:
            with self.subTest(imei=bad):
                self.assertField(self.call("RegisterItem",
                                           lu.register_req(lu.electronic(imei=bad)), self.a),
                                 "electronic.imei")
        for vt, use in ((L.VEHICLE_TYPE_LIGHT_TRUCK, L.USE_NATURE_TAXI),
                        (L.VEHICLE_TYPE_HEAVY_TRUCK, L.USE_NATURE_COMMERCIAL_PASSENGER),
                        (L.VEHICLE_TYPE_SMALL_PASSENGER, L.USE_NATURE_COMMERCIAL_FREIGHT)):
            with self.subTest(vehicle_type=vt, use_nature=use):
                self.assertField(self.call("RegisterItem", lu.register_req(
                    lu.vehicle(vehicle_type=vt, use_nature=use)), self.a), "vehicle.use_nature")
        self.assertField(self.call("RegisterItem", lu.register_req(
            lu.vehicle(first_registration_date="2020-02-30")), self.a),
            "vehicle.first_registration_date")
        self.assertField(self.call("RegisterItem", lu.register_req(
            lu.vehicle(mileage_km=-1)), self.a), "vehicle.mileage_km")
        req = lu.register_req(lu.goods())
        req.request_id = "not-a-uuid"
        self.assertField(self.call("RegisterItem", req, self.a), "request_id")
        # Nothing was stored by any of these.
        self.assertEqual(self.count("SELECT count(*) FROM items WHERE vin IN (%s)" % ", ".join(
            "'%s'" % v.upper() for v in harness.IDS["vin_bad"])), 0)

    def test_odometer_rollback_on_registration(self):
        item = self.vehicle_item(self.a, mileage_km=100000)
        again = lu.vehicle(vin=item.vehicle.vin, mileage_km=90000)
        r = self.ok("RegisterItem", lu.register_req(again), self.b)
        self.assertFalse(r.created)
        self.assertIn("ODOMETER_ROLLBACK_SUSPECTED", self.warnings(r))
        self.assertEqual(list(r.item.brands), [L.BRAND_ODOMETER_ROLLBACK_SUSPECTED])
        self.assertEqual(r.item.highest_mileage_km, 100000)
        kinds = [e.kind for e in self.history(self.a, item_id=item.id).entries]
        self.assertIn(H.HISTORY_KIND_BRANDED, kinds)

    def test_reregistration_keeps_the_scrapping_facts(self):
        taxi = self.vehicle_item(self.a, use_nature=L.USE_NATURE_TAXI,
                                 first_registration_date=lu.years_ago(9))
        old_date = taxi.vehicle.first_registration_date
        self.assertReason(self.call("CreateListing", lu.listing_req(taxi.id), self.a), FP,
                          "PAST_SCRAPPING_AGE")
        # Another platform registers the VIN again as a young private car:
        # the same item, its type, use and first registration unchanged.
        young = lu.vehicle(vin=taxi.vehicle.vin, vehicle_type=L.VEHICLE_TYPE_MICRO_PASSENGER,
                           use_nature=L.USE_NATURE_NON_COMMERCIAL,
                           first_registration_date=lu.years_ago(1))
        r = self.ok("RegisterItem", lu.register_req(young), self.b)
        self.assertFalse(r.created)
        self.assertEqual(r.item.id, taxi.id)
        for got in (r.item, self.get_item(self.b, taxi.id)):
            self.assertEqual((got.vehicle.vehicle_type, got.vehicle.use_nature,
                              got.vehicle.first_registration_date),
                             (L.VEHICLE_TYPE_SMALL_PASSENGER, L.USE_NATURE_TAXI, old_date))
        for org in (self.a, self.b):
            with self.subTest(org=org):
                self.assertReason(self.call("CreateListing", lu.listing_req(taxi.id), org), FP,
                                  "PAST_SCRAPPING_AGE")
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                    % taxi.id), 0)

    def test_observation_that_changes_nothing_appends_no_event(self):
        v = lu.vehicle(mileage_km=30000)
        item = self.ok("RegisterItem", lu.register_req(v), self.a).item
        registered = lambda: self.count(  # noqa: E731
            "SELECT count(*) FROM events WHERE item_id = '%s' AND type = %d"
            % (item.id, log_pb2.EVENT_TYPE_ITEM_REGISTERED))
        self.assertEqual(registered(), 1)
        # Exactly the same details from another platform: history, no event.
        r = self.ok("RegisterItem", lu.register_req(lu.revised(v)), self.b)
        self.assertFalse(r.created)
        self.assertEqual(r.item.id, item.id)
        self.assertEqual(registered(), 1)
        observed = lambda: [e for e in self.history(self.b, item_id=item.id).entries  # noqa: E731
                            if e.kind == H.HISTORY_KIND_REGISTERED and e.detail == "observed"]
        got = observed()
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0].organization_id, self.b.id)
        # A changed make is a change of the item's record: one more event.
        r = self.ok("RegisterItem", lu.register_req(lu.revised(v, make="Skoda")), self.a)
        self.assertFalse(r.created)
        self.assertEqual(registered(), 2)
        self.assertEqual(self.get_item(self.b, item.id).vehicle.make, "Skoda")
        self.assertEqual(len(observed()), 2)

    def test_device_known_by_serial_adopts_its_imei(self):
        serial = lu.make_serial()
        imei = lu.make_imei()
        first = self.ok("RegisterItem", lu.register_req(lu.electronic(
            imei="", brand="Apple", serial_no=serial, category=L.ELECTRONIC_CATEGORY_TABLET)),
            self.recycler)
        self.assertTrue(first.created)
        self.assertEqual(first.item.electronic.imei, "")
        again = self.ok("RegisterItem", lu.register_req(lu.electronic(
            imei=imei, brand="Apple", serial_no=serial, category=L.ELECTRONIC_CATEGORY_TABLET)),
            self.a)
        self.assertFalse(again.created)
        self.assertEqual(again.item.id, first.item.id)
        self.assertEqual(self.get_item(self.b, first.item.id).electronic.imei, imei)
        by_imei = self.history(self.b, imei=imei)
        self.assertEqual(by_imei.item.id, first.item.id)
        self.assertEqual(by_imei.entries[0].kind, H.HISTORY_KIND_REGISTERED)
        self.assertEqual(self.count("SELECT count(*) FROM items WHERE serial_no = '%s'" % serial),
                         1)
        # Known by that IMEI now: a registration by IMEI alone finds it too.
        by_imei_only = self.ok("RegisterItem", lu.register_req(lu.electronic(
            imei=imei, category=L.ELECTRONIC_CATEGORY_TABLET)), self.b)
        self.assertFalse(by_imei_only.created)
        self.assertEqual(by_imei_only.item.id, first.item.id)

    def test_clearing_rollback_brand_resets_highest_reading(self):
        car = self.vehicle_item(self.a, mileage_km=1000000)  # a typo for 100,000
        r = self.ok("RegisterItem", lu.register_req(lu.vehicle(vin=car.vehicle.vin,
                                                               mileage_km=52000)), self.b)
        self.assertFalse(r.created)
        self.assertIn("ODOMETER_ROLLBACK_SUSPECTED", self.warnings(r))
        self.assertEqual(list(r.item.brands), [L.BRAND_ODOMETER_ROLLBACK_SUSPECTED])
        self.assertEqual(r.item.highest_mileage_km, 1000000)
        cleared = self.ok("ClearBrand", L.ClearBrandRequest(
            request_id=rid(), item_id=car.id, brand=L.BRAND_ODOMETER_ROLLBACK_SUSPECTED,
            reason="typo in the first registration's mileage", decision_ref="SAMR-2026-0077"),
            self.insp).item
        self.assertEqual(list(cleared.brands), [])
        self.assertEqual(cleared.highest_mileage_km, 52000)
        got = self.get_item(self.a, car.id)
        self.assertEqual((list(got.brands), got.highest_mileage_km), ([], 52000))
        # The next true reading neither warns nor brands it again.
        r = self.ok("RegisterItem", lu.register_req(lu.vehicle(vin=car.vehicle.vin,
                                                               mileage_km=53000)), self.a)
        self.assertEqual(self.warnings(r), [])
        self.assertEqual(list(r.item.brands), [])
        self.assertEqual(r.item.highest_mileage_km, 53000)
        self.assertEqual(list(self.get_item(self.b, car.id).brands), [])
        self.assertEqual(self.count("SELECT count(*) FROM events WHERE type = %d AND item_id = '%s'"
                                    % (log_pb2.EVENT_TYPE_ITEM_BRANDED, car.id)), 1)

    def test_mileage_beyond_any_odometer(self):
        v = lu.vehicle(mileage_km=10000001)
        self.assertField(self.call("RegisterItem", lu.register_req(v), self.a),
                         "vehicle.mileage_km")
        self.assertEqual(self.count("SELECT count(*) FROM items WHERE vin = '%s'" % v.vin), 0)
        # 10,000,000 km is the most an odometer is taken to show.
        self.assertEqual(self.vehicle_item(self.a, mileage_km=10000000).highest_mileage_km,
                         10000000)


# ---------------------------------------------------------------------------------------
# Listings, sales, platforms apart, masking, replay
# ---------------------------------------------------------------------------------------


class ListingsTest(ListingCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.org(PLATFORM, name="Platform A")
        cls.b = cls.org(PLATFORM, name="Platform B")
        cls.c = cls.org(PLATFORM, name="Platform C")
        cls.insp = cls.org(INSPECTOR, name="Inspector")

    def test_create_get_and_masking(self):
        item = self.vehicle_item(self.a, mileage_km=30000)
        seller = lu.person_party(name="张小三", phone="13912345678")
        idn = seller.person.id_number
        r = self.ok("CreateListing", lu.listing_req(
            item.id, seller=seller, price_fen=8800000, platform_listing_ref="A-REF-1",
            condition_grade="B", mileage_km=31000), self.a)
        lst = r.listing
        self.assertTrue(lst.id.startswith("lst_"), lst.id)
        self.assertEqual(lst.item_id, item.id)
        self.assertEqual(lst.platform_id, self.a.id)
        self.assertEqual(lst.status, L.LISTING_STATUS_ACTIVE)
        self.assertEqual(lst.price_fen, 8800000)
        self.assertEqual(lst.platform_listing_ref, "A-REF-1")
        self.assertEqual(lst.condition_grade, "B")
        self.assertEqual(lst.mileage_km, 31000)
        self.assertEqual(lst.item_kind, L.ITEM_KIND_VEHICLE)
        self.assertTrue(lst.HasField("created_at"))
        self.assertEqual(self.warnings(r), [], "an item never sold gives no warning")
        masked = common_pb2.Person(name="张*三", id_number=idn[:4] + "*" * 10 + idn[-4:],
                                   phone="139****5678")
        self.assertEqual(lst.seller.person, masked)
        # The platform's own reads: masked.
        self.assertEqual(self.get_listing(self.a, lst.id).seller.person, masked)
        mine = self.ok("ListListings", L.ListListingsRequest(item_id=item.id), self.a).listings
        self.assertEqual([x.id for x in mine], [lst.id])
        self.assertEqual(mine[0].seller.person, masked)
        # The clear value appears nowhere in what the platform gets.
        for resp in (r, self.ok("GetListing", L.GetListingRequest(listing_id=lst.id), self.a)):
            raw = resp.SerializeToString()
            self.assertNotIn(idn.encode(), raw)
            self.assertNotIn("小".encode(), raw)
            self.assertNotIn(b"13912345678", raw)
        # An inspector reads it clear, and that read is access-logged.
        before = self.count("SELECT count(*) FROM access_log WHERE organization_id = '%s'"
                            % self.insp.id)
        got = self.get_listing(self.insp, lst.id)
        self.assertEqual(got.seller.person, seller.person)
        rows = self.db("SELECT method, subject_blind_index IS NOT NULL FROM access_log "
                       "WHERE organization_id = '%s' ORDER BY id" % self.insp.id)
        self.assertEqual(len(rows), before + 1, rows)
        self.assertIn("GetListing", rows[-1][0])
        self.assertEqual(rows[-1][1], "t", "the access-log row names the seller's blind index")
        # Nothing personal in clear at rest.
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE position('%s'::bytea in "
                                    "seller_enc) > 0 OR position('%s'::bytea in seller_ref) > 0"
                                    % (idn, idn)), 0)
        # Masking of short names and a business seller (not masked).
        for name, want in (("王", "*"), ("李四", "李*"), ("欧阳明月", "欧*月")):
            with self.subTest(name=name):
                it = self.vehicle_item(self.a)
                lst2 = self.listing(self.a, it.id, seller=lu.person_party(name=name)).listing
                self.assertEqual(lst2.seller.person.name, want)
        it = self.vehicle_item(self.a)
        biz = lu.business_party(self.server.uscc(), name="Taiyuan Motors Ltd")
        lst3 = self.listing(self.a, it.id, seller=biz).listing
        self.assertEqual(lst3.seller, biz)

    def test_update_price_and_status(self):
        item = self.vehicle_item(self.a)
        lst = self.listing(self.a, item.id, price_fen=5000000).listing
        u = self.assertOK(self.update(self.a, lst.id, price=4500000)).listing
        self.assertEqual((u.price_fen, u.status), (4500000, L.LISTING_STATUS_ACTIVE))
        # 0 is a price (a free item), not "unchanged".
        u = self.assertOK(self.update(self.a, lst.id, price=0)).listing
        self.assertEqual(u.price_fen, 0)
        # No price, a status: price unchanged.
        u = self.assertOK(self.update(self.a, lst.id, status=L.LISTING_STATUS_RESERVED)).listing
        self.assertEqual((u.price_fen, u.status), (0, L.LISTING_STATUS_RESERVED))
        u = self.assertOK(self.update(self.a, lst.id, status=L.LISTING_STATUS_ACTIVE,
                                      price=4200000)).listing
        self.assertEqual((u.price_fen, u.status), (4200000, L.LISTING_STATUS_ACTIVE))
        got = self.get_listing(self.a, lst.id)
        self.assertEqual((got.price_fen, got.status), (4200000, L.LISTING_STATUS_ACTIVE))
        self.assertCode(self.update(self.a, lst.id, price=-1), C.INVALID_ARGUMENT)
        # Never SOLD or TAKEN_DOWN through UpdateListing.
        for to in (L.LISTING_STATUS_SOLD, L.LISTING_STATUS_TAKEN_DOWN):
            with self.subTest(to=to):
                self.assertReason(self.update(self.a, lst.id, status=to), FP,
                                  "INVALID_STATUS_TRANSITION")
        self.assertEqual(self.get_listing(self.a, lst.id).status, L.LISTING_STATUS_ACTIVE)
        # WITHDRAWN is final.
        u = self.assertOK(self.update(self.a, lst.id, status=L.LISTING_STATUS_WITHDRAWN)).listing
        self.assertEqual(u.status, L.LISTING_STATUS_WITHDRAWN)
        for to in (L.LISTING_STATUS_ACTIVE, L.LISTING_STATUS_RESERVED):
            with self.subTest(frm="WITHDRAWN", to=to):
                self.assertReason(self.update(self.a, lst.id, status=to), FP,
                                  "INVALID_STATUS_TRANSITION")
        # and a withdrawn listing cannot be sold
        self.assertReason(self.call("RecordSale", lu.sale_req(lst.id), self.a), FP,
                          "INVALID_STATUS_TRANSITION")
        # an unknown listing
        self.assertCode(self.update(self.a, "lst_doesnotexist", price=1), C.NOT_FOUND)

    def test_already_listed(self):
        item = self.vehicle_item(self.a)
        first = self.listing(self.a, item.id).listing
        self.assertReason(self.call("CreateListing", lu.listing_req(item.id), self.a), FP,
                          "ALREADY_LISTED")
        self.assertOK(self.update(self.a, first.id, status=L.LISTING_STATUS_RESERVED))
        self.assertReason(self.call("CreateListing", lu.listing_req(item.id), self.a), FP,
                          "ALREADY_LISTED")
        # Another platform may list it.
        self.listing(self.b, item.id)
        # Once withdrawn, the platform may list it again.
        self.assertOK(self.update(self.a, first.id, status=L.LISTING_STATUS_WITHDRAWN))
        again = self.listing(self.a, item.id).listing
        self.assertNotEqual(again.id, first.id)
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s' AND "
                                    "platform_id = '%s'" % (item.id, self.a.id)), 2)

    def test_create_listing_bad_fields(self):
        item = self.vehicle_item(self.a)
        cases = [
            ("seller.person.id_number", dict(seller=lu.person_party(
                id_number=harness.IDS["id_number_bad"][0]))),
            ("seller.person.name", dict(seller=lu.person_party(name=""))),
            ("seller.business.uscc", dict(seller=lu.business_party(harness.IDS["uscc_bad"][0]))),
            ("seller", dict(seller=common_pb2.Party())),
            ("price_fen", dict(price_fen=-1)),
            ("mileage_km", dict(mileage_km=-5)),
        ]
        for field, kw in cases:
            with self.subTest(field=field):
                req = lu.listing_req(item.id, **kw)
                if "seller" in kw:
                    req.seller.CopyFrom(kw["seller"])
                self.assertField(self.call("CreateListing", req, self.a), field)
        for bad in harness.IDS["id_number_bad"]:
            with self.subTest(id_number=bad):
                self.assertField(self.call("CreateListing", lu.listing_req(
                    item.id, seller=lu.person_party(id_number=bad)), self.a),
                    "seller.person.id_number")
        self.assertCode(self.call("CreateListing", lu.listing_req("itm_doesnotexist"), self.a),
                        C.NOT_FOUND)
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                    % item.id), 0)
        # A lower-case X in a resident ID is normalized, not refused.
        idn = next(i for i in harness.IDS["id_number_valid"] if i.endswith("X"))
        lst = self.listing(self.a, item.id, seller=lu.person_party(id_number=idn.lower())).listing
        self.assertEqual(self.get_listing(self.insp, lst.id).seller.person.id_number, idn)

    def test_record_sale(self):
        item = self.vehicle_item(self.a)
        lst = self.listing(self.a, item.id, price_fen=9000000).listing
        buyer = lu.person_party(name="赵晓东", phone="13700001111")
        for field, req in (
                ("sold_on", lu.sale_req(lst.id, sold_on=day(1))),
                ("sold_on", lu.sale_req(lst.id, sold_on="2024-13-01")),
                ("price_fen", lu.sale_req(lst.id, price_fen=-100)),
                ("buyer.person.id_number", lu.sale_req(lst.id, buyer=lu.person_party(
                    id_number=harness.IDS["id_number_bad"][1]))),
                ("request_id", L.RecordSaleRequest(request_id="x", listing_id=lst.id,
                                                   buyer=buyer, price_fen=1, sold_on=day(0)))):
            with self.subTest(field=field):
                self.assertField(self.call("RecordSale", req, self.a), field)
        self.assertEqual(self.get_listing(self.a, lst.id).status, L.LISTING_STATUS_ACTIVE)
        sale = self.ok("RecordSale", lu.sale_req(lst.id, buyer=buyer, price_fen=8700000,
                                                 sold_on=day(0)), self.a).sale
        self.assertTrue(sale.id.startswith("sal_"), sale.id)
        self.assertEqual((sale.listing_id, sale.item_id, sale.platform_id),
                         (lst.id, item.id, self.a.id))
        self.assertEqual((sale.price_fen, sale.sold_on), (8700000, day(0)))
        self.assertEqual(sale.buyer.person.name, "赵*东")
        self.assertEqual(sale.buyer.person.phone, "137****1111")
        self.assertEqual(self.get_listing(self.a, lst.id).status, L.LISTING_STATUS_SOLD)
        got = self.get_item(self.b, item.id)
        self.assertEqual(got.transfer_count, 1)
        self.assertEqual(got.owner.person.name, "赵*东")
        self.assertEqual(got.owner.person.id_number, lu.mask_id(buyer.person.id_number))
        self.assertEqual(self.get_item(self.insp, item.id).owner, buyer)
        # SOLD is final: a second sale of the listing is refused.
        self.assertReason(self.call("RecordSale", lu.sale_req(lst.id), self.a), FP,
                          "INVALID_STATUS_TRANSITION")
        self.assertReason(self.update(self.a, lst.id, status=L.LISTING_STATUS_ACTIVE), FP,
                          "INVALID_STATUS_TRANSITION")
        self.assertEqual(self.get_item(self.b, item.id).transfer_count, 1)
        self.assertEqual(self.count("SELECT count(*) FROM sales WHERE item_id = '%s'" % item.id), 1)
        # From RESERVED a sale is allowed too.
        item2 = self.vehicle_item(self.a)
        lst2 = self.listing(self.a, item2.id).listing
        self.assertOK(self.update(self.a, lst2.id, status=L.LISTING_STATUS_RESERVED))
        self.sale(self.a, lst2.id, sold_on=day(-3))
        self.assertEqual(self.get_listing(self.a, lst2.id).status, L.LISTING_STATUS_SOLD)

    def test_sold_elsewhere(self):
        item = self.vehicle_item(self.c)
        la = self.listing(self.a, item.id).listing
        lb = self.listing(self.b, item.id).listing
        sale = self.sale(self.b, lb.id)
        a_view = self.get_listing(self.a, la.id)
        self.assertEqual(a_view.status, L.LISTING_STATUS_WITHDRAWN)
        self.assertEqual(a_view.status_detail, "SOLD_ELSEWHERE")
        self.assertEqual(self.get_listing(self.b, lb.id).status, L.LISTING_STATUS_SOLD)
        h = self.history(self.c, item_id=item.id)
        got = [(e.kind, e.listing_id) for e in h.entries]
        want = [(H.HISTORY_KIND_LISTED, la.id), (H.HISTORY_KIND_LISTED, lb.id),
                (H.HISTORY_KIND_SOLD, lb.id), (H.HISTORY_KIND_LISTING_STATUS_CHANGED, la.id)]
        self.assertTrue(is_subsequence(want, got), "history %r" % got)
        listed = [e for e in h.entries if e.kind == H.HISTORY_KIND_LISTED]
        self.assertEqual([e.organization_id for e in listed], [self.a.id, self.b.id])
        sold = [e for e in h.entries if e.kind == H.HISTORY_KIND_SOLD]
        self.assertEqual(len(sold), 1)
        self.assertEqual((sold[0].organization_id, sold[0].sale_id, sold[0].price_fen),
                         (self.b.id, sale.id, sale.price_fen))
        changed = [e for e in h.entries if e.kind == H.HISTORY_KIND_LISTING_STATUS_CHANGED
                   and e.listing_id == la.id]
        self.assertEqual(len(changed), 1)
        self.assertIn("SOLD_ELSEWHERE", changed[0].detail)
        ats = [e.at.ToNanoseconds() for e in h.entries]
        self.assertEqual(ats, sorted(ats), "history is oldest first")
        # A (whose listing was withdrawn) may list the item again for the new owner.
        self.listing(self.a, item.id)

    def test_sale_before_the_previous_sale_is_refused(self):
        item = self.vehicle_item(self.c)
        la = self.listing(self.a, item.id).listing
        buyer = lu.person_party()
        d = day(-5)
        self.sale(self.a, la.id, buyer=buyer, sold_on=d)
        # The buyer resells it through B.
        lb = self.listing(self.b, item.id, seller=buyer).listing
        self.assertField(self.call("RecordSale", lu.sale_req(lb.id, sold_on=day(-6)), self.b),
                         "sold_on")
        self.assertEqual(self.get_listing(self.b, lb.id).status, L.LISTING_STATUS_ACTIVE)
        self.assertEqual(self.count("SELECT count(*) FROM sales WHERE item_id = '%s'" % item.id), 1)
        self.assertEqual(self.get_item(self.b, item.id).transfer_count, 1)
        # The same day as the previous sale is in order.
        sale = self.sale(self.b, lb.id, sold_on=d)
        self.assertEqual(sale.sold_on, d)
        self.assertEqual(self.get_item(self.b, item.id).transfer_count, 2)

    def test_other_platform_is_kept_out(self):
        item = self.vehicle_item(self.b)
        lb = self.listing(self.b, item.id, price_fen=700000).listing
        self.assertCode(self.update(self.a, lb.id, price=1), C.PERMISSION_DENIED)
        self.assertCode(self.update(self.a, lb.id, status=L.LISTING_STATUS_WITHDRAWN),
                        C.PERMISSION_DENIED)
        self.assertCode(self.call("RecordSale", lu.sale_req(lb.id), self.a), C.PERMISSION_DENIED)
        self.assertCode(self.call("GetListing", L.GetListingRequest(listing_id=lb.id), self.a),
                        C.PERMISSION_DENIED)
        got = self.get_listing(self.b, lb.id)
        self.assertEqual((got.price_fen, got.status), (700000, L.LISTING_STATUS_ACTIVE))
        # A's lists never show B's listings.
        mine = self.ok("ListListings", L.ListListingsRequest(item_id=item.id), self.a).listings
        self.assertEqual(list(mine), [])
        self.assertCode(self.call("ListListings", L.ListListingsRequest(platform_id=self.b.id),
                                  self.a), C.PERMISSION_DENIED)
        sales = self.ok("ListSales", L.ListSalesRequest(item_id=item.id), self.a).sales
        self.assertEqual(list(sales), [])
        # An inspector sees B's listing by platform.
        seen = self.ok("ListListings", L.ListListingsRequest(platform_id=self.b.id, page_size=500),
                       self.insp).listings
        self.assertIn(lb.id, [x.id for x in seen])

    def test_request_id_replay(self):
        item = self.vehicle_item(self.a)
        req = lu.listing_req(item.id, price_fen=6600000)
        first = self.ok("CreateListing", req, self.a)
        events = self.count("SELECT count(*) FROM events")
        second = self.ok("CreateListing", req, self.a)
        self.assertEqual(second.listing.id, first.listing.id)
        self.assertEqual(second, first)
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                    % item.id), 1)
        self.assertEqual(self.count("SELECT count(*) FROM events"), events)
        self.assertEqual(self.count("SELECT count(*) FROM request_ids WHERE request_id = '%s'"
                                    % req.request_id), 1)
        other = L.CreateListingRequest()
        other.CopyFrom(req)
        other.price_fen = 6500000
        self.assertReason(self.call("CreateListing", other, self.a), C.ALREADY_EXISTS,
                          "REQUEST_ID_REUSED")
        self.assertEqual(self.get_listing(self.a, first.listing.id).price_fen, 6600000)
        # The same request_id from another platform is another request.
        theirs = self.ok("CreateListing", req, self.b)
        self.assertNotEqual(theirs.listing.id, first.listing.id)
        self.assertEqual(theirs.listing.platform_id, self.b.id)
        # A refused call leaves its request_id unused.
        r2 = lu.listing_req(item.id)
        self.assertReason(self.call("CreateListing", r2, self.a), FP, "ALREADY_LISTED")
        self.assertEqual(self.count("SELECT count(*) FROM request_ids WHERE request_id = '%s'"
                                    % r2.request_id), 0)
        # Replaying a sale records one sale.
        sreq = lu.sale_req(first.listing.id)
        s1 = self.ok("RecordSale", sreq, self.a)
        s2 = self.ok("RecordSale", sreq, self.a)
        self.assertEqual(s1.sale.id, s2.sale.id)
        self.assertEqual(self.count("SELECT count(*) FROM sales WHERE item_id = '%s'" % item.id), 1)
        self.assertEqual(self.get_item(self.a, item.id).transfer_count, 1)

    def test_list_listings_filters_and_paging(self):
        p = self.org(PLATFORM, name="Platform P")
        seller = lu.person_party()
        biz = lu.business_party(self.server.uscc(), name="Dealer Ltd")
        ids = []
        for i in range(5):
            item = self.vehicle_item(p)
            ids.append(self.listing(p, item.id, seller=seller if i < 3 else biz).listing.id)
        g = self.ok("RegisterItem", lu.register_req(lu.goods()), p).item
        goods_listing = self.listing(p, g.id, price_fen=2000).listing.id
        self.assertOK(self.update(p, ids[4], status=L.LISTING_STATUS_WITHDRAWN))

        def walk(req, size):
            seen, token, pages = [], "", 0
            while True:
                req.page_size, req.page_token = size, token
                resp = self.ok("ListListings", req, p)
                self.assertLessEqual(len(resp.listings), size)
                seen += [x.id for x in resp.listings]
                pages += 1
                token = resp.next_page_token
                if not token:
                    return seen, pages
                self.assertLess(pages, 20)

        seen, pages = walk(L.ListListingsRequest(), 2)
        self.assertEqual(sorted(seen), sorted(ids + [goods_listing]))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertGreaterEqual(pages, 3)
        seen, _ = walk(L.ListListingsRequest(kind=L.ITEM_KIND_VEHICLE), 2)
        self.assertEqual(sorted(seen), sorted(ids))
        seen, _ = walk(L.ListListingsRequest(status=L.LISTING_STATUS_ACTIVE,
                                             kind=L.ITEM_KIND_VEHICLE), 50)
        self.assertEqual(sorted(seen), sorted(ids[:4]))
        seen, _ = walk(L.ListListingsRequest(seller_uscc=biz.business.uscc), 50)
        self.assertEqual(sorted(seen), sorted(ids[3:5]))
        seen, _ = walk(L.ListListingsRequest(seller_id_number=seller.person.id_number,
                                             purpose="seller due diligence"), 1)
        self.assertEqual(sorted(seen), sorted(ids[:3]))
        # page_size 0 → 50
        resp = self.ok("ListListings", L.ListListingsRequest(), p)
        self.assertEqual(len(resp.listings), 6)
        self.assertEqual(resp.next_page_token, "")
        # Errors.
        self.assertField(self.call("ListListings", L.ListListingsRequest(
            seller_id_number=seller.person.id_number), p), "purpose")
        self.assertField(self.call("ListListings", L.ListListingsRequest(page_size=-1), p),
                         "page_size")
        first = self.ok("ListListings", L.ListListingsRequest(page_size=2), p)
        self.assertTrue(first.next_page_token)
        self.assertCode(self.call("ListListings", L.ListListingsRequest(
            page_size=2, page_token=first.next_page_token, kind=L.ITEM_KIND_GOODS), p),
            C.INVALID_ARGUMENT)
        self.assertCode(self.call("ListListings", L.ListListingsRequest(
            page_size=2, page_token=first.next_page_token[:-2] + "xx"), p), C.INVALID_ARGUMENT)

    def test_inspector_search_by_seller_is_access_logged(self):
        seller = lu.person_party()
        items = [self.vehicle_item(self.a) for _ in range(2)]
        la = self.listing(self.a, items[0].id, seller=seller).listing
        lb = self.listing(self.b, items[1].id, seller=seller).listing
        self.assertField(self.call("ListListings", L.ListListingsRequest(
            seller_id_number=seller.person.id_number), self.insp), "purpose")
        before = self.count("SELECT count(*) FROM access_log WHERE organization_id = '%s'"
                            % self.insp.id)
        got = self.ok("ListListings", L.ListListingsRequest(
            seller_id_number=seller.person.id_number, purpose="case 2026-17"), self.insp).listings
        self.assertEqual(sorted(x.id for x in got), sorted([la.id, lb.id]))
        for x in got:
            self.assertEqual(x.seller, seller)
        rows = self.db("SELECT id, purpose FROM access_log WHERE organization_id = '%s' "
                       "ORDER BY id" % self.insp.id)
        self.assertGreater(len(rows), before)
        self.assertEqual(rows[-1][1], "case 2026-17")
        # A platform searching by the same ID sees only its own listing, masked.
        mine = self.ok("ListListings", L.ListListingsRequest(
            seller_id_number=seller.person.id_number, purpose="kyc"), self.a).listings
        self.assertEqual([x.id for x in mine], [la.id])
        self.assertEqual(mine[0].seller.person.id_number, lu.mask_id(seller.person.id_number))

    def test_list_sales(self):
        p = self.org(PLATFORM, name="Platform S")
        buyer = lu.person_party()
        sales = []
        for off in (-20, -10, 0):
            item = self.vehicle_item(p)
            lst = self.listing(p, item.id).listing
            sales.append(self.sale(p, lst.id, buyer=buyer, sold_on=day(off)))
        mine = self.ok("ListSales", L.ListSalesRequest(), p).sales
        self.assertEqual(sorted(x.id for x in mine), sorted(x.id for x in sales))
        for x in mine:
            self.assertEqual(x.buyer.person.id_number, lu.mask_id(buyer.person.id_number))
        by_item = self.ok("ListSales", L.ListSalesRequest(item_id=sales[1].item_id), p).sales
        self.assertEqual([x.id for x in by_item], [sales[1].id])
        window = self.ok("ListSales", L.ListSalesRequest(from_on=day(-15), to_on=day(-10)),
                         p).sales
        self.assertEqual([x.id for x in window], [sales[1].id])
        window = self.ok("ListSales", L.ListSalesRequest(from_on=day(-10), to_on=day(0)), p).sales
        self.assertEqual(sorted(x.id for x in window), sorted([sales[1].id, sales[2].id]))
        paged = self.ok("ListSales", L.ListSalesRequest(page_size=2), p)
        self.assertEqual(len(paged.sales), 2)
        self.assertTrue(paged.next_page_token)
        rest = self.ok("ListSales", L.ListSalesRequest(page_size=2,
                                                       page_token=paged.next_page_token), p)
        self.assertEqual(len(rest.sales), 1)
        self.assertEqual(rest.next_page_token, "")
        self.assertEqual(len({x.id for x in list(paged.sales) + list(rest.sales)}), 3)
        # Other platforms see none of them.
        self.assertEqual(list(self.ok("ListSales", L.ListSalesRequest(
            item_id=sales[0].item_id), self.c).sales), [])
        # By a person's ID: purpose required; an inspector sees it clear, logged.
        self.assertField(self.call("ListSales", L.ListSalesRequest(
            buyer_id_number=buyer.person.id_number), self.insp), "purpose")
        self.assertField(self.call("ListSales", L.ListSalesRequest(
            buyer_id_number=buyer.person.id_number), p), "purpose")
        before = self.count("SELECT count(*) FROM access_log WHERE organization_id = '%s'"
                            % self.insp.id)
        got = self.ok("ListSales", L.ListSalesRequest(buyer_id_number=buyer.person.id_number,
                                                      purpose="audit"), self.insp).sales
        self.assertEqual(sorted(x.id for x in got), sorted(x.id for x in sales))
        self.assertEqual(got[0].buyer, buyer)
        self.assertGreater(self.count("SELECT count(*) FROM access_log WHERE organization_id = "
                                      "'%s'" % self.insp.id), before)
        self.assertCode(self.call("ListSales", L.ListSalesRequest(from_on=day(0), to_on=day(-1)),
                                  p), C.INVALID_ARGUMENT)
        self.assertCode(self.call("ListSales", L.ListSalesRequest(
            item_id=sales[0].item_id, platform_id=p.id), self.insp), C.INVALID_ARGUMENT)

    def test_history_entries_get_their_log_index(self):
        item = self.vehicle_item(self.a, mileage_km=12000)
        lst = self.listing(self.a, item.id, mileage_km=13000).listing
        self.sale(self.a, lst.id)

        def all_sequenced():
            h = self.history(self.a, item_id=item.id)
            return h if h.entries and all(e.sequenced for e in h.entries if e.event_id) else None
        h = harness.eventually(all_sequenced, timeout=20)
        self.assertTrue(h, "history entries not sequenced within 20 s")
        with_events = [e for e in h.entries if e.event_id]
        self.assertGreaterEqual(len(with_events), 4)  # registered, odometer, listed, sold
        rows = dict((r[0], int(r[1])) for r in self.db(
            "SELECT event_id, log_index FROM event_log WHERE item_id = '%s' AND log_index IS NOT "
            "NULL" % item.id))
        for e in with_events:
            self.assertIn(e.event_id, rows)
            self.assertEqual(e.log_index, rows[e.event_id], e)


# ---------------------------------------------------------------------------------------
# Refusals and warnings of the domain rules
# ---------------------------------------------------------------------------------------


class RulesTest(ListingCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.org(PLATFORM, name="Platform A")
        cls.b = cls.org(PLATFORM, name="Platform B")
        cls.c = cls.org(PLATFORM, name="Platform C")
        cls.insp = cls.org(INSPECTOR, name="Inspector")
        cls.appraiser = cls.org(APPRAISER, name="Qualified Appraiser")
        lu.set_qualification(cls.server, cls.appraiser.id)
        cls.unqualified = cls.org(APPRAISER, name="Unqualified Appraiser")

    def test_item_scrapped(self):
        # No method scraps an item yet (the SCRAP_VEHICLE invoice line comes
        # with the invoice service): the status is set by SQL.
        item = self.vehicle_item(self.a)
        self.server.db.query("UPDATE items SET status = 3 WHERE id = '%s'" % item.id)
        self.assertReason(self.call("CreateListing", lu.listing_req(item.id), self.a), FP,
                          "ITEM_SCRAPPED")
        self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                    % item.id), 0)

    def test_listing_of_scrapped_item_is_not_reactivated(self):
        reserved_car = self.vehicle_item(self.a)
        reserved = self.listing(self.a, reserved_car.id).listing
        self.assertOK(self.update(self.a, reserved.id, status=L.LISTING_STATUS_RESERVED))
        stolen_car = self.vehicle_item(self.a)
        suspended = self.listing(self.b, stolen_car.id).listing
        self.assertOK(self.call("ReportStolen", L.ReportStolenRequest(
            request_id=rid(), report_ref="阳公刑 2026-0211", reporter="阳泉市公安局",
            item_id=stolen_car.id), self.insp))
        self.assertEqual(self.get_listing(self.b, suspended.id).status,
                         L.LISTING_STATUS_SUSPENDED)
        for org, car, lst, status in (
                (self.a, reserved_car, reserved, L.LISTING_STATUS_RESERVED),
                (self.b, stolen_car, suspended, L.LISTING_STATUS_SUSPENDED)):
            with self.subTest(frm=status):
                self.server.db.query("UPDATE items SET status = 3 WHERE id = '%s'" % car.id)
                self.assertReason(self.update(org, lst.id, status=L.LISTING_STATUS_ACTIVE), FP,
                                  "ITEM_SCRAPPED")
                self.assertEqual(self.get_listing(org, lst.id).status, status)

    def test_past_scrapping_age(self):
        taxi = self.vehicle_item(self.a, use_nature=L.USE_NATURE_TAXI,
                                 first_registration_date=lu.years_ago(9))
        self.assertReason(self.call("CreateListing", lu.listing_req(taxi.id), self.a), FP,
                          "PAST_SCRAPPING_AGE")
        # A day short of eight years: allowed; on the anniversary: refused.
        young = self.vehicle_item(self.a, use_nature=L.USE_NATURE_TAXI,
                                  first_registration_date=lu.years_ago(8, extra_days=-1))
        self.listing(self.a, young.id)
        exact = self.vehicle_item(self.a, use_nature=L.USE_NATURE_TAXI,
                                  first_registration_date=lu.years_ago(8))
        self.assertReason(self.call("CreateListing", lu.listing_req(exact.id), self.a), FP,
                          "PAST_SCRAPPING_AGE")
        # Private cars and SPECIAL vehicles have no scrapping age.
        old_private = self.vehicle_item(self.a, first_registration_date=lu.years_ago(30))
        self.listing(self.a, old_private.id)
        special = self.vehicle_item(self.a, vehicle_type=L.VEHICLE_TYPE_SPECIAL,
                                    first_registration_date=lu.years_ago(40))
        self.listing(self.a, special.id)
        # A heavy truck: 15 years.
        truck = self.vehicle_item(self.a, vehicle_type=L.VEHICLE_TYPE_HEAVY_TRUCK,
                                  use_nature=L.USE_NATURE_COMMERCIAL_FREIGHT,
                                  first_registration_date=lu.years_ago(16))
        self.assertReason(self.call("CreateListing", lu.listing_req(truck.id), self.a), FP,
                          "PAST_SCRAPPING_AGE")

    def test_guided_scrapping_mileage_warning(self):
        car = self.vehicle_item(self.a, mileage_km=600000)
        r = self.listing(self.a, car.id, mileage_km=600000)
        self.assertIn("GUIDED_SCRAPPING_MILEAGE", self.warnings(r))
        self.assertEqual(r.listing.status, L.LISTING_STATUS_ACTIVE)
        w = [x for x in r.warnings if x.reason == "GUIDED_SCRAPPING_MILEAGE"][0]
        self.assertTrue(w.message)
        below = self.vehicle_item(self.a, mileage_km=599999)
        self.assertNotIn("GUIDED_SCRAPPING_MILEAGE",
                         self.warnings(self.listing(self.a, below.id, mileage_km=599999)))

    def test_odometer_rollback_and_clear_brand(self):
        car = self.vehicle_item(self.a, mileage_km=80000)
        r = self.listing(self.b, car.id, mileage_km=50000)
        self.assertIn("ODOMETER_ROLLBACK_SUSPECTED", self.warnings(r))
        self.assertEqual(r.listing.status, L.LISTING_STATUS_ACTIVE, "a rollback does not block")
        item = self.get_item(self.c, car.id)
        self.assertEqual(list(item.brands), [L.BRAND_ODOMETER_ROLLBACK_SUSPECTED])
        self.assertEqual(item.highest_mileage_km, 80000)
        h = self.history(self.c, vin=car.vehicle.vin)
        self.assertEqual(list(h.item.brands), [L.BRAND_ODOMETER_ROLLBACK_SUSPECTED])
        branded = [e for e in h.entries if e.kind == H.HISTORY_KIND_BRANDED]
        self.assertEqual(len(branded), 1)
        self.assertIn("ODOMETER_ROLLBACK_SUSPECTED", branded[0].detail)
        readings = [e.mileage_km for e in h.entries if e.kind == H.HISTORY_KIND_ODOMETER_READING]
        self.assertEqual(readings, [80000, 50000])
        self.assertEqual(self.count("SELECT count(*) FROM events WHERE type = %d AND item_id = '%s'"
                                    % (log_pb2.EVENT_TYPE_ITEM_BRANDED, car.id)), 1)
        # Branded for good: another low reading does not brand it twice.
        r2 = self.listing(self.c, car.id, mileage_km=40000)
        self.assertIn("ODOMETER_ROLLBACK_SUSPECTED", self.warnings(r2))
        h = self.history(self.c, item_id=car.id)
        self.assertEqual(len([e for e in h.entries if e.kind == H.HISTORY_KIND_BRANDED]), 1)
        # Only an inspector clears a brand.
        creq = L.ClearBrandRequest(request_id=rid(), item_id=car.id,
                                   brand=L.BRAND_ODOMETER_ROLLBACK_SUSPECTED,
                                   reason="typo in the listing's mileage",
                                   decision_ref="SAMR-2026-0042")
        self.assertCode(self.call("ClearBrand", creq, self.a), C.PERMISSION_DENIED)
        self.assertField(self.call("ClearBrand", L.ClearBrandRequest(
            request_id=rid(), item_id=car.id, reason="x", decision_ref="y"), self.insp), "brand")
        cleared = self.ok("ClearBrand", creq, self.insp).item
        self.assertEqual(list(cleared.brands), [])
        self.assertEqual(list(self.get_item(self.a, car.id).brands), [])
        h = self.history(self.a, item_id=car.id)
        kinds = [e.kind for e in h.entries]
        self.assertTrue(is_subsequence([H.HISTORY_KIND_BRANDED, H.HISTORY_KIND_BRAND_CLEARED],
                                       kinds), kinds)
        bc = [e for e in h.entries if e.kind == H.HISTORY_KIND_BRAND_CLEARED][0]
        self.assertEqual(bc.organization_id, self.insp.id)
        self.assertEqual(self.count("SELECT count(*) FROM events WHERE type = %d AND item_id = '%s'"
                                    % (log_pb2.EVENT_TYPE_BRAND_CLEARED, car.id)), 1)

    def test_seller_not_recorded_owner(self):
        car = self.vehicle_item(self.a)
        first = self.listing(self.a, car.id)
        self.assertNotIn("SELLER_NOT_RECORDED_OWNER", self.warnings(first),
                         "an item never sold has no recorded owner")
        x = lu.person_party()
        self.sale(self.a, first.listing.id, buyer=x)
        y = lu.person_party()
        by_y = self.listing(self.b, car.id, seller=y)
        self.assertIn("SELLER_NOT_RECORDED_OWNER", self.warnings(by_y))
        self.assertEqual(by_y.listing.status, L.LISTING_STATUS_ACTIVE)
        by_x = self.listing(self.c, car.id, seller=x)
        self.assertNotIn("SELLER_NOT_RECORDED_OWNER", self.warnings(by_x))
        # The owner is the same person whatever the name and phone typed.
        same_x = lu.person_party(name="另一个名字", id_number=x.person.id_number, phone="")
        self.assertOK(self.update(self.c, by_x.listing.id, status=L.LISTING_STATUS_WITHDRAWN))
        again = self.listing(self.c, car.id, seller=same_x)
        self.assertNotIn("SELLER_NOT_RECORDED_OWNER", self.warnings(again))
        # A business buyer then a listing by that business: no warning.
        biz = lu.business_party(self.server.uscc())
        self.sale(self.c, again.listing.id, buyer=biz)
        d = self.org(PLATFORM)
        self.assertNotIn("SELLER_NOT_RECORDED_OWNER",
                         self.warnings(self.listing(d, car.id, seller=biz)))

    def test_seller_flipping_limit(self):
        today = harness.today_cst()
        jan1 = today.replace(month=1, day=1)
        # Three resales in this calendar year, none after today, each less than
        # a year after the registry recorded the purchase (30 days before).
        resold = [max(jan1, today - datetime.timedelta(days=2 - i)) for i in range(3)]
        flipper = lu.person_party(name="倒卖者")
        dealer = self.org(PLATFORM, name="Dealer")
        cars = []
        for r_on in resold:
            car = self.vehicle_item(dealer)
            lst = self.listing(dealer, car.id).listing
            self.sale(dealer, lst.id, buyer=flipper,
                      sold_on=(r_on - datetime.timedelta(days=30)).isoformat())
            cars.append(car)
        resale_listings = [self.listing(self.a, c.id, seller=flipper).listing for c in cars]
        for i in range(2):
            self.sale(self.a, resale_listings[i].id, sold_on=resold[i].isoformat())
        third = self.call("RecordSale", lu.sale_req(resale_listings[2].id,
                                                    sold_on=resold[2].isoformat()), self.a)
        self.assertReason(third, FP, "SELLER_FLIPPING_LIMIT")
        self.assertEqual(self.get_listing(self.a, resale_listings[2].id).status,
                         L.LISTING_STATUS_ACTIVE)
        self.assertEqual(self.get_item(self.a, cars[2].id).transfer_count, 1)
        self.assertEqual(self.count("SELECT count(*) FROM sales WHERE listing_id = '%s'"
                                    % resale_listings[2].id), 0)
        # A car the flipper held for more than a year is not a flip: allowed.
        kept = self.vehicle_item(dealer)
        kl = self.listing(dealer, kept.id).listing
        self.sale(dealer, kl.id, buyer=flipper,
                  sold_on=(today - datetime.timedelta(days=400)).isoformat())
        resale = self.listing(self.a, kept.id, seller=flipper).listing
        self.sale(self.a, resale.id, sold_on=today.isoformat())
        # A business may resell as often as it likes.
        biz = lu.business_party(self.server.uscc())
        for r_on in resold:
            car = self.vehicle_item(dealer)
            lst = self.listing(dealer, car.id).listing
            self.sale(dealer, lst.id, buyer=biz,
                      sold_on=(r_on - datetime.timedelta(days=30)).isoformat())
            rl = self.listing(self.a, car.id, seller=biz).listing
            self.sale(self.a, rl.id, sold_on=r_on.isoformat())

    def test_appraisal(self):
        car = self.vehicle_item(self.a)
        lst = self.listing(self.a, car.id).listing
        appraiser = lu.person(name="钱评估", phone="13800002222")
        req = L.AttachAppraisalRequest(
            request_id=rid(), item_id=car.id, listing_id=lst.id, appraised_value_fen=7900000,
            condition_grade="A", method="GB/T 30323-2013", report_sha256=bytes(range(32)),
            appraiser=appraiser)
        self.assertReason(self.call("AttachAppraisal", req, self.unqualified), FP,
                          "QUALIFICATION_MISSING")
        self.assertCode(self.call("AttachAppraisal", req, self.a), C.PERMISSION_DENIED)
        bad = L.AttachAppraisalRequest()
        bad.CopyFrom(req)
        bad.request_id = rid()
        bad.report_sha256 = b"short"
        self.assertField(self.call("AttachAppraisal", bad, self.appraiser), "report_sha256")
        bad.report_sha256 = bytes(32)
        bad.appraised_value_fen = -1
        self.assertField(self.call("AttachAppraisal", bad, self.appraiser), "appraised_value_fen")
        apr = self.ok("AttachAppraisal", req, self.appraiser).appraisal
        self.assertTrue(apr.id.startswith("apr_"), apr.id)
        self.assertEqual((apr.item_id, apr.listing_id, apr.appraiser_organization_id),
                         (car.id, lst.id, self.appraiser.id))
        self.assertEqual((apr.appraised_value_fen, apr.condition_grade, apr.method),
                         (7900000, "A", "GB/T 30323-2013"))
        self.assertEqual(apr.report_sha256, bytes(range(32)))
        self.assertEqual(apr.appraiser.name, "钱*估")
        self.assertEqual(apr.appraiser.id_number, lu.mask_id(appraiser.id_number))
        h = self.history(self.b, item_id=car.id)
        appraised = [e for e in h.entries if e.kind == H.HISTORY_KIND_APPRAISED]
        self.assertEqual([(e.appraisal_id, e.organization_id) for e in appraised],
                         [(apr.id, self.appraiser.id)])
        # A listing may cite it.
        self.assertOK(self.update(self.a, lst.id, status=L.LISTING_STATUS_WITHDRAWN))
        cited = self.listing(self.a, car.id, appraisal_id=apr.id).listing
        self.assertEqual(cited.appraisal_id, apr.id)
        # An expired qualification no longer entitles.
        other = self.org(APPRAISER)
        lu.set_qualification(self.server, other.id, valid_from=day(-400), valid_until=day(-1))
        req2 = L.AttachAppraisalRequest()
        req2.CopyFrom(req)
        req2.request_id = rid()
        self.assertReason(self.call("AttachAppraisal", req2, other), FP, "QUALIFICATION_MISSING")

    def test_take_down(self):
        car = self.vehicle_item(self.a)
        lst = self.listing(self.a, car.id).listing
        treq = L.TakeDownListingRequest(request_id=rid(), listing_id=lst.id,
                                        reason="counterfeit documents")
        self.assertCode(self.call("TakeDownListing", treq, self.a), C.PERMISSION_DENIED)
        self.assertCode(self.call("TakeDownListing", treq, self.b), C.PERMISSION_DENIED)
        got = self.ok("TakeDownListing", treq, self.insp).listing
        self.assertEqual(got.status, L.LISTING_STATUS_TAKEN_DOWN)
        self.assertIn("counterfeit documents", got.status_detail)
        self.assertEqual(got.seller.WhichOneof("kind"), "person")
        self.assertEqual(self.get_listing(self.a, lst.id).status, L.LISTING_STATUS_TAKEN_DOWN)
        for to in (L.LISTING_STATUS_ACTIVE, L.LISTING_STATUS_WITHDRAWN):
            with self.subTest(to=to):
                self.assertReason(self.update(self.a, lst.id, status=to), FP,
                                  "INVALID_STATUS_TRANSITION")
        self.assertReason(self.call("TakeDownListing", L.TakeDownListingRequest(
            request_id=rid(), listing_id=lst.id, reason="again"), self.insp), FP,
            "INVALID_STATUS_TRANSITION")
        h = self.history(self.a, item_id=car.id)
        self.assertIn((H.HISTORY_KIND_TAKEN_DOWN, lst.id),
                      [(e.kind, e.listing_id) for e in h.entries])
        self.assertEqual(self.count("SELECT count(*) FROM events WHERE type = %d AND listing_id = "
                                    "'%s'" % (log_pb2.EVENT_TYPE_LISTING_TAKEN_DOWN, lst.id)), 1)
        # The platform may list the item again (TAKEN_DOWN is not open).
        self.listing(self.a, car.id)

    def test_market_and_goods(self):
        mreq = L.RegisterMarketRequest(request_id=rid(), name="迎泽桥跳蚤市场",
                                       address="太原市迎泽区", operator_uscc=self.server.uscc())
        market = self.ok("RegisterMarket", mreq, self.a).market
        self.assertTrue(market.id.startswith("mkt_"), market.id)
        self.assertEqual((market.name, market.address, market.operator_uscc, market.registered_by),
                         (mreq.name, mreq.address, mreq.operator_uscc, self.a.id))
        self.assertEqual(self.ok("RegisterMarket", mreq, self.a).market.id, market.id)
        self.assertField(self.call("RegisterMarket", L.RegisterMarketRequest(
            request_id=rid(), name="x", address="y", operator_uscc=harness.IDS["uscc_bad"][0]),
            self.a), "operator_uscc")
        self.assertField(self.call("RegisterMarket", L.RegisterMarketRequest(
            request_id=rid(), name="", address="y", operator_uscc=self.server.uscc()), self.a),
            "name")
        g = self.ok("RegisterItem", lu.register_req(lu.goods(category=L.GOODS_CATEGORY_BOOKS,
                                                             title="Old books")), self.a).item
        lst = self.listing(self.a, g.id, price_fen=500, market_id=market.id,
                           stall_no="B-17").listing
        self.assertEqual((lst.market_id, lst.stall_no, lst.item_kind),
                         (market.id, "B-17", L.ITEM_KIND_GOODS))
        got = self.ok("ListListings", L.ListListingsRequest(market_id=market.id), self.a).listings
        self.assertEqual([x.id for x in got], [lst.id])
        self.assertCode(self.call("CreateListing", lu.listing_req(
            g.id, market_id="mkt_doesnotexist"), self.b), C.NOT_FOUND)
        # Goods and electronics without storage list and sell like cars.
        dev = self.ok("RegisterItem", lu.register_req(lu.electronic(storage_bytes=0,
                      category=L.ELECTRONIC_CATEGORY_PRINTER, imei="")), self.b).item
        dl = self.listing(self.b, dev.id, price_fen=30000).listing
        self.assertEqual(dl.item_kind, L.ITEM_KIND_ELECTRONIC)
        self.sale(self.b, dl.id)
        self.sale(self.a, lst.id, price_fen=450)


# ---------------------------------------------------------------------------------------
# Stolen items
# ---------------------------------------------------------------------------------------


class StolenTest(ListingCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.org(PLATFORM, name="Platform A")
        cls.b = cls.org(PLATFORM, name="Platform B")
        cls.c = cls.org(PLATFORM, name="Platform C")
        cls.insp = cls.org(INSPECTOR, name="Inspector")

    REF = "阳公刑 2026-0107"

    def report(self, org, **key):
        return self.call("ReportStolen", L.ReportStolenRequest(
            request_id=rid(), report_ref=self.REF, reporter="阳泉市公安局", **key), org)

    def clear(self, org, report_ref=REF, **key):
        return self.call("ClearStolen", L.ClearStolenRequest(
            request_id=rid(), report_ref=report_ref, reason="vehicle recovered", **key), org)

    def test_report_suspends_every_platform_and_clear_restores(self):
        car = self.vehicle_item(self.c)
        la = self.listing(self.a, car.id).listing
        lb = self.listing(self.b, car.id).listing
        self.assertCode(self.report(self.a, vin=car.vehicle.vin), C.PERMISSION_DENIED)
        self.assertEqual(self.get_listing(self.b, lb.id).status, L.LISTING_STATUS_ACTIVE)
        r = self.assertOK(self.report(self.insp, vin=car.vehicle.vin))
        self.assertEqual(r.item.id, car.id)
        self.assertEqual(r.item.status, L.ITEM_STATUS_STOLEN)
        self.assertEqual(sorted(r.suspended_listing_ids), sorted([la.id, lb.id]))
        for org, lst in ((self.a, la), (self.b, lb)):
            got = self.get_listing(org, lst.id)
            self.assertEqual(got.status, L.LISTING_STATUS_SUSPENDED)
            self.assertEqual(got.status_detail, "ITEM_STOLEN")
        self.assertEqual(self.get_item(self.c, car.id).status, L.ITEM_STATUS_STOLEN)
        ev = lambda t: self.count("SELECT count(*) FROM events WHERE type = %d AND item_id = '%s'"  # noqa: E731
                                  % (t, car.id))
        self.assertEqual(ev(log_pb2.EVENT_TYPE_STOLEN_REPORTED), 1)
        self.assertEqual(ev(log_pb2.EVENT_TYPE_LISTING_SUSPENDED), 2)
        # Refusals while stolen.
        self.assertReason(self.call("CreateListing", lu.listing_req(car.id), self.c), FP,
                          "ITEM_STOLEN")
        self.assertReason(self.update(self.a, la.id, status=L.LISTING_STATUS_ACTIVE), FP,
                          "ITEM_STOLEN")
        self.assertCode(self.call("RecordSale", lu.sale_req(la.id), self.a), FP)
        # A second report of the same item adds nothing to suspend.
        again = self.report(self.insp, item_id=car.id)
        if again.code == OK:
            self.assertEqual(list(again.response.suspended_listing_ids), [])
        else:
            self.assertCode(again, FP)
        # Only an inspector clears it, and only the report it names.
        self.assertCode(self.clear(self.a, vin=car.vehicle.vin), C.PERMISSION_DENIED)
        self.assertNotEqual(self.clear(self.insp, report_ref="another report",
                                       item_id=car.id).code, OK)
        self.assertEqual(self.get_listing(self.a, la.id).status, L.LISTING_STATUS_SUSPENDED)
        cr = self.assertOK(self.clear(self.insp, item_id=car.id))
        self.assertEqual(cr.item.status, L.ITEM_STATUS_ACTIVE)
        self.assertEqual(sorted(cr.reactivated_listing_ids), sorted([la.id, lb.id]))
        for org, lst in ((self.a, la), (self.b, lb)):
            self.assertEqual(self.get_listing(org, lst.id).status, L.LISTING_STATUS_ACTIVE)
        self.assertEqual(ev(log_pb2.EVENT_TYPE_STOLEN_CLEARED), 1)
        self.assertEqual(ev(log_pb2.EVENT_TYPE_LISTING_REACTIVATED), 2)
        h = self.history(self.c, item_id=car.id)
        kinds = [e.kind for e in h.entries]
        self.assertTrue(is_subsequence([H.HISTORY_KIND_LISTED, H.HISTORY_KIND_LISTED,
                                        H.HISTORY_KIND_STOLEN_REPORTED,
                                        H.HISTORY_KIND_STOLEN_CLEARED], kinds), kinds)
        # Back to normal.
        self.listing(self.c, car.id)
        self.sale(self.a, la.id)

    def test_withdrawn_while_suspended_stays_withdrawn(self):
        dev = self.ok("RegisterItem", lu.register_req(lu.electronic()), self.a).item
        la = self.listing(self.a, dev.id).listing
        lb = self.listing(self.b, dev.id).listing
        self.assertOK(self.update(self.b, lb.id, status=L.LISTING_STATUS_RESERVED))
        r = self.assertOK(self.report(self.insp, imei=dev.electronic.imei))
        self.assertEqual(sorted(r.suspended_listing_ids), sorted([la.id, lb.id]))
        w = self.assertOK(self.update(self.a, la.id, status=L.LISTING_STATUS_WITHDRAWN)).listing
        self.assertEqual(w.status, L.LISTING_STATUS_WITHDRAWN)
        cr = self.assertOK(self.clear(self.insp, imei=dev.electronic.imei))
        self.assertEqual(list(cr.reactivated_listing_ids), [lb.id])
        self.assertEqual(self.get_listing(self.a, la.id).status, L.LISTING_STATUS_WITHDRAWN)
        self.assertEqual(self.get_listing(self.b, lb.id).status, L.LISTING_STATUS_ACTIVE)

    def test_inspector_replay_masks_the_owner(self):
        car = self.vehicle_item(self.c)
        la = self.listing(self.a, car.id).listing
        owner = lu.person_party(name="张小三", phone="13912345678")
        self.sale(self.a, la.id, buyer=owner)
        lb = self.listing(self.b, car.id, seller=owner).listing
        req = L.ReportStolenRequest(request_id=rid(), report_ref=self.REF,
                                    reporter="阳泉市公安局", item_id=car.id)
        first = self.ok("ReportStolen", req, self.insp)
        self.assertEqual(first.item.owner, owner, "the inspector sees the owner in clear")
        self.assertEqual(list(first.suspended_listing_ids), [lb.id])
        logged = self.count("SELECT count(*) FROM access_log WHERE organization_id = '%s'"
                            % self.insp.id)
        again = self.ok("ReportStolen", req, self.insp)
        self.assertEqual(again.item.id, car.id)
        self.assertEqual(again.item.status, L.ITEM_STATUS_STOLEN)
        self.assertEqual(list(again.suspended_listing_ids), [lb.id])
        masked = common_pb2.Person(name="张*三", id_number=lu.mask_id(owner.person.id_number),
                                   phone="139****5678")
        self.assertEqual(again.item.owner.person, masked)
        self.assertEqual(again.item.owner.person.id_number.count("*"), 10)
        self.assertNotIn(owner.person.id_number.encode(), again.SerializeToString())
        self.assertEqual(self.count("SELECT count(*) FROM access_log WHERE organization_id = '%s'"
                                    % self.insp.id), logged, "a replay is not access-logged")
        self.assertEqual(self.count("SELECT count(*) FROM events WHERE type = %d AND item_id = '%s'"
                                    % (log_pb2.EVENT_TYPE_STOLEN_REPORTED, car.id)), 1)

    def test_errors(self):
        self.assertCode(self.report(self.insp, vin=lu.make_vin()), C.NOT_FOUND)
        self.assertField(self.report(self.insp, vin=harness.IDS["vin_bad"][0]), "vin")
        self.assertCode(self.report(self.insp), C.INVALID_ARGUMENT)


# ---------------------------------------------------------------------------------------
# WatchEvents visibility of listing events (SPEC §4.6)
# ---------------------------------------------------------------------------------------


class WatchVisibilityTest(ListingCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.org(PLATFORM, name="Platform A")
        cls.b = cls.org(PLATFORM, name="Platform B")

    def sequenced(self, timeout=20):
        ok = harness.eventually(lambda: self.scalar(
            "SELECT count(*) FROM event_log WHERE log_index IS NULL") == "0", timeout=timeout)
        self.assertTrue(ok, "events not sequenced")

    def test_platform_sees_its_withdrawal_and_the_sale_not_other_items(self):
        shared = self.vehicle_item(self.a)
        la = self.listing(self.a, shared.id).listing
        lb = self.listing(self.b, shared.id).listing
        self.sale(self.a, la.id)
        other = self.vehicle_item(self.a)
        lo = self.listing(self.a, other.id).listing
        self.sale(self.a, lo.id)
        self.assertEqual(self.get_listing(self.b, lb.id).status_detail, "SOLD_ELSEWHERE")
        self.sequenced()
        rows = self.db("SELECT event_id, type, organization_id, coalesce(item_id, ''), "
                       "coalesce(listing_id, '') FROM event_log ORDER BY log_index")
        withdrawn = [r[0] for r in rows
                     if int(r[1]) == log_pb2.EVENT_TYPE_LISTING_UPDATED and r[4] == lb.id]
        sold = [r[0] for r in rows
                if int(r[1]) == log_pb2.EVENT_TYPE_SALE_RECORDED and r[3] == shared.id]
        hidden = {r[0] for r in rows if r[3] == other.id}
        self.assertEqual(len(withdrawn), 1, rows)
        self.assertEqual(len(sold), 1, rows)
        self.assertTrue(hidden)
        w = lu.Watch(self.server.channel, self.b.key)
        self.addCleanup(w.cancel)
        ids = lambda evs: {e.event_id for e in evs}  # noqa: E731
        self.assertTrue(w.wait(lambda evs: {withdrawn[0], sold[0]} <= ids(evs), timeout=20),
                        "B got %r" % [(e.type, e.listing_id) for e in w.events])
        # The LISTING_CREATED of B's own listing is there too; then nothing of
        # the other item ever comes.
        time.sleep(1.0)
        got = list(w.events)
        self.assertFalse(hidden & ids(got), "B sees events of an item it never listed")
        for e in got:
            self.assertTrue(e.organization_id == self.b.id or e.listing_id == lb.id
                            or e.item_id == shared.id, e)
        ev = {e.event_id: e for e in got}
        self.assertEqual(ev[withdrawn[0]].listing_id, lb.id)
        self.assertEqual(ev[withdrawn[0]].organization_id, self.a.id)
        self.assertEqual(ev[sold[0]].item_id, shared.id)
        self.assertEqual(ev[sold[0]].listing_id, la.id)
        # Before B listed it, the item's events were not B's business.
        registered = [r[0] for r in rows if int(r[1]) == log_pb2.EVENT_TYPE_ITEM_REGISTERED
                      and r[3] == shared.id]
        self.assertFalse(set(registered) & ids(got))
        # A, the acting organization of both, sees them too.
        wa = lu.Watch(self.server.channel, self.a.key)
        self.addCleanup(wa.cancel)
        self.assertTrue(wa.wait(lambda evs: {withdrawn[0], sold[0]} <= ids(evs), timeout=20))


if __name__ == "__main__":
    unittest.main()
