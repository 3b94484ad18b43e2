"""Content codings (REST API "Compression Headers"): a request body sent with
``Content-Encoding: gzip`` or ``deflate`` is decompressed before it is processed, and a
response is compressed when the request's ``Accept-Encoding`` allows gzip or deflate
(Salesforce "normally does"). Other codings (the docs also name br and zstd for
responses) are not offered: the answer is then uncompressed, which the docs allow."""

from __future__ import annotations

import gzip
import zlib

from devkit.sandbox.framing import MAX_BODY, FramingError

LEVEL = 1  # the cheapest level: the sandbox shares its CPUs with the worker it serves


def decode_request(body: bytes, content_encoding: str | None) -> bytes:
    """The body without its content codings, applied in the order they were listed."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise FramingError(415, f"unsupported Content-Encoding: {coding}")
        body = _inflate(body, coding)
    return body


def _inflate(body: bytes, coding: str) -> bytes:
    # gzip (RFC 1952) or HTTP's "deflate", which is zlib (RFC 1950); some clients send
    # raw deflate (RFC 1951), which is accepted too
    windows = (16 + zlib.MAX_WBITS,) if coding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in windows:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, MAX_BODY + 1)
        except zlib.error:
            continue
        if len(out) > MAX_BODY:
            raise FramingError(413, "request body too large once decompressed")
        if inflater.eof:
            return out
    raise FramingError(400, f"request body is not valid {coding} data")


def choose(accept_encoding: str | None) -> str | None:
    """gzip or deflate when the client accepts it (a q of 0 refuses), else None."""
    accepted: dict[str, float] = {}
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name:
            accepted[name.strip().lower()] = q
    for coding in ("gzip", "deflate"):
        if accepted.get(coding, accepted.get("*", 0.0)) > 0:
            return coding
    return None


def encode_response(payload: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(payload, compresslevel=LEVEL, mtime=0)
    return zlib.compress(payload, LEVEL)
