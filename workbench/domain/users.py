"""Users and the roles that decide which pages they see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    ANNOTATOR = "annotator"
    VIEWER = "viewer"


USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD_LENGTH = 10


class InvalidUsername(ValueError):
    pass


class WeakPassword(ValueError):
    pass


def normalise_username(raw: str) -> str:
    """Lower-case and validate a username; raises InvalidUsername with a readable reason."""
    name = raw.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise InvalidUsername(
            "A username is 2-63 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if password.strip().lower() in {"password123", "changeme123", "administrator"}:
        raise WeakPassword("That password is too common; choose another.")


@dataclass(frozen=True, slots=True)
class UserView:
    """What the UI may know about a user: never the password hash."""

    id: str
    username: str
    display_name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
