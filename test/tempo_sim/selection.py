"""tempo_sim.selection: filters, ordering, statistics (cached per snapshot)."""

import bisect
import threading
from array import array
from collections import OrderedDict
from typing import NamedTuple

from .config import CFG
from .timeutil import day_str
from .directory import project_of


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
