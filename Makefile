# kmemscope build: BPF C -> clang -target bpf -> bpftool gen object/skeleton -> user C.
# `make V=1` shows full commands. Everything lands under build/.

HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
ifeq ($(wildcard vmlinux/$(ARCH)/vmlinux.h),)
$(error no vmlinux/$(ARCH)/vmlinux.h: unsupported ARCH '$(ARCH)' (generate it with tools/gen-vmlinux))
endif

# A cross build (make ARCH=arm64 on x86-64): the target's compiler and a
# sysroot of its libbpf, libelf and zlib (tools/deps cross: Debian's
# gcc-aarch64-linux-gnu and tools/cross-sysroot), its own output folder.
ifneq ($(ARCH),$(HOST_ARCH))
CROSS_arm64    := aarch64-linux-gnu-
CROSS_COMPILE  ?= $(CROSS_$(ARCH))
SYSROOT        ?= $(CURDIR)/build/sysroot/$(ARCH)
OUT            ?= build/$(ARCH)
ifeq ($(origin CC),default)
CC             := $(CROSS_COMPILE)gcc
endif
AR             := $(CROSS_COMPILE)ar
CROSS_TRIPLET  := $(patsubst %-,%,$(CROSS_COMPILE))
CROSS_CPPFLAGS := -isystem $(SYSROOT)/usr/include -isystem $(SYSROOT)/usr/include/$(CROSS_TRIPLET)
CROSS_LDFLAGS  := -L$(SYSROOT)/usr/lib/$(CROSS_TRIPLET) -L$(SYSROOT)/lib/$(CROSS_TRIPLET) \
		  -Wl,-rpath-link,$(SYSROOT)/usr/lib/$(CROSS_TRIPLET):$(SYSROOT)/lib/$(CROSS_TRIPLET)
# the host's pkg-config would name the host's libraries: the bare -l flags
PKG_CONFIG     := false
# shell completion needs a kmemscope this machine runs: the host's build if
# there is one (else `make ARCH=... all` leaves completion out)
LIST_OPTIONS_BIN ?= $(wildcard $(CURDIR)/build/kmemscope)
NO_COMPLETION  := $(if $(LIST_OPTIONS_BIN),,1)
ifeq ($(wildcard $(SYSROOT)/usr/include/bpf/libbpf.h)$(filter deps clean,$(MAKECMDGOALS)),)
$(error no $(ARCH) sysroot in $(SYSROOT): run tools/deps cross, or make ARCH=$(ARCH) deps (or set SYSROOT))
endif
endif
AR       ?= ar

OUT      ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PYTHON   ?= python3

CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
PKG_CONFIG ?= pkg-config
# Libraries through their .pc files (libbpf, libelf and zlib all ship one); the
# bare -l flags where pkg-config is missing. CPPFLAGS and LDFLAGS from the
# environment or the command line (dpkg-buildflags' hardening) come after ours.
PKGS     := libbpf libelf zlib
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(or $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null),-lbpf -lelf -lz)
PKG_STATIC_LIBS := $(or $(shell $(PKG_CONFIG) --static --libs $(PKGS) 2>/dev/null),-lbpf -lelf -lz)
# user/ by role (docs/design.md): base <- symbols <- model <- loader, record <-
# session <- output <- cli; each folder is on the include path.
USER_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard user/*/*.c user/*/*.h))))
override CPPFLAGS := -I$(OUT) -Iinclude $(addprefix -I,$(USER_DIRS)) -D_GNU_SOURCE $(CROSS_CPPFLAGS) $(PKG_CFLAGS) \
		     $(CPPFLAGS)
DEPFLAGS  = -MMD -MP
LDLIBS   := $(CROSS_LDFLAGS) $(PKG_LIBS) -pthread
STATIC_LDLIBS := $(CROSS_LDFLAGS) $(PKG_STATIC_LIBS) -pthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH) \
	      -Wall -Werror -Wno-unused-function
# vmlinux/arm64 comes from a 7.x kernel: bookworm's bpftool writes some of its
# anonymous members in a form clang 14 takes only with Microsoft extensions
ifeq ($(ARCH),arm64)
BPF_CFLAGS += -fms-extensions -Wno-microsoft-anon-tag
endif

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.c,$(OUT)/bpf/%.o,$(BPF_SRCS))
SKEL      := $(OUT)/kmemscope.skel.h
USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
MAIN_OBJ  := $(OUT)/user/cli/main.o
LIB_OBJS  := $(filter-out $(MAIN_OBJ),$(USER_OBJS))
LIB       := $(OUT)/libkms.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Where `make install` puts things (DESTDIR too: `make install DESTDIR=/tmp/x PREFIX=/usr`).
PREFIX  ?= /usr/local
sbindir ?= $(PREFIX)/sbin
datadir ?= $(PREFIX)/share
mandir  ?= $(datadir)/man
bashcompdir ?= $(datadir)/bash-completion/completions
zshcompdir  ?= $(datadir)/zsh/vendor-completions
# the agent's unit (the Debian package: /lib/systemd/system) and scrape config
systemdunitdir ?= $(PREFIX)/lib/systemd/system
docdir  ?= $(datadir)/doc/kmemscope
INSTALL ?= install

.DELETE_ON_ERROR:
.PHONY: FORCE all static run check check-all unit unit-bins asan valgrind live test clean deps bench \
	man install uninstall completion deb

all: $(OUT)/kmemscope $(if $(NO_COMPLETION),,completion)

deps:
	$(Q)tools/deps $(if $(CROSS_COMPILE),cross,build)

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/kmemscope.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(OUT)/kmemscope.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name kmemscope > $@

# The version, regenerated on every make but rewritten only when it changed:
# only version.o and the link follow a new commit.
VERSION_H := $(OUT)/gen/version.h
$(VERSION_H): FORCE
	$(Q)tools/gen-version header $@
$(OUT)/user/base/version.o: $(VERSION_H)
FORCE:

# The HTML report's style sheet and script, embedded in the binary.
HTML_ASSETS := $(OUT)/gen/html_assets.h
$(HTML_ASSETS): tools/gen-asset user/output/html/report.css user/output/html/report.js
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PYTHON) tools/gen-asset $@ html_report_css=user/output/html/report.css \
		html_report_js=user/output/html/report.js
$(OUT)/user/output/html.o: $(HTML_ASSETS)

$(OUT)/user/%.o: user/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/kmemscope: $(MAIN_OBJ) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

static: $(OUT)/kmemscope.static
$(OUT)/kmemscope.static: $(MAIN_OBJ) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -static -o $@ $^ $(STATIC_LDLIBS)

$(OUT)/tests/%: tests/unit/%.c $(LIB) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -Wno-format-truncation $(CPPFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(OUT)/bpf $(OUT)/tests $(OUT)/completion:
	$(Q)mkdir -p $@

# Shell completion from the option table the parser uses (`kmemscope
# --list-options`). Installed as $(datadir)/bash-completion/completions/kmemscope
# and $(datadir)/zsh/vendor-completions/_kmemscope. A cross build names a
# kmemscope this machine can run: make LIST_OPTIONS_BIN=/path/to/kmemscope.
LIST_OPTIONS_BIN ?= $(OUT)/kmemscope
COMPLETION := $(OUT)/completion/kmemscope $(OUT)/completion/_kmemscope
completion: $(COMPLETION)
$(OUT)/completion/kmemscope: $(LIST_OPTIONS_BIN) tools/gen-completion \
		tools/completion/kmemscope.bash tools/completion/_kmemscope.zsh | $(OUT)/completion
	$(call msg,GEN,$@)
	$(Q)$(LIST_OPTIONS_BIN) --list-options > $(OUT)/completion/options.tsv
	$(Q)$(PYTHON) tools/gen-completion $(OUT)/completion/options.tsv $@ $(OUT)/completion/_kmemscope
$(OUT)/completion/_kmemscope: $(OUT)/completion/kmemscope

# Man pages from the help texts and docs/man/*.in (docs/man/README.md), all at
# once: the command list comes from `kmemscope --help`.
# The agent's systemd unit, naming the installed binary.
$(OUT)/kmemscope-agent.service: dist/kmemscope-agent.service.in FORCE
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(OUT) && sed 's|@sbindir@|$(sbindir)|g' $< > $@.tmp && \
		if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

man: $(OUT)/man/.stamp
$(OUT)/man/.stamp: $(OUT)/kmemscope tools/gen-man.py $(wildcard docs/man/*.in)
	$(call msg,MAN,$(OUT)/man)
	$(Q)mkdir -p $(OUT)/man && rm -f $(OUT)/man/*.8
	$(Q)$(PYTHON) tools/gen-man.py $(OUT)/kmemscope docs/man $(OUT)/man
	$(Q)touch $@

install: $(OUT)/kmemscope man completion $(OUT)/kmemscope-agent.service
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(systemdunitdir) $(DESTDIR)$(docdir)/examples
	$(Q)$(INSTALL) -m 0755 $(OUT)/kmemscope $(DESTDIR)$(sbindir)/kmemscope
	$(Q)$(INSTALL) -m 0644 $(OUT)/kmemscope-agent.service \
		$(DESTDIR)$(systemdunitdir)/kmemscope-agent.service
	$(Q)$(INSTALL) -m 0644 dist/prometheus.yml $(DESTDIR)$(docdir)/examples/prometheus.yml
	$(Q)$(INSTALL) -m 0644 $(OUT)/man/*.8 $(DESTDIR)$(mandir)/man8/
	$(Q)if [ -f $(OUT)/completion/kmemscope ]; then \
		$(INSTALL) -d $(DESTDIR)$(bashcompdir) && \
		$(INSTALL) -m 0644 $(OUT)/completion/kmemscope $(DESTDIR)$(bashcompdir)/kmemscope; fi
	$(Q)if [ -f $(OUT)/completion/_kmemscope ]; then \
		$(INSTALL) -d $(DESTDIR)$(zshcompdir) && \
		$(INSTALL) -m 0644 $(OUT)/completion/_kmemscope $(DESTDIR)$(zshcompdir)/_kmemscope; fi

# Every page kmemscope may have installed, those of commands since removed too.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(sbindir)/kmemscope $(DESTDIR)$(mandir)/man8/kmemscope.8 \
		$(DESTDIR)$(mandir)/man8/kmemscope-*.8 $(DESTDIR)$(bashcompdir)/kmemscope \
		$(DESTDIR)$(zshcompdir)/_kmemscope $(DESTDIR)$(systemdunitdir)/kmemscope-agent.service \
		$(DESTDIR)$(docdir)/examples/prometheus.yml

# $(OUT)/kmemscope_<version>_<arch>.deb, built by dpkg-buildpackage from a
# copy of the sources (tools/make-deb).
deb:
	$(Q)tools/deps deb
	$(Q)OUT=$(OUT) tools/make-deb

# The main job: build if needed, then a live report of this kernel.
run: deps
	$(Q)$(MAKE) --no-print-directory $(OUT)/kmemscope
	$(OUT)/kmemscope

unit: $(UNIT_BINS) $(OUT)/kmemscope completion
	$(Q)tests/run unit

unit-bins: $(UNIT_BINS)

# The unit tests, every view of the fuzz corpus and a short live run, built
# with AddressSanitizer and UndefinedBehaviorSanitizer (in build-asan/), or
# run under valgrind. Any report of either fails.
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan:
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)-asan CFLAGS="$(SAN_CFLAGS)" \
		$(OUT)-asan/kmemscope unit-bins completion
	$(Q)OUT=$(OUT)-asan tests/run unit sanitized

valgrind: $(OUT)/kmemscope $(UNIT_BINS) completion
	$(Q)KMS_WRAP="valgrind -q --error-exitcode=99 --suppressions=tests/faults/valgrind.supp" tests/run unit sanitized

live: $(OUT)/kmemscope
	$(Q)tests/run live

# Everything: unit tests, live tests on this kernel, installing (make install,
# man pages, make deb and dpkg -i as root), the VM kernel matrix
# (each kernel once, one under virtme-ng). check-all: the matrix under both
# runners, every kernel (tools/vm/README.md).
check:
	$(Q)tools/deps all
	$(Q)$(MAKE) --no-print-directory $(OUT)/kmemscope completion $(UNIT_BINS) static
	$(Q)tests/run all
test: check

# check, and the slower VM runs make check leaves out: every kernel under both
# runners, the sid oracle boot.
check-all: export VM_ORACLE = 6.12 sid
check-all:
	$(Q)tools/deps all
	$(Q)$(MAKE) --no-print-directory $(OUT)/kmemscope completion $(UNIT_BINS) static
	$(Q)tests/run unit live fleet faults asan fuzz install vm-runner systemd vm-all html

clean:
	$(Q)rm -rf $(OUT)/bpf $(OUT)/user $(OUT)/tests $(OUT)/*.o $(OUT)/*.h $(OUT)/*.a \
		$(OUT)/gen $(OUT)/man $(OUT)/kmemscope $(OUT)/kmemscope.static $(OUT)/completion \
		$(OUT)/kmemscope-agent.service

-include tools/vm/vm.mk
-include tools/bench/bench.mk
-include tools/fuzz.mk
-include $(wildcard $(OUT)/bpf/*.d $(OUT)/user/*/*.d $(OUT)/tests/*.d)
