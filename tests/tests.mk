# Tests: fixtures, unit tests (cmocka), integration tests; included by the Makefile.

FIXTURE_DIR := $(OUTPUT)/fixtures
FIXTURE_CFLAGS := -O2 -g -fPIC -fcf-protection=full -fno-omit-frame-pointer -Wall

# mapped as libinfer.so.1 (its soname), so -e libinfer.so:... exercises name matching
$(FIXTURE_DIR)/libinfer.so.1: tests/fixtures/libinfer.c tests/fixtures/prologues.S tests/fixtures/libinfer.h | $(FIXTURE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared -Wl,-soname,libinfer.so.1 \
		tests/fixtures/libinfer.c tests/fixtures/prologues.S -o $@

$(FIXTURE_DIR)/libinfer.so: $(FIXTURE_DIR)/libinfer.so.1
	$(Q)ln -sf libinfer.so.1 $@

$(FIXTURE_DIR)/infer-server: tests/fixtures/infer-server.c $(FIXTURE_DIR)/libinfer.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -Itests/fixtures $< -L$(FIXTURE_DIR) -linfer \
		-Wl,-rpath,'$$ORIGIN' -lpthread -lm -o $@

fixtures: $(FIXTURE_DIR)/infer-server

# Unit tests: one binary per user/ module, linked with the real objects but
# those that drive BPF (no kernel needed); a fake stands in for kstats.o.
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPF_OBJS   := $(addprefix $(OUTPUT)/user/,kstats.o attach.o calibrate.o calib.o events.o)
UNIT_OBJS  := $(filter-out $(BPF_OBJS),$(LIB_OBJS)) $(OUTPUT)/tests/fake_kstats.o

$(OUTPUT)/tests/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(wildcard user/*.h) include/inferlat.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser -Itests/unit -c $< -o $@

$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/test_%.o $(UNIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BINS)
	$(Q)tests/run.sh --unit $(UNIT_BINS)

integration: $(OUTPUT)/inferlat fixtures bench-tools
	$(Q)tests/run.sh --integration

test: deps
	$(Q)$(MAKE) --no-print-directory all fixtures bench-tools $(UNIT_BINS)
	$(Q)tests/run.sh --unit $(UNIT_BINS) --integration
