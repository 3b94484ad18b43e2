"""Sign-in: users from the users file (argon2 hashes), throttled and logged attempts,
the proof that a session really signed in, and the role of a single-sign-on user.

A session that signs in holds a :class:`SignedIn` carrying an HMAC of the username made
with a secret that lives only in this server process. Every write re-derives the actor
from that proof and the users file (:func:`actor_from`), so a session whose state was
crafted (a role flipped to admin, a username typed in) is refused by the store.

Throttling (:mod:`worker.store.sign_in_repo`) is per account whoever the client is, plus
per client address where that address is trustworthy (:func:`trusted_client`). An unknown
username costs the same argon2 work as a known one: the dummy hash has the parameters of
the users file's own hashes, whatever they are.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from datetime import datetime
from functools import cache
from ipaddress import ip_address
from pathlib import Path

import yaml
from argon2 import Parameters, PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine

from worker.settings import IPNetwork
from worker.store.sign_in_repo import begin_sign_in, finish_sign_in
from worker.store.team_repo import ROLES, Actor

log = logging.getLogger("leadrouter.dashboard.auth")
_SECRET = secrets.token_bytes(32)
_HASHER = PasswordHasher()
MIN_MEMORY_KIB = 19_456  # OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2


class UsersFileError(ValueError):
    """The users file is missing or malformed; the message names the entry."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str
    rep: str | None = None  # a rep's own key (config e-mail) or Salesforce user Id


@dataclass(frozen=True)
class SignedIn:
    username: str
    proof: str


def proof(username: str) -> str:
    """The server's proof that ``username`` signed in (an HMAC only this process can make)."""
    return hmac.new(_SECRET, username.encode(), hashlib.sha256).hexdigest()


def hash_problem(pw_hash: str) -> str | None:
    """Why ``pw_hash`` is not a strong password hash (None: it is). Plain text, other
    schemes and argon2 below OWASP's minimum (argon2id, 19 MiB, 2 passes) are refused."""
    hint = "(make one with `leadrouter dashboard hash-password`)"
    if not pw_hash.startswith("$argon2"):
        return f"must be an argon2 hash {hint}"
    try:
        params = extract_parameters(pw_hash)
    except InvalidHashError:
        return f"is not a well-formed argon2 hash {hint}"
    if params.type != Type.ID or params.memory_cost < MIN_MEMORY_KIB or params.time_cost < 2:
        return (
            f"is a weak argon2 hash (argon2{params.type.name.lower()}, "
            f"m={params.memory_cost} KiB, t={params.time_cost}) {hint}"
        )
    return None


def load_users(path: Path | None) -> dict[str, User]:
    if path is None:
        raise UsersFileError("no users file: set LEADROUTER_DASHBOARD_USERS_FILE")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsersFileError(f"cannot read users file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsersFileError(f"cannot read users file {path}: not UTF-8 text") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsersFileError(f"{path}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, list):
        raise UsersFileError(f"{path}: expected a list of users")
    users: dict[str, User] = {}
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise UsersFileError(f"{path}: user #{i} is not a mapping")
        name, role, pw_hash = (
            str(entry.get(k) or "") for k in ("username", "role", "password_hash")
        )
        if not name:
            raise UsersFileError(f"{path}: user #{i}: username missing")
        if role not in ROLES:
            raise UsersFileError(f"{path}: user {name!r}: role must be admin, viewer or rep")
        rep = str(entry.get("rep") or "").strip() or None
        if role == "rep" and rep is None:
            raise UsersFileError(
                f"{path}: user {name!r}: rep: missing (the rep's e-mail key or Salesforce user Id)"
            )
        problem = hash_problem(pw_hash)
        if problem:
            raise UsersFileError(f"{path}: user {name!r}: password_hash {problem}")
        if name in users:  # a later entry must never silently replace an earlier one
            raise UsersFileError(f"{path}: user #{i}: duplicate username {name!r}")
        users[name] = User(name, role, pw_hash, rep if role == "rep" else None)
    dummy_hash(users)  # made now (once per parameter set), not during someone's sign-in
    return users


@cache
def _dummy_hash(params: tuple[object, ...]) -> str:
    hasher = PasswordHasher.from_parameters(Parameters(*params))
    return str(hasher.hash(secrets.token_hex(16)))


def dummy_hash(users: Mapping[str, User]) -> str:
    """A hash to verify unknown usernames against, with the argon2 parameters most of the
    users file's hashes have: the same work, so timing does not tell who exists."""
    hashes = [u.password_hash for u in users.values()] or [_HASHER.hash("x")]
    counts = Counter(astuple(extract_parameters(h)) for h in hashes)
    return _dummy_hash(counts.most_common(1)[0][0])


def _verify(users: Mapping[str, User], username: str, password: str) -> bool:
    user = users.get(username)
    try:
        return _HASHER.verify(user.password_hash if user else dummy_hash(users), password) and (
            user is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sign_in(
    engine: Engine,
    users: dict[str, User],
    username: str,
    password: str,
    client: str | None,
    *,
    now: datetime | None = None,
) -> tuple[SignedIn | None, str]:
    """Check a sign-in attempt; returns (proof or None, message to show).

    ``client`` is the client's address when it can be trusted (:func:`trusted_client`),
    else None: the attempt then counts only against the account.
    """
    username = username.strip()
    shown = client or "unknown"
    wait = begin_sign_in(engine, username=username, client=client, now=now)
    if wait > 0:
        log.warning("sign-in throttled: user=%r client=%s wait=%.0fs", username, shown, wait)
        return None, f"Too many failed attempts: try again in {max(1.0, wait):.0f} s."
    ok = _verify(users, username, password)
    finish_sign_in(engine, username=username, client=client, ok=ok, now=now)
    if not ok:
        log.warning("sign-in failed: user=%r client=%s", username, shown)
        return None, "Wrong username or password."
    log.info("sign-in ok: user=%r client=%s", username, shown)
    return SignedIn(username, proof(username)), ""


def trusted_client(address: str | None, proxies: tuple[IPNetwork, ...]) -> str | None:
    """The client address to throttle by, or None when it identifies no one client.

    ``address`` is what the server took for the client: the TCP peer, or, when the peer
    is one of ``proxies``, the address that proxy put in X-Forwarded-For (the server is
    told which proxies to believe, see ``worker.commands.dashboard``). Loopback and
    unparseable addresses, and a proxy that forwarded none, are shared by many people.
    """
    try:
        ip = ip_address((address or "").strip())
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified or any(ip in net for net in proxies):
        return None
    return str(ip)


def sso_actor(user_info: Mapping[str, object], roles: Mapping[str, str]) -> Actor | None:
    """The actor for a single-sign-on user (Streamlit's ``st.user``), or None.

    The identity provider vouches for the e-mail address (``is_logged_in``; an
    ``email_verified`` of false is refused); ``roles`` maps an address, or a whole
    ``@domain``, to admin, viewer or rep (a rep is the rep whose key is the address).
    An address it does not list gets no access.
    """
    email = str(user_info.get("email") or "").strip().lower()
    if user_info.get("is_logged_in") is not True or user_info.get("email_verified") is False:
        return None
    if email.count("@") != 1 or not email.split("@")[0]:
        return None
    role = roles.get(email) or roles.get("@" + email.split("@")[1])
    if role not in ROLES:
        return None
    return Actor(email, role, email if role == "rep" else None)


def actor_from(signed: object, users: dict[str, User]) -> Actor | None:
    """The actor behind a session's sign-in, or None when the proof does not hold."""
    if not isinstance(signed, SignedIn) or not hmac.compare_digest(
        signed.proof, proof(signed.username)
    ):
        return None
    user = users.get(signed.username)
    return Actor(user.username, user.role, user.rep) if user else None
