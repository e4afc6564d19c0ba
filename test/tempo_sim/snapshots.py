"""tempo_sim.snapshots: Tempo worklog snapshots."""

import random
import threading
from array import array
from datetime import date

from .config import JIRA_SITE, TEMPO_SITE, _UIDS, jdump
from .timeutil import (
    EPOCH_ORD, HMS, day_offset, day_str, parse_day, parse_instant, parse_tod, utc_iso)
from .texts import PHRASES


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
                from .jira_view import JiraView  # (it imports this module)
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
