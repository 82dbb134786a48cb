"""Languages: choice remembered in a cookie, right-to-left for Arabic, and the
sentences for the rule codes of :class:`mobility.errors.ServiceError`. The
catalogues are :data:`mobility.i18n.CATALOGUES`, shared with the sheets and
messages written outside a request."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale, lazy_gettext
from flask_babel import gettext as _

from mobility.codes import UnservedReason
from mobility.errors import ServiceError
from mobility.i18n import CATALOGUES, RTL_LANGUAGES

__all__ = [
    "LANGUAGE_NAMES",
    "REASON_ACTIONS",
    "REASON_TEXTS",
    "current_language",
    "error_text",
    "init_app",
    "reason_action",
    "reason_text",
    "text_direction",
]

COOKIE = "lang"
#: Each language named in itself, so a reader finds their own.
LANGUAGE_NAMES = {
    "it": "Italiano",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "bg": "Български",
    "ro": "Română",
}

babel = Babel()


def select_locale() -> str:
    """The cookie's language, else the browser's best match, else Italian."""
    languages: list[str] = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    """Code of the language of this request."""
    return str(get_locale() or "it")


def text_direction() -> str:
    """``rtl`` for Arabic, else ``ltr``."""
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


_MESSAGES: dict[str, Any] = {
    "required": lazy_gettext("Please fill in this field."),
    "unknown_stop": lazy_gettext("Please choose a stop from the list."),
    "wrong_stop_kind": lazy_gettext("This stop cannot be used for this part of the ride."),
    "same_stop": lazy_gettext("Pickup and destination must be different."),
    "date_past": lazy_gettext("This date is in the past."),
    "date_too_far": lazy_gettext("You can book at most %(days)s days ahead."),
    "seats_range": lazy_gettext("Seats must be between %(low)s and %(high)s."),
    "bad_time": lazy_gettext("Please choose a time."),
    "duplicate_direction": lazy_gettext("You already have a ride booked that way on this day."),
    "repeat_before_start": lazy_gettext("The last day must come after the first day."),
    "auth_failed": lazy_gettext(
        "Code or PIN is wrong, or there were too many attempts. Try again later or ask the hub."
    ),
    "not_found": lazy_gettext("Not found."),
    "not_cancellable": lazy_gettext("This ride can no longer be cancelled."),
    "bad_language": lazy_gettext("Please choose a language."),
    "bad_phone": lazy_gettext("This is not a phone number."),
    "bad_kind": lazy_gettext("Please choose what happened."),
    "text_too_long": lazy_gettext("The text is too long (at most %(high)s characters)."),
    "bad_key": lazy_gettext("Invalid request key."),
    "run_active": lazy_gettext("A planning run of this day is going already. Wait for it to end."),
    "not_failed": lazy_gettext("Only a failed message can be sent again."),
    "no_phone": lazy_gettext("The worker has no phone number any more."),
    "taken": lazy_gettext("This name is taken already."),
    "bad_profile": lazy_gettext("Please choose a kind of vehicle."),
    "bad_category": lazy_gettext("Only a service stop has a service category."),
    "bad_role": lazy_gettext("Please choose a role."),
    "weak_password": lazy_gettext("The password must have at least 10 characters."),
    "no_fleet": lazy_gettext("There is no active vehicle: add vehicles to the fleet first."),
    "no_plan": lazy_gettext("This day has no plan yet: plan it first."),
    "off_map": lazy_gettext("This point is too far from any road the vehicles can use."),
    "run_failed": lazy_gettext("The planning run failed: see its reason on the day page."),
    "run_abandoned": lazy_gettext("The planning run was stopped; nothing was saved."),
    "token_invalid": lazy_gettext("Your session has ended: sign in again."),
    "link_invalid": lazy_gettext("This is not a manifest link of this service."),
    "link_revoked": lazy_gettext("This link was replaced by a newer one: ask the hub."),
    "link_expired": lazy_gettext("This link was for a day whose shift is over."),
    "no_show_too_early": lazy_gettext(
        "A no-show can be recorded only after waiting 5 minutes past the pickup time."
    ),
    "far_from_stop": lazy_gettext("You are far from this stop."),
    "undo_too_late": lazy_gettext("A tap can be undone only within 2 minutes."),
    "late_range": lazy_gettext("Minutes late must be between %(low)s and %(high)s."),
    "already_left": lazy_gettext(
        "This vehicle has already left its depot: say it is out of service instead."
    ),
    "bad_month": lazy_gettext("Please give a month as YYYY-MM."),
    "bad_period": lazy_gettext("Please choose a day, a week, a month or the season."),
    "stale_replan": lazy_gettext(
        "This re-plan is no longer the newest one of the day: re-plan again."
    ),
}


#: ``not_found`` says what was not found.
_NOT_FOUND: dict[str, Any] = {
    "booking": lazy_gettext("Booking not found."),
    "vehicle": lazy_gettext("No such vehicle."),
    "driver": lazy_gettext("No such driver."),
    "username": lazy_gettext("No such user."),
    "message": lazy_gettext("No such message."),
}

#: Why a booking has no ride, by code, as staff and workers read it.
REASON_TEXTS: dict[UnservedReason, Any] = {
    UnservedReason.FLEET_FULL: lazy_gettext("No room left in the fleet at that time"),
    UnservedReason.UNREACHABLE: lazy_gettext(
        "No vehicle can serve it within its time window and ride time"
    ),
    UnservedReason.NO_VEHICLE_MAY_SERVE: lazy_gettext("No vehicle may drive there"),
    UnservedReason.TOO_MANY_SEATS: lazy_gettext("More seats than any vehicle that may go there"),
    UnservedReason.NO_FLEET: lazy_gettext("No vehicle in the fleet"),
    UnservedReason.LEFT_UNASSIGNED: lazy_gettext("Left unassigned by a dispatcher"),
}

#: What a dispatcher can do about each reason.
REASON_ACTIONS: dict[UnservedReason, Any] = {
    UnservedReason.FLEET_FULL: lazy_gettext(
        "Add a vehicle free at that time (see the fleet sizing), or agree another time with "
        "the crew."
    ),
    UnservedReason.UNREACHABLE: lazy_gettext(
        "No vehicle reaches it in time from its depot: move the time, or base a vehicle nearer."
    ),
    UnservedReason.NO_VEHICLE_MAY_SERVE: lazy_gettext(
        "No vehicle of the fleet may drive there: a minibus is needed."
    ),
    UnservedReason.TOO_MANY_SEATS: lazy_gettext(
        "Larger than any vehicle that may go there: split the booking or add a larger vehicle."
    ),
    UnservedReason.NO_FLEET: lazy_gettext("Add vehicles to the fleet."),
    UnservedReason.LEFT_UNASSIGNED: lazy_gettext("Left out by a dispatcher: move it to a vehicle."),
}


def _reason(text: str | None) -> UnservedReason | None:
    try:
        return UnservedReason(text) if text else None
    except ValueError:
        return None


def reason_text(reason: str | None) -> str:
    """A reason code as a sentence in the current language (anything else, such as a
    vehicle's name, as it is)."""
    code = _reason(reason)
    return str(REASON_TEXTS[code]) if code is not None else reason or ""


def reason_action(reason: str | None) -> str:
    """What a dispatcher can do about a reason code (empty for anything else)."""
    code = _reason(reason)
    return str(REASON_ACTIONS[code]) if code is not None else ""


def error_text(error: ServiceError) -> str:
    """The rule broken, as a sentence in the current language."""
    template = _MESSAGES.get(error.code)
    if error.code == "not_found":
        template = _NOT_FOUND.get(error.field, template)
    if template is None:
        return _("Something is wrong with this field.")
    return str(template) % error.params if error.params else str(template)


def init_app(app: Flask) -> None:
    """Attach Flask-Babel and the template helpers."""
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(CATALOGUES),
    )

    @app.context_processor
    def _language_helpers() -> dict[str, Any]:
        return {
            "lang": current_language(),
            "text_dir": text_direction(),
            "language_names": LANGUAGE_NAMES,
            "reason_text": reason_text,
        }
