"""tempo_sim - loopback HTTP simulator of Tempo Cloud REST v4 and Jira Cloud worklogs.

The test server for tempo_fdw.  Python 3.11 standard library only; deterministic for a
given --seed; binds to 127.0.0.1 only.  Response shapes follow the Tempo OpenAPI 4.0
document (https://apidocs.tempo.io) and the Jira Cloud platform OpenAPI
(https://developer.atlassian.com/cloud/jira/platform/rest/v3/).

Run
---
    python3 test/tempo_sim [--host 127.0.0.1] [--port 0] [--port-file PATH]
        [--tempo-token tempo-test-token] [--jira-email bot@example.com]
        [--jira-token jira-test-token] [--seed 42] [--cache-mb 1024]
        [--tls-port-file PATH --tls-cert CERT.pem --tls-key KEY.pem [--tls-port 0]]

With --port 0 a free port is chosen.  Once listening, the port (digits + newline) is written
to --port-file (atomically) and "tempo_sim listening on http://127.0.0.1:PORT" is printed.
SIGTERM/SIGINT exit cleanly with status 0.  (From test/, python3 -m tempo_sim is the same.)

Modules, each one section of the server, in the order they build on each other: config
(constants, Config, SimError), timeutil, directory (people, issues, schemes), texts
(descriptions, ADF), snapshots (Tempo worklogs), datasets, selection (filters, caches),
jira_view, plumbing (scenario, context, responses, request log), tempo_api, tempo_dims
(teams, memberships, accounts, work attributes, periods, approvals), jira_api,
routing (authentication, faults), control (/_reset, /_log, ...), server (HTTP, main).

With --tls-cert and --tls-key a second listener serves the same endpoints over HTTPS (TLS
handshake in the request's thread, on 127.0.0.1, port --tls-port, default 0 = free), its
port written to --tls-port-file like --port-file.  Envelope links generated for a request
that came in over TLS start with https://.  Used by sql/tls.sql with a throwaway
self-signed certificate to prove that TLS peers are verified.

Scenario prefix (stateless, per URL)
------------------------------------
Any request path may start with ONE segment "/@k=v,k=v,..." that configures this request:

    http://127.0.0.1:PORT/@tag=scan1,ds=gen,n=20000,fault=503,fault_at=2/4/worklogs?limit=5000

The server strips the segment before routing.  Every URL it generates (Tempo metadata.self/
next/previous, papertrail nextPageUrl, Jira self/nextPage) is absolute, built from the
request's Host header, and keeps the same prefix, so a client that follows `next` verbatim
stays in the scenario.  Values are percent-decoded after splitting on "," and "=", so write a
comma inside a value as %2C (e.g. an HTTP-date retry_after).  Unknown keys or bad values
answer 400 with a text/plain body starting "tempo_sim:".

  tag=NAME        request-log group (default "default")
  ds=NAME         dataset: company (default) | gen | tiny | fixture:NAME | raw:NAME
  n=COUNT         size of the gen dataset (default 1000)
  fault=KIND      400 401 403 404 429 500 502 503 504 - answer that status (401/403 Tempo:
                  text/html; others Tempo {"errors":{"message":..}}; Jira paths get Jira
                  bodies: 401 {"message":..,"status-code":401}, others
                  {"errorMessages":[..],"errors":{}})
                  reset       read the request, then close with TCP RST (SO_LINGER 0), no reply
                  truncate    normal headers (Content-Length of the full body), half the body,
                              then close
                  slow        normal headers, then the body 1 byte / 200 ms until slow_ms has
                              passed, then the rest (a slow but complete answer)
                  hang        read the request, send nothing for slow_ms, then close (FIN)
                  badjson     200, body {"metadata": {"count": 1,
                  wrongshape  200, valid JSON of the wrong shape ({"metadata":{"count":0}} for
                              Tempo, {"foo":1} for Jira)
                  html        200 text/html <html>oops</html>
                  nextloop    paging link points back at the current page (Tempo metadata.next
                              = this URL, papertrail token/url = this page, Jira nextPage = this
                              URL with lastPage false); present even on the last page
                  foreignnext the paging link points to http://evil.example.com/...
                  countmismatch Tempo metadata.count = len(results)+1; Jira issue-worklog
                              total = real total+1
                  huge        200 with a valid 64 MiB JSON body of padded worklogs, streamed
                              (gzip-compressed, i.e. a "zip bomb", when the client accepts gzip)
                  echoauth    500 text/plain whose body repeats the request's Authorization
                              header (a server that leaks credentials into error bodies),
                              after pad bytes of "x" (pad=N, default 0)
                  crlfnext    Tempo metadata.next is the real next link followed by
                              "&x=<CR><LF>... LOG:  forged line" (a link that would forge a
                              line in the server log)
                  redirect    302 with Location: http://evil.example.com/<path>
                  bomb        200, Content-Encoding gzip whatever the client asked: a page
                              {"metadata":..,"results":[0,0,...]} of bomb_mb MiB inflated
                              (default 128), about 130 KB on the wire (a "gzip bomb" whose
                              parse tree is 32 times its inflated size)
                  deflate     200, a valid empty page with Content-Encoding deflate (an
                              encoding the client did not ask for)
                  Faults that replace the answer (status codes, reset, hang, badjson,
                  wrongshape, html, huge) win over authentication; truncate, slow and the
                  paging faults apply to the answer the request would otherwise get.
  fault_at=N|last apply only to page N (0-based) or the last page.  Page index: Tempo
                  offset//limit (papertrail: position of the token); Jira worklog/updated and
                  /deleted: (entries with updatedTime <= since)//page size; Jira issue
                  worklogs: startAt//maxResults.  Endpoints without paging use the ordinal of
                  this request among requests with the same tag, method and path (so
                  fault_at=1 on POST /rest/api/3/worklog/list hits the second batch), and
                  count as "last" every time.
  fault_times=K   apply only to the first K matching requests (counted per (tag, fault);
                  cleared by /_reset)
  fault_skip=K    let the first K matching requests through (counted per (tag, fault), before
                  fault_times; cleared by /_reset): fault_skip=1 fails the second read
  retry_after=V   add "Retry-After: V" to a fault response (verbatim)
  src=tempo|jira|both  which side the fault applies to (tempo = /4/..., jira = /rest/...)
  fault_on=NAME   apply only to requests whose path starts with /4/NAME or /rest/api/3/NAME (e.g. user-schedule:
                  a token without "View schemes", 403 on every schedule and nothing else)
  workload=N      /4/user-schedule answers as if every person with a schedule had workload
                  scheme N (1 full-time, 2 part-time 50%, 3 four-day week): Tempo's schedules
                  changed, e.g. by an admin (holidays stay each person's)
  delay_ms=N      sleep N ms before answering
  slow_ms=N       duration of slow/hang (default 30000)
  bomb_mb=N       inflated size of the bomb fault in MiB (default 128)
  pad=N           bytes of padding before the echo of echoauth (default 0)
  jira_page=N     page size of Jira worklog/updated and /deleted (default 1000)
  jira_ties=K     worklog/updated: runs of K consecutive worklogs share one updatedTime (the
                  first's), as after a bulk import (default 1: every time unique)
  jira_since=after|from  worklog/updated and /deleted read `since` as "after which" (the
                  OpenAPI's words, default) or as "from which" (inclusive)
  map_limit=N     POST /4/worklogs/tempo-to-jira and jira-to-tempo answer at most N pairs a page
                  whatever `limit` asks (metadata.limit says N; `next` continues at offset+N)
  jira_deny=users|projects|issues  the Jira account lacks a permission, as Jira answers it:
                  users: GET users/search answers 403 (no "Browse users and groups"; user/bulk,
                  which needs only "Access Jira", still answers); projects: project/search
                  answers an empty page; issues: search/jql and issue/bulkfetch find no issue.
                  Each alone (Jira, without "Browse projects", would empty projects and issues
                  together), so that a test can fail one check_connection row at a time

Datasets (generated lazily from --seed, cached per (ds, n))
-----------------------------------------------------------
  company   40 people, 30 issues (ids in 10000..10099) in 3 projects (10100 ACME, 10101 OPS,
            10102 INT), worklogs for every working day of 2024 per person's workload and
            holiday scheme (1-4 a day, a few on weekends), ~25k rows, tempoWorklogId from 1000
            in Tempo's default order (startDate, startTime, id).  Person 0 owns the Tempo
            token; person 39 ("Quinn Contractor") has no workload/holiday scheme: their
            /4/user-schedule is 200 with an empty results list and their scheme lookups 404.
            Person 38 is an inactive Jira user.  Jira also holds 25 Jira-only worklogs
            (ids 900001..900025) authored by real people.
  gen       n worklogs (default 1000), 200 per calendar day from 2020-01-01, same shape and
            people; for paging tests and benchmarks.  Pages are rendered from compact
            columns and cached as bytes (byte-bounded LRU, --cache-mb).  Read-only.
  tiny      test/fixtures/tiny.json (5 hand-written worklogs).
  fixture:NAME  test/fixtures/NAME.json, a JSON array served through normal paging IN FILE
            ORDER (any JSON value is served as a row; re-serialised with ensure_ascii, so
            \u0000 and lone surrogates stay escapes).  Loaded once; /_reset?ds=fixture:NAME
            reloads it.  A missing or invalid file answers 500 "tempo_sim: ...".
  raw:NAME  test/fixtures/NAME.json served byte for byte as the body of every Tempo worklog
            list answer (no paging); other endpoints see an empty dataset.
Row content never depends on the port: worklog `self` links point at https://api.tempo.io
and https://acme.atlassian.net, only envelope links point at the simulator.

Jira side: every Tempo worklog has a twin with id tempoWorklogId + 500000, authored (and
updated) by the Tempo app user (accountId 557058:tempo-app-user, accountType app).  Jira
timestamps are rendered in Europe/Berlin (+0100 / +0200 CEST); a worklog without startTime
starts 09:00 local in Jira.  Jira updatedTime values are unique (collisions bumped by 1 ms).
/rest/api/2/... serves the same data with `comment` as a plain (wiki) string.

Endpoints
---------
Tempo (Authorization: Bearer <tempo-token>, else 401 text/html):
  GET  /4/worklogs  /4/worklogs/user/{accountId}  /4/worklogs/issue/{id}
       /4/worklogs/project/{id}  /4/worklogs/{id}
  POST /4/worklogs/search  /4/worklogs/tempo-to-jira  /4/worklogs/jira-to-tempo
  GET  /4/user-schedule[/{accountId}]  /4/workload-schemes/users/{accountId}
       /4/holiday-schemes/users/{accountId}
  GET  /4/teams  /4/team-memberships/team/{id}  /4/accounts  /4/work-attributes
       /4/periods?from&to  /4/timesheet-approvals/team/{id}?from[&to]
       /4/timesheet-approvals/waiting
  POST /4/team-memberships/search  /4/accounts/search   (tempo_dims.py documents them and
       their data, which agree with every dataset's people and _Account_ values)
  POST /4/papertrail/search   (events from /_mutate; `author`/`worker` are accountId
       strings as in the OpenAPI AuditLogEvent schema; errors use the ErrorBean array form
       {"errors":[{"message":..}]})
Jira (Authorization: Basic base64(email:token), else 401 JSON), under /rest/api/3 and /2:
  GET  worklog/updated?since  worklog/deleted?since  issue/{idOrKey}/worklog
       issue/{idOrKey}/worklog/{id}  myself  user?accountId
  POST worklog/list
  GET  users/search  user/bulk?accountId  project/search   (the dimension tables,
       tempo_sim/jira_dims.py: every worklog author is a user, the Tempo app user too)
  GET|POST search/jql   (/3 only: a JQL subset of id, key, project with = or in,
       updated >=, AND, ORDER BY; nextPageToken paging; unbounded JQL is a 400; every
       issue a worklog names is an issue: 3 projects, the lowest issue of each its epic)
  POST issue/bulkfetch   (/3 only: up to 100 ids or keys; missing ones left out)
  Jira's "last minute is not returned" lag of worklog/updated and /deleted is NOT simulated.
  issue/{id}/worklog: startedAfter is inclusive, startedBefore exclusive; ordered by created.

Control (no auth, never logged, never faulted):
  GET  /_health                      -> ok
  GET  /_log?tag=T[&format=tsv]      -> JSON array of log entries (tsv: seq method path query
                                        status auth_kind, auth_kind bearer|basic|other|none)
  GET  /_reset[?tag=T][&ds=NAME]     -> ok.  tag: clear that tag's log, fault counters and
                                        ordinals; ds: restore that dataset; neither: clear all
                                        logs/counters and restore every mutated dataset
  GET  /_stats?ds=&n=&from=&to=&author=&issue=   (author/issue repeatable) -> oracle JSON
  GET  /_data?ds=&n=&kind=tempo|jira|schedule|users[&from=&to=][&workload=N]
  GET  /_dims?kind=teams|memberships|accounts|work_attributes|periods|approvals
       [&from=&to=][&team=ID][&ds=]  -> the objects the dimension endpoints serve
  GET  /_jira?ds=&n=&what=users|projects|issues   -> the Jira dimension rows, from the
       directory (not through the API's paging)
  POST /_mutate?ds=NAME  {"upsert":[worklog..], "delete":[tempoWorklogId..], "actor":acc?}
       -> {"upserted":[id..], "deleted":[id..], "missing":[id..], "count":N}.  An upsert of a
       known tempoWorklogId merges its top-level fields; a new one needs issue, author,
       startDate and timeSpentSeconds (self, attributes, createdAt are filled in).  updatedAt
       becomes now (UTC, seconds) unless given.  Every change adds a papertrail event
       (Created/Updated/Deleted, author = actor or person 0) and moves the Jira twin (new
       updatedTime, or an entry in worklog/deleted).  company, tiny and fixture:* only.
Log entries record the path WITHOUT the prefix and exactly as sent (still percent-encoded).
Requests rejected for a bad scenario segment are not logged (their tag is unknown).
"""
