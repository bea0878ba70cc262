# inferlat — build, deps, test, demo, bench, install.  `make help` lists targets.
# Quiet by default; V=1 shows every command.

OUTPUT    ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX    ?= /usr/local
ARCH      := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

LIBBPF_MIN := 1.4
# pkg-config name -> the Debian package that ships it (scripts/deps.sh)
PKGS_DEB := libbpf:libbpf-dev libelf:libelf-dev libdw:libdw-dev json-c:libjson-c-dev
# The goals that install what is missing first and build in a sub-make, or
# build nothing: only the others need the libraries now. A missing one stops
# the build here, named, rather than as a missing header or symbol later.
NO_PKG_GOALS := deps deps-present test demo bench help clean
ifneq ($(filter-out $(NO_PKG_GOALS),$(or $(MAKECMDGOALS),all)),)
PKGS_MISSING := $(strip $(foreach p,$(PKGS_DEB),$(if $(shell $(PKG_CONFIG) --exists $(firstword $(subst :, ,$(p))) \
	&& echo y),,$(lastword $(subst :, ,$(p))))))
ifneq ($(PKGS_MISSING),)
$(error $(PKG_CONFIG) finds no $(PKGS_MISSING): run make deps as root (Debian 12), or install them)
endif
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf libelf libdw)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs libbpf libelf libdw json-c)
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
            -D_GNU_SOURCE \
            -Iinclude -I$(OUTPUT) $(DEPS_CFLAGS)
# json-c by its <json-c/...> path (no --cflags): its own -I would shadow user/json.h
LDLIBS   += $(DEPS_LIBS) -lz -lm -liberty
# each object's header dependencies, written as it is compiled
DEPFLAGS  = -MMD -MP -MF $(@:.o=.d)
# for builds with other instrumentation (the sanitizer build of make test)
CFLAGS   += $(EXTRA_CFLAGS)
LDFLAGS  += $(EXTRA_LDFLAGS)
# clang's own system headers come after the BPF target's, as in libbpf-bootstrap
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(sort $(wildcard user/*.c) $(wildcard user/*.S))
USER_OBJS := $(patsubst user/%,$(OUTPUT)/user/%.o,$(basename $(USER_SRCS)))
LIB_OBJS  := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY:
FORCE:
.PHONY: runtime-fixtures FORCE all deps deps-present check-libbpf test unit unit-bins sanitize sanitize-build integration demo install clean help fixtures

all: $(OUTPUT)/inferlat $(OUTPUT)/inferlat.8

help:
	@echo 'targets:'
	@echo '  all          build build/inferlat and its man page build/inferlat.8 (default)'
	@echo '  deps         install Debian packages the project needs (root; idempotent)'
	@echo '  test         build + unit and integration tests (deps first, if anything is missing); ends with "N passed, N failed"'
	@echo '  unit         unit tests only (no privileges)'
	@echo '  sanitize     unit tests built with ASan+UBSan (build/sanitize/)'
	@echo '  fuzz         each libFuzzer target for FUZZ_SECONDS (default 120; build/fuzz/)'
	@echo '  integration  integration tests only (root, BPF)'
	@echo '  demo         (deps) + build + profile the bundled node-llama-cpp server under load, live'
	@echo '  bench        (deps) + build + benchmark against the floor, bpftrace and bcc (bench/results.md)'
	@echo '  install      install inferlat and its man page under PREFIX ($(PREFIX))'
	@echo '  clean        remove build/'
	@echo 'variables: V=1 (show commands), OUTPUT=dir, CLANG=clang-16'

deps:
	$(Q)scripts/deps.sh

# test, demo and bench: the installer runs only when something is missing
# (the check reads dpkg's database and runtimes/, as any user)
deps-present:
	$(Q)scripts/deps.sh --check || scripts/deps.sh

check-libbpf:
	$(Q)$(PKG_CONFIG) --atleast-version=$(LIBBPF_MIN) libbpf || \
		{ echo "libbpf >= $(LIBBPF_MIN) is required (Debian 12: make deps installs it from bookworm-backports)" >&2; exit 1; }

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/fixtures:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT) check-libbpf
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -I$(OUTPUT) \
		$(CLANG_BPF_SYS_INCLUDES) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Rewritten only when the version changes, so that the objects naming it are
# rebuilt then (a -D flag alone would leave them stale after a commit).
$(OUTPUT)/version.h: FORCE | $(OUTPUT)
	$(Q)v='#define INFERLAT_VERSION "$(VERSION)"'; \
		[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@

# Generated headers come first (order-only); after the first build each
# object's .d names the headers it really includes, these among them.
$(OUTPUT)/user/%.o: user/%.c | $(SKELS) $(OUTPUT)/version.h $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Iuser -c $< -o $@

$(OUTPUT)/user/%.o: user/%.S | $(OUTPUT)/user
	$(call msg,AS,$@)
	$(Q)$(CC) -c $< -o $@

$(OUTPUT)/inferlat: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the man page: one scdoc source, the reference README.md points to
$(OUTPUT)/inferlat.8: inferlat.8.scd | $(OUTPUT)
	$(call msg,SCDOC,$@)
	$(Q)scdoc < $< > $@

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/tests/*.d)

include tests/tests.mk
include tests/bench/bench.mk
include tests/fuzz/fuzz.mk

install: $(OUTPUT)/inferlat $(OUTPUT)/inferlat.8
	install -D -m 0755 $(OUTPUT)/inferlat $(DESTDIR)$(PREFIX)/bin/inferlat
	install -D -m 0644 $(OUTPUT)/inferlat.8 $(DESTDIR)$(PREFIX)/share/man/man8/inferlat.8

demo: deps-present
	$(Q)$(MAKE) --no-print-directory all fixtures
	$(Q)OUTPUT=$(OUTPUT) scripts/demo.sh

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
