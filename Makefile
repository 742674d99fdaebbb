# emotune on a workstation (Debian 12 / Raspberry Pi OS 12, Python 3.11):
#   make demo   the whole appliance on this PC; installs only what the demo uses
#   make test   everything (speech training, test and lint tools), then ruff and pytest
# As root the missing Debian packages are installed with apt-get; otherwise make prints the one
# `sudo apt-get install ...` line to run and stops with exit status 2.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# What the demo runs: the venv itself, the servers it starts, PortAudio for a PC microphone.
# (libsndfile comes inside the soundfile wheel.)
DEMO_PACKAGES := python3-venv mpd mosquitto libportaudio2
# On top for the tests: Debian's libsndfile, sox (test clips), debootstrap and systemd (deploy tests),
# qemu-user-static (the device's tests on arm64, tests/test_arm64.py).
TEST_PACKAGES := $(DEMO_PACKAGES) libsndfile1 sox debootstrap systemd qemu-user-static
# Which list `system-deps` checks: the goal's (target-specific, inherited by its prerequisites).
PACKAGES := $(TEST_PACKAGES)

.PHONY: demo test lint bench system-deps clean

demo: PACKAGES := $(DEMO_PACKAGES)
demo: system-deps $(VENV)/.demo
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
	@if ! command -v dpkg-query >/dev/null; then echo "not Debian: make sure you have $(PACKAGES)"; exit 0; fi; \
	missing=$$(for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "emotune needs these Debian packages first; run:" >&2; \
	  echo "  sudo apt-get install" $$missing >&2; \
	  exit 2; \
	fi

# The venv needs python3-venv: the system packages come first (order only, also under make -j).
$(VENV)/bin/python: | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The demo: the device's runtime and the playlists' packages (no TensorFlow, no test tools).
$(VENV)/.demo: requirements.txt training/requirements-playlists.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r training/requirements-playlists.txt
	touch $@

# Speech training, its teacher (training/requirements-teacher.txt says why Resemblyzer comes
# without its own dependency list), test and lint tools on top (what `make test` needs).
$(VENV)/.dev: requirements.txt training/requirements-playlists.txt training/requirements.txt \
		training/requirements-teacher.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt -r training/requirements-teacher.txt
	$(BIN)/pip install -q --no-deps resemblyzer==0.1.4
	touch $@ $(VENV)/.demo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
