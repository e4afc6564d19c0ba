/*
 * test/bench/bound.c: the fetch-and-parse bound of the tempo_fdw benchmark.
 *
 * What no client of the Tempo API can beat on this machine: it fetches the
 * worklog pages exactly as tempo_fdw does (one libcurl easy handle, so the
 * connection is kept alive; gzip accepted; the same Authorization and Accept
 * headers; metadata.next followed verbatim) into one growing buffer, parses
 * each page with cJSON_ParseWithLength and touches every value of every
 * result, and does nothing else: no conversion to rows, no database.
 *
 * cJSON allocates from a bump arena (cJSON_InitHooks with malloc_fn from the
 * arena and a no-op free_fn); the arena is reset after each page, so a page
 * costs no free() calls at all.  The default hooks are restored at the end.
 *
 *   bound URL TOKEN     fetch URL and every next page; prints
 *                       "rows=N seconds=S pages=P bytes=B checksum=C"
 *   bound --version     prints the libcurl and cJSON versions in use
 *
 * Build: gcc -O2 -o bound bound.c -lcurl -lcjson   (run.sh does this)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

/* ---------------------------------------------------------------- arena -- */

/*
 * A list of blocks; allocation bumps an offset in the current block and moves
 * to the next block (allocating it the first time) when the request does not
 * fit.  Reset rewinds to the first block and keeps every block for reuse, so
 * after the first page no page causes a malloc() at all.
 */
#define ARENA_BLOCK (8 * 1024 * 1024)

typedef struct Block
{
	struct Block *next;
	size_t		size;
	size_t		used;
	/* data follows, max_align_t aligned */
} Block;

static Block *arena_first;
static Block *arena_cur;

static size_t
block_header(void)
{
	return (sizeof(Block) + 15) & ~(size_t) 15;
}

static void *
arena_alloc(size_t n)
{
	n = (n + 15) & ~(size_t) 15;	/* keep every allocation 16-byte aligned */
	for (;;)
	{
		if (arena_cur && arena_cur->used + n <= arena_cur->size)
		{
			void	   *p = (char *) arena_cur + block_header() + arena_cur->used;

			arena_cur->used += n;
			return p;
		}
		if (arena_cur && arena_cur->next)
		{
			/* a block kept from an earlier page */
			arena_cur = arena_cur->next;
			arena_cur->used = 0;
			continue;
		}
		{
			size_t		size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
			Block	   *b = malloc(block_header() + size);

			if (b == NULL)
				return NULL;
			b->next = NULL;
			b->size = size;
			b->used = 0;
			if (arena_cur)
				arena_cur->next = b;
			else
				arena_first = b;
			arena_cur = b;
		}
	}
}

static void
arena_free(void *p)
{
	(void) p;					/* everything goes at the next reset */
}

static void
arena_reset(void)
{
	arena_cur = arena_first;
	if (arena_cur)
		arena_cur->used = 0;
}

static void
arena_destroy(void)
{
	while (arena_first)
	{
		Block	   *next = arena_first->next;

		free(arena_first);
		arena_first = next;
	}
	arena_cur = NULL;
}

/* ------------------------------------------------------------- fetching -- */

typedef struct
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Buf		   *b = userdata;
	size_t		n = size * nmemb;

	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 1 << 20;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			return 0;			/* makes libcurl fail the transfer */
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	return n;
}

/* ------------------------------------------------------------- touching -- */

/*
 * Visit every node and fold its key, type and value into a checksum that is
 * printed, so the compiler cannot drop the parse or the walk.
 */
static uint64_t
touch(const cJSON *item)
{
	uint64_t	h = 0;

	for (; item; item = item->next)
	{
		h = h * 31 + (uint64_t) item->type;
		if (item->string)
			h = h * 31 + strlen(item->string);
		if (cJSON_IsString(item) && item->valuestring)
		{
			size_t		n = strlen(item->valuestring);

			h = h * 31 + n + (n ? (unsigned char) item->valuestring[n - 1] : 0);
		}
		else if (cJSON_IsNumber(item))
			h = h * 31 + (uint64_t) item->valuedouble;
		else if (cJSON_IsBool(item))
			h = h * 31 + (cJSON_IsTrue(item) ? 1 : 2);
		if (item->child)
			h += touch(item->child);
	}
	return h;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
	{
		printf("libcurl %s, cJSON %s\n", curl_version_info(CURLVERSION_NOW)->version,
			   cJSON_Version());
		return 0;
	}
	if (argc != 3)
	{
		fprintf(stderr, "usage: bound URL TOKEN | bound --version\n");
		return 2;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL	   *h = curl_easy_init();
	char		auth[512];
	struct curl_slist *headers = NULL;
	Buf			buf = {0};
	char	   *url = strdup(argv[1]);
	long		rows = 0,
				pages = 0;
	double		bytes = 0;
	uint64_t	checksum = 0;
	cJSON_Hooks arena_hooks = {arena_alloc, arena_free};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", argv[2]);
	headers = curl_slist_append(headers, auth);
	headers = curl_slist_append(headers, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tempo_fdw-bench-bound");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");	/* as tempo_fdw: gzip */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);

	cJSON_InitHooks(&arena_hooks);
	double		t0 = now();

	while (url)
	{
		long		status = 0;
		CURLcode	rc;

		buf.len = 0;
		curl_easy_setopt(h, CURLOPT_URL, url);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (rc != CURLE_OK || status != 200)
		{
			fprintf(stderr, "bound: GET %s: %s, HTTP %ld\n", url, curl_easy_strerror(rc), status);
			return 1;
		}
		pages++;
		bytes += buf.len;

		cJSON	   *page = cJSON_ParseWithLength(buf.data, buf.len);
		const cJSON *results = cJSON_GetObjectItemCaseSensitive(page, "results");
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
		const cJSON *next = cJSON_GetObjectItemCaseSensitive(meta, "next");

		if (!cJSON_IsArray(results))
		{
			fprintf(stderr, "bound: page %ld has no results array\n", pages);
			return 1;
		}
		rows += cJSON_GetArraySize(results);
		checksum += touch(results->child);

		/* the next URL lives in the arena: copy it out before the reset */
		free(url);
		url = cJSON_IsString(next) ? strdup(next->valuestring) : NULL;
		cJSON_Delete(page);		/* frees nothing: the free hook is a no-op */
		arena_reset();
	}

	double		seconds = now() - t0;

	cJSON_InitHooks(NULL);		/* back to malloc/free */
	arena_destroy();
	printf("rows=%ld seconds=%.6f pages=%ld bytes=%.0f checksum=%llu\n",
		   rows, seconds, pages, bytes, (unsigned long long) checksum);
	free(buf.data);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return 0;
}
