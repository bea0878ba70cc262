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

# many targets: a pre-fork server of N workers, or one process of N threads
$(FIXTURE_DIR)/prefork: tests/fixtures/prefork.c $(FIXTURE_DIR)/libinfer.so
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -Itests/fixtures $< -L$(FIXTURE_DIR) -linfer \
		-Wl,-rpath,'$$ORIGIN' -lpthread -o $@

# C++ library (overloads, templates, namespaces; only C drivers exported) and
# copies of it that resolution must see through: stripped with its
# debuginfo apart (build-id, .gnu_debuglink), with MiniDebugInfo, and two
# unusual segment layouts (code far from its file offset; a non-zero base)
CXXFIX_FLAGS := -O2 -g -fPIC -shared -fvisibility=hidden -fcf-protection=full -Wl,-soname,libcxxfix.so
$(FIXTURE_DIR)/libcxxfix.so: tests/fixtures/cxxfix.cpp | $(FIXTURE_DIR)
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(CXXFIX_FLAGS) $< -o $@

$(FIXTURE_DIR)/libcxxfix-gap.so: tests/fixtures/cxxfix.cpp | $(FIXTURE_DIR)
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(CXXFIX_FLAGS) -Wl,--section-start=.text=0x40000 $< -o $@

$(FIXTURE_DIR)/libcxxfix-based.so: tests/fixtures/cxxfix.cpp | $(FIXTURE_DIR)
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(CXXFIX_FLAGS) -Wl,-Ttext-segment=0x20000000 $< -o $@

$(FIXTURE_DIR)/libcxxfix.debug: $(FIXTURE_DIR)/libcxxfix.so
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy --only-keep-debug $< $@

$(FIXTURE_DIR)/libcxxfix-stripped.so: $(FIXTURE_DIR)/libcxxfix.so
	$(call msg,STRIP,$@)
	$(Q)strip --strip-all $< -o $@

$(FIXTURE_DIR)/libcxxfix-debuglink.so: $(FIXTURE_DIR)/libcxxfix-stripped.so $(FIXTURE_DIR)/libcxxfix.debug
	$(call msg,OBJCOPY,$@)
	$(Q)cd $(FIXTURE_DIR) && objcopy --add-gnu-debuglink=libcxxfix.debug libcxxfix-stripped.so libcxxfix-debuglink.so

$(FIXTURE_DIR)/libcxxfix-mini.so: $(FIXTURE_DIR)/libcxxfix.so tests/fixtures/minidebuginfo.sh
	$(call msg,MINIDBG,$@)
	$(Q)tests/fixtures/minidebuginfo.sh $< $@

# 256 functions, for attaching many probes through one link
$(FIXTURE_DIR)/libbulk.so: tests/fixtures/bulk.c | $(FIXTURE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared $< -o $@

# 100000 functions: symbol patterns that match a huge symbol table
$(FIXTURE_DIR)/many-funcs: tests/fixtures/many-funcs.sh | $(FIXTURE_DIR)
	$(call msg,GEN,$@)
	$(Q)CC=$(CC) tests/fixtures/many-funcs.sh 100000 $@

# loads a library (at start or later, with dlopen) and calls one function;
# built as PIE and as a non-PIE executable
$(FIXTURE_DIR)/dl-driver: tests/fixtures/dl-driver.c | $(FIXTURE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -fPIE -pie $< -ldl -o $@

$(FIXTURE_DIR)/dl-driver-nopie: tests/fixtures/dl-driver.c | $(FIXTURE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(filter-out -fPIC,$(FIXTURE_CFLAGS)) -fno-pie -no-pie $< -ldl -o $@

# LD_PRELOAD shim of the serving test bed: logs every llama_decode batch and
# llama_tokenize call the server makes (its ground truth); links no llama.cpp
$(FIXTURE_DIR)/decode-log.so: tests/fixtures/decode-log.c | $(FIXTURE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared $< -ldl -lpthread -o $@

CXXFIX_VARIANTS := $(addprefix $(FIXTURE_DIR)/,libcxxfix.so libcxxfix-gap.so libcxxfix-based.so \
	libcxxfix.debug libcxxfix-stripped.so libcxxfix-debuglink.so libcxxfix-mini.so)

fixtures: $(FIXTURE_DIR)/infer-server $(FIXTURE_DIR)/prefork $(CXXFIX_VARIANTS) $(FIXTURE_DIR)/libbulk.so \
	$(FIXTURE_DIR)/dl-driver $(FIXTURE_DIR)/dl-driver-nopie $(FIXTURE_DIR)/many-funcs \
	$(FIXTURE_DIR)/decode-log.so

# Unit tests: one binary per user/ module, linked with the real objects but
# those that drive BPF (no kernel needed); a fake stands in for kstats.o.
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPF_OBJS   := $(addprefix $(OUTPUT)/user/,app.o kstats.o session.o calibrate.o calib.o events.o watch.o)
UNIT_OBJS  := $(filter-out $(BPF_OBJS),$(LIB_OBJS)) $(OUTPUT)/tests/fake_kstats.o

$(OUTPUT)/tests/%.o: tests/unit/%.c | $(SKELS) $(OUTPUT)/version.h $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Iuser -Itests/unit -c $< -o $@

$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/test_%.o $(UNIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# the ELF reader's test reads real fixtures (order-only: not linked in)
$(OUTPUT)/tests/test_elfsym.o: CFLAGS += -DFIXTURE_DIR='"$(abspath $(FIXTURE_DIR))"'
$(OUTPUT)/tests/test_elfsym: | $(FIXTURE_DIR)/libcxxfix.so $(FIXTURE_DIR)/libcxxfix-mini.so

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	$(Q)tests/run.sh --unit $(UNIT_BINS)

# The same user-space code and unit tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer, in a build directory of their own.
SAN_OUTPUT := $(OUTPUT)/sanitize
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_UNIT_BINS = $(patsubst $(OUTPUT)/tests/%,$(SAN_OUTPUT)/tests/%,$(UNIT_BINS))

sanitize-build:
	$(call msg,MAKE,$(SAN_OUTPUT) (ASan+UBSan))
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) EXTRA_CFLAGS="$(SAN_FLAGS)" \
		EXTRA_LDFLAGS="$(SAN_FLAGS)" $(SAN_OUTPUT)/inferlat unit-bins

sanitize: sanitize-build
	$(Q)tests/run.sh --unit $(SAN_UNIT_BINS)

integration: $(OUTPUT)/inferlat $(OUTPUT)/inferlat.8 fixtures runtime-fixtures bench-tools
	$(Q)tests/run.sh --integration

test: deps-present
	$(Q)$(MAKE) --no-print-directory all fixtures runtime-fixtures bench-tools $(UNIT_BINS) sanitize-build fuzz-build
	$(Q)INFERLAT_SANITIZED=$(SAN_OUTPUT)/inferlat INFERLAT_FUZZ_DIR=$(FUZZ_OUTPUT) tests/run.sh \
		--unit $(UNIT_BINS) $(SAN_UNIT_BINS) tests/fuzz/regress.sh --integration

# Runtime preset fixtures. The llama.cpp harness links the prebuilt libraries
# scripts/runtimes.sh installs; the CUDA test double is built under CUDA's
# sonames so that -r cuda finds it as it would find CUDA.
LLAMA_BINS := runtimes/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
$(FIXTURE_DIR)/llama-harness: tests/fixtures/llama-harness.c | $(FIXTURE_DIR)
	$(call msg,CC,$@)
	$(Q)test -e $(LLAMA_BINS)/libllama.v0.5.0.so || \
		{ echo "llama.cpp libraries missing: run make deps (scripts/runtimes.sh)" >&2; exit 1; }
	$(Q)$(CC) -O2 -g -Wall $< -L$(LLAMA_BINS) -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so \
		-Wl,-rpath,$(abspath $(LLAMA_BINS)) -o $@

CUDA_DOUBLE_DIR := $(FIXTURE_DIR)/cuda-double
$(CUDA_DOUBLE_DIR):
	$(Q)mkdir -p $@

$(CUDA_DOUBLE_DIR)/libcudart.so.12: tests/fixtures/cuda-double.c | $(CUDA_DOUBLE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -DCUDART_DOUBLE -shared -fvisibility=hidden -Wl,-soname,$(notdir $@) $< -o $@

$(CUDA_DOUBLE_DIR)/libcuda.so.1: tests/fixtures/cuda-double.c | $(CUDA_DOUBLE_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -DCUDA_DOUBLE -shared -fvisibility=hidden -Wl,-soname,$(notdir $@) $< -o $@

$(FIXTURE_DIR)/cuda-driver: tests/fixtures/cuda-driver.c tests/fixtures/cuda-api.h $(CUDA_DOUBLE_DIR)/libcudart.so.12 $(CUDA_DOUBLE_DIR)/libcuda.so.1
	$(call msg,CC,$@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) $< $(CUDA_DOUBLE_DIR)/libcudart.so.12 $(CUDA_DOUBLE_DIR)/libcuda.so.1 \
		-Wl,-rpath,'$$ORIGIN/cuda-double' -o $@

runtime-fixtures: $(FIXTURE_DIR)/llama-harness $(FIXTURE_DIR)/cuda-driver

# a stand-in for ONNX Runtime's API table (who loads it, and where its slots are)
$(FIXTURE_DIR)/fake-ort/libonnxruntime.so.1: tests/fixtures/fake-ort.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(FIXTURE_CFLAGS) -shared -fvisibility=hidden -Wl,-soname,libonnxruntime.so.1 $< -o $@

runtime-fixtures: $(FIXTURE_DIR)/fake-ort/libonnxruntime.so.1
