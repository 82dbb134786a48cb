"""Staff forms, and the texts staff read for what the planner says."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from mobility.store import Profile, ServiceCategory, StopKind
from web.booking.forms import REQUIRED


class StaffLoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[InputRequired(REQUIRED), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[InputRequired(REQUIRED), Length(max=200)])


class PlanForm(FlaskForm):
    date = StringField(_l("Day"), validators=[InputRequired(REQUIRED)])
    time_limit = IntegerField(
        _l("Time limit (s)"), default=60, validators=[NumberRange(min=1, max=600, message=REQUIRED)]
    )


class DayForm(FlaskForm):
    date = StringField(_l("Day"), validators=[InputRequired(REQUIRED)])


class StopForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED), Length(max=200)])
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k.value, k.value) for k in StopKind if k is not StopKind.ROADSIDE],
    )
    category = SelectField(
        _l("Service"),
        choices=[SelectChoice("", "-")] + [SelectChoice(c.value, c.value) for c in ServiceCategory],
        default="",
    )
    lat = DecimalField(_l("Latitude"), places=6, validators=[Optional(), NumberRange(-90, 90)])
    lon = DecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(-180, 180)])
    active = BooleanField(_l("Active"), default=True)


class VehicleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED), Length(max=60)])
    seats = IntegerField(_l("Seats"), validators=[InputRequired(REQUIRED), NumberRange(1, 90)])
    profile = SelectField(_l("Kind"), choices=[SelectChoice(p.value, p.value) for p in Profile])
    depot = SelectField(_l("Depot"), coerce=int, validate_choice=False)
    shift_start = StringField(_l("Shift start"), default="03:00")
    shift_end = StringField(_l("Shift end"), default="13:00")


class WorkerLookupForm(FlaskForm):
    code = StringField(_l("Personal code"), validators=[InputRequired(REQUIRED), Length(max=16)])


class DisruptionForm(FlaskForm):
    """What went wrong with a vehicle (see ``mobility.dispatch.disruption``)."""

    date = StringField(_l("Day"), validators=[InputRequired(REQUIRED)])
    kind = SelectField(
        _l("What happened"),
        choices=[
            SelectChoice("out_of_service", _l("Out of service (breakdown)")),
            SelectChoice("absent", _l("Driver absent: does not leave the depot")),
            SelectChoice("late", _l("Running late")),
            SelectChoice("standby", _l("Same-day requests: serve them where room allows")),
        ],
    )
    vehicle = SelectField(_l("Vehicle"), validate_choice=False)  # none for same-day requests
    at_time = StringField(_l("From (HH:MM; empty: now)"), validators=[Optional(), Length(max=5)])
    minutes = IntegerField(_l("Minutes late"), validators=[Optional()])
    lat = DecimalField(_l("Latitude"), places=6, validators=[Optional(), NumberRange(-90, 90)])
    lon = DecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(-180, 180)])
    time_limit = IntegerField(
        _l("Time limit (s)"), default=60, validators=[NumberRange(min=1, max=600, message=REQUIRED)]
    )
