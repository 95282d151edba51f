"""ListingService under concurrent calls (SPEC §4.2): two CreateListing calls
for one item on one platform at the same moment give one listing and one
ALREADY_LISTED; two RecordSale calls on two platforms' listings of one item
at the same moment give one sale, the other refused, and a transfer count
of 1. Each race runs ROUNDS times, the two calls released together by a
barrier on two threads, each with its own channel (its own HTTP/2
connection), so the server sees them concurrently."""

import threading

import grpc

import harness
import listingutil as lu
from harness import OK, invoke
from listingutil import L, METHODS, PLATFORM

ROUNDS = 20


class Racer:
    """Runs two calls at once, each on its own channel; returns both Replies."""

    def __init__(self, server):
        self.channels = [grpc.insecure_channel(server.addr) for _ in range(2)]

    def close(self):
        for ch in self.channels:
            ch.close()

    def race(self, calls):
        """calls: [(method, request, key)] × 2 → [Reply, Reply]."""
        barrier = threading.Barrier(len(calls))
        out = [None] * len(calls)

        def go(i, method, req, key):
            path, _, resp_cls = METHODS[method]
            barrier.wait()
            out[i] = invoke(self.channels[i], path, req, resp_cls, key=key, timeout=30)
        threads = [threading.Thread(target=go, args=(i,) + c) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return out


class ListingRacesTest(harness.RegistryTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.a = lu.make_org(s, [PLATFORM], name="Platform A")
        cls.b = lu.make_org(s, [PLATFORM], name="Platform B")
        cls.racer = Racer(s)
        cls.addClassCleanup(cls.racer.close)

    def test_two_create_listing_one_wins(self):
        s = self.server
        for n in range(ROUNDS):
            with self.subTest(round=n):
                item = lu.new_vehicle(s, self.a.key)
                r1, r2 = self.racer.race([
                    ("CreateListing", lu.listing_req(item.id, price_fen=1000 + n), self.a.key),
                    ("CreateListing", lu.listing_req(item.id, price_fen=2000 + n), self.a.key)])
                ok = [r for r in (r1, r2) if r.code == OK]
                refused = [r for r in (r1, r2) if r.code != OK]
                self.assertEqual(len(ok), 1, (r1, r2))
                self.assertReason(refused[0], grpc.StatusCode.FAILED_PRECONDITION,
                                  "ALREADY_LISTED")
                rows = s.db.query("SELECT id, status FROM listings WHERE item_id = '%s'" % item.id)
                self.assertEqual(rows, [[ok[0].response.listing.id, "1"]])
                self.assertEqual(int(s.db.scalar(
                    "SELECT count(*) FROM events WHERE type = 11 AND item_id = '%s'" % item.id)), 1)

    def test_two_sales_one_wins(self):
        s = self.server
        for n in range(ROUNDS):
            with self.subTest(round=n):
                item = lu.new_vehicle(s, self.a.key)
                la = lu.new_listing(s, self.a.key, item.id).listing
                lb = lu.new_listing(s, self.b.key, item.id).listing
                r1, r2 = self.racer.race([
                    ("RecordSale", lu.sale_req(la.id), self.a.key),
                    ("RecordSale", lu.sale_req(lb.id), self.b.key)])
                ok = [r for r in (r1, r2) if r.code == OK]
                refused = [r for r in (r1, r2) if r.code != OK]
                self.assertEqual(len(ok), 1, (r1, r2))
                self.assertCode(refused[0], grpc.StatusCode.FAILED_PRECONDITION)
                self.assertEqual(refused[0].details.error_info.reason
                                 if refused[0].details.error_info else None,
                                 "INVALID_STATUS_TRANSITION", refused[0])
                winner = ok[0].response.sale
                loser = lb.id if winner.listing_id == la.id else la.id
                self.assertEqual(s.db.scalar("SELECT transfer_count FROM items WHERE id = '%s'"
                                             % item.id), "1")
                got = lu.must(s.call("GetItem", L.GetItemRequest(item_id=item.id), key=self.a.key),
                              "GetItem").item
                self.assertEqual(got.transfer_count, 1)
                self.assertEqual(s.db.query("SELECT listing_id FROM sales WHERE item_id = '%s'"
                                            % item.id), [[winner.listing_id]])
                self.assertEqual(s.db.query(
                    "SELECT status, status_detail FROM listings WHERE id = '%s'" % loser),
                    [[str(L.LISTING_STATUS_WITHDRAWN), "SOLD_ELSEWHERE"]])


if __name__ == "__main__":
    import unittest
    unittest.main()
