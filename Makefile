# scaleout — one plain GNU Makefile.
#   make            build ./scaleout
#   make test       install missing Debian packages, build, check the layering
#                   (scripts/check-layers.sh, scripts/call-loops.sh), run unit +
#                   integration tests
#   make asan       the same tests under ASan + UBSan (build-asan/)
#   make fuzz       build libFuzzer targets (clang) into build-fuzz/, run fuzz/kv_diff.py briefly
#   make bench      run the side-by-side benchmarks under bench/
# V=1 shows full commands.

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
PKGS     := libuv libxxhash libpq libnghttp2 lua5.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?=
CFLAGS   += -std=c11 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(if $(PKG_LIBS),$(PKG_LIBS),-luv -lxxhash -lpq -llua5.1) -lssl -lcrypto -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

SRCS      := $(sort $(wildcard src/*.c src/*/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
OBJS      := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test unit integration asan fuzz bench clean deps

all: scaleout

scaleout: $(BUILD)/scaleout
	$(Q)cp $< $@.tmp && mv -f $@.tmp $@ # a running ./scaleout is replaced, not written into (ETXTBSY)

$(BUILD)/scaleout: $(OBJS)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Missing Debian packages are installed once (and again when the list changes),
# so `make` works on a fresh machine.
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh
	@mkdir -p $(dir $@) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

deps:
	$(Q)scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do \
	  $$t --jobs 2 || fail=1; \
	done; exit $$fail

integration: $(BUILD)/scaleout
	$(Q)SCALEOUT_BIN=$(abspath $(BUILD)/scaleout) SCALEOUT_SANITIZERS=$(SANITIZERS) /usr/bin/python3 -m pytest -q tests/integration

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS)
	$(Q)scripts/check-layers.sh
	$(Q)scripts/check-layers-test.sh
	$(Q)scripts/call-loops.sh $(BUILD)
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" $(UNIT_BINS:$(BUILD)/%=build-asan/%) build-asan/scaleout
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" SANITIZERS=1 unit integration

FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=build-fuzz/%)
# make fuzz also runs the kv differential fuzzer against redis-server for
# KV_DIFF_SECONDS (fuzz/kv_diff.py; longer: make fuzz KV_DIFF_SECONDS=600)
KV_DIFF_SECONDS ?= 10
fuzz: $(FUZZ_BINS) $(BUILD)/scaleout
	$(Q)SCALEOUT_BIN=$(abspath $(BUILD)/scaleout) /usr/bin/python3 fuzz/kv_diff.py --duration $(KV_DIFF_SECONDS)
# The library is compiled once (instrumented, not linked with libFuzzer's
# main) and every target links its harness against those objects.
FUZZ_CFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS)
FUZZ_OBJS := $(LIB_SRCS:src/%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)clang $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
-include $(FUZZ_OBJS:.o=.d)
.SECONDARY: $(FUZZ_OBJS)
build-fuzz/%: fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJS) $(LDLIBS)

bench: scaleout
	$(Q)for b in bench/*.sh; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build build-asan build-fuzz scaleout

-include $(OBJS:.o=.d) $(LIB_OBJS:.o=.d)
