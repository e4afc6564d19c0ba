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

/* Jira dimension tables */

/* Jira users: GET /rest/api/3/users/search, GET /rest/api/3/user/bulk */
static const TempoColumnDef jira_user_columns[] = {
	{"account_id", TEXTOID, "text", TEMPO_COL_PATH, "accountId", true},
	{"display_name", TEXTOID, "text", TEMPO_COL_PATH, "displayName", false},
	{"email", TEXTOID, "text", TEMPO_COL_PATH, "emailAddress", false},
	{"active", BOOLOID, "boolean", TEMPO_COL_PATH, "active", false},
	{"account_type", TEXTOID, "text", TEMPO_COL_PATH, "accountType", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Jira projects: GET /rest/api/3/project/search?expand=lead */
static const TempoColumnDef jira_project_columns[] = {
	{"id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"key", TEXTOID, "text", TEMPO_COL_PATH, "key", true},
	{"name", TEXTOID, "text", TEMPO_COL_PATH, "name", false},
	{"project_type", TEXTOID, "text", TEMPO_COL_PATH, "projectTypeKey", false},
	{"category_id", INT8OID, "bigint", TEMPO_COL_PATH, "projectCategory.id", false},
	{"category_name", TEXTOID, "text", TEMPO_COL_PATH, "projectCategory.name", false},
	{"lead_account_id", TEXTOID, "text", TEMPO_COL_PATH, "lead.accountId", false},
	{"lead_display_name", TEXTOID, "text", TEMPO_COL_PATH, "lead.displayName", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Jira issues: POST /rest/api/3/search/jql */
static const TempoColumnDef jira_issue_columns[] = {
	{"id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"key", TEXTOID, "text", TEMPO_COL_PATH, "key", true},
	{"summary", TEXTOID, "text", TEMPO_COL_PATH, "fields.summary", false},
	{"project_id", INT8OID, "bigint", TEMPO_COL_PATH, "fields.project.id", false},
	{"project_key", TEXTOID, "text", TEMPO_COL_PATH, "fields.project.key", false},
	{"issue_type", TEXTOID, "text", TEMPO_COL_PATH, "fields.issuetype.name", false},
	{"status", TEXTOID, "text", TEMPO_COL_PATH, "fields.status.name", false},
	{"status_category", TEXTOID, "text", TEMPO_COL_PATH,
	"fields.status.statusCategory.key", false},
	{"parent_id", INT8OID, "bigint", TEMPO_COL_PATH, "fields.parent.id", false},
	{"parent_key", TEXTOID, "text", TEMPO_COL_PATH, "fields.parent.key", false},
	{"epic_key", TEXTOID, "text", TEMPO_COL_EPIC_KEY, "fields.parent", false},
	{"created_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "fields.created", false},
	{"updated_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH, "fields.updated", false},
	{"resolved_at", TIMESTAMPTZOID, "timestamptz", TEMPO_COL_PATH,
	"fields.resolutiondate", false},
	{"labels", TEXTARRAYOID, "text[]", TEMPO_COL_PATH, "fields.labels", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Tempo dimension tables: columns */

/* Tempo teams: GET /4/teams ("View teams") */
static const TempoColumnDef team_columns[] = {
	{"team_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"name", TEXTOID, "text", TEMPO_COL_PATH, "name", true},
	{"summary", TEXTOID, "text", TEMPO_COL_PATH, "summary", false},
	{"administrative", BOOLOID, "boolean", TEMPO_COL_PATH, "administrative", true},
	{"lead_account_id", TEXTOID, "text", TEMPO_COL_PATH, "lead.accountId", false},
	{"program_id", INT8OID, "bigint", TEMPO_COL_PATH, "program.id", false},
	{"program_name", TEXTOID, "text", TEMPO_COL_PATH, "program.name", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/*
 * Tempo team memberships: POST /4/team-memberships/search ("View teams").
 * to_date is the inclusive end (inclusiveTo): Tempo's "to" is the day after.
 */
static const TempoColumnDef membership_columns[] = {
	{"membership_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"team_id", INT8OID, "bigint", TEMPO_COL_PATH, "team.id", true},
	{"team_name", TEXTOID, "text", TEMPO_COL_PATH, "team.name", false},
	{"account_id", TEXTOID, "text", TEMPO_COL_PATH, "member.accountId", true},
	{"role_id", INT8OID, "bigint", TEMPO_COL_PATH, "role.id", true},
	{"role_name", TEXTOID, "text", TEMPO_COL_PATH, "role.name", true},
	{"commitment_percent", INT4OID, "integer", TEMPO_COL_PATH, "commitmentPercent", true},
	{"from_date", DATEOID, "date", TEMPO_COL_PATH, "from", false},
	{"to_date", DATEOID, "date", TEMPO_COL_PATH, "inclusiveTo", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Tempo accounts: POST /4/accounts/search ("View accounts") */
static const TempoColumnDef account_columns[] = {
	{"account_id", INT8OID, "bigint", TEMPO_COL_PATH, "id", true},
	{"key", TEXTOID, "text", TEMPO_COL_PATH, "key", true},
	{"name", TEXTOID, "text", TEMPO_COL_PATH, "name", true},
	{"status", TEXTOID, "text", TEMPO_COL_PATH, "status", true},
	{"global", BOOLOID, "boolean", TEMPO_COL_PATH, "global", true},
	{"customer_key", TEXTOID, "text", TEMPO_COL_PATH, "customer.key", false},
	{"customer_name", TEXTOID, "text", TEMPO_COL_PATH, "customer.name", false},
	{"lead_account_id", TEXTOID, "text", TEMPO_COL_PATH, "lead.accountId", false},
	{"category_key", TEXTOID, "text", TEMPO_COL_PATH, "category.key", false},
	{"monthly_budget", INT4OID, "integer", TEMPO_COL_PATH, "monthlyBudget", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Tempo work attributes: GET /4/work-attributes ("View worklogs") */
static const TempoColumnDef work_attribute_columns[] = {
	{"key", TEXTOID, "text", TEMPO_COL_PATH, "key", true},
	{"name", TEXTOID, "text", TEMPO_COL_PATH, "name", true},
	{"type", TEXTOID, "text", TEMPO_COL_PATH, "type", true},
	{"required", BOOLOID, "boolean", TEMPO_COL_PATH, "required", true},
	{"list_values", JSONBOID, "jsonb", TEMPO_COL_PATH, "values", false},
	{"list_names", JSONBOID, "jsonb", TEMPO_COL_PATH, "names", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/*
 * Tempo timesheet approvals: GET /4/timesheet-approvals/team/{teamId}
 * ("View approvals"); team_id is the team the request asked for.
 */
static const TempoColumnDef approval_columns[] = {
	{"team_id", INT8OID, "bigint", TEMPO_COL_REQUEST_KEY, NULL, false},
	{"account_id", TEXTOID, "text", TEMPO_COL_PATH, "user.accountId", true},
	{"period_from", DATEOID, "date", TEMPO_COL_PATH, "period.from", true},
	{"period_to", DATEOID, "date", TEMPO_COL_PATH, "period.to", true},
	{"status", TEXTOID, "text", TEMPO_COL_PATH, "status.key", false},
	{"reviewer_account_id", TEXTOID, "text", TEMPO_COL_PATH, "reviewer.accountId", false},
	{"required_seconds", INT8OID, "bigint", TEMPO_COL_PATH, "requiredSeconds", true},
	{"time_spent_seconds", INT8OID, "bigint", TEMPO_COL_PATH, "timeSpentSeconds", true},
	{"actions", JSONBOID, "jsonb", TEMPO_COL_PATH, "actions", false},
	{"raw", JSONBOID, "jsonb", TEMPO_COL_RAW, NULL, false},
};

/* Tempo approval periods: GET /4/periods ("View periods") */
static const TempoColumnDef period_columns[] = {
	{"period_from", DATEOID, "date", TEMPO_COL_PATH, "from", true},
	{"period_to", DATEOID, "date", TEMPO_COL_PATH, "to", true},
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
	/* Jira dimension tables */
	{TEMPO_RES_JIRA_USERS, "jira_users", "accountId",
	lengthof(jira_user_columns), jira_user_columns},
	{TEMPO_RES_JIRA_PROJECTS, "jira_projects", "id",
	lengthof(jira_project_columns), jira_project_columns},
	{TEMPO_RES_JIRA_ISSUES, "jira_issues", "id",
	lengthof(jira_issue_columns), jira_issue_columns},
	/* Tempo dimension tables */
	{TEMPO_RES_TEMPO_TEAMS, "tempo_teams", "id",
	lengthof(team_columns), team_columns},
	{TEMPO_RES_TEMPO_TEAM_MEMBERSHIPS, "tempo_team_memberships", "id",
	lengthof(membership_columns), membership_columns},
	{TEMPO_RES_TEMPO_ACCOUNTS, "tempo_accounts", "key",
	lengthof(account_columns), account_columns},
	{TEMPO_RES_TEMPO_WORK_ATTRIBUTES, "tempo_work_attributes", "key",
	lengthof(work_attribute_columns), work_attribute_columns},
	{TEMPO_RES_TEMPO_TIMESHEET_APPROVALS, "tempo_timesheet_approvals", "user.accountId",
	lengthof(approval_columns), approval_columns},
	{TEMPO_RES_TEMPO_PERIODS, "tempo_periods", "from",
	lengthof(period_columns), period_columns},
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

/*
 * tempo_resource_scope
 *		The Tempo token scope a Tempo dimension table needs, for the hint of
 *		a 403; NULL for the other resources (their hint names theirs).
 */
const char *
tempo_resource_scope(TempoResource resource)
{
	switch (resource)
	{
		case TEMPO_RES_TEMPO_TEAMS:
		case TEMPO_RES_TEMPO_TEAM_MEMBERSHIPS:
			return "View teams";
		case TEMPO_RES_TEMPO_ACCOUNTS:
			return "View accounts";
		case TEMPO_RES_TEMPO_WORK_ATTRIBUTES:
			return "View worklogs";
		case TEMPO_RES_TEMPO_TIMESHEET_APPROVALS:
			return "View approvals";
		case TEMPO_RES_TEMPO_PERIODS:
			return "View periods";
		default:
			return NULL;
	}
}
