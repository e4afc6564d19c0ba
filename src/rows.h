/*-------------------------------------------------------------------------
 *
 * rows.h
 *		  Layer 4, rows: response pages parsed, and their objects turned
 *		  into the Datums of a foreign table's columns.
 *
 * Files: json.c (pages and conversion plans), jsonb.c (jsonb columns),
 * over jsonpage.c (PostgreSQL-free parsing, jsonpage.h).  cJSON stays
 * behind the opaque TempoPage: only json.c, jsonb.c and jsonpage.c see it
 * (jsonpage.h, jsonb.h).  Included by the pager, twins.c, the scan and
 * estimate.c; it includes only options.h and PostgreSQL's headers.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/rows.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_ROWS_H
#define TEMPO_ROWS_H

#include "nodes/bitmapset.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "options.h"

/* A parsed page, and what parses pages: opaque outside json.c */
typedef struct TempoPage TempoPage;
typedef struct TempoParser TempoParser;

/* Per-column conversion plan built once per scan */
typedef struct TempoRowPlan TempoRowPlan;

/* in json.c */
extern void tempo_sanitize_json(char *body, size_t len);
extern TempoParser *tempo_parser_create(MemoryContext cxt, bool check_text,
										const TempoFdwOptions *opts);
extern TempoPage *tempo_parse_page(TempoParser *parser, char *body, size_t len,
								   const char *array_key,
								   const char *service, const char *what,
								   MemoryContext cxt);
extern int	tempo_page_nrows(TempoPage *page);
extern int	tempo_body_list_size(const TempoFdwOptions *opts, const char *body,
								 size_t len, const char *array_key,
								 const char *service, const char *what);
extern const char *tempo_page_string(TempoPage *page, const char *path);
extern bool tempo_page_has_number(TempoPage *page, const char *path,
								  double *value);
extern bool tempo_page_bool(TempoPage *page, const char *path, bool dflt);
extern TempoRowPlan *tempo_make_row_plan(Relation rel,
										 const TempoResourceDef *resource,
										 Bitmapset *attrs_used);
extern bool tempo_row_plan_uses_text(TempoRowPlan *plan);
extern List *tempo_page_ids(TempoPage *page, const char *key);
extern List *tempo_page_values(TempoPage *page, const char *path);
extern int	tempo_page_array_size(TempoPage *page, const char *key);
extern void tempo_row_plan_set(TempoRowPlan *plan, const char *source,
							   const char *request_key);
extern bool tempo_row_plan_uses_twins(TempoRowPlan *plan);
extern void tempo_row_plan_set_twins(TempoRowPlan *plan, const int64 *pairs,
									 int npairs);
extern int	tempo_page_ints(TempoPage *page, const char *key, int64 *out);
extern int	tempo_page_id_pairs(TempoPage *page, const char *key1,
								const char *key2, int64 *pairs);
extern bool tempo_page_next_row(TempoPage *page, TempoRowPlan *plan,
								Datum *values, bool *nulls);

#endif							/* TEMPO_ROWS_H */
