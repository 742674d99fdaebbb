# emotune: `make demo` shows it working, `make test` installs everything and checks it.
# Debian 12 (or Raspberry Pi OS 12); as root the system packages are installed with apt-get.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# System packages: the servers the tests run for real, audio libraries, tools the deploy tests use.
APT_PACKAGES := python3-venv libsndfile1 libportaudio2 mpd mosquitto sox debootstrap systemd

.PHONY: demo test lint bench system-deps clean

demo: $(VENV)/.dev
	$(BIN)/python -m device classify samples/*.flac
	$(BIN)/python script/demo.py

test: system-deps $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .

bench: $(VENV)/.dev
	$(BIN)/python bench/classify.py

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "missing system packages (run as root, or: sudo apt-get install" $$missing")"; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The device's runtime only: enough for `make demo`, and what the Pi installs.
$(VENV)/.device: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

# Training, test and lint tools on top.
$(VENV)/.dev: requirements.txt training/requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.device

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
