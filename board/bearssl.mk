# BearSSL's sources compiled into one static library, as a sub-make of
# the top Makefile, so its ~290 objects build under make's own job
# control (make -jN) and only what changed is rebuilt.  BearSSL's own
# Makefile assumes its conf/; this keeps one compiler and one set of
# flags per board.
#
#   $(MAKE) -f board/bearssl.mk SRC=<unpacked tree> LIB=<path/libbearssl.a> \
#       CC=... AR=... CFLAGS=... [SPECIAL_DIRS="ssl x509" SPECIAL_CFLAGS=... OTHER_CFLAGS=...]
#
# SPECIAL_DIRS: top folders of src/ compiled with SPECIAL_CFLAGS, the
# rest with OTHER_CFLAGS (the fuzz build instruments only the parsers).

OBJDIR := $(dir $(LIB))obj
SOURCES := $(shell cd $(SRC)/src && find . -name '*.c' | sed 's|^\./||' | sort)
OBJS := $(SOURCES:%.c=$(OBJDIR)/%.o)

$(LIB): $(OBJS)
	@echo "  BEARSSL $@"
	@rm -f $@ && $(AR) rcs $@ $^

$(OBJDIR)/%.o: $(SRC)/src/%.c
	@mkdir -p $(@D)
	@$(CC) $(CFLAGS) $(if $(filter $(SPECIAL_DIRS),$(firstword $(subst /, ,$*))),$(SPECIAL_CFLAGS),$(OTHER_CFLAGS)) \
		-I$(SRC)/inc -I$(SRC)/src -c $< -o $@
