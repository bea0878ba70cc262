# libFuzzer targets (clang -fsanitize=fuzzer,address,undefined) for the
# parsers that read what others control: ELF objects (and their separate
# debuginfo), probe specs and error predicates, the command line, and the
# HTTP/1.1 framer (the bytes of a traced server's connections).
# Included by the Makefile; the user-space objects are rebuilt with clang
# and the sanitizers in a build directory of their own.

FUZZ_OUTPUT  := $(OUTPUT)/fuzz
FUZZ_CC      ?= clang
FUZZ_TARGETS := elfsym probespec cli httpframe
FUZZ_SECONDS ?= 120
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_OUTPUT)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-bins

fuzz-build:
	$(call msg,MAKE,$(FUZZ_OUTPUT) (libFuzzer+ASan+UBSan))
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(FUZZ_OUTPUT) CC=$(FUZZ_CC) \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" EXTRA_LDFLAGS="$(FUZZ_SAN)" fuzz-bins

# built inside the sub-make above, where OUTPUT is the fuzz directory
$(OUTPUT)/fuzz_%: tests/fuzz/fuzz_%.c $(UNIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser -fsanitize=fuzzer $(LDFLAGS) -Wl,--wrap=exit $^ $(LDLIBS) -o $@

fuzz-bins: $(addprefix $(OUTPUT)/fuzz_,$(FUZZ_TARGETS))

# every seed once (fast): what make test runs
fuzz-regress: fuzz-build
	$(Q)INFERLAT_FUZZ_DIR=$(FUZZ_OUTPUT) tests/run.sh --unit tests/fuzz/regress.sh

# each target for FUZZ_SECONDS, new inputs into a scratch corpus (the seeds
# in tests/fuzz/corpus stay as they are); crashes land in $(FUZZ_OUTPUT)/crashes
fuzz: fuzz-build
	$(Q)INFERLAT_FUZZ_DIR=$(FUZZ_OUTPUT) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_TARGETS)
