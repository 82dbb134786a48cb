"""Worker pages (blueprint ``booking``): register, book, my rides, report.

Views parse the form, call one service, then render or redirect. A worker signs in
with personal code and PIN; the session then holds only the worker's id, for a
limited time. No personal data goes into URLs or logs.
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from mobility.bookings import (
    BookingRules,
    RideRequest,
    authenticate_worker,
    cancel_booking,
    delete_account,
    list_bookings,
    register_worker,
    request_rides,
    set_phone,
    submit_incident,
    worker_data,
)
from mobility.clock import hhmm, parse_hhmm
from mobility.dispatch import ride_outcomes
from mobility.errors import ServiceError
from mobility.i18n import LANGUAGES
from mobility.service_stops import DESTINATION_GROUPS
from mobility.stops import DESTINATION_KINDS, PICKUP_KINDS, get_stops, list_stops
from mobility.store import Stop, StopKind
from web.booking.forms import (
    PURPOSES,
    BookForm,
    CancelForm,
    DeleteAccountForm,
    LoginForm,
    RegisterForm,
    ReportForm,
    SmsForm,
)
from web.db import get_session
from web.extensions import limiter
from web.i18n import COOKIE, current_language, error_text
from web.security import local_path
from web.settings import get_settings
from web.worker_session import (
    acting_staff_id,
    audit_acting,
    current_worker,
    current_worker_or_abort,
    forget_worker,
    made_by,
    own_worker_required,
    remember_worker,
    worker_required,
)

bp = Blueprint("booking", __name__, template_folder="../templates/booking")


@bp.app_template_filter("hhmm")
def _hhmm_filter(minutes: int | None) -> str:
    return hhmm(minutes)


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("booking.index")


# --------------------------------------------------------------------------- pages


@bp.route("/")
def index() -> ResponseReturnValue:
    """Home: what the service is, and the three things a worker can do."""
    return render_template("index.html", worker=current_worker())


@bp.route("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Remember the language in a cookie and go back."""
    if code not in LANGUAGES:
        abort(404)
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def register() -> ResponseReturnValue:
    """Get a personal code and PIN, shown once as a card."""
    form = RegisterForm(language=current_language())
    if form.validate_on_submit():
        phone = form.phone.data if form.sms.data else None
        try:
            worker, pin = register_worker(
                get_session(), language=form.language.data or "it", phone=phone
            )
        except ServiceError as err:
            getattr(form, err.field, form.phone).errors.append(error_text(err))
        else:
            forget_worker()
            remember_worker(worker.id)
            response = current_app.make_response(
                render_template("card.html", code=worker.code, pin=pin)
            )
            response.set_cookie(COOKIE, worker.language, max_age=365 * 24 * 3600, samesite="Lax")
            return response
    return render_template("register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;60/hour", methods=["POST"])
def login() -> ResponseReturnValue:
    """Sign in with personal code and PIN."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            worker = authenticate_worker(
                get_session(),
                form.code.data or "",
                form.pin.data or "",
                rules=get_settings().booking,
            )
        except ServiceError as err:
            form.pin.errors.append(error_text(err))
        else:
            forget_worker()
            remember_worker(worker.id)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Forget the signed-in worker."""
    form = CancelForm()  # any FlaskForm: checks the CSRF token
    form.validate()
    forget_worker()
    return redirect(url_for("booking.index"))


def _booking_choices(form: BookForm, db: Session, rules: BookingRules, purpose: str) -> None:
    today = rules.today()
    pickups = list_stops(db, kinds=PICKUP_KINDS)
    categories = DESTINATION_GROUPS[purpose]
    if categories:
        destinations = [
            s for s in list_stops(db, kinds=[StopKind.SERVICE]) if s.category in categories
        ]
    else:
        destinations = [s for s in list_stops(db, kinds=DESTINATION_KINDS) if s.category is None]
    form.from_stop.choices = _placed_choices(pickups)
    form.to_stop.choices = _placed_choices(destinations)
    days = [today + dt.timedelta(days=n) for n in range(rules.max_days_ahead + 1)]
    form.date.choices = [SelectChoice(d.isoformat(), _day_label(d, today)) for d in days]
    form.repeat_until.choices = form.date.choices
    # work: arrive in the fields at dawn; services: an appointment in office hours
    first, last, back_first, back_last = (
        (7 * 60 + 30, 17 * 60, 8 * 60, 20 * 60)
        if categories
        else (4 * 60, 10 * 60, 11 * 60, 21 * 60)
    )
    form.time.choices = [SelectChoice(hhmm(m), hhmm(m)) for m in range(first, last + 1, 15)]
    form.return_time.choices = [
        SelectChoice(hhmm(m), hhmm(m)) for m in range(back_first, back_last + 1, 15)
    ]
    if not form.is_submitted():
        tomorrow = (today + dt.timedelta(days=1)).isoformat()
        form.date.data = tomorrow
        form.repeat_until.data = tomorrow
        form.time.data = "09:00" if categories else "06:00"
        form.return_time.data = "12:00" if categories else "17:00"
        form.purpose.data = purpose


def _booking_form(db: Session, rules: BookingRules) -> tuple[BookForm, str]:
    """The booking form with its choices for the destination group asked for (the
    ``for`` query argument, then the form's own hidden field)."""
    form = BookForm()
    purpose = (form.purpose.data if form.is_submitted() else request.args.get("for")) or "work"
    if purpose not in DESTINATION_GROUPS:
        purpose = "work"
    _booking_choices(form, db, rules, purpose)
    return form, purpose


def _placed_choices(stops: list[Stop]) -> list[SelectChoice]:
    """Stops that have a place, with their coordinates for "nearest first"."""
    return [
        SelectChoice(
            str(s.id), s.name, render_kw={"data-lat": f"{s.lat:.5f}", "data-lon": f"{s.lon:.5f}"}
        )
        for s in stops
        if s.lat is not None and s.lon is not None
    ]


def _day_label(day: dt.date, today: dt.date) -> str:
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    label = f"{names[day.weekday()]} {day.day:02d}/{day.month:02d}"
    if day == today + dt.timedelta(days=1):
        label += " - " + _("tomorrow")
    elif day == today:
        label += " - " + _("today")
    return label


def _ride_from_form(form: BookForm) -> RideRequest:
    """Parse the form into a ride request (field errors as ServiceError)."""
    try:
        day = dt.date.fromisoformat(form.date.data or "")
    except ValueError:
        raise ServiceError("date", "required", "date") from None
    minute = parse_hhmm(form.time.data)
    if minute is None:
        raise ServiceError("time", "bad_time", "time")
    back = parse_hhmm(form.return_time.data) if form.with_return.data else None
    if form.with_return.data and back is None:
        raise ServiceError("return_time", "bad_time", "return_time")
    until = None
    if form.repeat.data:
        try:
            until = dt.date.fromisoformat(form.repeat_until.data or "")
        except ValueError:
            raise ServiceError("repeat_until", "required", "repeat_until") from None
    return RideRequest(
        service_date=day,
        from_stop_id=form.from_stop.data or 0,
        to_stop_id=form.to_stop.data or 0,
        time_min=minute,
        seats=form.seats.data or 0,
        return_time_min=back,
        repeat_until=until,
        allow_parts=bool(form.allow_parts.data),
    )


@bp.route("/book", methods=["GET", "POST"])
@worker_required
@limiter.limit("30/hour", methods=["POST"])
def book() -> ResponseReturnValue:
    """The booking form; a valid form goes to the confirmation page."""
    db = get_session()
    rules = get_settings().booking
    form, purpose = _booking_form(db, rules)
    if form.validate_on_submit():
        try:
            ride = _ride_from_form(form)
            request_rides(db, current_worker_or_abort(), ride, rules=rules, dry_run=True)
        except ServiceError as err:
            getattr(form, err.field, form.date).errors.append(error_text(err))
        else:
            form.nonce.data = secrets.token_hex(12)
            stops = get_stops(db, [ride.from_stop_id, ride.to_stop_id])
            return render_template(
                "confirm.html",
                form=form,
                ride=ride,
                from_stop=stops[ride.from_stop_id],
                to_stop=stops[ride.to_stop_id],
                late=rules.is_late(ride.service_date),
            )
    return render_template(
        "book.html", form=form, max_seats=rules.max_seats, purposes=PURPOSES, purpose=purpose
    )


@bp.route("/book/confirm", methods=["POST"])
@worker_required
@limiter.limit("30/hour")
def confirm() -> ResponseReturnValue:
    """Make the bookings (once, even if the button is pressed twice)."""
    db = get_session()
    rules = get_settings().booking
    form, purpose = _booking_form(db, rules)
    worker = current_worker_or_abort()
    if not form.validate_on_submit():
        return render_template(
            "book.html", form=form, max_seats=rules.max_seats, purposes=PURPOSES, purpose=purpose
        )
    try:
        bookings = request_rides(
            db,
            worker,
            _ride_from_form(form),
            made_by=made_by(),
            idempotency_key=form.nonce.data or None,
            rules=rules,
        )
    except ServiceError as err:
        getattr(form, err.field, form.date).errors.append(error_text(err))
        return render_template(
            "book.html", form=form, max_seats=rules.max_seats, purposes=PURPOSES, purpose=purpose
        )
    flask_session["just_booked"] = [b.code for b in bookings]
    audit_acting("booked_for_worker", " ".join(b.code for b in bookings))
    return redirect(url_for("booking.done"))


@bp.route("/book/done")
@worker_required
def done() -> ResponseReturnValue:
    """The booking codes just made."""
    codes = flask_session.get("just_booked", [])
    worker = current_worker_or_abort()
    mine = [b for b in list_bookings(get_session(), worker) if b.code in codes]
    return render_template("done.html", bookings=mine)


@bp.route("/rides")
@worker_required
def rides() -> ResponseReturnValue:
    """My rides: status, and pickup time and place once published; SMS on or off."""
    return _rides_page(SmsForm())


def _rides_page(sms_form: SmsForm) -> ResponseReturnValue:
    worker = current_worker_or_abort()
    settings = get_settings()
    today = settings.booking.today()
    bookings = list_bookings(get_session(), worker, since=today - dt.timedelta(days=7))
    return render_template(
        "rides.html",
        bookings=bookings,
        cancel_form=CancelForm(),
        sms_form=sms_form,
        phone=worker.phone,
        today=today,
        acting=acting_staff_id() is not None,
        outcomes=ride_outcomes(get_session(), bookings, timezone=settings.timezone),
    )


@bp.route("/rides/sms", methods=["POST"])
@own_worker_required
@limiter.limit("20/hour")
def sms() -> ResponseReturnValue:
    """Turn SMS on with a number, or off: the number is deleted, nothing more is sent."""
    form = SmsForm()
    if form.validate_on_submit():
        turn_on = form.action.data == "on"
        try:
            set_phone(
                get_session(), current_worker_or_abort(), form.phone.data if turn_on else None
            )
        except ServiceError as err:
            form.phone.errors.append(error_text(err))
            return _rides_page(form)
        if turn_on:
            flash(_("SMS on: we will send your pickup times."), "info")
        else:
            flash(_("SMS off: your number is deleted."), "info")
    return redirect(url_for("booking.rides"))


@bp.route("/rides/cancel", methods=["POST"])
@worker_required
def cancel() -> ResponseReturnValue:
    """Cancel a ride or the rest of a series."""
    form = CancelForm()
    worker = current_worker_or_abort()
    if form.validate_on_submit():
        try:
            cancelled = cancel_booking(
                get_session(),
                worker,
                form.booking.data or "",
                whole_series=form.whole_series.data == "1",
                rules=get_settings().booking,
            )
        except ServiceError as err:
            flash(error_text(err), "error")
        else:
            audit_acting("cancelled_for_worker", " ".join(b.code for b in cancelled))
            flash(_("Cancelled: %(count)s ride(s).", count=len(cancelled)), "info")
    return redirect(url_for("booking.rides"))


@bp.route("/my-data", methods=["GET", "POST"])
@own_worker_required
def my_data() -> ResponseReturnValue:
    """My data: what the service keeps, a download of all of it, deleting the account."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        cancelled = delete_account(
            get_session(), current_worker_or_abort(), rules=get_settings().booking
        )
        forget_worker()
        return render_template("account_deleted.html", cancelled=cancelled)
    return render_template("my_data.html", form=form, retention=get_settings().retention)


@bp.route("/my-data.json")
@own_worker_required
def my_data_download() -> ResponseReturnValue:
    """All the worker's data as one JSON file."""
    worker = current_worker_or_abort()
    response = jsonify(worker_data(get_session(), worker))
    response.headers["Content-Disposition"] = f'attachment; filename="passaggio-{worker.code}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def report() -> ResponseReturnValue:
    """A confidential report to the hub's staff."""
    form = ReportForm()
    if form.validate_on_submit():
        try:
            submit_incident(
                get_session(),
                kind=form.kind.data or "",
                text=form.text.data or "",
                booking_code=form.booking_code.data,
                language=current_language(),
            )
        except ServiceError as err:
            getattr(form, err.field, form.text).errors.append(error_text(err))
        else:
            return render_template("report_done.html")
    return render_template("report.html", form=form)
