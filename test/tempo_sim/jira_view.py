"""tempo_sim.jira_view: a snapshot seen from Jira (Tempo twins plus Jira-only worklogs)."""

from array import array

from .config import JIRA_ID_OFFSET, JIRA_SITE, jdump
from .timeutil import EPOCH_ORD, jira_duration, jira_ts, local_to_utc
from .directory import app_user
from .texts import doc_adf, doc_wiki, text_doc


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
