"""tempo_sim.datasets: dataset builders."""

import json
import os
import random
import re
import threading
from collections import OrderedDict
from datetime import date
from typing import NamedTuple

from .config import CFG, FIXTURE_DIR, JIRA_ONLY_BASE, SimError, jdump
from .timeutil import EPOCH_ORD, day_offset, local_to_utc
from .directory import Person, directory
from .texts import JIRA_ONLY_TEXTS, PHRASES, doc_plain, rich_doc
from .snapshots import DictSnap, GenSnap, default_order_key, tempo_worklog


def build_company(seed, people, issues):
    """~25k worklogs of 2024 following each person's schedule.  Returns (rows, rich, jira_only)."""
    rng = random.Random("company:%d" % seed)
    fallback = Person.default("")
    first, last = date(2024, 1, 1).toordinal(), date(2024, 12, 31).toordinal()
    cap_ms = (date(2025, 1, 31).toordinal() - EPOCH_ORD) * 86400000
    variation = (-3600, -1800, -900, 0, 0, 0, 0, 900, 1800, 3600, 7200)
    items, favourites = [], {}
    for p in people:
        favourites[p.idx] = rng.sample(issues, 4)
        sched = p if p.workload else fallback
        for day in range(first, last + 1):
            required = sched.day_schedule(day)["requiredSeconds"]
            weekend = date.fromordinal(day).weekday() >= 5
            if required > 0 and rng.random() >= 0.03:
                units = max(1, (required + rng.choice(variation)) // 900)
                k = max(min(rng.randint(1, 4), units), -(-units // 32))
                parts = [33]
                while max(parts) > 32:          # each worklog 900..28800 seconds
                    cuts = sorted(rng.sample(range(1, units), k - 1))
                    parts = [b - a for a, b in zip([0] + cuts, cuts + [units])]
            elif weekend and rng.random() < 0.015:
                parts = [rng.randint(1, 16)]
            else:
                continue
            t = 28800 + rng.randint(0, 6) * 900
            for seq, units in enumerate(parts):
                items.append((day, t, p.idx, seq, units * 900, rng.random() < 0.9))
                t += units * 900 + rng.choice((0, 0, 900, 1800))
    items.sort(key=lambda it: (it[0], it[1] if it[5] else 0, it[2], it[3]))

    rows, rich = [], {}
    for n, (day, tod, pidx, _seq, spent, has_time) in enumerate(items):
        tid = 1000 + n
        p = people[pidx]
        issue = rng.choice(favourites[pidx] if rng.random() < 0.8 else issues)
        bill = None
        if rng.random() < 0.7:
            bill = spent if rng.random() < 0.6 else max(0, spent - 900 * rng.randint(1, 3))
        desc, roll = None, rng.random()
        if roll < 0.8:
            if roll < 0.056:
                desc = ""
            elif roll < 0.12:
                rich[tid] = rich_doc(rng, people, pidx)
                desc = doc_plain(rich[tid])
            else:
                desc = rng.choice(PHRASES)
        end_utc = (day - EPOCH_ORD) * 86400 + tod + spent - day_offset(day)
        if rng.random() < 0.08:
            crt = end_utc + 86400 - (tod + spent) + 30600 + rng.randint(0, 3600)
        else:
            crt = end_utc + rng.randint(60, 7200)
        upd = crt if rng.random() < 0.65 else crt + rng.randint(3600, 20 * 86400)
        with_ms = rng.random() < 0.4
        crt_ms = crt * 1000 + (rng.randrange(1000) if with_ms else 0)
        upd_ms = min(upd * 1000 + (rng.randrange(1000) if with_ms else 0), cap_ms)
        attrs = []
        if rng.random() < 0.5:
            attrs.append({"key": "_Account_", "value": rng.choice(GenSnap.ACCOUNTS)})
            if rng.random() < 0.4:
                attrs.append({"key": "_Category_", "value": rng.choice(GenSnap.CATEGORIES)})
        rows.append(tempo_worklog(tid, issue, spent, bill, day, tod if has_time else None, desc,
                                  crt_ms, max(upd_ms, crt_ms), with_ms, p.account_id, attrs))

    jira_only = []
    weekdays = [d for d in range(first, last + 1) if date.fromordinal(d).weekday() < 5]
    for k in range(25):
        day = rng.choice(weekdays)
        started = local_to_utc((day - EPOCH_ORD) * 86400 + rng.randint(40, 64) * 900)[0]
        spent = 900 * rng.randint(1, 8)
        created = (started + spent + rng.randint(60, 3600)) * 1000 + rng.randrange(1000)
        jira_only.append(JiraOnly(JIRA_ONLY_BASE + 1 + k, rng.choice(issues),
                                  people[rng.randrange(len(people))], started * 1000, created,
                                  created, spent, rng.choice(JIRA_ONLY_TEXTS)))
    return rows, rich, jira_only


def load_fixture(name):
    path = os.path.join(FIXTURE_DIR, name + ".json")
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        raise SimError(500, "tempo_sim: fixture not found: %s" % path) from None
    except ValueError as e:
        raise SimError(500, "tempo_sim: fixture %s is not valid JSON: %s" % (path, e)) from None
    if not isinstance(data, list):
        raise SimError(500, "tempo_sim: fixture %s must hold a JSON array" % path)
    try:
        jdump(data)
    except ValueError:
        raise SimError(500, "tempo_sim: fixture %s has a number that does not survive re-serialising "
                            "(NaN/Infinity/beyond float range); serve it with raw:" % path) from None
    return data


class JiraOnly(NamedTuple):
    jid: int
    issue: int
    person: Person
    started_ms: int
    created_ms: int
    upd_ms: int
    spent: int
    text: str


class Dataset:
    """One named dataset: the current Tempo snapshot plus mutable side state
    (papertrail events, Jira deletions, Jira update times of mutated rows)."""

    def __init__(self, name, n):
        self.name, self.n = name, n
        self.kind = name.split(":", 1)[0]
        self.lock = threading.RLock()
        self.snap = None
        self.mutated = False
        self.jira_only = []
        self.events = []              # (epoch ms, AuditLogEvent)
        self.jira_deleted = []        # (epoch ms, jira worklog id), ascending
        self.jira_upd = {}            # tempoWorklogId -> Jira updated ms after a mutation
        self.last_jira_ms = 0
        self.people = {}              # accountId -> Person (directory people first)
        self.extra_issues = set()
        self.raw_path = None

    def build(self):
        dirs = directory(CFG.seed)
        if self.kind == "company":
            rows, rich, self.jira_only = build_company(CFG.seed, dirs.people, dirs.issues)
            self.snap = DictSnap(rows, rich, True)
            self.people = {p.account_id: p for p in dirs.people}
            self.extra_issues = set(dirs.issues)
        elif self.kind == "gen":
            self.snap = GenSnap(self.n, CFG.seed, dirs.people)
            self.people = {p.account_id: p for p in dirs.people}
        elif self.kind == "tiny":
            self.snap = DictSnap(sorted(load_fixture("tiny"), key=default_order_key), {}, True)
        elif self.kind == "fixture":
            self.snap = DictSnap(load_fixture(self.name.split(":", 1)[1]), {}, False)
        else:
            self.raw_path = os.path.join(FIXTURE_DIR, self.name.split(":", 1)[1] + ".json")
            self.snap = DictSnap([], {}, True)
        for acc in self.snap.authors:
            if acc and acc not in self.people:
                self.people[acc] = Person.default(acc)
        self.extra_issues |= {j.issue for j in self.jira_only}
        self.last_jira_ms = max(self.snap.upd, default=0)

    def known_issues(self):
        return self.snap.issue_set | self.extra_issues

    def next_jira_ms(self, ms):
        self.last_jira_ms = max(ms, self.last_jira_ms + 1)
        return self.last_jira_ms


_DATASETS = OrderedDict()
_DS_LOCK = threading.Lock()
DS_RE = re.compile(r"^(company|gen|tiny|(fixture|raw):[A-Za-z0-9_-]+)$")


def get_dataset(name, n):
    key = (name, n if name == "gen" else None)
    with _DS_LOCK:
        ds = _DATASETS.get(key)
        if ds is None:
            ds = _DATASETS[key] = Dataset(name, n)
            gens = [k for k in _DATASETS if k[0] == "gen"]
            for old in gens[:-3]:                # keep at most 3 gen sizes in memory
                del _DATASETS[old]
        _DATASETS.move_to_end(key)
    with ds.lock:
        if ds.snap is None:
            ds.build()
    return ds


def drop_datasets(name=None, mutated_only=False):
    """Forget datasets (they are rebuilt from scratch on next use)."""
    with _DS_LOCK:
        keys = [k for k, d in _DATASETS.items()
                if (name is None or k[0] == name) and (d.mutated or not mutated_only)]
        for key in keys:
            del _DATASETS[key]
    if keys:
        from .selection import PAGE_CACHE, SEL_CACHE  # (it imports this module)
        SEL_CACHE.clear()
        PAGE_CACHE.clear()
