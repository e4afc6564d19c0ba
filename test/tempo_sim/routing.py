"""tempo_sim.routing: routing, authentication and fault bodies."""

import base64
import binascii
import json
import re
import zlib

from .config import CFG, CT_JIRA, CT_TEMPO, HUGE_BYTES, JIRA_SITE, TEMPO_SITE
from .plumbing import Resp, jira_json, tempo_json
from .tempo_api import (
    h_id_mapping, h_papertrail, h_search, h_user_schedule, h_user_scheme, h_worklog_one,
    h_worklogs, h_worklogs_scoped)
from .tempo_dims import ROUTES as DIMS_ROUTES
from .jira_api import (
    h_jira_deleted, h_jira_issue_worklog_one, h_jira_issue_worklogs, h_jira_list,
    h_jira_myself, h_jira_updated, h_jira_user)
from .jira_dims import (
    h_issue_bulkfetch, h_project_search, h_search_jql_get, h_search_jql_post, h_user_bulk,
    h_users_search)


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
    # Jira dimension tables
    ("GET", r"^/rest/api/([23])/users/search$", h_users_search),
    ("GET", r"^/rest/api/([23])/user/bulk$", h_user_bulk),
    ("GET", r"^/rest/api/([23])/project/search$", h_project_search),
    ("GET", r"^/rest/api/(3)/search/jql$", h_search_jql_get),
    ("POST", r"^/rest/api/(3)/search/jql$", h_search_jql_post),
    ("POST", r"^/rest/api/(3)/issue/bulkfetch$", h_issue_bulkfetch),
) + DIMS_ROUTES]

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
