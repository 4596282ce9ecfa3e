# bindlab: every entry point.  `make help` lists them.
#
# Builds need no root.  The targets that create namespaces or Mininet networks
# (test, runtimes-test, mininet-test, lab, bench, clean-net) need root, and install what is
# missing from Debian's packages first.

PYTHON ?= /usr/bin/python3
CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -std=c11 -Wall -Wextra -Wimplicit-fallthrough -Wshadow -Wformat=2 -Werror
CPPFLAGS += -D_GNU_SOURCE
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
B := build

# What netprobe and both tracers share (JSON writer, errno names, addresses, text).
SHARED_SRCS := $(wildcard csrc/lib/*.c)
SHARED_HDRS := $(wildcard csrc/lib/*.h)
LIB_SRCS := $(filter-out csrc/main.c,$(wildcard csrc/*.c)) $(SHARED_SRCS)
HDRS := $(wildcard csrc/*.h) $(SHARED_HDRS)
UNIT_SRCS := $(wildcard csrc/tests/*.c)
TRACE_HDRS := $(wildcard csrc/trace/*.h)
# What both tracers share (the records, their writer, socket facts), then each one's own.
TRACE_COMMON := $(wildcard csrc/trace/trace_*.c)
SYSTRACE_SRCS := $(wildcard csrc/trace/systrace_*.c)
# libbindtrace.so: bindtrace.c and its other interposers (bindtrace_*.c).
BINDTRACE_SRCS := $(wildcard csrc/trace/bindtrace*.c)

# Debian packages: to build, to run the suite, to test.
DEBS_BUILD := gcc make libc6-dev
DEBS_RUN := mininet openvswitch-switch iproute2 iputils-ping bridge-utils nftables \
	procps ethtool python3 python3-openpyxl python3-yaml
# ... to write the man pages (make man, make install), to build the Debian package.
DEBS_MAN := scdoc
DEBS_DEB := build-essential dpkg-dev debhelper dh-python python3 scdoc lintian
# ... to build and boot the guest of `make vm-test` (Debian's kernel under QEMU).
DEBS_VM := debootstrap qemu-system-x86 cpio busybox-static kmod e2fsprogs xz-utils zstd gzip
DEBS_TEST := libcmocka-dev python3-pytest valgrind socat netcat-openbsd chromium curl \
	python3-pexpect python3-hypothesis man-db iptables dnsmasq-base $(DEBS_DEB)
# ... for make docker-test: Docker itself (its daemon runs only inside that test, under
# the Mininet lock), and the static netprobe for its image.
DEBS_DOCKER := docker.io iptables musl-tools linux-libc-dev

.PHONY: all help deps-build deps-run deps-test deps-vm test unit itest runtimes-test docker-test \
	mininet-test clean-net vm-test vm-itest bench fuzz clean lab check man install uninstall \
	deb programs

all: $(B)/netprobe $(B)/libbindtrace.so $(B)/bindtrace-sys

help:
	@echo "make                 build $(B)/netprobe"
	@echo "sudo make test       unit tests, namespace tests, harness tests (ASan/UBSan)"
	@echo "sudo make mininet-test [SCENARIO=name]   run the scenario suite, write results/"
	@echo "sudo make vm-test [SCENARIO=name] [SWITCH=kind]   the suite in a QEMU guest on Debian's"
	@echo "                     stock kernel (OVS kernel datapath, vrf, dummy, netem); image cached in $(B)/vm/"
	@echo "sudo make vm-itest   the VM lane's own tests (tests/test_vm.py; boots the guest, slow)"
	@echo "sudo make clean-net  remove what a killed run left behind (only its own)"
	@echo "sudo make lab SCENARIO=name     open a scenario as an interactive lab (Mininet CLI)"
	@echo "sudo make check [SCENARIO=name] re-probe the open lab: what changed, is it solved"
	@echo "sudo make docker-test   beside a real Docker daemon (slow; installs docker.io)"
	@echo "sudo make runtimes-test   every runtime's test programs in every default scenario (slow)"
	@echo "sudo make bench      benchmarks, printed as ratios"
	@echo "sudo make programs   the test programs of every runtime (C glibc/musl, Go, Java; Python, Node)"
	@echo "make fuzz [FUZZ_SECONDS=N | FUZZ_RUNS=N]   libFuzzer on the parsers and the JSON writer"
	@echo "make man             the man pages bindlab(1), netprobe(1), bindtrace-sys(1), libbindtrace(7) in $(B)/man/"
	@echo "sudo make install [PREFIX=/usr] [DESTDIR=dir]   install bindlab, netprobe, the tracer,"
	@echo "                     scenarios, labs, examples, man pages, completion, pytest plugin"
	@echo "sudo make uninstall [PREFIX=...]   remove exactly what make install put there"
	@echo "make deb             the Debian package $(B)/deb/bindlab_$(VERSION)_*.deb (debhelper), lintian-checked"

$(B)/netprobe: csrc/main.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(B)
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -pthread -o $@ csrc/main.c $(LIB_SRCS) $(LDFLAGS)

# The same probe with AddressSanitizer and UndefinedBehaviorSanitizer: the tests use it.
$(B)/asan/netprobe: csrc/main.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(B)/asan
	$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(SANITIZE) -pthread -o $@ csrc/main.c $(LIB_SRCS)

$(B)/asan/unit: $(UNIT_SRCS) $(LIB_SRCS) $(HDRS)
	@mkdir -p $(B)/asan
	$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(SANITIZE) -pthread -Icsrc -o $@ $(UNIT_SRCS) $(LIB_SRCS) \
		-lcmocka

# The LD_PRELOAD tracer.  No sanitizers: a sanitizer runtime cannot be preloaded
# into arbitrary programs (ASan insists on coming first); its tests run it under
# valgrind instead.  -fvisibility=hidden exports only the interposed calls, so the
# errno table compiled in never shadows a traced program's own symbols.
TRACE_SHARED := csrc/lib/errnames.c csrc/lib/gainames.c csrc/lib/json.c csrc/lib/text.c \
	csrc/lib/dnsmsg.c
$(B)/libbindtrace.so: $(BINDTRACE_SRCS) $(TRACE_COMMON) $(TRACE_HDRS) $(TRACE_SHARED) \
		$(TRACE_SHARED:.c=.h)
	@mkdir -p $(B)
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -fPIC -shared -fvisibility=hidden -Icsrc \
		-o $@ $(BINDTRACE_SRCS) $(TRACE_COMMON) $(TRACE_SHARED) -ldl -lpthread $(LDFLAGS)

# The syscall tracer (ptrace + seccomp-bpf) for static programs: the same records
# through the same code as libbindtrace.so.  The ASan/UBSan build is what its tests
# run (the sanitizers live in the tracer, never in the program it traces).
SYSTRACE_DEPS := $(SYSTRACE_SRCS) $(TRACE_COMMON) $(TRACE_HDRS) $(TRACE_SHARED) \
	$(TRACE_SHARED:.c=.h)
$(B)/bindtrace-sys: $(SYSTRACE_DEPS)
	@mkdir -p $(B)
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -Icsrc -o $@ $(SYSTRACE_SRCS) $(TRACE_COMMON) \
		$(TRACE_SHARED)

$(B)/asan/bindtrace-sys: $(SYSTRACE_DEPS)
	@mkdir -p $(B)/asan
	$(CC) $(CPPFLAGS) $(WARNINGS) -O1 -g $(SANITIZE) -Icsrc -o $@ $(SYSTRACE_SRCS) \
		$(TRACE_COMMON) $(TRACE_SHARED)

# The C program the tracer's tests and benchmark trace.
TRACEE_SRCS := $(wildcard csrc/trace/tests/tracee*.c)
$(B)/trace/tracee: $(TRACEE_SRCS) csrc/trace/tests/tracee.h
	@mkdir -p $(B)/trace
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $(TRACEE_SRCS) -lpthread

# The same program linked statically with musl (musl-tools), and a static Go
# program (golang-go): what libbindtrace.so cannot see and bindtrace-sys must.
# Go builds offline: its cache under $(B)/, no module downloads.
$(B)/trace/tracee-musl: $(TRACEE_SRCS) csrc/trace/tests/tracee.h
	@scripts/install-debs musl-tools
	@mkdir -p $(B)/trace
	musl-gcc -static $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $(TRACEE_SRCS) -lpthread

# netprobe linked statically with musl, for a container image made with `docker
# import` (tests/test_docker.py): nothing to pull.  musl has no kernel headers of its
# own, so the kernel's (linux-libc-dev) are given through a folder of links.
$(B)/static/netprobe: csrc/main.c $(LIB_SRCS) $(HDRS)
	@scripts/install-debs musl-tools linux-libc-dev
	@mkdir -p $(B)/static/include
	ln -sfn /usr/include/linux $(B)/static/include/linux
	ln -sfn /usr/include/asm-generic $(B)/static/include/asm-generic
	ln -sfn /usr/include/$$(gcc -print-multiarch)/asm $(B)/static/include/asm
	musl-gcc -static $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -isystem $(B)/static/include -pthread \
		-o $@ csrc/main.c $(LIB_SRCS)

$(B)/trace/goprobe: csrc/trace/tests/goprobe/main.go csrc/trace/tests/goprobe/go.mod
	@scripts/install-debs golang-go
	@mkdir -p $(B)/trace $(B)/go-cache
	cd csrc/trace/tests/goprobe && CGO_ENABLED=0 GOPROXY=off GOFLAGS= \
		GOCACHE=$(CURDIR)/$(B)/go-cache HOME=$(CURDIR)/$(B)/go-cache \
		go build -o $(CURDIR)/$@ .

# Programs this project did not tailor to the tracer, in every runtime and idiom
# (tests/programs/, tests/test_runtimes.py): C against glibc (blocking, poll() then
# SO_ERROR, poll() then a second connect()), the same C linked statically with musl,
# static Go, and Java classes; Python, Node and Ruby run from their sources, and
# Debian's ncat as it is.
PROG := $(B)/programs
PROG_C := server client_blocking client_poll client_reconnect mcast_receiver udp_reply
PROG_HDR := tests/programs/c/common.h
$(PROG)/glibc/%: tests/programs/c/%.c $(PROG_HDR)
	@mkdir -p $(PROG)/glibc
	$(CC) $(WARNINGS) $(CFLAGS) -o $@ $<
$(PROG)/musl/%: tests/programs/c/%.c $(PROG_HDR)
	@scripts/install-debs musl-tools
	@mkdir -p $(PROG)/musl
	musl-gcc -static $(WARNINGS) $(CFLAGS) -o $@ $<
$(PROG)/go/%: tests/programs/go/%.go
	@scripts/install-debs golang-go
	@mkdir -p $(PROG)/go $(B)/go-cache
	CGO_ENABLED=0 GOPROXY=off GOFLAGS= GO111MODULE=off GOCACHE=$(CURDIR)/$(B)/go-cache \
		HOME=$(CURDIR)/$(B)/go-cache go build -o $@ $<
$(PROG)/java/%.class: tests/programs/java/%.java
	@scripts/install-debs default-jdk-headless
	@mkdir -p $(PROG)/java
	javac -d $(PROG)/java $<
programs: $(addprefix $(PROG)/glibc/,$(PROG_C)) $(addprefix $(PROG)/musl/,$(PROG_C)) \
	$(PROG)/go/server $(PROG)/go/client $(PROG)/java/Server.class $(PROG)/java/Client.class
	@scripts/install-debs nodejs ruby ncat

# The benchmark's floor: the probe phase's bind and connect calls in a bare C loop
# (bench/bench_harness.py).
$(B)/bench/floor: csrc/bench/floor.c
	@mkdir -p $(B)/bench
	$(CC) $(CPPFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $< -lpthread

deps-build:
	@scripts/install-debs $(DEBS_BUILD)
deps-run:
	@scripts/install-debs $(DEBS_BUILD) $(DEBS_RUN)
deps-test:
	@scripts/install-debs $(DEBS_BUILD) $(DEBS_RUN) $(DEBS_TEST)
deps-vm:
	@scripts/install-debs $(DEBS_BUILD) $(DEBS_RUN) $(DEBS_VM)

unit: deps-test
	@$(MAKE) --no-print-directory $(B)/asan/unit
	$(B)/asan/unit

# pytest against real namespaces and real Mininet networks, with the ASan probe.
# Only one Mininet network may run on a machine: the lock serialises test suites.
MININET_LOCK := /tmp/bindlab-mininet.lock
itest: deps-test
	@$(MAKE) --no-print-directory $(B)/netprobe $(B)/asan/netprobe \
		$(B)/libbindtrace.so $(B)/bindtrace-sys $(B)/asan/bindtrace-sys $(B)/trace/tracee \
		programs
	NETPROBE=$(CURDIR)/$(B)/asan/netprobe flock $(MININET_LOCK) $(PYTHON) -m pytest -q \
		-rs --durations=30 tests --ignore=tests/test_docker.py --ignore=tests/test_vm.py

# Every runtime's programs in every default scenario (tests/test_runtimes.py with
# BINDLAB_RUNTIMES=all): what each runtime really does, against its KNOWN differences.
runtimes-test: deps-test
	@$(MAKE) --no-print-directory $(B)/netprobe $(B)/libbindtrace.so $(B)/bindtrace-sys \
		programs
	BINDLAB_RUNTIMES=all NETPROBE=$(CURDIR)/$(B)/asan/netprobe flock $(MININET_LOCK) \
		$(PYTHON) -m pytest -q -rs --durations=30 tests/test_runtimes.py

# Beside a real Docker daemon (slow, minutes: it runs the default suite beside it).
# Installing docker.io must not start a daemon: on a machine with an init system, put
# a policy-rc.d that exits 101 in place first (Debian's way to keep services stopped).
docker-test: deps-test
	@scripts/install-debs $(DEBS_DOCKER)
	@$(MAKE) --no-print-directory $(B)/netprobe $(B)/asan/netprobe $(B)/static/netprobe
	NETPROBE=$(CURDIR)/$(B)/asan/netprobe flock $(MININET_LOCK) $(PYTHON) -m pytest -q \
		tests/test_docker.py

test: deps-test
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory itest

mininet-test: deps-run
	@$(MAKE) --no-print-directory $(B)/netprobe
	$(PYTHON) -m harness run $(if $(SWITCH),--switch $(SWITCH)) $(SCENARIO)

# The suite in a QEMU guest on Debian's stock kernel (harness/ci/vm.py): the guest
# is built once from DEBS_RUN under $(B)/vm/ (scripts/vm-image) and booted with
# TCG, or KVM where it works.  QEMU does not touch host networking: no lock.
vm-test: deps-vm
	@$(MAKE) --no-print-directory all
	$(PYTHON) -m harness.ci.vm --packages '$(DEBS_RUN)' $(if $(SWITCH),--switch $(SWITCH)) \
		$(SCENARIO)

# The VM lane's tests: they boot the guest (minutes under TCG), so not in `make test`.
vm-itest: deps-vm deps-test
	@$(MAKE) --no-print-directory all
	$(PYTHON) -m pytest -q tests/test_vm.py

# An interactive lab: the scenario's broken network, Mininet's CLI with `check`.
lab: deps-run
	@$(MAKE) --no-print-directory $(B)/netprobe
	@test -n "$(SCENARIO)" || { echo "usage: sudo make lab SCENARIO=name (see: $(PYTHON) -m harness list)"; exit 2; }
	$(PYTHON) -m harness lab $(SCENARIO) $(if $(STUDENT),--student '$(STUDENT)')

# From another terminal, against the open lab: exit 0 solved, 1 not yet, 2 no lab open.
check:
	$(PYTHON) -m harness check $(SCENARIO) $(if $(STUDENT),--student '$(STUDENT)')

clean-net:
	$(PYTHON) -m harness clean-net

# libFuzzer (clang) on the parsers and the JSON writer, one target after another:
# fuzz_plan (plan lines and their records), fuzz_planread (whole plans: bounded
# lines, duplicate ids), fuzz_addr (addresses), fuzz_json (the writer, UTF-8),
# fuzz_dns (DNS answers as bindtrace-sys reads them from a traced program).
# Each runs FUZZ_SECONDS (default 20), or FUZZ_RUNS executions when that is set;
# seeds come from csrc/fuzz/corpus/, new inputs and crashes are kept in $(B)/fuzz/.
FUZZ_CC = clang $(CPPFLAGS) $(WARNINGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Icsrc
FUZZ_PLAN_SRCS := csrc/probe_plan.c csrc/probe_planread.c csrc/lib/addr.c csrc/probe_record.c \
	csrc/probe_name.c \
	csrc/lib/json.c csrc/lib/text.c csrc/lib/errnames.c
FUZZ_LIMIT = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(or $(FUZZ_SECONDS),20))
# $(call fuzz_run,TARGET,MAX_LEN,SEED_DIR): one libFuzzer run of $(B)/fuzz/fuzz_TARGET
fuzz_run = mkdir -p $(B)/fuzz/corpus-$(1) && $(B)/fuzz/fuzz_$(1) $(FUZZ_LIMIT) -max_len=$(2) \
	-dict=csrc/fuzz/plan.dict -artifact_prefix=$(B)/fuzz/$(1)- $(B)/fuzz/corpus-$(1) $(3)

fuzz:
	@scripts/install-debs clang
	@mkdir -p $(B)/fuzz
	$(FUZZ_CC) -o $(B)/fuzz/fuzz_plan csrc/fuzz/fuzz_plan.c $(FUZZ_PLAN_SRCS)
	$(FUZZ_CC) -o $(B)/fuzz/fuzz_planread csrc/fuzz/fuzz_planread.c $(FUZZ_PLAN_SRCS)
	$(FUZZ_CC) -o $(B)/fuzz/fuzz_addr csrc/fuzz/fuzz_addr.c csrc/lib/addr.c
	$(FUZZ_CC) -Icsrc/tests -o $(B)/fuzz/fuzz_json csrc/fuzz/fuzz_json.c \
		csrc/tests/json_valid.c csrc/lib/json.c csrc/lib/text.c
	$(FUZZ_CC) -o $(B)/fuzz/fuzz_dns csrc/fuzz/fuzz_dns.c csrc/lib/dnsmsg.c
	$(call fuzz_run,plan,2048,csrc/fuzz/corpus/plan)
	$(call fuzz_run,planread,8192,csrc/fuzz/corpus/plan)
	$(call fuzz_run,addr,128,csrc/fuzz/corpus/addr)
	$(call fuzz_run,json,4096,)
	$(call fuzz_run,dns,1500,csrc/fuzz/corpus/dns)

bench: deps-test
	@$(MAKE) --no-print-directory $(B)/netprobe $(B)/libbindtrace.so $(B)/bindtrace-sys \
		$(B)/trace/tracee $(B)/bench/floor
	$(PYTHON) bench/run.py

clean:
	rm -rf $(B)

# -- man pages: one scdoc source each in man/, rendered into $(B)/man/ -----------------
MAN_PAGES := $(B)/man/bindlab.1 $(B)/man/netprobe.1 $(B)/man/bindtrace-sys.1 \
	$(B)/man/libbindtrace.7

man:
	@scripts/install-debs $(DEBS_MAN)
	@$(MAKE) --no-print-directory $(MAN_PAGES)

$(B)/man/%: man/%.scd
	@mkdir -p $(B)/man
	scdoc < $< > $@.tmp && mv $@.tmp $@

# -- installing: GNU conventions, `make install [PREFIX=/usr] [DESTDIR=/stage]` --------
# The harness and its data keep the clone's layout under $(pkgdatadir), so it finds
# topologies/, labs/, expectations/ and examples/ as in a clone.  Three pointers are
# rewritten on the way, each relative to where it lies so that a DESTDIR tree runs
# in place: the marked lines of harness/__init__.py (where netprobe and the tracer
# are), HOME in bin/bindlab and in bindlab/__init__.py (where the harness is).
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
libdir ?= $(exec_prefix)/lib
datarootdir ?= $(prefix)/share
datadir ?= $(datarootdir)
mandir ?= $(datarootdir)/man
bashcompletiondir ?= $(datarootdir)/bash-completion/completions
# Where $(PYTHON) finds the bindlab package (pytest -p bindlab.pytest_plugin).
pythondir ?= $(if $(filter /usr,$(prefix)),/usr/lib/python3/dist-packages,$(prefix)/lib/python$(PYTHON_VERSION)/dist-packages)
PYTHON_VERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pkgdatadir = $(datadir)/bindlab
pkglibdir = $(libdir)/bindlab
INSTALL ?= install
VERSION := $(shell sed -n "s/^__version__ = '\(.*\)'$$/\1/p" harness/__init__.py)
DATA_FILES := $(wildcard harness/*.py harness/*/*.py topologies/*.py labs/*.md expectations/*.md \
	expectations/*.json examples/*.md examples/*.py examples/pytest/*.py \
	examples/snapshots/*.json examples/docker/*.json examples/clab/*.yml)
# $(call relpath,TO,FROM): TO relative to FROM, as text (no symlink resolved).
relpath = $(shell realpath -ms --relative-to='$(2)' '$(1)')

install: all man
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(pkglibdir) $(DESTDIR)$(pythondir)/bindlab \
		$(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man7 $(DESTDIR)$(bashcompletiondir)
	$(INSTALL) -m 755 $(B)/netprobe $(DESTDIR)$(bindir)/netprobe
	$(INSTALL) -m 755 $(B)/bindtrace-sys $(DESTDIR)$(bindir)/bindtrace-sys
	$(INSTALL) -m 644 $(B)/libbindtrace.so $(DESTDIR)$(pkglibdir)/libbindtrace.so
	@for f in $(DATA_FILES); do \
		d=$(DESTDIR)$(pkgdatadir)/$$(dirname $$f); mode=644; \
		if [ -x $$f ]; then mode=755; fi; \
		$(INSTALL) -d $$d && $(INSTALL) -m $$mode $$f $$d/ || exit 1; \
	done
	sed -i -e "s|^INSTALLED = False |INSTALLED = True |" \
		-e "s|^PROGRAMS = 'build' |PROGRAMS = '$(call relpath,$(bindir),$(pkgdatadir))' |" \
		-e "s|^LIBRARIES = 'build' |LIBRARIES = '$(call relpath,$(pkglibdir),$(pkgdatadir))' |" \
		$(DESTDIR)$(pkgdatadir)/harness/__init__.py
	test "$$(grep -c -e '^INSTALLED = True ' -e "^PROGRAMS = '\.\." -e "^LIBRARIES = '\.\." \
		$(DESTDIR)$(pkgdatadir)/harness/__init__.py)" = 3
	sed -e "1s|.*|#!$(PYTHON)|" \
		-e "s|^HOME = '..' |HOME = '$(call relpath,$(pkgdatadir),$(bindir))' |" \
		bin/bindlab > $(DESTDIR)$(bindir)/bindlab
	chmod 755 $(DESTDIR)$(bindir)/bindlab
	$(INSTALL) -m 644 bindlab/*.py $(DESTDIR)$(pythondir)/bindlab/
	sed -i -e "s|^HOME = '..' |HOME = '$(call relpath,$(pkgdatadir),$(pythondir)/bindlab)' |" \
		$(DESTDIR)$(pythondir)/bindlab/__init__.py
	$(INSTALL) -m 644 $(B)/man/bindlab.1 $(B)/man/netprobe.1 $(B)/man/bindtrace-sys.1 \
		$(DESTDIR)$(mandir)/man1/
	$(INSTALL) -m 644 $(B)/man/libbindtrace.7 $(DESTDIR)$(mandir)/man7/
	$(INSTALL) -m 644 completion/bindlab $(DESTDIR)$(bashcompletiondir)/bindlab

uninstall:
	rm -f $(DESTDIR)$(bindir)/bindlab $(DESTDIR)$(bindir)/netprobe $(DESTDIR)$(bindir)/bindtrace-sys \
		$(DESTDIR)$(mandir)/man1/bindlab.1 $(DESTDIR)$(mandir)/man1/netprobe.1 \
		$(DESTDIR)$(mandir)/man1/bindtrace-sys.1 \
		$(DESTDIR)$(mandir)/man7/libbindtrace.7 $(DESTDIR)$(bashcompletiondir)/bindlab
	rm -rf $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(pkglibdir) $(DESTDIR)$(pythondir)/bindlab

# -- the Debian package: debhelper (debian/), built from a copy of the tree ----------
# dpkg-buildpackage writes into the folder above the tree, so the tree is copied to
# $(DEB_DIR)/bindlab-$(VERSION)/ (without build/, results/ and caches) and the
# package lands in $(DEB_DIR)/.  lintian then checks it; errors fail the target.  Its
# temporary folders go under $(DEB_DIR)/tmp (it leaves some behind in /tmp otherwise).
DEB_DIR := $(B)/deb

deb:
	@scripts/install-debs $(DEBS_DEB)
	@v=$$(dpkg-parsechangelog -S Version); test "$$v" = "$(VERSION)" || { echo \
		"bindlab: debian/changelog says $$v, harness/__init__.py says $(VERSION): add a changelog entry (dch -v $(VERSION))" >&2; exit 2; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/bindlab-$(VERSION)
	tar -cf - --exclude=./build --exclude=./results --exclude-vcs --exclude=__pycache__ \
		--exclude=.pytest_cache . | tar -xf - -C $(DEB_DIR)/bindlab-$(VERSION)
	cd $(DEB_DIR)/bindlab-$(VERSION) && dpkg-buildpackage -b -us -uc
	mkdir -p $(DEB_DIR)/tmp
	TMPDIR=$(abspath $(DEB_DIR))/tmp lintian --fail-on error --display-info \
		$(DEB_DIR)/bindlab_$(VERSION)_*.changes
	rm -rf $(DEB_DIR)/tmp
	@ls -l $(DEB_DIR)/*.deb
