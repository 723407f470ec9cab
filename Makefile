# podd: build, run, test, bench, install. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
CC ?= cc
PREFIX ?= /usr/local
DEBUG_BIN := .build/debug
RELEASE_BIN := .build/release
MONITOR_SRC := $(wildcard Sources/podd-monitor/*.c Sources/podd-monitor/*.h)
MONITOR_CFLAGS := -O2 -Wall -Wextra -Werror -std=gnu11 -static
DEMO_DIR ?= /tmp/podd-demo

.PHONY: all build release deps run demo stop-demo test unit-test integration-test bench install uninstall check clean

all: build

deps:
	@scripts/install-deps.sh

# The daemon and CLI (SwiftPM) and the per-pod monitor (static C, next to podd).
build:
	$(SWIFT) build
	@$(MAKE) --no-print-directory $(DEBUG_BIN)/podd-monitor

$(DEBUG_BIN)/podd-monitor $(RELEASE_BIN)/podd-monitor: $(MONITOR_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(MONITOR_CFLAGS) -o $@ Sources/podd-monitor/*.c

# Release binaries with the static Swift runtime: what install and bench use (start-up time).
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

integration-test:
	PODD_BIN=$(CURDIR)/$(DEBUG_BIN) python3 -m pytest -q -ra Tests/integration

bench: release
	@scripts/install-deps.sh --bench || echo "bench: peers could not be installed; comparing with what is present"
	@PODD_BIN=$(CURDIR)/$(RELEASE_BIN) scripts/bench.sh

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/podd $(DESTDIR)/etc/podd/pods.d \
		$(DESTDIR)/etc/systemd/system $(DESTDIR)/usr/lib/tmpfiles.d $(DESTDIR)/usr/lib/sysusers.d \
		$(DESTDIR)$(PREFIX)/share/podd/examples
	install -m 0755 $(RELEASE_BIN)/podd $(RELEASE_BIN)/podctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(RELEASE_BIN)/podd-monitor $(DESTDIR)$(PREFIX)/libexec/podd/
	install -m 0644 systemd/podd.service systemd/podd.socket $(DESTDIR)/etc/systemd/system/
	install -m 0644 systemd/podd.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/podd.conf
	install -m 0644 systemd/podd.sysusers $(DESTDIR)/usr/lib/sysusers.d/podd.conf
	[ -e $(DESTDIR)/etc/podd/podd.yaml ] || install -m 0644 config/podd.yaml $(DESTDIR)/etc/podd/podd.yaml
	install -m 0644 config/examples/*.yaml $(DESTDIR)$(PREFIX)/share/podd/examples/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/podd $(DESTDIR)$(PREFIX)/bin/podctl
	rm -rf $(DESTDIR)$(PREFIX)/libexec/podd $(DESTDIR)$(PREFIX)/share/podd
	rm -f $(DESTDIR)/etc/systemd/system/podd.service $(DESTDIR)/etc/systemd/system/podd.socket
	rm -f $(DESTDIR)/usr/lib/tmpfiles.d/podd.conf $(DESTDIR)/usr/lib/sysusers.d/podd.conf

check: build
	$(SWIFT) build -Xswiftc -warnings-as-errors
	$(MAKE) test

clean:
	rm -rf .build
