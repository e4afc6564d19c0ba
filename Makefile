# tempo_fdw: PGXS build, tests and tools.  See README.md.

MODULE_big = tempo_fdw
OBJS = tempo_fdw.o src/option.o src/catalog.o src/url.o src/credentials.o src/connection.o src/http.o \
	src/json.o src/jsonpage.o src/pushdown.o src/pushdown_jira.o src/pager.o src/pager_request.o src/pager_tempo.o src/pager_jira.o src/pager_jira_list.o src/pager_jql.o src/pager_ahead.o src/keybatch.o src/plan.o src/scan.o src/import.o src/check.o src/ratelimit.o src/jsonb.o src/hosts.o src/redact.o \
	src/fallback.o src/failure.o src/estimate.o src/analyze.o src/stats.o src/activity.o src/shmem.o src/twins.o
# Tempo dimension tables
OBJS += src/pushdown_dims.o
EXTENSION = tempo_fdw
# 1.0's install script is frozen; every later version ships an upgrade
# script, listed here in the order they apply.  The upgrade script of a
# version not released yet is made from its sources (see below); the
# install script of the default version is made from 1.0 and the upgrades.
# tempo_fdw--1.0.control keeps 1.0 in the schema it always had.
UPGRADES = tempo_fdw--1.0--1.1.sql
DATA = tempo_fdw--1.0.sql tempo_fdw--1.0.control
DATA_built = $(UPGRADES) tempo_fdw--$(EXTVERSION).sql
PGFILEDESC = "tempo_fdw - foreign data wrapper for Tempo and Jira worklogs"

# The version lives in the control file only.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" tempo_fdw.control)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=tempo_fdw

# The project's own C compiles without a warning: -Werror is part of its
# flags (PG_CFLAGS reach only the files of this Makefile; WERROR= builds
# anyway, say with a compiler newer than the code).  PostgreSQL's headers
# are included as system headers, so a warning of theirs is not an error of
# ours.  -MMD -MP: each object's header dependencies (see below).
WERROR ?= -Werror
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server) \
	-DTEMPO_FDW_VERSION='"$(EXTVERSION)"' $(shell curl-config --cflags)
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter $(WERROR) -MMD -MP
SHLIB_LINK = $(shell curl-config --libs) -lcjson

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# make installcheck runs against what the test command starts: a cluster
# with tempo_fdw (and pg_cron) preloaded, reached through PGHOST/PGPORT, and
# the Tempo/Jira simulator at TEMPO_SIM_URL.  Without them it stops at once.
installcheck: installcheck-ready
.PHONY: installcheck-ready
installcheck-ready:
	@if [ -z "$$TEMPO_SIM_URL" ] || ! curl -sf -o /dev/null "$$TEMPO_SIM_URL/_health" || \
	    ! psql -XAtqc "SHOW shared_preload_libraries" 2>/dev/null | grep -q tempo_fdw; then \
		echo "make installcheck needs the test cluster and the Tempo simulator that the test command starts:" >&2; \
		echo "run   bash test/run_tests.sh   (PG_MAJOR=17 or 18 for another PostgreSQL; see README.md, Tests)" >&2; \
		exit 2; \
	fi

# Header dependencies: each object's .d file, written by the compiler (-MMD)
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

# The 1.0 -> 1.1 upgrade script, made from one file per feature in
# src/sql/1.1/, in this order: what a file's SQL functions, views and
# policies use is made by an earlier file, and the columns added to
# time_accounts come in the order of the files (so SELECT * keeps its
# columns).  PL/pgSQL bodies are checked when they run, so they may call
# functions of later files.  The files, each one job:
#   begin                 the guard against running it in psql
#   trust                 security and trust helpers, the run lock
#   fallback_guard        Jira fallback rows kept out unless allowed
#   run                   what refresh and sync share: the skeleton of a run
#   sync                  sync_fallback, sync_run, sync
#   schedules             Tempo's schedules kept incrementally
#   refresh               keep_twins, refresh
#   create_time_accounts  create_time_accounts
#   drop_time_accounts    drop_time_accounts and its pg_cron jobs
#   people                people, absences, calendars, adjustments
#   holidays              holiday generators
#   time_account_views    the daily, monthly, balance, unaccounted views
#   contracts             contracts per schema, no overlaps
#   status                the status view
#   roles                 row-level security, grant_time_accounts
#   scan_views            stats, activity, rate_budgets
#   figures               materialised time accounts, their freshness marks
# Each file is taken as it is, with a blank line between two.  The script
# is not kept in git: make makes it (and make clean removes it).
SQL_1_1 = begin trust fallback_guard run sync schedules refresh \
	create_time_accounts drop_time_accounts people holidays \
	time_account_views contracts status roles scan_views figures lookups
tempo_fdw--1.0--1.1.sql: $(SQL_1_1:%=src/sql/1.1/%.sql)
	{ printf '%s\n\n' '/* $@: made by the Makefile from src/sql/1.1/ (SQL_1_1); edit those */'; \
	  sep=''; for f in $^; do printf "$$sep"; cat $$f; sep='\n'; done; } > $@.tmp && mv $@.tmp $@

# The install script of the default version: src/install_head.sql (the
# extension makes its schema itself, so that DROP EXTENSION removes it; the
# control file names pg_catalog, as pg_cron's does), then 1.0 and every
# upgrade in order, with @extschema@ written out.
tempo_fdw--$(EXTVERSION).sql: src/install_head.sql tempo_fdw--1.0.sql $(UPGRADES) tempo_fdw.control
	{ printf '%s\n' '/* $@: made by the Makefile from src/install_head.sql tempo_fdw--1.0.sql $(UPGRADES) */'; \
	  cat src/install_head.sql; \
	  for f in tempo_fdw--1.0.sql $(UPGRADES); do \
	    printf '\n%s\n' "-- ---- $$f"; \
	    sed -e '/^\\echo /d' -e 's/@extschema@/tempo_fdw/g' $$f; \
	  done; } > $@.tmp && mv $@.tmp $@

# the User-Agent carries the version of the control file
src/http.o: tempo_fdw.control

# The project's C under clang too, warnings as errors (the build itself
# uses PostgreSQL's compiler, gcc on Debian).  With PostgreSQL's headers
# as system headers (PG_CPPFLAGS), their gnu_printf, which clang does not
# know, is not reported.
CLANG ?= clang
CLANG_CHECK_FLAGS = -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Werror
.PHONY: clang-check
clang-check:
	@set -e; for f in $(OBJS:.o=.c); do \
	  $(CLANG) $(CLANG_CHECK_FLAGS) $(CPPFLAGS) $$f; \
	done

# pgindent with PostgreSQL's typedefs and ours (src/tools/indent.sh says
# where pgindent comes from on a PostgreSQL 15 machine)
.PHONY: indent
indent:
	bash src/tools/indent.sh

.PHONY: pgtap
pgtap:
	pg_prove --ext .sql test/pgtap/*.sql

# Fuzzing: a libFuzzer harness (clang, ASan, UBSan) over jsonpage.c; see
# test/fuzz/fuzz_page.c.  fuzz-run grows a corpus of its own in
# test/fuzz/work (seeded from test/fuzz/corpus and test/fuzz/crashers) and
# saves what it finds in test/fuzz/findings; fuzz-smoke replays every
# regression input and the seed corpus, then fuzzes briefly in a scratch
# directory.  Both exit non-zero on a crash.
FUZZ_CC ?= clang-14
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Wall -Wextra -Werror -Wno-unused-parameter -Isrc
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_OPTS = -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-dict=test/fuzz/fuzz_page.dict
EXTRA_CLEAN += test/fuzz/fuzz_page

test/fuzz/fuzz_page: test/fuzz/fuzz_page.c src/jsonpage.c src/jsonpage.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_page.c src/jsonpage.c -lcjson -lm

.PHONY: fuzz fuzz-run fuzz-smoke
fuzz: test/fuzz/fuzz_page

fuzz-run: test/fuzz/fuzz_page
	mkdir -p test/fuzz/work test/fuzz/findings
	test/fuzz/fuzz_page $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=test/fuzz/findings/ \
		test/fuzz/work test/fuzz/corpus $(wildcard test/fuzz/crashers)

fuzz-smoke: test/fuzz/fuzz_page
	mkdir -p test/fuzz/findings
	test/fuzz/fuzz_page $(FUZZ_OPTS) -artifact_prefix=test/fuzz/findings/ \
		$(wildcard test/fuzz/crashers/*) $(wildcard test/fuzz/corpus/*)
	scratch=$$(mktemp -d) && \
	test/fuzz/fuzz_page $(FUZZ_OPTS) -max_total_time=$(FUZZ_SMOKE_SECONDS) \
		-artifact_prefix=test/fuzz/findings/ $$scratch test/fuzz/corpus $(wildcard test/fuzz/crashers); \
	rc=$$?; rm -rf $$scratch; exit $$rc

# Line coverage of jsonpage.c by the corpus (and test/fuzz/work, if a
# fuzz-run made it); needs llvm-14 (llvm-profdata-14, llvm-cov-14).
test/fuzz/fuzz_page_cov: test/fuzz/fuzz_page.c src/jsonpage.c src/jsonpage.h
	$(FUZZ_CC) -g -O0 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
		-Isrc -o $@ test/fuzz/fuzz_page.c src/jsonpage.c -lcjson -lm
EXTRA_CLEAN += test/fuzz/fuzz_page_cov

.PHONY: fuzz-coverage
fuzz-coverage: test/fuzz/fuzz_page_cov
	mkdir -p test/fuzz/findings
	LLVM_PROFILE_FILE=test/fuzz/findings/cov.profraw test/fuzz/fuzz_page_cov -runs=0 \
		test/fuzz/corpus $(wildcard test/fuzz/crashers test/fuzz/work) >/dev/null 2>&1
	llvm-profdata-14 merge -sparse test/fuzz/findings/cov.profraw -o test/fuzz/findings/cov.profdata
	llvm-cov-14 report test/fuzz/fuzz_page_cov -instr-profile=test/fuzz/findings/cov.profdata \
		src/jsonpage.c

# The regression suite with every backend under valgrind memcheck (slow:
# about ten minutes; the timing-bound tests are skipped); summary of the
# definite leaks and invalid reads/writes, ours apart.  See test/valgrind/run.sh.
.PHONY: valgrind
valgrind:
	bash test/valgrind/run.sh

# Debian packages, postgresql-NN-tempo-fdw for each PostgreSQL version this
# Debian release supports (debian/, pg_buildext); the .deb files are written
# to the parent directory.  Needs debhelper, postgresql-server-dev-all,
# libcurl4-openssl-dev and libcjson-dev.  debian/control is made from
# debian/control.in.
.PHONY: deb
deb:
	pg_buildext updatecontrol
	dpkg-buildpackage -us -uc -b

# A release tarball of the committed tree (HEAD): tempo_fdw-VERSION.tar.gz
.PHONY: dist
dist:
	git archive --format=tar.gz --prefix=tempo_fdw-$(EXTVERSION)/ \
		-o tempo_fdw-$(EXTVERSION).tar.gz HEAD
EXTRA_CLEAN += tempo_fdw-$(EXTVERSION).tar.gz
