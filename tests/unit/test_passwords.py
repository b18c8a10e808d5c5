"""Password hashing with the production Argon2 parameters (no fast-hashing fixture here)."""

from __future__ import annotations

from argon2 import PasswordHasher

from workbench.security.passwords import hash_password, needs_rehash, verify_password

PASSWORD = "a-long-enough-password"


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert PASSWORD not in first
    assert first != second  # a fresh salt each time


def test_verify_right_and_wrong_password() -> None:
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD) is True
    assert verify_password(stored, PASSWORD + "!") is False
    assert verify_password(stored, "") is False


def test_verify_a_malformed_hash_is_false_not_an_error() -> None:
    assert verify_password("not-a-hash", PASSWORD) is False
    assert verify_password("$argon2id$v=19$m=65536,t=3,p=4$broken", PASSWORD) is False


def test_needs_rehash_only_for_other_parameters() -> None:
    assert needs_rehash(hash_password(PASSWORD)) is False
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak) is True
    assert verify_password(weak, PASSWORD) is True  # old hashes still verify until re-hashed
