"""tempo_sim.config: constants, the configuration (Config, CFG) and SimError."""

import itertools
import json
import os
import threading


TEMPO_SITE = "https://api.tempo.io"
JIRA_SITE = "https://acme.atlassian.net"
JIRA_ID_OFFSET = 500000          # Jira twin id = tempoWorklogId + JIRA_ID_OFFSET
JIRA_ONLY_BASE = 900000          # Jira-only worklogs of `company`: 900001, 900002, ...
TEMPO_APP_USER = "557058:tempo-app-user"
BOT_ACCOUNT_ID = "712020:0b0b0b0b-0000-4000-8000-00000000b07"
DEFAULT_LIMIT, MAX_LIMIT = 50, 5000
HUGE_BYTES = 64 * 1024 * 1024
FIXTURE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "fixtures")   # test/fixtures
CT_TEMPO = "application/json"
CT_JIRA = "application/json;charset=UTF-8"

jdump = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


class Config:
    tempo_token = "tempo-test-token"
    jira_email = "bot@example.com"
    jira_token = "jira-test-token"
    seed = 42
    port = 0
    cache_bytes = 1024 * 1024 * 1024


CFG = Config()
STOP = threading.Event()         # set at shutdown; slow/hang waits end early
_UIDS = itertools.count(1)       # snapshot ids (cache keys)


class SimError(Exception):
    """A test-setup problem (bad scenario, missing fixture): text/plain answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
