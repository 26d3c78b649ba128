# Tern - top-level build.  `make` builds every program into $(BUILD);
# `make run` starts a development instance; `make test` runs every test.
# SANITIZE=1 builds with AddressSanitizer + UBSan into build-san/.

PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR   = $(PREFIX)/sbin
LIBEXEC   = $(PREFIX)/libexec/tern
MANDIR    = $(PREFIX)/share/man
SYSCONF  ?= /etc/tern

CC       ?= gcc
ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS  =
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror \
            -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Ilib -It $(SANFLAGS) -MMD -MP \
            -DTERN_LIBEXEC_DIR='"$(LIBEXEC)"' -DTERN_SYSCONF_DIR='"$(SYSCONF)"'
LDFLAGS  += $(SANFLAGS) -pthread
LDLIBS    = -levent_openssl -levent_pthreads -levent -lssl -lcrypto -lcdb -lidn2 -lcrypt -ldb -lresolv

LIB_SRC   = $(wildcard lib/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBTERN   = $(BUILD)/libtern.a

# Every top-level directory with a main.c holds the .c files of one program.
PROG_DIRS = $(patsubst %/main.c,%,$(wildcard */main.c))
DAEMONS   = $(filter-out master adminctl,$(PROG_DIRS))
PROGS     = $(PROG_DIRS:%=$(BUILD)/bin/%)

UNIT_SRC  = $(wildcard t/unit/*.c)
UNIT_BIN  = $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/unit/%.t)
FIXT_SRC  = $(wildcard t/fixture/*.c)
FIXT_BIN  = $(FIXT_SRC:t/fixture/%.c=$(BUILD)/t/fixture/%)

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
Q =
else
Q = @
endif

.PHONY: all deps run test bench install clean
# Keep the objects of unit tests and fixtures between runs.
.SECONDARY:
all: $(PROGS) $(UNIT_BIN) $(FIXT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBTERN): $(LIB_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

define prog_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c)) $(LIBTERN)
	@mkdir -p $$(@D)
	@$(if $(Q),echo "  LD      $$@")
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach p,$(PROG_DIRS),$(eval $(call prog_rule,$(p))))

$(BUILD)/t/unit/%.t: $(BUILD)/t/unit/%.o $(LIBTERN)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/t/fixture/%: $(BUILD)/t/fixture/%.o $(LIBTERN)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@sh mk/deps.sh

run: deps all
	@sh mk/run.sh $(BUILD)

# Integration tests find the programs through TERN_BUILD.
test: deps all
	TERN_BUILD=$(abspath $(BUILD)) prove -j2 $(BUILD)/t/unit t/integ

# Speed and memory figures, each beside its anchor where there is one.
bench: deps all
	@sh t/bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXEC) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONF) $(DESTDIR)/lib/systemd/system
	install -m 755 $(BUILD)/bin/master $(BUILD)/bin/adminctl $(DESTDIR)$(SBINDIR)
	$(foreach d,$(DAEMONS),install -m 755 $(BUILD)/bin/$(d) $(DESTDIR)$(LIBEXEC);)
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8
	sh mk/install-conf.sh conf $(DESTDIR)$(SYSCONF)
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONF@|$(SYSCONF)|g' conf/tern.service \
	    > $(DESTDIR)/lib/systemd/system/tern.service

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
