"""Request framing over raw TLS sockets (no simple-salesforce, no requests): chunked
bodies on every endpoint, Transfer-Encoding over Content-Length, malformed framing
refused with a 400 and a closed connection (RFC 9112 sections 6 and 7)."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import ssl
import zlib
from urllib.parse import urlencode, urlsplit

import pytest

pytestmark = pytest.mark.integration


class Wire:
    """One keep-alive TLS connection, requests written byte for byte."""

    def __init__(self, sandbox) -> None:
        url = urlsplit(sandbox.instance_url)
        context = ssl.create_default_context(cafile=str(sandbox.ca_path))
        raw = socket.create_connection((url.hostname, url.port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname=url.hostname)
        self.host = url.netloc

    def send(self, head: str, body: bytes = b"") -> None:
        self.sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)

    def response(self, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        response = http.client.HTTPResponse(self.sock, method=method)
        response.begin()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def closed(self) -> bool:
        """True when the server closed the connection (EOF, or a reset)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionError, ssl.SSLError):
            return True

    def close(self) -> None:
        self.sock.close()


def chunked(payload: bytes, size: int = 7, extension: str = "") -> bytes:
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
    out = b"".join(f"{len(p):x}{extension}\r\n".encode() + p + b"\r\n" for p in pieces)
    return out + b"0\r\nX-Trailer: ignored\r\n\r\n"


@pytest.fixture
def wire(sandbox):
    conn = Wire(sandbox)
    yield conn
    conn.close()


def _token_form(sandbox) -> bytes:
    return urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        }
    ).encode()


def test_chunked_oauth_login_then_the_next_request_on_the_same_connection(sandbox, wire):
    wire.send(
        f"POST /services/oauth2/token HTTP/1.1\nHost: {wire.host}\n"
        "Content-Type: application/x-www-form-urlencoded\nTransfer-Encoding: chunked\n",
        chunked(_token_form(sandbox)),
    )
    status, _, body = wire.response("POST")
    token = json.loads(body)
    assert status == 200 and token["token_type"] == "Bearer", body
    # the same keep-alive connection: no leftover chunk bytes read as a request line
    wire.send(
        f"GET /services/data/v59.0/limits HTTP/1.1\nHost: {wire.host}\n"
        f"Authorization: Bearer {token['access_token']}\n"
    )
    status, _, body = wire.response()
    assert status == 200 and "DailyApiRequests" in json.loads(body)


def test_chunked_json_body_on_the_data_api(sandbox, wire):
    token = sandbox.access_token()
    lead = json.dumps({"LastName": "Chunk", "Company": "Framing Inc"}).encode()
    wire.send(
        f"POST /services/data/v59.0/sobjects/Lead/ HTTP/1.1\nHost: {wire.host}\n"
        f"Authorization: Bearer {token}\nContent-Type: application/json\n"
        "Transfer-Encoding: chunked\n",
        chunked(lead, size=5, extension=";name=value"),
    )
    status, _, body = wire.response("POST")
    assert status == 201, body
    lead_id = json.loads(body)["id"]
    wire.send(
        f"GET /services/data/v59.0/sobjects/Lead/{lead_id}?fields=LastName HTTP/1.1\n"
        f"Host: {wire.host}\nAuthorization: Bearer {token}\n"
    )
    status, _, body = wire.response()
    assert status == 200 and json.loads(body)["LastName"] == "Chunk"


def test_transfer_encoding_wins_over_content_length_and_the_connection_closes(sandbox, wire):
    form = _token_form(sandbox)
    wire.send(
        f"POST /services/oauth2/token HTTP/1.1\nHost: {wire.host}\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        "Content-Length: 5\nTransfer-Encoding: chunked\n",
        chunked(form),
    )
    status, headers, body = wire.response("POST")
    assert status == 200 and "access_token" in json.loads(body)
    assert headers.get("connection") == "close" and wire.closed()


@pytest.mark.parametrize(
    "framing",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",  # chunk size not hex
        b"3\r\nabcdef\r\n0\r\n\r\n",  # more data than the size says
        b"3\nabc\r\n0\r\n\r\n",  # size line without CRLF
        b"-3\r\nabc\r\n0\r\n\r\n",  # negative size
    ],
)
def test_malformed_chunks_get_400_and_a_closed_connection(sandbox, wire, framing):
    wire.send(
        f"POST /services/data/v59.0/sobjects/Lead/ HTTP/1.1\nHost: {wire.host}\n"
        f"Authorization: Bearer {sandbox.access_token()}\nTransfer-Encoding: chunked\n",
        framing,
    )
    status, headers, _ = wire.response("POST")
    assert status == 400 and headers.get("connection") == "close"
    assert wire.closed()


@pytest.mark.parametrize(
    ("codings", "status"), [("gzip, chunked", 501), ("chunked, gzip", 400), ("gzip", 400)]
)
def test_transfer_codings_other_than_chunked_are_refused(sandbox, wire, codings, status):
    wire.send(
        f"POST /services/oauth2/token HTTP/1.1\nHost: {wire.host}\nTransfer-Encoding: {codings}\n",
        chunked(_token_form(sandbox)),
    )
    got, headers, _ = wire.response("POST")
    assert got == status and headers.get("connection") == "close" and wire.closed()


@pytest.mark.parametrize("length", ["abc", "-1", "5, 6"])
def test_an_unreadable_content_length_gets_400_not_a_dropped_connection(sandbox, wire, length):
    wire.send(
        f"POST /services/oauth2/token HTTP/1.1\nHost: {wire.host}\nContent-Length: {length}\n",
        b"hello",
    )
    status, headers, _ = wire.response("POST")
    assert status == 400 and headers.get("connection") == "close" and wire.closed()


def test_no_content_length_on_a_204(sandbox):
    lead_id = sandbox.admin().create_leads(1)[0]
    url = urlsplit(sandbox.instance_url)
    context = ssl.create_default_context(cafile=str(sandbox.ca_path))
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=10)
    try:
        conn.request(
            "PATCH",
            f"/services/data/v59.0/sobjects/Lead/{lead_id}",
            body=json.dumps({"Rating": "Hot"}),
            headers={
                "Authorization": f"Bearer {sandbox.access_token()}",
                "Content-Type": "application/json",
            },
        )
        response = conn.getresponse()
        assert response.status == 204 and response.read() == b""
        # RFC 9110 section 8.6: a server MUST NOT send Content-Length in a 204
        assert response.getheader("Content-Length") is None
    finally:
        conn.close()


def test_a_gzip_request_body_is_decompressed_and_the_answer_compressed(sandbox, wire):
    form = gzip.compress(_token_form(sandbox))
    wire.send(
        f"POST /services/oauth2/token HTTP/1.1\nHost: {wire.host}\n"
        "Content-Type: application/x-www-form-urlencoded\nContent-Encoding: gzip\n"
        f"Accept-Encoding: gzip\nContent-Length: {len(form)}\n",
        form,
    )
    status, headers, body = wire.response("POST")
    assert status == 200 and headers.get("content-encoding") == "gzip"
    token = json.loads(gzip.decompress(body))
    lead = zlib.compress(json.dumps({"LastName": "Squeezed", "Company": "Zip Co"}).encode())
    wire.send(
        f"POST /services/data/v59.0/sobjects/Lead/ HTTP/1.1\nHost: {wire.host}\n"
        f"Authorization: Bearer {token['access_token']}\nContent-Type: application/json\n"
        f"Content-Encoding: deflate\nContent-Length: {len(lead)}\n",
        lead,
    )
    status, headers, body = wire.response("POST")
    assert status == 201 and "content-encoding" not in headers, body  # none asked for
    assert json.loads(body)["success"] is True


@pytest.mark.parametrize(("encoding", "status"), [("br", 415), ("gzip", 400)])
def test_a_body_that_cannot_be_decoded_is_refused(sandbox, wire, encoding, status):
    wire.send(
        f"POST /services/oauth2/token HTTP/1.1\nHost: {wire.host}\n"
        f"Content-Encoding: {encoding}\nContent-Length: 5\n",
        b"hello",
    )
    got, _, body = wire.response("POST")
    assert got == status and encoding.encode() in body  # the coding is named, not the grant
