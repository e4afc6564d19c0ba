/*-------------------------------------------------------------------------
 *
 * import.c
 *		  IMPORT FOREIGN SCHEMA tempo FROM SERVER ... INTO ...
 *
 * The remote "schema" is fixed: tempo_fdw offers the resources of
 * catalog.c, and this turns each into a CREATE FOREIGN TABLE statement with
 * the documented columns and its "resource" option.  Core filters the
 * statements by LIMIT TO / EXCEPT again, but we honour them here too so that
 * nothing is generated needlessly.  The DDL holds no option but "resource":
 * no URL, no token.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "tempo_fdw.h"

/* The one remote schema name IMPORT FOREIGN SCHEMA accepts */
#define TEMPO_REMOTE_SCHEMA "tempo"

/* Is a resource named in the statement's table list? */
static bool
listed(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;

	foreach(lc, stmt->table_list)
		if (strcmp(((RangeVar *) lfirst(lc))->relname, name) == 0)
		return true;
	return false;
}

/*
 * tempoImportForeignSchema
 *		The CREATE FOREIGN TABLE statements for the resources asked for.
 */
List *
tempoImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	List	   *commands = NIL;

	if (strcmp(stmt->remote_schema, TEMPO_REMOTE_SCHEMA) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("remote schema \"%s\" does not exist", stmt->remote_schema),
				 errhint("tempo_fdw offers one remote schema: IMPORT FOREIGN SCHEMA %s FROM SERVER %s INTO ...",
						 TEMPO_REMOTE_SCHEMA, quote_identifier(stmt->server_name))));

	if (stmt->options != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"",
						((DefElem *) linitial(stmt->options))->defname),
				 errhint("IMPORT FOREIGN SCHEMA of tempo_fdw takes no options.")));

	for (int i = 0; i < tempo_resource_count(); i++)
	{
		const TempoResourceDef *r = tempo_resource_at(i);
		StringInfoData buf;

		if ((stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO && !listed(stmt, r->name)) ||
			(stmt->list_type == FDW_IMPORT_SCHEMA_EXCEPT && listed(stmt, r->name)))
			continue;

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (\n", quote_identifier(r->name));
		for (int j = 0; j < r->ncolumns; j++)
			appendStringInfo(&buf, "  %s %s%s%s\n",
							 quote_identifier(r->columns[j].name),
							 r->columns[j].sqltype,
							 r->columns[j].required ? " NOT NULL" : "",
							 j + 1 < r->ncolumns ? "," : "");
		appendStringInfo(&buf, ") SERVER %s OPTIONS (resource %s)",
						 quote_identifier(stmt->server_name),
						 quote_literal_cstr(r->name));
		commands = lappend(commands, buf.data);
	}
	return commands;
}
