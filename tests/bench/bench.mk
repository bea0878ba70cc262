# Benchmark (make bench): the floor loader, a library of many functions for
# attach times, kernel headers for bcc, and the runtime harnesses' builds;
# included by the Makefile.

BENCH_DIR   := $(OUTPUT)/bench
BENCH_FUNCS := 1024
# Debian's newest kernel headers (make deps installs linux-headers-amd64)
KHEADERS    := $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n1)

.PHONY: bench bench-tools

$(BENCH_DIR):
	$(Q)mkdir -p $@

$(BENCH_DIR)/floor.bpf.o: tests/bench/floor.bpf.c $(OUTPUT)/vmlinux.h | $(BENCH_DIR)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) \
		$(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(BENCH_DIR)/floor.skel.h: $(BENCH_DIR)/floor.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BENCH_DIR)/floor.o: tests/bench/floor.c $(BENCH_DIR)/floor.skel.h user/elfsym.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser -I$(BENCH_DIR) -c $< -o $@

# elfsym.o and what it uses
$(BENCH_DIR)/floor: $(BENCH_DIR)/floor.o $(OUTPUT)/user/elfsym.o $(OUTPUT)/user/grow.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# BENCH_FUNCS trivial functions bench_fn_0000...: generated, not kept in git.
# Built like the fixture (endbr64 first), as a real library's would be.
$(BENCH_DIR)/libmany.c: tests/bench/bench.mk | $(BENCH_DIR)
	$(call msg,GEN,$@)
	$(Q)for i in $$(seq 0 $$(($(BENCH_FUNCS) - 1))); do \
		printf 'int bench_fn_%04d(int x) { return x + %d; }\n' $$i $$i; \
	done > $@

$(BENCH_DIR)/libmany.so: $(BENCH_DIR)/libmany.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared $< -o $@

# bcc compiles its programs against kernel headers at run time, and this
# kernel ships none (no /lib/modules, no CONFIG_IKHEADERS): one tree of
# Debian's split common + amd64 headers, as BCC_KERNEL_SOURCE wants it.
# Remade when Debian's headers move to a new version.
$(BENCH_DIR)/kernel-headers: $(KHEADERS) | $(BENCH_DIR)
	$(call msg,GEN,$@)
	$(Q)[ -n "$(KHEADERS)" ] || { echo "no kernel headers in /usr/src: run make deps" >&2; exit 1; }
	$(Q)rm -rf $@ $@.tmp && mkdir $@.tmp && \
		cp -as $(patsubst %-amd64,%-common,$(KHEADERS))/. $@.tmp/ && \
		cp -as --remove-destination $(KHEADERS)/. $@.tmp/ && \
		echo $(notdir $(KHEADERS)) > $@.tmp/.inferlat-source && mv $@.tmp $@

# section 7: syscall loops for the request layer's cost per syscall
$(BENCH_DIR)/syscalls: tests/bench/syscalls.c | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall $< -o $@

bench-tools: $(BENCH_DIR)/floor $(BENCH_DIR)/libmany.so $(BENCH_DIR)/kernel-headers $(BENCH_DIR)/syscalls

# runtime-fixtures (tests/tests.mk): the llama.cpp harness, for section 6; the
# runtimes themselves come with deps (scripts/runtimes.sh), the models are
# made by scripts/bench.py at run time with the preset tests' own scripts
bench: deps-present
	$(Q)$(MAKE) --no-print-directory all fixtures runtime-fixtures bench-tools
	$(Q)/usr/bin/python3 scripts/bench.py --build $(OUTPUT)
