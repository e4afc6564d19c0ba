/*-------------------------------------------------------------------------
 *
 * http.c
 *		  One HTTP request with libcurl and its retries; which failures
 *		  are retried, and the ERROR of each, is src/failure.c's policy.
 *
 * Rules this file keeps:
 *	- every option is set again on each request (curl_easy_reset), on the
 *	  cached handle so keep-alive still works;
 *	- CURLOPT_NOSIGNAL, since PostgreSQL owns SIGALRM;
 *	- every transfer, one request at a time too, runs on a multi handle:
 *	  between libcurl's steps the backend sleeps on a WaitEventSet over
 *	  libcurl's sockets, the latch and postmaster death (wait_for_curl),
 *	  so a cancel, statement_timeout or terminate ends any wait at once,
 *	  during connect and TLS handshake too, with PostgreSQL's own error;
 *	- the callbacks never ereport: the write callback stores into a buffer
 *	  it grows with MCXT_ALLOC_NO_OOM and refuses bodies over the cap, the
 *	  progress callback only reads the interrupt flags;
 *	- the header list (malloc'd by libcurl, holding the token) is zeroed
 *	  and freed on every path, errors included (tempo_free_headers), and no
 *	  handle keeps a pointer to it after its request; what libcurl copies
 *	  of it is zeroed when libcurl frees it (src/connection.c);
 *	- waits between retries, and for the rate budget, are latch waits, so a
 *	  cancel ends them;
 *	- no message ever holds the token or the host, only method and path;
 *	- no proxy but the superuser-set server option "proxy": the proxy
 *	  variables of the server's environment (http_proxy, ...) are ignored;
 *	- only gzip is asked for, and an answer in another Content-Encoding
 *	  (deflate, br, zstd, or gzip twice) is refused before its body: the
 *	  body's size is capped after inflation (max_response_bytes), and the
 *	  parse tree by src/json.c.
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/http.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/select.h>

#include <curl/curl.h>

#include "common/pg_prng.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "transport.h"
#include "curl_conn.h"
#include "failure.h"

#ifndef TEMPO_FDW_VERSION
#define TEMPO_FDW_VERSION "unknown"
#endif

/* The response body being received, owned by the caller's memory context */
typedef struct BodyBuffer
{
	MemoryContext cxt;			/* where data lives */
	char	   *data;			/* received bytes, NUL-terminated */
	size_t		len;			/* bytes received */
	size_t		cap;			/* allocated size of data */
	size_t		max;			/* max_response_bytes */
	size_t		hint;			/* first allocation: the body's likely size */
	bool		too_big;		/* stopped: over max */
	bool		no_memory;		/* stopped: allocation failed */
	bool		bad_encoding;	/* stopped: a Content-Encoding we refuse */
} BodyBuffer;


/* Requests this backend has sent, for tempo_fdw.requests_made() */
static int64 requests_made = 0;

/*
 * write_callback
 *		Append received bytes.  Must not ereport: returns a short count to
 *		make libcurl abort instead.
 */
static size_t
write_callback(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	BodyBuffer *buf = (BodyBuffer *) userdata;
	size_t		n = size * nmemb;

	if (n > buf->max - buf->len)
	{
		buf->too_big = true;
		return 0;
	}
	if (buf->len + n + 1 > buf->cap)
	{
		size_t		newcap = Max(buf->cap * 2, buf->len + n + 1);
		char	   *p;

		newcap = Max(newcap, 65536);
		if (buf->len == 0)
			newcap = Max(newcap, buf->hint);	/* no copying as it grows */
		newcap = Min(newcap, buf->max + 1);
		p = MemoryContextAllocExtended(buf->cxt, newcap,
									   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (p == NULL)
		{
			buf->no_memory = true;
			return 0;
		}
		if (buf->data)
		{
			memcpy(p, buf->data, buf->len);
			pfree(buf->data);
		}
		buf->data = p;
		buf->cap = newcap;
	}
	memcpy(buf->data + buf->len, ptr, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return n;
}

/*
 * header_callback
 *		Refuse a Content-Encoding other than gzip or identity (libcurl would
 *		inflate any it knows, even one it did not ask for).  Must not
 *		ereport: returns a short count to make libcurl abort instead.
 */
static size_t
header_callback(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	BodyBuffer *buf = (BodyBuffer *) userdata;
	size_t		n = size * nmemb;
	const char *name = "content-encoding:";
	size_t		namelen = strlen(name);
	size_t		i;
	size_t		end;

	if (n < namelen || pg_strncasecmp(ptr, name, namelen) != 0)
		return n;
	for (i = namelen; i < n && (ptr[i] == ' ' || ptr[i] == '\t'); i++)
		;
	for (end = n; end > i && isspace((unsigned char) ptr[end - 1]); end--)
		;
	if ((end - i == 4 && pg_strncasecmp(ptr + i, "gzip", 4) == 0) ||
		(end - i == 8 && pg_strncasecmp(ptr + i, "identity", 8) == 0) ||
		end == i)
		return n;
	buf->bad_encoding = true;
	return 0;
}

/*
 * progress_callback
 *		Abort the transfer when a cancel or terminate is pending.  libcurl
 *		calls this at least about once a second, also while waiting.
 */
static int
progress_callback(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
				  curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * wait_ms
 *		Sleep on the latch, ending early with an ERROR on cancel; the wait
 *		event says why (compat.h).
 */
static void
wait_ms(long ms, TempoWaitEvent why)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, tempo_wait_event(why));
		ResetLatch(MyLatch);
	}
}

/*
 * wait_for_curl
 *		Sleep until a socket libcurl waits on is ready, libcurl's next
 *		timeout is due, the latch is set (a cancel, statement_timeout, a
 *		terminate) or the postmaster dies; then raise a pending interrupt.
 *		Nothing here ereports while the set exists but out of memory.
 */
static void
wait_for_curl(CURLM *multi)
{
	fd_set		rd;
	fd_set		wr;
	fd_set		ex;
	int			maxfd = -1;
	long		timeout = -1;
	int			nsock = 0;
	WaitEventSet *set;
	WaitEvent	ev;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	(void) curl_multi_fdset(multi, &rd, &wr, &ex, &maxfd);
	(void) curl_multi_timeout(multi, &timeout);
	for (int fd = 0; fd <= maxfd; fd++)
		if (FD_ISSET(fd, &rd) || FD_ISSET(fd, &wr))
			nsock++;
	/* no socket to watch (a name being resolved): look again soon */
	if (nsock == 0 && (timeout < 0 || timeout > 100))
		timeout = 100;
	else if (timeout < 0 || timeout > 1000)
		timeout = 1000;

	set = TEMPO_CREATE_WAIT_EVENT_SET(nsock + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int fd = 0; fd <= maxfd; fd++)
	{
		int			events = (FD_ISSET(fd, &rd) ? WL_SOCKET_READABLE : 0) |
			(FD_ISSET(fd, &wr) ? WL_SOCKET_WRITEABLE : 0);

		if (events != 0)
			AddWaitEventToSet(set, events, fd, NULL, NULL);
	}
	(void) WaitEventSetWait(set, timeout, &ev, 1, tempo_wait_event(TEMPO_WAIT_HTTP));
	FreeWaitEventSet(set);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/* Drive multi until the transfer of h is done; its result. */
static CURLcode
drive_single(CURLM *multi, CURL *h)
{
	for (;;)
	{
		int			running;
		int			left;
		CURLMsg    *msg;

		(void) curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
				return msg->data.result;
		wait_for_curl(multi);
	}
}

/*
 * perform_single
 *		Run one transfer on the connection's easy handle to its end, on
 *		the multi handle kept for it; an interrupt raises, and the handle
 *		is taken off the multi handle on every path.
 */
static CURLcode
perform_single(TempoConn *conn, CURL *h)
{
	volatile CURLcode result = CURLE_OK;

	if (conn->single == NULL && (conn->single = curl_multi_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl multi handle")));
	if (curl_multi_add_handle(conn->single, h) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start an HTTP request")));
	PG_TRY();
	{
		result = drive_single(conn->single, h);
	}
	PG_FINALLY();
	{
		curl_multi_remove_handle(conn->single, h);
	}
	PG_END_TRY();
	return result;
}

/*
 * rate_wait
 *		Wait for this request's slot of its budget (src/ratelimit.c); a
 *		cancel ends the wait and gives the slot back.
 */
static void
rate_wait(const TempoFdwOptions *opts, const TempoHttpRequest *req,
		  TempoScanStats *stats)
{
	stats->budget_wait_us += tempo_rate_acquire(tempo_rate_key(req->url, req->auth_header),
												opts->max_requests_per_second);
}

/*
 * build_headers
 *		The request's header list (malloc'd by libcurl), or NULL when out of
 *		memory.
 */
static struct curl_slist *
build_headers(const TempoHttpRequest *req)
{
	struct curl_slist *headers = curl_slist_append(NULL, req->auth_header);
	struct curl_slist *more;

	if (headers == NULL)
		return NULL;
	more = curl_slist_append(headers, "Accept: application/json");
	if (more && req->body)
		more = curl_slist_append(headers, "Content-Type: application/json");
	if (more == NULL)
	{
		tempo_free_headers(headers);
		return NULL;
	}
	return headers;
}

/*
 * init_body
 *		An empty body buffer for req: the buffer it brings, or none yet (the
 *		first bytes allocate size_hint at least), in req's body context.
 */
static void
init_body(BodyBuffer *buf, const TempoFdwOptions *opts, const TempoHttpRequest *req)
{
	memset(buf, 0, sizeof(*buf));
	buf->cxt = req->body_cxt ? req->body_cxt : CurrentMemoryContext;
	buf->max = (size_t) opts->max_response_bytes;
	buf->hint = req->size_hint;
	if (req->buffer != NULL && req->buffer_size > 0)
	{
		buf->data = req->buffer;
		buf->cap = req->buffer_size;
		buf->data[0] = '\0';
	}
}

/*
 * setup_handle
 *		Set every option of a request on an easy handle (after a reset, so
 *		nothing of an earlier request lingers).
 */
static void
setup_handle(CURL *h, const TempoFdwOptions *opts, const TempoHttpRequest *req,
			 struct curl_slist *headers, BodyBuffer *buf, char *errbuf)
{
	buf->len = 0;
	buf->too_big = buf->no_memory = buf->bad_encoding = false;
	errbuf[0] = '\0';

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tempo_fdw/" TEMPO_FDW_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_callback);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, buf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	TEMPO_CURL_SET_PROTOCOLS(h);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);

	/*
	 * "" means no proxy: never the proxy variables of the server's
	 * environment
	 */
	curl_easy_setopt(h, CURLOPT_PROXY, opts->proxy ? opts->proxy : "");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long) opts->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) opts->timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) opts->max_response_bytes);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts->ssl_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts->ssl_verify ? 2L : 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_callback);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (req->body)
	{
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) strlen(req->body));
	}
}

/*
 * finish_response
 *		Turn a finished transfer into resp: raise PostgreSQL's own error on
 *		a cancel and on out-of-memory, classify everything else.
 */
static void
finish_response(CURL *h, CURLcode rc, BodyBuffer *buf, const TempoHttpRequest *req,
				const char *proxy, TempoHttpResponse *resp, TempoScanStats *stats)
{
	curl_off_t	total_us;

	if (rc == CURLE_ABORTED_BY_CALLBACK && !buf->too_big && !buf->no_memory &&
		!buf->bad_encoding)
	{
		/* our progress callback saw a cancel: let PostgreSQL say so */
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}
	if (buf->no_memory)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while receiving %s %s",
						req->service, req->what)));

	resp->status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (buf->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		resp->outcome = TEMPO_HTTP_TOO_BIG;
	else if (buf->bad_encoding || rc == CURLE_BAD_CONTENT_ENCODING)
		resp->outcome = TEMPO_HTTP_ENCODING;
	else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
			 rc == CURLE_COULDNT_RESOLVE_PROXY)
		resp->outcome = TEMPO_HTTP_CONNECT;
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		resp->outcome = TEMPO_HTTP_TIMEOUT;
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
			 rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
			 rc == CURLE_SSL_ENGINE_NOTFOUND || rc == CURLE_SSL_CIPHER)
		resp->outcome = TEMPO_HTTP_TLS;
	else if (rc != CURLE_OK)
		resp->outcome = TEMPO_HTTP_TRANSFER;
	else if (resp->status < 200 || resp->status > 299)
		resp->outcome = TEMPO_HTTP_STATUS;
	else
		resp->outcome = TEMPO_HTTP_OK;
	if (resp->error[0] == '\0' && rc != CURLE_OK)
		strlcpy(resp->error, curl_easy_strerror(rc), sizeof(resp->error));
	tempo_hide_hosts(resp->error, sizeof(resp->error), req->url, proxy);

	resp->body = buf->data ? buf->data : MemoryContextAllocZero(buf->cxt, 1);
	resp->len = buf->len;
	resp->cap = buf->data ? buf->cap : 1;
	stats->bytes += buf->len;
	if (resp->status == 429)
		stats->throttled++;
	if (curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
		stats->http_us += (int64) total_us;
	tempo_activity_counters(stats);
}

/* Did the answer say when to come back (Retry-After)? */
static bool
retry_after_given(CURL *h)
{
	curl_off_t	retry_after = -1;

	curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
	return retry_after > 0;
}

/*
 * retry_wait
 *		Milliseconds to wait before the next attempt: as Retry-After asks,
 *		else an exponential backoff with jitter; capped.
 */
static long
retry_wait(CURL *h, int attempt)
{
	curl_off_t	retry_after = -1;
	long		wait;

	curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after);
	if (retry_after > 0)
		return (long) Min(retry_after * 1000, (curl_off_t) TEMPO_MAX_RETRY_WAIT_MS);
	wait = 500L << Min(attempt, 6);
	wait += (long) (wait * 0.5 * pg_prng_double(&pg_global_prng_state));
	return Min(wait, TEMPO_MAX_RETRY_WAIT_MS);
}

/*
 * perform_with_retries
 *		The attempts of tempo_http_perform, with headers built.
 */
static void
perform_with_retries(TempoConn *conn, const TempoFdwOptions *opts,
					 const TempoHttpRequest *req, struct curl_slist *headers,
					 TempoHttpResponse *resp, TempoScanStats *stats)
{
	CURL	   *h = conn->curl;
	BodyBuffer	buf;

	init_body(&buf, opts, req);

	for (int attempt = req->sent_before;; attempt++)
	{
		CURLcode	rc;
		long		wait;
		TimestampTz t0;

		CHECK_FOR_INTERRUPTS();
		rate_wait(opts, req, stats);
		memset(resp, 0, sizeof(*resp));
		setup_handle(h, opts, req, headers, &buf, resp->error);

		rc = perform_single(conn, h);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);	/* zeroed and freed next */
		stats->requests++;
		requests_made++;
		finish_response(h, rc, &buf, req, opts->proxy, resp, stats);
		resp->sent = attempt + 1;

		if (resp->status == 429 && retry_after_given(h))
		{
			/*
			 * every backend using this token pauses until then, retried or
			 * not
			 */
			tempo_rate_block(tempo_rate_key(req->url, req->auth_header),
							 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														 retry_wait(h, attempt)));
		}
		if (!tempo_failure_retried(resp) || attempt >= opts->max_retries)
			return;
		wait = retry_wait(h, attempt);
		stats->retries++;
		if (buf.data)
		{
			pfree(buf.data);
			buf.data = NULL;
			buf.cap = 0;
		}
		t0 = GetCurrentTimestamp();
		tempo_activity_state(TEMPO_ACT_RETRY_WAIT);
		wait_ms(wait, TEMPO_WAIT_RETRY);
		stats->retry_wait_us += (int64) (GetCurrentTimestamp() - t0);
		tempo_activity_counters(stats);
	}
}

/*
 * tempo_http_perform
 *		Send one request, retrying transient faults up to max_retries times
 *		with exponential backoff and jitter, or as long as Retry-After asks
 *		(capped).  The body is allocated in CurrentMemoryContext.  Failures
 *		are returned in resp->outcome, not raised: the caller decides between
 *		tempo_failure_report and a fallback.  Only a cancel raises here.  The
 *		header list (with the token) is freed on every path.
 */
void
tempo_http_perform(TempoConn *conn, const TempoFdwOptions *opts,
				   const TempoHttpRequest *req, TempoHttpResponse *resp,
				   TempoScanStats *stats)
{
	struct curl_slist *headers;

	if (conn->curl == NULL && (conn->curl = curl_easy_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	headers = build_headers(req);
	if (headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory while building an HTTP request")));
	PG_TRY();
	{
		perform_with_retries(conn, opts, req, headers, resp, stats);
	}
	PG_FINALLY();
	{
		/*
		 * The easy handle goes with its request: libcurl 8 keeps the request
		 * it sent (credential included) in buffers it reuses rather than
		 * frees.  Connections stay in the multi handle's cache.
		 */
		curl_easy_cleanup(conn->curl);
		conn->curl = NULL;
		tempo_free_headers(headers);
	}
	PG_END_TRY();
}

/*
 * Concurrent requests.
 *
 * tempo_http_start adds a request to the connection's multi handle and
 * returns at once; tempo_http_finish drives all running transfers until that
 * one is done.  There are no retries here: a failed transfer is returned as
 * it is, and the caller sends that request again with tempo_http_perform,
 * which retries and reports.  The state libcurl needs (handles, header
 * lists) lives in the connection (malloc'd), the bodies in the caller's
 * memory context; if an ERROR leaves transfers running, the next use of the
 * connection removes them (reset_slots, connection.c) before anything runs.
 */
struct TempoTransfer
{
	TempoConn  *conn;
	int			slot;			/* index into conn->slots */
	TempoHttpRequest req;		/* what was asked, for messages */
	BodyBuffer	buf;			/* the body, in the caller's context */
	char		error[CURL_ERROR_SIZE]; /* libcurl's error text */
	char	   *proxy;			/* the proxy setting, whose host is hidden */
};

/*
 * tempo_http_start
 *		Start a request without waiting for it; NULL when the connection
 *		runs TEMPO_MAX_SLOTS transfers already (many scans of one query read
 *		ahead at once): nothing was sent, and the caller sends the request
 *		with tempo_http_perform when it needs the answer.
 */
TempoTransfer *
tempo_http_start(TempoConn *conn, const TempoFdwOptions *opts,
				 const TempoHttpRequest *req, TempoScanStats *stats)
{
	TempoTransfer *t;
	TempoSlot  *slot = NULL;
	int			i;

	if (conn->multi == NULL && (conn->multi = curl_multi_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl multi handle")));
	for (i = 0; i < TEMPO_MAX_SLOTS; i++)
		if (!conn->slots[i].busy)
		{
			slot = &conn->slots[i];
			break;
		}
	if (slot == NULL)
		return NULL;			/* every slot busy: the caller asks later */
	if (slot->easy == NULL && (slot->easy = curl_easy_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));

	rate_wait(opts, req, stats);

	t = palloc0(sizeof(TempoTransfer));
	t->conn = conn;
	t->slot = i;
	t->req = *req;
	t->req.url = pstrdup(req->url);
	t->req.what = pstrdup(req->what);
	t->proxy = opts->proxy ? pstrdup(opts->proxy) : NULL;
	init_body(&t->buf, opts, req);

	slot->headers = build_headers(req);
	if (slot->headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory while building an HTTP request")));
	setup_handle(slot->easy, opts, &t->req, slot->headers, &t->buf, t->error);
	curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
	slot->busy = true;
	slot->done = false;
	slot->owner = t;
	if (curl_multi_add_handle(conn->multi, slot->easy) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start an HTTP request")));
	stats->requests++;
	requests_made++;
	return t;
}

/*
 * tempo_http_pump
 *		Let running transfers progress without waiting: send what is ready,
 *		read what has arrived.  Called after starting requests so that they
 *		go out at once rather than at the next wait.
 */
void
tempo_http_pump(TempoConn *conn)
{
	int			running;
	CURLMsg    *msg;
	int			left;

	if (conn->multi == NULL)
		return;
	(void) curl_multi_perform(conn->multi, &running);
	while ((msg = curl_multi_info_read(conn->multi, &left)) != NULL)
	{
		TempoSlot  *s = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &s);
		if (s)
		{
			s->done = true;
			s->result = msg->data.result;
		}
	}
}

/*
 * tempo_http_finish
 *		Wait for a started request (driving every running transfer) and
 *		return its outcome in resp; the body is in the context that was
 *		current at tempo_http_start.
 */
void
tempo_http_finish(TempoTransfer *t, TempoHttpResponse *resp, TempoScanStats *stats)
{
	TempoConn  *conn = t->conn;
	TempoSlot  *slot = &conn->slots[t->slot];

	if (slot->owner != t)
	{
		/* dropped by an abort in between: the caller asks again */
		memset(resp, 0, sizeof(*resp));
		resp->outcome = TEMPO_HTTP_TRANSFER;
		strlcpy(resp->error, "the transfer was dropped", sizeof(resp->error));
		return;
	}
	for (;;)
	{
		tempo_http_pump(conn);
		if (slot->done)
			break;
		wait_for_curl(conn->multi);
	}

	memset(resp, 0, sizeof(*resp));
	strlcpy(resp->error, t->error, sizeof(resp->error));
	curl_multi_remove_handle(conn->multi, slot->easy);
	slot->busy = false;
	PG_TRY();
	{
		finish_response(slot->easy, slot->result, &t->buf, &t->req, t->proxy, resp, stats);
		resp->sent = 1;
	}
	PG_FINALLY();
	{
		tempo_release_slot(conn, slot);
	}
	PG_END_TRY();
}

/*
 * tempo_http_abandon
 *		Stop a started request that is no longer wanted.
 */
void
tempo_http_abandon(TempoTransfer *t)
{
	TempoSlot  *slot;

	if (t == NULL)
		return;
	slot = &t->conn->slots[t->slot];
	if (slot->owner == t)
	{
		tempo_release_slot(t->conn, slot);
		/* the body it had so far (in a context that may outlive t) */
		if (t->buf.data)
			pfree(t->buf.data);
		t->buf.data = NULL;
	}
}

/*
 * tempo_http_requests_made
 *		HTTP requests this backend has sent so far, retries included.
 */
int64
tempo_http_requests_made(void)
{
	return requests_made;
}
