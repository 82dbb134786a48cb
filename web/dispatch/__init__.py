"""Staff pages (blueprint ``dispatch``): sign-in, the day's bookings, planning in the
background, the plan's map and figures, publishing, stops, fleet, incident reports,
and mediators acting for a worker. Each view parses, calls one service, renders."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from mobility.bookings import cancel_booking, find_worker, list_bookings, list_incidents
from mobility.clock import parse_hhmm
from mobility.dispatch import (
    add_vehicle,
    assign_driver,
    authenticate_staff,
    day_console,
    driver_names,
    get_run,
    latest_plan,
    list_drivers,
    list_vehicles,
    publish_plan,
    record_outcome,
    run_edits,
    run_figures,
    sizing_of,
)
from mobility.errors import ServiceError
from mobility.jobs import QueueError, start_planning
from mobility.messages import count_messages, list_messages, send_again
from mobility.outputs import export_plan
from mobility.stops import list_stops
from mobility.store import Booking, PlanKind, Role, Worker
from web.db import get_session
from web.dispatch.forms import (
    DayForm,
    PlanForm,
    StaffLoginForm,
    VehicleForm,
    WorkerLookupForm,
)
from web.extensions import limiter
from web.graphs import graph_loader
from web.i18n import error_text, reason_action
from web.jobs import job_queue, planning_overrides
from web.security import local_path
from web.settings import get_settings
from web.staff import StaffPrincipal, audit, roles_required, staff_signed_in
from web.worker_session import act_for_worker, end_acting

bp = Blueprint(
    "dispatch", __name__, url_prefix="/dispatch", template_folder="../templates/dispatch"
)

PLANNERS = (Role.DISPATCHER,)
DESK = (Role.DISPATCHER, Role.MEDIATOR)


def day_of(text: str | None) -> dt.date:
    """The day a URL names (ISO date; 400 if it is not one), tomorrow if none."""
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            abort(400)
    return get_settings().tomorrow()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def login() -> ResponseReturnValue:
    """Staff sign-in."""
    form = StaffLoginForm()
    if form.validate_on_submit():
        user = authenticate_staff(get_session(), form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(StaffPrincipal.of(user))
            staff_signed_in()
            target = local_path(request.args.get("next")) or url_for("dispatch.home")
            if user.role is Role.DRIVER and not target.startswith("/driver"):
                target = url_for("driver.home")
            return redirect(target)
        form.password.errors.append(_("Wrong user name or password."))
    return render_template("staff_login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Staff sign-out."""
    DayForm().validate()
    end_acting()
    logout_user()
    return redirect(url_for("dispatch.login"))


@bp.route("/")
@roles_required(*DESK)
def home() -> ResponseReturnValue:
    """The day: figures, a timeline per vehicle beside the map, the unserved bookings
    with what would serve them, the changes since publishing, planning runs."""
    console = day_console(
        get_session(),
        day_of(request.args.get("date")),
        queued_alive=job_queue().queued_alive,
        graphs=graph_loader(),
    )
    overview = console.overview
    day = overview.day
    audit("view_day", day.isoformat())  # booking codes, the unserved, the changes
    return render_template(
        "home.html",
        day=day,
        counts=overview.counts,
        seats=overview.seats,
        runs=overview.runs,
        plan=overview.plan,
        figures=overview.figures,
        sizing=overview.sizing,
        unserved=overview.unserved,
        timelines=console.timelines,
        hours=console.hours,
        free=console.free,
        changes=console.changes,
        replan_waiting=console.replan_waiting,
        message_counts=count_messages(get_session(), day),
        plan_form=PlanForm(
            date=day.isoformat(), time_limit=int(get_settings().planning.time_limit_s)
        ),
        day_form=DayForm(date=day.isoformat()),
    )


def _start(
    day: dt.date,
    time_limit_s: float,
    *,
    kind: PlanKind = PlanKind.PLAN,
    moves: dict[str, str | None] | None = None,
    locked: set[str] | None = None,
    edits: str | None = None,
) -> ResponseReturnValue:
    """Queue a run (or join the one going) and show it; say why when refused."""
    try:
        run, created = start_planning(
            get_session(),
            job_queue(),
            day,
            time_limit_s=time_limit_s,
            kind=kind,
            moves=moves,
            locked=locked,
            edits=edits,
            settings=planning_overrides(),
        )
    except ServiceError as err:
        flash(error_text(err), "error")
        return redirect(url_for("dispatch.home", date=day.isoformat()))
    except QueueError:
        current_app.logger.exception("the job queue refused a planning run")
        flash(_("The planning service does not answer. Try again in a minute."), "error")
        return redirect(url_for("dispatch.home", date=day.isoformat()))
    if not created:
        flash(_("This day is being planned already: here is that run."), "info")
    return redirect(url_for("dispatch.run", run_id=run.id))


@bp.route("/plan", methods=["POST"])
@roles_required(*PLANNERS)
def plan() -> ResponseReturnValue:
    """Queue the planning of the day and show its progress."""
    form = PlanForm()
    if not form.validate_on_submit():
        abort(400)
    return _start(day_of(form.date.data), float(form.time_limit.data or 60))


@bp.route("/size", methods=["POST"])
@roles_required(*PLANNERS)
def size() -> ResponseReturnValue:
    """Queue the fleet sizing of the day (a job) and show its progress."""
    form = PlanForm()
    if not form.validate_on_submit():
        abort(400)
    return _start(day_of(form.date.data), float(form.time_limit.data or 60), kind=PlanKind.SIZING)


@bp.route("/runs/<int:run_id>")
@roles_required(*DESK)
def run(run_id: int) -> ResponseReturnValue:
    """A planning run: progress while it runs (the page refreshes itself), then figures."""
    plan_run = get_run(get_session(), run_id, queued_alive=job_queue().queued_alive)
    if plan_run is None:
        abort(404)
    moves, locked, moved = run_edits(plan_run)
    code, target = next(iter(moves.items()), ("", None))
    return render_template(
        "run.html",
        run=plan_run,
        figures=run_figures(plan_run),
        sizing=sizing_of(plan_run),
        moved=moved,
        code=code,
        target=target or "",
        locked=sorted(locked),
        form=DayForm(date=plan_run.service_date.isoformat()),
    )


@bp.route("/publish", methods=["POST"])
@roles_required(*PLANNERS)
def publish() -> ResponseReturnValue:
    """Publish the day's latest plan to the workers."""
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = day_of(form.date.data)
    try:
        version = publish_plan(get_session(), day)
    except ServiceError:
        flash(_("There is no plan for this day yet."), "error")
    else:
        send_messages_soon()
        flash(_("Published: version %(v)s.", v=version), "info")
    return redirect(url_for("dispatch.home", date=day.isoformat()))


def send_messages_soon() -> None:
    """The workers' messages just queued, on their way (the outbox keeps them if the
    queue does not answer: the next pass sends them)."""
    try:
        job_queue().enqueue_send()
    except QueueError:
        current_app.logger.exception("the job queue refused to send messages")


@bp.route("/messages/<day>")
@roles_required(*DESK)
def messages(day: str) -> ResponseReturnValue:
    """The messages about a day's rides: state, tries, why one failed (codes, never
    phone numbers); a failed one can be sent again."""
    the_day = day_of(day)
    audit("view_messages", the_day.isoformat())
    return render_template(
        "messages.html",
        day=the_day,
        messages=list_messages(get_session(), the_day),
        form=DayForm(date=the_day.isoformat()),
    )


@bp.route("/messages/<int:message_id>/again", methods=["POST"])
@roles_required(*DESK)
def message_again(message_id: int) -> ResponseReturnValue:
    """Send a failed message again (after checking the number with the worker)."""
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        send_again(get_session(), message_id)
    except ServiceError as err:
        flash(error_text(err), "error")
    else:
        send_messages_soon()
        flash(_("The message is queued again."), "info")
    return redirect(url_for("dispatch.messages", day=day_of(form.date.data).isoformat()))


@bp.route("/edit", methods=["POST"])
@roles_required(*PLANNERS)
def edit() -> ResponseReturnValue:
    """Manual edits: move a booking to a vehicle or leave it unassigned, lock routes.

    "Check" queues a re-plan with the edits that is checked by the independent
    checker and shown without saving; "Save" queues it as the day's new plan.
    """
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = day_of(form.date.data)
    code = (request.form.get("booking") or "").strip().upper()
    moves: dict[str, str | None] = {code: request.form.get("vehicle") or None} if code else {}
    save = request.form.get("action") == "save"
    return _start(
        day,
        get_settings().edit_time_limit_s,
        kind=PlanKind.PLAN if save else PlanKind.PREVIEW,
        moves=moves,
        locked=set(request.form.getlist("lock")),
    )


@bp.route("/export/<day>.json")
@roles_required(*PLANNERS)
def export(day: str) -> ResponseReturnValue:
    """The day's plan as JSON (booking codes, no names); the export is logged."""
    the_day = day_of(day)
    audit("export_plan", the_day.isoformat())
    return current_app.response_class(
        json.dumps(export_plan(get_session(), the_day), ensure_ascii=False),
        mimetype="application/json",
    )


@bp.route("/vehicles", methods=["GET", "POST"])
@roles_required(*PLANNERS)
def vehicles() -> ResponseReturnValue:
    """The fleet: list and add vehicles."""
    db = get_session()
    form = VehicleForm()
    form.depot.choices = [SelectChoice(str(s.id), s.name) for s in list_stops(db)]
    if form.validate_on_submit():
        start, end = parse_hhmm(form.shift_start.data), parse_hhmm(form.shift_end.data)
        if start is None or end is None or end <= start:
            form.shift_end.errors.append(_("Please choose a time."))
        else:
            try:
                add_vehicle(
                    db,
                    name=form.name.data or "",
                    seats=form.seats.data or 0,
                    profile=form.profile.data or "",
                    depot_stop_id=form.depot.data or 0,
                    shift_start_min=start,
                    shift_end_min=end,
                )
            except ServiceError as err:
                getattr(form, err.field, form.name).errors.append(error_text(err))
            else:
                return redirect(url_for("dispatch.vehicles"))
    day = day_of(request.args.get("date"))
    return render_template(
        "vehicles.html",
        form=form,
        fleet=list_vehicles(db),
        drivers=list_drivers(db),
        day=day,
        assigned=driver_names(db, day),
    )


@bp.route("/assign", methods=["POST"])
@roles_required(*PLANNERS)
def assign() -> ResponseReturnValue:
    """Give a vehicle to a driver for a day (a driver then sees only that vehicle)."""
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = day_of(form.date.data)
    try:
        assign_driver(
            get_session(),
            day,
            request.form.get("vehicle", type=int) or 0,
            request.form.get("driver", type=int),
        )
    except ServiceError:
        abort(400)
    flash(_("Saved."), "info")
    return redirect(url_for("dispatch.vehicles", date=day.isoformat()))


def _sheet_results(run: Any) -> tuple[dict[str, bool], dict[int, tuple[int | None, int | None]]]:
    """Who boarded, and the real times per plan stop, as typed in the outcome form."""
    codes = {m.booking.code for r in run.routes for s in r.stops for m in s.moves if m.boarding}
    times = {}
    for route in run.routes:
        for stop in route.stops:
            arrival = parse_hhmm(request.form.get(f"arr-{stop.id}"))
            departure = parse_hhmm(request.form.get(f"dep-{stop.id}"))
            if arrival is not None or departure is not None:
                times[stop.id] = (arrival, departure)
    return {code: request.form.get(f"board-{code}") == "1" for code in codes}, times


@bp.route("/outcome/<day>", methods=["GET", "POST"])
@roles_required(*PLANNERS)
def outcome(day: str) -> ResponseReturnValue:
    """Type in the route sheets: boarded or no-show per booking, real times per stop."""
    the_day = day_of(day)
    db = get_session()
    run = latest_plan(db, the_day)
    if run is None:
        abort(404)
    form = DayForm(date=the_day.isoformat())
    if request.method == "POST" and form.validate_on_submit():
        boarded, times = _sheet_results(run)
        try:
            counts = record_outcome(db, the_day, boarded=boarded, stop_times=times)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(_("Saved.") + f" {counts['completed']} / {counts['no_show']}", "info")
        return redirect(url_for("dispatch.outcome", day=the_day.isoformat()))
    return render_template("outcome.html", run=run, day=the_day, form=form)


@bp.route("/reports")
@roles_required(*DESK)
def reports() -> ResponseReturnValue:
    """The confidential incident reports (reading them is logged)."""
    audit("read_reports")
    return render_template("reports.html", reports=list_incidents(get_session()))


@bp.route("/worker", methods=["GET", "POST"])
@roles_required(*DESK)
def worker() -> ResponseReturnValue:
    """A mediator looks up a worker by personal code to see, cancel and book rides."""
    form = WorkerLookupForm()
    db = get_session()
    code = (form.code.data or request.args.get("code") or "").strip().upper()
    posted = request.method == "POST"
    valid = posted and form.validate_on_submit()
    found: Worker | None = find_worker(db, code) if posted and code else None
    if valid and "book_for" in request.form and found is not None:
        # the booking pages now book and cancel for this worker, for 30 minutes, and
        # the bookings say "mediator"; nothing else of the worker's is open to them
        act_for_worker(found.id, current_user.id, current_user.role.value)
        audit("book_for_worker", code)
        return redirect(url_for("booking.book"))
    if valid and "cancel" in request.form and found is not None:
        try:
            cancel_booking(
                db, found, request.form["cancel"], rules=get_settings().booking, by_staff=True
            )
            send_messages_soon()
            flash(_("Cancelled: %(count)s ride(s).", count=1), "info")
        except ServiceError as err:
            flash(error_text(err), "error")
    bookings: list[Booking] = []
    if posted and (valid or code):
        if found is None:
            form.code.errors.append(_("No worker with this code."))
        else:
            audit("view_worker_bookings", code)
            bookings = list_bookings(db, found)
    return render_template("worker.html", form=form, worker=found, bookings=bookings)


# the views with a map, and the day on the road, live in modules of their own
from web.dispatch import disruption as _disruption  # noqa: E402, F401
from web.dispatch import figures as _figures  # noqa: E402, F401
from web.dispatch import maps as _maps  # noqa: E402, F401
from web.dispatch import road as _road  # noqa: E402, F401


@bp.app_context_processor
def _staff_helpers() -> dict[str, Any]:
    return {
        "staff": current_user if current_user.is_authenticated else None,
        "Role": Role,
        "reason_action": reason_action,
    }
