"""Worker pages: the booking flow with CSRF, errors in the user's language, RTL, size."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy import select

from mobility.store import Stop
from tests.web.conftest import csrf_token, register

TRANSLATIONS = Path(__file__).resolve().parents[2] / "mobility" / "translations"
CSS = Path(__file__).resolve().parents[2] / "web" / "static" / "app.css"
PAGES = ["/", "/register", "/login", "/report"]
SIGNED_IN_PAGES = ["/book", "/rides"]


def stop_id(app_client: FlaskClient, name: str) -> int:
    from web.db import get_session

    with app_client.application.app_context():
        found = get_session().scalar(select(Stop).where(Stop.name == name))
        assert found is not None
        return found.id


def book_form(client: FlaskClient, **extra: str) -> dict[str, str]:
    page = client.get("/book").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        "from_stop": str(stop_id(client, "Borgo Mezzanone")),
        "to_stop": str(stop_id(client, "Foggia (centre)")),
        "date": re.search(r'<option selected value="([0-9-]+)"', page).group(1),  # type: ignore[union-attr]
        "time": "05:30",
        "seats": "2",
        "return_time": "17:00",
        "repeat_until": "",
    }
    form.update(extra)
    return form


def test_every_page_says_the_ride_is_free_and_links_to_reports(client: FlaskClient) -> None:
    for lang, sentence in [("it", "Il viaggio è gratuito"), ("fr", "Le trajet est gratuit")]:
        client.set_cookie("lang", lang)
        for path in PAGES:
            html = client.get(path).get_data(as_text=True)
            assert sentence in html, (lang, path)
            assert 'href="/report"' in html


def test_language_choice_is_remembered_and_arabic_is_right_to_left(client: FlaskClient) -> None:
    response = client.get("/lang/ar?next=/register")
    assert response.status_code == 302 and response.headers["Location"].endswith("/register")
    html = client.get("/register").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    client.get("/lang/fr")
    assert '<html lang="fr" dir="ltr">' in client.get("/").get_data(as_text=True)


def test_language_redirect_does_not_leave_the_site(client: FlaskClient) -> None:
    response = client.get("/lang/fr?next=https://evil.example/")
    assert response.headers["Location"] == "/"


def test_registration_shows_the_card_once(client: FlaskClient) -> None:
    code, pin = register(client)
    assert len(code) >= 8 and pin.isdigit()
    assert pin not in client.get("/rides").get_data(as_text=True)


def test_booking_flow_confirms_then_shows_the_booking_code(client: FlaskClient) -> None:
    register(client)
    confirm_page = client.post("/book", data=book_form(client, with_return="y"))
    html = confirm_page.get_data(as_text=True)
    assert "Borgo Mezzanone" in html and "05:30" in html and "17:00" in html
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    fields["csrf_token"] = csrf_token(html)
    done = client.post("/book/confirm", data=fields, follow_redirects=True)
    codes = re.findall(r'<span class="code">([A-Z0-9]+)</span>', done.get_data(as_text=True))
    assert len(codes) == 2  # to work and back
    # a double tap on "Confirm" books nothing more
    client.post("/book/confirm", data=fields)
    rides = client.get("/rides").get_data(as_text=True)
    assert sorted(re.findall(r'<span class="code">([A-Z0-9]+)</span>', rides)) == sorted(codes)


def test_form_error_is_shown_next_to_the_field_in_french(client: FlaskClient) -> None:
    client.set_cookie("lang", "fr")
    register(client)
    same = book_form(client)
    same["to_stop"] = same["from_stop"]
    html = client.post("/book", data=same).get_data(as_text=True)
    assert re.search(
        r'id="to_stop".*?<p class="error" id="to_stop-error">'
        r"Le départ et la destination doivent être différents\.</p>",
        html,
        re.S,
    )
    too_many = client.post("/book", data=book_form(client, seats="40")).get_data(as_text=True)
    assert "Le nombre de places doit être entre 1 et 28." in too_many


def test_cancel_from_my_rides(client: FlaskClient) -> None:
    register(client)
    html = client.post("/book", data=book_form(client)).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    fields["csrf_token"] = csrf_token(html)
    client.post("/book/confirm", data=fields)
    rides = client.get("/rides").get_data(as_text=True)
    code = re.search(r'name="booking" value="([A-Z0-9]+)"', rides).group(1)  # type: ignore[union-attr]
    client.post("/rides/cancel", data={"csrf_token": csrf_token(rides), "booking": code})
    assert "status-cancelled" in client.get("/rides").get_data(as_text=True)


def test_signed_in_pages_need_code_and_pin(client: FlaskClient) -> None:
    for path in SIGNED_IN_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_with_wrong_pin_shows_the_error_in_arabic(client: FlaskClient) -> None:
    code, _ = register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    client.set_cookie("lang", "ar")
    page = client.get("/login").get_data(as_text=True)
    html = client.post(
        "/login", data={"csrf_token": csrf_token(page), "code": code, "pin": "000000x"}
    ).get_data(as_text=True)
    assert "الرمز أو الرقم السري خاطئ" in html


def test_report_reaches_staff_without_an_account(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")
    page = client.get("/report").get_data(as_text=True)
    done = client.post(
        "/report", data={"csrf_token": csrf_token(page), "kind": "money", "text": "5 euro"}
    )
    assert done.status_code == 200
    assert "Your report reached the hub's staff" in done.get_data(as_text=True)
    from mobility.store import Incident
    from web.db import get_session

    with client.application.app_context():
        report = get_session().scalar(select(Incident))
        assert report is not None and report.kind.value == "money"


def test_pages_are_small_for_cheap_phones(client: FlaskClient) -> None:
    css = len(CSS.read_bytes())
    for path in PAGES:
        assert len(client.get(path).data) + css <= 30 * 1024, path
    register(client)
    for path in SIGNED_IN_PAGES:
        assert len(client.get(path).data) + css <= 30 * 1024, path


def test_catalogues_are_complete_in_every_language() -> None:
    for lang in ["it", "en", "fr", "ar", "bg", "ro"]:
        with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id:
                continue
            assert message.string, (lang, message.id)
            assert "fuzzy" not in message.flags, (lang, message.id)
            for placeholder in re.findall(r"%\(\w+\)s", str(message.id)):
                assert placeholder in message.string, (lang, message.id)


def test_no_english_left_in_french_or_arabic_pages(client: FlaskClient) -> None:
    for lang in ["fr", "ar"]:
        with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            english = [
                str(m.id)
                for m in read_po(fh)
                if m.id and m.string != m.id and len(str(m.id)) > 4 and "%(" not in str(m.id)
            ]
        client.set_cookie("lang", lang)
        for path in PAGES:
            text = re.sub(r"<[^>]+>", " ", client.get(path).get_data(as_text=True))
            left = [e for e in english if re.search(rf"\b{re.escape(e)}\b", text)]
            assert left == [], (lang, path, left)


def test_sms_can_be_turned_on_and_off_from_my_rides(client: FlaskClient) -> None:
    from mobility.store import Worker
    from web.db import get_session

    code, _ = register(client)
    client.set_cookie("lang", "en")  # registering chose French
    rides = client.get("/rides").get_data(as_text=True)
    assert "No SMS" in rides
    bad = client.post(
        "/rides/sms", data={"csrf_token": csrf_token(rides), "action": "on", "phone": "12"}
    ).get_data(as_text=True)
    assert "This is not a phone number." in bad
    client.post(
        "/rides/sms",
        data={"csrf_token": csrf_token(rides), "action": "on", "phone": "+221 77 123 45 67"},
    )
    with client.application.app_context():
        worker = get_session().scalar(select(Worker).where(Worker.code == code))
        assert worker is not None and worker.phone == "+221771234567"
    rides = client.get("/rides").get_data(as_text=True)
    assert "ending in 567" in rides and "771234567" not in rides
    client.post("/rides/sms", data={"csrf_token": csrf_token(rides), "action": "off"})
    with client.application.app_context():
        worker = get_session().scalar(select(Worker).where(Worker.code == code))
        assert worker is not None and worker.phone is None


def test_stop_by_sms_needs_the_gateway_secret(database_url: str) -> None:
    from mobility.store import Worker
    from web import create_app
    from web.db import get_session

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "RATELIMIT_ENABLED": False,
            "SMS_INBOUND_SECRET": "gateway-secret",
        }
    )
    client = app.test_client()
    client.post("/api/v1/workers", json={"language": "fr", "phone": "+39 333 7654321"})
    stop = {"from": "+393337654321", "text": "STOP"}
    assert client.post("/sms/inbound", json=stop).status_code == 403
    wrong = client.post("/sms/inbound", json=stop, headers={"X-Sms-Secret": "guess"})
    assert wrong.status_code == 403
    # the secret in the query string (and so in access logs) is not taken
    assert client.post("/sms/inbound?secret=gateway-secret", json=stop).status_code == 403
    unknown = {"from": "+393330000000", "text": "STOP"}
    other = client.post("/sms/inbound", json=unknown, headers={"X-Sms-Secret": "gateway-secret"})
    done = client.post("/sms/inbound", json=stop, headers={"X-Sms-Secret": "gateway-secret"})
    # the same answer for a number known or not: the reply tells nobody who opted out
    assert done.status_code == other.status_code == 200
    assert done.get_json() == other.get_json() == {"received": True}
    with app.app_context():
        assert get_session().scalar(select(Worker.phone)) is None
    jasmin = client.post(  # Jasmin's form fields, the secret as Basic authentication
        "/sms/inbound",
        data={"from": "+393337654321", "content": "stop"},
        auth=("jasmin", "gateway-secret"),
    )
    assert jasmin.status_code == 200 and jasmin.get_data(as_text=True) == "ACK/Jasmin"
    app.extensions["mobility.engine"].dispose()
