"""Forms of the worker pages (Flask-WTF: CSRF on every form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from web.i18n import LANGUAGE_NAMES

REQUIRED = _l("Please fill in this field.")


class LoginForm(FlaskForm):
    """Personal code and PIN."""

    code = StringField(_l("Personal code"), validators=[InputRequired(REQUIRED), Length(max=16)])
    pin = PasswordField(_l("PIN"), validators=[InputRequired(REQUIRED), Length(max=12)])


class RegisterForm(FlaskForm):
    """A new personal code: language, and a phone number only for SMS."""

    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=False,
    )
    phone = StringField(
        _l("Phone number (only if you want SMS)"), validators=[Optional(), Length(max=32)]
    )
    sms = BooleanField(_l("Send me an SMS with my pickup time"))


class BookForm(FlaskForm):
    """The ride: where from, where to, when, how many."""

    from_stop = SelectField(_l("Pickup"), coerce=int, validate_choice=False)
    to_stop = SelectField(_l("Destination"), coerce=int, validate_choice=False)
    date = SelectField(_l("Day"), validate_choice=False)
    time = SelectField(_l("Arrive by"), validate_choice=False)
    seats = IntegerField(
        _l("Seats"),
        default=1,
        validators=[InputRequired(REQUIRED), NumberRange(min=1, message=REQUIRED)],
    )
    allow_parts = BooleanField(
        _l("We may ride in separate vehicles, and some of us may go if there is no room for all")
    )
    with_return = BooleanField(_l("Also book the ride back"))
    return_time = SelectField(_l("Leave after"), validate_choice=False)
    repeat = BooleanField(_l("Every day (Monday to Saturday) until"))
    repeat_until = SelectField(_l("Last day"), validate_choice=False)
    nonce = HiddenField()
    purpose = HiddenField(default="work")  # a DESTINATION_GROUPS key


#: The destination groups as the booking page shows them: icon and label.
PURPOSES = {
    "work": ("🌾", _l("Work")),
    "hospital": ("🏥", _l("Hospital, doctor")),
    "police": ("👮", _l("Police, Questura")),
    "town_hall": ("🏛️", _l("Town hall")),
    "job_centre": ("💼", _l("Job centre")),
    "post": ("📮", _l("Post office")),
    "other": ("➕", _l("Other services")),
}


class CancelForm(FlaskForm):
    """Cancel one ride, or the rest of its series."""

    booking = HiddenField(validators=[InputRequired()])
    whole_series = HiddenField(default="")


class SmsForm(FlaskForm):
    """SMS on (with a number) or off (the number is deleted)."""

    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=32)])
    action = HiddenField(default="on")


class DeleteAccountForm(FlaskForm):
    """Delete the account: the box must be ticked."""

    confirm = BooleanField(
        _l("Yes, delete my account, my number and my future rides."),
        validators=[InputRequired(_l("Tick the box to delete the account."))],
    )


class ReportForm(FlaskForm):
    """A confidential report."""

    kind = RadioField(
        _l("What happened?"),
        choices=[
            SelectChoice("money", _l("Someone asked me for money")),
            SelectChoice("unsafe", _l("The van was unsafe or overcrowded")),
            SelectChoice("other", _l("Something else")),
        ],
        validators=[InputRequired(REQUIRED)],
    )
    booking_code = StringField(
        _l("Booking code (optional)"), validators=[Optional(), Length(max=16)]
    )
    text = TextAreaField(_l("Tell us (optional)"), validators=[Optional(), Length(max=4000)])
