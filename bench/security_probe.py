"""Probe a running Passaggio app with the requests of the production review (issue
27) and print one line per check, then a summary. Measures and prints; not a test.

Usage: python bench/security_probe.py BASE_URL [--proxied] [--staff USER:PASSWORD]

``--proxied``: the app is behind one trusted proxy that this probe stands in for (it
sends ``X-Forwarded-For`` itself, as ``make serve``'s proxy would); without it the
per-client checks use the probe's own address and only look at the 11th attempt.
``--staff`` signs in once to check the ``next=`` redirect. Only loopback or the hub's
own test host should be probed: the probe makes about 60 requests and locks one
throw-away worker code it registers itself.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def call(
    base: str,
    path: str,
    *,
    method: str = "GET",
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> tuple[int, dict[str, str], str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    opener = opener or urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--proxied", action="store_true")
    parser.add_argument("--staff", default="")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    results: list[tuple[bool, str]] = []

    def check(ok: bool, what: str) -> None:
        results.append((ok, what))
        print(f"{'PASS' if ok else 'FAIL'}  {what}", flush=True)

    def as_client(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": f"6.6.6.6, {address}"} if args.proxied else {}

    # 1. rate limits per client, across every web process
    a, b = f"203.0.113.{secrets.randbelow(200) + 1}", "198.51.100.77"
    wrong = {"code": "AAAAAAAA", "pin": "000000"}
    codes = [
        call(base, "/api/v1/sessions", method="POST", body=wrong, headers=as_client(a))[0]
        for _ in range(11)
    ]
    check(
        codes[-1] == 429 and 429 not in codes[:10],
        f"11th sign-in attempt of one client: {codes[-1]}",
    )
    if args.proxied:
        other = call(base, "/api/v1/sessions", method="POST", body=wrong, headers=as_client(b))[0]
        check(other != 429, f"another client meanwhile: {other} (not 429)")

    # 2. the PIN lock-out under parallel attempts
    status, _, text = call(
        base,
        "/api/v1/workers",
        method="POST",
        body={"language": "fr"},
        headers=as_client("192.0.2.10"),
    )
    worker = json.loads(text) if status == 201 else {}
    if worker:

        def attempt(k: int) -> int:
            body = {"code": worker["code"], "pin": "000000"}
            return call(
                base,
                "/api/v1/sessions",
                method="POST",
                body=body,
                headers=as_client(f"192.0.2.{20 + k}"),
            )[0]

        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            list(pool.map(attempt, range(12)))
        right = call(
            base,
            "/api/v1/sessions",
            method="POST",
            body={"code": worker["code"], "pin": worker["pin"]},
            headers=as_client("192.0.2.99"),
        )[0]
        check(right == 401, f"12 parallel wrong PINs lock the code (right PIN then: {right})")

        # 3. tokens can be revoked
        fresh = "192.0.2.100"
        other_worker = json.loads(
            call(
                base,
                "/api/v1/workers",
                method="POST",
                body={"language": "fr"},
                headers=as_client(fresh),
            )[2]
        )
        token = json.loads(
            call(
                base,
                "/api/v1/sessions",
                method="POST",
                body={"code": other_worker["code"], "pin": other_worker["pin"]},
                headers=as_client(fresh),
            )[2]
        ).get("token", "")
        bearer = {"Authorization": f"Bearer {token}", **as_client(fresh)}
        gone = call(base, "/api/v1/sessions", method="DELETE", headers=bearer)[0]
        after = call(base, "/api/v1/workers/me/bookings", headers=bearer)[0]
        check(
            gone == 204 and after == 401, f"DELETE /api/v1/sessions revokes: {gone}, then {after}"
        )
    else:
        check(False, f"registering a throw-away worker: {status}")

    # 4. headers, cookies
    status, headers, _ = call(base, "/", headers=as_client("192.0.2.200"))
    check(
        "default-src 'self'" in headers.get("Content-Security-Policy", ""),
        "Content-Security-Policy",
    )
    https = base.startswith("https://") or args.proxied
    if https:
        check("Strict-Transport-Security" in headers, "Strict-Transport-Security")
    status, headers, _ = call(base, "/register", headers=as_client("192.0.2.201"))
    cookie = headers.get("Set-Cookie", "")
    if https and cookie:
        check("Secure" in cookie and "HttpOnly" in cookie, "session cookie Secure and HttpOnly")

    # 5. the SMS gateway's secret is not taken from the query string
    status = call(
        base,
        "/sms/inbound?secret=guess",
        method="POST",
        body={"from": "+393330000000", "text": "STOP"},
        headers=as_client("192.0.2.202"),
    )[0]
    check(status in (403, 404), f"SMS secret in the query string refused: {status}")

    # 6. a worker's data need the worker
    status, headers, _ = call(base, "/my-data.json", headers=as_client("192.0.2.203"))
    check(
        status == 302 and "/login" in headers.get("Location", ""),
        f"/my-data.json without a worker: {status}",
    )

    # 7. staff sign-in redirects only to the site's own paths
    if args.staff:
        user, _, password = args.staff.partition(":")
        client = as_client("192.0.2.204")
        _, headers, page = call(base, "/dispatch/login", headers=client)
        # the session cookie is Secure: carried by hand over a loopback http probe
        session = headers.get("Set-Cookie", "").split(";")[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        form = urllib.parse.urlencode(
            {"csrf_token": token.group(1) if token else "", "username": user, "password": password}
        ).encode()
        request = urllib.request.Request(f"{base}/dispatch/login?next=/%09/evil.com", data=form)
        for name, value in {**client, "Cookie": session}.items():
            request.add_header(name, value)
        try:
            response = urllib.request.build_opener(NoRedirect).open(request, timeout=30)
            location = response.headers.get("Location", "")
        except urllib.error.HTTPError as err:
            location = err.headers.get("Location", "")
        check(
            bool(location) and "evil.com" not in location,
            f"next=/\\t/evil.com goes to {location!r}",
        )

    passed = sum(ok for ok, _ in results)
    print(f"{passed} passed, {len(results) - passed} failed")


if __name__ == "__main__":
    main()
