"""Random codes that people read aloud and copy by hand."""

from __future__ import annotations

import secrets
from typing import Final

__all__ = ["BOOKING_CODE_LENGTH", "CODE_ALPHABET", "WORKER_CODE_LENGTH", "random_code"]

#: No 0/O, 1/I/L, 5/S, 8/B look-alikes.
CODE_ALPHABET: Final = "ACDEFGHJKMNPQRTUVWXY2345679"
WORKER_CODE_LENGTH: Final = 8
BOOKING_CODE_LENGTH: Final = 7


def random_code(length: int) -> str:
    """A random code of ``length`` characters from :data:`CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
