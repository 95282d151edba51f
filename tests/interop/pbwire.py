"""Hand-encoding protobuf wire format, for tests that must send bytes no
generated class would produce (invalid UTF-8, over-long tags, fuzz seeds)
or that build millions of messages faster than the generated classes do."""


def varint(n):
    """Base-128 varint of a non-negative integer."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def ld(num, payload):
    """A length-delimited field (strings, bytes, messages)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload
