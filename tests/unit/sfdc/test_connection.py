"""The Salesforce connection: token flows, refresh on 401, usage tracking — pinned at the
HTTP seam with ``responses``, as simple-salesforce tests itself."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from worker.settings import load_settings
from worker.sfdc.connection import SalesforceConnection
from worker.sfdc.errors import SfdcAuthError, SfdcConfigError, SfdcTransientError

INSTANCE = "https://acme.my.salesforce.com"
TOKEN_URL = f"{INSTANCE}/services/oauth2/token"
QUERY_URL = re.compile(rf"^{re.escape(INSTANCE)}/services/data/v59\.0/query/\?q=.*")
TOKEN_OK = {
    "access_token": "00Dxx!first-token",
    "instance_url": INSTANCE,
    "id": f"{INSTANCE}/id/00Dxx0000000001EAA/005xx0000000001AAA",
    "token_type": "Bearer",
    "issued_at": "1763884800000",
    "signature": "c2lnbmF0dXJl",
    "scope": "api",
}
QUERY_OK = {
    "totalSize": 1,
    "done": True,
    "records": [{"attributes": {"type": "Lead"}, "Id": "00Qxx0000001"}],
}
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture
def mocked() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def key_pair(tmp_path: Path) -> tuple[Path, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "server.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path, key.public_key()


def client_credentials() -> SalesforceConnection:
    return SalesforceConnection(
        load_settings(
            sf_instance_url=INSTANCE, sf_consumer_key="ck-123", sf_consumer_secret="cs-456"
        )
    )


def form(request: requests.PreparedRequest) -> dict[str, list[str]]:
    assert isinstance(request.body, str)
    return parse_qs(request.body)


def test_client_credentials_posts_grant_with_basic_auth_then_queries_with_bearer(mocked):
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(QUERY_URL, json=QUERY_OK, headers={"Sforce-Limit-Info": "api-usage=18/5000"})

    result = client_credentials().call(lambda sf: sf.query("SELECT Id FROM Lead"))

    token_request = mocked.calls[0].request
    assert form(token_request) == {"grant_type": ["client_credentials"]}
    expected = base64.b64encode(b"ck-123:cs-456").decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer 00Dxx!first-token"
    assert result["records"][0]["Id"] == "00Qxx0000001"


def test_every_call_names_leadrouter_as_the_client_for_change_events(mocked):
    """Change Data Capture puts the caller's ``client=`` in ``changeOrigin``: a subscriber
    skips the events of our own writes by it."""
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(QUERY_URL, json=QUERY_OK)

    client_credentials().call(lambda sf: sf.query("SELECT Id FROM Lead"))

    assert mocked.calls[1].request.headers["Sforce-Call-Options"] == "client=leadrouter"


def test_jwt_bearer_posts_a_signed_assertion_with_the_documented_claims(mocked, key_pair):
    key_path, public_key = key_pair
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    connection = SalesforceConnection(
        load_settings(
            sf_instance_url=INSTANCE,
            sf_consumer_key="ck-123",
            sf_username="integration@acme.example",
            sf_private_key_file=key_path,
        )
    )

    assert connection.sf.session_id == "00Dxx!first-token"

    body = form(mocked.calls[0].request)
    assert body["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        body["assertion"][0],
        public_key,
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
    )
    assert claims["iss"] == "ck-123"
    assert claims["sub"] == "integration@acme.example"
    assert "Authorization" not in mocked.calls[0].request.headers


def test_expired_session_fetches_a_new_token_once_and_retries(mocked):
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(QUERY_URL, json=EXPIRED, status=401)
    mocked.post(TOKEN_URL, json={**TOKEN_OK, "access_token": "00Dxx!second-token"})
    mocked.get(QUERY_URL, json=QUERY_OK)
    connection = client_credentials()

    result = connection.call(lambda sf: sf.query("SELECT Id FROM Lead"))

    assert result["totalSize"] == 1
    assert [c.request.method for c in mocked.calls] == ["POST", "GET", "POST", "GET"]
    assert mocked.calls[3].request.headers["Authorization"] == "Bearer 00Dxx!second-token"
    assert connection.token_requests == 2


def test_a_session_that_stays_expired_after_refresh_is_an_auth_error(mocked):
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(QUERY_URL, json=EXPIRED, status=401)
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(QUERY_URL, json=EXPIRED, status=401)

    with pytest.raises(SfdcAuthError) as err:
        client_credentials().call(lambda sf: sf.query("SELECT Id FROM Lead"))

    assert err.value.error_code == "INVALID_SESSION_ID"


def test_refused_token_request_names_the_flow_and_salesforce_description(mocked):
    mocked.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "error_description": "invalid client credentials"},
    )

    with pytest.raises(SfdcAuthError) as err:
        client_credentials().call(lambda sf: sf.query("SELECT Id FROM Lead"))

    message = str(err.value)
    assert "client_credentials token request refused" in message
    assert "invalid_client: invalid client credentials" in message
    assert "cs-456" not in message


def test_fixed_session_id_is_not_refreshed_on_401(mocked):
    mocked.get(QUERY_URL, json=EXPIRED, status=401)
    connection = SalesforceConnection(
        load_settings(sf_instance_url=INSTANCE, sf_session_id="00Dxx!given")
    )

    with pytest.raises(SfdcAuthError, match="cannot be refreshed"):
        connection.call(lambda sf: sf.query("SELECT Id FROM Lead"))
    assert connection.token_requests == 1  # the given id, no HTTP token request


def test_usage_header_and_call_count_are_tracked_for_every_response(mocked):
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(QUERY_URL, json=QUERY_OK, headers={"Sforce-Limit-Info": "api-usage=18/5000"})
    mocked.patch(
        f"{INSTANCE}/services/data/v59.0/sobjects/Lead/00Qxx0000001",
        status=204,
        headers={"Sforce-Limit-Info": "api-usage=19/5000; api-bursts=1/750"},
    )
    connection = client_credentials()

    connection.call(lambda sf: sf.query("SELECT Id FROM Lead"))
    connection.call(lambda sf: sf.Lead.update("00Qxx0000001", {"OwnerId": "005xx"}))

    assert connection.api_usage == (19, 5000)
    assert connection.http_calls == 2


def test_missing_private_key_names_the_setting():
    connection = SalesforceConnection(
        load_settings(
            sf_instance_url=INSTANCE,
            sf_consumer_key="ck",
            sf_username="u@x.example",
            sf_private_key_file=Path("/nonexistent/server.key"),
        )
    )

    with pytest.raises(SfdcConfigError, match=r"LEADROUTER_SF_PRIVATE_KEY_FILE: cannot read"):
        _ = connection.sf


def test_unreachable_token_url_is_a_transient_error_naming_the_url(mocked):
    mocked.post(TOKEN_URL, body=requests.ConnectionError("refused"))

    with pytest.raises(SfdcTransientError, match=re.escape(TOKEN_URL)):
        _ = client_credentials().sf


def test_server_errors_are_translated_to_transient_with_the_error_code(mocked):
    mocked.post(TOKEN_URL, json=TOKEN_OK)
    mocked.get(
        QUERY_URL,
        status=503,
        json=[{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
    )

    with pytest.raises(SfdcTransientError) as err:
        client_credentials().call(lambda sf: sf.query("SELECT Id FROM Lead"))

    assert (err.value.status, err.value.error_code) == (503, "SERVER_UNAVAILABLE")


def test_token_repr_hides_the_access_token():
    from worker.sfdc.auth import Token

    assert "first-token" not in repr(Token("00Dxx!first-token", INSTANCE))
    assert json.dumps(load_settings(sf_consumer_secret="cs-456").describe()).count("cs-456") == 0
