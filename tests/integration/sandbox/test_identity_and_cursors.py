"""The identity URL, the resource list, Composite's Location header and query cursors,
through plain ``requests`` (not simple-salesforce), as any client would call them."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

DOCUMENTED = {
    "id", "asserted_user", "user_id", "organization_id", "username", "nick_name",
    "display_name", "email", "email_verified", "first_name", "last_name", "timezone",
    "photos", "addr_street", "addr_city", "addr_state", "addr_country", "addr_zip",
    "mobile_phone", "mobile_phone_verified", "is_lightning_login_user", "status", "urls",
    "active", "user_type", "language", "locale", "utcOffset", "last_modified_date",
    "is_app_installed",
}  # fmt: skip
URLS = {
    "enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent",
    "tooling_soap", "tooling_rest", "profile", "feeds", "groups", "users", "feed_items",
    "feed_elements", "custom_domain",
}  # fmt: skip


def _login(sandbox, session):
    response = session.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_token_responses_identity_url_answers_who_the_user_is(sandbox, sandbox_session):
    token = _login(sandbox, sandbox_session)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    response = sandbox_session.get(token["id"], headers=bearer)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    me = response.json()
    assert set(me) == DOCUMENTED and set(me["urls"]) == URLS
    org_id, user_id = token["id"].rsplit("/", 2)[-2:]
    assert me["id"] == token["id"] and me["user_id"] == user_id
    assert me["organization_id"] == org_id and me["asserted_user"] is True
    user = sandbox.admin().org.store.get_row(user_id)
    assert me["username"] == sandbox.jwt_username == user["Username"]
    assert (
        me["user_type"]
        == {"Standard": "STANDARD", "AutomatedProcess": "AUTOMATED_PROCESS"}[user["UserType"]]
    )
    assert me["active"] is True and "@" in me["email"] and me["display_name"]
    # without ?version the URLs carry the literal {version}, with "latest" the newest
    assert me["urls"]["rest"] == f"{sandbox.instance_url}/services/data/v{{version}}/"
    latest = sandbox_session.get(token["id"], headers=bearer, params={"version": "latest"})
    assert latest.json()["urls"]["query"] == f"{sandbox.instance_url}/services/data/v66.0/query/"
    # the token may come as the oauth_token parameter instead of the header
    by_param = sandbox_session.get(token["id"], params={"oauth_token": token["access_token"]})
    assert by_param.status_code == 200 and by_param.json()["user_id"] == user_id


def test_identity_errors_are_one_plain_word(sandbox, sandbox_session):
    token = _login(sandbox, sandbox_session)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    org_id, user_id = token["id"].rsplit("/", 2)[-2:]
    base = f"{sandbox.instance_url}/id"
    cases = [
        (f"{base}/{org_id}/{user_id}", {}, 403, "Missing_OAuth_Token"),
        (f"{base}/{org_id}/{user_id}", {"Authorization": "Bearer nope"}, 403, "Bad_OAuth_Token"),
        (f"{base}/00D000000000001AAA/{user_id}", bearer, 403, "Wrong_Org"),
        (f"{base}/{org_id}/005000000000000AAA", bearer, 404, "Bad_Id"),
    ]
    for url, headers, status, word in cases:
        response = sandbox_session.get(url, headers=headers)
        assert (response.status_code, response.text) == (status, word), url


def test_the_version_resource_list_names_the_callers_identity_url(sandbox, sandbox_session):
    token = _login(sandbox, sandbox_session)
    response = sandbox_session.get(
        f"{sandbox.instance_url}/services/data/v59.0/",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert response.status_code == 200
    resources = response.json()
    assert resources["identity"] == token["id"]
    assert resources["query"] == "/services/data/v59.0/query"


def test_a_composite_create_carries_the_new_records_location(sandbox, sandbox_session):
    response = sandbox_session.post(
        f"{sandbox.instance_url}/services/data/v59.0/composite",
        headers={"Authorization": f"Bearer {sandbox.access_token()}"},
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Lead",
                    "referenceId": "newLead",
                    "body": {"LastName": "Located", "Company": "Where Ltd"},
                }
            ]
        },
    )
    (sub,) = response.json()["compositeResponse"]
    assert sub["httpStatusCode"] == 201
    new_id = sub["body"]["id"]
    assert sub["httpHeaders"] == {"Location": f"/services/data/v59.0/sobjects/Lead/{new_id}"}


def test_hundreds_of_open_cursors_all_stay_readable(sandbox, sandbox_session):
    """Since API 56.0 there is no limit on open query cursors (the sandbox kept 200)."""
    sandbox.admin().create_leads(201)
    sandbox_session.headers.update(
        {
            "Authorization": f"Bearer {sandbox.access_token()}",
            "Sforce-Query-Options": "batchSize=200",
        }
    )
    query = f"{sandbox.instance_url}/services/data/v59.0/query"
    first = [sandbox_session.get(query, params={"q": "SELECT Id FROM Lead"}).json()]
    for _ in range(210):  # more cursors than the old limit, each with a page left
        sandbox_session.get(query, params={"q": "SELECT Id FROM Lead"})
    next_url = first[0]["nextRecordsUrl"]
    assert re.match(r"^/services/data/v59\.0/query/01g\w{15}-200$", next_url)
    page = sandbox_session.get(f"{sandbox.instance_url}{next_url}")
    assert page.status_code == 200, page.text
    assert page.json()["done"] is True and len(page.json()["records"]) == 1
