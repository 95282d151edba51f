"""registry-verify, the offline verifier (SPEC §4.6, §5): a checkpoint's
signature against the vkey ListSigningKeys lists (called without a key), a
receipt against its leaf, and a consistency proof between two checkpoints;
each tampered input is refused."""

import base64
import os
import subprocess
import tempfile
import time
import unittest

import harness
from registry.v1 import common_pb2, log_pb2


def verifier():
    return os.path.join(os.path.dirname(harness.registryd_path()), "registry-verify")


class VerifyTest(harness.RegistryTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="verify-", dir=harness.var_dir())

    def file(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def run_verify(self, *args):
        return subprocess.run([verifier()] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=30)

    def log(self, method, request, resp_cls, key=None):
        return harness.invoke(self.server.channel, "/registry.v1.LogService/" + method, request,
                              resp_cls, key=key)

    def log_vkey(self):
        r = self.log("ListSigningKeys", log_pb2.ListSigningKeysRequest(),
                     log_pb2.ListSigningKeysResponse)
        self.assertEqual(r.code, harness.OK, r)
        keys = [k for k in r.response.keys
                if k.purpose == log_pb2.KEY_PURPOSE_LOG and not k.HasField("valid_until")]
        self.assertEqual(len(keys), 1)
        return keys[0].vkey

    def checkpoint(self, min_size, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.log("GetCheckpoint", log_pb2.GetCheckpointRequest(),
                         log_pb2.GetCheckpointResponse)
            if r.code == harness.OK and r.response.tree_size >= min_size:
                return r.response
            time.sleep(0.2)
        self.fail("no checkpoint of size >= %d" % min_size)

    def mutate(self):
        self.server.create_org([common_pb2.ROLE_PLATFORM])

    def events(self):
        return int(self.server.db.scalar("SELECT count(*) FROM events"))

    def test_checkpoint_receipt_and_consistency(self):
        s = self.server
        self.mutate()
        cp1 = self.checkpoint(self.events())
        vkey = self.log_vkey()

        good = self.file("cp1", cp1.note)
        r = self.run_verify("checkpoint", good, "--vkey", vkey)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "valid"), r.stderr)
        bad = self.file("cp1-bad", cp1.note.replace("\n%d\n" % cp1.tree_size,
                                                    "\n%d\n" % (cp1.tree_size + 1), 1))
        r = self.run_verify("checkpoint", bad, "--vkey", vkey)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stdout.startswith("invalid:"), r.stdout)

        # a receipt for the organization's creation event
        event_id, index = s.db.query(
            "SELECT event_id, log_index FROM event_log WHERE log_index < %d "
            "ORDER BY log_index DESC LIMIT 1" % cp1.tree_size)[0]
        rec = self.log("GetReceipt", log_pb2.GetReceiptRequest(event_id=event_id),
                       log_pb2.GetReceiptResponse, key=s.admin_key)
        self.assertEqual(rec.code, harness.OK, rec)
        ent = self.log("GetEntries", log_pb2.GetEntriesRequest(start=int(index), end=int(index) + 1),
                       log_pb2.GetEntriesResponse, key=s.admin_key)
        self.assertEqual(ent.code, harness.OK, ent)
        leaf = self.file("leaf", ent.response.entries[0].leaf)
        receipt = self.file("receipt", rec.response.receipt)
        r = self.run_verify("receipt", receipt, "--vkey", vkey, "--leaf", leaf)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "valid"), r.stdout + r.stderr)
        r = self.run_verify("receipt", receipt, "--vkey", vkey, "--leaf-hash",
                            ent.response.entries[0].leaf_hash.hex())
        self.assertEqual(r.returncode, 0, r.stdout)
        other = self.file("leaf2", ent.response.entries[0].leaf + b"\x00")
        r = self.run_verify("receipt", receipt, "--vkey", vkey, "--leaf", other)
        self.assertEqual(r.returncode, 1, r.stdout)

        # a consistency proof between two checkpoints
        self.mutate()
        cp2 = self.checkpoint(self.events())
        self.assertGreater(cp2.tree_size, cp1.tree_size)
        pr = self.log("GetConsistencyProof",
                      log_pb2.GetConsistencyProofRequest(first_size=cp1.tree_size,
                                                         second_size=cp2.tree_size),
                      log_pb2.GetConsistencyProofResponse)
        self.assertEqual(pr.code, harness.OK, pr)
        proof = self.file("proof", "".join(base64.b64encode(h).decode() + "\n"
                                           for h in pr.response.hashes))
        old, new = self.file("old", cp1.note), self.file("new", cp2.note)
        r = self.run_verify("consistency", "--vkey", vkey, "--old", old, "--new", new, "--proof", proof)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "valid"), r.stdout + r.stderr)
        if pr.response.hashes:
            hs = list(pr.response.hashes)
            hs[0] = bytes([hs[0][0] ^ 1]) + hs[0][1:]
            badp = self.file("proof-bad", "".join(base64.b64encode(h).decode() + "\n" for h in hs))
            r = self.run_verify("consistency", "--vkey", vkey, "--old", old, "--new", new,
                                "--proof", badp)
            self.assertEqual(r.returncode, 1, r.stdout)
        # the wrong way round
        r = self.run_verify("consistency", "--vkey", vkey, "--old", new, "--new", old, "--proof", proof)
        self.assertEqual(r.returncode, 1, r.stdout)

    def test_usage(self):
        self.assertEqual(self.run_verify().returncode, 2)
        self.assertEqual(self.run_verify("checkpoint", "/nonexistent", "--vkey", "x+1+AA==").returncode, 2)


if __name__ == "__main__":
    unittest.main()
