"""CreditService through a stock gRPC client (SPEC §4.4, §3 "Access log" and
"purpose", §6 "Credit"; DOMAIN §4; services/credit/README.md), checked the
way a platform onboarding a seller, a data subject and a market-supervision
inspector would:

- subjects: a platform registers its natural-person seller (name + ID
  number, shown masked except to inspectors); registering the identifier
  again gives the same subject with created=false;
- records: who may submit (the platform that listed the seller, an
  inspector; not another platform), every bad field named, request_id
  replay; the grade rule of SPEC §6 computed here independently
  (creditutil.points_of / grade_of), positives never offsetting;
- purpose: mandatory for a person's profile, records and a search by ID
  number (INVALID_ARGUMENT naming `purpose`), not for an organization;
- the access log: each read of a person's credit data or identity listed by
  ListAccessLog with organization, method and purpose; who may read it (an
  inspector, the organization the subject is);
- disputes: DISPUTED at once and still counting, DISPUTE_OPEN, outcomes
  WITHDRAWN / UPHELD / CORRECTED (the correction supersedes), DISPUTE_RESOLVED,
  ListDisputes with the 20-day overdue rule;
- expiry: a negative record stops counting on the fifth anniversary of its
  end (29 February → 28 February): hidden from the data subject, shown to
  inspectors as EXPIRED, out of the grade;
- the serious-dishonesty list: grade D, SELLER_BLACKLISTED on every
  platform, REMOVAL_TOO_EARLY before the first anniversary (removable_on),
  removal after it, listed_on limits (an entry that would already have ended
  is refused), inspectors only;
- the profile cache: every change shows at once; with Redis stopped (a
  private redis-server, so the shared one is never disturbed) the profile is
  still right, and again after Redis comes back."""

import datetime

import grpc

import creditutil as cu
import harness
import listingutil as lu
from creditutil import CR
from harness import rid, day
from listingutil import PLATFORM, APPRAISER, INSPECTOR
from registry.v1 import common_pb2, log_pb2

C = grpc.StatusCode
FP = C.FAILED_PRECONDITION
PURPOSE = "seller onboarding check"


def method_name(path):
    """"/registry.v1.CreditService/GetCreditProfile" → "GetCreditProfile"."""
    return path.rsplit("/", 1)[-1]


class CreditCase(harness.RegistryTestCase):
    """Shared helpers; each subclass has its own registryd and database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setUpOrgs()

    @classmethod
    def setUpOrgs(cls):
        cls.p = cls.org(PLATFORM, name="Platform P (lists the seller)")
        cls.p2 = cls.org(PLATFORM, name="Platform Q (never listed the seller)")
        cls.insp = cls.org(INSPECTOR, name="Yangquan Market Supervision")

    @classmethod
    def org(cls, *roles, name=None):
        return lu.make_org(cls.server, roles, name=name)

    def call(self, method, req=None, org=None):
        key = org.key if hasattr(org, "key") else org
        return self.server.call(method, req, key=key)

    def ok(self, method, req, org):
        return self.assertOK(self.call(method, req, org))

    def count(self, sql):
        return int(self.server.db.scalar(sql))

    # - subjects -
    def list_seller(self, platform, seller):
        """A new vehicle listed by `platform` with seller (Person or Party)."""
        party = seller if isinstance(seller, common_pb2.Party) else common_pb2.Party(person=seller)
        item = lu.new_vehicle(self.server, platform.key)
        return lu.new_listing(self.server, platform.key, item.id, seller=party).listing

    def create_listing(self, platform, seller):
        """CreateListing for a new vehicle with `seller` → Reply."""
        party = seller if isinstance(seller, common_pb2.Party) else common_pb2.Party(person=seller)
        item = lu.new_vehicle(self.server, platform.key)
        return item, self.call("CreateListing", lu.listing_req(item.id, seller=party), platform)

    def seller_subject(self, platform=None, person=None):
        """A natural-person seller listed by `platform` (default P) and
        registered by it as SELLER_PERSON → (Person, Subject)."""
        platform = platform or self.p
        person = person or lu.person()
        self.list_seller(platform, person)
        r = self.ok("RegisterSubject", cu.person_subject_req(person), platform)
        self.assertTrue(r.created, r)
        return person, r.subject

    def org_subject(self, kind=cu.APPRAISER_ORG, linked=None, uscc=None, name=None):
        """An organization subject registered by the inspector, linked to
        the registry organization `linked` (its USCC) when given → Subject."""
        if linked is not None:
            uscc, name = linked.uscc, linked.org.name
        req = cu.org_subject_req(uscc or self.server.uscc(), name or "Shanxi Appraisal Co",
                                 kind, organization_id=linked.id if linked else "")
        r = self.ok("RegisterSubject", req, self.insp)
        self.assertTrue(r.created, r)
        return r.subject

    # - records and profiles -
    def submit(self, org, subject_id, category, severity, **kw):
        return self.ok("SubmitRecord", cu.record_req(subject_id, category, severity, **kw),
                       org).record

    def profile_reply(self, org, subject_id, purpose=PURPOSE):
        return self.call("GetCreditProfile", CR.GetCreditProfileRequest(
            subject_id=subject_id, purpose=purpose), org)

    def profile(self, org, subject_id, purpose=PURPOSE):
        return self.assertOK(self.profile_reply(org, subject_id, purpose))

    def assertProfile(self, prof, grade, score, points, negative_count, open_disputes=0,
                      on_list=False, positive_count=None, subject_id=None):
        got = (cu.GRADE.get(prof.grade, prof.grade), prof.score, prof.points,
               prof.negative_count, prof.open_disputes, prof.on_dishonesty_list)
        self.assertEqual(got, (grade, score, points, negative_count, open_disputes, on_list),
                         "profile (grade, score, points, negative_count, open_disputes, "
                         "on_dishonesty_list): %s" % str(prof).replace("\n", " "))
        if positive_count is not None:
            self.assertEqual(prof.positive_count, positive_count)
        if subject_id is not None:
            self.assertEqual(prof.subject_id, subject_id)
        self.assertTrue(prof.HasField("computed_at"))

    def assertRule(self, prof, counting, on_list=False, open_disputes=0):
        """The profile is what SPEC §6's rule gives for `counting`
        ((category, severity) of the counting negative records)."""
        pts = cu.points_of(counting)
        g, score = cu.grade_of(pts, on_list)
        self.assertProfile(prof, g, score, pts, len(counting), open_disputes, on_list)

    def list_records(self, org, subject_id, purpose=PURPOSE, **kw):
        return self.call("ListRecords", CR.ListRecordsRequest(subject_id=subject_id,
                                                               purpose=purpose, **kw), org)

    def records(self, org, subject_id, purpose=PURPOSE, **kw):
        """Every record `org` may see, page by page → {id: record}."""
        out, token = {}, ""
        for _ in range(100):
            r = self.assertOK(self.list_records(org, subject_id, purpose, page_token=token, **kw))
            for x in r.records:
                self.assertNotIn(x.id, out, "a record listed twice across pages")
                out[x.id] = x
            token = r.next_page_token
            if not token:
                return out
        self.fail("ListRecords did not end")

    def status_of(self, subject_id, record_id):
        """The record's status as an inspector sees it."""
        recs = self.records(self.insp, subject_id, purpose="dispute supervision")
        self.assertIn(record_id, recs)
        return recs[record_id].status

    def access_entries(self, org, **kw):
        """Every ListAccessLog entry (page by page)."""
        out, token = [], ""
        for _ in range(200):
            r = self.assertOK(self.call("ListAccessLog", CR.ListAccessLogRequest(
                page_token=token, **kw), org))
            out.extend(r.entries)
            token = r.next_page_token
            if not token:
                return out
        self.fail("ListAccessLog did not end")

    # - disputes -
    def file(self, org, record_id, reason="The record mixes up two sellers", request_id=None):
        return self.call("FileDispute", CR.FileDisputeRequest(
            request_id=request_id or rid(), record_id=record_id, reason=reason), org)

    def resolve(self, org, dispute_id, outcome, note="reviewed", correction=None):
        req = CR.ResolveDisputeRequest(request_id=rid(), dispute_id=dispute_id, outcome=outcome,
                                       note=note)
        if correction is not None:
            req.correction.CopyFrom(correction)
        return self.call("ResolveDispute", req, org)

    def list_disputes(self, org, overdue_only=False):
        out, token = [], ""
        for _ in range(100):
            r = self.assertOK(self.call("ListDisputes", CR.ListDisputesRequest(
                overdue_only=overdue_only, page_token=token), org))
            out.extend(r.disputes)
            token = r.next_page_token
            if not token:
                return out
        self.fail("ListDisputes did not end")

    # - the list -
    def place(self, org, subject_id, listed_on="", reason="Sold counterfeit phones repeatedly",
              decision_ref="晋阳市监信〔2025〕17号"):
        return self.call("PlaceOnDishonestyList", CR.PlaceOnDishonestyListRequest(
            request_id=rid(), subject_id=subject_id, reason=reason, decision_ref=decision_ref,
            listed_on=listed_on), org)

    def remove(self, org, subject_id, reason="credit repair completed"):
        return self.call("RemoveFromDishonestyList", CR.RemoveFromDishonestyListRequest(
            request_id=rid(), subject_id=subject_id, reason=reason), org)

    # - assertions -
    def assertViolation(self, reply, field, prefix=False):
        """INVALID_ARGUMENT whose first BadRequest violation is `field` (or
        starts with it when prefix)."""
        d = self.assertCode(reply, C.INVALID_ARGUMENT)
        self.assertIsNotNone(d.bad_request, "INVALID_ARGUMENT without BadRequest: %r" % (reply,))
        self.assertTrue(d.fields(), "BadRequest with no field violation: %r" % (reply,))
        if prefix:
            self.assertTrue(d.fields()[0].startswith(field), "field_violations: %r" % (d.fields(),))
        else:
            self.assertEqual(d.fields()[0], field, "field_violations: %r" % (d.fields(),))
        return d

    def events(self, etype, subject_id):
        return self.count("SELECT count(*) FROM events WHERE type = %d AND subject_id = '%s'"
                          % (etype, subject_id))

    def records_of(self, subject_id):
        return self.count("SELECT count(*) FROM credit_records WHERE subject_id = '%s'"
                          % subject_id)


# ---------------------------------------------------------------------------------------
# Subjects, records, grades, purpose, the access log, disputes, expiry, replay, cache
# ---------------------------------------------------------------------------------------


class CreditTest(CreditCase):

    # -- a platform's seller ---------------------------------------------------------------

    def test_platform_seller_grade_seen_by_another_platform(self):
        person = lu.person(name="张小三")
        self.list_seller(self.p, person)
        first = self.ok("RegisterSubject", cu.person_subject_req(person), self.p)
        self.assertTrue(first.created)
        sub = first.subject
        self.assertTrue(sub.id.startswith("sub_"), sub.id)
        self.assertEqual(sub.kind, cu.SELLER_PERSON)
        # a platform sees its seller masked (SPEC §3)
        self.assertEqual((sub.name, sub.id_number),
                         (lu.mask_name(person.name), lu.mask_id(person.id_number)))
        self.assertEqual((sub.uscc, sub.organization_id, sub.registered_by), ("", "", self.p.id))
        self.assertTrue(sub.HasField("created_at"))

        # the same ID number again: the same subject, created false (also
        # from another platform, and with another name spelling)
        again = self.ok("RegisterSubject", cu.person_subject_req(person), self.p)
        self.assertEqual((again.subject.id, again.created), (sub.id, False))
        other = self.ok("RegisterSubject", CR.RegisterSubjectRequest(
            request_id=rid(), kind=cu.SELLER_PERSON, name="张三",
            id_number=person.id_number.lower()), self.p2)
        self.assertEqual((other.subject.id, other.created), (sub.id, False))
        self.assertEqual(self.count("SELECT count(*) FROM credit_subjects WHERE id = '%s'"
                                    % sub.id), 1)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_SUBJECT_REGISTERED, sub.id), 1)

        # an inspector reads the person in clear
        clear = self.ok("GetSubject", CR.GetSubjectRequest(subject_id=sub.id,
                                                           purpose="inspection"), self.insp)
        self.assertEqual((clear.subject.name, clear.subject.id_number),
                         (person.name, person.id_number))
        masked = self.ok("GetSubject", CR.GetSubjectRequest(subject_id=sub.id), self.p2)
        self.assertEqual((masked.subject.name, masked.subject.id_number),
                         (lu.mask_name(person.name), lu.mask_id(person.id_number)))

        # a record by the platform that listed the seller
        occurred = day(-10)
        rec = self.submit(self.p, sub.id, cu.COUNTERFEIT, 3, occurred_on=occurred,
                          summary="Sold a counterfeit phone as genuine")
        self.assertTrue(rec.id.startswith("rec_"), rec.id)
        self.assertEqual((rec.subject_id, rec.category, rec.polarity, rec.severity),
                         (sub.id, cu.COUNTERFEIT, CR.POLARITY_NEGATIVE, 3))
        self.assertEqual((rec.occurred_on, rec.ended_on, rec.summary),
                         (occurred, "", "Sold a counterfeit phone as genuine"))
        self.assertEqual(list(rec.evidence_sha256), [bytes(range(32))])
        self.assertEqual((rec.source_organization_id, rec.status, rec.supersedes_record_id),
                         (self.p.id, cu.ACTIVE, ""))
        self.assertTrue(rec.HasField("created_at"))
        self.assertEqual(rec.expires_on, cu.iso(cu.anniversary(occurred, 5)))
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_RECORD_SUBMITTED, sub.id), 1)

        # 3 × 2 (COUNTERFEIT is doubled) = 6 points: C, 70
        self.assertEqual(cu.points_of([(cu.COUNTERFEIT, 3)]), 6)
        self.assertEqual(cu.grade_of(6), ("C", 70))
        prof = self.profile(self.p, sub.id)
        self.assertProfile(prof, "C", 70, 6, 1, positive_count=0, subject_id=sub.id)
        # another platform, which never listed the seller, sees the grade too
        self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1, subject_id=sub.id)

        # ... but not the records, and it may not submit any
        self.assertCode(self.list_records(self.p2, sub.id), C.PERMISSION_DENIED)
        # nor may the submitting platform list them (it is not the subject)
        self.assertCode(self.list_records(self.p, sub.id), C.PERMISSION_DENIED)
        n = self.records_of(sub.id)
        self.assertCode(self.call("SubmitRecord", cu.record_req(sub.id, cu.COUNTERFEIT, 5),
                                  self.p2), C.PERMISSION_DENIED)
        self.assertEqual(self.records_of(sub.id), n)
        self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1)

        # positives never offset; a NOTE is neutral
        pos = self.submit(self.p, sub.id, cu.TRADE_COMPLETED, 2, summary="200 trades, no complaint")
        self.assertEqual(pos.polarity, CR.POLARITY_POSITIVE)
        self.assertEqual(pos.expires_on, "")
        note = self.submit(self.p, sub.id, cu.NOTE, 1, summary="Changed phone number")
        self.assertEqual(note.polarity, CR.POLARITY_NEUTRAL)
        self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1, positive_count=1)

        # without a key; an unknown subject
        self.assertCode(self.server.call("GetCreditProfile", CR.GetCreditProfileRequest(
            subject_id=sub.id, purpose=PURPOSE)), C.UNAUTHENTICATED)
        self.assertCode(self.profile_reply(self.p2, "sub_doesnotexist"), C.NOT_FOUND)

    def test_who_may_register_and_submit(self):
        # a platform registers only seller subjects
        self.assertCode(self.call("RegisterSubject", cu.org_subject_req(
            self.server.uscc(), "Some Platform", cu.PLATFORM_SUBJECT), self.p), C.PERMISSION_DENIED)
        # bad identifiers are named
        self.assertViolation(self.call("RegisterSubject", CR.RegisterSubjectRequest(
            request_id=rid(), kind=cu.SELLER_PERSON, name="李四",
            id_number=harness.IDS["id_number_bad"][0]), self.p), "id_number")
        self.assertViolation(self.call("RegisterSubject", CR.RegisterSubjectRequest(
            request_id=rid(), kind=cu.SELLER_BUSINESS, name="Bad Co",
            uscc=harness.IDS["uscc_bad"][0]), self.p), "uscc")
        self.assertViolation(self.call("RegisterSubject", CR.RegisterSubjectRequest(
            request_id=rid(), kind=0, name="李四", id_number=lu.make_id_number()), self.p), "kind")
        # a seller the platform never listed: registered, but no record from it
        stranger = lu.person()
        sub = self.ok("RegisterSubject", cu.person_subject_req(stranger), self.p).subject
        self.assertCode(self.call("SubmitRecord", cu.record_req(sub.id, cu.MISREPRESENTATION, 1),
                                  self.p), C.PERMISSION_DENIED)
        # once it lists the seller it may
        self.list_seller(self.p, stranger)
        self.submit(self.p, sub.id, cu.MISREPRESENTATION, 1)
        # an inspector may submit about anyone
        self.submit(self.insp, sub.id, cu.ADMINISTRATIVE_PENALTY, 2)
        self.assertRule(self.profile(self.p, sub.id),
                        [(cu.MISREPRESENTATION, 1), (cu.ADMINISTRATIVE_PENALTY, 2)])
        # a business seller, matched by USCC
        biz_uscc = self.server.uscc()
        self.list_seller(self.p2, lu.business_party(biz_uscc, "Yangquan Used Phones Ltd"))
        biz = self.ok("RegisterSubject", cu.org_subject_req(
            biz_uscc, "Yangquan Used Phones Ltd", cu.SELLER_BUSINESS), self.p2).subject
        self.assertEqual((biz.uscc, biz.name), (biz_uscc, "Yangquan Used Phones Ltd"))
        self.submit(self.p2, biz.id, cu.ODOMETER_FRAUD, 2)
        self.assertCode(self.call("SubmitRecord", cu.record_req(biz.id, cu.ODOMETER_FRAUD, 2),
                                  self.p), C.PERMISSION_DENIED)
        # an organization's profile needs no purpose; 2 × 2 = 4 points: B 80
        self.assertProfile(self.profile(self.p, biz.id, purpose=""), "B", 80, 4, 1)
        by_uscc = self.ok("GetSubject", CR.GetSubjectRequest(uscc=biz_uscc), self.p)
        self.assertEqual(by_uscc.subject.id, biz.id)
        # the grade rule's bands at their edges, through real records
        edge = self.org_subject(kind=cu.SELLER_BUSINESS, name="Edge Co")
        for cat, sev, want in ((cu.CONTRACT_BREACH, 4, ("B", 80, 4)),
                               (cu.COMPLAINT_UPHELD, 1, ("C", 75, 5)),
                               (cu.CONTRACT_BREACH, 4, ("C", 55, 9)),
                               (cu.COMPLAINT_UPHELD, 1, ("D", 50, 10)),
                               (cu.DATA_LEAK, 2, ("D", 30, 14)),
                               (cu.WIPE_FAILURE_CONCEALED, 5, ("D", 0, 24))):
            self.submit(self.insp, edge.id, cat, sev)
            p = self.profile(self.p, edge.id, purpose="")
            self.assertEqual((cu.GRADE[p.grade], p.score, p.points), want)

    # -- purpose -----------------------------------------------------------------------------

    def test_purpose_is_required_for_a_person(self):
        person, sub = self.seller_subject()
        self.submit(self.p, sub.id, cu.MISREPRESENTATION, 2)
        rows = self.count("SELECT count(*) FROM access_log WHERE subject_id = '%s'" % sub.id)
        self.assertViolation(self.profile_reply(self.p2, sub.id, purpose=""), "purpose")
        self.assertViolation(self.list_records(self.insp, sub.id, purpose=""), "purpose")
        self.assertViolation(self.call("GetSubject", CR.GetSubjectRequest(
            id_number=person.id_number), self.p2), "purpose")
        # refused reads leave no access-log row
        self.assertEqual(self.count("SELECT count(*) FROM access_log WHERE subject_id = '%s'"
                                    % sub.id), rows)
        # with a purpose
        found = self.ok("GetSubject", CR.GetSubjectRequest(id_number=person.id_number,
                                                           purpose="identity check"), self.p2)
        self.assertEqual(found.subject.id, sub.id)
        self.assertEqual(found.subject.id_number, lu.mask_id(person.id_number))
        self.assertCode(self.call("GetSubject", CR.GetSubjectRequest(
            id_number=lu.make_id_number(), purpose="identity check"), self.p2), C.NOT_FOUND)
        self.assertProfile(self.profile(self.p2, sub.id), "B", 90, 2, 1)
        # an organization subject needs none
        org_sub = self.org_subject(kind=cu.SELLER_BUSINESS, name="No Purpose Needed Ltd")
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "A", 100, 0, 0)
        self.assertOK(self.list_records(self.insp, org_sub.id, purpose=""))

    # -- the access log -----------------------------------------------------------------------

    def test_access_log_of_a_person(self):
        person, sub = self.seller_subject()
        self.submit(self.p, sub.id, cu.COUNTERFEIT, 1)
        base = self.access_entries(self.insp, subject_id=sub.id)
        reads = [(self.p2, "GetCreditProfile", "onboarding: seller KYC"),
                 (self.insp, "ListRecords", "complaint 2025-031 investigation"),
                 (self.p2, "GetSubject", "seller identity check"),
                 (self.p2, "GetCreditProfile", "second look before payout")]
        t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        for org, method, purpose in reads:
            if method == "GetCreditProfile":
                self.profile(org, sub.id, purpose=purpose)
            elif method == "ListRecords":
                self.assertOK(self.list_records(org, sub.id, purpose=purpose))
            else:
                self.ok("GetSubject", CR.GetSubjectRequest(id_number=person.id_number,
                                                           purpose=purpose), org)
        t1 = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
        entries = self.access_entries(self.insp, subject_id=sub.id)
        self.assertEqual([(e.organization_id, e.method, e.purpose) for e in entries[:len(base)]],
                         [(e.organization_id, e.method, e.purpose) for e in base],
                         "the access log is append-only and oldest first")
        new = [e for e in entries[len(base):] if method_name(e.method) != "ListAccessLog"]
        self.assertEqual([(e.organization_id, method_name(e.method), e.purpose) for e in new],
                         [(o.id, m, p) for o, m, p in reads])
        for e in new:
            self.assertEqual(e.subject_id, sub.id)
            self.assertTrue(e.method.endswith("CreditService/" + method_name(e.method))
                            or e.method == method_name(e.method), e.method)
            at = e.at.ToDatetime().replace(tzinfo=datetime.timezone.utc)
            self.assertTrue(t0 <= at <= t1, (t0, at, t1))
        # the rows name the person's blind index (SPEC §3)
        self.assertEqual(self.count(
            "SELECT count(*) FROM access_log WHERE subject_id = '%s' AND "
            "subject_blind_index IS NULL" % sub.id), 0)

        # page by page gives the same entries
        paged, token = [], ""
        while True:
            r = self.assertOK(self.call("ListAccessLog", CR.ListAccessLogRequest(
                subject_id=sub.id, page_size=1, page_token=token), self.insp))
            self.assertLessEqual(len(r.entries), 1)
            paged.extend(r.entries)
            token = r.next_page_token
            if not token:
                break
        self.assertEqual([(e.organization_id, e.method, e.purpose) for e in paged][:len(entries)],
                         [(e.organization_id, e.method, e.purpose) for e in entries])
        self.assertViolation(self.call("ListAccessLog", CR.ListAccessLogRequest(
            subject_id=sub.id, page_size=-1), self.insp), "page_size")

        # what one organization read (inspectors only)
        by_org = self.access_entries(self.insp, inspector_organization_id=self.p2.id)
        mine = [(method_name(e.method), e.purpose) for e in by_org if e.subject_id == sub.id]
        self.assertEqual(mine, [(m, p) for o, m, p in reads if o is self.p2])
        self.assertTrue(all(e.organization_id == self.p2.id for e in by_org), by_org)
        self.assertCode(self.call("ListAccessLog", CR.ListAccessLogRequest(
            inspector_organization_id=self.p2.id), self.p2), C.PERMISSION_DENIED)

        # a platform (not the subject, not an inspector) may not read the log
        for org in (self.p, self.p2):
            with self.subTest(reader=org):
                self.assertCode(self.call("ListAccessLog", CR.ListAccessLogRequest(
                    subject_id=sub.id), org), C.PERMISSION_DENIED)
        self.assertCode(self.call("ListAccessLog", CR.ListAccessLogRequest(), self.insp),
                        C.INVALID_ARGUMENT)

    def test_linked_organization_reads_its_records_and_access_log(self):
        a = self.org(APPRAISER, name="Shanxi Vehicle Appraisal Co")
        sub = self.org_subject(kind=cu.APPRAISER_ORG, linked=a)
        self.assertEqual((sub.kind, sub.uscc, sub.name, sub.organization_id, sub.registered_by),
                         (cu.APPRAISER_ORG, a.uscc, a.org.name, a.id, self.insp.id))
        pen = self.submit(self.insp, sub.id, cu.ADMINISTRATIVE_PENALTY, 2, occurred_on=day(-60),
                          summary="Appraisal report without an on-site inspection")
        note = self.submit(self.insp, sub.id, cu.CERTIFIED, 1, occurred_on=day(-5),
                           summary="Re-certified")
        # the organization the subject is: its records (no purpose needed) and its log
        recs = self.records(a, sub.id, purpose="")
        self.assertEqual(set(recs), {pen.id, note.id})
        self.assertEqual(recs[pen.id].status, cu.ACTIVE)
        only = self.records(a, sub.id, purpose="", category=cu.CERTIFIED)
        self.assertEqual(set(only), {note.id})
        window = self.records(a, sub.id, purpose="", from_on=day(-61), to_on=day(-59))
        self.assertEqual(set(window), {pen.id})
        self.assertEqual(set(self.records(a, sub.id, purpose="",
                                          source_organization_id=self.p.id)), set())
        log = self.access_entries(a, subject_id=sub.id)
        self.assertTrue(all(e.subject_id == sub.id for e in log), log)
        self.assertProfile(self.profile(a, sub.id, purpose=""), "B", 90, 2, 1, positive_count=1)
        # nobody else but inspectors
        for org in (self.p, self.p2):
            with self.subTest(reader=org):
                self.assertCode(self.list_records(org, sub.id, purpose=""), C.PERMISSION_DENIED)
                self.assertCode(self.call("ListAccessLog", CR.ListAccessLogRequest(
                    subject_id=sub.id), org), C.PERMISSION_DENIED)
        self.assertOK(self.call("ListAccessLog", CR.ListAccessLogRequest(subject_id=sub.id),
                                self.insp))
        # and the organization reads no other subject's log or records
        _, person_sub = self.seller_subject()
        self.assertCode(self.call("ListAccessLog", CR.ListAccessLogRequest(
            subject_id=person_sub.id), a), C.PERMISSION_DENIED)
        self.assertCode(self.list_records(a, person_sub.id), C.PERMISSION_DENIED)

    # -- disputes ------------------------------------------------------------------------------

    def test_dispute_withdrawn(self):
        _, sub = self.seller_subject()
        rec = self.submit(self.p, sub.id, cu.COUNTERFEIT, 3)
        self.assertProfile(self.profile(self.p, sub.id), "C", 70, 6, 1)
        r = self.file(self.p, rec.id, reason="The invoice shows a genuine part")
        d = self.assertOK(r).dispute
        self.assertTrue(d.id.startswith("dsp_"), d.id)
        self.assertEqual((d.record_id, d.subject_id, d.filed_by, d.reason),
                         (rec.id, sub.id, self.p.id, "The invoice shows a genuine part"))
        self.assertEqual((d.filed_on, d.due_on, d.overdue, d.outcome),
                         (day(0), day(cu.DISPUTE_DAYS), False, cu.OPEN))
        self.assertEqual((d.resolved_by, d.correction_record_id), ("", ""))
        # DISPUTED at once, still counting
        self.assertEqual(self.status_of(sub.id, rec.id), cu.DISPUTED)
        self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1, open_disputes=1)
        # one open dispute per record
        self.assertReason(self.file(self.p, rec.id), FP, "DISPUTE_OPEN")
        # a platform that may not submit about the seller may not dispute either
        self.assertCode(self.file(self.p2, rec.id), C.PERMISSION_DENIED)
        self.assertViolation(self.file(self.p, rec.id, reason=""), "reason")
        # resolved by an inspector or the record's source, nobody else
        self.assertCode(self.resolve(self.p2, d.id, cu.OUT_WITHDRAWN), C.PERMISSION_DENIED)
        self.assertViolation(self.resolve(self.insp, d.id, cu.OPEN), "outcome")
        res = self.assertOK(self.resolve(self.insp, d.id, cu.OUT_WITHDRAWN,
                                         note="the evidence does not hold"))
        self.assertEqual((res.dispute.id, res.dispute.outcome, res.dispute.resolved_by,
                          res.dispute.note, res.dispute.overdue),
                         (d.id, cu.OUT_WITHDRAWN, self.insp.id, "the evidence does not hold",
                          False))
        self.assertTrue(res.dispute.HasField("resolved_at"))
        self.assertFalse(res.HasField("correction"))
        self.assertEqual(self.status_of(sub.id, rec.id), cu.WITHDRAWN)
        self.assertProfile(self.profile(self.p2, sub.id), "A", 100, 0, 0)
        # a second resolution; a dispute of a withdrawn record
        self.assertReason(self.resolve(self.insp, d.id, cu.UPHELD), FP, "DISPUTE_RESOLVED")
        self.assertReason(self.resolve(self.p, d.id, cu.OUT_WITHDRAWN), FP, "DISPUTE_RESOLVED")
        self.assertCode(self.file(self.p, rec.id), FP)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_DISPUTE_FILED, sub.id), 1)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_DISPUTE_RESOLVED, sub.id), 1)
        self.assertCode(self.resolve(self.insp, "dsp_doesnotexist", cu.UPHELD), C.NOT_FOUND)
        self.assertCode(self.file(self.p, "rec_doesnotexist"), C.NOT_FOUND)

    def test_dispute_upheld_by_the_source_keeps_counting(self):
        _, sub = self.seller_subject()
        rec = self.submit(self.p, sub.id, cu.MISREPRESENTATION, 2)
        d = self.assertOK(self.file(self.p, rec.id)).dispute
        self.assertProfile(self.profile(self.p, sub.id), "B", 90, 2, 1, open_disputes=1)
        res = self.assertOK(self.resolve(self.p, d.id, cu.UPHELD, note="the record stands"))
        self.assertEqual((res.dispute.outcome, res.dispute.resolved_by), (cu.UPHELD, self.p.id))
        self.assertEqual(self.status_of(sub.id, rec.id), cu.ACTIVE)
        self.assertProfile(self.profile(self.p, sub.id), "B", 90, 2, 1, open_disputes=0)
        self.assertReason(self.resolve(self.insp, d.id, cu.OUT_WITHDRAWN), FP, "DISPUTE_RESOLVED")

    def test_dispute_corrected_supersedes_the_record(self):
        _, sub = self.seller_subject()
        rec = self.submit(self.p, sub.id, cu.COUNTERFEIT, 3)
        d = self.assertOK(self.file(self.p, rec.id)).dispute
        # the correction's own fields are checked, and only with CORRECTED
        self.assertViolation(self.resolve(self.insp, d.id, cu.CORRECTED), "correction")
        self.assertViolation(self.resolve(self.insp, d.id, cu.UPHELD,
                                          correction=cu.correction(cu.MISREPRESENTATION, 1)),
                             "correction")
        self.assertViolation(self.resolve(self.insp, d.id, cu.CORRECTED,
                                          correction=cu.correction(cu.MISREPRESENTATION, 0)),
                             "correction.severity")
        self.assertViolation(self.resolve(self.insp, d.id, cu.CORRECTED, correction=cu.correction(
            cu.MISREPRESENTATION, 1, occurred_on=day(1))), "correction.occurred_on")
        self.assertEqual(self.status_of(sub.id, rec.id), cu.DISPUTED)

        occurred = day(-20)
        res = self.assertOK(self.resolve(self.insp, d.id, cu.CORRECTED, note="not counterfeit",
                                         correction=cu.correction(
                                             cu.MISREPRESENTATION, 1, occurred_on=occurred,
                                             summary="Scratches not disclosed")))
        corr = res.correction
        self.assertTrue(corr.id.startswith("rec_"), corr.id)
        self.assertEqual((corr.subject_id, corr.category, corr.severity, corr.occurred_on,
                          corr.summary, corr.supersedes_record_id, corr.source_organization_id,
                          corr.status),
                         (sub.id, cu.MISREPRESENTATION, 1, occurred, "Scratches not disclosed",
                          rec.id, self.p.id, cu.ACTIVE))
        self.assertEqual((res.dispute.outcome, res.dispute.correction_record_id),
                         (cu.CORRECTED, corr.id))
        recs = self.records(self.insp, sub.id)
        self.assertEqual(recs[rec.id].status, cu.SUPERSEDED)
        self.assertEqual(recs[corr.id].status, cu.ACTIVE)
        # 1 point: B, 95
        self.assertProfile(self.profile(self.p, sub.id), "B", 95, 1, 1)
        self.assertReason(self.resolve(self.insp, d.id, cu.CORRECTED,
                                       correction=cu.correction(cu.MISREPRESENTATION, 2)),
                          FP, "DISPUTE_RESOLVED")
        # the superseded record cannot be disputed; the correction can
        self.assertCode(self.file(self.p, rec.id), FP)
        self.assertOK(self.file(self.p, corr.id))
        self.assertProfile(self.profile(self.p, sub.id), "B", 95, 1, 1, open_disputes=1)

    def test_linked_organization_disputes_a_record_about_itself(self):
        a = self.org(APPRAISER, name="Taiyuan Appraisal Co")
        sub = self.org_subject(kind=cu.APPRAISER_ORG, linked=a)
        rec = self.submit(self.insp, sub.id, cu.DATA_LEAK, 2)
        self.assertProfile(self.profile(a, sub.id, purpose=""), "B", 80, 4, 1)
        d = self.assertOK(self.file(a, rec.id, reason="The leak was another branch's")).dispute
        self.assertEqual(d.filed_by, a.id)
        self.assertEqual(self.records(a, sub.id, purpose="")[rec.id].status, cu.DISPUTED)
        self.assertProfile(self.profile(a, sub.id, purpose=""), "B", 80, 4, 1, open_disputes=1)
        # the subject does not resolve its own dispute
        self.assertCode(self.resolve(a, d.id, cu.OUT_WITHDRAWN), C.PERMISSION_DENIED)
        # other platforms may not dispute an appraiser's record
        self.assertCode(self.file(self.p, rec.id), C.PERMISSION_DENIED)
        self.assertOK(self.resolve(self.insp, d.id, cu.UPHELD))
        self.assertProfile(self.profile(a, sub.id, purpose=""), "B", 80, 4, 1)

    def test_list_disputes_and_overdue(self):
        _, sub = self.seller_subject()
        r1, r2, r3 = (self.submit(self.p, sub.id, cu.CONTRACT_BREACH, 1) for _ in range(3))
        d1 = self.assertOK(self.file(self.p, r1.id)).dispute
        listed = {d.id: d for d in self.list_disputes(self.insp)}
        self.assertIn(d1.id, listed)
        self.assertEqual((listed[d1.id].outcome, listed[d1.id].overdue), (cu.OPEN, False))
        # fresh disputes are never overdue
        self.assertEqual([d.id for d in self.list_disputes(self.insp, overdue_only=True)], [])
        # the filer (also the source) sees it; another platform does not
        self.assertIn(d1.id, {d.id for d in self.list_disputes(self.p)})
        self.assertNotIn(d1.id, {d.id for d in self.list_disputes(self.p2)})

        # disputes filed 21 and 20 days ago (written by SQL: the registry's
        # clock cannot be turned back): due on filed_on + 20, overdue after it
        for did, rec, ago in (("dsp_sqlfiled21", r2, 21), ("dsp_sqlfiled20", r3, 20)):
            self.server.db.query(
                "INSERT INTO credit_disputes (id, record_id, subject_id, filed_by, reason, "
                "filed_on, event_id, filed_at) VALUES ('%s', '%s', '%s', '%s', 'filed long ago', "
                "'%s', 'evt_%s', now() - interval '%d days') RETURNING id"
                % (did, rec.id, sub.id, self.p.id, day(-ago), did, ago))
        overdue = self.list_disputes(self.insp, overdue_only=True)
        self.assertEqual([d.id for d in overdue], ["dsp_sqlfiled21"])
        self.assertEqual((overdue[0].filed_on, overdue[0].due_on, overdue[0].overdue),
                         (day(-21), day(-1), True))
        every = {d.id: d for d in self.list_disputes(self.insp)}
        self.assertEqual((every["dsp_sqlfiled20"].due_on, every["dsp_sqlfiled20"].overdue),
                         (day(0), False))
        self.assertTrue(every["dsp_sqlfiled21"].overdue)
        # page by page: the same disputes, oldest first
        paged, token = [], ""
        while True:
            r = self.assertOK(self.call("ListDisputes", CR.ListDisputesRequest(
                page_size=1, page_token=token), self.insp))
            self.assertLessEqual(len(r.disputes), 1)
            paged.extend(d.id for d in r.disputes)
            token = r.next_page_token
            if not token:
                break
        self.assertEqual(sorted(paged), sorted(every))
        self.assertEqual(paged[:2], ["dsp_sqlfiled21", "dsp_sqlfiled20"])
        # a resolved overdue dispute is no longer overdue
        self.assertOK(self.resolve(self.insp, "dsp_sqlfiled21", cu.UPHELD))
        self.assertEqual([d.id for d in self.list_disputes(self.insp, overdue_only=True)], [])
        # a page token belongs to its filters
        first = self.assertOK(self.call("ListDisputes", CR.ListDisputesRequest(page_size=1),
                                        self.insp))
        self.assertTrue(first.next_page_token)
        self.assertViolation(self.call("ListDisputes", CR.ListDisputesRequest(
            page_size=1, overdue_only=True, page_token=first.next_page_token), self.insp),
            "page_token")

    # -- SubmitRecord's fields -------------------------------------------------------------

    def test_submit_record_bad_fields_are_named(self):
        _, sub = self.seller_subject()
        request_id = rid()

        def req(**kw):
            base = dict(subject_id=sub.id, category=cu.MISREPRESENTATION, severity=2,
                        occurred_on=day(-30), ended_on="", summary="Undisclosed water damage",
                        evidence=[bytes(32)])
            base.update(kw)
            return cu.record_req(request_id=request_id, **base)

        cases = [
            ("severity", req(severity=0)),
            ("severity", req(severity=6)),
            ("severity", req(severity=-1)),
            ("category", req(category=0)),
            ("category", req(category=99)),
            ("occurred_on", req(occurred_on=day(1))),
            ("occurred_on", req(occurred_on="2024-02-30")),
            ("occurred_on", req(occurred_on="2024/01/01")),
            ("ended_on", req(occurred_on=day(-30), ended_on=day(-31))),
            ("ended_on", req(ended_on=day(1))),
            ("summary", req(summary="")),
            ("summary", req(summary="   ")),
            ("summary", req(summary="x" * 501)),
            ("evidence_sha256", req(evidence=[bytes(31)])),
            ("evidence_sha256", req(evidence=[bytes(32), bytes(33)])),
            ("evidence_sha256", req(evidence=[bytes(32)] * 21)),
            ("subject_id", req(subject_id="")),
        ]
        n = self.records_of(sub.id)
        for field, bad in cases:
            with self.subTest(field=field, request=str(bad).replace("\n", " ")[:200]):
                self.assertViolation(self.call("SubmitRecord", bad, self.p), field,
                                     prefix=field == "evidence_sha256")
        self.assertEqual(self.records_of(sub.id), n)
        self.assertEqual(self.count("SELECT count(*) FROM request_ids WHERE request_id = '%s'"
                                    % request_id), 0)
        # the same request_id now works; the edges are accepted
        rec = self.ok("SubmitRecord", req(occurred_on=day(0), ended_on=day(0),
                                          summary="y" * 500, evidence=[]), self.p).record
        self.assertEqual((rec.occurred_on, rec.ended_on, list(rec.evidence_sha256)),
                         (day(0), day(0), []))
        self.assertCode(self.call("SubmitRecord", cu.record_req("sub_doesnotexist",
                                                                cu.COUNTERFEIT, 1), self.insp),
                        C.NOT_FOUND)

    def test_submit_record_replay(self):
        person, sub = self.seller_subject()
        req = cu.record_req(sub.id, cu.MISREPRESENTATION, 2, summary="Mileage not disclosed")
        first = self.ok("SubmitRecord", req, self.p).record
        again = self.ok("SubmitRecord", req, self.p).record
        self.assertEqual(again, first)
        self.assertEqual(self.records_of(sub.id), 1)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_RECORD_SUBMITTED, sub.id), 1)
        self.assertProfile(self.profile(self.p, sub.id), "B", 90, 2, 1)
        other = CR.SubmitRecordRequest()
        other.CopyFrom(req)
        other.severity = 3
        self.assertReason(self.call("SubmitRecord", other, self.p), C.ALREADY_EXISTS,
                          "REQUEST_ID_REUSED")
        self.assertEqual(self.records_of(sub.id), 1)
        # RegisterSubject replays too
        rreq = cu.person_subject_req(lu.person())
        s1 = self.ok("RegisterSubject", rreq, self.p)
        s2 = self.ok("RegisterSubject", rreq, self.p)
        self.assertEqual((s2.subject.id, s2.created), (s1.subject.id, True))

    # -- expiry -----------------------------------------------------------------------------------

    def test_negative_records_expire_on_the_fifth_anniversary_of_their_end(self):
        a = self.org(APPRAISER, name="Expiry Appraisal Co")
        sub = self.org_subject(kind=cu.APPRAISER_ORG, linked=a)
        today = harness.today_cst()
        ended_5y = cu.years_back(5, today)                 # the anniversary is today (or past)
        still = cu.latest_counting_end(5, today)           # one day short of five years
        self.assertLessEqual(cu.anniversary(ended_5y, 5), today)
        self.assertGreater(cu.anniversary(still, 5), today)
        self.assertLessEqual((still - ended_5y).days, 2)
        occurred_5y = cu.years_back(5, today)
        expired = self.submit(self.insp, sub.id, cu.COUNTERFEIT, 5,
                              occurred_on=cu.iso(ended_5y - datetime.timedelta(days=100)),
                              ended_on=cu.iso(ended_5y), summary="Counterfeit parts, 5 years ago")
        counting = self.submit(self.insp, sub.id, cu.MISREPRESENTATION, 2,
                               occurred_on=cu.iso(still - datetime.timedelta(days=100)),
                               ended_on=cu.iso(still), summary="Misrepresentation, not yet 5 years")
        no_end = self.submit(self.insp, sub.id, cu.CONTRACT_BREACH, 4,
                             occurred_on=cu.iso(occurred_5y), summary="No end given: by occurred_on")
        positive = self.submit(self.insp, sub.id, cu.AWARD, 1, occurred_on=cu.iso(occurred_5y),
                               summary="An award long ago")
        self.assertEqual(expired.expires_on, cu.iso(cu.anniversary(ended_5y, 5)))
        self.assertEqual(counting.expires_on, cu.iso(cu.anniversary(still, 5)))
        self.assertEqual(no_end.expires_on, cu.iso(cu.anniversary(occurred_5y, 5)))

        # inspectors see every record, the expired ones marked EXPIRED
        all_recs = self.records(self.insp, sub.id, purpose="")
        self.assertEqual({k: v.status for k, v in all_recs.items()},
                         {expired.id: cu.EXPIRED, counting.id: cu.ACTIVE, no_end.id: cu.EXPIRED,
                          positive.id: cu.ACTIVE})
        # the organization the subject is does not see them
        mine = self.records(a, sub.id, purpose="")
        self.assertEqual(set(mine), {counting.id, positive.id})
        self.assertEqual(mine[counting.id].status, cu.ACTIVE)
        # only the one short of five years counts: 2 points, B 90
        prof = self.profile(a, sub.id, purpose="")
        self.assertProfile(prof, "B", 90, 2, 1, positive_count=1)
        self.assertEqual(self.profile(self.p2, sub.id, purpose="").grade, CR.GRADE_B)
        # an expired record is kept (append-only), not deleted
        self.assertEqual(self.records_of(sub.id), 4)

    def test_expiry_of_a_person_seen_by_an_inspector(self):
        _, sub = self.seller_subject()
        ended = cu.years_back(5)
        old = self.submit(self.p, sub.id, cu.ODOMETER_FRAUD, 5,
                          occurred_on=cu.iso(ended - datetime.timedelta(days=400)),
                          ended_on=cu.iso(ended))
        self.assertProfile(self.profile(self.p, sub.id), "A", 100, 0, 0)
        self.assertEqual(self.records(self.insp, sub.id)[old.id].status, cu.EXPIRED)

    # -- the profile cache (the shared Redis stays up) ---------------------------------------

    def test_profile_reflects_every_change_at_once(self):
        _, sub = self.seller_subject()
        self.submit(self.p, sub.id, cu.MISREPRESENTATION, 2)
        for _ in range(2):  # the second read may come from the cache
            self.assertProfile(self.profile(self.p2, sub.id), "B", 90, 2, 1)
        rec = self.submit(self.p, sub.id, cu.COMPLAINT_UPHELD, 3)
        self.assertProfile(self.profile(self.p2, sub.id), "C", 75, 5, 2)
        self.assertProfile(self.profile(self.p2, sub.id), "C", 75, 5, 2)
        d = self.assertOK(self.file(self.p, rec.id)).dispute
        self.assertProfile(self.profile(self.p2, sub.id), "C", 75, 5, 2, open_disputes=1)
        self.assertOK(self.resolve(self.insp, d.id, cu.OUT_WITHDRAWN))
        self.assertProfile(self.profile(self.p2, sub.id), "B", 90, 2, 1)
        self.assertOK(self.place(self.insp, sub.id))
        self.assertProfile(self.profile(self.p2, sub.id), "D", 90, 2, 1, on_list=True)
        # an organization's profile (served without PostgreSQL when cached)
        org_sub = self.org_subject(kind=cu.SELLER_BUSINESS, name="Cache Test Ltd")
        for _ in range(2):
            self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "A", 100, 0, 0)
        self.submit(self.insp, org_sub.id, cu.COUNTERFEIT, 1)
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "B", 90, 2, 1)
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "B", 90, 2, 1)
        # a hit is served from the cache: a record written behind the
        # registry's back (no generation bump) is not seen until the next
        # change through the API
        self.server.db.query(
            "INSERT INTO credit_records (id, subject_id, category, severity, occurred_on, "
            "summary, source_organization_id, event_id, created_at) VALUES "
            "('rec_behind_the_back', '%s', %d, 5, current_date, 'x', 'org', 'evt_x', now())"
            % (org_sub.id, cu.COUNTERFEIT))
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "B", 90, 2, 1)
        self.submit(self.insp, org_sub.id, cu.NOTE, 1)
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "D", 40, 12, 2)
        # a person's cached profile read still writes the access log
        n = self.count("SELECT count(*) FROM access_log WHERE subject_id = '%s'" % sub.id)
        self.profile(self.p2, sub.id)
        self.profile(self.p2, sub.id)
        self.assertEqual(self.count("SELECT count(*) FROM access_log WHERE subject_id = '%s'"
                                    % sub.id), n + 2)


# ---------------------------------------------------------------------------------------
# The serious-dishonesty list
# ---------------------------------------------------------------------------------------


class DishonestyListTest(CreditCase):

    def test_placed_seller_is_graded_d_and_blocked_on_every_platform(self):
        person, sub = self.seller_subject()
        self.assertProfile(self.profile(self.p2, sub.id), "A", 100, 0, 0)
        r = self.place(self.insp, sub.id, listed_on=day(0))
        e = self.assertOK(r).entry
        today = harness.today_cst()
        self.assertEqual((e.subject_id, e.listed_on, e.ends_on, e.active, e.listed_by,
                          e.removed_on),
                         (sub.id, day(0), cu.iso(cu.anniversary(today, 3)), True, self.insp.id, ""))
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_DISHONESTY_LISTED, sub.id), 1)
        prof = self.profile(self.p2, sub.id)
        self.assertProfile(prof, "D", 100, 0, 0, on_list=True)

        # no new listing by that seller, on any platform
        for platform in (self.p, self.p2):
            with self.subTest(platform=platform):
                item, r = self.create_listing(platform, person)
                self.assertReason(r, FP, "SELLER_BLACKLISTED")
                self.assertEqual(self.count("SELECT count(*) FROM listings WHERE item_id = '%s'"
                                            % item.id), 0)
        # another seller is not blocked
        _, ok = self.create_listing(self.p2, lu.person())
        self.assertOK(ok)

        # placed twice; removed before the first anniversary
        self.assertReason(self.place(self.insp, sub.id), FP, "ALREADY_ON_LIST")
        d = self.assertReason(self.remove(self.insp, sub.id), FP, "REMOVAL_TOO_EARLY")
        self.assertEqual(dict(d.error_info.metadata).get("removable_on"),
                         cu.iso(cu.anniversary(today, 1)), d.error_info)
        self.assertProfile(self.profile(self.p2, sub.id), "D", 100, 0, 0, on_list=True)
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_DISHONESTY_REMOVED, sub.id), 0)

    def test_business_seller_blocked_by_uscc(self):
        uscc = self.server.uscc()
        party = lu.business_party(uscc, "Pingding Used Cars Ltd")
        self.list_seller(self.p, party)
        sub = self.ok("RegisterSubject", cu.org_subject_req(
            uscc, "Pingding Used Cars Ltd", cu.SELLER_BUSINESS), self.p).subject
        self.assertOK(self.place(self.insp, sub.id))
        self.assertProfile(self.profile(self.p, sub.id, purpose=""), "D", 100, 0, 0, on_list=True)
        _, r = self.create_listing(self.p2, party)
        self.assertReason(r, FP, "SELLER_BLACKLISTED")

    def test_removal_after_the_first_anniversary(self):
        person, sub = self.seller_subject()
        self.submit(self.p, sub.id, cu.MISREPRESENTATION, 1)
        listed = cu.months_back(13)
        e = self.assertOK(self.place(self.insp, sub.id, listed_on=cu.iso(listed))).entry
        self.assertEqual((e.listed_on, e.ends_on, e.active),
                         (cu.iso(listed), cu.iso(cu.anniversary(listed, 3)), True))
        self.assertProfile(self.profile(self.p, sub.id), "D", 95, 1, 1, on_list=True)
        _, r = self.create_listing(self.p, person)
        self.assertReason(r, FP, "SELLER_BLACKLISTED")
        gone = self.assertOK(self.remove(self.insp, sub.id, reason="credit repair completed")).entry
        self.assertEqual((gone.subject_id, gone.listed_on, gone.removed_on, gone.removed_reason,
                          gone.active),
                         (sub.id, cu.iso(listed), day(0), "credit repair completed", False))
        self.assertEqual(self.events(log_pb2.EVENT_TYPE_DISHONESTY_REMOVED, sub.id), 1)
        # no longer D: the grade of its records again
        self.assertProfile(self.profile(self.p, sub.id), "B", 95, 1, 1, on_list=False)
        _, r = self.create_listing(self.p, person)
        self.assertOK(r)
        self.assertReason(self.remove(self.insp, sub.id), FP, "NOT_ON_LIST")

    def test_listed_on_limits(self):
        today = harness.today_cst()
        three = cu.years_back(3, today)
        # an entry whose third anniversary is today or past would already have
        # ended: refused, naming listed_on
        for label, listed in (("exactly 3 years ago", three),
                              ("3 years and a month ago", three - datetime.timedelta(days=31)),
                              ("5 years ago", cu.years_back(5, today))):
            with self.subTest(listed_on=label):
                _, sub = self.seller_subject()
                self.assertLessEqual(cu.anniversary(listed, 3), today)
                self.assertViolation(self.place(self.insp, sub.id, listed_on=cu.iso(listed)),
                                     "listed_on")
                self.assertFalse(self.profile(self.p, sub.id).on_dishonesty_list)
        # one day short of three years: in force until tomorrow, removable
        _, sub = self.seller_subject()
        last = cu.latest_counting_end(3, today)
        e = self.assertOK(self.place(self.insp, sub.id, listed_on=cu.iso(last))).entry
        self.assertEqual((e.active, e.ends_on), (True, cu.iso(cu.anniversary(last, 3))))
        self.assertTrue(self.profile(self.p, sub.id).on_dishonesty_list)
        self.assertOK(self.remove(self.insp, sub.id))
        # other bad fields
        _, sub = self.seller_subject()
        self.assertViolation(self.place(self.insp, sub.id, listed_on=day(1)), "listed_on")
        self.assertViolation(self.place(self.insp, sub.id, listed_on="2025-13-01"), "listed_on")
        self.assertViolation(self.place(self.insp, sub.id, reason=""), "reason")
        self.assertViolation(self.place(self.insp, sub.id, decision_ref=""), "decision_ref")
        self.assertCode(self.place(self.insp, "sub_doesnotexist"), C.NOT_FOUND)
        self.assertReason(self.remove(self.insp, sub.id), FP, "NOT_ON_LIST")
        self.assertFalse(self.profile(self.p, sub.id).on_dishonesty_list)

    def test_only_inspectors_keep_the_list(self):
        _, sub = self.seller_subject()
        for org in (self.p, self.p2):
            with self.subTest(caller=org):
                self.assertCode(self.place(org, sub.id), C.PERMISSION_DENIED)
        self.assertFalse(self.profile(self.p, sub.id).on_dishonesty_list)
        self.assertOK(self.place(self.insp, sub.id))
        self.assertCode(self.remove(self.p, sub.id), C.PERMISSION_DENIED)
        self.assertCode(self.server.call("PlaceOnDishonestyList", CR.PlaceOnDishonestyListRequest(
            request_id=rid(), subject_id=sub.id, reason="x", decision_ref="y")),
            C.UNAUTHENTICATED)


# ---------------------------------------------------------------------------------------
# The profile with Redis stopped (a private redis-server: the shared one stays up)
# ---------------------------------------------------------------------------------------


class ProfileWithoutRedisTest(CreditCase):

    @classmethod
    def setUpClass(cls):
        cls.redis = cu.PrivateRedis()
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.server = harness.Server(extra_args=cls.server_args)
        cls.server.redis = cls.redis.addr
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.setUpOrgs()

    def redis_up(self):
        return harness.metric(self.server.metrics(), "registry_redis_up")

    def test_profile_answers_with_redis_stopped_and_after(self):
        s = self.server
        _, sub = self.seller_subject()
        org_sub = self.org_subject(kind=cu.SELLER_BUSINESS, name="Redis Outage Ltd")
        self.submit(self.p, sub.id, cu.COUNTERFEIT, 3)
        self.submit(self.insp, org_sub.id, cu.MISREPRESENTATION, 2)
        for _ in range(2):
            self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1)
            self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "B", 90, 2, 1)
        # the profiles are cached in this Redis (README "The profile cache")
        self.assertEqual(self.redis.cmd("EXISTS", "credit:{%s}" % sub.id), "1")
        self.assertEqual(self.redis.cmd("EXISTS", "credit:{%s}" % org_sub.id), "1")
        self.assertEqual(self.redis_up(), 1.0)

        self.redis.stop()
        self.addCleanup(lambda: self.redis.proc is None and self.redis.start())
        self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1)
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "B", 90, 2, 1)
        # changes with Redis down show at once
        rec = self.submit(self.p, sub.id, cu.MISREPRESENTATION, 1)
        self.submit(self.insp, org_sub.id, cu.CONTRACT_BREACH, 3)
        self.assertProfile(self.profile(self.p2, sub.id), "C", 65, 7, 2)
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "C", 75, 5, 2)
        d = self.assertOK(self.file(self.p, rec.id)).dispute
        self.assertProfile(self.profile(self.p2, sub.id), "C", 65, 7, 2, open_disputes=1)
        self.assertTrue(harness.eventually(lambda: self.redis_up() == 0.0, timeout=10),
                        "registry_redis_up with Redis down: %r" % (self.redis_up(),))
        self.assertTrue(s.alive(), s.log_tail())

        # Redis back (empty): still right, cached again, changes still at once
        self.redis.start()
        self.assertTrue(harness.eventually(lambda: self.redis_up() == 1.0, timeout=20),
                        "registry_redis_up after Redis came back: %r" % (self.redis_up(),))
        for _ in range(2):
            self.assertProfile(self.profile(self.p2, sub.id), "C", 65, 7, 2, open_disputes=1)
            self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "C", 75, 5, 2)
        def cached_again():
            self.profile(self.p2, org_sub.id, purpose="")
            return self.redis.cmd("EXISTS", "credit:{%s}" % org_sub.id) == "1"

        self.assertTrue(harness.eventually(cached_again, timeout=10),
                        "the profile is cached again once Redis is back")
        self.assertOK(self.resolve(self.insp, d.id, cu.OUT_WITHDRAWN))
        self.assertProfile(self.profile(self.p2, sub.id), "C", 70, 6, 1)
        self.submit(self.insp, org_sub.id, cu.COMPLAINT_UPHELD, 5)
        self.assertProfile(self.profile(self.p2, org_sub.id, purpose=""), "D", 50, 10, 3)


if __name__ == "__main__":
    import unittest
    unittest.main()
