"""tempo_sim.jira_api: Jira endpoints."""

import bisect
import re
from array import array
from urllib.parse import unquote

from .config import BOT_ACCOUNT_ID, CFG, CT_JIRA, JIRA_SITE, TEMPO_APP_USER, jdump
from .directory import app_user, avatar_urls, issue_id_from_key
from .snapshots import _int
from .plumbing import Resp, jira_fail, jira_json


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
