/*-------------------------------------------------------------------------
 *
 * tempo_fdw.c
 *		  Module entry of tempo_fdw: module magic, GUCs, the FDW handler and
 *		  the validator's SQL entry point.
 *
 * Everything else lives in src/ (README.md, "How it works", lists its layers).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  tempo_fdw.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "utils/guc.h"

#include "tempo_fdw.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(tempo_fdw_handler);
PG_FUNCTION_INFO_V1(tempo_fdw_validator);

/*
 * _PG_init
 *		Define the GUCs, and ask for the shared rate budgets, fallback
 *		records, row estimates, statistics and activity when loaded by
 *		shared_preload_libraries.  No libcurl call
 *		here: see connection.c.
 */
void
_PG_init(void)
{
	DefineCustomBoolVariable("tempo_fdw.enable_pushdown",
							 "Sends query conditions to Tempo as API filters.",
							 "When off, every scan reads all worklogs and PostgreSQL filters them.",
							 &tempo_enable_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("tempo_fdw.allowed_hosts",
							   "Hosts that servers owned by roles other than superusers may reach.",
							   "Comma-separated host names, \"*.domain\" patterns or \"*\"; such servers also need https.",
							   &tempo_allowed_hosts,
							   "*.tempo.io, *.atlassian.net",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   tempo_allowed_hosts_check, NULL, NULL);
	DefineCustomIntVariable("tempo_fdw.max_backlog_per_role",
							"Most time's worth of requests one role may have waiting for a shared request budget.",
							"At a budget's max_requests_per_second, in milliseconds; a role's request past it is an error, so that no role holds up the others sharing a token.",
							&tempo_max_backlog_per_role,
							10000, 0, 3600000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	tempo_fallback_init();
	tempo_estimate_init();
	tempo_stats_init();
	tempo_activity_init();
	MarkGUCPrefixReserved("tempo_fdw");
	tempo_rate_init();
}

/*
 * tempo_fdw_handler
 *		The FdwRoutine of tempo_fdw.
 */
Datum
tempo_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	/* scanning */
	routine->GetForeignRelSize = tempoGetForeignRelSize;
	routine->GetForeignPaths = tempoGetForeignPaths;
	routine->GetForeignPlan = tempoGetForeignPlan;
	routine->BeginForeignScan = tempoBeginForeignScan;
	routine->IterateForeignScan = tempoIterateForeignScan;
	routine->ReScanForeignScan = tempoReScanForeignScan;
	routine->EndForeignScan = tempoEndForeignScan;

	/* EXPLAIN */
	routine->ExplainForeignScan = tempoExplainForeignScan;

	/* IMPORT FOREIGN SCHEMA */
	routine->ImportForeignSchema = tempoImportForeignSchema;
	routine->AnalyzeForeignTable = tempoAnalyzeForeignTable;

	PG_RETURN_POINTER(routine);
}

/*
 * tempo_fdw_validator
 *		SQL entry point of the validator; the checks are in src/option.c.
 */
Datum
tempo_fdw_validator(PG_FUNCTION_ARGS)
{
	return tempo_fdw_validator_impl(fcinfo);
}
