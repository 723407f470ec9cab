# podd: build, run, test, bench, install. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
CC ?= cc
PREFIX ?= /usr/local
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release
MONITOR_SRC := $(wildcard Sources/podd-monitor/*.c Sources/podd-monitor/*.h)
MONITOR_CFLAGS := -O2 -Wall -Wextra -Werror -std=gnu11 -static
# libseccomp compiles the containers' seccomp filters (Debian's libseccomp-dev has the .a).
MONITOR_LIBS := -lseccomp
DEMO_DIR ?= /tmp/podd-demo

.PHONY: all build release deps run demo stop-demo test unit-test integration-test bench stress install install-files install-activate uninstall check clean

all: build

deps:
	@scripts/install-deps.sh

# The daemon and CLI (SwiftPM) and the per-pod monitor (static C, next to podd).
build:
	$(SWIFT) build
	@$(MAKE) --no-print-directory $(DEBUG_BIN)/podd-monitor

$(DEBUG_BIN)/podd-monitor $(RELEASE_BIN)/podd-monitor: $(MONITOR_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(MONITOR_CFLAGS) -o $@ Sources/podd-monitor/*.c $(MONITOR_LIBS)

# Release binaries with the static Swift runtime: what install and bench use (start-up time).
# podctl is a fully static executable in release (Package.swift: -static-executable): no
# dynamic loader and relocations at each start, about 3 ms of CPU less per podctl command.
release:
	$(SWIFT) build -c release -Xswiftc -static-stdlib
	@$(MAKE) --no-print-directory $(RELEASE_BIN)/podd-monitor

# Starts podd on a private socket, imports busybox, runs the sidecar example end to end.
run demo: deps build
	@DEMO_DIR=$(DEMO_DIR) BIN=$(DEBUG_BIN) scripts/demo.sh

stop-demo:
	@DEMO_DIR=$(DEMO_DIR) BIN=$(DEBUG_BIN) scripts/demo.sh stop

test: deps build unit-test integration-test

unit-test:
	$(SWIFT) test

# Test files run side by side (pytest-xdist, one file per worker at a time: a file's tests
# may share a fixture such as the systemd container); each test has its own podd. Tests
# marked `alone` (load limits measured against the whole machine) run afterwards, by
# themselves.
TEST_JOBS ?= 4
integration-test:
	PODD_BIN=$(CURDIR)/$(DEBUG_BIN) python3 -m pytest -q -ra -m "not alone" \
		$$(python3 -c 'import xdist' 2>/dev/null && echo "-n $(TEST_JOBS) --dist loadfile") Tests/integration
	PODD_BIN=$(CURDIR)/$(DEBUG_BIN) python3 -m pytest -q -ra -m alone Tests/integration

bench: release
	@scripts/install-deps.sh --bench || echo "bench: peers could not be installed; comparing with what is present"
	@PODD_BIN=$(CURDIR)/$(RELEASE_BIN) scripts/bench.sh
	@PODD_BIN=$(CURDIR)/$(RELEASE_BIN) python3 scripts/bench_registry.py

# The stress suite (scripts/stress, issue 9): load, churn, chaos, disk full, fuzz, limits, each
# against a podd of its own; prints a table and fails when a goal is missed. STRESS_SCALE=small
# runs the short version (what `make test` runs); PODD_BIN=DIR uses binaries built elsewhere.
STRESS_SCALE ?= full
stress: $(if $(PODD_BIN),,build)
	@scripts/install-deps.sh
	PODD_BIN=$(or $(PODD_BIN),$(CURDIR)/$(DEBUG_BIN)) STRESS_SCALE=$(STRESS_SCALE) python3 scripts/stress/run.py

# Binaries (release, static Swift runtime), systemd units, tmpfiles/sysusers snippets, the
# example config (kept if one is there) and example pods. Then, on a machine running systemd
# and without DESTDIR: the podd group, the directories, and a daemon-reload. Start with
# `systemctl enable --now podd.socket` (podd then starts on the first API call).
install: release install-files
	@$(MAKE) --no-print-directory install-activate

# The files only, from $(BIN_DIR), nothing built: for packaging (DESTDIR) and the tests.
BIN_DIR ?= $(RELEASE_BIN)
UNIT_DIR ?= /etc/systemd/system
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/podd $(DESTDIR)/etc/podd/pods.d \
		$(DESTDIR)$(UNIT_DIR) $(DESTDIR)/usr/lib/tmpfiles.d $(DESTDIR)/usr/lib/sysusers.d \
		$(DESTDIR)$(PREFIX)/share/podd/examples
	install -m 0755 $(BIN_DIR)/podd $(BIN_DIR)/podctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(BIN_DIR)/podd-monitor $(DESTDIR)$(PREFIX)/libexec/podd/
	sed 's|/usr/local/bin/podd|$(PREFIX)/bin/podd|' systemd/podd.service > $(DESTDIR)$(UNIT_DIR)/podd.service
	chmod 0644 $(DESTDIR)$(UNIT_DIR)/podd.service
	install -m 0644 systemd/podd.socket $(DESTDIR)$(UNIT_DIR)/
	install -m 0644 systemd/podd.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/podd.conf
	install -m 0644 systemd/podd.sysusers $(DESTDIR)/usr/lib/sysusers.d/podd.conf
	[ -e $(DESTDIR)/etc/podd/podd.yaml ] || install -m 0644 config/podd.yaml $(DESTDIR)/etc/podd/podd.yaml
	install -m 0644 config/examples/*.yaml $(DESTDIR)$(PREFIX)/share/podd/examples/

# What the package manager's scripts would do, on this machine only (not with DESTDIR).
install-activate:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemd-sysusers /usr/lib/sysusers.d/podd.conf && \
		systemd-tmpfiles --create /usr/lib/tmpfiles.d/podd.conf && \
		systemctl daemon-reload && \
		echo "podd installed: systemctl enable --now podd.socket"; \
	else \
		echo "podd installed$(if $(DESTDIR), under $(DESTDIR),) (systemd not running here: no daemon-reload)"; \
	fi

# Removes what install put in place, stopping the units first. Pods keep running (podd
# leaves them, KillMode=process), and /var/lib/podd (images, pods, logs), /etc/podd and the
# podd group stay: remove those by hand once no pod is left.
uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl disable --now podd.socket podd.service 2>/dev/null || true; \
	fi
	rm -f $(DESTDIR)$(PREFIX)/bin/podd $(DESTDIR)$(PREFIX)/bin/podctl
	rm -rf $(DESTDIR)$(PREFIX)/libexec/podd $(DESTDIR)$(PREFIX)/share/podd
	rm -f $(DESTDIR)$(UNIT_DIR)/podd.service $(DESTDIR)$(UNIT_DIR)/podd.socket
	rm -f $(DESTDIR)/usr/lib/tmpfiles.d/podd.conf $(DESTDIR)/usr/lib/sysusers.d/podd.conf
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

check: build
	$(SWIFT) build -Xswiftc -warnings-as-errors
	$(MAKE) test

clean:
	rm -rf .build
