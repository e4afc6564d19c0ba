/*-------------------------------------------------------------------------
 *
 * jsonb.h
 *		  The jsonb writer (jsonb.c), for json.c only: cJSON trees written
 *		  as jsonb Datums.
 *
 * Part of the rows layer (rows.h).  It includes cJSON's header (through
 * jsonpage.h), which is why it is a header of its own: no other file of
 * the extension sees cJSON.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/jsonb.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_JSONB_H
#define TEMPO_JSONB_H

#include "jsonpage.h"

extern Datum tempo_cjson_to_jsonb(cJSON *item, bool verified);
extern Datum tempo_attr_map_to_jsonb(cJSON *values, bool verified,
									 bool *bad_key);

#endif							/* TEMPO_JSONB_H */
