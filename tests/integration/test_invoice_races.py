"""InvoiceService under concurrent calls (SPEC §4.5; services/invoice/README.md
"The cap and the VAT month", "Numbering"): many clients issuing at once,
each on its own channel (its own HTTP/2 connection), so that the server's
workers really take the per-seller lock and the per-issuer counter row
concurrently and in every interleaving.

- 8 threads × 500 invoices from 4 issuers (two threads per issuer key),
  over 8 sellers every issuer shares: every call succeeds within its
  30-second deadline (no UNAVAILABLE, INTERNAL or DEADLINE_EXCEEDED: no
  deadlock between the seller lock and the counter row); each issuer's
  numbers are exactly 1..N with no duplicate and no gap; the issuers'
  6-digit numbers differ; each seller's month total (seller_months) equals
  the sum of its invoices.
- two issuers racing on one seller just under the cap, in 6 rounds (a fresh
  seller each): 80 concurrent attempts where only 100.00 CNY remains —
  10.00 CNY each (exactly 10 succeed, the stored total is exactly the cap)
  or 7.00 … 13.99 CNY (the stored total never exceeds the cap, every
  refusal's current_total_fen + amount really exceeds it); every refusal is
  SELLER_CAP_EXCEEDED, and the refused calls gave their numbers back (each
  issuer still gap-free).

The rate limit is off for this server (`--rate-limit-per-second 0`): the
test measures correctness under load, not the limiter."""

import collections
import sys
import threading
import time

import grpc

import harness
import invoiceutil as iu
import listingutil as lu
from harness import OK, invoke
from invoiceutil import I
from listingutil import INSPECTOR

C = grpc.StatusCode
THREADS = 8
PER_THREAD = 500
ISSUERS = 4
SELLERS = 8
DEADLINE = 30.0
CAP_ROUNDS = 6


def run_threads(server, n, work):
    """Runs work(i, channel) on n threads, each with its own channel, started
    together by a barrier; returns (results by thread, seconds)."""
    channels = [grpc.insecure_channel(server.addr) for _ in range(n)]
    barrier = threading.Barrier(n + 1)
    out = [None] * n
    errors = []

    def go(i):
        try:
            barrier.wait()
            out[i] = work(i, channels[i])
        except BaseException as e:  # reported by the caller
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=go, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join(600)
    elapsed = time.monotonic() - t0
    for ch in channels:
        ch.close()
    hung = [i for i, t in enumerate(threads) if t.is_alive()]
    if hung or errors:
        raise AssertionError("threads hung %r, errors %r" % (hung, errors))
    return out, elapsed


def issue(channel, org, req):
    path, _, resp_cls = harness.METHODS["IssueReverseInvoice"]
    return invoke(channel, path, req, resp_cls, key=org.key, timeout=DEADLINE)


class InvoiceRacesTest(harness.RegistryTestCase):

    server_args = ("--rate-limit-per-second", "0")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.insp = lu.make_org(s, [INSPECTOR], name="Race Inspector")

    def assertGapFree(self, expect=None):
        """Every issuer's sequence numbers are exactly 1..N (from the
        database), its issuer number one and unique; `expect`
        {issuer_id: N} when given."""
        rows = self.server.db.query(
            "SELECT issuer_id, substr(invoice_number, 6, 6), substr(invoice_number, 12)::bigint "
            "FROM invoices")
        seqs = collections.defaultdict(list)
        nos = collections.defaultdict(set)
        for issuer, no, seq in rows:
            seqs[issuer].append(int(seq))
            nos[issuer].add(no)
        for issuer, got in seqs.items():
            with self.subTest(issuer=issuer):
                self.assertEqual(sorted(got), list(range(1, len(got) + 1)),
                                 "issuer %s: duplicates or gaps" % issuer)
                self.assertEqual(len(nos[issuer]), 1, nos[issuer])
        all_nos = [next(iter(v)) for v in nos.values()]
        self.assertEqual(len(all_nos), len(set(all_nos)), "two issuers share a number")
        if expect is not None:
            self.assertEqual({k: len(v) for k, v in seqs.items() if k in expect}, expect)
        counters = {r[0]: int(r[1]) for r in self.server.db.query(
            "SELECT issuer_id, last_seq FROM invoice_counters")}
        self.assertEqual(counters, {k: len(v) for k, v in seqs.items()})

    def assertMonthsMatch(self):
        """seller_months holds exactly the sum of each seller's invoices."""
        got = self.server.db.query(
            "WITH inv AS (SELECT seller_ref, date_trunc('month', issued_on)::date AS month, "
            "sum(amount_fen) AS total FROM invoices GROUP BY 1, 2) "
            "SELECT encode(coalesce(inv.seller_ref, m.seller_ref), 'hex'), inv.total, "
            "m.amount_fen FROM inv FULL JOIN seller_months m USING (seller_ref, month)")
        for ref, total, month in got:
            self.assertEqual(total, month, "seller %s: invoices %s, seller_months %s"
                             % (ref, total, month))

    def test_numbers_gap_free_under_concurrency(self):
        s = self.server
        issuers = [iu.make_recycler(s, (iu.REVERSE_INVOICE,), name="Race Issuer %d" % k)
                   for k in range(ISSUERS)]
        sellers = [iu.seller() for _ in range(SELLERS)]

        def work(t, channel):
            org = issuers[t % ISSUERS]
            got = []
            for i in range(PER_THREAD):
                seller = sellers[(t + i) % SELLERS]
                amount = 100 + (t * PER_THREAD + i) % 900
                t0 = time.monotonic()
                r = issue(channel, org, iu.issue_req(seller, [iu.fen_line(amount)]))
                got.append((r, time.monotonic() - t0, amount))
            return got

        out, elapsed = run_threads(s, THREADS, work)
        calls = [c for per in out for c in per]
        total = len(calls)
        slowest = max(c[1] for c in calls)
        sys.stdout.write("invoice races: %d invoices by %d threads in %.1f s (%.0f/s), "
                         "slowest call %.2f s\n" % (total, THREADS, elapsed, total / elapsed,
                                                    slowest))
        sys.stdout.flush()
        bad = collections.Counter((c[0].code.name, c[0].details.message[:80])
                                  for c in calls if c[0].code != OK)
        self.assertEqual(dict(bad), {}, "refused or failed calls")
        self.assertEqual(total, THREADS * PER_THREAD)

        per_issuer = collections.defaultdict(list)
        for t, per in enumerate(out):
            for r, _, _ in per:
                per_issuer[issuers[t % ISSUERS].id].append(r.response.invoice)
        n = THREADS * PER_THREAD // ISSUERS
        issuer_nos = set()
        for org in issuers:
            invs = per_issuer[org.id]
            with self.subTest(issuer=org.id):
                parts = [iu.parse_number(x.invoice_number) for x in invs]
                self.assertEqual(sorted(p[4] for p in parts), list(range(1, n + 1)))
                self.assertEqual({p[3] for p in parts}, {parts[0][3]})
                self.assertEqual(len({x.id for x in invs}), n)
                issuer_nos.add(parts[0][3])
        self.assertEqual(len(issuer_nos), ISSUERS)
        self.assertGapFree({org.id: n for org in issuers})
        self.assertMonthsMatch()
        # each seller's total as the inspector reads it is the sum of the calls
        want = collections.Counter()
        for t, per in enumerate(out):
            for i, (_, _, amount) in enumerate(per):
                want[sellers[(t + i) % SELLERS].id_number] += amount
        for seller in sellers:
            r = s.call("GetSellerTotal", I.GetSellerTotalRequest(
                id_number=seller.id_number, purpose="race check"), key=self.insp.key)
            self.assertEqual(r.code, OK, r)
            self.assertEqual(r.response.total_fen, want[seller.id_number])
        # exactly one consent per (issuer, seller), however many raced
        self.assertEqual(int(s.db.scalar("SELECT count(*) FROM seller_consents WHERE issuer_id "
                                         "IN (%s)" % ",".join("'%s'" % o.id for o in issuers))),
                         ISSUERS * SELLERS)

    def test_two_issuers_race_at_the_cap(self):
        """CAP_ROUNDS rounds, each on a fresh seller with 100.00 CNY left
        under the cap: even rounds 80 attempts of exactly 10.00 CNY (exactly
        10 fit), odd rounds 80 attempts of 7.00 … 13.99 CNY (whatever fits,
        never more)."""
        s = self.server
        a = iu.make_recycler(s, (iu.REVERSE_INVOICE,), name="Cap Racer A")
        b = iu.make_recycler(s, (iu.HAZARDOUS_WASTE,), name="Cap Racer B")
        cap = iu.CAP_FEN
        left = 10_000
        per_thread = 10
        wins = collections.Counter({a.id: 0})
        for rnd in range(CAP_ROUNDS):
            with self.subTest(round=rnd):
                z = iu.seller()
                pre = s.call("IssueReverseInvoice",
                             iu.issue_req(z, [iu.fen_line(cap - left)]), key=a.key)
                self.assertEqual(pre.code, OK, pre)
                wins[a.id] += 1

                def amount(t, i):
                    return 1000 if rnd % 2 == 0 else 700 + (t * 97 + i * 131 + rnd) % 700

                def work(t, channel):
                    org = (a, b)[t % 2]
                    return [(org, amount(t, i), issue(channel, org, iu.issue_req(
                        z, [iu.fen_line(amount(t, i))]))) for i in range(per_thread)]

                out, elapsed = run_threads(s, THREADS, work)
                calls = [c for per in out for c in per]
                sys.stdout.write("cap race round %d: %d attempts in %.2f s, %d accepted\n"
                                 % (rnd, len(calls), elapsed,
                                    sum(1 for c in calls if c[2].code == OK)))
                ok = [(o, amt) for o, amt, r in calls if r.code == OK]
                accepted = sum(amt for _, amt in ok)
                for _, amt, r in calls:
                    if r.code == OK:
                        continue
                    self.assertEqual(r.code, C.FAILED_PRECONDITION, r)
                    self.assertEqual(r.details.error_info.reason if r.details.error_info
                                     else None, "SELLER_CAP_EXCEEDED", r)
                    md = dict(r.details.error_info.metadata)
                    current = int(md.get("current_total_fen", "-1"))
                    self.assertEqual(md.get("cap_fen"), str(cap), r)
                    # refused only when it really did not fit
                    self.assertTrue(cap - left <= current <= cap and current + amt > cap,
                                    (current, amt, r))
                self.assertLessEqual(accepted, left)
                if rnd % 2 == 0:
                    self.assertEqual(len(ok), left // 1000, "successes")
                else:
                    # what was refused at the end would not have fitted
                    smallest_refused = min([amt for _, amt, r in calls if r.code != OK],
                                           default=None)
                    if smallest_refused is not None:
                        self.assertGreater(accepted + smallest_refused, left)
                t = s.call("GetSellerTotal", I.GetSellerTotalRequest(
                    id_number=z.id_number, purpose="race check"), key=self.insp.key)
                self.assertEqual(t.code, OK, t)
                self.assertEqual(t.response.total_fen, cap - left + accepted)
                self.assertLessEqual(t.response.total_fen, cap)
                ref = iu.body(pre.response.invoice).seller_ref
                self.assertEqual(int(s.db.scalar(
                    "SELECT sum(amount_fen) FROM invoices WHERE seller_ref = '\\x%s'::bytea"
                    % ref.hex())), cap - left + accepted)
                wins.update(o.id for o, _ in ok)
        self.assertGapFree({k: v for k, v in wins.items() if v})
        self.assertMonthsMatch()

if __name__ == "__main__":
    import unittest
    unittest.main()
