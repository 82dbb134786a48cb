# Passaggio - make targets. Needs only Python 3.11 and make on a fresh machine
# (plus root or sudo for Debian's chromium, used by the browser tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MO := $(patsubst %.po,%.mo,$(wildcard mobility/translations/*/LC_MESSAGES/messages.po))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-deps translations lint test demo serve bench clean

install: $(STAMP) $(MO)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# compile the optimizer's numba code once (about 30 s); later runs load it from disk
	$(BIN)/python -c "from optimizer.lns import warm_up; print(f'optimizer compiled in {warm_up():.0f} s')"
	touch $(STAMP)

# compiled translation catalogues (the .po files are the source)
mobility/translations/%/LC_MESSAGES/messages.mo: mobility/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d mobility/translations -l $* 

# Debian packages: headless Chromium for the browser tests, fonts for Arabic, poppler
# for the PDF tests, PostgreSQL's dump tools for backups; PostgreSQL and Redis servers,
# which the tests start on free ports when no server is configured (tests/services.py)
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && command -v pg_dump >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && fc-list | grep -qi "Noto Color Emoji" || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-core fonts-noto-color-emoji poppler-utils postgresql-client postgresql redis-server; }

# re-extract the strings and merge them into every catalogue
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o mobility/translations/messages.pot .
	$(BIN)/pybabel update -i mobility/translations/messages.pot -d mobility/translations

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint system-deps
	$(BIN)/pytest -q -n 4 --dist worksteal

# the main job: road graph, a planned and published demo day, then the web app
demo: install
	$(BIN)/mobility graph build
	@echo "Borgo Mezzanone -> Foggia centre:"
	$(BIN)/mobility route 41.4206,15.7096 41.4620,15.5433
	$(BIN)/flask --app web init-db
	$(BIN)/mobility demo --out out
	@echo "Serving http://127.0.0.1:5000 (workers: /, staff: /dispatch/login) - Ctrl+C to stop"
	$(BIN)/flask --app web run --host 127.0.0.1 --port 5000

# production on one machine: gunicorn (2 x cores + 1 workers) and a job worker, from
# the Procfile; settings in .env (made once, with a new secret key; edit it for
# PostgreSQL). Needs Redis (MOBILITY_REDIS_URL, default redis://127.0.0.1:6379/0).
serve: install .env
	PATH="$(CURDIR)/$(BIN):$$PATH" FLASK_SKIP_DOTENV=1 $(BIN)/honcho run flask --app web init-db
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho run mobility graph build
	PATH="$(CURDIR)/$(BIN):$$PATH" WEB_CONCURRENCY=$${WEB_CONCURRENCY:-$$(( 2 * $$(nproc) + 1 ))} \
	  $(BIN)/honcho start -f Procfile

# .env holds the secret key: readable by its owner only (umask before it exists)
.env:
	@umask 077 && { \
	  echo "MOBILITY_ENV=production"; \
	  echo "MOBILITY_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')"; \
	  echo "MOBILITY_REDIS_URL=redis://127.0.0.1:6379/0"; \
	  echo "# rate limits counted in Redis, shared by every gunicorn process"; \
	  echo "MOBILITY_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/1"; \
	  echo "# the TLS proxy in front of gunicorn (0 if clients reach it directly)"; \
	  echo "MOBILITY_TRUSTED_PROXIES=1"; \
	  echo "# log: nothing is sent; set http or jasmin and MOBILITY_SMS_URL for the gateway"; \
	  echo "MOBILITY_SMS_BACKEND=log"; \
	  echo "# MOBILITY_DATABASE_URL=postgresql+psycopg://passaggio@127.0.0.1:5432/passaggio"; \
	  echo "# MOBILITY_BASE_URL=https://passaggio.example.org"; \
	} > .env
	@chmod 600 .env
	@echo "wrote .env (mode 0600; a new secret key; set MOBILITY_DATABASE_URL for PostgreSQL and the SMS gateway)"

bench: install
	$(BIN)/python bench/roadgraph.py
	$(BIN)/python bench/darp.py

clean:
	rm -rf $(VENV) out data/osm_foggia/cache .mypy_cache .ruff_cache .pytest_cache
