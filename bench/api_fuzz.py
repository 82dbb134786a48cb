"""A larger Schemathesis campaign than the suite's: every operation of the API, valid
and invalid requests, all checks (as ``tests/web/test_api_schema.py``), a random seed,
on a fresh SQLite database. Prints what it ran; a failure prints Schemathesis's report
with the request to reproduce it. Measures and prints; not a test.

Usage: python bench/api_fuzz.py [--examples N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import schemathesis
from schemathesis import GenerationMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.web.test_api_schema import check_operation
from web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=300, help="per operation and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{folder}/fuzz.db",
                "SECRET_KEY": "fuzz",
                "RATELIMIT_ENABLED": False,
            }
        )
        app.test_cli_runner().invoke(args=["init-db"])  # tables and the stops
        worker = app.test_client().post("/api/v1/workers", json={"language": "en"}).get_json()
        headers = {"X-Worker-Code": worker["code"], "X-Worker-Pin": worker["pin"]}
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                started = time.perf_counter()
                check_operation(operation, mode, headers, args.examples, derandomize=False)
                print(
                    f"{operation.label:<40} {mode.value:<9} up to {args.examples} examples, "
                    f"no failure, {time.perf_counter() - started:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
