"""tempo_sim.directory: people, projects and issues, workload and holiday schemes."""

import random
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from .config import JIRA_SITE, TEMPO_APP_USER, TEMPO_SITE


PROJECTS = [(10100, "ACME", 10000, 10033), (10101, "OPS", 10034, 10066), (10102, "INT", 10067, 10099)]


def project_of(issue_id):
    for pid, _key, lo, hi in PROJECTS:
        if lo <= issue_id <= hi:
            return pid
    return PROJECTS[issue_id % 3][0]


def issue_id_from_key(key):
    """'ACME-5' -> 10004; None if the key is unknown."""
    m = re.match(r"^([A-Z]+)-(\d+)$", key)
    if not m:
        return None
    for _pid, pkey, lo, hi in PROJECTS:
        if pkey == m.group(1):
            num = int(m.group(2))
            return lo + num - 1 if lo + num - 1 <= hi else num
    return None


class WorkloadScheme(NamedTuple):
    id: int
    name: str
    description: str
    default: bool
    days: tuple            # requiredSeconds Monday..Sunday

    def to_json(self, members):
        names = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
        return {"id": self.id, "name": self.name, "description": self.description,
                "defaultScheme": self.default, "memberCount": members,
                "self": "%s/4/workload-schemes/%d" % (TEMPO_SITE, self.id),
                "days": [{"day": n, "requiredSeconds": s} for n, s in zip(names, self.days)]}


class HolidayScheme(NamedTuple):
    id: int
    name: str
    description: str
    default: bool
    holidays: tuple        # (id, month, day, name, durationSeconds, description); type FIXED

    def holiday_on(self, d):
        for hid, month, day, name, dur, desc in self.holidays:
            if d.month == month and d.day == day:
                return {"id": hid, "schemeId": self.id, "name": name, "type": "FIXED",
                        "date": d.isoformat(), "durationSeconds": dur, "description": desc,
                        "self": "%s/4/holiday-schemes/%d/holidays/%d" % (TEMPO_SITE, self.id, hid)}
        return None

    def to_json(self, members):
        return {"id": self.id, "name": self.name, "description": self.description,
                "defaultScheme": self.default, "memberCount": members,
                "self": "%s/4/holiday-schemes/%d" % (TEMPO_SITE, self.id)}


WORKLOAD_SCHEMES = {
    1: WorkloadScheme(1, "Full-time 40h", "Monday to Friday, 8 hours", True,
                      (28800, 28800, 28800, 28800, 28800, 0, 0)),
    2: WorkloadScheme(2, "Part-time 50%", "Monday to Friday, 4 hours", False,
                      (14400, 14400, 14400, 14400, 14400, 0, 0)),
    3: WorkloadScheme(3, "Four-day week", "Monday to Thursday, 8 hours", False,
                      (28800, 28800, 28800, 28800, 0, 0, 0)),
}
HOLIDAY_SCHEMES = {
    1: HolidayScheme(1, "Default Holiday Scheme", "Public holidays of the Berlin office", True, (
        (1, 1, 1, "New Year's Day", 28800, "public holiday"),
        (2, 5, 1, "Labour Day", 28800, "public holiday"),
        (3, 6, 8, "Founders' Day", 28800, "company holiday (a Saturday in 2024)"),
        (4, 10, 3, "German Unity Day", 28800, "public holiday"),
        (5, 12, 24, "Christmas Eve", 14400, "half day"),
        (6, 12, 25, "Christmas Day", 28800, "public holiday"),
        (7, 12, 26, "Boxing Day", 28800, "public holiday"),
        (8, 12, 31, "New Year's Eve", 14400, "half day"))),
    2: HolidayScheme(2, "Zurich Office", "Public holidays of the Zurich office", False, (
        (11, 1, 1, "New Year's Day", 28800, "public holiday"),
        (12, 1, 2, "Berchtold's Day", 28800, "public holiday"),
        (13, 8, 1, "Swiss National Day", 28800, "public holiday"),
        (14, 12, 24, "Christmas Eve", 14400, "half day"),
        (15, 12, 25, "Christmas Day", 28800, "public holiday"),
        (16, 12, 26, "St. Stephen's Day", 28800, "public holiday"))),
}

PEOPLE_NAMES = (
    "Dana Weber", "Lukas Schmidt", "Sofia Rossi", "Mateo García", "Emma Johansson",
    "Noah Müller", "Chloé Dubois", "Ahmed Hassan", "Yuki Tanaka", "Olivia Brown",
    "Jonas Becker", "Mia Novak", "Liam O'Connor", "Zoë Ångström", "Ravi Patel",
    "Elena Petrova", "Tomás Núñez", "Hannah Fischer", "Kenji Watanabe", "Aisha Bello",
    "Felix Wagner", "Lea Hoffmann", "Marco Bianchi", "Ingrid Larsen", "Piotr Kowalski",
    "Camille Martin", "Sven Eriksson", "Nora Schulz", "Diego Alvarez", "Fatima Zahra",
    "Jan de Vries", "Clara Meyer", "Oskar Nowak", "Julia Keller", "Mehmet Yılmaz",
    "Anna Kovács", "Leon Wolf", "Sara Lindqvist", "Paul Richter", "Quinn Contractor")
LEGACY_ID_PEOPLE = (4, 17, 29)         # old-style 24-hex accountIds
NO_SCHEDULE_PERSON = 39
INACTIVE_PERSON = 38


class Person:
    """A Jira user known to a dataset, with (optionally) a Tempo schedule."""

    __slots__ = ("idx", "account_id", "name", "email", "active", "workload", "holidays")

    def __init__(self, idx, account_id, name, email, active, workload, holidays):
        self.idx, self.account_id, self.name, self.email = idx, account_id, name, email
        self.active, self.workload, self.holidays = active, workload, holidays

    @classmethod
    def default(cls, account_id):
        """Author found only in fixture data: full-time, default holiday scheme."""
        return cls(-1, account_id, "User %s" % account_id[-6:], None, True,
                   WORKLOAD_SCHEMES[1], HOLIDAY_SCHEMES[1])

    def day_schedule(self, ordinal, workload=None):
        """DaySchedule object for one day; None when the person has no schedule.
        workload: a WorkloadScheme in place of the person's (scenario workload=N)."""
        if self.workload is None:
            return None
        d = date.fromordinal(ordinal)
        base = (workload or self.workload).days[d.weekday()]
        hol = self.holidays.holiday_on(d) if self.holidays else None
        if hol is None:
            return {"date": d.isoformat(), "requiredSeconds": base,
                    "type": "WORKING_DAY" if base else "NON_WORKING_DAY"}
        if base == 0:
            return {"date": d.isoformat(), "requiredSeconds": 0,
                    "type": "HOLIDAY_AND_NON_WORKING_DAY", "holiday": hol}
        return {"date": d.isoformat(), "requiredSeconds": max(0, base - hol["durationSeconds"]),
                "type": "HOLIDAY", "holiday": hol}

    def jira_user(self, ver):
        obj = {"self": "%s/rest/api/%s/user?accountId=%s" % (JIRA_SITE, ver, self.account_id),
               "accountId": self.account_id}
        if self.email:
            obj["emailAddress"] = self.email
        obj["avatarUrls"] = avatar_urls(self.account_id)
        obj["displayName"] = self.name
        obj["active"] = self.active
        obj["timeZone"] = "Europe/Berlin"
        obj["accountType"] = "atlassian"
        return obj


def avatar_urls(account_id):
    base = "https://avatar-management.example.net/initials/%s.png" % account_id[-4:]
    return {s: "%s?size=%s" % (base, s.split("x")[0]) for s in ("48x48", "24x24", "16x16", "32x32")}


def app_user(ver):
    return {"self": "%s/rest/api/%s/user?accountId=%s" % (JIRA_SITE, ver, TEMPO_APP_USER),
            "accountId": TEMPO_APP_USER, "avatarUrls": avatar_urls(TEMPO_APP_USER),
            "displayName": "Timesheets by Tempo - Jira Time Tracking", "active": True,
            "accountType": "app"}


class Directory:
    """People and issues shared by `company` and `gen` (derived from the seed)."""

    def __init__(self, seed):
        rng = random.Random("directory:%d" % seed)
        self.people = []
        for idx, name in enumerate(PEOPLE_NAMES):
            if idx in LEGACY_ID_PEOPLE:
                acc = "%024x" % rng.getrandbits(96)
            else:
                h = "%032x" % rng.getrandbits(128)
                acc = "712020:%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])
            ascii_name = name.encode("ascii", "ignore").decode().lower().replace("'", "")
            email = None if idx % 7 == 5 else "%s@acme.example" % ascii_name.replace(" ", ".")
            if idx == NO_SCHEDULE_PERSON:
                workload = holidays = None
            else:
                workload = WORKLOAD_SCHEMES[2 if idx % 10 == 3 else 3 if idx % 10 == 7 else 1]
                holidays = HOLIDAY_SCHEMES[2 if idx % 4 == 1 else 1]
            self.people.append(Person(idx, acc, name, email, idx != INACTIVE_PERSON,
                                      workload, holidays))
        self.issues = sorted(i for _pid, _k, lo, hi in PROJECTS for i in rng.sample(range(lo, hi + 1), 10))


@lru_cache(maxsize=4)
def directory(seed):
    return Directory(seed)
