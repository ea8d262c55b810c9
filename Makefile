# infra-monitor: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONFIG ?=
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG),)
# Debian packages the tests use: real SNMP agents and tools, fping (speed anchor), nftables (lab packet
# loss), iproute2 (lab namespaces), Debian's Chromium + driver (browser tests), Liberation fonts (PDF/screens),
# Tinos (fonts-croscore: the report pdf's serif with every Vietnamese glyph), poppler-utils (pdftotext,
# pdffonts: the report pdf tests), nginx (the reverse-proxy example, run over TLS), systemd-analyze (the
# units in deploy/ are verified), dnsmasq (a real DNS server for the dns probe kind), sip-tester (sipp: a real
# SIP peer answering OPTIONS with 200/486/503 for the sip probe kind).
DEB_TEST_PACKAGES := snmpd snmp fping nftables iproute2 chromium chromium-driver fonts-liberation fonts-croscore poppler-utils nginx systemd dnsmasq-base sip-tester
DEB_TEST_COMMANDS := snmpd snmpget fping nft ip chromium chromedriver pdftotext pdffonts nginx systemd-analyze dnsmasq sipp
# The report pdf needs a serif with Vietnamese glyphs (docs/reports-pdf.md).
REPORT_FONT := /usr/share/fonts/truetype/croscore/Tinos-Regular.ttf
# Benchmarks also use rrdtool (the storage peer) and the sqlite3 shell (the import peer).
DEB_BENCH_PACKAGES := rrdtool sqlite3

.PHONY: run test bench lint venv install install-test deb-test-packages deb-bench-packages report-fonts clean

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"' 
	@if ! $(PYTHON) -m venv --help >/dev/null 2>&1 || ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "Python venv support is missing; run: sudo apt-get install -y python3-venv"; exit 1; fi; fi
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@touch $@

venv: $(VENV)/.created

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: create .venv, install, create/upgrade the SQLite database with the demo province, serve on :8000
run: install report-fonts
	$(VENV)/bin/infra-monitor init --demo $(CONFIG_ARG)
	exec $(VENV)/bin/infra-monitor serve $(CONFIG_ARG)

# what the report pdf needs from Debian: WeasyPrint's pango and a serif with every Vietnamese glyph (Tinos).
# Installed when root, a warning otherwise (the rest of the program runs without them).
REPORT_DEB_PACKAGES := fonts-croscore fonts-liberation2 libpango-1.0-0 libpangoft2-1.0-0
# the fallback serif, tested too
REPORT_FONT_FALLBACK := /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf
report-fonts:
	@if [ ! -f $(REPORT_FONT) ] || [ ! -f $(REPORT_FONT_FALLBACK) ] || ! /sbin/ldconfig -p | grep -q libpangoft2-1.0; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing $(REPORT_DEB_PACKAGES) (report pdf)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(REPORT_DEB_PACKAGES) >/dev/null; \
	  else echo "warning: pdf reports need: sudo apt-get install -y $(REPORT_DEB_PACKAGES)"; fi; fi

deb-test-packages:
	@missing=""; for c in $(DEB_TEST_COMMANDS); do \
	  command -v $$c >/dev/null 2>&1 || [ -x /usr/sbin/$$c ] || [ -x /usr/bin/$$c ] || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian packages for:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_TEST_PACKAGES) >/dev/null; \
	  else echo "missing:$$missing"; echo "run: sudo apt-get install -y $(DEB_TEST_PACKAGES)"; exit 1; fi; fi

## make test: install the test extra and the Debian packages, then run the whole suite in parallel
# pytest-xdist workers: much of the suite waits (lab namespaces, timeouts, the browser, servers, PostgreSQL),
# so 2 per core, at most 8; `make test TEST_WORKERS=1` runs it in one worker. --dist loadscope keeps each module
# in one worker, in order, with its module fixtures built once (loadgroup's xdist_group marks have no effect with
# pytest 9.2 and pytest-xdist 3.8). Tests that need the machine to themselves: @pytest.mark.alone (tests/alone.py).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); w=$$((2 * n)); [ $$w -gt 8 ] && w=8; echo $$w)
test: install-test deb-test-packages report-fonts
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope

deb-bench-packages:
	@missing=""; for c in rrdtool sqlite3; do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_BENCH_PACKAGES) >/dev/null; \
	  else echo "run: sudo apt-get install -y $(DEB_BENCH_PACKAGES)"; exit 1; fi; fi

## make bench: benchmarks against peers (fping, net-snmp, rrdtool, sqlite3) in the lab; figures and ratios
bench: install-test deb-test-packages deb-bench-packages report-fonts
	@failed=""; for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "benchmarks that missed a target or could not run:$$failed"; exit 1; fi

## make lint: ruff on everything, mypy on the core
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache artifacts
