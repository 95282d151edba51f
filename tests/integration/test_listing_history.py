"""GetItemHistory of an item with more history than one response holds
(services/listing/listing_store.h, LISTING_HISTORY_MAX = 10,000): the oldest
10,000 entries, oldest first, and `truncated` set; an ordinary item's
history is whole and not truncated. The extra rows are inserted with psql:
10,000 calls would make the test slow, not stronger."""

import harness
import listingutil as lu
from listingutil import L, PLATFORM

MAX = 10000


class ItemHistoryLimitTest(harness.RegistryTestCase):

    def test_truncated_beyond_the_limit(self):
        s = self.server
        p = lu.make_org(s, [PLATFORM], name="Platform H")
        small = lu.new_vehicle(s, p.key)
        r = lu.must(s.call("GetItemHistory", L.GetItemHistoryRequest(item_id=small.id),
                           key=p.key), "GetItemHistory")
        self.assertFalse(r.truncated)
        self.assertGreaterEqual(len(r.entries), 1)

        big = lu.new_vehicle(s, p.key)
        s.db.query("INSERT INTO item_history (item_id, kind, organization_id, detail) "
                   "SELECT '%s', %d, '%s', 'bulk ' || g FROM generate_series(1, %d) g"
                   % (big.id, L.HISTORY_KIND_REGISTERED, p.id, MAX + 5))
        r = lu.must(s.call("GetItemHistory", L.GetItemHistoryRequest(item_id=big.id),
                           key=p.key, timeout=60), "GetItemHistory")
        self.assertTrue(r.truncated)
        self.assertEqual(len(r.entries), MAX)
        # oldest first: the registration, then the bulk rows in order
        self.assertEqual(r.entries[0].kind, L.HISTORY_KIND_REGISTERED)
        bulk = [e.detail for e in r.entries if e.detail.startswith("bulk ")]
        self.assertEqual(bulk[:3], ["bulk 1", "bulk 2", "bulk 3"])


if __name__ == "__main__":
    import unittest
    unittest.main()
