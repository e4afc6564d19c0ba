"""tempo_sim.control: control endpoints."""

import json
from datetime import date
from urllib.parse import parse_qs

from .config import CFG, JIRA_ID_OFFSET, JIRA_SITE, SimError, TEMPO_SITE, jdump
from .timeutil import now_ms, parse_day, parse_instant, utc_iso
from .directory import WORKLOAD_SCHEMES, Person, directory
from .snapshots import DictSnap, _int, default_order_key
from .datasets import DS_RE, drop_datasets, get_dataset
from .selection import Filter, select, stats
from .plumbing import LOG, auth_kind
from .tempo_dims import dims_dump


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
    if path == "/_jira":
        from .jira_dims import dump
        return 200, "application/json", jdump(dump(ds_from_params(), p("what", "issues"))).encode("ascii")
    if path == "/_data":
        return data_dump(ds_from_params(), p)
    if path == "/_dims":
        return dims_dump(ds_from_params(), p)
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
