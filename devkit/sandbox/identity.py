"""The identity URL: ``GET /id/<orgId>/<userId>`` with an access token answers who the
user is and where the org's APIs live (Salesforce Help, "Identity URLs").

The token comes in ``Authorization: Bearer`` or the ``oauth_token`` parameter. Errors
are one word of plain text with a 403 or 404, not the data API's JSON list (public
clients, e.g. jsforce, test ``Bad_OAuth_Token`` as a plain-text body). Calls here are
not data API calls: they do not count toward the daily allocation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devkit.sandbox.org import Org
from devkit.sandbox.soql.resolve import format_datetime
from devkit.sandbox.web import Request, Response
from worker.sfdc.ids import MalformedId, normalise

PREFIX = "/id/"
_PATH = re.compile(r"^/id/([0-9A-Za-z]{15,18})/([0-9A-Za-z]{15,18})/?$")
_VERSION = re.compile(r"^\d{2}\.\d$")


def identity_url(base_url: str, org_id: str, user_id: str) -> str:
    return f"{base_url}/id/{org_id}/{user_id}"


def _text(status: int, word: str) -> Response:
    return Response(status, None, {"Content-Type": "text/plain;charset=UTF-8"}, word.encode())


def serve(org: Org, req: Request, token_user: str | None, base_url: str, latest: str) -> Response:
    """``token_user``: the session's user, None when the token is missing or dead."""
    if req.method not in ("GET", "HEAD"):
        return _text(405, "Method_Not_Allowed")
    if token_user is None:
        missing = not (req.header("Authorization") or req.param("oauth_token"))
        return _text(403, "Missing_OAuth_Token" if missing else "Bad_OAuth_Token")
    m = _PATH.match(req.path)
    try:
        org_id, user_id = (normalise(m.group(1)), normalise(m.group(2))) if m else ("", "")
    except MalformedId:
        org_id = user_id = ""
    if not user_id:
        return _text(404, "Bad_Id")
    if org_id != org.org_id:
        return _text(403, "Wrong_Org")
    user = org.store.get_row(user_id)
    if user is None or not user_id.startswith("005"):
        return _text(404, "Bad_Id")
    if not user.get("IsActive"):
        return _text(404, "Inactive")
    version = req.param("version")
    if version == "latest":
        version = latest
    if version is not None and not _VERSION.match(version):
        return _text(406, "Invalid_Version")
    body = _identity(org, user, token_user, base_url, version or "{version}")
    return Response(200, body)


def _identity(
    org: Org, user: dict[str, Any], token_user: str, base: str, version: str
) -> dict[str, Any]:
    """The documented response fields; what the sandbox has no data for (address, phone,
    Chatter status) is null or false as for a user who never set it."""
    uid, oid = user["Id"], org.org_id
    data = f"{base}/services/data/v{version}"
    zone = str(user.get("TimeZoneSidKey") or "America/Los_Angeles")
    language = str(user.get("LanguageLocaleKey") or "en_US")
    username = str(user["Username"])
    return {
        "id": identity_url(base, oid, uid),
        "asserted_user": uid == token_user,
        "user_id": uid,
        "organization_id": oid,
        "username": username,
        "nick_name": str(user.get("Alias") or username.split("@")[0]),
        "display_name": user.get("Name"),
        "email": user.get("Email"),
        "email_verified": True,
        "first_name": user.get("FirstName"),
        "last_name": user.get("LastName"),
        "timezone": zone,
        "photos": {
            "picture": f"{base}/profilephoto/005/F",
            "thumbnail": f"{base}/profilephoto/005/T",
        },
        "addr_street": None,
        "addr_city": None,
        "addr_state": None,
        "addr_country": None,
        "addr_zip": None,
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": {
            "enterprise": f"{base}/services/Soap/c/{version}/{oid}",
            "metadata": f"{base}/services/Soap/m/{version}/{oid}",
            "partner": f"{base}/services/Soap/u/{version}/{oid}",
            "rest": f"{data}/",
            "sobjects": f"{data}/sobjects/",
            "search": f"{data}/search/",
            "query": f"{data}/query/",
            "recent": f"{data}/recent/",
            "tooling_soap": f"{base}/services/Soap/T/{version}/{oid}",
            "tooling_rest": f"{data}/tooling/",
            "profile": f"{base}/{uid}",
            "feeds": f"{data}/chatter/feeds",
            "groups": f"{data}/chatter/groups",
            "users": f"{data}/chatter/users",
            "feed_items": f"{data}/chatter/feed-items",
            "feed_elements": f"{data}/chatter/feed-elements",
            "custom_domain": base,
        },
        "active": True,
        "user_type": _upper_snake(str(user.get("UserType") or "Standard")),
        "language": language,
        "locale": language,
        "utcOffset": _utc_offset_ms(zone),
        "last_modified_date": _sf_datetime(user.get("LastModifiedDate")),
        "is_app_installed": True,
    }


def _upper_snake(user_type: str) -> str:
    """UserType's API value as the identity service spells it: AutomatedProcess ->
    AUTOMATED_PROCESS, Standard -> STANDARD."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", user_type).upper()


def _utc_offset_ms(zone: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds() * 1000) if offset else 0


def _sf_datetime(value: Any) -> str | None:
    return format_datetime(value) if isinstance(value, datetime) else None
