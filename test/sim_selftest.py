#!/usr/bin/env python3
"""sim_selftest.py - quick self-test of test/tempo_sim (Python 3 standard library only).

Starts the simulator on a free loopback port in a subprocess and checks paging against the
/_stats oracle, filters, gzip, authentication, every fault kind (with short slow_ms), the
request log, the Jira updated->list walk and issue endpoint, user schedules, Tempo's teams,
memberships, accounts, work attributes, periods and approvals, /_mutate with
papertrail and Jira deletions, the gen dataset and process behaviour (loopback-only, SIGTERM).

    python3 test/sim_selftest.py        # prints "N passed, M failed"; exit status 1 on failure
"""

import base64
import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from urllib.parse import quote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "tempo_sim")
TEMPO_AUTH = "Bearer tempo-test-token"
JIRA_AUTH = "Basic " + base64.b64encode(b"bot@example.com:jira-test-token").decode()

PORT = None
RESULTS = {"passed": 0, "failed": 0}


# ----------------------------------------------------------------------------- helpers

def check(name, ok, detail=""):
    if ok:
        RESULTS["passed"] += 1
    else:
        RESULTS["failed"] += 1
        print("FAIL %s %s" % (name, detail), flush=True)


class Reply:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def json(self):
        return json.loads(self.body)


def request(method, target, body=None, auth=None, headers=None, timeout=15):
    """One request on a fresh connection; `target` is a path or an absolute sim URL."""
    if target.startswith("http://"):
        parts = urlsplit(target)
        target = parts.path + ("?" + parts.query if parts.query else "")
    hdrs = dict(headers or {})
    if auth == "tempo" or (auth is None and target.split("?")[0].find("/4/") >= 0):
        hdrs["Authorization"] = TEMPO_AUTH
    elif auth == "jira" or (auth is None and "/rest/" in target):
        hdrs["Authorization"] = JIRA_AUTH
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    start = time.monotonic()
    try:
        conn.request(method, target, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, time.monotonic() - start)
    finally:
        conn.close()


def get(target, **kw):
    return request("GET", target, **kw)


def post(target, body, **kw):
    return request("POST", target, body=body, **kw)


def tempo_walk(first_url, method="GET", body=None):
    """Follow metadata.next; returns (rows, pages)."""
    rows, pages, url = [], 0, first_url
    while url:
        r = request(method, url, body=body)
        assert r.status == 200, (url, r.status, r.body[:200])
        doc = r.json()
        rows.extend(doc["results"])
        pages += 1
        check("count==len(results)", doc["metadata"]["count"] == len(doc["results"]))
        url = doc["metadata"].get("next")
        if pages > 1000:
            raise AssertionError("runaway paging")
    return rows, pages


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def stats(query):
    return get("/_stats?" + query).json()


def expect_conn_error(target, exc_types, timeout=10):
    try:
        get(target, timeout=timeout)
    except exc_types:
        return True
    except Exception as e:          # noqa: BLE001 - report the unexpected kind
        print("  unexpected %r" % e)
        return False
    return False


# ----------------------------------------------------------------------------- tests

def test_tempo_paging():
    s = stats("ds=company")
    rows, pages = tempo_walk("/@tag=page/4/worklogs?limit=5000")
    check("company rows == stats", len(rows) == s["count"], (len(rows), s))
    check("company sum == stats", sum(r["timeSpentSeconds"] for r in rows) == s["sum_time_spent"])
    check("company billable == stats", sum(r.get("billableSeconds", 0) for r in rows) == s["sum_billable"])
    check("company pages", pages == -(-s["count"] // 5000), pages)
    ids = [r["tempoWorklogId"] for r in rows]
    check("ids unique, from 1000, ascending", ids == list(range(1000, 1000 + len(ids))))
    keys = [(r["startDate"], r.get("startTime", "00:00:00"), r["tempoWorklogId"]) for r in rows]
    check("default order startDate,startTime,id", keys == sorted(keys))
    check("some with millis", any(r["createdAt"].endswith("Z") and "." in r["createdAt"] for r in rows))
    check("some without millis", any("." not in r["updatedAt"] for r in rows))
    check("startDateTimeUtc with startTime", all(("startTime" in r) == ("startDateTimeUtc" in r) for r in rows))
    summer = next(r for r in rows if r["startDate"] == "2024-07-01" and "startTime" in r)
    check("CEST utc", summer["startDateTimeUtc"][11:13] == "%02d" % (int(summer["startTime"][:2]) - 2), summer)
    check("attributes present", all("values" in r["attributes"] for r in rows))
    check("description mix", any(r.get("description") == "" for r in rows)
          and any("description" not in r for r in rows))
    weekend = [r for r in rows if time.strptime(r["startDate"], "%Y-%m-%d").tm_wday >= 5]
    check("a few weekend worklogs", 0 < len(weekend) < len(rows) // 50, len(weekend))

    r = get("/@tag=page,ds=company/4/worklogs?from=2024-03-01&to=2024-03-31&limit=100")
    meta = r.json()["metadata"]
    prefix = "http://127.0.0.1:%d/@tag=page,ds=company/4/worklogs?" % PORT
    check("next absolute with prefix", meta["next"].startswith(prefix)
          and "from=2024-03-01" in meta["next"] and "offset=100&limit=100" in meta["next"], meta)
    march = stats("from=2024-03-01&to=2024-03-31")["count"]
    last = get("/4/worklogs?from=2024-03-01&to=2024-03-31&limit=100&offset=%d" % (march - 1))
    check("no next on last page", "next" not in last.json()["metadata"] and last.json()["metadata"]["count"] == 1)
    check("default limit 50", get("/4/worklogs").json()["metadata"]["limit"] == 50)
    return rows


def test_filters(rows):
    q = "from=2024-03-01&to=2024-03-31"
    got, _ = tempo_walk("/4/worklogs?%s&limit=1000" % q)
    check("from/to == stats", len(got) == stats("ds=company&" + q)["count"])
    check("from/to inclusive", {r["startDate"] for r in got} >= {"2024-03-01", "2024-03-29"})
    issue = rows[0]["issue"]["id"]
    got, _ = tempo_walk("/4/worklogs?issueId=%d&limit=5000" % issue)
    check("issueId == stats", len(got) == stats("issue=%d" % issue)["count"])
    got, _ = tempo_walk("/4/worklogs/issue/%d?limit=5000" % issue)
    check("/issue/{id} == stats", len(got) == stats("issue=%d" % issue)["count"])
    got, _ = tempo_walk("/4/worklogs?projectId=10100&projectId=10101&limit=5000")
    check("projectId repeated", len(got) == sum(1 for r in rows if 10000 <= r["issue"]["id"] <= 10066))
    got, _ = tempo_walk("/4/worklogs/project/10102?limit=5000")
    check("/project/{id}", len(got) == sum(1 for r in rows if r["issue"]["id"] >= 10067))
    acc = rows[0]["author"]["accountId"]
    got, _ = tempo_walk("/4/worklogs/user/%s?limit=5000&from=2024-06-01" % quote(acc, safe=""))
    check("/user/{id} encoded + from", len(got) == stats("author=%s&from=2024-06-01" % quote(acc))["count"] and got)
    check("unknown user 404", get("/4/worklogs/user/nobody").status == 404)
    check("unknown issue 404", get("/4/worklogs/issue/99999").status == 404)
    cut = "2024-12-01T00:00:00Z"
    got, _ = tempo_walk("/4/worklogs?updatedFrom=%s&limit=5000" % cut)
    check("updatedFrom", len(got) == sum(1 for r in rows if r["updatedAt"][:19] >= cut[:19]) and got, len(got))
    got, _ = tempo_walk("/4/worklogs?updatedFrom=2024-12-01&limit=5000")
    check("updatedFrom date only", len(got) == sum(1 for r in rows if r["updatedAt"] >= "2024-12-01"))
    got = get("/4/worklogs?orderBy=UPDATED&limit=300").json()["results"]
    updated = [r["updatedAt"][:19] for r in got]
    check("orderBy=UPDATED desc", updated == sorted(updated, reverse=True))
    top = get("/4/worklogs?orderBy=ID&limit=1").json()["results"][0]
    check("orderBy=ID desc", top["tempoWorklogId"] == rows[-1]["tempoWorklogId"])
    r = get("/4/worklogs?from=2024-02-30")
    check("bad date 400", r.status == 400
          and r.json() == {"errors": {"message": "'from' must be valid on the format: 'yyyy-MM-dd'"}})
    check("limit>5000 400", get("/4/worklogs?limit=5001").status == 400)
    check("bad orderBy 400", get("/4/worklogs?orderBy=NAME").status == 400)
    check("single worklog", get("/4/worklogs/%d" % rows[5]["tempoWorklogId"]).json() == rows[5])
    check("single worklog 404", get("/4/worklogs/1").status == 404)

    authors = sorted({r["author"]["accountId"] for r in rows})[:2]
    body = {"authorIds": authors, "from": "2024-05-01", "to": "2024-05-31",
            "orderBy": [{"field": "START_DATE_TIME", "order": "DESC"}]}
    got, pages = tempo_walk("/@tag=search/4/worklogs/search?limit=40", method="POST", body=body)
    want = stats("from=2024-05-01&to=2024-05-31&author=%s&author=%s" % tuple(quote(a) for a in authors))
    check("search == stats", len(got) == want["count"] and pages > 1, (len(got), want))
    check("search order desc", [r["startDate"] for r in got] == sorted((r["startDate"] for r in got), reverse=True))
    check("search next keeps query only", all(e["query"].startswith("offset=") or e["query"] == "limit=40"
                                              for e in get("/_log?tag=search").json()))
    check("search bad body", post("/4/worklogs/search", b"{").status == 400)

    ids = [rows[0]["tempoWorklogId"], rows[1]["tempoWorklogId"], 1]
    m = post("/4/worklogs/tempo-to-jira", {"tempoWorklogIds": ids}).json()
    check("tempo-to-jira", m["results"] == [{"tempoWorklogId": i, "jiraWorklogId": i + 500000} for i in ids[:2]], m)
    m = post("/4/worklogs/jira-to-tempo", {"jiraWorklogIds": [ids[0] + 500000, 900001]}).json()
    check("jira-to-tempo omits Jira-only",
          m["results"] == [{"jiraWorklogId": ids[0] + 500000, "tempoWorklogId": ids[0]}], m)
    many = [r["tempoWorklogId"] for r in rows[:5]]
    m = post("/@map_limit=2/4/worklogs/tempo-to-jira?limit=1000", {"tempoWorklogIds": many}).json()
    check("tempo-to-jira map_limit page", [r["tempoWorklogId"] for r in m["results"]] == many[:2]
          and m["metadata"]["limit"] == 2 and "offset=2&limit=2" in m["metadata"]["next"], m)
    m = post("/@map_limit=2/4/worklogs/tempo-to-jira?offset=4&limit=2", {"tempoWorklogIds": many}).json()
    check("tempo-to-jira map_limit last page", [r["tempoWorklogId"] for r in m["results"]] == many[4:]
          and "next" not in m["metadata"], m)


def test_gzip_and_auth():
    plain = get("/4/worklogs?limit=500")
    packed = get("/4/worklogs?limit=500", headers={"Accept-Encoding": "gzip, deflate"})
    check("gzip header", packed.headers.get("content-encoding") == "gzip")
    check("gzip body", gzip.decompress(packed.body) == plain.body and len(packed.body) < len(plain.body))
    check("no gzip without Accept-Encoding", "content-encoding" not in plain.headers)
    check("content-length", int(plain.headers["content-length"]) == len(plain.body))

    r = get("/4/worklogs", auth="none")
    check("tempo 401 html", r.status == 401 and r.headers["content-type"].startswith("text/html"))
    r = get("/4/worklogs", headers={"Authorization": "Bearer wrong"}, auth="none")
    check("tempo wrong token 401", r.status == 401)
    r = get("/4/worklogs", auth="jira")
    check("tempo with basic 401", r.status == 401)
    r = get("/rest/api/3/myself", auth="none")
    check("jira 401 json", r.status == 401 and r.json()["status-code"] == 401)
    bad = "Basic " + base64.b64encode(b"bot@example.com:nope").decode()
    check("jira wrong token 401", get("/rest/api/3/myself", headers={"Authorization": bad}, auth="none").status == 401)
    me = get("/rest/api/3/myself").json()
    check("myself", me["emailAddress"] == "bot@example.com" and me["accountType"] == "atlassian")


def test_faults():
    for code in (400, 401, 403, 404, 429, 500, 502, 503, 504):
        r = get("/@tag=f,fault=%d,retry_after=7/4/worklogs" % code)
        html = code in (401, 403)
        ok = r.status == code and r.headers.get("retry-after") == "7"
        ok = ok and (r.headers["content-type"].startswith("text/html") if html else "message" in r.json()["errors"])
        check("tempo fault %d" % code, ok, (r.status, r.body[:80]))
        r = get("/@fault=%d/rest/api/3/worklog/updated" % code)
        body = r.json()
        check("jira fault %d" % code,
              r.status == code and ("status-code" in body if code == 401 else "errorMessages" in body))
    r = get("/@fault=503/4/worklogs", auth="none")
    check("status fault wins over auth", r.status == 503)
    r = get("/@fault=503,retry_after=Wed%2C 21 Oct 2015 07:28:00 GMT/4/worklogs".replace(" ", "%20"))
    check("retry_after http-date", r.headers.get("retry-after") == "Wed, 21 Oct 2015 07:28:00 GMT", r.headers)

    pre = "/@tag=fa,fault=503,fault_at=1/4/worklogs?from=2024-03-01&to=2024-03-05&limit=100"
    first = get(pre)
    second = get(first.json()["metadata"]["next"])
    third = get(first.json()["metadata"]["next"].replace("offset=100", "offset=200"))
    check("fault_at=1", (first.status, second.status, third.status) == (200, 503, 200))
    n = stats("from=2024-03-01&to=2024-03-05")["count"]
    last_off = (n - 1) // 100 * 100
    base = "/@tag=fl,fault=500,fault_at=last/4/worklogs?from=2024-03-01&to=2024-03-05&limit=100&offset=%d"
    check("fault_at=last", get(base % 0).status == 200 and get(base % last_off).status == 500)
    get("/_reset?tag=ft")
    codes = [get("/@tag=ft,fault=429,fault_times=2/4/worklogs").status for _ in range(3)]
    check("fault_times=2", codes == [429, 429, 200], codes)
    get("/_reset?tag=ft")
    check("reset clears fault counter", get("/@tag=ft,fault=429,fault_times=2/4/worklogs").status == 429)
    check("src=jira spares tempo", get("/@fault=500,src=jira/4/worklogs").status == 200
          and get("/@fault=500,src=jira/rest/api/3/myself").status == 500)

    check("reset", expect_conn_error("/@fault=reset/4/worklogs", (ConnectionError, http.client.RemoteDisconnected)))
    check("truncate", expect_conn_error("/@fault=truncate/4/worklogs?limit=200", (http.client.IncompleteRead,)))
    r = get("/@fault=slow,slow_ms=700/4/worklogs?limit=3")
    check("slow", r.status == 200 and r.elapsed >= 0.6 and len(r.json()["results"]) == 3, r.elapsed)
    start = time.monotonic()
    closed = expect_conn_error("/@fault=hang,slow_ms=400/4/worklogs", (http.client.RemoteDisconnected, ConnectionError))
    check("hang", closed and time.monotonic() - start >= 0.35)
    check("hang times out a client",
          expect_conn_error("/@fault=hang,slow_ms=3000/4/worklogs", (TimeoutError,), timeout=0.3))
    r = get("/@fault=badjson/4/worklogs")
    check("badjson", r.status == 200 and r.body == b'{"metadata": {"count": 1,')
    check("wrongshape tempo", get("/@fault=wrongshape/4/worklogs").json() == {"metadata": {"count": 0}})
    check("wrongshape jira", get("/@fault=wrongshape/rest/api/3/worklog/updated").json() == {"foo": 1})
    r = get("/@fault=html/4/worklogs")
    check("html", r.status == 200 and r.body == b"<html>oops</html>"
          and r.headers["content-type"].startswith("text/html"))
    doc = get("/@fault=nextloop/4/worklogs?limit=10").json()
    check("nextloop", doc["metadata"]["next"] == doc["self"], doc["metadata"])
    doc = get("/@fault=nextloop/4/worklogs?limit=5000&from=2024-01-02&to=2024-01-02").json()
    check("nextloop on last page", doc["metadata"].get("next") == doc["self"])
    doc = get("/@fault=foreignnext/4/worklogs?limit=10").json()
    check("foreignnext", doc["metadata"]["next"].startswith("http://evil.example.com/@fault=foreignnext/4/worklogs?"))
    doc = get("/@fault=countmismatch/4/worklogs?limit=10").json()
    check("countmismatch", doc["metadata"]["count"] == 11 and len(doc["results"]) == 10)
    doc = get("/@fault=nextloop,jira_page=5/rest/api/3/worklog/updated?since=0").json()
    check("jira nextloop", doc["nextPage"] == doc["self"] and doc["lastPage"] is False)
    r = get("/@fault=huge/4/worklogs")
    check("huge", r.status == 200 and len(r.body) >= 64 * 1024 * 1024 and len(json.loads(r.body)["results"]) > 900)
    r = get("/@fault=huge/4/worklogs", headers={"Accept-Encoding": "gzip"})
    check("huge gzip bomb", r.headers.get("content-encoding") == "gzip" and len(r.body) < 4 * 1024 * 1024
          and len(gzip.decompress(r.body)) >= 64 * 1024 * 1024)
    r = get("/@delay_ms=300/4/worklogs?limit=1")
    check("delay_ms", r.status == 200 and r.elapsed >= 0.28)
    for seg in ("bogus=1", "fault=explode", "ds=../etc", "n=abc"):
        r = get("/@%s/4/worklogs" % seg)
        check("bad scenario %s" % seg, r.status == 400 and r.body.startswith(b"tempo_sim:"))


def test_request_log():
    get("/_reset?tag=log")
    get("/@tag=log/4/worklogs?from=2024-01-01&limit=2",
        headers={"User-Agent": "selftest/1", "Accept": "application/json"})
    post("/@tag=log/rest/api/3/worklog/list", {"ids": [501000]})
    expect_conn_error("/@tag=log,fault=reset/4/worklogs/user/a%3Ab", (ConnectionError, http.client.RemoteDisconnected))
    get("/@tag=log/4/worklogs", auth="none")
    log = get("/_log?tag=log").json()
    check("log entries", [e["status"] for e in log] == [200, 200, 0, 401], [e["status"] for e in log])
    e = log[0]
    check("log fields", e["path"] == "/4/worklogs" and e["query"] == "from=2024-01-01&limit=2"
          and e["params"] == {"from": ["2024-01-01"], "limit": ["2"]} and e["auth"] == TEMPO_AUTH
          and e["user_agent"] == "selftest/1" and e["accept"] == "application/json" and e["body"] is None, e)
    check("log body", json.loads(log[1]["body"]) == {"ids": [501000]} and log[1]["method"] == "POST")
    check("log raw path", log[2]["path"] == "/4/worklogs/user/a%3Ab")
    check("log seq increasing", [x["seq"] for x in log] == sorted(x["seq"] for x in log))
    tsv = get("/_log?tag=log&format=tsv").body.decode()
    lines = tsv.split("\n")
    check("tsv", tsv.endswith("\n") and len(lines) == 5 and lines[0].split("\t")[1:] ==
          ["GET", "/4/worklogs", "from=2024-01-01&limit=2", "200", "bearer"]
          and lines[1].endswith("\tbasic") and lines[3].endswith("\t401\tnone"), lines)
    get("/_health")
    check("control not logged", len(get("/_log?tag=log").json()) == 4)
    get("/_reset?tag=log")
    check("reset tag", get("/_log?tag=log").json() == [])


def test_jira(rows):
    values, url, pages = [], "/@jira_page=4000/rest/api/3/worklog/updated?since=0", 0
    while True:
        doc = get(url).json()
        values.extend(doc["values"])
        pages += 1
        if doc["lastPage"]:
            break
        check("until == last value", doc["until"] == doc["values"][-1]["updatedTime"])
        url = doc["nextPage"]
    check("updated pages", pages == -(-(len(rows) + 25) // 4000), pages)
    check("updated covers all", len(values) == len(rows) + 25, len(values))
    times = [v["updatedTime"] for v in values]
    check("updated ascending unique", times == sorted(set(times)))
    ids = [v["worklogId"] for v in values]
    worklogs = []
    for k in range(0, len(ids), 1000):
        r = post("/rest/api/3/worklog/list", {"ids": ids[k:k + 1000]})
        worklogs.extend(r.json())
    check("list returns all", len(worklogs) == len(ids))
    twins = [w for w in worklogs if int(w["id"]) < 900000]
    only = [w for w in worklogs if int(w["id"]) > 900000]
    check("twin ids", sorted(int(w["id"]) - 500000 for w in twins) == [r["tempoWorklogId"] for r in rows])
    check("twins by app user", all(w["author"]["accountType"] == "app"
                                   and w["updateAuthor"]["accountId"] == "557058:tempo-app-user" for w in twins))
    check("25 jira-only by people", len(only) == 25 and all(w["author"]["accountType"] == "atlassian" for w in only))
    check("twin seconds", sum(w["timeSpentSeconds"] for w in twins) == sum(r["timeSpentSeconds"] for r in rows))
    kinds = {n["type"] for w in twins if "comment" in w
             for b in w["comment"]["content"] for n in [b] + b.get("content", [])}
    check("ADF node kinds", {"paragraph", "text", "mention", "bulletList", "hardBreak", "codeBlock"} <= kinds, kinds)
    w = twins[0]
    check("started offset", w["started"].endswith("+0100") or w["started"].endswith("+0200"))
    summer = next(x for x in twins if x["started"].startswith("2024-07"))
    check("summer +0200", summer["started"].endswith("+0200") and summer["created"].endswith("+0200"))
    check("timeSpent text", all(w["timeSpent"] for w in twins[:50]))
    check("list 400 empty", post("/rest/api/3/worklog/list", {"ids": []}).status == 400)
    check("list 400 >1000", post("/rest/api/3/worklog/list", {"ids": list(range(1001))}).status == 400)
    first = get("/@fault=503,fault_at=1,jira_page=4000/rest/api/3/worklog/updated?since=0")
    second = get(first.json()["nextPage"])
    check("jira fault_at=1", first.status == 200 and second.status == 503, (first.status, second.status))
    check("updated since excl", get("/rest/api/3/worklog/updated?since=%d" % times[-2]).json()["values"] == values[-1:])

    issue = only[0]["issueId"]
    s = stats("issue=%s" % issue)
    extra = sum(1 for w in only if w["issueId"] == issue)
    got, start = [], 0
    while True:
        doc = get("/rest/api/3/issue/%s/worklog?startAt=%d&maxResults=300" % (issue, start)).json()
        got.extend(doc["worklogs"])
        start += len(doc["worklogs"])
        if start >= doc["total"] or not doc["worklogs"]:
            break
    check("issue worklogs", len(got) == s["count"] + extra == doc["total"], (len(got), s["count"], extra))
    created = [datetime.strptime(w["created"], "%Y-%m-%dT%H:%M:%S.%f%z") for w in got]
    check("issue worklogs by created", created == sorted(created))
    mid = got[len(got) // 2]
    after = get("/rest/api/3/issue/%s/worklog?startedAfter=1719792000000" % issue).json()
    check("startedAfter", all(x["started"] >= "2024-07-01" for x in after["worklogs"]) and after["total"] < len(got))
    key = "%s-%d" % next((k, int(issue) - lo + 1) for k, lo in (("INT", 10067), ("OPS", 10034), ("ACME", 10000))
                         if int(issue) >= lo)
    check("issue key", get("/rest/api/3/issue/%s/worklog" % key).json()["total"] == len(got), key)
    r = get("/rest/api/3/issue/99999/worklog")
    check("issue 404", r.status == 404 and r.json()["errorMessages"]
          == ["Issue does not exist or you do not have permission to see it."])
    one = get("/rest/api/3/issue/%s/worklog/%s" % (issue, mid["id"]))
    check("single jira worklog", one.json() == mid)
    v2 = get("/rest/api/2/issue/%s/worklog/%s" % (issue, mid["id"])).json()
    check("v2 comment string", "comment" not in v2 or isinstance(v2["comment"], str))
    user = get("/rest/api/3/user?accountId=%s" % quote(only[0]["author"]["accountId"])).json()
    check("user lookup", user["displayName"] == only[0]["author"]["displayName"])


def test_jira_dims(rows):
    """users/search, user/bulk, project/search and search/jql (jira_dims.py)."""
    users, start = [], 0
    while True:
        page = get("/rest/api/3/users/search?maxResults=15&startAt=%d" % start).json()
        if not page:
            break
        users.extend(page)
        start += len(page)
    authors = {r["author"]["accountId"] for r in rows}
    check("users: every author", authors <= {u["accountId"] for u in users})
    check("users: cap 1000", len(get("/rest/api/3/users/search?maxResults=5000").json()) == len(users))
    bulk = get("/rest/api/3/user/bulk?accountId=%s&accountId=nobody&maxResults=1"
               % quote(users[0]["accountId"])).json()
    check("user/bulk: found only", bulk["total"] == 1 and bulk["isLast"] and len(bulk["values"]) == 1)
    projects = get("/rest/api/3/project/search?expand=lead&maxResults=2").json()
    check("project/search page", projects["total"] == 3 and not projects["isLast"] and "lead" in projects["values"][0])
    check("project/search keys", [p["key"] for p in get("/rest/api/3/project/search?keys=OPS").json()["values"]] == ["OPS"])
    issues, token, pages = [], None, 0
    while True:
        body = {"jql": 'project in ("ACME", "OPS", "INT") ORDER BY id', "fields": ["summary", "parent"], "maxResults": 7}
        if token:
            body["nextPageToken"] = token
        doc = post("/rest/api/3/search/jql", body).json()
        issues.extend(doc["issues"])
        pages += 1
        token = doc.get("nextPageToken")
        if not token:
            check("jql: isLast on the last page", doc["isLast"])
            break
    check("jql: every issue of the worklogs", {r["issue"]["id"] for r in rows} <= {int(i["id"]) for i in issues})
    check("jql: pages of 7", pages == -(-len(issues) // 7), pages)
    check("jql: unbounded is 400", post("/rest/api/3/search/jql", {"jql": "ORDER BY id"}).status == 400)
    r = post("/rest/api/3/search/jql", {"jql": 'key in ("A\\"B", "ACME-1")', "fields": ["summary"]}).json()
    check("jql: escaped key", [i["key"] for i in r["issues"]] == ["ACME-1"])
    r = post("/rest/api/3/issue/bulkfetch", {"issueIdsOrKeys": ["10000", "OPS-3", "424242", "NOPE-1"],
                                             "fields": ["summary"]}).json()
    check("bulkfetch: found only", [i["key"] for i in r["issues"]] == ["ACME-1", "OPS-3"] and r["issueErrors"] == [])
    check("bulkfetch: at most 100", post("/rest/api/3/issue/bulkfetch",
                                         {"issueIdsOrKeys": [str(i) for i in range(101)]}).status == 400)
    jql = "/rest/api/3/search/jql?jql=%s&maxResults=1" % quote('updated >= "1970-01-01"')
    check("jql: GET, bounded by a date", len(get(jql).json()["issues"]) == 1)
    check("deny users: 403", get("/@jira_deny=users/rest/api/3/users/search").status == 403)
    check("deny users: user/bulk answers", get("/@jira_deny=users/rest/api/3/user/bulk?accountId=%s"
                                               % quote(users[0]["accountId"])).json()["total"] == 1)
    denied = get("/@jira_deny=projects/rest/api/3/project/search?maxResults=1").json()
    check("deny projects: empty page", denied["total"] == 0 and denied["isLast"] and denied["values"] == [])
    check("deny projects: issues stay", len(get("/@jira_deny=projects" + jql).json()["issues"]) == 1)
    check("deny issues: none", get("/@jira_deny=issues" + jql).json()["issues"] == [] and
          post("/@jira_deny=issues/rest/api/3/issue/bulkfetch", {"issueIdsOrKeys": ["10000"]}).json()["issues"] == [])
    check("deny users: no credentials still 401",
          get("/@jira_deny=users/rest/api/3/users/search", auth="none").status == 401)
    check("jira_deny: unknown is 400", get("/@jira_deny=worklogs/rest/api/3/myself").status == 400)


def test_schedule(rows):
    users = get("/_data?kind=users").json()
    owner = users[0]["accountId"]
    r = get("/4/user-schedule/%s?from=2024-12-23&to=2024-12-29" % quote(owner, safe=""))
    days = {d["date"]: d for d in r.json()["results"]}
    check("schedule 7 days", r.json()["metadata"]["count"] == 7)
    check("working day", days["2024-12-23"] == {"date": "2024-12-23", "requiredSeconds": 28800, "type": "WORKING_DAY"})
    eve = days["2024-12-24"]
    check("christmas eve half", eve["type"] == "HOLIDAY" and eve["requiredSeconds"] == 14400
          and eve["holiday"]["durationSeconds"] == 14400 and eve["holiday"]["type"] == "FIXED")
    check("christmas", days["2024-12-25"]["requiredSeconds"] == 0 and days["2024-12-25"]["type"] == "HOLIDAY")
    check("weekend", days["2024-12-28"]["type"] == "NON_WORKING_DAY")
    sat = get("/4/user-schedule/%s?from=2024-06-08&to=2024-06-08" % owner).json()["results"][0]
    check("holiday on weekend", sat["type"] == "HOLIDAY_AND_NON_WORKING_DAY" and sat["requiredSeconds"] == 0)
    own = get("/4/user-schedule?from=2024-12-23&to=2024-12-29").json()
    check("token owner schedule", own["results"] == r.json()["results"])
    check("schedule needs from", get("/4/user-schedule?to=2024-12-29").status == 400)
    check("schedule unknown 404", get("/4/user-schedule/nobody?from=2024-01-01&to=2024-01-02").status == 404)
    quinn = next(u for u in users if u["workloadSchemeId"] is None)
    r = get("/4/user-schedule/%s?from=2024-01-01&to=2024-01-31" % quinn["accountId"])
    check("no-schedule person: 200 empty", r.status == 200 and r.json()["results"] == []
          and r.json()["metadata"]["count"] == 0)
    check("no workload scheme 404", get("/4/workload-schemes/users/%s" % quinn["accountId"]).status == 404)
    part = next(u for u in users if u["workloadSchemeId"] == 2)
    ws = get("/4/workload-schemes/users/%s" % part["accountId"]).json()
    check("workload scheme", ws["days"][0] == {"day": "MONDAY", "requiredSeconds": 14400} and ws["memberCount"] >= 1)
    hs = get("/4/holiday-schemes/users/%s" % owner).json()
    check("holiday scheme", hs["id"] == 1 and hs["defaultScheme"] is True)
    sched = get("/_data?kind=schedule&from=2024-01-01&to=2024-01-07").json()
    check("_data schedule", len(sched[owner]) == 7 and sched[quinn["accountId"]] == [])


def test_mutate_papertrail():
    get("/_reset?ds=tiny")
    before = get("/@ds=tiny/rest/api/3/worklog/updated").json()["until"]
    t0 = time.time()
    res = post("/_mutate?ds=tiny", {
        "upsert": [{"tempoWorklogId": 2003, "timeSpentSeconds": 7200},
                   {"issue": {"id": 10042}, "author": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
                    "startDate": "2024-03-13", "startTime": "11:00:00", "timeSpentSeconds": 600,
                    "description": "new one"}],
        "delete": [2002, 4242]}).json()
    check("mutate result", res["upserted"] == [2003, 2006] and res["deleted"] == [2002]
          and res["missing"] == [4242], res)
    rows = get("/@ds=tiny/4/worklogs").json()["results"]
    byid = {r["tempoWorklogId"]: r for r in rows}
    check("mutated rows", sorted(byid) == [2001, 2003, 2004, 2005, 2006] and byid[2003]["timeSpentSeconds"] == 7200)
    check("updatedAt now", byid[2003]["updatedAt"] >= time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t0 - 60)))
    check("new row filled", byid[2006]["self"].endswith("/4/worklogs/2006")
          and byid[2006]["attributes"]["values"] == [])
    recent = get("/@ds=tiny/4/worklogs?updatedFrom=%s" % iso(t0 - 5)).json()
    check("updatedFrom sees upserts", sorted(r["tempoWorklogId"] for r in recent["results"]) == [2003, 2006])

    since = iso(t0 - 3600)
    pt = post("/@ds=tiny/4/papertrail/search?limit=2", {"from": since, "entityType": ["worklog"]}).json()
    check("papertrail page 1", len(pt["results"]) == 2 and "nextPageToken" in pt["metadata"], pt)
    pt2 = post(pt["metadata"]["nextPageUrl"], {"from": since, "entityType": ["worklog"]}).json()
    actions = [e["action"] for e in pt["results"] + pt2["results"]]
    check("papertrail page 2", actions == ["Updated", "Created", "Deleted"]
          and "nextPageToken" not in pt2["metadata"])
    dele = post("/@ds=tiny/4/papertrail/search", {"from": since, "action": ["Deleted"]}).json()["results"]
    check("papertrail deleted", len(dele) == 1 and dele[0]["entityId"] == "2002" and dele[0]["parentId"] == "10042"
          and dele[0]["worker"] == "5b10ac8d82e05b22cc7d4ef5" and dele[0]["timestamp"].endswith("Z"), dele)
    old = iso(t0 - 200 * 86400)
    r = post("/@ds=tiny/4/papertrail/search", {"from": old})
    check("papertrail 180 days", r.status == 400 and "errors" in r.json())
    check("papertrail needs from", post("/@ds=tiny/4/papertrail/search", {}).status == 400)

    changed = get("/@ds=tiny/rest/api/3/worklog/updated?since=%d" % before).json()
    check("jira updated after mutate", sorted(v["worklogId"] for v in changed["values"]) == [502003, 502006], changed)
    deleted = get("/@ds=tiny/rest/api/3/worklog/deleted?since=0").json()
    check("jira deleted", [v["worklogId"] for v in deleted["values"]] == [502002] and deleted["lastPage"])
    w = post("/@ds=tiny/rest/api/3/worklog/list", {"ids": [502003, 502002]}).json()
    check("jira twin follows", len(w) == 1 and w[0]["timeSpentSeconds"] == 7200 and w[0]["timeSpent"] == "2h")
    get("/_reset?ds=tiny")
    check("reset ds restores", len(get("/@ds=tiny/4/worklogs").json()["results"]) == 5)
    check("gen read-only", post("/_mutate?ds=gen", {"delete": [1000]}).status == 400)


def test_datasets():
    rows, pages = tempo_walk("/@ds=gen,n=20000/4/worklogs?limit=5000")
    s = stats("ds=gen&n=20000")
    check("gen paging == stats", len(rows) == 20000 == s["count"] and pages == 4
          and sum(r["timeSpentSeconds"] for r in rows) == s["sum_time_spent"])
    check("gen ids", [r["tempoWorklogId"] for r in rows] == list(range(1000, 21000)))
    check("gen 200 per day", s["min_date"] == "2020-01-01" and s["max_date"] == "2020-04-09")
    a = get("/@ds=gen,n=20000/4/worklogs?limit=5000&offset=5000")
    b = get("/@ds=gen,n=20000/4/worklogs?limit=5000&offset=5000")
    check("gen cached page stable", a.body == b.body)
    text = a.body.decode()
    canon = all(json.dumps(r, ensure_ascii=True, separators=(",", ":")) in text for r in a.json()["results"][:200])
    check("gen rows canonical JSON", canon)
    q = "from=2020-02-01&to=2020-02-03"
    got, _ = tempo_walk("/@ds=gen,n=20000/4/worklogs?limit=1000&%s&issueId=10001&issueId=10002" % q)
    check("gen filters", len(got) == stats("ds=gen&n=20000&%s&issue=10001&issue=10002" % q)["count"] > 0)

    tiny = get("/@ds=tiny/4/worklogs").json()["results"]
    check("tiny 5", len(tiny) == 5 and len({r["author"]["accountId"] for r in tiny}) == 2)
    check("tiny non-ascii escaped", b"\\ud83d\\ude00" in get("/@ds=tiny/4/worklogs").body)
    fixture = get("/@ds=fixture:tiny/4/worklogs?limit=2")
    check("fixture paging", fixture.json()["metadata"]["count"] == 2 and "next" in fixture.json()["metadata"])
    with open(os.path.join(HERE, "fixtures", "tiny.json"), "rb") as f:
        raw = f.read()
    check("raw verbatim", get("/@ds=raw:tiny/4/worklogs?limit=1&offset=3").body == raw)
    r = get("/@ds=fixture:no_such_file/4/worklogs")
    check("missing fixture", r.status == 500 and b"fixture not found" in r.body)
    data = get("/_data?ds=tiny&kind=jira").json()
    check("_data jira", [w["id"] for w in data] == ["502001", "502002", "502003", "502004", "502005"])
    check("tiny jira started no time = 09:00", data[1]["started"] == "2024-03-11T09:00:00.000+0100")


def test_process():
    r = subprocess.run([sys.executable, SIM, "--host", "0.0.0.0", "--port", "0"], capture_output=True, timeout=10)
    check("refuses non-loopback", r.returncode != 0 and b"loopback" in r.stderr)


# ----------------------------------------------------------------------------- main
def test_dims(rows):
    """Tempo's dimension endpoints: the OpenAPI's required fields, paging, filters, errors,
    and data that agree with the company worklogs."""
    teams, pages = tempo_walk("/4/teams?limit=4")
    check("teams paged", len(teams) == 6 and pages == 2, (len(teams), pages))
    check("Team required fields", all({"administrative", "id", "links", "members", "name", "permissions",
                                       "self"} <= set(t) for t in teams))
    check("teamIds filter", [t["id"] for t in get("/4/teams?teamIds=2&teamIds=5").json()["results"]] == [2, 5])
    members, pages = tempo_walk("/4/team-memberships/search?limit=10", "POST", {})
    check("memberships paged by POST", len(members) == 45 and pages == 5, (len(members), pages))
    check("TeamMembership required fields", all({"commitmentPercent", "id", "role", "self"} <= set(m)
                                                and {"id", "name", "self"} <= set(m["role"]) for m in members))
    check("to is the day after inclusiveTo", all(
        datetime.fromisoformat(m["to"]).toordinal() == datetime.fromisoformat(m["inclusiveTo"]).toordinal() + 1
        for m in members if "to" in m))
    authors = {r["author"]["accountId"] for r in rows}
    check("every worklog author is a member", authors <= {m["member"]["accountId"] for m in members})
    got = post("/4/team-memberships/search", {"teamIds": [5], "accountIds": [members[0]["member"]["accountId"]]})
    check("membership search filters", [m["team"]["id"] for m in got.json()["results"]] == [5], got.body[:200])
    check("memberships of a team", get("/4/team-memberships/team/5").json()["metadata"]["count"] == 4)
    check("unknown team 404", get("/4/team-memberships/team/99").status == 404)
    accounts = get("/4/accounts").json()["results"]
    check("GET accounts: OPEN and CLOSED", {a["status"] for a in accounts} == {"OPEN", "CLOSED"}, accounts)
    every = post("/4/accounts/search", {"statuses": ["OPEN", "CLOSED", "ARCHIVED"]}).json()["results"]
    check("search with statuses: archived too", len(every) == 6 and len(accounts) == 5)
    check("Account required fields", all({"global", "id", "key", "lead", "links", "name", "self", "status"} <= set(a)
                                         for a in every))
    keys = {v["value"] for r in rows for v in (r.get("attributes") or {}).get("values", [])
            if v["key"] == "_Account_"}
    check("every _Account_ value is an account", keys and keys <= {a["key"] for a in every}, keys)
    check("search by keys", [a["id"] for a in post("/4/accounts/search", {"keys": ["ACME-OPS"]}).json()["results"]] == [2])
    check("bad statuses 400", post("/4/accounts/search", {"statuses": ["GONE"]}).status == 400)
    attrs, _p = tempo_walk("/4/work-attributes?limit=3")
    check("WorkAttribute required fields", len(attrs) == 4 and all(
        {"key", "name", "required", "self", "type"} <= set(a) for a in attrs))
    per = get("/4/periods?from=2024-02-10&to=2024-04-01").json()
    check("periods overlap from..to", per == {"periods": [{"from": "2024-02-01", "to": "2024-02-29"},
                                                          {"from": "2024-03-01", "to": "2024-03-31"},
                                                          {"from": "2024-04-01", "to": "2024-04-30"}]}, per)
    check("periods need to", get("/4/periods?from=2024-02-10").status == 400)
    appr = get("/4/timesheet-approvals/team/1?from=2024-03-01&to=2024-03-31").json()
    check("approvals: one per member", appr["metadata"]["count"] == 10 == len(appr["results"]))
    check("TimesheetApproval required fields", all({"actions", "period", "requiredSeconds", "self", "timeSpentSeconds",
                                                    "user", "worklogs"} <= set(a) for a in appr["results"]))
    acc = appr["results"][1]["user"]["accountId"]
    spent = sum(r["timeSpentSeconds"] for r in rows if r["author"]["accountId"] == acc
                and "2024-03-01" <= r["startDate"] <= "2024-03-31")
    check("approval time == worklogs", appr["results"][1]["timeSpentSeconds"] == spent, (spent, appr["results"][1]))
    check("approvals need from", get("/4/timesheet-approvals/team/1").status == 400)
    check("approvals of an unknown team 404", get("/4/timesheet-approvals/team/99?from=2024-03-01").status == 404)
    check("waiting: IN_REVIEW", {a["status"]["key"] for a in get("/4/timesheet-approvals/waiting").json()["results"]}
          == {"IN_REVIEW"})
    check("no scope: 403 on teams only", get("/@fault=403,fault_on=teams/4/teams").status == 403
          and get("/@fault=403,fault_on=teams/4/accounts").status == 200)
    check("/_dims accounts", len(json.loads(get("/_dims?kind=accounts").body)) == 6)


def main():
    global PORT
    tmp = tempfile.mkdtemp(prefix="tempo_sim_selftest.")
    port_file = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, SIM, "--port", "0", "--port-file", port_file],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = time.monotonic()
    try:
        while not os.path.exists(port_file):
            if proc.poll() is not None or time.monotonic() - started > 10:
                print("simulator did not start: %s" % proc.stderr.read().decode())
                return 1
            time.sleep(0.05)
        with open(port_file) as f:
            PORT = int(f.read())
        banner = proc.stdout.readline().decode()
        check("banner", banner == "tempo_sim listening on http://127.0.0.1:%d\n" % PORT, banner)
        check("health", get("/_health").body == b"ok")
        rows = test_tempo_paging()
        for test in (lambda: test_filters(rows), test_gzip_and_auth, test_faults, test_request_log,
                     lambda: test_jira(rows), lambda: test_jira_dims(rows), lambda: test_schedule(rows),
                     lambda: test_dims(rows), test_mutate_papertrail,
                     test_datasets, test_process):
            try:
                test()
            except Exception as e:      # noqa: BLE001 - a crashing test is one failure
                import traceback
                traceback.print_exc()
                check("exception in %s" % getattr(test, "__name__", test), False, repr(e))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
        check("SIGTERM exits 0", code == 0, code)
        err = proc.stderr.read().decode()
        check("quiet stderr", err == "", err[-2000:])
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    print("%d passed, %d failed (%.1f s)" % (RESULTS["passed"], RESULTS["failed"], time.monotonic() - started))
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
