"""The argon2id password adapter."""

from __future__ import annotations

from bhum.adapters.passwords import Argon2PasswordHasher


def test_hash_verifies_only_the_same_password() -> None:
    hasher = Argon2PasswordHasher.fast_for_tests()
    h = hasher.hash("correct horse battery staple")
    assert h.startswith("$argon2id$")
    assert hasher.verify(h, "correct horse battery staple")
    assert not hasher.verify(h, "correct horse battery stapler")
    assert hasher.hash("correct horse battery staple") != h  # salted


def test_garbage_hash_never_verifies_and_needs_rehash() -> None:
    hasher = Argon2PasswordHasher.fast_for_tests()
    assert not hasher.verify("not-a-hash", "anything")
    assert not hasher.verify("", "")
    assert hasher.needs_rehash("not-a-hash")


def test_needs_rehash_when_parameters_change() -> None:
    old = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    new = Argon2PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    h = old.hash("pw-pw-pw-pw-pw")
    assert not old.needs_rehash(h)
    assert new.needs_rehash(h)
    assert new.verify(h, "pw-pw-pw-pw-pw")  # old hashes still verify until replaced
