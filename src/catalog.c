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

/* Tempo worklogs: GET /4/worklogs (DESIGN.md "worklogs") */
static const TempoColumnDef worklog_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "tempoWorklogId",
	"Tempo worklog id (Jira worklog id on rows from the Jira fallback)", true},
	{"source", TEXTOID, "text", TEMPO_COL_SOURCE, NULL,
	"Where the row came from: tempo, or jira when the fallback was taken", false},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "issue.id",
	"Jira issue id", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author.accountId",
	"Atlassian account id of the worker", true},
	{"start_date", DATEOID, "date", TEMPO_COL_PATH, "startDate",
	"Day of the work in the worker's local time", true},
	{"start_time", TIMEOID, "time", TEMPO_COL_PATH, "startTime",
	"Start time in the worker's local time", false},
	{"started_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH,
		"startDateTimeUtc",
	"Start instant (startDateTimeUtc)", false},
	{"time_spent_seconds", INT4OID, "integer", TEMPO_COL_PATH,
		"timeSpentSeconds",
	"Logged time in seconds", true},
	{"billable_seconds", INT4OID, "integer", TEMPO_COL_PATH, "billableSeconds",
	"Billable time in seconds, NULL when Tempo gives none", false},
	{"description", TEXTOID, "text", TEMPO_COL_PATH, "description",
	"Worklog description", false},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "createdAt",
	"When the worklog was created", true},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "updatedAt",
	"When the worklog was last changed", true},
	{"attributes", JSONBOID, "jsonb", TEMPO_COL_ATTR_MAP, "attributes.values",
	"Work attributes as {key: value}", false},
	{"jira_worklog_id", INT8OID, "bigint", TEMPO_COL_JIRA_TWIN, "tempoWorklogId",
	"Id of the worklog's twin in Jira (POST /4/worklogs/tempo-to-jira, asked only when this column is used), NULL when it has none", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL,
	"The whole worklog object as Tempo sent it", false},
};

/* Jira Cloud worklogs: /rest/api/3/worklog/... (DESIGN.md "jira_worklogs") */
static const TempoColumnDef jira_worklog_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "id",
	"Jira worklog id", true},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "issueId",
	"Jira issue id", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author.accountId",
	"Atlassian account id of the author (the Tempo app user for worklogs made in Tempo)", false},
	{"author_display_name", TEXTOID, "text", TEMPO_COL_PATH,
		"author.displayName",
	"Display name of the author", false},
	{"author_is_app", BOOLOID, "boolean", TEMPO_COL_IS_APP,
		"author.accountType",
	"True when the author is an app account, e.g. the Tempo app user", false},
	{"comment", TEXTOID, "text", TEMPO_COL_ADF_TEXT, "comment",
	"Comment, Atlassian Document Format flattened to text", false},
	{"start_date", DATEOID, "date", TEMPO_COL_LOCAL_DATE, "started",
	"Local date of started, in the offset Jira gave", false},
	{"started_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "started",
	"Start instant", true},
	{"time_spent_seconds", INT4OID, "integer", TEMPO_COL_PATH,
		"timeSpentSeconds",
	"Logged time in seconds", true},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "created",
	"When the worklog was created", false},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "updated",
	"When the worklog was last changed", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL,
	"The whole worklog object as Jira sent it", false},
};

/*
 * The worklogs table's columns when the Jira fallback serves it: the same
 * names from Jira's worklog object.  Jira knows no billable time and no work
 * attributes, and its author is the Tempo app user for Tempo-made worklogs.
 * jira_worklog_id is the row's own id: what time accounts match with the
 * jira_worklog_id Tempo gave when it last answered.
 */
static const TempoColumnDef worklog_fallback_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", NULL, true},
	{"source", TEXTOID, "text", TEMPO_COL_SOURCE, NULL, NULL, false},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "issueId", NULL, true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author.accountId", NULL, true},
	{"start_date", DATEOID, "date", TEMPO_COL_LOCAL_DATE, "started", NULL, true},
	{"start_time", TIMEOID, "time", TEMPO_COL_LOCAL_TIME, "started", NULL, false},
	{"started_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "started", NULL, false},
	{"time_spent_seconds", INT4OID, "integer", TEMPO_COL_PATH, "timeSpentSeconds", NULL, true},
	{"billable_seconds", INT4OID, "integer", TEMPO_COL_NULL, NULL, NULL, false},
	{"description", TEXTOID, "text", TEMPO_COL_ADF_TEXT, "comment", NULL, false},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "created", NULL, true},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "updated", NULL, true},
	{"attributes", JSONBOID, "jsonb", TEMPO_COL_NULL, NULL, NULL, false},
	{"jira_worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", NULL, true},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, NULL, false},
};

static const TempoResourceDef worklog_fallback = {
	TEMPO_RES_WORKLOGS, "worklogs", "id", NULL,
	lengthof(worklog_fallback_columns), worklog_fallback_columns
};

/* Tempo user schedules: GET /4/user-schedule/{accountId} */
static const TempoColumnDef schedule_columns[] = {
	{"account_id", TEXTOID, "text", TEMPO_COL_REQUEST_KEY, NULL,
	"Atlassian account id of the person", false},
	{"date", DATEOID, "date", TEMPO_COL_PATH, "date",
	"The day", true},
	{"required_seconds", INT4OID, "integer", TEMPO_COL_PATH,
		"requiredSeconds",
	"Required working time of the day in seconds", true},
	{"day_type", TEXTOID, "text", TEMPO_COL_PATH, "type",
	"WORKING_DAY, NON_WORKING_DAY, HOLIDAY or HOLIDAY_AND_NON_WORKING_DAY", true},
	{"holiday_name", TEXTOID, "text", TEMPO_COL_PATH, "holiday.name",
	"Name of the holiday, if any", false},
	{"holiday_seconds", INT4OID, "integer", TEMPO_COL_PATH, "holiday.durationSeconds",
	"Length of the holiday in seconds (a half day is 14400 in a 8-hour scheme), if any", false},
};

/* Tempo audit events of deleted worklogs: POST /4/papertrail/search */
static const TempoColumnDef deletion_columns[] = {
	{"worklog_id", INT8OID, "bigint", TEMPO_COL_PATH, "entityId",
	"Tempo worklog id of the deleted worklog", true},
	{"issue_id", INT8OID, "bigint", TEMPO_COL_PATH, "parentId",
	"Jira issue id the worklog belonged to", false},
	{"deleted_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "timestamp",
	"When the worklog was deleted", true},
	{"author_account_id", TEXTOID, "text", TEMPO_COL_PATH, "author",
	"Atlassian account id of who deleted it", false},
	{"worker_account_id", TEXTOID, "text", TEMPO_COL_PATH, "worker",
	"Atlassian account id of the worker of the deleted worklog", false},
};

static const TempoResourceDef resources[] = {
	{TEMPO_RES_WORKLOGS, "worklogs", "tempoWorklogId",
		"Tempo worklogs (Jira worklogs when the fallback is taken)",
	lengthof(worklog_columns), worklog_columns},
	{TEMPO_RES_JIRA_WORKLOGS, "jira_worklogs", "id",
		"Jira Cloud worklogs",
	lengthof(jira_worklog_columns), jira_worklog_columns},
	{TEMPO_RES_USER_SCHEDULES, "user_schedules", "date",
		"Tempo user schedules: required time per person and day",
	lengthof(schedule_columns), schedule_columns},
	{TEMPO_RES_WORKLOG_DELETIONS, "worklog_deletions", "entityId",
		"Deleted Tempo worklogs from Tempo's audit log (the last 180 days)",
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
