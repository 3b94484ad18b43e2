"""The token endpoint: client credentials and JWT bearer, accepted and refused as Salesforce does."""

from __future__ import annotations

import time

import jwt
import pytest

from devkit.sandbox.auth import JWT_GRANT

pytestmark = pytest.mark.integration


def _assertion(sandbox, **overrides):
    claims = {
        "iss": sandbox.client_id,
        "sub": sandbox.jwt_username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
    }
    claims.update(overrides)
    return jwt.encode(claims, sandbox.jwt_private_key_path.read_bytes(), algorithm="RS256")


def _post(sandbox, session, **form):
    return session.post(sandbox.token_url, data=form)


def test_jwt_bearer_gives_a_working_token(sandbox, sandbox_session):
    response = _post(sandbox, sandbox_session, grant_type=JWT_GRANT, assertion=_assertion(sandbox))
    body = response.json()
    assert (
        response.status_code == 200
        and body["token_type"] == "Bearer"
        and body["instance_url"] == sandbox.instance_url
    )
    usage = sandbox_session.get(
        f"{sandbox.instance_url}/services/data/v59.0/limits/",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert usage.status_code == 200 and "DailyApiRequests" in usage.json()


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"aud": "https://evil.example"}, "invalid_grant", "audience is invalid"),
        ({"exp": int(time.time()) - 3600}, "invalid_grant", "expired authorization code"),
        ({"iss": "unknown-app"}, "invalid_client_id", "client identifier invalid"),
        (
            {"sub": "nobody@acme-sales.example"},
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
    ],
)
def test_jwt_bearer_refusals_match_salesforce(
    sandbox, sandbox_session, overrides, error, description
):
    response = _post(
        sandbox, sandbox_session, grant_type=JWT_GRANT, assertion=_assertion(sandbox, **overrides)
    )
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_jwt_signed_by_another_key_is_an_invalid_assertion(sandbox, sandbox_session, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    claims = {
        "iss": sandbox.client_id,
        "sub": sandbox.jwt_username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 60,
    }
    response = _post(
        sandbox,
        sandbox_session,
        grant_type=JWT_GRANT,
        assertion=jwt.encode(claims, other, algorithm="RS256"),
    )
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_client_credentials_refuses_a_wrong_secret(sandbox, sandbox_session):
    response = _post(
        sandbox,
        sandbox_session,
        grant_type="client_credentials",
        client_id=sandbox.client_id,
        client_secret="wrong",
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("secret", ["geheim-ß-ü", "秘密"])
def test_a_non_ascii_secret_is_refused_not_a_server_error(sandbox, sandbox_session, secret):
    form = {"grant_type": "client_credentials", "client_id": sandbox.client_id}
    response = _post(sandbox, sandbox_session, **form, client_secret=secret)
    basic = sandbox_session.post(
        sandbox.token_url, data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id.encode(), secret.encode()),
    )  # fmt: skip
    for refused in (response, basic):
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"


def test_unknown_grant_type_is_refused(sandbox, sandbox_session):
    assert (
        _post(sandbox, sandbox_session, grant_type="password").json()["error"]
        == "unsupported_grant_type"
    )
