/*-------------------------------------------------------------------------
 *
 * jsonb.c
 *		  cJSON trees straight into jsonb, without printing them as text
 *		  and parsing that text again.
 *
 * The raw and attributes columns are jsonb.  Printing a worklog with cJSON
 * and handing the text to jsonb_in parses every page twice; building the
 * JsonbValue tree with pushJsonbValue from the parsed cJSON tree does the
 * same work once.  Strings are checked (and converted) for the database
 * encoding as jsonb_in would; numbers become numeric exactly for integers,
 * through float8 otherwise (cJSON holds numbers as doubles).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/jsonb.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <cjson/cJSON.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "tempo_fdw.h"

/* Largest integer a double holds exactly */
#define EXACT_INT_LIMIT 9007199254740992.0

/* A JSON string as a jsonb string, in the database encoding. */
static void
string_value(const char *s, JsonbValue *v)
{
	char	   *str = pg_any_to_server(s, strlen(s), PG_UTF8);

	v->type = jbvString;
	v->val.string.val = str;
	v->val.string.len = strlen(str);
}

/* A cJSON scalar as a JsonbValue. */
static void
scalar_value(cJSON *item, JsonbValue *v)
{
	if (cJSON_IsString(item))
		string_value(item->valuestring, v);
	else if (cJSON_IsNumber(item))
	{
		double		d = item->valuedouble;

		v->type = jbvNumeric;
		if (d == floor(d) && fabs(d) <= EXACT_INT_LIMIT)
			v->val.numeric = int64_to_numeric((int64) d);
		else
			v->val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric,
																 Float8GetDatum(d)));
	}
	else if (cJSON_IsBool(item))
	{
		v->type = jbvBool;
		v->val.boolean = cJSON_IsTrue(item);
	}
	else
		v->type = jbvNull;
}

/* Push a cJSON value: a container through its tokens, a scalar as tok. */
static JsonbValue *
push(JsonbParseState **state, cJSON *item, JsonbIteratorToken tok)
{
	JsonbValue *result = NULL;
	cJSON	   *child;

	check_stack_depth();
	if (cJSON_IsObject(item))
	{
		pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
		cJSON_ArrayForEach(child, item)
		{
			JsonbValue	key;

			string_value(child->string ? child->string : "", &key);
			pushJsonbValue(state, WJB_KEY, &key);
			result = push(state, child, WJB_VALUE);
		}
		result = pushJsonbValue(state, WJB_END_OBJECT, NULL);
	}
	else if (cJSON_IsArray(item))
	{
		pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
		cJSON_ArrayForEach(child, item)
			result = push(state, child, WJB_ELEM);
		result = pushJsonbValue(state, WJB_END_ARRAY, NULL);
	}
	else
	{
		JsonbValue	v;

		scalar_value(item, &v);
		result = pushJsonbValue(state, tok, &v);
	}
	return result;
}

/*
 * tempo_cjson_to_jsonb
 *		A cJSON value (object, array or scalar) as a jsonb Datum.
 */
Datum
tempo_cjson_to_jsonb(cJSON *item)
{
	JsonbParseState *state = NULL;

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
	{
		JsonbValue	v;

		scalar_value(item, &v);
		return JsonbPGetDatum(JsonbValueToJsonb(&v));
	}
	return JsonbPGetDatum(JsonbValueToJsonb(push(&state, item, WJB_VALUE)));
}

/*
 * tempo_attr_map_to_jsonb
 *		Tempo's work attributes, [{key, value}, ...], as {key: value}.  NULL
 *		when an element has no string key (the caller reports it).
 */
Datum
tempo_attr_map_to_jsonb(cJSON *values, bool *bad_key)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	cJSON	   *item;

	*bad_key = false;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	cJSON_ArrayForEach(item, values)
	{
		cJSON	   *key = cJSON_GetObjectItemCaseSensitive(item, "key");
		cJSON	   *value = cJSON_GetObjectItemCaseSensitive(item, "value");
		JsonbValue	k;

		if (!cJSON_IsString(key))
		{
			*bad_key = true;
			return (Datum) 0;
		}
		string_value(key->valuestring, &k);
		pushJsonbValue(&state, WJB_KEY, &k);
		if (value == NULL)
		{
			JsonbValue	null;

			null.type = jbvNull;
			pushJsonbValue(&state, WJB_VALUE, &null);
		}
		else
			(void) push(&state, value, WJB_VALUE);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}
