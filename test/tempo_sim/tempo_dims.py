"""tempo_sim.tempo_dims: Tempo's dimension endpoints (teams, memberships, accounts, work
attributes, approval periods, timesheet approvals), after the Tempo OpenAPI 4.0 document.

The data derive from the directory (directory(CFG.seed)), so that they agree with every
dataset's worklogs: every person is a member of one of the teams 1-4 (person 5 moved from
team 1 to team 2 on 2024-07-01; person 39 was a member from 2024-03-01 to 2024-11-30), the
leads of teams 1-4 also form the administrative team 5, team 6 has no members; the values of
the _Account_ work attribute of the worklogs (snapshots.GenSnap.ACCOUNTS) are accounts, and
so are one global account and one archived account.  Approval periods are calendar months
(approvalPeriod MONTH); a timesheet approval's timeSpentSeconds is the sum of the person's
worklogs of the dataset in the period, its requiredSeconds that of the person's schedule.

  GET  /4/teams?offset&limit&teamIds&teamMembers&name    PageableTeam
  POST /4/team-memberships/search?offset&limit  {teamIds, accountIds, roleIds}
                                                 TeamMembershipResultsPageable, by id
  GET  /4/team-memberships/team/{teamId}        TeamMembershipResults (not paged)
  GET  /4/accounts?offset&limit                  PageableAccount: OPEN and CLOSED only
  POST /4/accounts/search?offset&limit  {ids, keys, statuses, global}   PageableAccount;
                                                 without statuses: OPEN and CLOSED, as GET
  GET  /4/work-attributes?offset&limit           PageableWorkAttribute
  GET  /4/periods?from&to  (both required)       {"periods":[{from,to}]}: the months that
                                                 overlap from..to (no envelope, no paging)
  GET  /4/timesheet-approvals/team/{teamId}?from[&to]   TimesheetApprovalResults (not
                                                 paged): per period overlapping from..to
                                                 (to defaults to from), per member then
  GET  /4/timesheet-approvals/waiting            the IN_REVIEW approvals person 0 reviews

A token without a scope is the scenario fault=403,fault_on=teams (or team-memberships,
accounts, work-attributes, periods, timesheet-approvals).  The control endpoint
/_dims?kind=teams|memberships|accounts|work_attributes|periods|approvals[&from&to&team]
returns the same objects (every account, whatever its status), for tests.
"""

import calendar
import re
from datetime import date
from functools import lru_cache
from urllib.parse import unquote

from .config import CFG, CT_TEMPO, TEMPO_SITE, jdump
from .directory import directory
from .selection import Filter, select, stats
from .plumbing import Resp, tempo_fail, tempo_json
from .tempo_api import tempo_day, tempo_paging


ROLES = {1: "Member", 2: "Team Lead"}
PROGRAM = {"id": 100201, "name": "Core Program", "self": TEMPO_SITE + "/4/programs/100201"}
# id, name, summary, administrative, lead person index, in the program
TEAMS = ((1, "Platform", "Core services and the developer platform", False, 0, True),
         (2, "Operations", "Keeps production running", False, 10, True),
         (3, "Integration", "Customer integrations", False, 20, False),
         (4, "Consulting", None, False, 30, False),
         (5, "Leadership", "The leads of every team", True, 0, False),
         (6, "Archive Team", "No members any more", False, None, False))
# id, key, name, status, global, customer (id, key, name) or None, lead, category, budget
CUSTOMERS = {"ACME": (1, "ACME Corp"), "GLOBEX": (2, "Globex Corporation"), "INITECH": (3, "Initech")}
ACCOUNTS = ((1, "ACME-DEV", "ACME: Development", "OPEN", False, "ACME", 0, "DEV", 600),
            (2, "ACME-OPS", "ACME: Operations", "OPEN", False, "ACME", 10, "OPS", 200),
            (3, "GLOBEX-IMPL", "Globex: Implementation", "CLOSED", False, "GLOBEX", 20, "DEV", None),
            (4, "INITECH-SUPPORT", "Initech: Support", "OPEN", False, "INITECH", 30, "OPS", None),
            (5, "INTERNAL", "Internal", "OPEN", True, None, 0, None, None),
            (6, "LEGACY-MIGRATION", "Legacy migration", "ARCHIVED", False, "ACME", 10, "DEV", 50))
CATEGORIES = {"DEV": (1, "Development"), "OPS": (2, "Operations")}
CATEGORY_VALUES = ("Development", "Meeting", "Support", "Review")


def _user(acc):
    return {"accountId": acc, "self": "%s/4/users/%s" % (TEMPO_SITE, acc)}


def _self(path):
    return {"self": TEMPO_SITE + path}


@lru_cache(maxsize=4)
def teams(seed):
    people = directory(seed).people
    out = []
    for tid, name, summary, admin, lead, program in TEAMS:
        t = {"self": "%s/4/teams/%d" % (TEMPO_SITE, tid), "id": tid, "name": name}
        if summary:
            t["summary"] = summary
        t["administrative"] = admin
        if lead is not None:
            t["lead"] = _user(people[lead].account_id)
        if program:
            t["program"] = dict(PROGRAM)
        t["links"] = _self("/4/team-links/team/%d" % tid)
        t["members"] = _self("/4/teams/%d/members" % tid)
        t["permissions"] = _self("/4/teams/%d/permissions" % tid)
        out.append(t)
    return out


def _membership_rows(people):
    """(team, person index, role, commitment, from, inclusive to or None)"""
    rows = []
    for p in people:
        team = p.idx // 10 + 1
        role = 2 if p.idx % 10 == 0 else 1
        commitment = 50 if p.workload is not None and p.workload.id == 2 else 100
        if p.idx == 5:
            rows.append((1, 5, role, commitment, "2023-01-01", "2024-06-30"))
            rows.append((2, 5, role, commitment, "2024-07-01", None))
        elif p.idx == 39:
            rows.append((team, 39, role, commitment, "2024-03-01", "2024-11-30"))
        else:
            rows.append((team, p.idx, role, commitment, "2024-01-01", None))
    for lead in (0, 10, 20, 30):
        rows.append((5, lead, 2, 10, "2024-01-01", None))
    return rows


@lru_cache(maxsize=4)
def memberships(seed):
    people = directory(seed).people
    names = {t[0]: t[1] for t in TEAMS}
    out = []
    for mid, (team, idx, role, commitment, first, last) in enumerate(_membership_rows(people), 1):
        m = {"self": "%s/4/team-memberships/%d" % (TEMPO_SITE, mid), "id": mid,
             "commitmentPercent": commitment, "from": first}
        if last is not None:
            m["to"] = date.fromordinal(date.fromisoformat(last).toordinal() + 1).isoformat()
            m["inclusiveTo"] = last
        m["member"] = _user(people[idx].account_id)
        m["role"] = {"id": role, "name": ROLES[role], "self": "%s/4/roles/%d" % (TEMPO_SITE, role)}
        m["team"] = {"id": team, "name": names[team], "self": "%s/4/teams/%d" % (TEMPO_SITE, team)}
        out.append(m)
    return out


@lru_cache(maxsize=4)
def accounts(seed):
    people = directory(seed).people
    out = []
    for aid, key, name, status, glob, cust, lead, cat, budget in ACCOUNTS:
        a = {"self": "%s/4/accounts/%s" % (TEMPO_SITE, key), "id": aid, "key": key, "name": name,
             "status": status, "global": glob, "lead": _user(people[lead].account_id)}
        if cust:
            cid, cname = CUSTOMERS[cust]
            a["customer"] = {"id": cid, "key": cust, "name": cname,
                             "self": "%s/4/customers/%d" % (TEMPO_SITE, cid)}
        if cat:
            cid, cname = CATEGORIES[cat]
            a["category"] = {"id": cid, "key": cat, "name": cname,
                             "self": "%s/4/account-categories/%s" % (TEMPO_SITE, cat)}
        if budget is not None:
            a["monthlyBudget"] = budget
        a["links"] = _self("/4/account-links/account/%d" % aid)
        out.append(a)
    return out


def work_attributes():
    def attr(key, name, typ, required, values=None):
        a = {"self": "%s/4/work-attributes/%s" % (TEMPO_SITE, key), "key": key, "name": name,
             "type": typ, "required": required}
        if values:
            a["values"] = list(values)
            a["names"] = {v: "Category: %s" % v for v in values}
        return a
    return [attr("_Account_", "Account", "ACCOUNT", True),
            attr("_Category_", "Category", "STATIC_LIST", False, CATEGORY_VALUES),
            attr("_Billable_", "Billable", "CHECKBOX", False),
            attr("_Ticket_", "External ticket", "INPUT_FIELD", False)]


def periods(first, last):
    """The calendar months that overlap first..last (ordinals)."""
    out = []
    d = date.fromordinal(first).replace(day=1)
    while d.toordinal() <= last:
        end = d.replace(day=calendar.monthrange(d.year, d.month)[1])
        out.append({"from": d.isoformat(), "to": end.isoformat()})
        d = date.fromordinal(end.toordinal() + 1)
    return out


def _status(idx, period_to):
    if period_to < "2024-07-01":
        return "APPROVED"
    if period_to < "2024-11-01":
        return "IN_REVIEW" if idx % 3 == 0 else "APPROVED"
    return "OPEN"


def approvals(ds, team, first, last):
    """The approvals of a team's members for the periods overlapping first..last."""
    people = directory(CFG.seed).people
    lead = next(t[4] for t in TEAMS if t[0] == team)
    out = []
    for per in periods(first, last):
        p_first, p_last = date.fromisoformat(per["from"]).toordinal(), date.fromisoformat(per["to"]).toordinal()
        seen = set()
        for team_id, idx, _r, _c, m_first, m_last in _membership_rows(people):
            if team_id != team or idx in seen or m_first > per["to"] or (m_last and m_last < per["from"]):
                continue
            seen.add(idx)
            out.append(_approval(ds, people[idx], lead, per, p_first, p_last))
    return out


def _approval(ds, person, lead, per, p_first, p_last):
    acc = person.account_id
    base = "%s/4/timesheet-approvals/user/%s" % (TEMPO_SITE, acc)
    query = "?from=%s&to=%s" % (per["from"], per["to"])
    required = sum(s["requiredSeconds"] for s in (person.day_schedule(d) for d in range(p_first, p_last + 1))
                   if s is not None)
    spent = stats(ds.snap, select(ds.snap, Filter(from_day=p_first, to_day=p_last, authors=(acc,))))
    a = {"self": base + query, "period": dict(per), "requiredSeconds": required,
         "timeSpentSeconds": spent["sum_time_spent"], "user": _user(acc)}
    reviewer = directory(CFG.seed).people[lead].account_id if lead is not None and lead != person.idx else None
    if reviewer:
        a["reviewer"] = _user(reviewer)
    key = _status(person.idx, per["to"])
    status = {"key": key}
    if key != "OPEN":
        status["updatedAt"] = "%sT09:00:00Z" % per["to"]
        status["actor"] = _user(reviewer or acc)
        status["requiredSecondsAtSubmit"] = required
        status["timeSpentSecondsAtSubmit"] = spent["sum_time_spent"]
    a["status"] = status
    names = {"OPEN": ("submit",), "IN_REVIEW": ("approve", "reject", "recall"), "APPROVED": ("reopen",)}[key]
    a["actions"] = {n: {"self": "%s/%s%s" % (base, n, query)} for n in names}
    a["worklogs"] = {"self": "%s/4/worklogs/user/%s%s" % (TEMPO_SITE, acc, query)}
    return a


# -- endpoints ---------------------------------------------------------------------------

def paged(ctx, rows):
    """A Pageable answer of rows by offset/limit with metadata.next, and the paging faults."""
    offset, limit = tempo_paging(ctx)
    page = rows[offset:offset + limit]
    has_next = offset + limit < len(rows)

    def build(kind=None):
        meta = {"count": len(page) + (1 if kind == "countmismatch" else 0), "offset": offset, "limit": limit}
        if kind == "nextloop":
            meta["next"] = ctx.url(query=ctx.with_query(offset=offset, limit=limit))
        elif kind == "foreignnext":
            meta["next"] = ctx.url(query=ctx.with_query(offset=offset + limit, limit=limit),
                                   host="evil.example.com")
        elif has_next:
            meta["next"] = ctx.url(query=ctx.with_query(offset=offset + limit, limit=limit))
        if offset > 0:
            meta["previous"] = ctx.url(query=ctx.with_query(offset=max(0, offset - limit), limit=limit))
        return jdump({"self": ctx.url(query=ctx.with_query(offset=offset, limit=limit)),
                      "metadata": meta, "results": page}).encode("ascii")

    return Resp(200, CT_TEMPO, build(), page=(offset // limit, not has_next), variant=build)


def _int_list(name, values):
    out = []
    for v in values or []:
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and re.match(r"^\d{1,9}$", v))):
            raise tempo_fail(400, "'%s' must contain only numeric ids" % name)
        out.append(int(v))
    return set(out)


def _str_list(body, name):
    values = body.get(name)
    if values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
        raise tempo_fail(400, "'%s' must be a list of strings" % name)
    return None if values is None else set(values)


def _search_body(ctx):
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise tempo_fail(400, "Request body must be a JSON object")
    return body


def h_teams(ctx, _m):
    rows = teams(CFG.seed)
    if "teamIds" in ctx.params:
        wanted = _int_list("teamIds", ctx.params["teamIds"])
        rows = [t for t in rows if t["id"] in wanted]
    if "teamMembers" in ctx.params:
        wanted = set(ctx.params["teamMembers"])
        ids = {m["team"]["id"] for m in memberships(CFG.seed) if m["member"]["accountId"] in wanted}
        rows = [t for t in rows if t["id"] in ids]
    if ctx.param("name") is not None:
        rows = [t for t in rows if t["name"] == ctx.param("name")]
    return paged(ctx, rows)


def h_membership_search(ctx, _m):
    body = _search_body(ctx)
    teams_w = _int_list("teamIds", body["teamIds"]) if body.get("teamIds") is not None else None
    roles_w = _int_list("roleIds", body["roleIds"]) if body.get("roleIds") is not None else None
    accs_w = _str_list(body, "accountIds")
    rows = [m for m in memberships(CFG.seed)
            if (teams_w is None or m["team"]["id"] in teams_w) and (roles_w is None or m["role"]["id"] in roles_w)
            and (accs_w is None or m["member"]["accountId"] in accs_w)]
    return paged(ctx, rows)


def _team_id(raw):
    value = unquote(raw)
    if not value.isdigit():
        raise tempo_fail(400, "'teamId' must be a number")
    if int(value) not in {t[0] for t in TEAMS}:
        raise tempo_fail(404, "Team cannot be found in the system")
    return int(value)


def h_team_memberships(ctx, m):
    team = _team_id(m.group(1))
    rows = [x for x in memberships(CFG.seed) if x["team"]["id"] == team]
    return tempo_json({"self": ctx.url(query=ctx.query), "metadata": {"count": len(rows)}, "results": rows})


def h_accounts(ctx, _m):
    return paged(ctx, [a for a in accounts(CFG.seed) if a["status"] in ("OPEN", "CLOSED")])


def h_account_search(ctx, _m):
    body = _search_body(ctx)
    ids = _int_list("ids", body["ids"]) if body.get("ids") is not None else None
    keys = _str_list(body, "keys")
    statuses = _str_list(body, "statuses")
    if statuses is not None and not statuses <= {"OPEN", "CLOSED", "ARCHIVED"}:
        raise tempo_fail(400, "'statuses' must be OPEN, CLOSED or ARCHIVED")
    statuses = statuses if statuses is not None else {"OPEN", "CLOSED"}
    glob = body.get("global")
    if glob is not None and not isinstance(glob, bool):
        raise tempo_fail(400, "'global' must be a boolean")
    rows = [a for a in accounts(CFG.seed)
            if a["status"] in statuses and (ids is None or a["id"] in ids) and (keys is None or a["key"] in keys)
            and (glob is None or a["global"] == glob)]
    return paged(ctx, rows)


def h_work_attributes(ctx, _m):
    return paged(ctx, work_attributes())


def _range(ctx, to_required):
    if ctx.param("from") is None or (to_required and ctx.param("to") is None):
        raise tempo_fail(400, "'%s' is required" % ("from" if ctx.param("from") is None else "to"))
    first = tempo_day("from", ctx.param("from"))
    last = tempo_day("to", ctx.param("to")) if ctx.param("to") is not None else first
    if last < first:
        raise tempo_fail(400, "'to' must not be before 'from'")
    if last - first > 3700:
        raise tempo_fail(400, "The date range must not exceed 10 years")
    return first, last


def h_periods(ctx, _m):
    first, last = _range(ctx, True)
    return tempo_json({"periods": periods(first, last)})


def h_team_approvals(ctx, m):
    team = _team_id(m.group(1))
    first, last = _range(ctx, False)
    rows = approvals(ctx.dataset(), team, first, last)
    return tempo_json({"self": ctx.url(query=ctx.query), "metadata": {"count": len(rows)}, "results": rows})


def h_approvals_waiting(ctx, _m):
    owner = directory(CFG.seed).people[0].account_id
    first, last = date(2024, 1, 1).toordinal(), date(2024, 12, 31).toordinal()
    rows = [a for t in TEAMS for a in approvals(ctx.dataset(), t[0], first, last)
            if a["status"]["key"] == "IN_REVIEW" and a.get("reviewer", {}).get("accountId") == owner]
    return tempo_json({"self": ctx.url(query=ctx.query), "metadata": {"count": len(rows)}, "results": rows})


ROUTES = (
    ("GET", r"^/4/teams$", h_teams),
    ("POST", r"^/4/team-memberships/search$", h_membership_search),
    ("GET", r"^/4/team-memberships/team/([^/]+)$", h_team_memberships),
    ("GET", r"^/4/accounts$", h_accounts),
    ("POST", r"^/4/accounts/search$", h_account_search),
    ("GET", r"^/4/work-attributes$", h_work_attributes),
    ("GET", r"^/4/periods$", h_periods),
    ("GET", r"^/4/timesheet-approvals/team/([^/]+)$", h_team_approvals),
    ("GET", r"^/4/timesheet-approvals/waiting$", h_approvals_waiting),
)


def dims_dump(ds, p):
    """/_dims: the objects of a kind, as the endpoints serve them (accounts: all statuses)."""
    kind = p("kind", "teams")
    if kind == "teams":
        rows = teams(CFG.seed)
    elif kind == "memberships":
        rows = memberships(CFG.seed)
    elif kind == "accounts":
        rows = accounts(CFG.seed)
    elif kind == "work_attributes":
        rows = work_attributes()
    elif kind in ("periods", "approvals"):
        first = date.fromisoformat(p("from", "2024-01-01")).toordinal()
        last = date.fromisoformat(p("to", "2024-12-31")).toordinal()
        rows = periods(first, last) if kind == "periods" else approvals(ds, int(p("team", "1")), first, last)
    else:
        return 400, "text/plain", b"tempo_sim: unknown kind"
    return 200, "application/json", jdump(rows).encode("ascii")
