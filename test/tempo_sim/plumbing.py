"""tempo_sim.plumbing: request plumbing: scenario, context, responses, request log."""

import itertools
import json
import re
import threading
import time
from urllib.parse import parse_qs, unquote, unquote_plus

from .config import CFG, CT_JIRA, CT_TEMPO, MAX_LIMIT, SimError, jdump
from .datasets import DS_RE, get_dataset
from .directory import WORKLOAD_SCHEMES


class Resp:
    """An HTTP answer.  `page` = (page index, is last page) for fault_at; `variant(kind)`
    rebuilds the body for the paging faults; `cache_key` enables the gzip cache."""

    __slots__ = ("status", "ctype", "body", "headers", "page", "variant", "cache_key", "stream")

    def __init__(self, status, ctype, body, page=None, variant=None, cache_key=None,
                 headers=None, stream=None):
        self.status, self.ctype, self.body, self.page = status, ctype, body, page
        self.variant, self.cache_key, self.headers, self.stream = variant, cache_key, headers or [], stream


class ApiError(Exception):
    def __init__(self, resp):
        super().__init__(resp.status)
        self.resp = resp


def tempo_json(obj, status=200, **kw):
    return Resp(status, CT_TEMPO, jdump(obj).encode("ascii"), **kw)


def jira_json(obj, status=200, **kw):
    return Resp(status, CT_JIRA, jdump(obj).encode("ascii"), **kw)


def tempo_fail(status, message):
    return ApiError(tempo_json({"errors": {"message": message}}, status))


def jira_fail(status, message):
    return ApiError(jira_json({"errorMessages": [message], "errors": {}}, status))


FAULT_KINDS = {"400", "401", "403", "404", "429", "500", "502", "503", "504", "reset", "truncate",
               "slow", "hang", "badjson", "wrongshape", "html", "nextloop", "foreignnext",
               "countmismatch", "huge", "echoauth", "redirect", "bomb", "deflate", "crlfnext"}
PRE_FAULTS = {"400", "401", "403", "404", "429", "500", "502", "503", "504", "reset", "hang",
              "badjson", "wrongshape", "html", "huge", "echoauth", "redirect"}
TAG_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Scenario:
    __slots__ = ("tag", "ds", "n", "fault", "fault_at", "fault_times", "fault_skip", "retry_after",
                 "src", "delay_ms", "slow_ms", "jira_page", "jira_ties", "jira_since", "bomb_mb", "pad",
                 "fault_on", "map_limit", "workload", "jira_deny")

    def __init__(self, segment=""):
        self.tag, self.ds, self.n, self.fault, self.fault_at = "default", "company", 1000, None, None
        self.fault_times, self.retry_after, self.src, self.delay_ms = None, None, "both", 0
        self.fault_skip = 0
        self.slow_ms, self.jira_page, self.jira_ties, self.jira_since = 30000, 1000, 1, "after"
        self.bomb_mb, self.pad, self.fault_on, self.map_limit = 128, 0, None, MAX_LIMIT
        self.workload, self.jira_deny = None, None
        for item in filter(None, segment.split(",")):
            key, sep, value = item.partition("=")
            value = unquote(value)
            if not sep or key not in self.__slots__:
                raise SimError(400, "tempo_sim: bad scenario item %r" % item)
            if key in ("n", "fault_times", "fault_skip", "delay_ms", "slow_ms", "jira_page", "jira_ties",
                       "bomb_mb", "pad", "map_limit", "workload") or (
                    key == "fault_at" and value != "last"):
                if not value.isdigit() or (key in ("n", "jira_page", "jira_ties", "map_limit") and int(value) < 1):
                    raise SimError(400, "tempo_sim: %s must be a non-negative integer" % key)
                value = int(value)
            elif key == "ds" and not DS_RE.match(value):
                raise SimError(400, "tempo_sim: bad dataset %r" % value)
            elif key == "fault" and value not in FAULT_KINDS:
                raise SimError(400, "tempo_sim: unknown fault %r" % value)
            elif key == "jira_since" and value not in ("after", "from"):
                raise SimError(400, "tempo_sim: jira_since must be after or from")
            elif key == "jira_deny" and value not in ("users", "projects", "issues"):
                raise SimError(400, "tempo_sim: jira_deny must be users, projects or issues")
            elif key == "src" and value not in ("tempo", "jira", "both"):
                raise SimError(400, "tempo_sim: src must be tempo, jira or both")
            elif key == "fault_on" and not TAG_RE.match(value):
                raise SimError(400, "tempo_sim: bad fault_on %r" % value)
            elif key == "tag" and not TAG_RE.match(value):
                raise SimError(400, "tempo_sim: bad tag %r" % value)
            setattr(self, key, value)
        if self.n > 20_000_000:
            raise SimError(400, "tempo_sim: n is too large")
        if not 1 <= self.bomb_mb <= 1024:
            raise SimError(400, "tempo_sim: bomb_mb must be 1..1024")
        if self.workload is not None and self.workload not in WORKLOAD_SCHEMES:
            raise SimError(400, "tempo_sim: workload must be 1, 2 or 3")


class Ctx:
    """Everything a handler needs about one request."""

    def __init__(self, handler, method, prefix, path, query, body, scenario):
        self.method, self.prefix, self.path, self.query, self.body = method, prefix, path, query, body
        self.sc = scenario
        self.params = parse_qs(query, keep_blank_values=True)
        self.headers = handler.headers
        self.host = handler.headers.get("Host") or "127.0.0.1:%d" % CFG.port
        self.scheme = getattr(handler.server, "scheme", "http")
        self.src = "tempo" if path.startswith("/4/") else "jira" if path.startswith("/rest/") else "other"
        self.ordinal = 0

    def url(self, path=None, query=None, host=None):
        return "%s://%s%s%s%s" % (self.scheme, host or self.host, self.prefix,
                                  self.path if path is None else path, "?" + query if query else "")

    def with_query(self, **replace):
        """The request's raw query with some parameters replaced (appended at the end)."""
        keep = [p for p in self.query.split("&") if p and unquote_plus(p.split("=", 1)[0]) not in replace]
        return "&".join(keep + ["%s=%s" % (k, v) for k, v in replace.items() if v is not None])

    def param(self, name, default=None):
        values = self.params.get(name)
        return values[0] if values else default

    def dataset(self):
        return get_dataset(self.sc.ds, self.sc.n)

    def json_body(self):
        try:
            return json.loads(self.body or b"")
        except ValueError:
            fail = tempo_fail if self.src == "tempo" else jira_fail
            raise fail(400, "Request body is not valid JSON") from None


class RequestLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.seq = itertools.count(1)
        self.entries = {}          # tag -> [entry]
        self.fault_counts = {}     # (tag, fault) -> applied count
        self.fault_skips = {}      # (tag, fault) -> requests let through
        self.ordinals = {}         # (tag, method, path) -> requests seen

    def add(self, ctx, handler):
        auth = handler.headers.get("Authorization")
        entry = {"seq": 0, "t": time.time(), "method": ctx.method, "path": ctx.path,
                 "query": ctx.query, "params": ctx.params,
                 "body": ctx.body.decode("utf-8", "replace") if ctx.body else None,
                 "auth": auth, "user_agent": handler.headers.get("User-Agent"),
                 "peer_port": handler.client_address[1],
                 "accept": handler.headers.get("Accept"),
                 "accept_encoding": handler.headers.get("Accept-Encoding"), "status": 0}
        with self.lock:
            entry["seq"] = next(self.seq)
            bucket = self.entries.setdefault(ctx.sc.tag, [])
            bucket.append(entry)
            if len(bucket) > 200000:
                del bucket[:100000]
            okey = (ctx.sc.tag, ctx.method, ctx.path)
            ctx.ordinal = self.ordinals.get(okey, 0)
            self.ordinals[okey] = ctx.ordinal + 1
        return entry

    def take_fault(self, tag, kind, times, skip=0):
        with self.lock:
            skipped = self.fault_skips.get((tag, kind), 0)
            if skipped < skip:
                self.fault_skips[(tag, kind)] = skipped + 1
                return False
            count = self.fault_counts.get((tag, kind), 0)
            if times is not None and count >= times:
                return False
            self.fault_counts[(tag, kind)] = count + 1
            return True

    def get(self, tag):
        with self.lock:
            return list(self.entries.get(tag, []))

    def reset(self, tag=None):
        with self.lock:
            if tag is None:
                self.entries.clear()
                self.fault_counts.clear()
                self.fault_skips.clear()
                self.ordinals.clear()
                return
            self.entries.pop(tag, None)
            for d in (self.fault_counts, self.fault_skips, self.ordinals):
                for k in [k for k in d if k[0] == tag]:
                    del d[k]


LOG = RequestLog()


def auth_kind(value):
    if not value:
        return "none"
    scheme = value.split(" ", 1)[0].lower()
    return scheme if scheme in ("bearer", "basic") else "other"
