#!/usr/bin/env python3
"""tempo_sim.py - loopback HTTP simulator of Tempo Cloud REST v4 and Jira Cloud worklogs.

The test server for tempo_fdw.  Python 3.11 standard library only; deterministic for a
given --seed; binds to 127.0.0.1 only.  Response shapes follow the Tempo OpenAPI 4.0
document and the Jira Cloud platform OpenAPI (see /work/shared/docs/api-reference.md).

Run
---
    python3 test/tempo_sim.py [--host 127.0.0.1] [--port 0] [--port-file PATH]
        [--tempo-token tempo-test-token] [--jira-email bot@example.com]
        [--jira-token jira-test-token] [--seed 42] [--cache-mb 1024]
        [--tls-port-file PATH --tls-cert CERT.pem --tls-key KEY.pem [--tls-port 0]]

With --port 0 a free port is chosen.  Once listening, the port (digits + newline) is written
to --port-file (atomically) and "tempo_sim listening on http://127.0.0.1:PORT" is printed.
SIGTERM/SIGINT exit cleanly with status 0.

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
  fault_on=NAME   apply only to requests whose path starts with /4/NAME (e.g. user-schedule:
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
            \\u0000 and lone surrogates stay escapes).  Loaded once; /_reset?ds=fixture:NAME
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
  POST /4/papertrail/search   (events from /_mutate; `author`/`worker` are accountId
       strings as in the OpenAPI AuditLogEvent schema; errors use the ErrorBean array form
       {"errors":[{"message":..}]})
Jira (Authorization: Basic base64(email:token), else 401 JSON), under /rest/api/3 and /2:
  GET  worklog/updated?since  worklog/deleted?since  issue/{idOrKey}/worklog
       issue/{idOrKey}/worklog/{id}  myself  user?accountId
  POST worklog/list
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

import argparse
import base64
import binascii
import bisect
import gzip
import io
import ipaddress
import itertools
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import zlib
from array import array
from collections import OrderedDict
from datetime import date, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs, unquote, unquote_plus

# =====================================================================================
# Constants and configuration
# =====================================================================================

TEMPO_SITE = "https://api.tempo.io"
JIRA_SITE = "https://acme.atlassian.net"
JIRA_ID_OFFSET = 500000          # Jira twin id = tempoWorklogId + JIRA_ID_OFFSET
JIRA_ONLY_BASE = 900000          # Jira-only worklogs of `company`: 900001, 900002, ...
TEMPO_APP_USER = "557058:tempo-app-user"
BOT_ACCOUNT_ID = "712020:0b0b0b0b-0000-4000-8000-00000000b07"
DEFAULT_LIMIT, MAX_LIMIT = 50, 5000
HUGE_BYTES = 64 * 1024 * 1024
FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CT_TEMPO = "application/json"
CT_JIRA = "application/json;charset=UTF-8"

jdump = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


class Config:
    tempo_token = "tempo-test-token"
    jira_email = "bot@example.com"
    jira_token = "jira-test-token"
    seed = 42
    port = 0
    cache_bytes = 1024 * 1024 * 1024


CFG = Config()
STOP = threading.Event()         # set at shutdown; slow/hang waits end early
_UIDS = itertools.count(1)       # snapshot ids (cache keys)

# =====================================================================================
# Time helpers (UTC instants as epoch seconds/ms; Europe/Berlin local time)
# =====================================================================================

EPOCH_ORD = date(1970, 1, 1).toordinal()
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                        r"(Z|[+-]\d{2}:?\d{2})?)?$")


@lru_cache(maxsize=None)
def day_str(ordinal):
    return date.fromordinal(ordinal).isoformat()


@lru_cache(maxsize=None)
def _cest_window(year):
    """UTC seconds [start, end) of CEST: last Sunday of March/October, 01:00 UTC."""
    def last_sunday(month):
        d = date(year, month + 1, 1) - timedelta(days=1)
        return d - timedelta(days=(d.weekday() - 6) % 7)
    return ((last_sunday(3).toordinal() - EPOCH_ORD) * 86400 + 3600,
            (last_sunday(10).toordinal() - EPOCH_ORD) * 86400 + 3600)


@lru_cache(maxsize=None)
def _year_of_day(epoch_day):
    return date.fromordinal(EPOCH_ORD + epoch_day).year


def berlin_offset(utc_s):
    start, end = _cest_window(_year_of_day(utc_s // 86400))
    return 7200 if start <= utc_s < end else 3600


def local_to_utc(local_s):
    """Berlin wall-clock seconds (as if UTC) -> (UTC seconds, offset seconds)."""
    off = 7200 if berlin_offset(local_s - 7200) == 7200 else 3600
    return local_s - off, off


@lru_cache(maxsize=None)
def day_offset(ordinal):
    """Berlin UTC offset at local noon of a day (work hours never straddle a DST switch)."""
    return local_to_utc((ordinal - EPOCH_ORD) * 86400 + 43200)[1]


HMS = [  # "HH:MM:SS" of every second of a day
    "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]


def utc_iso(ms, with_ms):
    s, frac = divmod(ms, 1000)
    d, rem = divmod(s, 86400)
    if with_ms:
        return "%sT%s.%03dZ" % (day_str(EPOCH_ORD + d), HMS[rem], frac)
    return "%sT%sZ" % (day_str(EPOCH_ORD + d), HMS[rem])


def jira_ts(ms):
    """Jira timestamp in Berlin time: 2024-03-11T09:30:00.000+0100."""
    off = berlin_offset(ms // 1000)
    s, frac = divmod(ms + off * 1000, 1000)
    d, rem = divmod(s, 86400)
    return "%sT%s.%03d%s" % (day_str(EPOCH_ORD + d), HMS[rem], frac,
                             "+0200" if off == 7200 else "+0100")


def parse_day(s):
    """'YYYY-MM-DD' -> date ordinal, or None."""
    if not isinstance(s, str) or not DATE_RE.match(s):
        return None
    try:
        return date.fromisoformat(s).toordinal()
    except ValueError:
        return None


def parse_instant(s):
    """'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm]' -> epoch ms (UTC), or None."""
    m = INSTANT_RE.match(s) if isinstance(s, str) else None
    if not m:
        return None
    day = parse_day(m.group(1))
    if day is None:
        return None
    if m.group(2) is None:
        return (day - EPOCH_ORD) * 86400000
    h, mi, sec = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if h > 23 or mi > 59 or sec > 59:
        return None
    ms = ((day - EPOCH_ORD) * 86400 + h * 3600 + mi * 60 + sec) * 1000
    ms += int((m.group(5) or "0")[:3].ljust(3, "0"))
    tz = m.group(6)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1000
    return ms


def parse_tod(s):
    """'HH:MM:SS' -> seconds, or None."""
    if isinstance(s, str) and re.match(r"^\d{2}:\d{2}:\d{2}$", s):
        h, m, sec = int(s[:2]), int(s[3:5]), int(s[6:])
        if h < 24 and m < 60 and sec < 60:
            return h * 3600 + m * 60 + sec
    return None


def now_ms():
    return int(time.time() * 1000)


def jira_duration(sec):
    """Jira's timeSpent text with 8h days and 5d weeks: 5400 -> '1h 30m'."""
    minutes = max(0, sec) // 60
    weeks, minutes = divmod(minutes, 5 * 8 * 60)
    days, minutes = divmod(minutes, 8 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = ["%d%s" % (v, u) for v, u in ((weeks, "w"), (days, "d"), (hours, "h"), (minutes, "m")) if v]
    return " ".join(parts) or "0m"


# =====================================================================================
# Directory: people, projects/issues, workload and holiday schemes
# =====================================================================================

PROJECTS = [(10100, "ACME", 10000, 10033), (10101, "OPS", 10034, 10066), (10102, "INT", 10067, 10099)]


def project_of(issue_id):
    for pid, _key, lo, hi in PROJECTS:
        if lo <= issue_id <= hi:
            return pid
    return PROJECTS[issue_id % 3][0]


def issue_id_from_key(key):
    """'ACME-5' -> 10004; None if the key is unknown."""
    m = re.match(r"^([A-Z]+)-(\d+)$", key)
    if not m:
        return None
    for _pid, pkey, lo, hi in PROJECTS:
        if pkey == m.group(1):
            num = int(m.group(2))
            return lo + num - 1 if lo + num - 1 <= hi else num
    return None


class WorkloadScheme(NamedTuple):
    id: int
    name: str
    description: str
    default: bool
    days: tuple            # requiredSeconds Monday..Sunday

    def to_json(self, members):
        names = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
        return {"id": self.id, "name": self.name, "description": self.description,
                "defaultScheme": self.default, "memberCount": members,
                "self": "%s/4/workload-schemes/%d" % (TEMPO_SITE, self.id),
                "days": [{"day": n, "requiredSeconds": s} for n, s in zip(names, self.days)]}


class HolidayScheme(NamedTuple):
    id: int
    name: str
    description: str
    default: bool
    holidays: tuple        # (id, month, day, name, durationSeconds, description); type FIXED

    def holiday_on(self, d):
        for hid, month, day, name, dur, desc in self.holidays:
            if d.month == month and d.day == day:
                return {"id": hid, "schemeId": self.id, "name": name, "type": "FIXED",
                        "date": d.isoformat(), "durationSeconds": dur, "description": desc,
                        "self": "%s/4/holiday-schemes/%d/holidays/%d" % (TEMPO_SITE, self.id, hid)}
        return None

    def to_json(self, members):
        return {"id": self.id, "name": self.name, "description": self.description,
                "defaultScheme": self.default, "memberCount": members,
                "self": "%s/4/holiday-schemes/%d" % (TEMPO_SITE, self.id)}


WORKLOAD_SCHEMES = {
    1: WorkloadScheme(1, "Full-time 40h", "Monday to Friday, 8 hours", True,
                      (28800, 28800, 28800, 28800, 28800, 0, 0)),
    2: WorkloadScheme(2, "Part-time 50%", "Monday to Friday, 4 hours", False,
                      (14400, 14400, 14400, 14400, 14400, 0, 0)),
    3: WorkloadScheme(3, "Four-day week", "Monday to Thursday, 8 hours", False,
                      (28800, 28800, 28800, 28800, 0, 0, 0)),
}
HOLIDAY_SCHEMES = {
    1: HolidayScheme(1, "Default Holiday Scheme", "Public holidays of the Berlin office", True, (
        (1, 1, 1, "New Year's Day", 28800, "public holiday"),
        (2, 5, 1, "Labour Day", 28800, "public holiday"),
        (3, 6, 8, "Founders' Day", 28800, "company holiday (a Saturday in 2024)"),
        (4, 10, 3, "German Unity Day", 28800, "public holiday"),
        (5, 12, 24, "Christmas Eve", 14400, "half day"),
        (6, 12, 25, "Christmas Day", 28800, "public holiday"),
        (7, 12, 26, "Boxing Day", 28800, "public holiday"),
        (8, 12, 31, "New Year's Eve", 14400, "half day"))),
    2: HolidayScheme(2, "Zurich Office", "Public holidays of the Zurich office", False, (
        (11, 1, 1, "New Year's Day", 28800, "public holiday"),
        (12, 1, 2, "Berchtold's Day", 28800, "public holiday"),
        (13, 8, 1, "Swiss National Day", 28800, "public holiday"),
        (14, 12, 24, "Christmas Eve", 14400, "half day"),
        (15, 12, 25, "Christmas Day", 28800, "public holiday"),
        (16, 12, 26, "St. Stephen's Day", 28800, "public holiday"))),
}

PEOPLE_NAMES = (
    "Dana Weber", "Lukas Schmidt", "Sofia Rossi", "Mateo García", "Emma Johansson",
    "Noah Müller", "Chloé Dubois", "Ahmed Hassan", "Yuki Tanaka", "Olivia Brown",
    "Jonas Becker", "Mia Novak", "Liam O'Connor", "Zoë Ångström", "Ravi Patel",
    "Elena Petrova", "Tomás Núñez", "Hannah Fischer", "Kenji Watanabe", "Aisha Bello",
    "Felix Wagner", "Lea Hoffmann", "Marco Bianchi", "Ingrid Larsen", "Piotr Kowalski",
    "Camille Martin", "Sven Eriksson", "Nora Schulz", "Diego Alvarez", "Fatima Zahra",
    "Jan de Vries", "Clara Meyer", "Oskar Nowak", "Julia Keller", "Mehmet Yılmaz",
    "Anna Kovács", "Leon Wolf", "Sara Lindqvist", "Paul Richter", "Quinn Contractor")
LEGACY_ID_PEOPLE = (4, 17, 29)         # old-style 24-hex accountIds
NO_SCHEDULE_PERSON = 39
INACTIVE_PERSON = 38


class Person:
    """A Jira user known to a dataset, with (optionally) a Tempo schedule."""

    __slots__ = ("idx", "account_id", "name", "email", "active", "workload", "holidays")

    def __init__(self, idx, account_id, name, email, active, workload, holidays):
        self.idx, self.account_id, self.name, self.email = idx, account_id, name, email
        self.active, self.workload, self.holidays = active, workload, holidays

    @classmethod
    def default(cls, account_id):
        """Author found only in fixture data: full-time, default holiday scheme."""
        return cls(-1, account_id, "User %s" % account_id[-6:], None, True,
                   WORKLOAD_SCHEMES[1], HOLIDAY_SCHEMES[1])

    def day_schedule(self, ordinal, workload=None):
        """DaySchedule object for one day; None when the person has no schedule.
        workload: a WorkloadScheme in place of the person's (scenario workload=N)."""
        if self.workload is None:
            return None
        d = date.fromordinal(ordinal)
        base = (workload or self.workload).days[d.weekday()]
        hol = self.holidays.holiday_on(d) if self.holidays else None
        if hol is None:
            return {"date": d.isoformat(), "requiredSeconds": base,
                    "type": "WORKING_DAY" if base else "NON_WORKING_DAY"}
        if base == 0:
            return {"date": d.isoformat(), "requiredSeconds": 0,
                    "type": "HOLIDAY_AND_NON_WORKING_DAY", "holiday": hol}
        return {"date": d.isoformat(), "requiredSeconds": max(0, base - hol["durationSeconds"]),
                "type": "HOLIDAY", "holiday": hol}

    def jira_user(self, ver):
        obj = {"self": "%s/rest/api/%s/user?accountId=%s" % (JIRA_SITE, ver, self.account_id),
               "accountId": self.account_id}
        if self.email:
            obj["emailAddress"] = self.email
        obj["avatarUrls"] = avatar_urls(self.account_id)
        obj["displayName"] = self.name
        obj["active"] = self.active
        obj["timeZone"] = "Europe/Berlin"
        obj["accountType"] = "atlassian"
        return obj


def avatar_urls(account_id):
    base = "https://avatar-management.example.net/initials/%s.png" % account_id[-4:]
    return {s: "%s?size=%s" % (base, s.split("x")[0]) for s in ("48x48", "24x24", "16x16", "32x32")}


def app_user(ver):
    return {"self": "%s/rest/api/%s/user?accountId=%s" % (JIRA_SITE, ver, TEMPO_APP_USER),
            "accountId": TEMPO_APP_USER, "avatarUrls": avatar_urls(TEMPO_APP_USER),
            "displayName": "Timesheets by Tempo - Jira Time Tracking", "active": True,
            "accountType": "app"}


class Directory:
    """People and issues shared by `company` and `gen` (derived from the seed)."""

    def __init__(self, seed):
        rng = random.Random("directory:%d" % seed)
        self.people = []
        for idx, name in enumerate(PEOPLE_NAMES):
            if idx in LEGACY_ID_PEOPLE:
                acc = "%024x" % rng.getrandbits(96)
            else:
                h = "%032x" % rng.getrandbits(128)
                acc = "712020:%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])
            ascii_name = name.encode("ascii", "ignore").decode().lower().replace("'", "")
            email = None if idx % 7 == 5 else "%s@acme.example" % ascii_name.replace(" ", ".")
            if idx == NO_SCHEDULE_PERSON:
                workload = holidays = None
            else:
                workload = WORKLOAD_SCHEMES[2 if idx % 10 == 3 else 3 if idx % 10 == 7 else 1]
                holidays = HOLIDAY_SCHEMES[2 if idx % 4 == 1 else 1]
            self.people.append(Person(idx, acc, name, email, idx != INACTIVE_PERSON,
                                      workload, holidays))
        self.issues = sorted(i for _pid, _k, lo, hi in PROJECTS for i in rng.sample(range(lo, hi + 1), 10))


@lru_cache(maxsize=4)
def directory(seed):
    return Directory(seed)


# =====================================================================================
# Descriptions and comments (plain text for Tempo, ADF for Jira v3, wiki for Jira v2)
# =====================================================================================
# A "doc" is a list of blocks: ("p", [inline...]) | ("ul", [text...]) | ("code", lang, text)
# with inline nodes ("text", s) | ("br",) | ("mention", accountId, displayName).

PHRASES = (
    "Code review of the payment module", "Daily stand-up", "Sprint planning",
    "Fixing flaky integration tests", "Customer call about invoice export",
    "Refactoring the authentication service", "Writing release notes",
    "Investigating production incident", "Pairing on the search feature",
    "Updating dependencies", "Backlog grooming", "Onboarding a new colleague",
    "Performance tuning of report queries", "Documentation for the REST API",
    "Abstimmung mit dem Kunden über Änderungen", "Réunion d'équipe hebdomadaire",
    "日本チームとの打ち合わせ", "Fixed \"null\" handling in the CSV importer",
    "Cleanup of C:\\temp\\exports", "Support ticket triage", "Security review",
    "Load test of the billing API", "Design workshop", "Retro & action items",
    "Migrating CI pipelines", "Database backup verification", "UX feedback session",
    "Tax report – Q2 reconciliation", "Deployment to staging", "Estimating epics 🚀")
JIRA_ONLY_TEXTS = ("Logged directly in Jira", "Quick fix, logged from the issue view",
                   "Hotfix verification", "Meeting notes in Confluence")


def text_doc(text):
    """Plain description -> doc (newlines become hard breaks); None for empty text."""
    inline = []
    for k, line in enumerate(text.split("\n")):
        if k:
            inline.append(("br",))
        if line:
            inline.append(("text", line))
    return [("p", inline)] if inline else None


def doc_plain(doc):
    out = []
    for block in doc:
        if block[0] == "p":
            out.append("".join(n[1] if n[0] == "text" else "\n" if n[0] == "br" else "@" + n[2]
                               for n in block[1]))
        elif block[0] == "ul":
            out.append("\n".join("- " + t for t in block[1]))
        else:
            out.append(block[2])
    return "\n".join(out)


def doc_adf(doc):
    def inline(n):
        if n[0] == "text":
            return {"type": "text", "text": n[1]}
        if n[0] == "br":
            return {"type": "hardBreak"}
        return {"type": "mention", "attrs": {"id": n[1], "text": "@" + n[2], "accessLevel": ""}}
    content = []
    for block in doc:
        if block[0] == "p":
            content.append({"type": "paragraph", "content": [inline(n) for n in block[1]]})
        elif block[0] == "ul":
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": t}]}]}
                for t in block[1]]})
        else:
            content.append({"type": "codeBlock", "attrs": {"language": block[1]},
                            "content": [{"type": "text", "text": block[2]}]})
    return {"type": "doc", "version": 1, "content": content}


def doc_wiki(doc):
    out = []
    for block in doc:
        if block[0] == "p":
            out.append("".join(n[1] if n[0] == "text" else "\n" if n[0] == "br"
                               else "[~accountid:%s]" % n[1] for n in block[1]))
        elif block[0] == "ul":
            out.append("\n".join("* " + t for t in block[1]))
        else:
            out.append("{code:%s}\n%s\n{code}" % (block[1], block[2]))
    return "\n\n".join(out)


def rich_doc(rng, people, author_idx):
    """One of four structured comments (mention, bullet list, hard break, code block)."""
    kind = rng.randrange(4)
    if kind == 0:
        other = people[(author_idx + 1 + rng.randrange(len(people) - 1)) % len(people)]
        return [("p", [("text", "Pairing with "), ("mention", other.account_id, other.name),
                       ("text", rng.choice((" on the payment review", " on flaky tests")))])]
    if kind == 1:
        return [("p", [("text", "Sprint tasks:")]),
                ("ul", rng.sample(["Fix flaky test", "Update changelog", "Deploy to staging",
                                   "Answer support ticket", "Review PR"], 3))]
    if kind == 2:
        return [("p", [("text", "Investigated slow query"), ("br",),
                       ("text", rng.choice(("Root cause: missing index", "Root cause: lock wait")))])]
    return [("p", [("text", "Ran the migration:")]),
            ("code", "sql", "ALTER TABLE worklog ADD COLUMN note text;\nVACUUM ANALYZE worklog;")]


# =====================================================================================
# Tempo worklog snapshots
# =====================================================================================
# A snapshot is an immutable view of a dataset's Tempo worklogs, in served (default) order,
# with parallel columns used for filtering, sorting and statistics:
#   wid tempoWorklogId (-1 unknown)  day startDate ordinal (-1)  tod startTime seconds (-1)
#   crt/upd createdAt/updatedAt epoch ms (0)  auth index into `authors`  issue id (-1)
#   spent timeSpentSeconds (0)  bill billableSeconds (-1 when absent)
# and row_json(i) (compact ASCII JSON text), description(i), find(tid), twin_ok(i).

def tempo_worklog(tid, issue, spent, bill, day, tod, desc, crt_ms, upd_ms, with_ms, acc, attrs):
    """A Tempo v4 Worklog object in Tempo's field order."""
    d = {"self": "%s/4/worklogs/%d" % (TEMPO_SITE, tid), "tempoWorklogId": tid,
         "issue": {"self": "%s/rest/api/2/issue/%d" % (JIRA_SITE, issue), "id": issue},
         "timeSpentSeconds": spent}
    if bill is not None:
        d["billableSeconds"] = bill
    d["startDate"] = day_str(day)
    if tod is not None:
        d["startTime"] = HMS[tod]
        utc_s = (day - EPOCH_ORD) * 86400 + tod - day_offset(day)
        d["startDateTimeUtc"] = utc_iso(utc_s * 1000, False)
    if desc is not None:
        d["description"] = desc
    d["createdAt"] = utc_iso(crt_ms, with_ms)
    d["updatedAt"] = utc_iso(upd_ms, with_ms)
    d["author"] = {"self": "%s/rest/api/2/user?accountId=%s" % (JIRA_SITE, acc), "accountId": acc}
    d["attributes"] = {"self": "%s/4/worklogs/%d/work-attribute-values" % (TEMPO_SITE, tid),
                       "values": attrs}
    return d


def _int(v, default):
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def extract_columns(r):
    """(wid, day, tod, crt, upd, acc, issue, spent, bill) of any JSON value, defensively."""
    if not isinstance(r, dict):
        return (-1, -1, -1, 0, 0, "", -1, 0, -1)
    issue = r.get("issue")
    author = r.get("author")
    day = parse_day(r.get("startDate"))
    tod = parse_tod(r.get("startTime"))
    acc = author.get("accountId") if isinstance(author, dict) else None
    return (_int(r.get("tempoWorklogId"), -1), -1 if day is None else day,
            -1 if tod is None else tod, parse_instant(r.get("createdAt")) or 0,
            parse_instant(r.get("updatedAt")) or 0, acc if isinstance(acc, str) else "",
            _int(issue.get("id"), -1) if isinstance(issue, dict) else -1,
            _int(r.get("timeSpentSeconds"), 0), _int(r.get("billableSeconds"), -1))


class Snap:
    """Common part of snapshots: identity and the lazily built Jira view."""

    def __init__(self, n, rich, day_sorted):
        self.uid = next(_UIDS)
        self.n, self.rich, self.day_sorted = n, rich, day_sorted
        self._jira = None
        self._jira_lock = threading.Lock()

    def jira_view(self, ds):
        with self._jira_lock:
            if self._jira is None:
                self._jira = JiraView(ds, self)
            return self._jira


class DictSnap(Snap):
    """Snapshot over a list of parsed JSON rows (company, tiny, fixture:*)."""

    def __init__(self, rows, rich, day_sorted, prev=None):
        super().__init__(len(rows), rich, day_sorted)
        self.rows = rows
        reuse = {id(r): s for r, s in zip(prev.rows, prev.json)} if prev else {}
        self.json = [reuse.get(id(r)) or jdump(r) for r in rows]
        cols = [extract_columns(r) for r in rows]
        (self.wid, self.day, self.tod, self.crt, self.upd, accs, self.issue, self.spent,
         self.bill) = (list(c) for c in zip(*cols)) if cols else ([] for _ in range(9))
        self.authors = sorted(set(accs))
        self.auth_index = {a: k for k, a in enumerate(self.authors)}
        self.auth = [self.auth_index[a] for a in accs]
        self.by_id = {w: i for i, w in enumerate(self.wid) if w >= 0}
        self.issue_set = {i for i in self.issue if i >= 0}

    def row_json(self, i):
        return self.json[i]

    def description(self, i):
        desc = self.rows[i].get("description") if isinstance(self.rows[i], dict) else None
        return desc if isinstance(desc, str) else None

    def find(self, tid):
        return self.by_id.get(tid, -1)

    def twin_ok(self, i):
        return (self.wid[i] > 0 and self.issue[i] > 0 and self.day[i] >= 0
                and self.crt[i] > 0 and self.upd[i] > 0)


def default_order_key(r):
    c = extract_columns(r)
    return (c[1], max(c[2], 0), c[0])


class GenSnap(Snap):
    """Compact column snapshot of the `gen` dataset; rows are rendered from the columns
    plus one 64-bit random word per row (description, attributes, millis...)."""

    PER_DAY = 200
    FIRST_DAY = date(2020, 1, 1).toordinal()
    ACCOUNTS = ("ACME-DEV", "ACME-OPS", "GLOBEX-IMPL", "INITECH-SUPPORT", "INTERNAL")
    CATEGORIES = ("Development", "Meeting", "Support", "Review")

    def __init__(self, n, seed, people):
        super().__init__(n, {}, True)
        self.authors = [p.account_id for p in people]
        self.auth_index = {a: k for k, a in enumerate(self.authors)}
        self.issue_set = set(range(10000, 10100))
        rng = random.Random("gen:%d:%d" % (seed, n))
        bits = rng.getrandbits
        npeople = len(people)
        self.day, self.tod, self.auth, self.issue = array("i"), array("i"), array("b"), array("i")
        self.spent, self.bill, self.crt, self.upd = array("i"), array("i"), array("q"), array("q")
        self.h = array("Q")             # the row's random word
        day_a, tod_a, auth_a, issue_a = self.day.append, self.tod.append, self.auth.append, self.issue.append
        spent_a, bill_a, crt_a, upd_a = self.spent.append, self.bill.append, self.crt.append, self.upd.append
        h_a = self.h.append
        day = notime = day0 = 0
        for i in range(n):
            k = i % self.PER_DAY
            if k == 0:
                day = self.FIRST_DAY + i // self.PER_DAY
                notime = bits(5) % 20          # the first `notime` rows of a day lack startTime
                day0 = (day - EPOCH_ORD) * 86400 - day_offset(day)
            x = bits(64)
            tod = -1 if k < notime else 28800 + k * 120
            spent = 900 * (1 + (x >> 13) % 32)
            crt = day0 + (32400 if tod < 0 else tod) + spent + (x >> 26) % 7200
            upd = crt if (x >> 24) & 3 else crt + (x >> 30) % 864000
            millis = (x >> 41) % 1000 if (x >> 40) & 1 else 0
            day_a(day)
            tod_a(tod)
            auth_a(x % npeople)
            issue_a(10000 + (x >> 6) % 100)
            spent_a(spent)
            bill_a(max(0, spent - 900 * ((x >> 22) % 3)) if (x >> 18) % 10 < 7 else -1)
            crt_a(crt * 1000 + millis)
            upd_a(upd * 1000 + millis)
            h_a(x)
        self._author_frag = [jdump({"self": "%s/rest/api/2/user?accountId=%s" % (JIRA_SITE, a),
                                    "accountId": a}) for a in self.authors]
        self._desc = [jdump(p) for p in PHRASES]
        self._attrs = [jdump(self._attr_values(x)) for x in range(16)]

    @property
    def wid(self):
        return range(1000, 1000 + self.n)

    def _attr_values(self, code):
        """code bits: 0 has account, 1-2 account/category index, 3 has category."""
        values = []
        if code & 1:
            values.append({"key": "_Account_", "value": self.ACCOUNTS[(code >> 1) & 3]})
            if code & 8:
                values.append({"key": "_Category_", "value": self.CATEGORIES[(code >> 1) & 3]})
        return values

    def _desc_index(self, x):
        """-2 absent, -1 empty string, else index into PHRASES."""
        kind = (x >> 34) % 10
        return -2 if kind < 2 else -1 if kind == 2 else (x >> 44) % len(PHRASES)

    def row_json(self, i):
        x = self.h[i]
        tid = 1000 + i
        issue = self.issue[i]
        day = self.day[i]
        tod = self.tod[i]
        bill = self.bill[i]
        with_ms = (x >> 40) & 1
        di = self._desc_index(x)
        if tod >= 0:
            start = ',"startTime":"%s","startDateTimeUtc":"%s"' % (
                HMS[tod], utc_iso(((day - EPOCH_ORD) * 86400 + tod - day_offset(day)) * 1000, False))
        else:
            start = ""
        created = utc_iso(self.crt[i], with_ms)
        updated = created if self.upd[i] == self.crt[i] else utc_iso(self.upd[i], with_ms)
        return ('{"self":"%s/4/worklogs/%d","tempoWorklogId":%d,"issue":{"self":"%s/rest/api/2/issue/%d",'
                '"id":%d},"timeSpentSeconds":%d%s,"startDate":"%s"%s%s,"createdAt":"%s","updatedAt":"%s",'
                '"author":%s,"attributes":{"self":"%s/4/worklogs/%d/work-attribute-values","values":%s}}') % (
            TEMPO_SITE, tid, tid, JIRA_SITE, issue, issue, self.spent[i],
            ',"billableSeconds":%d' % bill if bill >= 0 else "", day_str(day), start,
            "" if di == -2 else ',"description":' + ('""' if di == -1 else self._desc[di]),
            created, updated, self._author_frag[self.auth[i]], TEMPO_SITE, tid, self._attrs[(x >> 56) & 15])

    def description(self, i):
        di = self._desc_index(self.h[i])
        return None if di == -2 else "" if di == -1 else PHRASES[di]

    def find(self, tid):
        return tid - 1000 if 1000 <= tid < 1000 + self.n else -1

    def twin_ok(self, i):
        return True


# =====================================================================================
# Dataset builders
# =====================================================================================

def build_company(seed, people, issues):
    """~25k worklogs of 2024 following each person's schedule.  Returns (rows, rich, jira_only)."""
    rng = random.Random("company:%d" % seed)
    fallback = Person.default("")
    first, last = date(2024, 1, 1).toordinal(), date(2024, 12, 31).toordinal()
    cap_ms = (date(2025, 1, 31).toordinal() - EPOCH_ORD) * 86400000
    variation = (-3600, -1800, -900, 0, 0, 0, 0, 900, 1800, 3600, 7200)
    items, favourites = [], {}
    for p in people:
        favourites[p.idx] = rng.sample(issues, 4)
        sched = p if p.workload else fallback
        for day in range(first, last + 1):
            required = sched.day_schedule(day)["requiredSeconds"]
            weekend = date.fromordinal(day).weekday() >= 5
            if required > 0 and rng.random() >= 0.03:
                units = max(1, (required + rng.choice(variation)) // 900)
                k = max(min(rng.randint(1, 4), units), -(-units // 32))
                parts = [33]
                while max(parts) > 32:          # each worklog 900..28800 seconds
                    cuts = sorted(rng.sample(range(1, units), k - 1))
                    parts = [b - a for a, b in zip([0] + cuts, cuts + [units])]
            elif weekend and rng.random() < 0.015:
                parts = [rng.randint(1, 16)]
            else:
                continue
            t = 28800 + rng.randint(0, 6) * 900
            for seq, units in enumerate(parts):
                items.append((day, t, p.idx, seq, units * 900, rng.random() < 0.9))
                t += units * 900 + rng.choice((0, 0, 900, 1800))
    items.sort(key=lambda it: (it[0], it[1] if it[5] else 0, it[2], it[3]))

    rows, rich = [], {}
    for n, (day, tod, pidx, _seq, spent, has_time) in enumerate(items):
        tid = 1000 + n
        p = people[pidx]
        issue = rng.choice(favourites[pidx] if rng.random() < 0.8 else issues)
        bill = None
        if rng.random() < 0.7:
            bill = spent if rng.random() < 0.6 else max(0, spent - 900 * rng.randint(1, 3))
        desc, roll = None, rng.random()
        if roll < 0.8:
            if roll < 0.056:
                desc = ""
            elif roll < 0.12:
                rich[tid] = rich_doc(rng, people, pidx)
                desc = doc_plain(rich[tid])
            else:
                desc = rng.choice(PHRASES)
        end_utc = (day - EPOCH_ORD) * 86400 + tod + spent - day_offset(day)
        if rng.random() < 0.08:
            crt = end_utc + 86400 - (tod + spent) + 30600 + rng.randint(0, 3600)
        else:
            crt = end_utc + rng.randint(60, 7200)
        upd = crt if rng.random() < 0.65 else crt + rng.randint(3600, 20 * 86400)
        with_ms = rng.random() < 0.4
        crt_ms = crt * 1000 + (rng.randrange(1000) if with_ms else 0)
        upd_ms = min(upd * 1000 + (rng.randrange(1000) if with_ms else 0), cap_ms)
        attrs = []
        if rng.random() < 0.5:
            attrs.append({"key": "_Account_", "value": rng.choice(GenSnap.ACCOUNTS)})
            if rng.random() < 0.4:
                attrs.append({"key": "_Category_", "value": rng.choice(GenSnap.CATEGORIES)})
        rows.append(tempo_worklog(tid, issue, spent, bill, day, tod if has_time else None, desc,
                                  crt_ms, max(upd_ms, crt_ms), with_ms, p.account_id, attrs))

    jira_only = []
    weekdays = [d for d in range(first, last + 1) if date.fromordinal(d).weekday() < 5]
    for k in range(25):
        day = rng.choice(weekdays)
        started = local_to_utc((day - EPOCH_ORD) * 86400 + rng.randint(40, 64) * 900)[0]
        spent = 900 * rng.randint(1, 8)
        created = (started + spent + rng.randint(60, 3600)) * 1000 + rng.randrange(1000)
        jira_only.append(JiraOnly(JIRA_ONLY_BASE + 1 + k, rng.choice(issues),
                                  people[rng.randrange(len(people))], started * 1000, created,
                                  created, spent, rng.choice(JIRA_ONLY_TEXTS)))
    return rows, rich, jira_only


def load_fixture(name):
    path = os.path.join(FIXTURE_DIR, name + ".json")
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        raise SimError(500, "tempo_sim: fixture not found: %s" % path) from None
    except ValueError as e:
        raise SimError(500, "tempo_sim: fixture %s is not valid JSON: %s" % (path, e)) from None
    if not isinstance(data, list):
        raise SimError(500, "tempo_sim: fixture %s must hold a JSON array" % path)
    try:
        jdump(data)
    except ValueError:
        raise SimError(500, "tempo_sim: fixture %s has a number that does not survive re-serialising "
                            "(NaN/Infinity/beyond float range); serve it with raw:" % path) from None
    return data


class JiraOnly(NamedTuple):
    jid: int
    issue: int
    person: Person
    started_ms: int
    created_ms: int
    upd_ms: int
    spent: int
    text: str


class Dataset:
    """One named dataset: the current Tempo snapshot plus mutable side state
    (papertrail events, Jira deletions, Jira update times of mutated rows)."""

    def __init__(self, name, n):
        self.name, self.n = name, n
        self.kind = name.split(":", 1)[0]
        self.lock = threading.RLock()
        self.snap = None
        self.mutated = False
        self.jira_only = []
        self.events = []              # (epoch ms, AuditLogEvent)
        self.jira_deleted = []        # (epoch ms, jira worklog id), ascending
        self.jira_upd = {}            # tempoWorklogId -> Jira updated ms after a mutation
        self.last_jira_ms = 0
        self.people = {}              # accountId -> Person (directory people first)
        self.extra_issues = set()
        self.raw_path = None

    def build(self):
        dirs = directory(CFG.seed)
        if self.kind == "company":
            rows, rich, self.jira_only = build_company(CFG.seed, dirs.people, dirs.issues)
            self.snap = DictSnap(rows, rich, True)
            self.people = {p.account_id: p for p in dirs.people}
            self.extra_issues = set(dirs.issues)
        elif self.kind == "gen":
            self.snap = GenSnap(self.n, CFG.seed, dirs.people)
            self.people = {p.account_id: p for p in dirs.people}
        elif self.kind == "tiny":
            self.snap = DictSnap(sorted(load_fixture("tiny"), key=default_order_key), {}, True)
        elif self.kind == "fixture":
            self.snap = DictSnap(load_fixture(self.name.split(":", 1)[1]), {}, False)
        else:
            self.raw_path = os.path.join(FIXTURE_DIR, self.name.split(":", 1)[1] + ".json")
            self.snap = DictSnap([], {}, True)
        for acc in self.snap.authors:
            if acc and acc not in self.people:
                self.people[acc] = Person.default(acc)
        self.extra_issues |= {j.issue for j in self.jira_only}
        self.last_jira_ms = max(self.snap.upd, default=0)

    def known_issues(self):
        return self.snap.issue_set | self.extra_issues

    def next_jira_ms(self, ms):
        self.last_jira_ms = max(ms, self.last_jira_ms + 1)
        return self.last_jira_ms


_DATASETS = OrderedDict()
_DS_LOCK = threading.Lock()
DS_RE = re.compile(r"^(company|gen|tiny|(fixture|raw):[A-Za-z0-9_-]+)$")


def get_dataset(name, n):
    key = (name, n if name == "gen" else None)
    with _DS_LOCK:
        ds = _DATASETS.get(key)
        if ds is None:
            ds = _DATASETS[key] = Dataset(name, n)
            gens = [k for k in _DATASETS if k[0] == "gen"]
            for old in gens[:-3]:                # keep at most 3 gen sizes in memory
                del _DATASETS[old]
        _DATASETS.move_to_end(key)
    with ds.lock:
        if ds.snap is None:
            ds.build()
    return ds


def drop_datasets(name=None, mutated_only=False):
    """Forget datasets (they are rebuilt from scratch on next use)."""
    with _DS_LOCK:
        keys = [k for k, d in _DATASETS.items()
                if (name is None or k[0] == name) and (d.mutated or not mutated_only)]
        for key in keys:
            del _DATASETS[key]
    if keys:
        SEL_CACHE.clear()
        PAGE_CACHE.clear()


# =====================================================================================
# Selection: filters, ordering, statistics (cached per snapshot)
# =====================================================================================

class Filter(NamedTuple):
    from_day: int = None
    to_day: int = None
    upd_from: int = None
    authors: tuple = None
    issues: tuple = None
    projects: tuple = None
    order: tuple = ()           # ((field, descending), ...); () = stored order


class LRU:
    """Thread-safe LRU bounded by entry count or by total bytes."""

    def __init__(self, max_items=None, max_bytes=None):
        self.data, self.lock = OrderedDict(), threading.Lock()
        self.max_items, self.max_bytes, self.size = max_items, max_bytes, 0

    def get(self, key):
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
            return v

    def put(self, key, value):
        with self.lock:
            if key in self.data:
                return
            self.data[key] = value
            if self.max_bytes is not None:
                self.size += len(value)
            while self.data and ((self.max_items and len(self.data) > self.max_items)
                                 or (self.max_bytes is not None and self.size > self.max_bytes)):
                _k, old = self.data.popitem(last=False)
                if self.max_bytes is not None:
                    self.size -= len(old)

    def clear(self):
        with self.lock:
            self.data.clear()
            self.size = 0


SEL_CACHE = LRU(max_items=32)
PAGE_CACHE = LRU(max_bytes=CFG.cache_bytes)


def _sort_key(snap, field):
    if field == "ID":
        return snap.wid.__getitem__
    if field == "UPDATED":
        return snap.upd.__getitem__
    day, tod = snap.day, snap.tod
    return lambda i: day[i] * 86400 + max(tod[i], 0)


def select(snap, f):
    """Row indices of `snap` matching Filter `f`, in the requested order."""
    key = (snap.uid, f)
    sel = SEL_CACHE.get(key)
    if sel is not None:
        return sel
    day = snap.day
    if snap.day_sorted:
        dated = f.from_day is not None or f.to_day is not None
        lo = bisect.bisect_left(day, f.from_day if f.from_day is not None else 0) if dated else 0
        hi = snap.n if f.to_day is None else bisect.bisect_right(day, f.to_day)
        sel = range(lo, max(lo, hi))
    else:
        sel = range(snap.n)
        if f.from_day is not None:
            sel = [i for i in sel if day[i] >= f.from_day]
        if f.to_day is not None:
            sel = [i for i in sel if 0 <= day[i] <= f.to_day]
    if f.upd_from is not None:
        upd = snap.upd
        sel = [i for i in sel if upd[i] >= f.upd_from]
    if f.authors is not None:
        wanted = {snap.auth_index[a] for a in f.authors if a in snap.auth_index}
        auth = snap.auth
        sel = [i for i in sel if auth[i] in wanted]
    if f.issues is not None or f.projects is not None:
        wanted = set(f.issues) if f.issues is not None else set(snap.issue_set)
        if f.projects is not None:
            wanted = {i for i in wanted if project_of(i) in f.projects}
        issue = snap.issue
        sel = [i for i in sel if issue[i] in wanted]
    if f.order:
        sel = list(sel)
        for field, desc in reversed(f.order):
            sel.sort(key=_sort_key(snap, field), reverse=desc)
    if not isinstance(sel, range):
        sel = array("i", sel)
    SEL_CACHE.put(key, sel)
    return sel


def stats(snap, sel):
    spent, bill, day = snap.spent, snap.bill, snap.day
    days = [day[i] for i in sel if day[i] >= 0]
    return {"count": len(sel), "sum_time_spent": sum(spent[i] for i in sel),
            "sum_billable": sum(bill[i] for i in sel if bill[i] > 0),
            "authors": len({snap.authors[snap.auth[i]] for i in sel} - {""}),
            "issues": len({snap.issue[i] for i in sel} - {-1}),
            "min_date": day_str(min(days)) if days else None,
            "max_date": day_str(max(days)) if days else None}


# =====================================================================================
# Jira view of a snapshot: twins of Tempo worklogs plus Jira-only worklogs
# =====================================================================================
# A "ref" is a row index of the snapshot (>= 0, a twin) or -1-k for dataset.jira_only[k].

class JiraView:
    def __init__(self, ds, snap):
        self.ds, self.snap = ds, snap
        entries = []
        for i in range(snap.n):
            if snap.twin_ok(i):
                tid = snap.wid[i]
                entries.append((ds.jira_upd.get(tid, snap.upd[i]), tid + JIRA_ID_OFFSET, i))
        entries.extend((j.upd_ms, j.jid, -1 - k) for k, j in enumerate(ds.jira_only))
        entries.sort()
        self.order = array("l")
        self.order_upd = array("q")
        self.twin_upd = array("q", bytes(8 * snap.n))
        self.only_upd = {}
        prev = -1
        for upd, _jid, ref in entries:
            upd = max(upd, prev + 1)           # Jira updatedTime values are unique
            prev = upd
            self.order.append(ref)
            self.order_upd.append(upd)
            if ref >= 0:
                self.twin_upd[ref] = upd
            else:
                self.only_upd[ref] = upd
        with ds.lock:
            ds.last_jira_ms = max(ds.last_jira_ms, prev)
        self.only_by_id = {j.jid: -1 - k for k, j in enumerate(ds.jira_only)}
        by_issue = {}
        for ref in self.order:
            by_issue.setdefault(self.issue_of(ref), []).append(ref)
        self.by_issue = {iss: sorted(refs, key=lambda r: (self.created_ms(r), self.jid(r)))
                         for iss, refs in by_issue.items()}
        self.cache = {}

    def jid(self, ref):
        return self.snap.wid[ref] + JIRA_ID_OFFSET if ref >= 0 else self.ds.jira_only[-1 - ref].jid

    def issue_of(self, ref):
        return self.snap.issue[ref] if ref >= 0 else self.ds.jira_only[-1 - ref].issue

    def created_ms(self, ref):
        return self.snap.crt[ref] if ref >= 0 else self.ds.jira_only[-1 - ref].created_ms

    def updated_ms(self, ref):
        return self.twin_upd[ref] if ref >= 0 else self.only_upd[ref]

    def started_ms(self, ref):
        if ref < 0:
            return self.ds.jira_only[-1 - ref].started_ms
        day, tod = self.snap.day[ref], self.snap.tod[ref]
        return local_to_utc((day - EPOCH_ORD) * 86400 + (32400 if tod < 0 else tod))[0] * 1000

    def lookup(self, jid):
        ref = self.only_by_id.get(jid)
        if ref is not None:
            return ref
        i = self.snap.find(jid - JIRA_ID_OFFSET)
        return i if i >= 0 and self.snap.twin_ok(i) else None

    def render(self, ref, ver):
        """Jira Worklog JSON text (ver '3': ADF comment, '2': plain string comment)."""
        key = (ref, ver)
        text = self.cache.get(key)
        if text is not None:
            return text
        if ref >= 0:
            snap = self.snap
            tid = snap.wid[ref]
            desc = snap.description(ref)
            doc = snap.rich.get(tid) or (text_doc(desc) if desc else None)
            author, spent = app_user(ver), snap.spent[ref]
        else:
            j = self.ds.jira_only[-1 - ref]
            doc, author, spent = text_doc(j.text), j.person.jira_user(ver), j.spent
        jid, issue = self.jid(ref), self.issue_of(ref)
        obj = {"self": "%s/rest/api/%s/issue/%d/worklog/%d" % (JIRA_SITE, ver, issue, jid),
               "author": author, "updateAuthor": author}
        if doc:
            obj["comment"] = doc_adf(doc) if ver == "3" else doc_wiki(doc)
        obj["created"] = jira_ts(self.created_ms(ref))
        obj["updated"] = jira_ts(self.updated_ms(ref))
        obj["started"] = jira_ts(self.started_ms(ref))
        obj["timeSpent"] = jira_duration(spent)
        obj["timeSpentSeconds"] = spent
        obj["id"] = str(jid)
        obj["issueId"] = str(issue)
        text = jdump(obj)
        if len(self.cache) < 200000:
            self.cache[key] = text
        return text


# =====================================================================================
# Request plumbing: scenario, context, responses, request log
# =====================================================================================

class SimError(Exception):
    """A test-setup problem (bad scenario, missing fixture): text/plain answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Resp:
    """An HTTP answer.  `page` = (page index, is last page) for fault_at; `variant(kind)`
    rebuilds the body for the paging faults; `cache_key` enables the gzip cache."""

    __slots__ = ("status", "ctype", "body", "headers", "page", "variant", "cache_key", "stream")

    def __init__(self, status, ctype, body, page=None, variant=None, cache_key=None,
                 headers=None, stream=None):
        self.status, self.ctype, self.body, self.page = status, ctype, body, page
        self.variant, self.cache_key, self.headers, self.stream = variant, cache_key, headers or [], stream


class ApiError(Exception):
    def __init__(self, resp):
        super().__init__(resp.status)
        self.resp = resp


def tempo_json(obj, status=200, **kw):
    return Resp(status, CT_TEMPO, jdump(obj).encode("ascii"), **kw)


def jira_json(obj, status=200, **kw):
    return Resp(status, CT_JIRA, jdump(obj).encode("ascii"), **kw)


def tempo_fail(status, message):
    return ApiError(tempo_json({"errors": {"message": message}}, status))


def jira_fail(status, message):
    return ApiError(jira_json({"errorMessages": [message], "errors": {}}, status))


FAULT_KINDS = {"400", "401", "403", "404", "429", "500", "502", "503", "504", "reset", "truncate",
               "slow", "hang", "badjson", "wrongshape", "html", "nextloop", "foreignnext",
               "countmismatch", "huge", "echoauth", "redirect", "bomb", "deflate", "crlfnext"}
PRE_FAULTS = {"400", "401", "403", "404", "429", "500", "502", "503", "504", "reset", "hang",
              "badjson", "wrongshape", "html", "huge", "echoauth", "redirect"}
TAG_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Scenario:
    __slots__ = ("tag", "ds", "n", "fault", "fault_at", "fault_times", "fault_skip", "retry_after",
                 "src", "delay_ms", "slow_ms", "jira_page", "jira_ties", "jira_since", "bomb_mb", "pad",
                 "fault_on", "map_limit", "workload")

    def __init__(self, segment=""):
        self.tag, self.ds, self.n, self.fault, self.fault_at = "default", "company", 1000, None, None
        self.fault_times, self.retry_after, self.src, self.delay_ms = None, None, "both", 0
        self.fault_skip = 0
        self.slow_ms, self.jira_page, self.jira_ties, self.jira_since = 30000, 1000, 1, "after"
        self.bomb_mb, self.pad, self.fault_on, self.map_limit = 128, 0, None, MAX_LIMIT
        self.workload = None
        for item in filter(None, segment.split(",")):
            key, sep, value = item.partition("=")
            value = unquote(value)
            if not sep or key not in self.__slots__:
                raise SimError(400, "tempo_sim: bad scenario item %r" % item)
            if key in ("n", "fault_times", "fault_skip", "delay_ms", "slow_ms", "jira_page", "jira_ties",
                       "bomb_mb", "pad", "map_limit", "workload") or (
                    key == "fault_at" and value != "last"):
                if not value.isdigit() or (key in ("n", "jira_page", "jira_ties", "map_limit") and int(value) < 1):
                    raise SimError(400, "tempo_sim: %s must be a non-negative integer" % key)
                value = int(value)
            elif key == "ds" and not DS_RE.match(value):
                raise SimError(400, "tempo_sim: bad dataset %r" % value)
            elif key == "fault" and value not in FAULT_KINDS:
                raise SimError(400, "tempo_sim: unknown fault %r" % value)
            elif key == "jira_since" and value not in ("after", "from"):
                raise SimError(400, "tempo_sim: jira_since must be after or from")
            elif key == "src" and value not in ("tempo", "jira", "both"):
                raise SimError(400, "tempo_sim: src must be tempo, jira or both")
            elif key == "fault_on" and not TAG_RE.match(value):
                raise SimError(400, "tempo_sim: bad fault_on %r" % value)
            elif key == "tag" and not TAG_RE.match(value):
                raise SimError(400, "tempo_sim: bad tag %r" % value)
            setattr(self, key, value)
        if self.n > 20_000_000:
            raise SimError(400, "tempo_sim: n is too large")
        if not 1 <= self.bomb_mb <= 1024:
            raise SimError(400, "tempo_sim: bomb_mb must be 1..1024")
        if self.workload is not None and self.workload not in WORKLOAD_SCHEMES:
            raise SimError(400, "tempo_sim: workload must be 1, 2 or 3")


class Ctx:
    """Everything a handler needs about one request."""

    def __init__(self, handler, method, prefix, path, query, body, scenario):
        self.method, self.prefix, self.path, self.query, self.body = method, prefix, path, query, body
        self.sc = scenario
        self.params = parse_qs(query, keep_blank_values=True)
        self.headers = handler.headers
        self.host = handler.headers.get("Host") or "127.0.0.1:%d" % CFG.port
        self.scheme = getattr(handler.server, "scheme", "http")
        self.src = "tempo" if path.startswith("/4/") else "jira" if path.startswith("/rest/") else "other"
        self.ordinal = 0

    def url(self, path=None, query=None, host=None):
        return "%s://%s%s%s%s" % (self.scheme, host or self.host, self.prefix,
                                  self.path if path is None else path, "?" + query if query else "")

    def with_query(self, **replace):
        """The request's raw query with some parameters replaced (appended at the end)."""
        keep = [p for p in self.query.split("&") if p and unquote_plus(p.split("=", 1)[0]) not in replace]
        return "&".join(keep + ["%s=%s" % (k, v) for k, v in replace.items() if v is not None])

    def param(self, name, default=None):
        values = self.params.get(name)
        return values[0] if values else default

    def dataset(self):
        return get_dataset(self.sc.ds, self.sc.n)

    def json_body(self):
        try:
            return json.loads(self.body or b"")
        except ValueError:
            fail = tempo_fail if self.src == "tempo" else jira_fail
            raise fail(400, "Request body is not valid JSON") from None


class RequestLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.seq = itertools.count(1)
        self.entries = {}          # tag -> [entry]
        self.fault_counts = {}     # (tag, fault) -> applied count
        self.fault_skips = {}      # (tag, fault) -> requests let through
        self.ordinals = {}         # (tag, method, path) -> requests seen

    def add(self, ctx, handler):
        auth = handler.headers.get("Authorization")
        entry = {"seq": 0, "t": time.time(), "method": ctx.method, "path": ctx.path,
                 "query": ctx.query, "params": ctx.params,
                 "body": ctx.body.decode("utf-8", "replace") if ctx.body else None,
                 "auth": auth, "user_agent": handler.headers.get("User-Agent"),
                 "peer_port": handler.client_address[1],
                 "accept": handler.headers.get("Accept"),
                 "accept_encoding": handler.headers.get("Accept-Encoding"), "status": 0}
        with self.lock:
            entry["seq"] = next(self.seq)
            bucket = self.entries.setdefault(ctx.sc.tag, [])
            bucket.append(entry)
            if len(bucket) > 200000:
                del bucket[:100000]
            okey = (ctx.sc.tag, ctx.method, ctx.path)
            ctx.ordinal = self.ordinals.get(okey, 0)
            self.ordinals[okey] = ctx.ordinal + 1
        return entry

    def take_fault(self, tag, kind, times, skip=0):
        with self.lock:
            skipped = self.fault_skips.get((tag, kind), 0)
            if skipped < skip:
                self.fault_skips[(tag, kind)] = skipped + 1
                return False
            count = self.fault_counts.get((tag, kind), 0)
            if times is not None and count >= times:
                return False
            self.fault_counts[(tag, kind)] = count + 1
            return True

    def get(self, tag):
        with self.lock:
            return list(self.entries.get(tag, []))

    def reset(self, tag=None):
        with self.lock:
            if tag is None:
                self.entries.clear()
                self.fault_counts.clear()
                self.fault_skips.clear()
                self.ordinals.clear()
                return
            self.entries.pop(tag, None)
            for d in (self.fault_counts, self.fault_skips, self.ordinals):
                for k in [k for k in d if k[0] == tag]:
                    del d[k]


LOG = RequestLog()


def auth_kind(value):
    if not value:
        return "none"
    scheme = value.split(" ", 1)[0].lower()
    return scheme if scheme in ("bearer", "basic") else "other"


# =====================================================================================
# Tempo endpoints
# =====================================================================================

def tempo_paging(ctx):
    values = {}
    for name, default in (("offset", 0), ("limit", DEFAULT_LIMIT)):
        raw = ctx.param(name)
        if raw is None:
            values[name] = default
        elif not re.match(r"^-?\d{1,9}$", raw):
            raise tempo_fail(400, "'%s' must be an integer" % name)
        else:
            values[name] = int(raw)
    if values["offset"] < 0:
        raise tempo_fail(400, "'offset' must be greater than or equal to 0")
    if not 1 <= values["limit"] <= MAX_LIMIT:
        raise tempo_fail(400, "'limit' must be between 1 and %d" % MAX_LIMIT)
    return values["offset"], values["limit"]


def tempo_day(name, value):
    if value is None:
        return None
    day = parse_day(value)
    if day is None:
        raise tempo_fail(400, "'%s' must be valid on the format: 'yyyy-MM-dd'" % name)
    return day


def tempo_updated_from(value):
    if value is None:
        return None
    ms = parse_instant(value)
    if ms is None:
        raise tempo_fail(400, "'updatedFrom' must be valid on the format: "
                              "'yyyy-MM-dd' or 'yyyy-MM-ddTHH:mm:ssZ'")
    return ms


def tempo_ids(name, values):
    if values is None:
        return None
    out = []
    for v in values:
        # int64 ids (the OpenAPI's format), positive
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and re.match(r"^\d{1,19}$", v))) \
                or not 0 <= int(v) < 2 ** 63:
            raise tempo_fail(400, "'%s' must contain only numeric ids" % name)
        out.append(int(v))
    return tuple(sorted(set(out)))


ORDER_FIELDS = ("ID", "START_DATE_TIME", "UPDATED")


def query_filter(ctx, scoped):
    """Filter from GET query parameters (scoped variants take no issue/project/orderBy)."""
    order = ()
    if not scoped:
        ob = ctx.param("orderBy")
        if ob is not None:
            if ob not in ORDER_FIELDS:
                raise tempo_fail(400, "'orderBy' must be one of ID, START_DATE_TIME, UPDATED")
            order = ((ob, True),) if ob == "ID" else ((ob, True), ("ID", True))
    return Filter(from_day=tempo_day("from", ctx.param("from")), to_day=tempo_day("to", ctx.param("to")),
                  upd_from=tempo_updated_from(ctx.param("updatedFrom")),
                  issues=None if scoped else tempo_ids("issueId", ctx.params.get("issueId")),
                  projects=None if scoped else tempo_ids("projectId", ctx.params.get("projectId")),
                  order=order)


def search_filter(body):
    """Filter from a WorklogSearchInput body."""
    if not isinstance(body, dict):
        raise tempo_fail(400, "Request body must be a JSON object")
    authors = body.get("authorIds")
    if authors is not None and not (isinstance(authors, list) and all(isinstance(a, str) for a in authors)):
        raise tempo_fail(400, "'authorIds' must be a list of account ids")
    order = []
    for item in body.get("orderBy") or []:
        if not (isinstance(item, dict) and item.get("field") in ORDER_FIELDS
                and item.get("order") in ("ASC", "DESC")):
            raise tempo_fail(400, "'orderBy' items must be {field: ID|START_DATE_TIME|UPDATED, order: ASC|DESC}")
        order.append((item["field"], item["order"] == "DESC"))
    if order and all(f != "ID" for f, _d in order):
        order.append(("ID", False))
    for name in ("issueIds", "projectIds"):
        if body.get(name) is not None and not isinstance(body[name], list):
            raise tempo_fail(400, "'%s' must be a list" % name)
    return Filter(from_day=tempo_day("from", body.get("from")), to_day=tempo_day("to", body.get("to")),
                  upd_from=tempo_updated_from(body.get("updatedFrom")),
                  authors=tuple(sorted(set(authors))) if authors is not None else None,
                  issues=tempo_ids("issueIds", body.get("issueIds")),
                  projects=tempo_ids("projectIds", body.get("projectIds")), order=tuple(order))


def tempo_page(ctx, snap, f, offset, limit):
    """A PageableWorklog answer; bodies are cached by URL so benchmark reruns are cheap."""
    sel = select(snap, f)
    total = len(sel)
    has_next = offset + limit < total
    rows = sel[offset:offset + limit]

    def build(kind=None):
        meta = {"count": len(rows) + (1 if kind == "countmismatch" else 0), "offset": offset, "limit": limit}
        if kind == "nextloop":
            meta["next"] = ctx.url(query=ctx.with_query(offset=offset, limit=limit))
        elif kind == "foreignnext":
            meta["next"] = ctx.url(query=ctx.with_query(offset=offset + limit, limit=limit),
                                   host="evil.example.com")
        elif has_next:
            meta["next"] = ctx.url(query=ctx.with_query(offset=offset + limit, limit=limit))
            if kind == "crlfnext":
                meta["next"] += "&x=\r\n2026-12-01 00:00:00 UTC [1] LOG:  forged line"
        if offset > 0:
            meta["previous"] = ctx.url(query=ctx.with_query(offset=max(0, offset - limit), limit=limit))
        head = '{"self":%s,"metadata":%s,"results":[' % (
            jdump(ctx.url(query=ctx.with_query(offset=offset, limit=limit))), jdump(meta))
        return (head + ",".join(map(snap.row_json, rows)) + "]}").encode("ascii")

    key = ("page", snap.uid, ctx.host, ctx.prefix, ctx.method, ctx.path,
           ctx.with_query(offset=None, limit=None), ctx.body, offset, limit)
    body = PAGE_CACHE.get(key)
    if body is None:
        body = build()
        PAGE_CACHE.put(key, body)
    return Resp(200, CT_TEMPO, body, page=(offset // limit, not has_next), variant=build, cache_key=key)


def raw_answer(ds):
    try:
        with open(ds.raw_path, "rb") as f:
            return Resp(200, CT_TEMPO, f.read(), page=(0, True))
    except FileNotFoundError:
        raise SimError(500, "tempo_sim: raw fixture not found: %s" % ds.raw_path) from None


def h_worklogs(ctx, _m):
    offset, limit = tempo_paging(ctx)
    f = query_filter(ctx, scoped=False)
    ds = ctx.dataset()
    return raw_answer(ds) if ds.raw_path else tempo_page(ctx, ds.snap, f, offset, limit)


def h_worklogs_scoped(ctx, m):
    kind, value = m.group(1), unquote(m.group(2))
    offset, limit = tempo_paging(ctx)
    f = query_filter(ctx, scoped=True)
    ds = ctx.dataset()
    if ds.raw_path:
        return raw_answer(ds)
    if kind == "user":
        if value not in ds.people:
            raise tempo_fail(404, "User cannot be found in the system")
        f = f._replace(authors=(value,))
    else:
        if not value.isdigit():
            raise tempo_fail(400, "'%sId' must be a number" % kind)
        ident = int(value)
        known = ds.known_issues()
        if kind == "issue" and ident not in known:
            raise tempo_fail(404, "Worklog cannot be found in the system")
        if kind == "project" and ident not in {project_of(i) for i in known}:
            raise tempo_fail(404, "Project cannot be found in the system")
        f = f._replace(**{"issues" if kind == "issue" else "projects": (ident,)})
    return tempo_page(ctx, ds.snap, f, offset, limit)


def h_worklog_one(ctx, m):
    snap = ctx.dataset().snap
    i = snap.find(int(m.group(1))) if m.group(1).isdigit() else -1
    if i < 0:
        raise tempo_fail(404, "Worklog cannot be found in the system")
    return Resp(200, CT_TEMPO, snap.row_json(i).encode("ascii"))


def h_search(ctx, _m):
    offset, limit = tempo_paging(ctx)
    f = search_filter(ctx.json_body())
    ds = ctx.dataset()
    return raw_answer(ds) if ds.raw_path else tempo_page(ctx, ds.snap, f, offset, limit)


def h_id_mapping(ctx, m):
    offset, limit = tempo_paging(ctx)
    limit = min(limit, ctx.sc.map_limit)     # a server whose pages are smaller than asked
    to_jira = m.group(1) == "tempo-to-jira"
    field = "tempoWorklogIds" if to_jira else "jiraWorklogIds"
    body = ctx.json_body()
    ids = body.get(field) if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(_int(v, None) is not None for v in ids):
        raise tempo_fail(400, "'%s' must be a non-empty list of ids" % field)
    ds = ctx.dataset()
    snap = ds.snap
    results, seen = [], set()
    for v in ids:
        tid = v if to_jira else v - JIRA_ID_OFFSET
        i = snap.find(tid)
        if v in seen or i < 0 or not snap.twin_ok(i):
            continue
        seen.add(v)
        pair = {"tempoWorklogId": tid, "jiraWorklogId": tid + JIRA_ID_OFFSET}
        results.append(pair if to_jira else {"jiraWorklogId": v, "tempoWorklogId": tid})
    page = results[offset:offset + limit]
    has_next = offset + limit < len(results)
    meta = {"count": len(page), "offset": offset, "limit": limit}
    if has_next:
        meta["next"] = ctx.url(query=ctx.with_query(offset=offset + limit, limit=limit))
    return tempo_json({"self": ctx.url(query=ctx.with_query(offset=offset, limit=limit)),
                       "metadata": meta, "results": page}, page=(offset // limit, not has_next))


def h_user_schedule(ctx, m):
    ds = ctx.dataset()
    days = []
    for name in ("from", "to"):
        if ctx.param(name) is None:
            raise tempo_fail(400, "'%s' is required" % name)
        days.append(tempo_day(name, ctx.param(name)))
    first, last = days
    if last - first > 3700:
        raise tempo_fail(400, "The date range must not exceed 10 years")
    # without an accountId: the token owner, person 0 of the directory
    person = ds.people.get(unquote(m.group(1))) if m.group(1) else directory(CFG.seed).people[0]
    if person is None:
        raise tempo_fail(404, "User cannot be found in the system")
    # A person without workload/holiday scheme (company person 39) answers 200 with an
    # empty results list: real Tempo always has a default scheme, so this is the closest
    # observable equivalent of "no schedule" and clients must not divide by it.
    override = WORKLOAD_SCHEMES[ctx.sc.workload] if ctx.sc.workload else None
    results = [s for s in (person.day_schedule(d, override) for d in range(first, last + 1)) if s is not None]
    return tempo_json({"self": ctx.url(query=ctx.query), "metadata": {"count": len(results)},
                       "results": results})


def h_user_scheme(ctx, m):
    ds = ctx.dataset()
    person = ds.people.get(unquote(m.group(2)))
    if person is None:
        raise tempo_fail(404, "User cannot be found in the system")
    workload = m.group(1) == "workload"
    scheme = person.workload if workload else person.holidays
    if scheme is None:
        raise tempo_fail(404, "%s scheme cannot be found in the system" % ("Workload" if workload else "Holiday"))
    members = sum(1 for p in ds.people.values() if (p.workload if workload else p.holidays) == scheme)
    return tempo_json(scheme.to_json(members))


def papertrail_fail(message):
    return ApiError(tempo_json({"errors": [{"message": message}]}, 400))


def h_papertrail(ctx, _m):
    limit_raw = ctx.param("limit", "100")
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 1000:
        raise papertrail_fail("'limit' must be between 1 and 1000")
    limit = int(limit_raw)
    token = ctx.param("nextPageToken")
    offset = 0
    if token is not None:
        try:
            offset = int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":")[1])
        except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
            raise papertrail_fail("'nextPageToken' is invalid") from None
    body = ctx.json_body()
    if not isinstance(body, dict) or "from" not in body:
        raise papertrail_fail("'from' is required")
    since = parse_instant(body["from"]) if isinstance(body.get("from"), str) and "T" in body["from"] else None
    if since is None:
        raise papertrail_fail("'from' must be an ISO 8601 date time")
    if since < now_ms() - 180 * 86400000:
        raise papertrail_fail("'from' must be within the last 180 days")
    until = parse_instant(body["to"]) if body.get("to") is not None else None
    if body.get("to") is not None and until is None:
        raise papertrail_fail("'to' must be an ISO 8601 date time")
    wanted = {k: set(body[k]) for k in ("entityType", "action", "author", "worker")
              if isinstance(body.get(k), list)}
    ds = ctx.dataset()
    with ds.lock:
        events = [e for ms, e in ds.events if ms >= since and (until is None or ms <= until)
                  and all(e.get(k) in v for k, v in wanted.items())]
    page = events[offset:offset + limit]
    has_next = offset + limit < len(events)

    def token_for(off):
        return base64.urlsafe_b64encode(("o:%d" % off).encode()).decode().rstrip("=")

    def build(kind=None):
        meta = {"limit": limit}
        if kind == "nextloop":
            meta["nextPageToken"] = token or token_for(0)
            meta["nextPageUrl"] = ctx.url(query=ctx.query)
        elif has_next or kind == "foreignnext":
            nxt = token_for(offset + limit)
            meta["nextPageToken"] = nxt
            meta["nextPageUrl"] = ctx.url(query=ctx.with_query(nextPageToken=nxt),
                                          host="evil.example.com" if kind == "foreignnext" else None)
        return jdump({"self": ctx.url(query=ctx.query), "metadata": meta, "results": page}).encode("ascii")

    return Resp(200, CT_TEMPO, build(), page=(offset // limit, not has_next), variant=build)


# =====================================================================================
# Jira endpoints
# =====================================================================================

def jira_changed(ctx, times, pairs, jira_page):
    """ChangedWorklogs page.  `times` is the ascending updatedTime sequence and
    pairs(slice) gives the [(updatedTime, worklogId)] of a slice of it."""
    raw = ctx.param("since", "0")
    if not re.match(r"^-?\d{1,18}$", raw):
        raise jira_fail(400, "The 'since' parameter must be a number.")
    since = int(raw)
    # "since": after which (the OpenAPI's words) or, read the other way, from which
    start = (bisect.bisect_left if ctx.sc.jira_since == "from" else bisect.bisect_right)(times, since)
    chunk = pairs(slice(start, start + jira_page))
    last_page = start + jira_page >= len(times)
    until = chunk[-1][0] if chunk else since
    expand = ctx.param("expand")

    def link(value, host=None):
        return ctx.url(query="since=%d" % value + ("&expand=%s" % expand if expand else ""), host=host)

    def build(kind=None):
        # nextPage is present on the last page too, as in the OpenAPI example: clients
        # must stop on lastPage, not on a missing nextPage.
        if kind == "nextloop":
            next_page, last = link(since), False
        elif kind == "foreignnext":
            next_page, last = link(until, "evil.example.com"), False
        else:
            next_page, last = link(until), last_page
        return jdump({"values": [{"worklogId": wid, "updatedTime": t, "properties": []} for t, wid in chunk],
                      "since": since, "until": until, "self": link(since), "lastPage": last,
                      "nextPage": next_page}).encode("ascii")

    return Resp(200, CT_JIRA, build(), page=(start // jira_page, last_page), variant=build)


def h_jira_updated(ctx, _m):
    ds = ctx.dataset()
    view = ds.snap.jira_view(ds)
    times = view.order_upd
    if ctx.sc.jira_ties > 1:
        # a bulk import: runs of jira_ties worklogs share one updatedTime
        k = ctx.sc.jira_ties
        times = array("q", (times[i - i % k] for i in range(len(times))))
    return jira_changed(ctx, times,
                        lambda s: [(t, view.jid(r)) for t, r in zip(times[s], view.order[s])],
                        ctx.sc.jira_page)


def h_jira_deleted(ctx, _m):
    ds = ctx.dataset()
    with ds.lock:
        deleted = list(ds.jira_deleted)
    return jira_changed(ctx, [t for t, _ in deleted], deleted.__getitem__, ctx.sc.jira_page)


def h_jira_list(ctx, m):
    body = ctx.json_body()
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or len(ids) > 1000:
        raise jira_fail(400, "The request must contain between 1 and 1000 worklog IDs.")
    wanted = []
    for v in ids:
        if isinstance(v, str) and v.isdigit():
            v = int(v)
        if _int(v, None) is None:
            raise jira_fail(400, "Worklog IDs must be numbers.")
        wanted.append(v)
    ds = ctx.dataset()
    view = ds.snap.jira_view(ds)
    refs, seen = [], set()
    for jid in wanted:
        ref = view.lookup(jid)
        if ref is not None and jid not in seen:
            seen.add(jid)
            refs.append(ref)
    ver = m.group(1)
    return Resp(200, CT_JIRA, ("[" + ",".join(view.render(r, ver) for r in refs) + "]").encode("ascii"))


def jira_issue(ds, key):
    ident = int(key) if key.isdigit() else issue_id_from_key(key)
    if ident is None or ident not in ds.known_issues():
        raise jira_fail(404, "Issue does not exist or you do not have permission to see it.")
    return ident


def h_jira_issue_worklogs(ctx, m):
    ver = m.group(1)
    ds = ctx.dataset()
    issue = jira_issue(ds, unquote(m.group(2)))
    nums = {}
    for name, default in (("startAt", 0), ("maxResults", 5000), ("startedAfter", None), ("startedBefore", None)):
        raw = ctx.param(name)
        if raw is None:
            nums[name] = default
        elif re.match(r"^-?\d{1,18}$", raw):
            nums[name] = int(raw)
        else:   # the OpenAPI documents 404 for non-numeric paging values
            raise jira_fail(404, "Issue does not exist or you do not have permission to see it.")
    start, max_results = max(0, nums["startAt"]), min(max(0, nums["maxResults"]), 5000)
    after, before = nums["startedAfter"], nums["startedBefore"]
    view = ds.snap.jira_view(ds)
    refs = [r for r in view.by_issue.get(issue, [])
            if (after is None or view.started_ms(r) >= after) and (before is None or view.started_ms(r) < before)]
    page = refs[start:start + max_results]

    def build(kind=None):
        head = '{"startAt":%d,"maxResults":%d,"total":%d,"worklogs":[' % (
            start, max_results, len(refs) + (1 if kind == "countmismatch" else 0))
        return (head + ",".join(view.render(r, ver) for r in page) + "]}").encode("ascii")

    index = start // max_results if max_results else 0
    return Resp(200, CT_JIRA, build(), page=(index, start + max_results >= len(refs)), variant=build)


def h_jira_issue_worklog_one(ctx, m):
    ds = ctx.dataset()
    issue = jira_issue(ds, unquote(m.group(2)))
    view = ds.snap.jira_view(ds)
    ref = view.lookup(int(m.group(3))) if m.group(3).isdigit() else None
    if ref is None or view.issue_of(ref) != issue:
        raise jira_fail(404, "Cannot find worklog with id: %s" % m.group(3))
    return Resp(200, CT_JIRA, view.render(ref, m.group(1)).encode("ascii"))


def h_jira_myself(ctx, m):
    ver = m.group(1)
    return jira_json({"self": "%s/rest/api/%s/user?accountId=%s" % (JIRA_SITE, ver, BOT_ACCOUNT_ID),
                      "accountId": BOT_ACCOUNT_ID, "accountType": "atlassian",
                      "emailAddress": CFG.jira_email, "avatarUrls": avatar_urls(BOT_ACCOUNT_ID),
                      "displayName": "Tempo FDW Bot", "active": True, "timeZone": "Europe/Berlin",
                      "locale": "en_US", "groups": {"size": 1, "items": []},
                      "applicationRoles": {"size": 1, "items": []}, "expand": "groups,applicationRoles"})


def h_jira_user(ctx, m):
    acc = ctx.param("accountId")
    if acc == TEMPO_APP_USER:
        return jira_json(app_user(m.group(1)))
    person = ctx.dataset().people.get(acc) if acc else None
    if person is None:
        raise jira_fail(404, "Specified user does not exist or you do not have required permissions")
    return jira_json(person.jira_user(m.group(1)))


# =====================================================================================
# Routing, authentication and fault bodies
# =====================================================================================

ROUTES = [(method, re.compile(pattern), fn) for method, pattern, fn in (
    ("GET", r"^/4/worklogs$", h_worklogs),
    ("POST", r"^/4/worklogs/search$", h_search),
    ("POST", r"^/4/worklogs/(tempo-to-jira|jira-to-tempo)$", h_id_mapping),
    ("GET", r"^/4/worklogs/(user|issue|project)/([^/]+)$", h_worklogs_scoped),
    ("GET", r"^/4/worklogs/([^/]+)$", h_worklog_one),
    ("GET", r"^/4/user-schedule(?:/([^/]+))?$", h_user_schedule),
    ("GET", r"^/4/(workload|holiday)-schemes/users/([^/]+)$", h_user_scheme),
    ("POST", r"^/4/papertrail/search$", h_papertrail),
    ("GET", r"^/rest/api/([23])/worklog/updated$", h_jira_updated),
    ("GET", r"^/rest/api/([23])/worklog/deleted$", h_jira_deleted),
    ("POST", r"^/rest/api/([23])/worklog/list$", h_jira_list),
    ("GET", r"^/rest/api/([23])/issue/([^/]+)/worklog$", h_jira_issue_worklogs),
    ("GET", r"^/rest/api/([23])/issue/([^/]+)/worklog/([^/]+)$", h_jira_issue_worklog_one),
    ("GET", r"^/rest/api/([23])/myself$", h_jira_myself),
    ("GET", r"^/rest/api/([23])/user$", h_jira_user),
)]

TEMPO_HTML = {
    401: b"<!DOCTYPE html><html><head><title>401 Unauthorized</title></head><body>"
         b"<h1>401 Unauthorized</h1><p>The access token is missing, invalid or expired.</p></body></html>",
    403: b"<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>"
         b"<h1>403 Forbidden</h1><p>The access token does not grant the required scope.</p></body></html>",
}
FAULT_MESSAGES = {400: "Bad request", 403: "error.no-permission", 404: "Not found",
                  429: "Rate limit exceeded", 500: "Internal server error", 502: "Bad gateway",
                  503: "Service unavailable", 504: "Gateway timeout"}
JIRA_401 = {"message": "Client must be authenticated to access this resource.", "status-code": 401}


def route(ctx):
    allowed = []
    for method, pattern, fn in ROUTES:
        m = pattern.match(ctx.path)
        if m:
            if method == ctx.method:
                return fn, m
            allowed.append(method)
    if allowed:
        return None, allowed
    return None, None


def authorized(ctx):
    value = ctx.headers.get("Authorization") or ""
    scheme, _sp, cred = value.partition(" ")
    if ctx.src == "tempo":
        return scheme.lower() == "bearer" and cred.strip() == CFG.tempo_token
    if scheme.lower() != "basic":
        return False
    try:
        return base64.b64decode(cred.strip(), validate=True).decode("utf-8") == \
            "%s:%s" % (CFG.jira_email, CFG.jira_token)
    except (binascii.Error, UnicodeDecodeError):
        return False


def unauthorized(ctx):
    if ctx.src == "tempo":
        return Resp(401, "text/html;charset=UTF-8", TEMPO_HTML[401])
    return jira_json(JIRA_401, 401, headers=[("WWW-Authenticate", 'Basic realm="protected-area"')])


def status_fault(ctx, status):
    if ctx.src == "tempo":
        if status in TEMPO_HTML:
            return Resp(status, "text/html;charset=UTF-8", TEMPO_HTML[status])
        return tempo_json({"errors": {"message": FAULT_MESSAGES[status] + " (simulated)"}}, status)
    if status == 401:
        return jira_json(JIRA_401, 401)
    return jira_json({"errorMessages": [FAULT_MESSAGES[status] + " (simulated)"], "errors": {}}, status)


def huge_answer(ctx):
    """A valid ~64 MiB answer of padded worklogs, produced as a stream of chunks."""
    pad = "x" * 65000
    if ctx.src == "tempo":
        item = ('{"self":"%s/4/worklogs/%%d","tempoWorklogId":%%d,"issue":{"self":"%s/rest/api/2/issue/'
                '10000","id":10000},"timeSpentSeconds":900,"startDate":"2024-01-02","description":"%s",'
                '"createdAt":"2024-01-02T10:00:00Z","updatedAt":"2024-01-02T10:00:00Z",'
                '"author":{"accountId":"huge"},"attributes":{"self":"x","values":[]}}') % (
            TEMPO_SITE, JIRA_SITE, pad)
    else:
        item = ('{"self":"%s/rest/api/3/issue/10000/worklog/%%d","comment":"%s","created":'
                '"2024-01-02T10:00:00.000+0100","updated":"2024-01-02T10:00:00.000+0100","started":'
                '"2024-01-02T09:00:00.000+0100","timeSpent":"15m","timeSpentSeconds":900,"id":"%%d",'
                '"issueId":"10000"}') % (JIRA_SITE, pad)

    def render(k):              # fixed-width ids keep every item the same length
        return item % (10000000 + k, 10000000 + k)

    size = len(render(0))
    count = -(-HUGE_BYTES // (size + 1))
    if ctx.src == "tempo":
        shape = "tempo"
        head = '{"self":"%s/4/worklogs?huge","metadata":{"count":%d,"offset":0,"limit":%d},"results":[' % (
            TEMPO_SITE, count, count)
        tail = "]}"
    elif ctx.path.endswith("/worklog/list"):
        shape, head, tail = "jira-array", "[", "]"
    else:
        shape = "jira-page"
        head, tail = '{"startAt":0,"maxResults":%d,"total":%d,"worklogs":[' % (count, count), "]}"
    length = len(head) + count * size + count - 1 + len(tail)

    def chunks():
        yield head.encode("ascii")
        for start in range(0, count, 16):
            yield ("," if start else "").encode() + ",".join(
                render(k) for k in range(start, min(count, start + 16))).encode("ascii")
        yield tail.encode("ascii")

    return Resp(200, CT_TEMPO if ctx.src == "tempo" else CT_JIRA, None, stream=(length, chunks),
                cache_key=("huge", shape))


BOMBS = {}


def bomb_body(mb):
    """The gzip bytes of {"self":..,"metadata":..,"results":[0,0,...]}: mb MiB inflated."""
    if mb not in BOMBS:
        count = mb * 1024 * 1024 // 2
        head = ('{"self":"%s/4/worklogs","metadata":{"count":%d,"offset":0,"limit":%d},"results":['
                % (TEMPO_SITE, count, count)).encode()
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        parts = [comp.compress(head + b"0")]
        chunk = b",0" * (512 * 1024)
        left = count - 1
        while left > 0:
            k = min(left, 512 * 1024)
            parts.append(comp.compress(chunk if k == 512 * 1024 else b",0" * k))
            left -= k
        parts.append(comp.compress(b"]}"))
        parts.append(comp.flush())
        BOMBS[mb] = b"".join(parts)
    return BOMBS[mb]


def encoded_answer(ctx, kind):
    """(body, Content-Encoding) of the bomb and deflate faults, sent as they are."""
    if kind == "bomb":
        return bomb_body(ctx.sc.bomb_mb), "gzip"
    page = {"self": TEMPO_SITE + "/4/worklogs", "metadata": {"count": 0, "offset": 0, "limit": 5000},
            "results": []} if ctx.src == "tempo" else {"startAt": 0, "maxResults": 5000, "total": 0,
                                                      "worklogs": []}
    return zlib.compress(json.dumps(page).encode()), "deflate"


def prefault_answer(ctx, kind):
    if kind.isdigit():
        return status_fault(ctx, int(kind))
    if kind == "badjson":
        return Resp(200, CT_TEMPO if ctx.src == "tempo" else CT_JIRA, b'{"metadata": {"count": 1,')
    if kind == "wrongshape":
        return (tempo_json({"metadata": {"count": 0}}) if ctx.src == "tempo" else jira_json({"foo": 1}))
    if kind == "html":
        return Resp(200, "text/html;charset=UTF-8", b"<html>oops</html>")
    if kind == "echoauth":
        # a misbehaving server that repeats the credentials in its error body
        auth = ctx.headers.get("Authorization") or ""
        return Resp(500, "text/plain", ("x" * min(ctx.sc.pad, 1 << 20) + "bad request with header Authorization: %s" % auth).encode())
    if kind == "redirect":
        return Resp(302, "text/plain", b"moved", headers=[("Location", "http://evil.example.com" + ctx.path)])
    return huge_answer(ctx)


# =====================================================================================
# Control endpoints
# =====================================================================================

def control(handler, path, query, body):
    params = parse_qs(query, keep_blank_values=True)

    def p(name, default=None):
        return params[name][0] if name in params else default

    def ds_from_params():
        name = p("ds", "company")
        if not DS_RE.match(name):
            raise SimError(400, "tempo_sim: bad dataset %r" % name)
        n = p("n", "1000")
        if not n.isdigit() or not 1 <= int(n) <= 20_000_000:
            raise SimError(400, "tempo_sim: bad n")
        return get_dataset(name, int(n))

    if path == "/_health":
        return 200, "text/plain", b"ok"
    if path == "/_log":
        entries = LOG.get(p("tag", "default"))
        if p("format") == "tsv":
            lines = ["\t".join(str(v).replace("\t", "\\t").replace("\n", "\\n")
                               for v in (e["seq"], e["method"], e["path"], e["query"], e["status"],
                                         auth_kind(e["auth"]))) + "\n" for e in entries]
            return 200, "text/tab-separated-values", "".join(lines).encode("utf-8")
        return 200, "application/json", jdump(entries).encode("ascii")
    if path == "/_reset":
        if "tag" in params:
            LOG.reset(p("tag"))
        if "ds" in params:
            drop_datasets(p("ds"))
        if "tag" not in params and "ds" not in params:
            LOG.reset()
            drop_datasets(mutated_only=True)
        return 200, "text/plain", b"ok"
    if path == "/_stats":
        snap = ds_from_params().snap
        f = Filter(from_day=parse_day(p("from")) if p("from") else None,
                   to_day=parse_day(p("to")) if p("to") else None,
                   authors=tuple(sorted(params["author"])) if "author" in params else None,
                   issues=tuple(sorted(int(i) for i in params["issue"] if i.isdigit())) if "issue" in params else None)
        return 200, "application/json", jdump(stats(snap, select(snap, f))).encode("ascii")
    if path == "/_data":
        return data_dump(ds_from_params(), p)
    if path == "/_mutate":
        if handler.command != "POST":
            raise SimError(405, "tempo_sim: /_mutate needs POST")
        return 200, "application/json", jdump(mutate(ds_from_params(), body)).encode("ascii")
    raise SimError(404, "tempo_sim: unknown control path %s" % path)


def data_dump(ds, p):
    snap = ds.snap
    kind = p("kind", "tempo")
    if kind == "tempo":
        text = "[" + ",".join(snap.row_json(i) for i in range(snap.n)) + "]"
    elif kind == "jira":
        view = snap.jira_view(ds)
        refs = sorted(view.order, key=view.jid)
        text = "[" + ",".join(view.render(r, "3") for r in refs) + "]"
    elif kind == "schedule":
        valid = [d for d in snap.day if d >= 0]
        first = parse_day(p("from")) or (min(valid) if valid else date(2024, 1, 1).toordinal())
        last = parse_day(p("to")) or (max(valid) if valid else first)
        wl = p("workload")
        if wl is not None and (not wl.isdigit() or int(wl) not in WORKLOAD_SCHEMES):
            raise SimError(400, "tempo_sim: workload must be 1, 2 or 3")
        override = WORKLOAD_SCHEMES[int(wl)] if wl is not None else None
        text = jdump({acc: [s for s in (person.day_schedule(d, override) for d in range(first, last + 1)) if s]
                      for acc, person in ds.people.items()})
    elif kind == "users":
        text = jdump([{"accountId": pp.account_id, "displayName": pp.name, "emailAddress": pp.email,
                       "active": pp.active, "workloadSchemeId": pp.workload.id if pp.workload else None,
                       "holidaySchemeId": pp.holidays.id if pp.holidays else None}
                      for pp in ds.people.values()])
    else:
        raise SimError(400, "tempo_sim: kind must be tempo, jira, schedule or users")
    return 200, "application/json", text.encode("ascii")


def mutate(ds, body):
    """Upsert/delete Tempo worklogs of a dict dataset; Jira twins and papertrail follow."""
    try:
        req = json.loads(body or b"{}")
        jdump(req)                       # rejects NaN/Infinity, which could not be served
    except ValueError:
        raise SimError(400, "tempo_sim: /_mutate body is not (strict) JSON") from None
    if not isinstance(req, dict):
        raise SimError(400, "tempo_sim: /_mutate body must be an object")
    if ds.kind in ("gen", "raw"):
        raise SimError(400, "tempo_sim: dataset %s is read-only" % ds.name)
    with ds.lock:
        snap = ds.snap
        rows = list(snap.rows)
        rich = dict(snap.rich)
        stamp = now_ms()
        stamp_iso = utc_iso(stamp // 1000 * 1000, False)
        actor = req.get("actor") or directory(CFG.seed).people[0].account_id
        upserted, deleted, missing = [], [], []
        index = {w: i for i, w in enumerate(snap.wid) if w >= 0}
        next_id = max(snap.wid, default=999) + 1

        def event(action, row, changes):
            issue, author = row.get("issue"), row.get("author")
            ev = {"action": action, "author": actor, "changes": changes,
                  "entityId": str(row.get("tempoWorklogId")), "entityType": "worklog",
                  "parentId": str(issue.get("id") if isinstance(issue, dict) else issue),
                  "timestamp": utc_iso(stamp, True),
                  "worker": author.get("accountId") if isinstance(author, dict) else None}
            ds.events.append((stamp, ev))

        for patch in req.get("upsert") or []:
            if not isinstance(patch, dict):
                raise SimError(400, "tempo_sim: upsert items must be objects")
            tid = _int(patch.get("tempoWorklogId"), None)
            old = rows[index[tid]] if tid in index else None
            if old is None:
                for need in ("issue", "author", "startDate", "timeSpentSeconds"):
                    if need not in patch:
                        raise SimError(400, "tempo_sim: a new worklog needs %s" % need)
                if tid is None:
                    tid = next_id
                row = {"self": "%s/4/worklogs/%d" % (TEMPO_SITE, tid), "tempoWorklogId": tid}
                row.update(patch)
                row["tempoWorklogId"] = tid
                row.setdefault("createdAt", stamp_iso)
                row.setdefault("attributes", {"values": []})
            else:
                row = dict(old)
                row.update(patch)
                if "description" in patch:
                    rich.pop(tid, None)
            if "updatedAt" not in patch:
                row["updatedAt"] = stamp_iso
            if isinstance(row.get("issue"), dict):
                row["issue"] = {"self": "%s/rest/api/2/issue/%s" % (JIRA_SITE, row["issue"].get("id")), **row["issue"]}
            if isinstance(row.get("author"), dict):
                acc = row["author"].get("accountId")
                row["author"] = {"self": "%s/rest/api/2/user?accountId=%s" % (JIRA_SITE, acc), **row["author"]}
                if isinstance(acc, str) and acc not in ds.people:
                    ds.people[acc] = Person.default(acc)
            if isinstance(row.get("attributes"), dict):
                row["attributes"] = {"self": "%s/4/worklogs/%d/work-attribute-values" % (TEMPO_SITE, tid),
                                     **row["attributes"]}
            if old is None:
                index[tid] = len(rows)
                rows.append(row)
                next_id = max(next_id, tid + 1)
                event("Created", row, [])
            else:
                rows[index[tid]] = row
                event("Updated", row, [
                    {"field": k, "new": _audit_value(row.get(k)), "previous": _audit_value(old.get(k))}
                    for k in patch if k not in ("updatedAt", "self") and old.get(k) != row.get(k)])
            upd = parse_instant(row.get("updatedAt"))
            ds.jira_upd[tid] = ds.next_jira_ms(stamp if "updatedAt" not in patch or upd is None else upd)
            upserted.append(tid)
        gone = set()
        for tid in req.get("delete") or []:
            if tid not in index or tid in gone:
                missing.append(tid)
                continue
            gone.add(tid)
            row = rows[index[tid]]
            event("Deleted", row, [])
            ds.jira_deleted.append((ds.next_jira_ms(stamp), tid + JIRA_ID_OFFSET))
            deleted.append(tid)
        rows = [r for r in rows if not (isinstance(r, dict) and r.get("tempoWorklogId") in gone)]
        if snap.day_sorted:
            rows.sort(key=default_order_key)
        ds.snap = DictSnap(rows, rich, snap.day_sorted, prev=snap)
        ds.mutated = True
        return {"upserted": upserted, "deleted": deleted, "missing": missing, "count": ds.snap.n}


def _audit_value(v):
    return None if v is None else v if isinstance(v, str) else jdump(v)


# =====================================================================================
# HTTP server
# =====================================================================================

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self):
        return "tempo_sim/1.0"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):     # pylint: disable=redefined-builtin
        """Quiet: the request log is kept in memory (/_log)."""

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- request ---------------------------------------------------------------------

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                line = self.rfile.readline().split(b";")[0].strip()
                if not re.match(rb"^[0-9A-Fa-f]{1,8}$", line):
                    raise SimError(400, "tempo_sim: bad chunked request body")
                size = int(line, 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts) or None
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        if not length.isdigit() or int(length) > 256 * 1024 * 1024:
            raise SimError(400, "tempo_sim: bad Content-Length")
        return self.rfile.read(int(length)) if int(length) else None

    def wants_gzip(self):
        for token in (self.headers.get("Accept-Encoding") or "").split(","):
            name, _sc, q = token.strip().partition(";")
            if name.strip().lower() == "gzip":
                return q.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
        return False

    def dispatch(self):
        try:
            self.handle_request()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True

    def handle_request(self):
        target, _q, query = self.path.partition("?")
        prefix, path = "", target
        try:
            body = self.read_body()
            if target.startswith("/@"):
                seg, slash, rest = target[1:].partition("/")
                prefix, path = "/" + seg, slash + rest
                scenario = Scenario(seg[1:])
            else:
                scenario = Scenario()
            if path.startswith("/_"):
                status, ctype, data = control(self, path, query, body)
                self.send_plain(status, ctype, data)
                return
        except SimError as e:
            self.send_plain(e.status, "text/plain", str(e).encode("utf-8"))
            return
        ctx = Ctx(self, self.command, prefix, path, query, body, scenario)
        entry = LOG.add(ctx, self)
        if scenario.delay_ms:
            STOP.wait(scenario.delay_ms / 1000)
        self.answer(ctx, entry)

    # -- answer ----------------------------------------------------------------------

    def answer(self, ctx, entry):
        """Compute the answer, apply the scenario's fault and send it; the log entry gets
        the status before the first byte goes out (0 for reset/hang)."""
        fn, extra = route(ctx)
        try:
            if fn is not None:
                resp = fn(ctx, extra)
            elif extra:
                resp = Resp(405, "text/plain", b"Method Not Allowed", headers=[("Allow", ", ".join(extra))])
            elif ctx.src == "tempo":
                resp = tempo_fail(404, "Not found").resp
            else:
                resp = jira_json({"errorMessages": ["Not found"], "errors": {}}, 404)
        except ApiError as e:
            resp = e.resp
        except SimError as e:
            resp = Resp(e.status, "text/plain", str(e).encode("utf-8"))
        kind = self.pick_fault(ctx, resp)
        extra_headers = [("Retry-After", ctx.sc.retry_after)] if kind and ctx.sc.retry_after else []
        if kind in ("bomb", "deflate"):
            body, encoding = encoded_answer(ctx, kind)
            entry["status"] = 200
            self.send_head(200, [("Content-Type", CT_TEMPO), ("Content-Encoding", encoding)] + extra_headers,
                           len(body))
            self.wfile.write(body)
            return
        if kind in PRE_FAULTS:
            if kind == "reset":
                self.reset_connection()
                return
            if kind == "hang":
                STOP.wait(ctx.sc.slow_ms / 1000)
                self.close_connection = True
                return
            resp = prefault_answer(ctx, kind)
        elif ctx.src in ("tempo", "jira") and not authorized(ctx):
            resp = unauthorized(ctx)
        elif kind in ("nextloop", "foreignnext", "countmismatch", "crlfnext") and resp.variant and resp.status == 200:
            resp = Resp(200, resp.ctype, resp.variant(kind))
        resp.headers.extend(extra_headers)
        entry["status"] = resp.status
        if kind == "truncate":
            self.send_truncated(resp)
        elif kind == "slow":
            self.send_slow(resp, ctx.sc.slow_ms)
        else:
            self.send(resp, self.wants_gzip())

    def pick_fault(self, ctx, resp):
        sc = ctx.sc
        if not sc.fault or ctx.src not in ("tempo", "jira") or sc.src not in ("both", ctx.src):
            return None
        if sc.fault_on and not ctx.path.startswith("/4/" + sc.fault_on):
            return None
        index, last = resp.page if resp.page else (ctx.ordinal, True)
        if sc.fault_at == "last" and not last:
            return None
        if isinstance(sc.fault_at, int) and index != sc.fault_at:
            return None
        return sc.fault if LOG.take_fault(sc.tag, sc.fault, sc.fault_times, sc.fault_skip) else None

    # -- sending ---------------------------------------------------------------------

    def send_head(self, status, headers, length):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_plain(self, status, ctype, data):
        self.send_head(status, [("Content-Type", ctype)], len(data))
        self.wfile.write(data)

    def send(self, resp, use_gzip):
        headers = [("Content-Type", resp.ctype)] + resp.headers
        if resp.stream:
            length, chunks = resp.stream
            if use_gzip:
                data = PAGE_CACHE.get(resp.cache_key)
                if data is None:
                    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
                    data = b"".join([comp.compress(c) for c in chunks()] + [comp.flush()])
                    PAGE_CACHE.put(resp.cache_key, data)
                self.send_head(resp.status, headers + [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                               len(data))
                self.wfile.write(data)
                return
            self.send_head(resp.status, headers, length)
            for chunk in chunks():
                self.wfile.write(chunk)
            return
        body = resp.body
        if use_gzip:
            packed = PAGE_CACHE.get(resp.cache_key + ("gzip",)) if resp.cache_key else None
            if packed is None:
                packed = gzip.compress(body, compresslevel=1, mtime=0)
                if resp.cache_key:
                    PAGE_CACHE.put(resp.cache_key + ("gzip",), packed)
            body = packed
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.send_head(resp.status, headers, len(body))
        self.wfile.write(body)

    def send_truncated(self, resp):
        body = resp.body
        self.send_head(resp.status, [("Content-Type", resp.ctype)] + resp.headers, len(body))
        self.wfile.write(body[:len(body) // 2])
        self.close_connection = True

    def send_slow(self, resp, slow_ms):
        body = resp.body
        self.send_head(resp.status, [("Content-Type", resp.ctype)] + resp.headers, len(body))
        deadline = time.monotonic() + slow_ms / 1000
        sent = 0
        while sent < len(body) and time.monotonic() < deadline:
            self.wfile.write(body[sent:sent + 1])
            sent += 1
            if STOP.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
                break
        self.wfile.write(body[sent:])

    def reset_connection(self):
        """Abort with TCP RST: SO_LINGER 0, then close the socket (the buffered reader holds
        a reference, so it goes first); the handler's files become inert buffers."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        """Bind without HTTPServer's reverse DNS lookup (getfqdn can stall offline)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class TLSServer(Server):
    """The same server behind TLS.  accept() only wraps the socket; the handshake runs in
    the request's thread, so a client that never completes it blocks nobody else.  A
    client refusing the certificate (the point of sql/tls.sql) is not an error here."""
    scheme = "https"

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            request.do_handshake()
            request.settimeout(None)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Tempo/Jira worklog simulator for tempo_fdw tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tempo-token", default=Config.tempo_token)
    ap.add_argument("--jira-email", default=Config.jira_email)
    ap.add_argument("--jira-token", default=Config.jira_token)
    ap.add_argument("--seed", type=int, default=Config.seed)
    ap.add_argument("--cache-mb", type=int, default=Config.cache_bytes // (1024 * 1024),
                    help="byte bound of the rendered-page cache")
    ap.add_argument("--tls-port", type=int, default=0)
    ap.add_argument("--tls-port-file")
    ap.add_argument("--tls-cert", help="PEM certificate of the HTTPS listener")
    ap.add_argument("--tls-key", help="PEM private key of the HTTPS listener")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key) or (args.tls_port_file and not args.tls_cert):
        ap.error("--tls-cert and --tls-key go together (and --tls-port-file needs them)")
    host = "127.0.0.1" if args.host == "localhost" else args.host
    try:
        loopback = ipaddress.ip_address(host).is_loopback and ipaddress.ip_address(host).version == 4
    except ValueError:
        loopback = False
    if not loopback:
        ap.error("--host must be an IPv4 loopback address (127.x.x.x), got %r" % args.host)
    CFG.tempo_token, CFG.jira_email, CFG.jira_token = args.tempo_token, args.jira_email, args.jira_token
    CFG.seed = args.seed
    PAGE_CACHE.max_bytes = max(0, args.cache_mb) * 1024 * 1024

    server = Server((host, args.port), Handler)
    CFG.port = server.server_address[1]
    tls_server = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        tls_server = TLSServer((host, args.tls_port), Handler, context)
        threading.Thread(target=tls_server.serve_forever, kwargs={"poll_interval": 0.2},
                         name="tls", daemon=True).start()
        if args.tls_port_file:
            write_port_file(args.tls_port_file, tls_server.server_address[1])
        print("tempo_sim listening on https://%s:%d" % (host, tls_server.server_address[1]), flush=True)
    if args.port_file:
        write_port_file(args.port_file, CFG.port)
    print("tempo_sim listening on http://%s:%d" % (host, CFG.port), flush=True)

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        STOP.set()
        if tls_server is not None:
            tls_server.shutdown()
            tls_server.server_close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
