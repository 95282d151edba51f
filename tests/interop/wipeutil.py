"""Helpers for the WipeService tests (tests/interop/test_wipe.py): the
WipeService methods in harness.METHODS (the LogService ones come with
logutil), SubmitWipe request builders, the signing keys as
LogService.ListSigningKeys lists them, and an independent certificate
check with python3-nacl (SPEC §4.3: Ed25519 over
"registry.v1.WipeCertificate\\n" ‖ body)."""

import os
import subprocess
import time

import nacl.signing  # Debian's python3-nacl
from google.protobuf import timestamp_pb2

import harness
import listingutil as lu
import logutil  # noqa: F401  (registers the LogService methods)
from harness import METHODS, OK, rid
from registry.v1 import log_pb2, org_pb2, wipe_pb2

W = wipe_pb2
WIPE = "/registry.v1.WipeService/"
for _name in ("SubmitWipe", "GetCertificate", "ListCertificates", "VerifyCertificate",
              "RevokeCertificate"):
    METHODS[_name] = (WIPE + _name, getattr(wipe_pb2, _name + "Request"),
                      getattr(wipe_pb2, _name + "Response"))

CONTEXT = b"registry.v1.WipeCertificate\n"
DATA_WIPE = org_pb2.QUALIFICATION_KIND_DATA_WIPE
CERT_PURPOSE = log_pb2.KEY_PURPOSE_CERTIFICATE

GiB = 1 << 30


# -- request builders ----------------------------------------------------------------


def at(seconds_ago):
    """A whole-second Timestamp `seconds_ago` seconds before now."""
    return timestamp_pb2.Timestamp(seconds=int(time.time()) - seconds_ago)


def phone_device(imei=None, serial_no=None, **kw):
    base = dict(category=lu.L.ELECTRONIC_CATEGORY_PHONE, brand="Xiaomi", model="13 Pro",
                imei=lu.make_imei() if imei is None else imei,
                serial_no=lu.make_serial() if serial_no is None else serial_no)
    base.update(kw)
    return W.Device(**base)


def computer_device(serial_no=None, **kw):
    base = dict(category=lu.L.ELECTRONIC_CATEGORY_COMPUTER, brand="Lenovo",
                model="ThinkPad X1 Carbon",
                serial_no=lu.make_serial() if serial_no is None else serial_no)
    base.update(kw)
    return W.Device(**base)


def medium(mtype=W.MEDIA_TYPE_FLASH, capacity=256 * GiB, serial_no=None):
    return W.Medium(type=mtype, capacity_bytes=capacity,
                    serial_no=("M" + lu.make_serial()) if serial_no is None else serial_no)


def wipe_req(device=None, media=None, **kw):
    """A SubmitWipeRequest that earns a certificate unless `kw` says
    otherwise: a phone's flash crypto-erased, fully verified, SUCCESS."""
    base = dict(request_id=rid(), device=device or phone_device(),
                media=media if media is not None else [medium()],
                method=W.WIPE_METHOD_PURGE, technique=W.WIPE_TECHNIQUE_CRYPTO_ERASE, passes=0,
                random_pass=False, verification=W.VERIFICATION_FULL, verified_percent=100,
                tool_name="Blancco Mobile Diagnostics", tool_version="7.2.1",
                operator_name="王建国", started_at=at(3600), finished_at=at(1800),
                performed_at=at(1800), destination=W.DESTINATION_RESALE,
                result=W.WIPE_RESULT_SUCCESS)
    base.update(kw)
    return W.SubmitWipeRequest(**base)


def hdd_req(**kw):
    """A laptop HDD overwritten 3 times with a random pass: a certificate."""
    base = dict(device=computer_device(), media=[medium(W.MEDIA_TYPE_HDD, 500 * GiB)],
                method=W.WIPE_METHOD_CLEAR, technique=W.WIPE_TECHNIQUE_OVERWRITE, passes=3,
                random_pass=True, tool_name="nwipe", tool_version="0.34",
                destination=W.DESTINATION_RESALE)
    base.update(kw)
    return wipe_req(**base)


# -- organizations -----------------------------------------------------------------------


def make_wiper(server, name=None, qualified=True, roles=(lu.WIPER,)):
    org = lu.make_org(server, roles, name=name)
    if qualified:
        lu.set_qualification(server, org.id, kind=DATA_WIPE, certificate_no="DW-%s" % org.id[-6:])
    return org


# -- keys and signatures -------------------------------------------------------------------


def signing_keys(server):
    """ListSigningKeys, called without an API key → [SigningKey]."""
    r = server.call("ListSigningKeys")
    if r.code != OK:
        raise AssertionError("ListSigningKeys failed: %r" % (r,))
    return list(r.response.keys)


def cert_keys(server):
    return [k for k in signing_keys(server) if k.purpose == CERT_PURPOSE]


def cert_key(server, key_id):
    """The CERTIFICATE key with `key_id` (exactly one)."""
    ks = [k for k in cert_keys(server) if k.key_id == key_id]
    if len(ks) != 1:
        raise AssertionError("no single CERTIFICATE key %s among %r" % (key_id, cert_keys(server)))
    return ks[0]


def current_cert_key(server):
    ks = [k for k in cert_keys(server) if not k.HasField("valid_until")]
    if len(ks) != 1:
        raise AssertionError("not one current CERTIFICATE key: %r" % (ks,))
    return ks[0]


def nacl_verify(public_key, cert):
    """Raises nacl.exceptions.BadSignatureError unless cert.signature is
    Ed25519 over CONTEXT ‖ cert.body under public_key."""
    nacl.signing.VerifyKey(bytes(public_key)).verify(CONTEXT + cert.body, cert.signature)


def flip_in(data, needle, offset=0):
    """`data` with one bit of the byte at data.index(needle) + offset
    flipped (a printable ASCII byte stays printable ASCII)."""
    b = bytearray(data)
    i = b.index(needle) + offset
    b[i] ^= 1
    return bytes(b)


def tampered(cert, needle):
    c = W.Certificate()
    c.CopyFrom(cert)
    c.body = flip_in(cert.body, needle)
    return c


# -- registry-verify -----------------------------------------------------------------------


def verifier():
    return os.path.join(os.path.dirname(harness.registryd_path()), "registry-verify")


def run_verify(*args):
    return subprocess.run([verifier()] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30)
