"""Request body framing (RFC 9112 section 6): ``Content-Length`` or
``Transfer-Encoding: chunked``, and the errors that must close the connection.

A body whose length cannot be known for sure leaves the rest of the connection
unreadable, so every refusal here closes it (``FramingError.close``): answering and then
reading the leftover bytes as the next request is how request smuggling starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

MAX_BODY = 64 * 1024 * 1024  # the sandbox's guard; far above any body a client sends it
MAX_LINE = 4096  # a chunk-size line or a trailer field
_HEX = frozenset("0123456789abcdefABCDEF")


class Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def readline(self, size: int = -1, /) -> bytes: ...


class FramingError(Exception):
    """The request cannot be read: answer ``status`` and close the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_body(rfile: Reader, headers: Mapping[str, str], version: str) -> tuple[bytes, bool]:
    """The request's body and whether the connection must close after the answer.

    ``headers`` maps lower-cased names to values (repeated fields joined with ", ").
    Transfer-Encoding wins over Content-Length; a request carrying both is served by its
    chunked framing and then the connection is closed, as RFC 9112 section 6.1 requires.
    """
    encoding = headers.get("transfer-encoding")
    if encoding is not None:
        if version == "HTTP/1.0":
            # section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing
            raise FramingError(400, "Transfer-Encoding in an HTTP/1.0 request")
        _check_codings(encoding)
        return read_chunked(rfile), "content-length" in headers
    length = _content_length(headers.get("content-length"))
    if length > MAX_BODY:
        raise FramingError(413, "request body too large")
    body = rfile.read(length) if length else b""
    if len(body) != length:
        raise FramingError(400, "request body shorter than its Content-Length")
    return body, False


def _check_codings(value: str) -> None:
    codings = [c.strip().lower() for c in value.split(",") if c.strip()]
    if not codings or codings[-1] != "chunked":
        # section 6.3 (4): chunked not last -> the length cannot be determined
        raise FramingError(400, "chunked must be the final transfer coding")
    if any(c != "chunked" for c in codings) or len(codings) > 1:
        # section 6.1: a coding the server does not understand -> 501
        raise FramingError(501, f"transfer coding not implemented: {value}")


def _content_length(value: str | None) -> int:
    if value is None:
        return 0
    # a repeated field arrives joined with ", "; identical values are one length
    parts = {p.strip() for p in value.split(",")}
    if len(parts) != 1:
        raise FramingError(400, "conflicting Content-Length values")
    (text,) = parts
    if not text.isdigit() or not text.isascii():
        raise FramingError(400, f"invalid Content-Length: {text!r}")
    return int(text)


def read_chunked(rfile: Reader) -> bytes:
    """Decode a chunked body (RFC 9112 section 7.1): chunk extensions ignored, trailer
    fields read and dropped."""
    parts: list[bytes] = []
    total = 0
    while True:
        size = _chunk_size(_line(rfile))
        if size == 0:
            break
        total += size
        if total > MAX_BODY:
            raise FramingError(413, "request body too large")
        data = rfile.read(size)
        if len(data) != size:
            raise FramingError(400, "chunk shorter than its size")
        if rfile.read(2) != b"\r\n":
            raise FramingError(400, "chunk data not followed by CRLF")
        parts.append(data)
    while _line(rfile):  # trailer section, ended by an empty line
        pass
    return b"".join(parts)


def _line(rfile: Reader) -> bytes:
    raw = rfile.readline(MAX_LINE + 1)
    if len(raw) > MAX_LINE:
        raise FramingError(400, "chunk line too long")
    if not raw.endswith(b"\r\n"):
        raise FramingError(400, "chunk line not ended by CRLF")
    return raw[:-2]


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip(b" \t").decode("ascii", "replace")
    if not text or not set(text) <= _HEX or len(text) > 16:
        raise FramingError(400, f"invalid chunk size: {text!r}")
    return int(text, 16)
