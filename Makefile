# tempo_fdw: PGXS build, tests and tools.  See README.md.

MODULE_big = tempo_fdw
OBJS = tempo_fdw.o src/option.o src/catalog.o src/connection.o src/http.o \
	src/json.o src/jsonpage.o src/pushdown.o src/pager.o src/plan.o src/scan.o src/import.o src/check.o src/ratelimit.o
EXTENSION = tempo_fdw
DATA = $(wildcard tempo_fdw--*.sql)
PGFILEDESC = "tempo_fdw - foreign data wrapper for Tempo and Jira worklogs"

# The version lives in the control file only.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" tempo_fdw.control)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=tempo_fdw

PG_CPPFLAGS = -Isrc -DTEMPO_FDW_VERSION='"$(EXTVERSION)"' $(shell curl-config --cflags)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter
SHLIB_LINK = $(shell curl-config --libs) -lcjson

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): src/tempo_fdw.h src/compat.h
src/json.o src/jsonpage.o: src/jsonpage.h

.PHONY: pgtap
pgtap:
	pg_prove --ext .sql -r test/pgtap
