/*-------------------------------------------------------------------------
 *
 * tempo_fdw.c
 *		  Module entry of tempo_fdw: module magic, GUCs, the FDW handler and
 *		  the validator's SQL entry point.
 *
 * Everything else lives in src/ (see src/tempo_fdw.h for the map).
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

/* tempo_fdw.enable_pushdown: turn API filters off, for DBAs and tests */
bool		tempo_enable_pushdown = true;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(tempo_fdw_handler);
PG_FUNCTION_INFO_V1(tempo_fdw_validator);

/*
 * _PG_init
 *		Define the GUCs, and ask for the shared rate budgets and fallback
 *		records when loaded by shared_preload_libraries.  No libcurl call
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
	tempo_fallback_init();
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
