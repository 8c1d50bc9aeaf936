# The two commands of the README are `make run` and `make test`; each installs what it
# needs into .venv first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The PostgreSQL server of the second pass. The run does not use this database: it
# creates its own, uniquely named (one per pytest worker), and drops it at the end, so
# two runs at once (two clones, CI and a developer) never collide.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# The MariaDB (or MySQL-family) server of the third pass, used the same way: the run
# creates and drops its own databases there.
TEST_MYSQL_URL ?= mysql+pymysql://root@127.0.0.1:3306/mysql
# pytest-xdist workers per pass (0: no workers, everything in one process).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

.PHONY: run test node-sdk test-sqlite test-postgresql test-mysql install migrate schema lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools<81' wheel
	$(BIN)/python -m pip install --quiet -e '.[testing]'
	touch $(STAMP)

install: $(STAMP)

## make run: migrate the embedded SQLite database and serve on http://127.0.0.1:6543
## (another port: make run PORT=8000, or PORT=8000 in the environment). Pyramid,
## colander and the razorpay SDK import pkg_resources, whose deprecation warning is
## silenced here (banter_payments silences it for its own scripts and alembic).
PORT ?= 6543
run: $(STAMP)
	mkdir -p var
	PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning" \
		$(BIN)/alembic -c development.ini upgrade head
	PORT=$(PORT) PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning" \
		$(BIN)/pserve development.ini

migrate: $(STAMP)
	mkdir -p var
	$(BIN)/alembic -c development.ini upgrade head

## make test: the whole suite on SQLite, then on PostgreSQL when it is reachable
## (CI sets REQUIRE_POSTGRESQL=1, and then an unreachable PostgreSQL fails the run),
## then on MariaDB when it is reachable (REQUIRE_MYSQL=1 likewise).
test: $(STAMP) node-sdk
	$(BIN)/ruff check banter_payments plugins tests migrations/env.py
	$(BIN)/lint-imports
	$(PYTEST)
	@if $(BIN)/python -m banter_payments.scripts.wait_for_database "$(TEST_DATABASE_URL)"; then \
		$(PYTEST) --database-url "$(TEST_DATABASE_URL)"; \
	elif [ -n "$$REQUIRE_POSTGRESQL" ]; then \
		echo "PostgreSQL at $(TEST_DATABASE_URL) is required but unreachable" >&2; exit 1; \
	else \
		echo "PostgreSQL unreachable: ran the SQLite pass only"; \
	fi
	@if $(BIN)/python -m banter_payments.scripts.wait_for_database "$(TEST_MYSQL_URL)"; then \
		$(PYTEST) --database-url "$(TEST_MYSQL_URL)"; \
	elif [ -n "$$REQUIRE_MYSQL" ]; then \
		echo "MariaDB at $(TEST_MYSQL_URL) is required but unreachable" >&2; exit 1; \
	else \
		echo "MariaDB unreachable: skipped the MariaDB pass"; \
	fi

## make node-sdk: the official Node SDK (npm package razorpay) for the sandbox's Node test
node-sdk:
	test -d var/node-sdk/node_modules/razorpay || npm install --prefix var/node-sdk --no-save --no-audit --no-fund --silent razorpay

test-sqlite: $(STAMP)
	$(PYTEST)

test-postgresql: $(STAMP)
	$(PYTEST) --database-url "$(TEST_DATABASE_URL)"

test-mysql: $(STAMP)
	$(PYTEST) --database-url "$(TEST_MYSQL_URL)"

## make schema: (pre-release) regenerate the initial migration from the models
schema: $(STAMP)
	rm -f var/schema.sqlite migrations/versions/*_initial_schema.py
	mkdir -p var
	$(BIN)/alembic -c development.ini -x url=sqlite:///var/schema.sqlite revision \
		--autogenerate --rev-id 0001 -m "initial schema"
	rm -f var/schema.sqlite

lint: $(STAMP)
	$(BIN)/ruff check banter_payments plugins tests migrations/env.py
	$(BIN)/lint-imports

clean:
	rm -rf var build *.egg-info
