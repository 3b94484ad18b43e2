"""Sign-in: users from the users file (argon2 hashes), throttled and logged attempts,
and the proof that a session really signed in.

A session that signs in holds a :class:`SignedIn` carrying an HMAC of the username made
with a secret that lives only in this server process. Every write re-derives the actor
from that proof and the users file (:func:`actor_for_write`), so a session whose state was
crafted (a role flipped to admin, a username typed in) is refused by the store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine

from worker.store.team_repo import ROLES, Actor, record_sign_in, sign_in_wait

log = logging.getLogger("leadrouter.dashboard.auth")
_SECRET = secrets.token_bytes(32)
_HASHER = PasswordHasher()
MIN_MEMORY_KIB = 19_456  # OWASP password storage cheat sheet: argon2id, m=19 MiB, t=2
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))  # equal work for unknown usernames


class UsersFileError(ValueError):
    """The users file is missing or malformed; the message names the entry."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class SignedIn:
    username: str
    proof: str


def _proof(username: str) -> str:
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
            raise UsersFileError(f"{path}: user {name!r}: role must be admin or viewer")
        problem = hash_problem(pw_hash)
        if problem:
            raise UsersFileError(f"{path}: user {name!r}: password_hash {problem}")
        if name in users:  # a later entry must never silently replace an earlier one
            raise UsersFileError(f"{path}: user #{i}: duplicate username {name!r}")
        users[name] = User(name, role, pw_hash)
    return users


def _verify(user: User | None, password: str) -> bool:
    try:
        return (
            _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
            and user is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sign_in(
    engine: Engine, users: dict[str, User], username: str, password: str, client: str
) -> tuple[SignedIn | None, str]:
    """Check a sign-in attempt; returns (proof or None, message to show)."""
    username = username.strip()
    wait = sign_in_wait(engine, username=username, client=client)
    if wait > 0:
        log.warning("sign-in throttled: user=%r client=%s wait=%.0fs", username, client, wait)
        return None, f"Too many failed attempts: try again in {wait:.0f} s."
    ok = _verify(users.get(username), password)
    record_sign_in(engine, username=username, client=client, ok=ok)
    if not ok:
        log.warning("sign-in failed: user=%r client=%s", username, client)
        return None, "Wrong username or password."
    log.info("sign-in ok: user=%r client=%s", username, client)
    return SignedIn(username, _proof(username)), ""


def actor_from(signed: object, users: dict[str, User]) -> Actor | None:
    """The actor behind a session's sign-in, or None when the proof does not hold."""
    if not isinstance(signed, SignedIn) or not hmac.compare_digest(
        signed.proof, _proof(signed.username)
    ):
        return None
    user = users.get(signed.username)
    return Actor(user.username, user.role) if user else None
