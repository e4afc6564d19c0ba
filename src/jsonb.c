/*-------------------------------------------------------------------------
 *
 * jsonb.c
 *		  cJSON trees straight into jsonb's binary format.
 *
 * The raw and attributes columns are jsonb.  Printing a worklog with cJSON
 * and handing the text to jsonb_in parses every page twice; going through
 * pushJsonbValue builds a JsonbValue tree, sorts it with qsort and copies
 * it once more.  Here the binary format (utils/jsonb.h) is written in one
 * pass over the cJSON tree, as convertToJsonb would write it: a container
 * header, its JEntries (a length each, an end offset every
 * JB_OFFSET_STRIDE'th), then the children's data, numerics and containers
 * aligned to 4 bytes; an object's keys sorted by length, then bytes, and
 * of a key given twice the last value kept, as jsonb_in does.  The tests
 * compare the result with the same text through jsonb_in (sql/jsonb.sql).
 *
 * Strings are checked (and converted) for the database encoding as
 * jsonb_in would, unless the caller says the whole body was already found
 * valid UTF-8 in a UTF-8 (or SQL_ASCII) database.  Numbers become numeric
 * exactly for integers, through float8 otherwise (cJSON holds numbers as
 * doubles).
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
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "jsonb.h"
#include "rows.h"

/* Objects with at most this many keys are sorted on the stack */
#define SMALL_OBJECT 32

/* One key and its value, while an object's keys are sorted */
typedef struct Pair
{
	uint64		sortkey;		/* see set_sortkey */
	const char *key;			/* in the database encoding */
	int			keylen;
	int			order;			/* position in the object */
	cJSON	   *value;			/* NULL: JSON null */
} Pair;

/* The jsonb being written */
typedef struct Writer
{
	StringInfoData buf;
	bool		verified;		/* strings are valid in the database encoding */
} Writer;

static JEntry write_value(Writer *w, cJSON *item);

/* A JSON string in the database encoding, and its length. */
static const char *
server_text(Writer *w, const char *s, int *len)
{
	size_t		n = strlen(s);
	const char *str = s;

	if (!w->verified)
	{
		str = pg_any_to_server(s, n, PG_UTF8);
		if (str != s)
			n = strlen(str);
	}
	if (n > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("string too long to represent as jsonb string"),
				 errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
						   JENTRY_OFFLENMASK)));
	*len = (int) n;
	return str;
}

/* Room for n more bytes. */
static inline void
room(Writer *w, int n)
{
	if (w->buf.len + n >= w->buf.maxlen)
		enlargeStringInfo(&w->buf, n);
}

/* Append n bytes (appendBinaryStringInfo, without a call when they fit). */
static inline void
put(Writer *w, const void *data, int n)
{
	room(w, n);
	memcpy(w->buf.data + w->buf.len, data, n);
	w->buf.len += n;
}

/* Zero bytes up to a 4-byte boundary; how many were added. */
static inline int
pad_to_int(Writer *w)
{
	int			padlen = INTALIGN(w->buf.len) - w->buf.len;

	if (padlen > 0)
	{
		room(w, padlen);
		memset(w->buf.data + w->buf.len, 0, padlen);
		w->buf.len += padlen;
	}
	return padlen;
}

/* Room for nbytes at the end of the buffer, filled later; their offset. */
static inline int
reserve(Writer *w, int nbytes)
{
	int			at = w->buf.len;

	room(w, nbytes);
	w->buf.len += nbytes;
	return at;
}

/* The JEntry of a child, the running length of the data before it added. */
static JEntry
child_entry(JEntry meta, int index, int *totallen)
{
	*totallen += JBE_OFFLENFLD(meta);
	if (*totallen > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("total size of jsonb elements exceeds the maximum of %d bytes",
						JENTRY_OFFLENMASK)));
	if (index % JB_OFFSET_STRIDE == 0)
		meta = (meta & JENTRY_TYPEMASK) | *totallen | JENTRY_HAS_OFF;
	return meta;
}

/*
 * Integers are most of the numbers of a worklog (ids, seconds), and
 * int64_to_numeric costs some 350 instructions and a palloc.  Their numeric
 * is written here directly in numeric's short format: a varlena header, a
 * 16-bit header (the short flag, the sign and the weight), then the base
 * 10000 digits, without trailing zero digits.  That format is private to
 * numeric.c, so it is checked once per backend against int64_to_numeric
 * (short_ints_ok); if it ever differs, int64_to_numeric is used.
 */
#define NUMERIC_SHORT_FLAG		0x8000
#define NUMERIC_SHORT_NEG		0x2000
#define NUMERIC_SHORT_WEIGHT	0x003F
#define MAX_INT_DIGITS			4	/* base 10000 digits of |v| <= 2^53 */

/* The short numeric of v (|v| <= 2^53) into out; its length. */
static int
short_int_numeric(int64 v, char *out)
{
	uint64		u = v < 0 ? -(uint64) v : (uint64) v;
	int16		digits[MAX_INT_DIGITS]; /* least significant first */
	int			n = 0;
	int			low = 0;
	uint16		header = NUMERIC_SHORT_FLAG;
	char	   *p = out + VARHDRSZ + sizeof(uint16);

	while (u > 0)
	{
		digits[n++] = (int16) (u % 10000);
		u /= 10000;
	}
	/* the weight counts every digit; zero ones at the low end are not stored */
	while (low < n && digits[low] == 0)
		low++;
	if (n > 0)					/* zero: no digits, weight 0, positive */
		header |= (v < 0 ? NUMERIC_SHORT_NEG : 0) | ((n - 1) & NUMERIC_SHORT_WEIGHT);
	memcpy(out + VARHDRSZ, &header, sizeof(uint16));
	for (int i = n - 1; i >= low; i--, p += sizeof(int16))
		memcpy(p, &digits[i], sizeof(int16));
	SET_VARSIZE(out, p - out);
	return p - out;
}

/* Whether short_int_numeric writes what int64_to_numeric makes (checked once). */
static bool
short_ints_ok(void)
{
	static int	ok = -1;

	if (ok < 0)
	{
		static const int64 probes[] = {0, 1, -1, 7, 9999, 10000, -10000, 10001, 16200,
			100000000, 123456789, -987654321, 1000000000000LL, 9007199254740992LL,
		-9007199254740992LL};

		ok = 1;
		for (size_t i = 0; i < lengthof(probes) && ok; i++)
		{
			char		mine[VARHDRSZ + sizeof(uint16) + MAX_INT_DIGITS * sizeof(int16)];
			Numeric		theirs = int64_to_numeric(probes[i]);
			int			len = short_int_numeric(probes[i], mine);

			ok = (len == (int) VARSIZE(theirs) && memcmp(mine, theirs, len) == 0);
			pfree(theirs);
		}
	}
	return ok == 1;
}

/*
 * A JSON number's data; its JEntry.  An integer is exact, other numbers go
 * through float8.  cJSON makes a number beyond the range of a double
 * infinite: an ERROR, rather than a jsonb holding Infinity (not JSON).
 */
static JEntry
write_number(Writer *w, double d)
{
	int			padlen = pad_to_int(w);
	int			numlen;
	Numeric		num;

	if (!isfinite(d))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("a JSON number is beyond the range of double precision"),
				 errdetail("Such numbers cannot be kept exactly.")));
	if (d == floor(d) && fabs(d) <= TEMPO_JSON_EXACT_INT_LIMIT)
	{
		if (short_ints_ok())
		{
			room(w, VARHDRSZ + sizeof(uint16) + MAX_INT_DIGITS * sizeof(int16));
			numlen = short_int_numeric((int64) d, w->buf.data + w->buf.len);
			w->buf.len += numlen;
			return JENTRY_ISNUMERIC | (padlen + numlen);
		}
		num = int64_to_numeric((int64) d);
	}
	else
		num = DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(d)));
	numlen = VARSIZE_ANY(num);
	put(w, num, numlen);
	pfree(num);
	return JENTRY_ISNUMERIC | (padlen + numlen);
}

/* A scalar's data; its JEntry. */
static JEntry
write_scalar(Writer *w, cJSON *item)
{
	switch (tempo_json_type(item))
	{
		case cJSON_String:
			{
				int			len;
				const char *s = server_text(w, item->valuestring, &len);

				put(w, s, len);
				return JENTRY_ISSTRING | len;
			}
		case cJSON_Number:
			return write_number(w, item->valuedouble);
		case cJSON_True:
			return JENTRY_ISBOOL_TRUE;
		case cJSON_False:
			return JENTRY_ISBOOL_FALSE;
		default:
			return JENTRY_ISNULL;	/* null (cJSON has no other scalar) */
	}
}

/* jsonb's order of keys: shorter first, then bytewise; of equal keys, the later first. */
static int
pair_cmp(const Pair *pa, const Pair *pb)
{
	int			r;

	if (pa->keylen != pb->keylen)
		return pa->keylen < pb->keylen ? -1 : 1;
	r = memcmp(pa->key, pb->key, pa->keylen);
	if (r != 0)
		return r;
	return pa->order > pb->order ? -1 : (pa->order < pb->order ? 1 : 0);
}

/*
 * A pair's key's length and first six bytes as one integer, so that most
 * comparisons are one: a smaller sortkey sorts first, equal ones are
 * compared in full.  Keys of 65535 bytes or more all get the same sortkey.
 */
static void
set_sortkey(Pair *p)
{
	uint64		k = 0;

	if (p->keylen >= 0xFFFF)
	{
		p->sortkey = (uint64) 0xFFFF << 48;
		return;
	}
	if (p->keylen >= 6)
	{
		memcpy(&k, p->key, 6);
		k = pg_ntoh64(k) >> 16; /* the six bytes, the first the highest */
	}
	else
	{
		for (int i = 0; i < p->keylen; i++)
			k |= (uint64) (unsigned char) p->key[i] << (40 - 8 * i);
	}
	p->sortkey = ((uint64) p->keylen << 48) | k;
}

/* pair_cmp, through the sortkeys first. */
static inline int
pair_order(const Pair *a, const Pair *b)
{
	if (a->sortkey != b->sortkey)
		return a->sortkey < b->sortkey ? -1 : 1;
	return pair_cmp(a, b);
}

/* pair_order of the pairs at two positions, for qsort_arg. */
static int
position_cmp(const void *a, const void *b, void *arg)
{
	const Pair *pairs = (const Pair *) arg;

	return pair_order(&pairs[*(const int *) a], &pairs[*(const int *) b]);
}

/*
 * The positions of pairs in jsonb's order, into order[0..n): insertion
 * sort for the usual few keys.  Positions move, not the pairs.
 */
static void
sort_pairs(Pair *pairs, int n, int *order)
{
	for (int i = 0; i < n; i++)
	{
		set_sortkey(&pairs[i]);
		order[i] = i;
	}
	if (n > SMALL_OBJECT)
	{
		qsort_arg(order, n, sizeof(int), position_cmp, pairs);
		return;
	}
	for (int i = 1; i < n; i++)
	{
		int			p = order[i];
		int			j = i;

		while (j > 0 && pair_order(&pairs[order[j - 1]], &pairs[p]) > 0)
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = p;
	}
}

/*
 * Keep the first of each run of equal keys in order (the last given); the
 * new count.
 */
static int
unique_pairs(const Pair *pairs, int *order, int n)
{
	int			kept = n > 0 ? 1 : 0;

	for (int i = 1; i < n; i++)
	{
		const Pair *p = &pairs[order[i]];
		const Pair *last = &pairs[order[kept - 1]];

		if (p->sortkey == last->sortkey && p->keylen == last->keylen &&
			memcmp(p->key, last->key, last->keylen) == 0)
			continue;
		order[kept++] = order[i];
	}
	return kept;
}

/*
 * The start of a container: alignment, its header (count and flags) and
 * room for nentries JEntries, whose offset in the buffer is returned.
 */
static int
begin_container(Writer *w, int count, uint32 flags, int nentries)
{
	uint32		header;

	if (count > JB_CMASK || nentries > (int) (MaxAllocSize / sizeof(JEntry)))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("number of jsonb elements exceeds the maximum allowed (%d)",
						JB_CMASK)));
	pad_to_int(w);
	header = (uint32) count | flags;
	put(w, &header, sizeof(header));
	return reserve(w, sizeof(JEntry) * nentries);
}

/* Store a JEntry at its place (buf may have moved since it was reserved). */
static void
set_entry(Writer *w, int at, JEntry meta)
{
	memcpy(w->buf.data + at, &meta, sizeof(JEntry));
}

/* An object of n pairs (keys in the database encoding already); its JEntry. */
static JEntry
write_object(Writer *w, Pair *pairs, int n)
{
	int			base = w->buf.len;
	int			small[SMALL_OBJECT];
	int		   *order = n <= SMALL_OBJECT ? small : palloc(sizeof(int) * n);
	int			jentries;
	int			totallen = 0;

	sort_pairs(pairs, n, order);
	n = unique_pairs(pairs, order, n);
	/* the keys' JEntries, then the values' */
	jentries = begin_container(w, n, JB_FOBJECT, n * 2);
	for (int i = 0; i < n; i++)
	{
		const Pair *p = &pairs[order[i]];

		put(w, p->key, p->keylen);
		set_entry(w, jentries + i * sizeof(JEntry),
				  child_entry(JENTRY_ISSTRING | p->keylen, i, &totallen));
	}
	for (int i = 0; i < n; i++)
	{
		JEntry		meta = write_value(w, pairs[order[i]].value);

		set_entry(w, jentries + (n + i) * sizeof(JEntry),
				  child_entry(meta, n + i, &totallen));
	}
	if (order != small)
		pfree(order);
	return JENTRY_ISCONTAINER | (w->buf.len - base);
}

/* The pairs of a cJSON object, into a caller's array of at least its size. */
static int
object_pairs(Writer *w, cJSON *object, Pair *pairs)
{
	int			n = 0;
	cJSON	   *child;

	cJSON_ArrayForEach(child, object)
	{
		pairs[n].key = server_text(w, child->string ? child->string : "", &pairs[n].keylen);
		pairs[n].order = n;
		pairs[n].value = child;
		n++;
	}
	return n;
}

/* Number of children of a cJSON container. */
static int
count_children(cJSON *item)
{
	int			n = 0;
	cJSON	   *child;

	cJSON_ArrayForEach(child, item)
		n++;
	return n;
}

/* A container's or a scalar's data; its JEntry. */
static JEntry
write_value(Writer *w, cJSON *item)
{
	int			type = tempo_json_type(item);
	int			n;

	if (type != cJSON_Object && type != cJSON_Array)
		return write_scalar(w, item);

	check_stack_depth();
	n = count_children(item);
	if (type == cJSON_Object)
	{
		Pair		small[SMALL_OBJECT];
		Pair	   *pairs = n <= SMALL_OBJECT ? small : palloc(sizeof(Pair) * n);
		JEntry		meta = write_object(w, pairs, object_pairs(w, item, pairs));

		if (pairs != small)
			pfree(pairs);
		return meta;
	}
	else
	{
		int			base = w->buf.len;
		int			jentries = begin_container(w, n, JB_FARRAY, n);
		int			totallen = 0;
		int			i = 0;
		cJSON	   *child;

		cJSON_ArrayForEach(child, item)
		{
			JEntry		meta = write_value(w, child);

			set_entry(w, jentries + i * sizeof(JEntry), child_entry(meta, i, &totallen));
			i++;
		}
		return JENTRY_ISCONTAINER | (w->buf.len - base);
	}
}

/* A new jsonb, its varlena header to be set by finish. */
static void
start(Writer *w, bool verified)
{
	initStringInfo(&w->buf);
	w->verified = verified;
	(void) reserve(w, VARHDRSZ);
}

/* The jsonb written, as a Datum. */
static Datum
finish(Writer *w)
{
	SET_VARSIZE(w->buf.data, w->buf.len);
	return PointerGetDatum(w->buf.data);
}

/*
 * tempo_cjson_to_jsonb
 *		A cJSON value (object, array or scalar) as a jsonb Datum.  verified:
 *		its strings are known to be valid in the database encoding.
 */
Datum
tempo_cjson_to_jsonb(cJSON *item, bool verified)
{
	Writer		w;

	start(&w, verified);
	if (cJSON_IsObject(item) || cJSON_IsArray(item))
		(void) write_value(&w, item);
	else
	{
		/* a scalar is stored as a one-element array marked scalar */
		int			jentries = begin_container(&w, 1, JB_FARRAY | JB_FSCALAR, 1);
		int			totallen = 0;

		set_entry(&w, jentries, child_entry(write_scalar(&w, item), 0, &totallen));
	}
	return finish(&w);
}

/*
 * tempo_attr_map_to_jsonb
 *		Tempo's work attributes, [{key, value}, ...], as {key: value}.  NULL
 *		when an element has no string key (the caller reports it).
 */
Datum
tempo_attr_map_to_jsonb(cJSON *values, bool verified, bool *bad_key)
{
	Writer		w;
	int			n = count_children(values);
	Pair		small[SMALL_OBJECT];
	Pair	   *pairs = n <= SMALL_OBJECT ? small : palloc(sizeof(Pair) * n);
	cJSON	   *item;
	int			i = 0;

	*bad_key = false;
	start(&w, verified);
	cJSON_ArrayForEach(item, values)
	{
		static const char *const names[] = {"key", "value"};
		cJSON	   *found[2];

		tempo_json_find_keys(item, 2, names, found);
		if (!tempo_json_is(found[0], cJSON_String))
		{
			*bad_key = true;
			return (Datum) 0;
		}
		pairs[i].key = server_text(&w, found[0]->valuestring, &pairs[i].keylen);
		pairs[i].order = i;
		pairs[i].value = found[1];
		i++;
	}
	(void) write_object(&w, pairs, i);
	if (pairs != small)
		pfree(pairs);
	return finish(&w);
}
