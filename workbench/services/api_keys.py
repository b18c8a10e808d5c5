"""API keys: what another program signs in with to the HTTP API, acting as the user who made the key, with that
user's role. A key is shown once, when made; only its SHA-256 is stored. A revoked or expired key, or a key of a
disabled user, is refused at its next use."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from workbench.domain.clock import utcnow
from workbench.domain.users import UserView
from workbench.services.users import UserError, user_view
from workbench.storage.ports import UnitOfWork
from workbench.storage.sql.models import ApiKeyRow

KEY_PREFIX = "wbk_"  # says what the secret is when it turns up in a log or a leaked file
_SHOWN = 12  # characters of the key kept in the clear, to tell keys apart
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often: not one write per request
MAX_KEYS_PER_USER = 50


class ApiKeyError(UserError):
    """A key action that cannot be done; the message is safe to show."""


class ApiKeyRefused(ApiKeyError):
    """The key does not sign anyone in; the message says why (unknown, revoked, expired, user disabled)."""


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: ApiKeyView
    secret: str  # the whole key: shown to its user once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key_view(row: ApiKeyRow) -> ApiKeyView:
    return ApiKeyView(row.id, row.name, row.prefix, row.created_at, row.expires_at, row.revoked_at, row.last_used_at)


def create_key(uow: UnitOfWork, user_id: str, name: str, *, expires_in_days: int | None = None) -> NewApiKey:
    name = name.strip()
    if not name or len(name) > 64:
        raise ApiKeyError("give the key a name of 1 to 64 characters (what uses it: 'ci', 'support bot')")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ApiKeyError("a key expires after 1 to 3650 days, or never")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with uow:
        user = uow.users.get(user_id)
        if user is None or not user.is_active:
            raise ApiKeyError("only an active user can make API keys")
        if len(uow.api_keys.list_for_user(user_id)) >= MAX_KEYS_PER_USER:
            raise ApiKeyError(f"a user has at most {MAX_KEYS_PER_USER} keys: revoke one you no longer use")
        now = utcnow()
        row = ApiKeyRow(
            user_id=user_id, name=name, prefix=secret[:_SHOWN], secret_sha256=digest(secret), created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days is not None else None,
        )  # fmt: skip
        uow.api_keys.add(row)
        uow.commit()
        return NewApiKey(_key_view(row), secret)


def list_keys(uow: UnitOfWork, user_id: str) -> list[ApiKeyView]:
    with uow:
        return [_key_view(row) for row in uow.api_keys.list_for_user(user_id)]


def revoke_key(uow: UnitOfWork, user_id: str, key_id: str) -> ApiKeyView:
    """Revoke one of the user's own keys (idempotent)."""
    with uow:
        row = uow.api_keys.get(key_id)
        if row is None or row.user_id != user_id:
            raise ApiKeyError("no such key of yours")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        uow.commit()
        return _key_view(row)


def authenticate_key(uow: UnitOfWork, secret: str) -> UserView:
    """The user a key signs in, now; raises ApiKeyRefused with the reason otherwise."""
    if not secret.startswith(KEY_PREFIX):
        raise ApiKeyRefused(f"not a workbench API key (they start with {KEY_PREFIX}; make one on the Account page)")
    with uow:
        # Looked up by its hash: a key that is almost right finds nothing, and says nothing about the right one.
        row = uow.api_keys.by_secret(digest(secret))
        if row is None:
            raise ApiKeyRefused("unknown API key")
        now = utcnow()
        if row.revoked_at is not None:
            raise ApiKeyRefused("this API key was revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise ApiKeyRefused("this API key has expired: make a new one on the Account page")
        user = uow.users.get(row.user_id)
        if user is None or not user.is_active:
            raise ApiKeyRefused("the user of this API key is disabled")
        if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
            row.last_used_at = now
            uow.commit()
        return user_view(user)
