# tern - a user-space TCP/IP stack. See README.md.
#
#   make                 libtern.a, libtern.so and the tern command (gcc, -Werror)
#   make test            every test, then every test again under ASan+UBSan (clang)
#   make conformance [SCRIPT=path.pkt] [V=1]   the TCP conformance scripts alone
#   make demo            the main job (see README.md)
#   make install PREFIX=/usr/local [DESTDIR=...]   (also the manual pages: make man)
#   V=1                  print each command (default: one line per step, "CC src/core/tcp_in.c")
#   -jN                  jobs in parallel (default: one per core)
#   make fuzz [FUZZ_SECONDS=60]   libFuzzer targets (clang)
#   make fuzz-long                 every target 10 min, TCP connections 30 min
#   make bench [BENCH=NAME]       benchmarks beside their peers (docs/performance.md)
#
# Variants: SAN=1 builds into build/asan with clang + ASan + UBSan;
#           SAN=thread into build/tsan with clang + ThreadSanitizer.
#           CC=clang builds into build/clang.
#           RELEASE=1 builds into build/release without TERN_ASSERT checks
#           (`make RELEASE=1 install` installs that build).

# The version is written once, in include/tern/version.h.
version_part = $(shell sed -n 's/^\#define TERN_VERSION_$(1) \([0-9]*\)$$/\1/p' include/tern/version.h)
VERSION := $(call version_part,MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
SOVERSION := $(call version_part,MAJOR)
PREFIX ?= /usr/local
DESTDIR ?=

# TERN_ASSERT (src/core/assert.h) invariants: on in every build unless
# RELEASE=1 (docs/architecture.md, "Assertions").
RELEASE ?= 0
ifeq ($(RELEASE),1)
  BUILD ?= build/release
else
  ASSERTS := -DTERN_ASSERTS
endif

SAN ?= 0
ifeq ($(SAN),1)
  CC := clang
  BUILD ?= build/asan
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDSAN := -fsanitize=address,undefined
else ifeq ($(SAN),thread)
  CC := clang
  BUILD ?= build/tsan
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDSAN := -fsanitize=thread
else
  BUILD ?= build/$(notdir $(CC))
  OPT := -O2 -g
  LDSAN :=
  # Fail the shared library's link on any undefined symbol (the ASan runtime
  # lives in executables, so sanitizer builds cannot use it).
  SODEFS := -Wl,-z,defs
endif

# One short line per step (CC file, AR library, LD program); V=1 prints the
# commands themselves.
ifeq ($(V),1)
  Q :=
  say = :
else
  Q := @
  say = printf '%-3s %s\n'
endif

# Build in parallel (one job per core) unless -j was given.
ifeq ($(filter -j%,$(MAKEFLAGS)),)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE $(ASSERTS)
CFLAGS += -std=c11 $(OPT) $(WARN) -fPIC -MMD -MP
LDFLAGS += $(LDSAN)
# libtern.so exports only the functions marked TERN_API (include/tern/api.h).
LIB_CFLAGS := -fvisibility=hidden

# src/tls is not part of libtern: it links OpenSSL (libssl, libcrypto) and
# goes into libtern-tls.a, which only the tern command and the unit tests
# link. libtern stays libc-only (docs/tls.md).
LIB_SRC := $(filter-out src/tls/%,$(sort $(wildcard src/*/*.c)))
TLS_SRC := $(sort $(wildcard src/tls/*.c))
TLS_LIBS := -lssl -lcrypto
TOOL_SRC := $(sort $(wildcard tools/*.c))
TEST_SRC := $(sort $(wildcard tests/*/*.c)) tests/harness.c
FUZZ_SRC := $(sort $(wildcard fuzz/*_fuzz.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TLS_OBJ := $(TLS_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%_fuzz.c=$(BUILD)/fuzz/%_replay)

LIB_A := $(BUILD)/libtern.a
TLS_A := $(BUILD)/libtern-tls.a
LIB_SO := $(BUILD)/libtern.so.$(SOVERSION)
TERN := $(BUILD)/tern
# The preload shim of `tern run` (docs/run.md): libc-only, no libtern; only
# the libc functions it interposes are exported. Built without sanitizers
# in every variant (a preloaded library cannot bring the ASan runtime into a
# program that lacks it); see libtern-preload-asan.so below.
PRELOAD_SO := $(BUILD)/libtern-preload.so
UNIT := $(BUILD)/unit_tests
# Manual pages, section 1, generated from the --help texts (tools/gen_man.sh).
MAN_DIR := $(BUILD)/man
MAN_STAMP := $(MAN_DIR)/.made

.PHONY: all tests test test-one conformance demo install uninstall fuzz bench clean
# Keep fuzz objects (intermediates of a pattern rule) so reruns do not rebuild them.
.SECONDARY:
all: $(LIB_A) $(LIB_SO) $(TERN) $(PRELOAD_SO) $(MAN_STAMP)

$(LIB_OBJ): CFLAGS += $(LIB_CFLAGS)

$(BUILD)/obj/%.o: %.c Makefile
	@$(say) CC $<
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@$(say) AR $@
	@mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(TLS_A): $(TLS_OBJ)
	@$(say) AR $@
	@mkdir -p $(dir $@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ) Makefile
	@$(say) LD $@
	$(Q)$(CC) -shared -Wl,-soname,libtern.so.$(SOVERSION) $(SODEFS) $(LDFLAGS) -o $@ $(LIB_OBJ) -lm
	$(Q)ln -sf libtern.so.$(SOVERSION) $(BUILD)/libtern.so

# libpcap (Debian's libpcap-dev) is linked into the tern command only (never
# libtern): `tern dump` reads pcapng and compiles tcpdump filter expressions
# with it. Without it (or with NO_LIBPCAP=1) tern dump reads classic pcap only.
ifeq ($(NO_LIBPCAP),)
  HAVE_LIBPCAP := $(shell echo 'int main(void){return pcap_lib_version()==0;}' | \
    $(CC) -include pcap/pcap.h -x c - -o /dev/null -lpcap >/dev/null 2>&1 && echo 1)
endif
ifeq ($(HAVE_LIBPCAP),1)
  $(TOOL_OBJ): CPPFLAGS += -DTERN_HAVE_LIBPCAP
  TOOL_LIBS := -lpcap
endif
# cmd_dump.c is rebuilt when libpcap appears or goes (the flag file changes).
$(BUILD)/obj/tools/cmd_dump.o: $(BUILD)/libpcap.flag
$(BUILD)/libpcap.flag: FORCE
	@mkdir -p $(dir $@); echo '$(HAVE_LIBPCAP)' | cmp -s - $@ || echo '$(HAVE_LIBPCAP)' >$@
.PHONY: FORCE

$(TERN): $(TOOL_OBJ) $(TLS_A) $(LIB_A)
	@$(say) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJ) $(TLS_A) $(LIB_A) $(TLS_LIBS) $(TOOL_LIBS) -lm

# SAN=1 also builds libtern-preload-asan.so, the shim under ASan+UBSan
# against the shared ASan runtime; that build's `tern run` uses it, with the
# runtime preloaded first, when TERN_PRELOAD_ASAN=1 (docs/run.md: some
# programs - curl - hang in setlocale with the ASan runtime preloaded,
# shim or not, so it is a choice per program).
ifeq ($(SAN),1)
  PRELOAD_ASAN_SO := $(BUILD)/libtern-preload-asan.so
  PRELOAD_ASAN_RT := $(shell $(CC) -print-file-name=libclang_rt.asan-$(shell uname -m).so)
  $(BUILD)/obj/tools/cmd_run.o: CPPFLAGS += -DTERN_PRELOAD_ASAN='"$(PRELOAD_ASAN_RT)"'
all: $(PRELOAD_ASAN_SO)
$(PRELOAD_ASAN_SO): preload/shim.c src/ctl/ctl.h Makefile
	@$(say) LD $@
	$(Q)$(CC) $(CPPFLAGS) -std=c11 $(OPT) -shared-libasan $(WARN) -fPIC -fvisibility=hidden \
	  -shared -o $@ preload/shim.c -ldl -lpthread
endif
$(PRELOAD_SO): preload/shim.c src/ctl/ctl.h Makefile
	@$(say) LD $@
	$(Q)$(CC) $(CPPFLAGS) -std=c11 -O2 -g $(WARN) -fPIC -fvisibility=hidden \
	  -shared -Wl,-z,defs -o $@ preload/shim.c -ldl -lpthread

.PHONY: man
man: $(MAN_STAMP)
$(MAN_STAMP): $(TERN) tools/gen_man.sh
	@$(say) MAN $(MAN_DIR)
	$(Q)rm -rf $(MAN_DIR) && sh tools/gen_man.sh $(TERN) $(MAN_DIR) && touch $@

$(UNIT): $(TEST_OBJ) $(TLS_A) $(LIB_A)
	@$(say) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(TLS_A) $(LIB_A) $(TLS_LIBS) -lm

# Each fuzz target linked with a plain main() that replays files (no libFuzzer).
$(BUILD)/fuzz/%_replay: $(BUILD)/obj/fuzz/%_fuzz.o $(BUILD)/obj/fuzz/replay.o $(LIB_A)
	@$(say) LD $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm

$(TEST_OBJ): CPPFLAGS += -Itests

tests: all $(UNIT) $(FUZZ_REPLAY)

# The whole suite: gcc build, then clang ASan+UBSan build, each run in full;
# then the threaded tests (the BSD facade) under ThreadSanitizer.
test:
	@tests/deps.sh
	$(MAKE) --no-print-directory -j$$(nproc) tests
	$(MAKE) --no-print-directory -j$$(nproc) SAN=1 tests
	$(MAKE) --no-print-directory -j$$(nproc) SAN=thread build/tsan/unit_tests
	@MAKEFLAGS= tests/run.sh $(BUILD) build/asan build/tsan:posix

# One variant only, e.g. `make test-one SAN=1`.
test-one: tests
	@tests/run.sh $(BUILD)

# The TCP conformance scripts alone (tests/conformance/README.md); one
# script or directory: `make conformance SCRIPT=tests/conformance/scripts/rfc9293/x.pkt`,
# with a trace of every event: add V=1.
conformance: $(UNIT)
	@$(if $(V),CONF_VERBOSE=1) $(UNIT) conformance $(SCRIPT)

demo: all
	$(TERN) demo

# The example scenarios go to PREFIX/share/tern/scenarios, where `tern demo`
# points when it runs from PREFIX/bin; the manual pages to PREFIX/share/man
# (section 1 generated from --help, man/tern.3 the library's, by hand).
# The last lines say how programs find the shared library (tools/install_hint.sh).
install: $(LIB_A) $(LIB_SO) $(TERN) $(PRELOAD_SO) $(MAN_STAMP)
	@$(say) INSTALL $(DESTDIR)$(PREFIX)
	$(Q)install -d $(DESTDIR)$(PREFIX)/include/tern/wire $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/tern/scenarios
	$(Q)install -m 644 include/tern/*.h $(DESTDIR)$(PREFIX)/include/tern/
	$(Q)install -m 644 include/tern/wire/*.h $(DESTDIR)$(PREFIX)/include/tern/wire/
	$(Q)install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	$(Q)install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	$(Q)ln -sf libtern.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libtern.so
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' tern.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tern.pc
	$(Q)install -m 755 $(TERN) $(DESTDIR)$(PREFIX)/bin/
	$(Q)install -d $(DESTDIR)$(PREFIX)/lib/tern
	$(Q)install -m 755 $(PRELOAD_SO) $(DESTDIR)$(PREFIX)/lib/tern/
	$(Q)install -m 644 $(MAN_DIR)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	$(Q)install -m 644 man/tern.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	$(Q)install -m 644 examples/scenarios/*.scn $(DESTDIR)$(PREFIX)/share/tern/scenarios/
	@sh tools/install_hint.sh '$(PREFIX)' '$(DESTDIR)'

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/tern $(DESTDIR)$(PREFIX)/share/tern $(DESTDIR)$(PREFIX)/lib/tern
	rm -f $(DESTDIR)$(PREFIX)/lib/libtern.a $(DESTDIR)$(PREFIX)/lib/libtern.so $(DESTDIR)$(PREFIX)/lib/libtern.so.$(SOVERSION)
	rm -f $(DESTDIR)$(PREFIX)/lib/pkgconfig/tern.pc $(DESTDIR)$(PREFIX)/bin/tern
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/tern.1 $(DESTDIR)$(PREFIX)/share/man/man1/tern-*.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man3/tern.3

# libFuzzer targets (clang, ASan+UBSan, TERN_ASSERT on), one per
# fuzz/NAME_fuzz.c, built into build/fuzz/NAME; FUZZ_TARGETS picks some.
# `make fuzz` runs each for FUZZ_SECONDS; `make fuzz-long` for
# FUZZ_LONG_SECONDS (default 10 min), the TCP-connection targets
# (FUZZ_CONN) for FUZZ_CONN_SECONDS (30 min), and prints each one's figures
# (fuzz/run.sh). FUZZ_FLAGS adds libFuzzer flags (e.g. -fork=1
# -ignore_crashes=1 to go on after a crash). New inputs land in
# build/fuzz/corpus/NAME; fuzz/corpus/NAME is the committed, replayed one.
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 600
FUZZ_CONN_SECONDS ?= 1800
FUZZ_CONN := tcp_conn stack
FUZZ_BUILD := build/fuzz
FUZZ_TARGETS ?= $(FUZZ_SRC:fuzz/%_fuzz.c=%)
FUZZ_FLAGS ?=
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
.PHONY: fuzz-long fuzz-build
fuzz-build: $(FUZZ_BIN)
$(FUZZ_BUILD)/%: fuzz/%_fuzz.c $(LIB_SRC) $(wildcard fuzz/*.h src/*/*.h include/tern/*.h) Makefile
	@$(say) FUZZ $@
	@mkdir -p $(dir $@)
	$(Q)clang $(CPPFLAGS) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined $(WARN) \
	  -o $@ $< $(LIB_SRC)
fuzz: $(FUZZ_BIN)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  bash fuzz/run.sh $(FUZZ_BUILD) $$t $(FUZZ_SECONDS) $(FUZZ_FLAGS); done
fuzz-long: $(FUZZ_BIN)
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  secs=$(FUZZ_LONG_SECONDS); \
	  case " $(FUZZ_CONN) " in *" $$t "*) secs=$(FUZZ_CONN_SECONDS);; esac; \
	  bash fuzz/run.sh $(FUZZ_BUILD) $$t $$secs $(FUZZ_FLAGS) || rc=1; done; exit $$rc

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(TLS_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_SRC:%.c=$(BUILD)/obj/%.d)

# Benchmarks print tern's figures beside peers measured in the same run
# (docs/performance.md). Every bench/NAME_bench.c is built and run, every
# bench/NAME_bench.sh is run with the binaries' directory; BENCH=NAME runs
# only NAME_bench.*. bench/deps.sh installs the peer library (liblwip-dev)
# when root, then a sub-make sees what is installed.
BENCH ?=
bench: $(LIB_A)
	@bash bench/deps.sh
	@$(MAKE) --no-print-directory bench-run

BENCH_DIR := $(BUILD)/bench
BENCH_C := $(sort $(wildcard bench/*_bench.c))
BENCH_SH := $(sort $(wildcard bench/*_bench.sh))
ifneq ($(BENCH),)
  BENCH_C := $(filter bench/$(BENCH)_bench.c,$(BENCH_C))
  BENCH_SH := $(filter bench/$(BENCH)_bench.sh,$(BENCH_SH))
endif
BENCH_LWIP := $(shell test -e /usr/lib/$$($(CC) -print-multiarch)/liblwip.so && echo yes)
BENCH_BIN := $(BENCH_C:bench/%.c=$(BENCH_DIR)/%) $(if $(BENCH_SH),$(BENCH_DIR)/tcpblast \
             $(BENCH_DIR)/tap_tern $(if $(BENCH_LWIP),$(BENCH_DIR)/tap_lwip))
BENCH_LIBS := $(LIB_A) -lpthread $(if $(BENCH_LWIP),-llwip)
BENCH_DEFS := -Ibench $(if $(BENCH_LWIP),-DHAVE_LWIP)

$(BENCH_DIR)/tap_lwip: bench/tap_lwip.c Makefile
	@$(say) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -I/usr/include/lwip $(CFLAGS) -o $@ $< -llwip -lpthread
$(BENCH_DIR)/%: bench/%.c bench/bench_util.h $(LIB_A) Makefile
	@$(say) CC $@
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(BENCH_DEFS) $(CFLAGS) -o $@ $< $(BENCH_LIBS)

.PHONY: bench-run
bench-run: $(BENCH_BIN)
	@$(if $(BENCH_C)$(BENCH_SH),,echo "no benchmark named '$(BENCH)' in bench/"; exit 2;)
	@$(if $(BENCH_LWIP),,echo "liblwip-dev missing: the lwIP columns print n/a";)
	@echo "machine: $$(nproc) cores, $$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)," \
	     "$$(sed -n 's/^cpu MHz\t*: //p' /proc/cpuinfo | head -1) MHz; $$(uname -sr); $$($(CC) --version | head -1)"
	@for b in $(BENCH_C:bench/%.c=%); do echo; echo "== $$b"; $(BENCH_DIR)/$$b || echo "$$b: exit $$?"; done
	@for b in $(BENCH_SH); do echo; echo "== $$(basename $$b .sh)"; bash $$b $(BENCH_DIR) || echo "$$b: exit $$?"; done
