#!/usr/bin/env bash
# test/fuzz/make_corpus.sh: (re)make the fuzzer's seed corpus, test/fuzz/corpus.
#
# Pages of every shape json.c reads, fetched from the simulator
# (test/tempo_sim) on a free loopback port: Tempo worklogs (tiny, the bad
# cases, the company dataset, user schedules), Jira issue worklogs with ADF
# comments, worklog/updated and POST worklog/list, error bodies; plus the raw
# fixtures of test/fixtures.  Every file is kept under 64 KB (the harness's
# -max_len).  Usage: bash test/fuzz/make_corpus.sh

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT="$ROOT/test/fuzz/corpus"
TMP=$(mktemp -d)
SIM_PID=""
trap '[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

python3 "$ROOT/test/tempo_sim" --port 0 --port-file "$TMP/port" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 300); do
	[ -s "$TMP/port" ] && break
	sleep 0.1
done
[ -s "$TMP/port" ] || { cat "$TMP/sim.log" >&2; exit 1; }
SIM="http://127.0.0.1:$(cat "$TMP/port")"

rm -rf "$OUT"
mkdir -p "$OUT"

# name, then the path (below the simulator) of a Tempo page
tempo() {
	curl -sS -H 'Authorization: Bearer tempo-test-token' "$SIM$2" -o "$OUT/$1.json"
}

# name, then the path of a Jira page; a third argument is a POST body
jira() {
	if [ $# -gt 2 ]; then
		curl -sS -u bot@example.com:jira-test-token -H 'Content-Type: application/json' \
			--data "$3" "$SIM$2" -o "$OUT/$1.json"
	else
		curl -sS -u bot@example.com:jira-test-token "$SIM$2" -o "$OUT/$1.json"
	fi
}

tempo tempo_tiny '/@ds=tiny/4/worklogs'
for offset in $(seq 0 11); do
	tempo "tempo_badcases_$offset" "/@ds=fixture:badcases/4/worklogs?limit=1&offset=$offset"
done
tempo tempo_boundary '/@ds=fixture:boundary/4/worklogs'
tempo tempo_company '/@ds=company/4/worklogs?limit=20'
tempo tempo_company_page2 '/@ds=company/4/worklogs?limit=10&offset=5000'
tempo tempo_gen '/@ds=gen,n=30/4/worklogs?limit=30'
tempo tempo_empty '/@ds=fixture:empty/4/worklogs'
tempo tempo_nextloop '/@ds=tiny,fault=nextloop/4/worklogs?limit=2'
tempo tempo_countmismatch '/@ds=tiny,fault=countmismatch/4/worklogs'
tempo tempo_wrongshape '/@ds=tiny,fault=wrongshape/4/worklogs'
tempo tempo_badjson '/@ds=tiny,fault=badjson/4/worklogs'
tempo tempo_503 '/@fault=503/4/worklogs'
tempo tempo_401 '/@fault=401/4/worklogs'
tempo tempo_raw_bad_utf8 '/@ds=raw:raw_bad_utf8/4/worklogs'
tempo tempo_raw_not_objects '/@ds=raw:raw_not_objects/4/worklogs'
for f in "$ROOT"/test/fixtures/bad_*.json; do
	name=$(basename "$f" .json)
	tempo "tempo_$name" "/@ds=fixture:$name/4/worklogs"
done

# schedules of a person with a scheme, of the contractor without one
users=$(curl -sS "$SIM/_data?ds=company&kind=users")
first=$(printf '%s' "$users" | python3 -c 'import json,sys; u=json.load(sys.stdin); print(u[1]["accountId"])')
tempo schedule "/@ds=company/4/user-schedule/$first?from=2024-12-20&to=2025-01-10"
tempo tempo_user "/@ds=company/4/worklogs/user/$first?limit=10"

jira jira_issue '/@ds=company/rest/api/3/issue/10000/worklog?maxResults=8'
jira jira_issue_v2 '/@ds=company/rest/api/2/issue/10000/worklog?maxResults=4'
jira jira_updated '/@ds=company,jira_page=20/rest/api/3/worklog/updated?since=0'
jira jira_deleted '/@ds=company/rest/api/3/worklog/deleted?since=0'
jira jira_list '/@ds=company/rest/api/3/worklog/list' '{"ids":[500001,500002,500003,900001,900002]}'
jira jira_tiny '/@ds=tiny/rest/api/3/issue/10001/worklog'
jira jira_badcases '/@ds=fixture:badcases/rest/api/3/issue/10001/worklog?maxResults=3'
jira jira_401 '/@fault=401/rest/api/3/issue/10000/worklog'
jira jira_404 '/@fault=404/rest/api/3/issue/10000/worklog'

# the fixtures themselves, as bodies (the big one is served in pages above)
for f in "$ROOT"/test/fixtures/*.json; do
	[ "$(stat -c %s "$f")" -le 65000 ] && cp "$f" "$OUT/fixture_$(basename "$f")"
done

# hand-written: every ADF node type json.c knows, nested lists, work
# attributes with keys to escape, the timestamp forms, escapes to clean
cat >"$OUT/adf_all_nodes.json" <<'JSON'
{"startAt":0,"maxResults":1,"total":1,"worklogs":[{"id":"900100","issueId":"10001",
"author":{"accountId":"712020:aa","displayName":"A","accountType":"atlassian"},
"comment":{"type":"doc","version":1,"content":[
{"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Title"}]},
{"type":"paragraph","content":[{"type":"text","text":"Hi "},{"type":"mention","attrs":{"id":"x","text":"@Ann"}},
{"type":"text","text":" "},{"type":"emoji","attrs":{"shortName":":smile:"}},{"type":"hardBreak"},
{"type":"date","attrs":{"timestamp":"1704067200000","text":"2024-01-01"}},{"type":"status","attrs":{"text":"DONE"}},
{"type":"inlineCard","attrs":{"url":"https://example.com"}}]},
{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one"}]},
{"type":"orderedList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]}]},
{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}]}]},
{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"two"}]}]}]},
{"type":"codeBlock","attrs":{"language":"sql"},"content":[{"type":"text","text":"SELECT 1;\nSELECT 2;"}]},
{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"quoted"}]}]},
{"type":"rule"},{"type":"mediaSingle","content":[{"type":"media","attrs":{"id":"m"}}]},7,null,
{"type":"paragraph","content":[{"type":"hardBreak"}]}]},
"started":"2024-02-29T23:30:00.000+0100","created":"2024-03-01T08:00:00.123-0530",
"updated":"2024-03-01T08:00:00+05:45","timeSpentSeconds":3600}]}
JSON
cat >"$OUT/tempo_edge_values.json" <<'JSON'
{"metadata":{"count":2,"offset":0,"limit":2,"next":null},"results":[
{"tempoWorklogId":9007199254740992,"issue":{"id":"10001"},"timeSpentSeconds":2147483647,
"billableSeconds":-2147483648,"startDate":"2000-02-29","startTime":"23:59:59.999999999",
"description":"nul \u0000 lone \uD800 pair \uD83D\uDE80 low \uDC00 \\u0000 end",
"createdAt":"9999-12-31T23:59:59Z","updatedAt":"0001-01-01 00:00:00.5+15:59",
"startDateTimeUtc":"2024-12-31T23:59:60Z","author":{"accountId":"a\"b\\c"},
"attributes":{"self":"x","values":[{"key":"_quote\"_","value":"v"},{"key":"back\\slash\u0001\b\f\n\r\t","value":[1,{"a":null}]},
{"key":"_missing_"},{"key":"num","value":1e400},{"key":"neg","value":-0.0}]}},
{"tempoWorklogId":1.5,"issue":{"id":-1},"timeSpentSeconds":"12","startDate":"1900-02-29",
"startTime":"24:00:00","createdAt":"2024-01-01T00:00:00+16:00","updatedAt":"2024-01-01T00:00:00.Z",
"attributes":{"values":[{"value":1}]}}]}
JSON
python3 - "$OUT/adf_deep.json" <<'PY'
import json, sys
node = {"type": "text", "text": "deep"}
for i in range(240):
    node = {"type": "bulletList" if i % 2 else "listItem", "content": [node]}
doc = {"worklogs": [{"id": 1, "comment": {"type": "doc", "content": [node]}}]}
open(sys.argv[1], "w").write(json.dumps(doc, separators=(",", ":")))
PY

# drop empty answers and keep every file under 64 KB
for f in "$OUT"/*; do
	if [ ! -s "$f" ]; then
		rm -f "$f"
	elif [ "$(stat -c %s "$f")" -gt 65000 ]; then
		head -c 65000 "$f" >"$f.cut" && mv "$f.cut" "$f"
	fi
done
echo "$(ls "$OUT" | wc -l) files, $(du -sk "$OUT" | cut -f1) KB in $OUT"
