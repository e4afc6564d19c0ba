"""tempo_sim.tempo_api: Tempo endpoints."""

import base64
import binascii
import re
from urllib.parse import unquote

from .config import CFG, CT_TEMPO, DEFAULT_LIMIT, JIRA_ID_OFFSET, MAX_LIMIT, SimError, jdump
from .timeutil import now_ms, parse_day, parse_instant
from .directory import WORKLOAD_SCHEMES, directory, project_of
from .snapshots import _int
from .selection import Filter, PAGE_CACHE, select
from .plumbing import ApiError, Resp, tempo_fail, tempo_json


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
