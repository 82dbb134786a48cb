"""Staff pages (blueprint ``dispatch``): sign-in, the day's bookings, planning in the
background, the plan's map and figures, publishing, stops, fleet, reports, and
mediators acting for a worker."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash
from wtforms.fields.choices import SelectChoice

from mobility.clock import parse_hhmm
from mobility.dispatch import export_plan, latest_plan, plan_day, publish_plan, record_outcome
from mobility.maps import plan_map
from mobility.services import ServiceError, cancel_booking, list_bookings
from mobility.store import (
    Booking,
    DriverAssignment,
    PlanRun,
    PlanStatus,
    Report,
    Role,
    StaffUser,
    Stop,
    StopKind,
    Vehicle,
    Worker,
    make_session_factory,
)
from optimizer.solve import SolverParams
from web.booking import booking_rules, remember_worker
from web.db import engine, get_session
from web.dispatch.forms import (
    DayForm,
    PlanForm,
    StaffLoginForm,
    StopForm,
    VehicleForm,
    WorkerLookupForm,
)
from web.extensions import limiter
from web.graphs import graph_loader
from web.i18n import error_text
from web.staff import StaffPrincipal, audit, roles_required

bp = Blueprint(
    "dispatch", __name__, url_prefix="/dispatch", template_folder="../templates/dispatch"
)

PLANNERS = (Role.DISPATCHER,)
DESK = (Role.DISPATCHER, Role.MEDIATOR)


def _day(text: str | None) -> dt.date:
    if text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            abort(400)
    return booking_rules().local_now().date() + dt.timedelta(days=1)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def login() -> ResponseReturnValue:
    """Staff sign-in."""
    form = StaffLoginForm()
    if form.validate_on_submit():
        user = get_session().scalar(
            select(StaffUser).where(
                StaffUser.username == form.username.data, StaffUser.active.is_(True)
            )
        )
        if user and check_password_hash(user.password_hash, form.password.data or ""):
            login_user(StaffPrincipal(user.id, user.username, user.role))
            target = request.args.get("next") or ""
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("dispatch.home")
            if user.role is Role.DRIVER and not target.startswith("/driver"):
                target = url_for("driver.home")
            return redirect(target)
        form.password.errors.append(_("Wrong user name or password."))
    return render_template("staff_login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Staff sign-out."""
    DayForm().validate()
    logout_user()
    return redirect(url_for("dispatch.login"))


@bp.route("/")
@roles_required(*DESK)
def home() -> ResponseReturnValue:
    """The day: bookings by status, planning runs, the plan's figures."""
    day = _day(request.args.get("date"))
    db = get_session()
    counts = dict(
        db.execute(
            select(Booking.status, func.count())
            .where(Booking.service_date == day)
            .group_by(Booking.status)
        ).all()
    )
    seats = db.scalar(select(func.sum(Booking.seats)).where(Booking.service_date == day)) or 0
    runs = list(
        db.scalars(
            select(PlanRun).where(PlanRun.service_date == day).order_by(PlanRun.id.desc()).limit(5)
        )
    )
    plan = latest_plan(db, day)
    figures = json.loads(plan.figures) if plan else None
    return render_template(
        "home.html",
        day=day,
        counts={k.value: v for k, v in counts.items()},
        seats=seats,
        runs=runs,
        plan=plan,
        figures=figures,
        plan_form=PlanForm(
            date=day.isoformat(), time_limit=int(current_app.config.get("PLAN_TIME_LIMIT", 60))
        ),
        day_form=DayForm(date=day.isoformat()),
    )


def _run_in_background(app: Any, run_id: int, day: dt.date, time_limit: float) -> None:
    with app.app_context():
        session = make_session_factory(engine())()
        run = session.get(PlanRun, run_id)

        def progress(message: str) -> None:
            progress_session = make_session_factory(engine())()
            row = progress_session.get(PlanRun, run_id)
            if row is not None:
                row.progress = message
                progress_session.commit()
            progress_session.close()

        try:
            plan_day(
                session,
                day,
                graph_loader(),
                params=SolverParams(time_limit_s=time_limit),
                run=run,
                progress=progress,
            )
        except Exception:  # recorded on the run by plan_day; the page shows it
            current_app.logger.exception("planning run %s failed", run_id)
        finally:
            session.close()


@bp.route("/plan", methods=["POST"])
@roles_required(*PLANNERS)
def plan() -> ResponseReturnValue:
    """Start planning the day in the background and show its progress."""
    form = PlanForm()
    if not form.validate_on_submit():
        abort(400)
    day = _day(form.date.data)
    db = get_session()
    time_limit = float(form.time_limit.data or 60)
    run = PlanRun(
        service_date=day, status=PlanStatus.RUNNING, time_limit_s=time_limit, progress="queued"
    )
    db.add(run)
    db.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("PLAN_SYNC"):  # tests: run in the request
        _run_in_background(app, run.id, day, time_limit)
    else:
        threading.Thread(
            target=_run_in_background, args=(app, run.id, day, time_limit), daemon=True
        ).start()
    return redirect(url_for("dispatch.run", run_id=run.id))


@bp.route("/runs/<int:run_id>")
@roles_required(*DESK)
def run(run_id: int) -> ResponseReturnValue:
    """A planning run: progress while it runs (the page refreshes itself), then figures."""
    plan_run = get_session().get(PlanRun, run_id)
    if plan_run is None:
        abort(404)
    figures = json.loads(plan_run.figures) if plan_run.status is PlanStatus.DONE else None
    return render_template("run.html", run=plan_run, figures=figures)


@bp.route("/publish", methods=["POST"])
@roles_required(*PLANNERS)
def publish() -> ResponseReturnValue:
    """Publish the day's latest plan to the workers."""
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = _day(form.date.data)
    try:
        version = publish_plan(get_session(), day)
    except ServiceError:
        flash(_("There is no plan for this day yet."), "error")
    else:
        flash(_("Published: version %(v)s.", v=version), "info")
    return redirect(url_for("dispatch.home", date=day.isoformat()))


@bp.route("/edit", methods=["POST"])
@roles_required(*PLANNERS)
def edit() -> ResponseReturnValue:
    """Manual edits: move a booking to a vehicle or leave it unassigned, lock routes.

    "Check" re-plans with the edits, checks the plan with the independent checker
    and shows the result without saving; "Save" stores it as the day's new plan.
    """
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = _day(form.date.data)
    code = (request.form.get("booking") or "").strip().upper()
    target = request.form.get("vehicle") or None
    moves: dict[str, str | None] = {code: target} if code else {}
    locked = set(request.form.getlist("lock"))
    save = request.form.get("action") == "save"
    db = get_session()
    try:
        outcome = plan_day(
            db,
            day,
            graph_loader(),
            params=SolverParams(time_limit_s=float(current_app.config.get("EDIT_TIME_LIMIT", 20))),
            moves=moves,
            locked=locked,
            save=save,
        )
    except ServiceError as err:
        flash(str(err), "error")
        return redirect(url_for("dispatch.home", date=day.isoformat()))
    if save:
        return redirect(url_for("dispatch.run", run_id=outcome.plan_id))
    return render_template(
        "edit.html",
        day=day,
        outcome=outcome,
        figures=outcome.figures,
        code=code,
        target=target or "",
        locked=sorted(locked),
        form=DayForm(date=day.isoformat()),
    )


@bp.route("/map/<day>")
@roles_required(*DESK)
def map_view(day: str) -> ResponseReturnValue:
    """The plan on a map (Folium; loads map tiles)."""
    plan_run = latest_plan(get_session(), _day(day))
    if plan_run is None:
        abort(404)
    audit("view_plan_map", day)
    fmap = plan_map(plan_run, graph_loader())
    response = Response(fmap.get_root().render(), mimetype="text/html")
    # Folium pages load Leaflet from a CDN and inline scripts
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


@bp.route("/export/<day>.json")
@roles_required(*PLANNERS)
def export(day: str) -> ResponseReturnValue:
    """The day's plan as JSON (booking codes, no names); the export is logged."""
    the_day = _day(day)
    audit("export_plan", the_day.isoformat())
    return current_app.response_class(
        json.dumps(export_plan(get_session(), the_day), ensure_ascii=False),
        mimetype="application/json",
    )


@bp.route("/stops", methods=["GET", "POST"])
@roles_required(*PLANNERS)
def stops() -> ResponseReturnValue:
    """Stops: add one, list them, with places still to be placed on top."""
    db = get_session()
    form = StopForm()
    snap_note = None
    if form.validate_on_submit():
        lat = float(form.lat.data) if form.lat.data is not None else None
        lon = float(form.lon.data) if form.lon.data is not None else None
        existing = db.scalar(select(Stop).where(Stop.name == form.name.data))
        stop = existing or Stop(name=form.name.data or "")
        stop.kind = StopKind(form.kind.data)
        stop.lat, stop.lon = lat, lon
        stop.active = bool(form.active.data) and lat is not None and lon is not None
        if existing is None:
            db.add(stop)
        if lat is not None and lon is not None:
            try:
                (snap,) = graph_loader()("minibus").snap([lat], [lon])
            except Exception as exc:  # off the map: say so, keep the stop inactive
                snap_note = str(exc)
                stop.active = False
            else:
                snap_note = _("Snaps to the road %(m)s m away.", m=round(snap.distance_m))
        db.commit()
        flash(_("Saved.") + (f" {snap_note}" if snap_note else ""), "info")
        return redirect(url_for("dispatch.stops"))
    all_stops = list(db.scalars(select(Stop).order_by(Stop.active, Stop.name)))
    return render_template("stops.html", form=form, stops=all_stops)


@bp.route("/vehicles", methods=["GET", "POST"])
@roles_required(*PLANNERS)
def vehicles() -> ResponseReturnValue:
    """The fleet: list and add vehicles."""
    db = get_session()
    form = VehicleForm()
    depots = list(db.scalars(select(Stop).where(Stop.active.is_(True)).order_by(Stop.name)))
    form.depot.choices = [SelectChoice(str(s.id), s.name) for s in depots]
    if form.validate_on_submit():
        start, end = parse_hhmm(form.shift_start.data), parse_hhmm(form.shift_end.data)
        if start is None or end is None or end <= start:
            form.shift_end.errors.append(_("Please choose a time."))
        else:
            db.add(
                Vehicle(
                    name=form.name.data,
                    seats=form.seats.data,
                    profile=form.profile.data,
                    depot_stop_id=form.depot.data,
                    shift_start_min=start,
                    shift_end_min=end,
                    fixed_cost=1 if (form.seats.data or 0) <= 9 else 2,
                )
            )
            db.commit()
            return redirect(url_for("dispatch.vehicles"))
    fleet = list(db.scalars(select(Vehicle).order_by(Vehicle.name)))
    drivers = list(
        db.scalars(
            select(StaffUser).where(StaffUser.role == Role.DRIVER).order_by(StaffUser.username)
        )
    )
    day = _day(request.args.get("date"))
    assigned = {
        a.vehicle_id: a.user.username
        for a in db.scalars(select(DriverAssignment).where(DriverAssignment.service_date == day))
    }
    return render_template(
        "vehicles.html", form=form, fleet=fleet, drivers=drivers, day=day, assigned=assigned
    )


@bp.route("/assign", methods=["POST"])
@roles_required(*PLANNERS)
def assign() -> ResponseReturnValue:
    """Give a vehicle to a driver for a day (a driver then sees only that vehicle)."""
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = _day(form.date.data)
    db = get_session()
    vehicle = db.get(Vehicle, request.form.get("vehicle", type=int))
    driver_id = request.form.get("driver", type=int)
    if vehicle is None:
        abort(400)
    current = db.scalar(
        select(DriverAssignment).where(
            DriverAssignment.service_date == day, DriverAssignment.vehicle_id == vehicle.id
        )
    )
    if current is not None:
        db.delete(current)
        db.flush()
    if driver_id:
        user = db.get(StaffUser, driver_id)
        if user is None or user.role is not Role.DRIVER:
            abort(400)
        db.add(DriverAssignment(service_date=day, vehicle_id=vehicle.id, user_id=user.id))
    db.commit()
    flash(_("Saved."), "info")
    return redirect(url_for("dispatch.vehicles", date=day.isoformat()))


@bp.route("/outcome/<day>", methods=["GET", "POST"])
@roles_required(*PLANNERS)
def outcome(day: str) -> ResponseReturnValue:
    """Type in the route sheets: boarded or no-show per booking, real times per stop."""
    the_day = _day(day)
    db = get_session()
    run = latest_plan(db, the_day)
    if run is None:
        abort(404)
    form = DayForm(date=the_day.isoformat())
    if request.method == "POST" and form.validate_on_submit():
        codes = {m.booking.code for r in run.routes for s in r.stops for m in s.moves if m.boarding}
        times = {}
        for route in run.routes:
            for stop in route.stops:
                arrival = parse_hhmm(request.form.get(f"arr-{stop.id}"))
                departure = parse_hhmm(request.form.get(f"dep-{stop.id}"))
                if arrival is not None or departure is not None:
                    times[stop.id] = (arrival, departure)
        boarded = {code: request.form.get(f"board-{code}") == "1" for code in codes}
        try:
            counts = record_outcome(db, the_day, boarded=boarded, stop_times=times)
        except ServiceError as err:
            flash(str(err), "error")
        else:
            flash(
                _("Saved.") + f" {counts['completed']} / {counts['no_show']}",
                "info",
            )
        return redirect(url_for("dispatch.outcome", day=the_day.isoformat()))
    return render_template("outcome.html", run=run, day=the_day, form=form)


@bp.route("/reports")
@roles_required(*DESK)
def reports() -> ResponseReturnValue:
    """The confidential reports queue (reading it is logged)."""
    audit("read_reports")
    items = list(
        get_session().scalars(select(Report).order_by(Report.created_at.desc()).limit(200))
    )
    return render_template("reports.html", reports=items)


@bp.route("/worker", methods=["GET", "POST"])
@roles_required(*DESK)
def worker() -> ResponseReturnValue:
    """A mediator looks up a worker by personal code to see and cancel rides."""
    form = WorkerLookupForm()
    found: Worker | None = None
    bookings: list[Booking] = []
    code = (form.code.data or request.args.get("code") or "").strip().upper()
    if request.method == "POST" and "book_for" in request.form and form.validate_on_submit():
        found = get_session().scalar(select(Worker).where(Worker.code == code))
        if found is not None:
            # the booking pages now act for this worker; the bookings say "mediator"
            remember_worker(found.id)
            session["acting_for"] = current_user.role.value
            audit("book_for_worker", code)
            return redirect(url_for("booking.book"))
    if request.method == "POST" and "cancel" in request.form and form.validate_on_submit():
        found = get_session().scalar(select(Worker).where(Worker.code == code))
        if found is not None:
            try:
                cancel_booking(get_session(), found, request.form["cancel"], rules=booking_rules())
                flash(_("Cancelled: %(count)s ride(s).", count=1), "info")
            except ServiceError as err:
                flash(error_text(err), "error")
    if form.validate_on_submit() or (request.method == "POST" and code):
        found = get_session().scalar(select(Worker).where(Worker.code == code))
        if found is None:
            form.code.errors.append(_("No worker with this code."))
        else:
            audit("view_worker_bookings", code)
            bookings = list_bookings(get_session(), found)
    return render_template("worker.html", form=form, worker=found, bookings=bookings)


@bp.app_context_processor
def _staff_helpers() -> dict[str, Any]:
    return {"staff": current_user if current_user.is_authenticated else None, "Role": Role}
