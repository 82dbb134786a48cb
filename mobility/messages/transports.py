"""How a message leaves: ``log`` (writes it to the log; demo and tests), ``http`` (a
generic gateway) or ``jasmin`` (the HTTP API of Jasmin, the open-source SMS gateway a
hub can run itself). Chosen with ``MOBILITY_SMS_BACKEND``.

Every transport answers with a :class:`Delivery`: accepted, failed for good (a 4xx:
this message will never go), or to retry (a 5xx, a timeout, no connection).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import requests

from mobility.errors import ConfigError
from mobility.messages.texts import is_gsm

__all__ = [
    "Delivery",
    "HttpTransport",
    "JasminTransport",
    "LogTransport",
    "Outcome",
    "Transport",
    "make_transport",
]

log = logging.getLogger(__name__)

#: Seconds to wait for a gateway before trying again later.
TIMEOUT_S: Final = 10


class Outcome(enum.Enum):
    """What became of one try."""

    ACCEPTED = "accepted"
    PERMANENT = "permanent"
    RETRY = "retry"


@dataclass(frozen=True)
class Delivery:
    """The gateway's answer: the outcome, its id for the message, or why it failed."""

    outcome: Outcome
    gateway_id: str | None = None
    detail: str = ""


class Transport(Protocol):
    """A way to send one SMS."""

    name: str

    def send(self, key: str, to: str, text: str) -> Delivery:
        """Send ``text`` to ``to`` (E.164); ``key`` lets the gateway drop a repeat."""
        ...


class LogTransport:
    """Takes a message as sent without sending it, and logs that it did: its key and
    length, never its text or number (a log is read by more people than the outbox).
    For development, and for a hub without a gateway yet, which must say so on
    purpose in production (``MOBILITY_SMS_BACKEND=log``)."""

    name = "log"

    def send(self, key: str, to: str, text: str) -> Delivery:
        log.info("SMS %s not sent (backend log): %d characters", key, len(text))
        return Delivery(Outcome.ACCEPTED, f"log-{key}")


def _by_status(response: requests.Response) -> Delivery:
    body = response.text[:200]
    if 200 <= response.status_code < 300:
        return Delivery(Outcome.ACCEPTED, body.strip() or None)
    if 400 <= response.status_code < 500:
        return Delivery(Outcome.PERMANENT, detail=f"{response.status_code} {body}")
    return Delivery(Outcome.RETRY, detail=f"{response.status_code} {body}")


class HttpTransport:
    """A generic gateway: ``POST url`` with JSON ``{"id", "to", "text"}`` and a bearer
    token; 2xx accepted, 4xx failed for good, 5xx or a timeout retried."""

    name = "http"

    def __init__(self, url: str, token: str, session: requests.Session | None = None) -> None:
        self.url, self.token = url, token
        self.session = session or requests.Session()

    def send(self, key: str, to: str, text: str) -> Delivery:
        try:
            response = self.session.post(
                self.url,
                json={"id": key, "to": to, "text": text},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as exc:
            return Delivery(Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}"[:200])
        return _by_status(response)


class JasminTransport:
    """Jasmin's HTTP API (``POST /send``): GSM text as it is, anything else as UCS-2
    (``coding=8``, the content in UTF-16BE). It answers ``Success "<id>"``."""

    name = "jasmin"

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        sender: str = "",
        session: requests.Session | None = None,
    ) -> None:
        self.url, self.username, self.password, self.sender = url, username, password, sender
        self.session = session or requests.Session()

    def send(self, key: str, to: str, text: str) -> Delivery:
        params: dict[str, Any] = {"username": self.username, "password": self.password, "to": to}
        if self.sender:
            params["from"] = self.sender
        if is_gsm(text):
            params["content"] = text
        else:
            params["coding"] = "8"
            params["content"] = text.encode("utf-16-be")
        try:
            response = self.session.post(self.url, data=params, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            return Delivery(Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}"[:200])
        delivery = _by_status(response)
        if delivery.outcome is Outcome.ACCEPTED and delivery.gateway_id:
            return Delivery(
                Outcome.ACCEPTED, delivery.gateway_id.removeprefix("Success ").strip('"')
            )
        return delivery


def make_transport(settings: Mapping[str, str]) -> Transport:
    """The transport the ``MOBILITY_SMS_*`` settings name (names without the prefix).

    Raises
    ------
    ConfigError
        Naming the missing or bad setting.
    """
    backend = (settings.get("SMS_BACKEND") or "log").strip().lower()
    if backend == "log":
        return LogTransport()
    url = (settings.get("SMS_URL") or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"MOBILITY_SMS_URL: {url!r} is not an http(s) URL (backend {backend})")
    if backend == "http":
        token = settings.get("SMS_TOKEN") or ""
        if not token:
            raise ConfigError("MOBILITY_SMS_TOKEN: required by the http backend")
        return HttpTransport(url, token)
    if backend == "jasmin":
        username, password = settings.get("SMS_USERNAME") or "", settings.get("SMS_PASSWORD") or ""
        if not username or not password:
            raise ConfigError("MOBILITY_SMS_USERNAME, MOBILITY_SMS_PASSWORD: required by jasmin")
        return JasminTransport(url, username, password, settings.get("SMS_FROM") or "")
    raise ConfigError(f"MOBILITY_SMS_BACKEND: {backend!r} is not log, http or jasmin")
