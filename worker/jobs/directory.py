"""Who is who in the org, cached: intake queue Ids, rep User Ids and User.IsActive.

Reps are keyed by e-mail in the config; their User Ids are resolved by one bulk query
and cached (they never change). ``IsActive`` is re-read at most every ``active_ttl``
seconds, in one bulk query for all reps; a write refused for an inactive owner marks a
user inactive at once (:meth:`mark_inactive`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from worker.notify.model import Contact
from worker.sfdc.gateway import SalesforceGateway
from worker.sfdc.mapping import UserRow


class Directory:
    def __init__(
        self,
        gateway: SalesforceGateway,
        *,
        active_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gateway = gateway
        self.active_ttl = active_ttl
        self.clock = clock
        self._queues: dict[str, str] = {}
        self._users: dict[str, UserRow | None] = {}  # rep key (lower e-mail) -> user
        self._active: dict[str, bool] = {}
        self._active_at = float("-inf")
        self._names: dict[str, str] = {}
        self._by_id: dict[str, UserRow | None] = {}  # owners who need not be reps
        self._refresh = threading.Lock()  # the intake's read-ahead thread asks too

    def queue_ids(self, developer_names: Sequence[str]) -> dict[str, str]:
        """DeveloperName -> Group Id for the given queues (queried once each)."""
        missing = [n for n in developer_names if n not in self._queues]
        if missing:
            self._queues.update(self.gateway.queue_ids(missing))
        return {n: self._queues[n] for n in developer_names if n in self._queues}

    def users(self, rep_keys: Iterable[str]) -> dict[str, UserRow | None]:
        """Rep key -> Salesforce user (None when no user has that e-mail or username)."""
        keys = [k.lower() for k in rep_keys]
        missing = [k for k in keys if k not in self._users]
        if missing:
            found: dict[str, UserRow] = {}
            for user in self.gateway.users_by_email(missing):
                for key in (user.email, user.username):
                    # an exact username match wins over a shared e-mail address
                    if key in missing and (key not in found or key == user.username):
                        found[key] = user
            for key in missing:
                self._users[key] = found.get(key)
                if key in found:
                    self._active[found[key].id] = found[key].is_active
                    self._names[found[key].id] = found[key].name
            self._active_at = self.clock()
        return {k: self._users[k] for k in keys}

    def active(self) -> dict[str, bool]:
        """User Id -> IsActive for every known rep user, refreshed after ``active_ttl``."""
        with self._refresh:  # one refresh, not one per thread that finds it due
            if self.clock() - self._active_at >= self.active_ttl and self._active:
                self._active.update(self.gateway.users_active(list(self._active)))
                self._active_at = self.clock()
        return dict(self._active)

    def mark_inactive(self, user_id: str) -> None:
        self._active[user_id] = False

    def owners(self, user_ids: Iterable[str]) -> dict[str, UserRow | None]:
        """User Id -> user, for owners who need not be configured reps (an account's
        owner), and their managers resolved by e-mail, so that :meth:`contacts` knows
        both. One query per batch of unknown Ids; cached like :meth:`users`."""
        ids = list(dict.fromkeys(user_ids))
        missing = [i for i in ids if i not in self._by_id]
        if missing:
            found = {u.id: u for u in self.gateway.users_by_id(missing)}
            for i in missing:
                self._by_id[i] = found.get(i)
                if i in found:
                    self._names.setdefault(i, found[i].name)
        managers = {u.manager_email for i in ids if (u := self._by_id[i]) and u.manager_email}
        if managers:
            self.users(sorted(managers))
        return {i: self._by_id[i] for i in ids}

    def name_of(self, user_id: str | None) -> str | None:
        return self._names.get(user_id) if user_id else None

    def snapshot(self, rep_keys: Iterable[str]) -> dict[str, dict[str, object]]:
        """Rep key -> its user as known now (id, active, name): what the dashboard's
        What-if needs to replay as the worker decided. Cached values only, never a query
        (an idle cycle must not cost an API call)."""
        active = dict(self._active)
        out: dict[str, dict[str, object]] = {}
        for key in rep_keys:
            user = self._users.get(key.lower())
            if user is not None:
                out[key] = {"user_id": user.id, "active": active.get(user.id, user.is_active),
                            "name": user.name}  # fmt: skip
        return out

    def contacts(self) -> dict[str, Contact]:
        """User Id and e-mail -> :class:`Contact` of every cached rep user (for notifications;
        no query: the users were read when their keys were first resolved)."""
        out: dict[str, Contact] = {}
        for user in [*self._by_id.values(), *self._users.values()]:
            if user is not None:
                contact = Contact(email=user.email or None, name=user.name or None,
                                  manager=user.manager_email)  # fmt: skip
                out[user.id] = contact
                if user.email:
                    out[user.email] = contact
        return out
