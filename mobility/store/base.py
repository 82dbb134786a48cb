"""The declarative base and how enums are stored (as strings, not native types)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "enum_column"]


class Base(DeclarativeBase):
    """Declarative base of every model."""


def enum_column(kind: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A string column holding an enum's values (portable across databases)."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        values_callable=lambda e: [m.value for m in e],
        length=length,
    )
