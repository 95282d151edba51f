"""LogService through a stock gRPC client (SPEC §4.6, §2): mutations through
OrgService are sequenced and checkpointed; the checkpoint note verifies with
python3-nacl against the key ListSigningKeys gives without an API key;
inclusion and consistency proofs verify with this test's own RFC 9162
verifier; receipts parse and verify; entries decode as LogLeaf; ranges and
errors; which calls need a key; key rotation."""

import base64
import hashlib

import grpc

import harness
import logutil
from harness import OK
from logutil import leaf_hash, mth, verify_consistency, verify_inclusion
from registry.v1 import common_pb2, log_pb2

C = grpc.StatusCode
PLATFORM = common_pb2.ROLE_PLATFORM
REGISTRY_ID = "registry.test"


class LogTest(harness.RegistryTestCase):
    """A few organizations (two events each), sequenced and checkpointed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.orgs = [s.create_org([PLATFORM]) for _ in range(4)]
        cls.size = logutil.wait_sequenced(s)
        cls.cp = logutil.wait_checkpoint(s, cls.size)

    def entries(self, start, end):
        r = self.server.call("GetEntries", log_pb2.GetEntriesRequest(start=start, end=end),
                             key=self.server.admin_key)
        return self.assertOK(r).entries

    def test_public_methods_need_no_key(self):
        s = self.server
        self.assertOK(s.call("ListSigningKeys"))
        self.assertOK(s.call("GetCheckpoint"))
        self.assertOK(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(leaf_index=0)))
        self.assertOK(s.call("GetConsistencyProof",
                             log_pb2.GetConsistencyProofRequest(first_size=1)))
        # a garbage key on a public method is ignored, not refused
        self.assertOK(s.call("GetCheckpoint", key="rk_garbage"))

    def test_other_methods_need_a_key(self):
        s = self.server
        self.assertCode(s.call("GetEntries", log_pb2.GetEntriesRequest(start=0, end=1)),
                        C.UNAUTHENTICATED)
        self.assertCode(s.call("GetReceipt", log_pb2.GetReceiptRequest(event_id="evt_x")),
                        C.UNAUTHENTICATED)
        self.assertCode(s.call("GetInclusionProofByHash",
                               log_pb2.GetInclusionProofByHashRequest(leaf_hash=b"\0" * 32)),
                        C.UNAUTHENTICATED)
        # any role will do
        p = self.orgs[0]
        self.assertOK(s.call("GetEntries", log_pb2.GetEntriesRequest(start=0, end=1),
                             key=p.api_key))

    def test_signing_keys(self):
        keys = self.assertOK(self.server.call("ListSigningKeys")).keys
        by_purpose = {k.purpose: k for k in keys}
        self.assertEqual(set(by_purpose), {log_pb2.KEY_PURPOSE_CERTIFICATE,
                                           log_pb2.KEY_PURPOSE_INVOICE, log_pb2.KEY_PURPOSE_LOG})
        names = {log_pb2.KEY_PURPOSE_CERTIFICATE: REGISTRY_ID + "/certificate",
                 log_pb2.KEY_PURPOSE_INVOICE: REGISTRY_ID + "/invoice",
                 log_pb2.KEY_PURPOSE_LOG: REGISTRY_ID}
        for k in keys:
            with self.subTest(purpose=k.purpose):
                self.assertEqual(k.name, names[k.purpose])
                self.assertEqual(len(k.public_key), 32)
                self.assertEqual(k.key_id, logutil.key_id(k.name, k.public_key).hex())
                self.assertEqual(k.vkey, logutil.vkey(k.name, k.public_key))
                self.assertTrue(k.HasField("valid_from"))
                self.assertFalse(k.HasField("valid_until"))

    def test_checkpoint_note_verifies(self):
        s = self.server
        cp = self.assertOK(s.call("GetCheckpoint"))
        name, pk = logutil.log_key(s)
        self.assertEqual(name, REGISTRY_ID)
        text = logutil.verify_note(cp.note, name, pk)
        origin, size, root = logutil.parse_checkpoint(text)
        self.assertEqual(origin, REGISTRY_ID)
        self.assertEqual(size, cp.tree_size)
        self.assertEqual(root, cp.root_hash)
        self.assertEqual(len(cp.signature), 64)
        self.assertEqual(logutil.split_note(cp.note)[1][0][2], cp.signature)
        self.assertEqual(cp.key_id, logutil.key_id(name, pk).hex())
        self.assertEqual(cp.vkey, logutil.vkey(name, pk))
        self.assertTrue(cp.HasField("timestamp"))
        # a tampered note does not verify
        with self.assertRaises(Exception):
            logutil.verify_note(cp.note.replace("\n%d\n" % size, "\n%d\n" % (size + 1), 1),
                                name, pk)

    def test_entries_and_root(self):
        s = self.server
        cp = self.cp
        entries = self.entries(0, cp.tree_size)
        self.assertEqual([e.log_index for e in entries], list(range(cp.tree_size)))
        ids = {}
        for e in entries:
            leaf = log_pb2.LogLeaf.FromString(e.leaf)
            self.assertEqual(leaf.SerializeToString(), e.leaf, "leaf bytes not canonical")
            self.assertEqual(e.leaf_hash, leaf_hash(e.leaf))
            self.assertTrue(leaf.event_id.startswith("evt_"))
            self.assertEqual(len(leaf.record_sha256), 32)
            ids[leaf.event_id] = e.log_index
        self.assertEqual(mth([e.leaf_hash for e in entries]), cp.root_hash)
        # the indices are the events table's
        rows = s.db.query("SELECT event_id, log_index FROM event_log WHERE log_index < %d"
                          % cp.tree_size)
        self.assertEqual({r[0]: int(r[1]) for r in rows}, ids)
        # every organization created is in the log
        orgs = {log_pb2.LogLeaf.FromString(e.leaf).organization_id for e in entries}
        self.assertTrue(orgs)

    def test_inclusion_proofs(self):
        s = self.server
        cp = self.cp
        hashes = [e.leaf_hash for e in self.entries(0, cp.tree_size)]
        for size in sorted({1, 2, 3, cp.tree_size // 2 or 1, cp.tree_size - 1 or 1, cp.tree_size}):
            root = mth(hashes[:size])
            for i in range(size):
                with self.subTest(size=size, index=i):
                    r = self.assertOK(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
                        leaf_index=i, tree_size=size)))
                    self.assertEqual((r.tree_size, r.leaf_index), (size, i))
                    self.assertTrue(verify_inclusion(i, size, hashes[i], list(r.hashes), root))
                    self.assertFalse(verify_inclusion(i, size, hashes[(i + 1) % size] if size > 1
                                                      else b"x" * 32, list(r.hashes), root))
        # tree_size 0: the latest checkpoint
        r = self.assertOK(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(leaf_index=0)))
        self.assertGreaterEqual(r.tree_size, cp.tree_size)

    def test_inclusion_by_hash(self):
        s, cp = self.server, self.cp
        entries = self.entries(0, cp.tree_size)
        e = entries[-1]
        r = self.assertOK(s.call("GetInclusionProofByHash", log_pb2.GetInclusionProofByHashRequest(
            leaf_hash=e.leaf_hash, tree_size=cp.tree_size), key=s.admin_key))
        self.assertEqual(r.leaf_index, e.log_index)
        self.assertTrue(verify_inclusion(r.leaf_index, cp.tree_size, e.leaf_hash, list(r.hashes),
                                         cp.root_hash))
        # unknown hash; a leaf not in the smaller tree; malformed hash
        self.assertCode(s.call("GetInclusionProofByHash", log_pb2.GetInclusionProofByHashRequest(
            leaf_hash=b"\1" * 32), key=s.admin_key), C.NOT_FOUND)
        self.assertCode(s.call("GetInclusionProofByHash", log_pb2.GetInclusionProofByHashRequest(
            leaf_hash=e.leaf_hash, tree_size=e.log_index), key=s.admin_key), C.NOT_FOUND)
        self.assertField(s.call("GetInclusionProofByHash", log_pb2.GetInclusionProofByHashRequest(
            leaf_hash=b"\1" * 31), key=s.admin_key), "leaf_hash")

    def test_consistency_proofs(self):
        s, cp = self.server, self.cp
        hashes = [e.leaf_hash for e in self.entries(0, cp.tree_size)]
        n = cp.tree_size
        for first in range(1, n + 1):
            for second in range(first, n + 1):
                with self.subTest(first=first, second=second):
                    r = self.assertOK(s.call("GetConsistencyProof",
                                             log_pb2.GetConsistencyProofRequest(
                                                 first_size=first, second_size=second)))
                    self.assertEqual((r.first_size, r.second_size), (first, second))
                    self.assertTrue(verify_consistency(first, second, mth(hashes[:first]),
                                                       mth(hashes[:second]), list(r.hashes)))
        r = self.assertOK(s.call("GetConsistencyProof",
                                 log_pb2.GetConsistencyProofRequest(first_size=1)))
        self.assertGreaterEqual(r.second_size, n)

    def test_receipt(self):
        s, cp = self.server, self.cp
        rows = s.db.query("SELECT event_id, log_index, encode(leaf, 'hex') FROM event_log "
                          "WHERE log_index < %d ORDER BY log_index" % cp.tree_size)
        name, pk = logutil.log_key(s)
        for event_id, index, leaf_hex in (rows[0], rows[len(rows) // 2], rows[-1]):
            with self.subTest(event_id=event_id):
                r = self.assertOK(s.call("GetReceipt", log_pb2.GetReceiptRequest(
                    event_id=event_id), key=self.orgs[1].api_key))
                self.assertEqual(r.log_index, int(index))
                idx, hashes, note = logutil.parse_receipt(r.receipt)
                self.assertEqual(idx, int(index))
                text = logutil.verify_note(note, name, pk)
                origin, size, root = logutil.parse_checkpoint(text)
                self.assertEqual(origin, REGISTRY_ID)
                self.assertTrue(verify_inclusion(idx, size, leaf_hash(bytes.fromhex(leaf_hex)),
                                                 hashes, root))
        self.assertCode(s.call("GetReceipt", log_pb2.GetReceiptRequest(event_id="evt_nope"),
                               key=s.admin_key), C.NOT_FOUND)
        self.assertField(s.call("GetReceipt", log_pb2.GetReceiptRequest(), key=s.admin_key),
                         "event_id")

    def test_range_errors(self):
        s, cp = self.server, self.cp
        n = cp.tree_size
        big = n + 1000000
        # proofs: sizes beyond the latest checkpoint, indices beyond the size
        self.assertCode(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
            leaf_index=0, tree_size=big)), C.OUT_OF_RANGE)
        self.assertField(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
            leaf_index=3, tree_size=3)), "leaf_index")
        self.assertField(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
            leaf_index=-1)), "leaf_index")
        self.assertField(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
            leaf_index=0, tree_size=-5)), "tree_size")
        self.assertField(s.call("GetConsistencyProof", log_pb2.GetConsistencyProofRequest(
            first_size=0, second_size=2)), "first_size")
        self.assertField(s.call("GetConsistencyProof", log_pb2.GetConsistencyProofRequest(
            first_size=3, second_size=2)), "first_size")
        self.assertCode(s.call("GetConsistencyProof", log_pb2.GetConsistencyProofRequest(
            first_size=1, second_size=big)), C.OUT_OF_RANGE)
        # equal sizes: an empty proof
        r = self.assertOK(s.call("GetConsistencyProof", log_pb2.GetConsistencyProofRequest(
            first_size=2, second_size=2)))
        self.assertEqual(list(r.hashes), [])
        # entries
        k = s.admin_key
        self.assertField(s.call("GetEntries", log_pb2.GetEntriesRequest(start=2, end=2), key=k),
                         "end")
        self.assertField(s.call("GetEntries", log_pb2.GetEntriesRequest(start=3, end=1), key=k),
                         "end")
        self.assertField(s.call("GetEntries", log_pb2.GetEntriesRequest(start=-1, end=1), key=k),
                         "start")
        self.assertCode(s.call("GetEntries", log_pb2.GetEntriesRequest(start=0, end=big), key=k),
                        C.OUT_OF_RANGE)
        self.assertEqual(len(self.entries(1, 3)), 2)

    def test_tree_size_metric(self):
        s = self.server
        size = logutil.tree_size(s)
        v = harness.eventually(lambda: harness.metric(s.metrics(), "registry_log_tree_size")
                               == float(size) or None, timeout=5)
        self.assertTrue(v, "registry_log_tree_size %r, state %d"
                        % (harness.metric(s.metrics(), "registry_log_tree_size"), size))


class LogBeforeFirstCheckpointTest(harness.RegistryTestCase):
    """No checkpoint yet: a process makes its first one a checkpoint period
    after it starts (an hour here), and sequences once a minute."""

    server_args = ("--log-batch-ms", "60000", "--checkpoint-seconds", "3600")

    def test_not_found_before_checkpoint(self):
        s = self.server
        self.assertCode(s.call("GetCheckpoint"), C.NOT_FOUND)
        self.assertCode(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
            leaf_index=0)), C.NOT_FOUND)
        self.assertCode(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
            leaf_index=0, tree_size=1)), C.OUT_OF_RANGE)
        s.create_org([PLATFORM])
        ev = s.db.scalar("SELECT event_id FROM events ORDER BY id DESC LIMIT 1")
        self.assertCode(s.call("GetReceipt", log_pb2.GetReceiptRequest(event_id=ev),
                               key=s.admin_key), C.NOT_FOUND)


class LogBulkAndRotationTest(harness.RegistryTestCase):
    """More than 1,000 events (inserted by SQL), truncation, proofs in a
    tree that spans several tiles, and LOG key rotation."""

    N = 1100

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        sql = "".join(logutil.insert_sql("evt_bulk%06d" % i,
                                         logutil.make_leaf("evt_bulk%06d" % i))
                      for i in range(cls.N))
        logutil.run_sql(s.db.conninfo, "BEGIN;\n" + sql + "COMMIT;\n")
        cls.size = logutil.wait_sequenced(s, timeout=60)
        cls.cp = logutil.wait_checkpoint(s, cls.size, timeout=60)

    def test_truncated_to_1000(self):
        s, cp = self.server, self.cp
        self.assertGreater(cp.tree_size, 1000)
        r = self.assertOK(s.call("GetEntries", log_pb2.GetEntriesRequest(
            start=0, end=cp.tree_size), key=s.admin_key))
        self.assertEqual(len(r.entries), 1000)
        self.assertEqual([e.log_index for e in r.entries], list(range(1000)))
        rest = self.assertOK(s.call("GetEntries", log_pb2.GetEntriesRequest(
            start=1000, end=cp.tree_size), key=s.admin_key)).entries
        hashes = [e.leaf_hash for e in list(r.entries) + list(rest)]
        self.assertEqual(len(hashes), cp.tree_size)
        self.assertEqual(mth(hashes), cp.root_hash)
        # proofs across tiles (256 leaves to a tile)
        for i in (0, 255, 256, 511, 700, cp.tree_size - 1):
            p = self.assertOK(s.call("GetInclusionProof", log_pb2.GetInclusionProofRequest(
                leaf_index=i, tree_size=cp.tree_size)))
            self.assertTrue(verify_inclusion(i, cp.tree_size, hashes[i], list(p.hashes),
                                             cp.root_hash), "index %d" % i)
        for first in (1, 255, 256, 257, 512, 1000, cp.tree_size):
            p = self.assertOK(s.call("GetConsistencyProof", log_pb2.GetConsistencyProofRequest(
                first_size=first, second_size=cp.tree_size)))
            self.assertTrue(verify_consistency(first, cp.tree_size, mth(hashes[:first]),
                                               cp.root_hash, list(p.hashes)), "first %d" % first)
        # tiles: at least the full level-0 tiles and one of level 1
        rows = s.db.query("SELECT level, count(*) FROM log_tiles GROUP BY level ORDER BY level")
        self.assertEqual(int(rows[0][1]), (cp.tree_size + 255) // 256)
        self.assertEqual(rows[1][0], "1")

    def test_rotation(self):
        s = self.server
        old_name, old_pk = logutil.log_key(s)
        before = self.assertOK(s.call("GetCheckpoint"))
        r = s.run_cli("keys", "rotate", "--purpose", "LOG")
        self.assertEqual(r.returncode, 0, r.stderr)
        keys = self.assertOK(s.call("ListSigningKeys")).keys
        logs = [k for k in keys if k.purpose == log_pb2.KEY_PURPOSE_LOG]
        self.assertEqual(len(logs), 2)
        self.assertEqual(sum(1 for k in logs if k.HasField("valid_until")), 1)
        new_name, new_pk = logutil.log_key(s)
        self.assertNotEqual(new_pk, old_pk)
        # the rotation's own event grows the tree: the next checkpoint is the new key's
        cp = logutil.wait_checkpoint(s, before.tree_size + 1)
        self.assertEqual(cp.key_id, logutil.key_id(new_name, new_pk).hex())
        self.assertEqual(cp.vkey, logutil.vkey(new_name, new_pk))
        logutil.verify_note(cp.note, new_name, new_pk)
        with self.assertRaises(AssertionError):
            logutil.verify_note(cp.note, old_name, old_pk)
        # and it is consistent with the one before
        p = self.assertOK(s.call("GetConsistencyProof", log_pb2.GetConsistencyProofRequest(
            first_size=before.tree_size, second_size=cp.tree_size)))
        self.assertTrue(verify_consistency(before.tree_size, cp.tree_size, before.root_hash,
                                           cp.root_hash, list(p.hashes)))
        # old checkpoints stay in the table, signed by the old key
        n = int(s.db.scalar("SELECT count(DISTINCT key_id) FROM log_checkpoints"))
        self.assertEqual(n, 2)


if __name__ == "__main__":
    import unittest
    unittest.main()
