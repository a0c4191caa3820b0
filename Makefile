# CivicPoints — see README.md. `make run` and `make test` both build on `make setup`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck browser deploy-tools unit integration bench mutation clean

setup: $(STAMP)

UV_VERSION := 0.13.9

# Installs the exact versions in uv.lock, only when pyproject.toml or uv.lock changed since the
# last install: re-running costs nothing. --locked fails if uv.lock no longer matches
# pyproject.toml (after editing dependencies run `.venv/bin/uv lock`; see README).
$(STAMP): pyproject.toml uv.lock
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --quiet --locked --extra dev --inexact --python $(BIN)/python
	touch $(STAMP)

# Where `make run` serves: `make run PORT=8080` or `HOST=0.0.0.0 make run` to change it.
HOST ?= 127.0.0.1
PORT ?= 8000

run: setup
	$(BIN)/civicpoints db upgrade
	$(BIN)/civicpoints demo --if-empty
	$(BIN)/civicpoints serve --host $(HOST) --port $(PORT) --demo-logins

lint: setup
	$(BIN)/ruff check src tests migrations
	$(BIN)/ruff format --check src tests migrations
	$(BIN)/lint-imports  # the house's contracts (.importlinter, docs/architecture.md)

typecheck: setup
	$(BIN)/mypy

# The browser tests (tests/e2e) drive Debian's Chromium with CJK fonts for real glyphs in
# screenshots; never `playwright install`. Installs them with apt-get (as root, else sudo) only
# when one is missing: costs nothing when all are there. poppler-utils (pdftoppm, pdfdetach,
# pdftotext) renders and reads the certificate PDFs in tests/integration/test_certificates.py
# and the annual reports' in test_insights_report.py, test_insights_report_layout.py, e2e.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@if test -x $(CHROMIUM) && command -v pdftoppm >/dev/null \
	    && { fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
	    || dpkg -s fonts-noto-cjk >/dev/null 2>&1; }; then :; else \
	  echo "安装浏览器测试所需的 chromium、fonts-noto-cjk 与 poppler-utils（证明 PDF 渲染测试） / installing chromium, fonts-noto-cjk and poppler-utils"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 chromium fonts-noto-cjk poppler-utils; \
	fi

# tests/integration/test_deploy.py runs the image's steps without Docker (no engine here):
# nginx in front, a system Python 3.11 with venv for the fresh install (as the image's), and
# openssl, unshare and setpriv (util-linux) for a read-only root as an unprivileged user, and
# systemd-analyze to verify the units.
deploy-tools:
	@if command -v nginx >/dev/null && command -v openssl >/dev/null \
	    && command -v unshare >/dev/null && command -v setpriv >/dev/null \
	    && command -v systemd-analyze >/dev/null \
	    && dpkg -s python3.11-venv >/dev/null 2>&1; then :; else \
	  echo "安装部署测试所需的 nginx、openssl、python3.11-venv / installing nginx, openssl and python3.11-venv for the deployment test"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 nginx openssl util-linux systemd python3.11-venv; \
	fi

# PostgreSQL: CIVICPOINTS_TEST_PG_URL, else the local server, else a throwaway cluster
# (scripts/with-test-postgres). Fails loudly when a named server cannot be reached.
# Browser tests run in the same pytest run and fail (never skip) without `make browser`.
test: setup lint typecheck browser deploy-tools
	scripts/with-test-postgres $(BIN)/pytest -q

bench: setup
	scripts/with-test-postgres $(BIN)/python -m bench.run

# Mutants of the pure modules against their unit tests, 2 at a time; fails below 90% killed
# in any module (docs/mutation.md). One module: $(BIN)/python scripts/mutate.py kit/ids.py
mutation: setup
	$(BIN)/python scripts/mutate.py --jobs 2

clean:
	rm -rf $(VENV) var/test-* .pytest_cache .mypy_cache .ruff_cache
