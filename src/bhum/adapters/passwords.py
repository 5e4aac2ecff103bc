"""Password hashing with argon2id (argon2-cffi). Implements ``bhum.services.access.PasswordHasher``."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2PasswordHasher:
    """argon2id with argon2-cffi's recommended parameters by default.

    ``needs_rehash`` is true for hashes made with other parameters, so raising the cost here upgrades
    stored hashes as users sign in (``bhum.services.access.authenticate``).
    """

    def __init__(self, *, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)

    @classmethod
    def fast_for_tests(cls) -> Argon2PasswordHasher:
        """Cheap parameters so test suites stay fast. Never use in production."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        return str(self._argon2.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._argon2.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return bool(self._argon2.check_needs_rehash(password_hash))
        except (InvalidHashError, ValueError):
            return True
