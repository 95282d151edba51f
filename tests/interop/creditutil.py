"""Helpers for the CreditService tests (tests/interop/test_credit.py): the
CreditService methods in harness.METHODS (the ListingService ones come with
listingutil), the calendar of SPEC §6 written here independently of the
server (N-year anniversaries, 29 February → 28 February; all in
Asia/Shanghai), the grade rule of SPEC §6 with its default weights, request
builders, and a private redis-server for the tests that stop Redis without
disturbing the shared one."""

import datetime
import os
import shutil
import subprocess
import tempfile
import time

import harness
import listingutil as lu  # noqa: F401  (registers the ListingService methods)
from harness import METHODS, rid
from registry.v1 import credit_pb2

CR = credit_pb2
CREDIT = "/registry.v1.CreditService/"
for _name in ("RegisterSubject", "GetSubject", "SubmitRecord", "GetCreditProfile",
              "ListRecords", "ListAccessLog", "FileDispute", "ResolveDispute", "ListDisputes",
              "PlaceOnDishonestyList", "RemoveFromDishonestyList"):
    METHODS[_name] = (CREDIT + _name, getattr(credit_pb2, _name + "Request"),
                      getattr(credit_pb2, _name + "Response"))

# subject kinds
SELLER_PERSON = CR.SUBJECT_KIND_SELLER_PERSON
SELLER_BUSINESS = CR.SUBJECT_KIND_SELLER_BUSINESS
PLATFORM_SUBJECT = CR.SUBJECT_KIND_PLATFORM
APPRAISER_ORG = CR.SUBJECT_KIND_APPRAISER_ORG
APPRAISER_PERSON = CR.SUBJECT_KIND_APPRAISER_PERSON

# categories
TRADE_COMPLETED = CR.RECORD_CATEGORY_TRADE_COMPLETED
CERTIFIED = CR.RECORD_CATEGORY_CERTIFIED
AWARD = CR.RECORD_CATEGORY_AWARD
COMPLAINT_UPHELD = CR.RECORD_CATEGORY_COMPLAINT_UPHELD
MISREPRESENTATION = CR.RECORD_CATEGORY_MISREPRESENTATION
COUNTERFEIT = CR.RECORD_CATEGORY_COUNTERFEIT
DATA_LEAK = CR.RECORD_CATEGORY_DATA_LEAK
WIPE_FAILURE_CONCEALED = CR.RECORD_CATEGORY_WIPE_FAILURE_CONCEALED
ODOMETER_FRAUD = CR.RECORD_CATEGORY_ODOMETER_FRAUD
CONTRACT_BREACH = CR.RECORD_CATEGORY_CONTRACT_BREACH
ADMINISTRATIVE_PENALTY = CR.RECORD_CATEGORY_ADMINISTRATIVE_PENALTY
NOTE = CR.RECORD_CATEGORY_NOTE

POSITIVE = {TRADE_COMPLETED, CERTIFIED, AWARD}
NEGATIVE = {COMPLAINT_UPHELD, MISREPRESENTATION, COUNTERFEIT, DATA_LEAK, WIPE_FAILURE_CONCEALED,
            ODOMETER_FRAUD, CONTRACT_BREACH, ADMINISTRATIVE_PENALTY}
DOUBLED = {COUNTERFEIT, DATA_LEAK, WIPE_FAILURE_CONCEALED, ODOMETER_FRAUD}

# record statuses
ACTIVE = CR.RECORD_STATUS_ACTIVE
DISPUTED = CR.RECORD_STATUS_DISPUTED
SUPERSEDED = CR.RECORD_STATUS_SUPERSEDED
WITHDRAWN = CR.RECORD_STATUS_WITHDRAWN
EXPIRED = CR.RECORD_STATUS_EXPIRED

# dispute outcomes
OPEN = CR.DISPUTE_OUTCOME_UNSPECIFIED
UPHELD = CR.DISPUTE_OUTCOME_UPHELD
CORRECTED = CR.DISPUTE_OUTCOME_CORRECTED
OUT_WITHDRAWN = CR.DISPUTE_OUTCOME_WITHDRAWN

GRADE = {CR.GRADE_A: "A", CR.GRADE_B: "B", CR.GRADE_C: "C", CR.GRADE_D: "D"}
GRADE_OF = {v: k for k, v in GRADE.items()}

DISPUTE_DAYS = 20

# -- the calendar (SPEC §3, §6) ----------------------------------------------------------


def D(s):
    return datetime.date.fromisoformat(s)


def anniversary(d, years):
    """The `years`-th anniversary of date d; that of 29 February is 28
    February."""
    if isinstance(d, str):
        d = D(d)
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def years_back(years, today=None):
    """Today (CST) minus `years` calendar years (28 February for a 29
    February source) → date."""
    t = today or harness.today_cst()
    try:
        return t.replace(year=t.year - years)
    except ValueError:
        return t.replace(year=t.year - years, day=28)


def months_back(months, today=None):
    """Today (CST) minus `months` calendar months (the day clamped to the
    month's length) → date."""
    t = today or harness.today_cst()
    m = t.year * 12 + (t.month - 1) - months
    y, mo = m // 12, m % 12 + 1
    for dd in (t.day, 30, 29, 28):
        try:
            return datetime.date(y, mo, dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def latest_counting_end(years, today=None):
    """The earliest date whose `years`-th anniversary is after today, from
    (today − years) + 1 day: a record that ended then still counts today
    (one day short of five years, as close to the edge as the calendar
    allows)."""
    t = today or harness.today_cst()
    d = years_back(years, t) + datetime.timedelta(days=1)
    while anniversary(d, years) <= t:
        d += datetime.timedelta(days=1)
    return d


def iso(d):
    return d.isoformat()


# -- the grade (SPEC §6, default weights) -----------------------------------------------


def points_of(counting):
    """counting: (category, severity) of the counting negative records."""
    return sum(sev * (2 if cat in DOUBLED else 1) for cat, sev in counting if cat in NEGATIVE)


def grade_of(points, on_list=False):
    """(grade letter, score)."""
    if on_list or points >= 10:
        g = "D"
    elif points >= 5:
        g = "C"
    elif points >= 1:
        g = "B"
    else:
        g = "A"
    return g, max(0, 100 - 5 * points)


# -- builders -----------------------------------------------------------------------------


def person_subject_req(person, kind=SELLER_PERSON, request_id=None):
    """RegisterSubjectRequest for a Person message."""
    return CR.RegisterSubjectRequest(request_id=request_id or rid(), kind=kind, name=person.name,
                                     id_number=person.id_number)


def org_subject_req(uscc, name, kind, organization_id="", request_id=None):
    return CR.RegisterSubjectRequest(request_id=request_id or rid(), kind=kind, name=name,
                                     uscc=uscc, organization_id=organization_id)


def record_req(subject_id, category, severity, occurred_on=None, ended_on="",
               summary="Sold a refurbished phone as new", evidence=None, supersedes="",
               request_id=None):
    return CR.SubmitRecordRequest(
        request_id=request_id or rid(), subject_id=subject_id, category=category,
        severity=severity, occurred_on=occurred_on or harness.day(-30), ended_on=ended_on,
        summary=summary,
        evidence_sha256=list(evidence) if evidence is not None else [bytes(range(32))],
        supersedes_record_id=supersedes)


def correction(category, severity, occurred_on=None, ended_on="", summary="Corrected finding"):
    return CR.RecordCorrection(category=category, severity=severity,
                               occurred_on=occurred_on or harness.day(-30), ended_on=ended_on,
                               summary=summary)


# -- a private Redis ----------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free loopback port (no
    persistence), so that stopping it disturbs no other test."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        self.cli = shutil.which("redis-cli")
        if not self.binary or not self.cli:
            import unittest
            raise unittest.SkipTest("redis-server / redis-cli not installed")
        self.port = harness.free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.dir = tempfile.mkdtemp(prefix="it-redis-", dir=harness.var_dir())
        self.proc = None

    def start(self):
        cmd = harness._pdeathsig() + [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"]
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = harness._track(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                    stdin=subprocess.DEVNULL))
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("private redis-server did not start on %s" % self.addr)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cmd(self, *args):
        r = subprocess.run([self.cli, "-h", "127.0.0.1", "-p", str(self.port)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None

    def ping(self):
        return self.cmd("ping") == "PONG"
