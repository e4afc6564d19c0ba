"""tempo_sim.jira_dims: Jira's users, projects and issues (the dimension tables).

Follows the Jira Cloud platform OpenAPI (test/reference, ../shared/reference):
- GET /rest/api/3/users/search: a bare array, startAt/maxResults (maxResults
  capped at 1000), no total: a client stops on an empty page.
- GET /rest/api/3/user/bulk: accountId repeated (at most 200), a PageBean
  of values with startAt, maxResults (capped at 200), total, isLast.
- GET /rest/api/3/project/search: a PageBean, maxResults capped at 100, id
  and keys filters (at most 50 each), orderBy key, expand=lead.
- POST /rest/api/3/issue/bulkfetch: up to 100 ids or keys, the issues that do not
  exist or may not be seen left out (test/reference/jira-issue-bulkfetch.md).
- GET and POST /rest/api/3/search/jql: a JQL subset (id, key, project with
  = or in, updated >=, AND, ORDER BY id|key), nextPageToken paging,
  maxResults capped at 100 (5000 when only id/key are asked), the fields
  asked for; unbounded JQL is refused with 400, as Jira does.
Every issue id the dataset's worklogs use is an issue, and every author an
account; the data is derived from the issue id and the account (stable).
The scenario item jira_deny takes a permission away: users/search answers
403, project/search no project, search/jql and issue/bulkfetch no issue.
"""

import base64
import random
import re
from datetime import datetime, timedelta, timezone

from .config import JIRA_SITE, TEMPO_APP_USER, CT_JIRA, jdump
from .directory import PROJECTS, app_user, avatar_urls, issue_id_from_key, project_of
from .plumbing import Resp, jira_fail, jira_json

PROJECT_INFO = {   # id -> (name, projectTypeKey, category (id, name) or None, lead index)
    10100: ("Acme Platform", "software", ("10000", "Product"), 0),
    10101: ("Operations", "business", ("10001", "Internal"), 1),
    10102: ("Integrations", "software", None, 2),
}
STATUSES = (("To Do", "new", "2"), ("In Progress", "indeterminate", "4"), ("Done", "done", "3"))
LABELS = ("backend", "frontend", "customer", "q1", "tech-debt")
BERLIN = timezone(timedelta(hours=1))      # the bot's zone (myself), winter time


def _page_params(ctx, default, cap):
    out = []
    for name, dflt in (("startAt", 0), ("maxResults", default)):
        raw = ctx.param(name)
        if raw is None:
            out.append(dflt)
        elif re.match(r"^\d{1,9}$", raw):
            out.append(int(raw))
        else:
            raise jira_fail(400, "The value '%s' is invalid for %s." % (raw, name))
    return out[0], max(1, min(out[1], cap))


def _page_bean(ctx, items, start, max_results):
    chunk = items[start:start + max_results]
    last = start + max_results >= len(items)

    def build(kind=None):       # countmismatch: a total one more than the items
        obj = {"self": ctx.url(query=ctx.query), "maxResults": max_results, "startAt": start,
               "total": len(items) + (1 if kind == "countmismatch" else 0), "isLast": last, "values": chunk}
        if not last:
            obj["nextPage"] = ctx.url(query=ctx.with_query(startAt=start + max_results))
        return jdump(obj).encode("ascii")

    return Resp(200, CT_JIRA, build(), page=(start // max_results, last), variant=build)


# -- users ---------------------------------------------------------------------------

def all_users(ds, ver="3"):
    """Every account: the dataset's people, then the Tempo app user."""
    return [p.jira_user(ver) for p in ds.people.values()] + [app_user(ver)]


def h_users_search(ctx, m):
    if ctx.sc.jira_deny == "users":
        raise jira_fail(403, "You do not have the permission Browse users and groups (simulated).")
    start, max_results = _page_params(ctx, 50, 1000)
    users = all_users(ctx.dataset(), m.group(1))
    chunk = users[start:start + max_results]
    return Resp(200, CT_JIRA, jdump(chunk).encode("ascii"),
                page=(start // max_results, start + max_results >= len(users)))


def h_user_bulk(ctx, m):
    wanted = ctx.params.get("accountId") or []
    if not wanted:
        raise jira_fail(400, "At least one accountId is required.")
    if len(wanted) > 200:
        raise jira_fail(400, "At most 200 accountIds may be given.")
    start, max_results = _page_params(ctx, 10, 200)
    by_id = {u["accountId"]: u for u in all_users(ctx.dataset(), m.group(1))}
    seen, found = set(), []
    for acc in wanted:
        if acc in by_id and acc not in seen:
            seen.add(acc)
            found.append(by_id[acc])
    return _page_bean(ctx, found, start, max_results)


# -- projects --------------------------------------------------------------------------

def project_json(ds, pid, key, with_lead, ver="3"):
    name, ptype, cat, lead = PROJECT_INFO[pid]
    obj = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
           "self": "%s/rest/api/%s/project/%d" % (JIRA_SITE, ver, pid), "id": str(pid),
           "key": key, "name": name, "avatarUrls": avatar_urls(key), "projectTypeKey": ptype,
           "simplified": False, "style": "classic", "isPrivate": False, "properties": {}}
    if cat:
        obj["projectCategory"] = {"self": "%s/rest/api/%s/projectCategory/%s" % (JIRA_SITE, ver, cat[0]),
                                  "id": cat[0], "name": cat[1], "description": cat[1] + " projects"}
    if with_lead:
        people = list(ds.people.values())
        person = people[lead % len(people)] if people else None
        if person is not None:
            u = person.jira_user(ver)
            obj["lead"] = {k: u[k] for k in ("self", "accountId", "avatarUrls", "displayName", "active")}
    return obj


def h_project_search(ctx, m):
    ids, keys = ctx.params.get("id") or [], ctx.params.get("keys") or []
    if len(ids) > 50 or len(keys) > 50:
        raise jira_fail(400, "Up to 50 project IDs and 50 project keys can be provided.")
    if any(not re.match(r"^\d{1,18}$", i) for i in ids):
        raise jira_fail(400, "The project ID must be a number.")
    start, max_results = _page_params(ctx, 50, 100)
    expand = (ctx.param("expand") or "").split(",")
    ds = ctx.dataset()
    rows = [(pid, key) for pid, key, _lo, _hi in PROJECTS
            if (not ids or str(pid) in ids) and (not keys or key in keys) and ctx.sc.jira_deny != "projects"]
    rows.sort(key=lambda r: r[1])
    items = [project_json(ds, pid, key, "lead" in expand, m.group(1)) for pid, key in rows]
    return _page_bean(ctx, items, start, max_results)


# -- issues ----------------------------------------------------------------------------

def issue_key(issue_id):
    pid = project_of(issue_id)
    for p, key, lo, hi in PROJECTS:
        if p == pid:
            return "%s-%d" % (key, issue_id - lo + 1 if lo <= issue_id <= hi else issue_id)
    raise AssertionError(issue_id)


def _jira_time(dt):
    return dt.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M:%S.000%z")


def _issue_type(tid, name, level, subtask=False):
    return {"self": "%s/rest/api/3/issuetype/%s" % (JIRA_SITE, tid), "id": tid, "name": name,
            "subtask": subtask, "hierarchyLevel": level}


EPIC, STORY, TASK, SUBTASK = (_issue_type("10000", "Epic", 1), _issue_type("10001", "Story", 0),
                              _issue_type("10002", "Task", 0), _issue_type("10003", "Sub-task", -1, True))


def all_issues(ds):
    """Every issue the dataset knows, by id: {id: (key, fields, updated epoch ms)}.
    The lowest issue of each project is its epic; stories have it as parent;
    every fifth task is a sub-task of the story before it."""
    ids = sorted(ds.known_issues())
    by_project = {}
    for i in ids:
        by_project.setdefault(project_of(i), []).append(i)
    out = {}
    for pid, key, _lo, _hi in PROJECTS:
        members = by_project.get(pid, [])
        epic = members[0] if members else None
        last_story = None
        for n, i in enumerate(members):
            rng = random.Random("issue:%d" % i)
            created = datetime(2023, 10, 1, 8, 0, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(60 * 24 * 90))
            updated = created + timedelta(minutes=rng.randrange(60 * 24 * 200))
            status = STATUSES[rng.randrange(3)]
            labels = sorted(rng.sample(LABELS, rng.randrange(3)))
            if i == epic:
                itype, parent = EPIC, None
            elif n % 5 == 4 and last_story is not None:
                itype, parent = SUBTASK, last_story
            else:
                itype, parent = (STORY, epic) if n % 2 else (TASK, None)
                if itype is STORY:
                    last_story = i
            fields = {
                "summary": "%s %s" % (rng.choice(("Fix", "Build", "Review", "Plan", "Ship")),
                                      rng.choice(("login flow", "billing export", "on-call rota",
                                                  "API limits", "O'Brien's \"quick\" fix"))),
                "project": {"self": "%s/rest/api/3/project/%d" % (JIRA_SITE, pid), "id": str(pid),
                            "key": key, "name": PROJECT_INFO[pid][0], "projectTypeKey": PROJECT_INFO[pid][1],
                            "simplified": False},
                "issuetype": itype,
                "status": {"self": "%s/rest/api/3/status/%s" % (JIRA_SITE, status[2]), "name": status[0],
                           "id": status[2], "statusCategory": {"id": 2, "key": status[1], "name": status[0]}},
                "created": _jira_time(created), "updated": _jira_time(updated),
                "resolutiondate": _jira_time(updated) if status[1] == "done" else None,
                "labels": labels,
            }
            out[i] = (issue_key(i), fields, int(updated.timestamp() * 1000), parent)
    for i, (key, fields, upd, parent) in out.items():
        if parent is not None:
            pkey, pf = out[parent][0], out[parent][1]
            fields["parent"] = {"id": str(parent), "key": pkey, "self": "%s/rest/api/3/issue/%d" % (JIRA_SITE, parent),
                                "fields": {"summary": pf["summary"], "status": pf["status"],
                                           "priority": {"name": "Medium", "id": "3"}, "issuetype": pf["issuetype"]}}
    return out


# A JQL subset: clauses joined by AND, then ORDER BY
TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|>|<|\(|\)|,)|(?P<word>[A-Za-z0-9_.\-/:]+))')


def _tokens(jql):
    pos, out = 0, []
    jql = jql.rstrip()
    while pos < len(jql):
        m = TOKEN.match(jql, pos)
        if not m or m.end() == pos:
            raise jira_fail(400, "Error in the JQL Query: the character '%s' is a reserved JQL character." % jql[pos])
        pos = m.end()
        if m.group("str"):
            out.append(("str", re.sub(r"\\(.)", r"\1", m.group("str")[1:-1])))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
    return out


def parse_jql(jql):
    """[(field, op, [values])] and the order field; 400 for what Jira would refuse."""
    toks, i, clauses, order = _tokens(jql), 0, [], None

    def bad(msg):
        return jira_fail(400, "Error in the JQL Query: %s" % msg)

    while i < len(toks):
        kind, val = toks[i]
        if kind == "word" and val.lower() == "order":
            if i + 2 >= len(toks) or toks[i + 1][1].lower() != "by":
                raise bad("Expecting 'by' after 'order'.")
            order = toks[i + 2][1].lower()
            i += 3
            if i < len(toks) and toks[i][1].lower() in ("asc", "desc"):
                i += 1
            if i != len(toks):
                raise bad("Expecting end of query after ORDER BY.")
            break
        if clauses:
            if val.lower() != "and":
                raise bad("Expecting either 'OR' or 'AND' but got '%s'." % val)
            i += 1
            kind, val = toks[i] if i < len(toks) else ("", "")
        field = val.lower()
        if field not in ("id", "key", "issuekey", "project", "updated"):
            raise bad("Field '%s' is not supported by this simulator." % val)
        if i + 2 > len(toks):
            raise bad("Expecting operator after '%s'." % val)
        op = toks[i + 1][1].lower()
        i += 2
        if op == "in":
            if toks[i][1] != "(":
                raise bad("Expecting '(' after 'in'.")
            values, i = [], i + 1
            while True:
                values.append(toks[i][1])
                i += 1
                if toks[i][1] == ")":
                    i += 1
                    break
                if toks[i][1] != ",":
                    raise bad("Expecting ',' or ')'.")
                i += 1
        elif op in ("=", ">="):
            values = [toks[i][1]]
            i += 1
        else:
            raise bad("The operator '%s' is not supported by this simulator." % op)
        if (field == "updated") != (op == ">="):
            raise bad("The operator '%s' is not supported by the '%s' field." % (op, field))
        clauses.append(("key" if field == "issuekey" else field, values))
    if not clauses:
        raise jira_fail(400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
    return clauses, order


def _jql_day(value):
    m = re.match(r"^(\d{4})[-/](\d{2})[-/](\d{2})(?: (\d{2}):(\d{2}))?$", value)
    if not m:
        raise jira_fail(400, "Error in the JQL Query: Date value '%s' for field 'updated' is invalid." % value)
    y, mo, d, hh, mm = (int(g) if g else 0 for g in m.groups())
    return int(datetime(y, mo, d, hh, mm, tzinfo=BERLIN).timestamp() * 1000)


def select_issues(ds, clauses):
    issues = all_issues(ds)
    keep = []
    for i in sorted(issues):
        key, fields, upd, _parent = issues[i]
        ok = True
        for field, values in clauses:
            if field == "id":
                ok = ok and str(i) in values
            elif field == "key":
                ok = ok and key in values
            elif field == "project":
                ok = ok and (fields["project"]["key"] in values or fields["project"]["id"] in values)
            else:
                ok = ok and upd >= _jql_day(values[0])
        if ok:
            keep.append((i, key, fields))
    return keep


def _search(ctx, jql, token, max_raw, fields):
    if jql is None:
        raise jira_fail(400, "The JQL query is required.")
    clauses, order = parse_jql(jql)
    few = all(f in ("id", "key") for f in fields)
    max_results = 50 if max_raw is None else max_raw
    if not isinstance(max_results, int) or max_results < 0:
        raise jira_fail(400, "maxResults must be a non-negative integer.")
    max_results = max(1, min(max_results, 5000 if few else 100))
    start = 0
    if token is not None:
        try:
            start = int(base64.b64decode(token.encode("ascii")).decode("ascii").split(":")[1])
        except (ValueError, IndexError, UnicodeError):
            raise jira_fail(400, "The nextPageToken is invalid or expired.") from None
    ds = ctx.dataset()
    rows = select_issues(ds, clauses) if ctx.sc.jira_deny != "issues" else []
    if order == "key":
        rows.sort(key=lambda r: r[1])
    chunk = rows[start:start + max_results]
    last = start + max_results >= len(rows)
    want_all = "*all" in fields or "*navigable" in fields
    issues = []
    for i, key, f in chunk:
        obj = {"expand": "", "id": str(i), "self": "%s/rest/api/3/issue/%d" % (JIRA_SITE, i), "key": key}
        sel = {k: v for k, v in f.items() if want_all or k in fields}
        if sel:
            obj["fields"] = sel
        issues.append(obj)
    def build(kind=None):       # nextloop: the token of this same page
        body = {"issues": issues, "isLast": last and kind != "nextloop"}
        if not last or kind == "nextloop":
            nxt = start if kind == "nextloop" else start + max_results
            body["nextPageToken"] = base64.b64encode(("page:%d" % nxt).encode("ascii")).decode("ascii")
        return jdump(body).encode("ascii")

    return Resp(200, CT_JIRA, build(), page=(start // max_results, last), variant=build)


def h_search_jql_get(ctx, _m):
    raw = ctx.param("maxResults")
    if raw is not None and not re.match(r"^\d{1,9}$", raw):
        raise jira_fail(400, "maxResults must be a non-negative integer.")
    fields = ",".join(ctx.params.get("fields") or ["id"]).split(",")
    return _search(ctx, ctx.param("jql"), ctx.param("nextPageToken"),
                   int(raw) if raw is not None else None, fields)


def h_search_jql_post(ctx, _m):
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise jira_fail(400, "The request body must be a JSON object.")
    fields = body.get("fields") or ["id"]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise jira_fail(400, "fields must be a list of strings.")
    return _search(ctx, body.get("jql"), body.get("nextPageToken"), body.get("maxResults"), fields)


def h_issue_bulkfetch(ctx, _m):
    """POST issue/bulkfetch: up to 100 ids or keys; the issues that do not exist (or
    may not be seen) are left out, issueErrors is empty."""
    body = ctx.json_body()
    wanted = body.get("issueIdsOrKeys") if isinstance(body, dict) else None
    if not isinstance(wanted, list) or not wanted or len(wanted) > 100 or \
            not all(isinstance(w, str) for w in wanted):
        raise jira_fail(400, "issueIdsOrKeys must list 1 to 100 issue IDs or keys.")
    fields = body.get("fields") or ["*navigable"]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise jira_fail(400, "fields must be a list of strings.")
    issues = all_issues(ctx.dataset()) if ctx.sc.jira_deny != "issues" else {}
    by_key = {v[0]: i for i, v in issues.items()}
    want_all = "*all" in fields or "*navigable" in fields
    out, seen = [], set()
    for w in wanted:
        i = int(w) if w.isdigit() else by_key.get(w)
        if i is None or i not in issues or i in seen:
            continue
        seen.add(i)
        key, f = issues[i][0], issues[i][1]
        obj = {"expand": "", "id": str(i), "self": "%s/rest/api/3/issue/%d" % (JIRA_SITE, i), "key": key}
        sel = {k: v for k, v in f.items() if want_all or k in fields}
        if sel:
            obj["fields"] = sel
        out.append(obj)
    def build(kind=None):       # countmismatch: the first issue in issueErrors instead
        if kind == "countmismatch" and out:
            return jdump({"issues": out[1:], "issueErrors": [
                {"id": out[0]["id"], "errorMessage": "Retry the request (simulated)."}]}).encode("ascii")
        return jdump({"issues": out, "issueErrors": []}).encode("ascii")

    return Resp(200, CT_JIRA, build(), page=(0, True), variant=build)


def dump(ds, what):
    """For tests (GET /_jira?what=users|projects|issues): the rows as plain JSON,
    computed from the directory, not through the API's paging."""
    if what == "users":
        return [{"account_id": u["accountId"], "display_name": u["displayName"],
                 "email": u.get("emailAddress"), "active": u["active"],
                 "account_type": u["accountType"]} for u in all_users(ds)]
    if what == "projects":
        return [{"id": pid, "key": key, "name": PROJECT_INFO[pid][0]} for pid, key, _l, _h in PROJECTS]
    issues = all_issues(ds)
    return [{"id": i, "key": k, "project_key": f["project"]["key"], "issue_type": f["issuetype"]["name"],
             "parent_key": f.get("parent", {}).get("key"), "updated_ms": u}
            for i, (k, f, u, _p) in sorted(issues.items())]


__all__ = ["h_users_search", "h_user_bulk", "h_project_search", "h_search_jql_get",
           "h_search_jql_post", "h_issue_bulkfetch", "dump", "issue_id_from_key", "TEMPO_APP_USER"]
