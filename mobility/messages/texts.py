"""What a message says, in the worker's language, and how many SMS it takes.

GSM 03.38 text fits 160 characters in one SMS and 153 a part when concatenated (the
characters of the extension table count twice); anything outside that alphabet
switches the whole message to UCS-2: 70 characters, 67 a part. Arabic and Bulgarian
are always UCS-2, and so are Romanian or French texts with letters such as "ș" or
"ç". Every message must fit in :data:`MAX_SEGMENTS` parts: when one would not, the
stop's name is shortened (the booking code, date, time and hub phone always stay).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Final

from mobility.clock import hhmm
from mobility.i18n import gettext_for
from mobility.store import MessageKind

__all__ = ["MAX_SEGMENTS", "MessageFacts", "compose", "is_gsm", "segments"]

MAX_SEGMENTS: Final = 2
_GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION: Final = frozenset("^{}\\[~]|€\f")


def is_gsm(text: str) -> bool:
    """Whether ``text`` is written in the GSM 03.38 alphabet (else it goes as UCS-2)."""
    return all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in text)


def segments(text: str) -> int:
    """How many SMS parts ``text`` takes (0 for an empty text)."""
    if not text:
        return 0
    if is_gsm(text):
        septets = sum(2 if c in _GSM_EXTENSION else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-be")) // 2  # characters beyond the BMP take two
    return 1 if units <= 70 else math.ceil(units / 67)


@dataclass(frozen=True)
class MessageFacts:
    """What a message is about: a booking's code, day, pickup time and place, and
    for a crew that rides in part, (seats with a ride, seats booked)."""

    code: str
    service_date: dt.date
    pickup_min: int | None
    stop: str
    hub_phone: str
    part: tuple[int, int] | None = None


def _render(kind: MessageKind, facts: MessageFacts, stop: str, language: str) -> str:
    _ = gettext_for(language)
    values: dict[str, object] = {
        "date": facts.service_date.strftime("%d/%m"),
        "time": hhmm(facts.pickup_min),
        "stop": stop,
        "code": facts.code,
        "phone": facts.hub_phone,
    }
    if kind is MessageKind.PICKUP and facts.part is not None:
        values["n"], values["seats"] = facts.part
        template = _(
            "Passaggio %(date)s: %(n)s of your %(seats)s seats, pickup %(time)s at %(stop)s. "
            "Code %(code)s. Free ride. Hub %(phone)s"
        )
    elif kind is MessageKind.PICKUP:
        template = _(
            "Passaggio %(date)s: pickup %(time)s at %(stop)s. Code %(code)s. "
            "Free ride: nobody may ask you for money. Hub %(phone)s"
        )
    elif kind is MessageKind.REMINDER:
        template = _(
            "Passaggio tomorrow %(date)s: pickup %(time)s at %(stop)s. Code %(code)s. "
            "Free ride. Hub %(phone)s"
        )
    elif kind is MessageKind.ON_ITS_WAY:
        template = _(
            "Passaggio %(date)s: your vehicle is on its way to %(stop)s, there about %(time)s. "
            "Code %(code)s. Hub %(phone)s"
        )
    elif kind is MessageKind.UNSERVED:
        template = _(
            "Passaggio %(date)s: no seat found for ride %(code)s. Please call the hub %(phone)s"
        )
    elif facts.pickup_min is None:  # a change without a pickup: the hub cancelled it
        template = _("Passaggio %(date)s: the hub cancelled ride %(code)s. Hub %(phone)s")
    else:
        template = _(
            "Passaggio %(date)s: NEW pickup time %(time)s at %(stop)s. Code %(code)s. Hub %(phone)s"
        )
    return template % values


def compose(kind: MessageKind, facts: MessageFacts, language: str) -> str:
    """The message in ``language``, in at most :data:`MAX_SEGMENTS` SMS parts.

    Raises
    ------
    ValueError
        If even with the stop's name cut short the text is too long (a catalogue
        entry that grew: the tests of every language catch it).
    """
    stop = facts.stop
    while True:
        text = _render(kind, facts, stop, language)
        if segments(text) <= MAX_SEGMENTS:
            return text
        if len(stop) <= 8:
            raise ValueError(f"message {kind.value} in {language}: too long even shortened")
        # the template's full stop follows: "Borgo Mezz.." reads "Borgo Mezz..."
        stop = stop[: max(8, len(stop) - 8)].rstrip(" .,-(") + ".."
