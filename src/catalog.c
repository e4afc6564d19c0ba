/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  The resources tempo_fdw can read and the columns each offers.
 *
 * One static table describes every foreign table: its name (which is also
 * the value of its "resource" option), its columns with their natural
 * types, and where in the API's JSON each column comes from.  import.c
 * turns it into CREATE FOREIGN TABLE statements and json.c into row
 * conversion plans, so a column is described exactly once.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"

#include "options.h"

/* Tempo worklogs: GET /4/worklogs */
static const TempoColumnDef worklog_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "tempoWorklogId", true},
	{"source", TEXTOID, "text", TEMPO_COL_SOURCE, NULL, false},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "issue.id", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author.accountId", true},
	{"start_date", DATEOID, "date", TEMPO_COL_PATH, "startDate", true},
	{"start_time", TIMEOID, "time", TEMPO_COL_PATH, "startTime", false},
	{"started_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH,
	"startDateTimeUtc", false},
	{"time_spent_seconds", INT4OID, "integer", TEMPO_COL_PATH,
	"timeSpentSeconds", true},
	{"billable_seconds", INT4OID, "integer", TEMPO_COL_PATH, "billableSeconds", false},
	{"description", TEXTOID, "text", TEMPO_COL_PATH, "description", false},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "createdAt", true},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "updatedAt", true},
	{"attributes", JSONBOID, "jsonb", TEMPO_COL_ATTR_MAP, "attributes.values", false},
	{"jira_worklog_id", INT8OID, "bigint", TEMPO_COL_JIRA_TWIN, "tempoWorklogId", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Jira Cloud worklogs: /rest/api/3/worklog/... */
static const TempoColumnDef jira_worklog_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "issueId", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author.accountId", false},
	{"author_display_name", TEXTOID, "text", TEMPO_COL_PATH,
	"author.displayName", false},
	{"author_is_app", BOOLOID, "boolean", TEMPO_COL_IS_APP,
	"author.accountType", false},
	{"comment", TEXTOID, "text", TEMPO_COL_ADF_TEXT, "comment", false},
	{"start_date", DATEOID, "date", TEMPO_COL_LOCAL_DATE, "started", false},
	{"started_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "started", true},
	{"time_spent_seconds", INT4OID, "integer", TEMPO_COL_PATH,
	"timeSpentSeconds", true},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "created", false},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "updated", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/*
 * The worklogs table's columns when the Jira fallback serves it: the same
 * names from Jira's worklog object.  Jira knows no billable time and no work
 * attributes, and its author is the Tempo app user for Tempo-made worklogs.
 * jira_worklog_id is the row's own id: what time accounts match with the
 * jira_worklog_id Tempo gave when it last answered.
 */
static const TempoColumnDef worklog_fallback_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"source", TEXTOID, "text", TEMPO_COL_SOURCE, NULL, false},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "issueId", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author.accountId", true},
	{"start_date", DATEOID, "date", TEMPO_COL_LOCAL_DATE, "started", true},
	{"start_time", TIMEOID, "time", TEMPO_COL_LOCAL_TIME, "started", false},
	{"started_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "started", false},
	{"time_spent_seconds", INT4OID, "integer", TEMPO_COL_PATH, "timeSpentSeconds", true},
	{"billable_seconds", INT4OID, "integer", TEMPO_COL_NULL, NULL, false},
	{"description", TEXTOID, "text", TEMPO_COL_ADF_TEXT, "comment", false},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "created", true},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "updated", true},
	{"attributes", JSONBOID, "jsonb", TEMPO_COL_NULL, NULL, false},
	{"jira_worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

static const TempoResourceDef worklog_fallback = {
	TEMPO_RES_WORKLOGS, "worklogs", "id",
	lengthof(worklog_fallback_columns), worklog_fallback_columns
};

/* Tempo user schedules: GET /4/user-schedule/{accountId} */
static const TempoColumnDef schedule_columns[] = {
	{"account_id", TEXTOID, "text", TEMPO_COL_REQUEST_KEY, NULL, false},
	{"date", DATEOID, "date", TEMPO_COL_PATH, "date", true},
	{"required_seconds", INT4OID, "integer", TEMPO_COL_PATH,
	"requiredSeconds", true},
	{"day_type", TEXTOID, "text", TEMPO_COL_PATH, "type", true},
	{"holiday_name", TEXTOID, "text", TEMPO_COL_PATH, "holiday.name", false},
	{"holiday_seconds", INT4OID, "integer", TEMPO_COL_PATH, "holiday.durationSeconds", false},
};

/* Tempo audit events of deleted worklogs: POST /4/papertrail/search */
static const TempoColumnDef deletion_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "entityId", true},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "parentId", false},
	{"deleted_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "timestamp", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author", false},
	{"worker_account_id", TEXTOID, "text", TEMPO_COL_PATH, "worker", false},
};

static const TempoResourceDef resources[] = {
	{TEMPO_RES_WORKLOGS, "worklogs", "tempoWorklogId",
	lengthof(worklog_columns), worklog_columns},
	{TEMPO_RES_JIRA_WORKLOGS, "jira_worklogs", "id",
	lengthof(jira_worklog_columns), jira_worklog_columns},
	{TEMPO_RES_USER_SCHEDULES, "user_schedules", "date",
	lengthof(schedule_columns), schedule_columns},
	{TEMPO_RES_WORKLOG_DELETIONS, "worklog_deletions", "entityId",
	lengthof(deletion_columns), deletion_columns},
};

/*
 * tempo_resource_def
 *		The description of a resource.
 */
const TempoResourceDef *
tempo_resource_def(TempoResource resource)
{
	for (int i = 0; i < (int) lengthof(resources); i++)
		if (resources[i].resource == resource)
			return &resources[i];
	elog(ERROR, "unknown tempo_fdw resource %d", (int) resource);
	return NULL;				/* keep compiler quiet */
}

/*
 * tempo_resource_by_name
 *		The resource of that name, or NULL.
 */
const TempoResourceDef *
tempo_resource_by_name(const char *name)
{
	for (int i = 0; i < (int) lengthof(resources); i++)
		if (strcmp(resources[i].name, name) == 0)
			return &resources[i];
	return NULL;
}

/*
 * tempo_fallback_def
 *		The worklogs resource as read from Jira (the fallback).
 */
const TempoResourceDef *
tempo_fallback_def(void)
{
	return &worklog_fallback;
}

/* Iteration over all resources, for IMPORT FOREIGN SCHEMA and hints. */
int
tempo_resource_count(void)
{
	return (int) lengthof(resources);
}

const TempoResourceDef *
tempo_resource_at(int i)
{
	Assert(i >= 0 && i < (int) lengthof(resources));
	return &resources[i];
}
