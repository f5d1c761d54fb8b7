# mlgate — GNU make build. Out-of-tree: everything lands in $(BUILD).
#
#   make            build $(BUILD)/mlgate
#   make test       install missing dependencies, then unit (cmocka) +
#                   end-to-end + policy tests
#   make asan       the same tests under AddressSanitizer + UBSan (build/asan)
#   make run        install missing dependencies, build, evaluate examples/
#   make deps       apt-get install what is missing (Debian 12)
#   make bench      timing ratios against baselines, in one run
#   make fuzz       build the libFuzzer harnesses (clang); fuzz-run runs them
#   make atlas-data regenerate core/src/atlas_data.c from ATLAS.yaml

BUILD ?= build
CC ?= cc
SAN ?=
V ?= 0

# Linked: what every run uses. Headers only: libraries loaded with dlopen on
# first use (libarchive, libhdf5: they pull in ICU, libxml2, libcurl, ...),
# and libgit2 (for the git-aware gates).
PKGS_LINK := lua5.4 yaml-0.1 jansson libcrypto libpcre2-8 zlib
PKGS := $(PKGS_LINK) libgit2 libarchive hdf5
TEST_PKGS := cmocka

# Debian package that provides each pkg-config module / tool.
DEB_PKGS := build-essential pkg-config liblua5.4-dev lua5.4 libyaml-dev libgit2-dev \
            libjansson-dev libssl-dev libpcre2-dev zlib1g-dev libarchive-dev libhdf5-dev \
            libcmocka-dev python3 python3-jsonschema

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS_LINK) 2>/dev/null)
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter
CSTD := -std=c11 -D_GNU_SOURCE
OPT ?= -O2 -g
ifeq ($(SAN),1)
  OPT := -O1 -g -fno-omit-frame-pointer
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -DMLG_SANITIZE=1
endif

CPPFLAGS_ALL := -Icore/include -Icore/src -I$(BUILD)/gen $(PKG_CFLAGS)
CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL := $(SANFLAGS) -Wl,--as-needed $(LDFLAGS)
LIBS_ALL := $(PKG_LIBS) -lm

ifeq ($(V),0)
  Q := @
  say = @printf '  %-7s %s\n' $(1) $(2)
else
  Q :=
  say = @:
endif

CORE_SRC := $(sort $(wildcard core/src/*.c))
CLI_SRC := $(sort $(wildcard core/cli/*.c))
LUA_SDK := $(sort $(wildcard lua/mlgate/*.lua))
POLICY_SRC := $(sort $(wildcard policies/*/*.lua))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/embedded.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIB := $(BUILD)/libmlgate.a
BIN := $(BUILD)/mlgate

.PHONY: all test unit e2e policy-test peer npm-deps asan run deps check-deps bench fuzz fuzz-run \
        fuzz-check atlas-data clean
.DEFAULT_GOAL := all

all: $(BIN)

$(BUILD)/obj/%.o: %.c | check-deps
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@

# The Lua SDK and built-in policies are compiled into the binary so that a
# single installed file works anywhere.
$(BUILD)/tools/embed: core/tools/embed.c
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARN) -O1 $< -o $@

$(BUILD)/gen/embedded.c: $(BUILD)/tools/embed $(LUA_SDK) $(POLICY_SRC)
	$(call say,EMBED,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BUILD)/tools/embed $@ $(LUA_SDK) $(POLICY_SRC)

$(LIB): $(CORE_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $(CLI_OBJ) $(LIB) $(LIBS_ALL) -o $@

# --- tests ---------------------------------------------------------------

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB)
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(TEST_CFLAGS) $(CFLAGS_ALL) $< $(LIB) \
	    $(LDFLAGS_ALL) $(LIBS_ALL) $(TEST_LIBS) -o $@

unit: $(UNIT_BIN) $(BIN)
	$(Q)fail=0; for t in $(UNIT_BIN); do \
	  if MLGATE_BIN=$(abspath $(BIN)) $$t >$$t.log 2>&1; then \
	    printf '  %-7s %s\n' PASS $${t##*/}; \
	  else fail=1; printf '  %-7s %s (log: %s)\n' FAIL $${t##*/} $$t.log; cat $$t.log; fi; \
	done; exit $$fail

e2e: $(BIN)
	$(Q)MLGATE_BIN=$(abspath $(BIN)) bash tests/e2e/run.sh

policy-test: $(BIN)
	$(Q)$(BIN) test policies

# Peer corpora (picklescan, fickling in ../shared) and our own model corpus;
# gitlab-ci-local as the oracle of the GitLab CI model (npm, pinned by
# tests/peer/gitlab-npm/package-lock.json; needs Node >= 20.19, git and
# rsync: `make npm-deps` installs it under build/npm, and the check says
# SKIP, visibly, where it cannot run).
peer: $(BIN)
	$(Q)MLGATE_BIN=$(abspath $(BIN)) bash tests/peer/models.sh
	$(Q)MLGATE_BIN=$(abspath $(BIN)) python3 tests/peer/pipeline_files.py
	$(Q)MLGATE_BIN=$(abspath $(BIN)) python3 tests/peer/zizmor.py --check
	$(Q)MLGATE_BIN=$(abspath $(BIN)) python3 tests/peer/zizmor.py --tier T2
	$(Q)MLGATE_BIN=$(abspath $(BIN)) python3 tests/peer/gitlab_ci_local.py; rc=$$?; \
	  if [ $$rc = 77 ]; then echo "SKIP gitlab-ci-local oracle: not installed (make npm-deps)"; \
	  elif [ $$rc != 0 ]; then exit $$rc; fi

npm-deps: build/npm/node_modules/.bin/gitlab-ci-local

build/npm/node_modules/.bin/gitlab-ci-local: tests/peer/gitlab-npm/package.json \
                                             tests/peer/gitlab-npm/package-lock.json
	$(Q)mkdir -p build/npm
	$(Q)cp tests/peer/gitlab-npm/package.json tests/peer/gitlab-npm/package-lock.json build/npm/
	$(Q)cd build/npm && npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

test: deps
	$(Q)$(MAKE) --no-print-directory unit e2e policy-test peer
	@echo "all tests passed ($(BUILD))"

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 test

# --- demo, dependencies ----------------------------------------------------

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BIN) eval examples

check-deps:
	@pkg-config --exists $(PKGS) || { \
	  echo "missing build dependencies: run 'make deps' (Debian 12: apt-get install $(DEB_PKGS))"; \
	  exit 1; }

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

bench: $(BIN)
	$(Q)MLGATE_BIN=$(abspath $(BIN)) bash bench/run.sh

# --- fuzzing (clang + libFuzzer) -------------------------------------------

FUZZ_CC ?= clang
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -g -O1 -DMLG_FUZZING=1
# The engine is compiled once for all harnesses (instrumented, without
# libFuzzer's main); each harness links it with libFuzzer.
FUZZ_OBJ := $(CORE_SRC:core/src/%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen_embedded.o
FUZZ_CFLAGS := $(CSTD) -Icore/include -Icore/src -Ibuild/gen-fuzz $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_SECONDS ?= 60

build/fuzz/obj/%.o: core/src/%.c
	$(call say,FUZZCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build/fuzz/obj/gen_embedded.o: build/gen-fuzz/embedded.c
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	$(call say,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) $(PKG_LIBS) -lm -o $@

build/gen-fuzz/embedded.c: $(BUILD)/tools/embed $(LUA_SDK) $(POLICY_SRC)
	$(Q)mkdir -p $(@D)
	$(Q)$(BUILD)/tools/embed $@ $(LUA_SDK) $(POLICY_SRC)

.SECONDARY: $(FUZZ_OBJ)

fuzz: $(FUZZ_BIN)

# Replays every seed corpus once (no new inputs): a regression check for CI.
fuzz-check: $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do n=$${f##*/}; \
	  $$f -runs=0 -rss_limit_mb=2048 -timeout=10 tests/fuzz/corpus/$$n >/dev/null 2>&1 \
	    || { echo "FAIL $$n (replay: $$f tests/fuzz/corpus/$$n)"; exit 1; }; \
	  echo "  ok      $$n ($$(ls tests/fuzz/corpus/$$n | wc -l) seeds)"; \
	done

fuzz-run: $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do n=$${f##*/}; \
	  mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	      build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# --- generated data ----------------------------------------------------------

ATLAS_YAML ?= ../shared/atlas/ATLAS.yaml

atlas-data: $(BUILD)/tools/atlasgen
	$(BUILD)/tools/atlasgen $(ATLAS_YAML) core/src/atlas_data.c

$(BUILD)/tools/atlasgen: core/tools/atlasgen.c | check-deps
	$(call say,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARN) -O1 $(shell pkg-config --cflags yaml-0.1) $< \
	    $(shell pkg-config --libs yaml-0.1) -o $@

clean:
	rm -rf $(BUILD) build

-include $(shell find $(BUILD)/obj build/fuzz/obj -name '*.d' 2>/dev/null)
