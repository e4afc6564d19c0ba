"""tempo_sim.timeutil: UTC instants as epoch seconds or ms; Europe/Berlin local time."""

import re
import time
from datetime import date, timedelta
from functools import lru_cache


EPOCH_ORD = date(1970, 1, 1).toordinal()
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                        r"(Z|[+-]\d{2}:?\d{2})?)?$")


@lru_cache(maxsize=None)
def day_str(ordinal):
    return date.fromordinal(ordinal).isoformat()


@lru_cache(maxsize=None)
def _cest_window(year):
    """UTC seconds [start, end) of CEST: last Sunday of March/October, 01:00 UTC."""
    def last_sunday(month):
        d = date(year, month + 1, 1) - timedelta(days=1)
        return d - timedelta(days=(d.weekday() - 6) % 7)
    return ((last_sunday(3).toordinal() - EPOCH_ORD) * 86400 + 3600,
            (last_sunday(10).toordinal() - EPOCH_ORD) * 86400 + 3600)


@lru_cache(maxsize=None)
def _year_of_day(epoch_day):
    return date.fromordinal(EPOCH_ORD + epoch_day).year


def berlin_offset(utc_s):
    start, end = _cest_window(_year_of_day(utc_s // 86400))
    return 7200 if start <= utc_s < end else 3600


def local_to_utc(local_s):
    """Berlin wall-clock seconds (as if UTC) -> (UTC seconds, offset seconds)."""
    off = 7200 if berlin_offset(local_s - 7200) == 7200 else 3600
    return local_s - off, off


@lru_cache(maxsize=None)
def day_offset(ordinal):
    """Berlin UTC offset at local noon of a day (work hours never straddle a DST switch)."""
    return local_to_utc((ordinal - EPOCH_ORD) * 86400 + 43200)[1]


HMS = [  # "HH:MM:SS" of every second of a day
    "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]


def utc_iso(ms, with_ms):
    s, frac = divmod(ms, 1000)
    d, rem = divmod(s, 86400)
    if with_ms:
        return "%sT%s.%03dZ" % (day_str(EPOCH_ORD + d), HMS[rem], frac)
    return "%sT%sZ" % (day_str(EPOCH_ORD + d), HMS[rem])


def jira_ts(ms):
    """Jira timestamp in Berlin time: 2024-03-11T09:30:00.000+0100."""
    off = berlin_offset(ms // 1000)
    s, frac = divmod(ms + off * 1000, 1000)
    d, rem = divmod(s, 86400)
    return "%sT%s.%03d%s" % (day_str(EPOCH_ORD + d), HMS[rem], frac,
                             "+0200" if off == 7200 else "+0100")


def parse_day(s):
    """'YYYY-MM-DD' -> date ordinal, or None."""
    if not isinstance(s, str) or not DATE_RE.match(s):
        return None
    try:
        return date.fromisoformat(s).toordinal()
    except ValueError:
        return None


def parse_instant(s):
    """'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm]' -> epoch ms (UTC), or None."""
    m = INSTANT_RE.match(s) if isinstance(s, str) else None
    if not m:
        return None
    day = parse_day(m.group(1))
    if day is None:
        return None
    if m.group(2) is None:
        return (day - EPOCH_ORD) * 86400000
    h, mi, sec = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if h > 23 or mi > 59 or sec > 59:
        return None
    ms = ((day - EPOCH_ORD) * 86400 + h * 3600 + mi * 60 + sec) * 1000
    ms += int((m.group(5) or "0")[:3].ljust(3, "0"))
    tz = m.group(6)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1000
    return ms


def parse_tod(s):
    """'HH:MM:SS' -> seconds, or None."""
    if isinstance(s, str) and re.match(r"^\d{2}:\d{2}:\d{2}$", s):
        h, m, sec = int(s[:2]), int(s[3:5]), int(s[6:])
        if h < 24 and m < 60 and sec < 60:
            return h * 3600 + m * 60 + sec
    return None


def now_ms():
    return int(time.time() * 1000)


def jira_duration(sec):
    """Jira's timeSpent text with 8h days and 5d weeks: 5400 -> '1h 30m'."""
    minutes = max(0, sec) // 60
    weeks, minutes = divmod(minutes, 5 * 8 * 60)
    days, minutes = divmod(minutes, 8 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = ["%d%s" % (v, u) for v, u in ((weeks, "w"), (days, "d"), (hours, "h"), (minutes, "m")) if v]
    return " ".join(parts) or "0m"
