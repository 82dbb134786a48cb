"""Slow hashes of the secrets people type: workers' PINs and staff passwords.

scrypt with werkzeug's parameters (N=32768, r=8, p=1: about 82 ms of CPU a hash), so
that a stolen database gives up its PINs slowly; the lock-out after five wrong PINs
protects them online.
"""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

__all__ = ["HASH_METHOD", "SCRYPT", "check_secret", "hash_secret", "spend_a_check"]

SCRYPT = "scrypt:32768:8:1"
#: The method of new hashes (a hash names its own method, so old ones still check).
HASH_METHOD = SCRYPT


def hash_secret(secret: str) -> str:
    """A salted slow hash of ``secret``."""
    return generate_password_hash(secret, method=HASH_METHOD)


def check_secret(hashed: str, secret: str) -> bool:
    """Whether ``secret`` is the one ``hashed`` was made from."""
    return check_password_hash(hashed, secret)


@cache
def _dummy(method: str) -> str:
    return generate_password_hash("not-a-secret", method=method)


def spend_a_check(secret: str) -> None:
    """Spend the time of a real check, so that an unknown name or code answers as
    slowly as a known one with a wrong secret."""
    check_password_hash(_dummy(HASH_METHOD), secret)
