#!/usr/bin/env bash
# `make demo` (after `make up`): play a year of X区 into the running platform and say where to look.
# Settings come from the environment like the services': KAFKA_BOOTSTRAP_SERVERS, TOPIC_PREFIX;
# DEMO_SEED, DEMO_MEMBERS (default: the report's size) and DEMO_YEAR choose the district.
# The services must run with the same TOPIC_PREFIX: the simulator waits for their answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export PYTHONPATH="${PYTHONPATH:-$PWD}"
SEED="${DEMO_SEED:-2025}"
MEMBERS="${DEMO_MEMBERS:-200}"
YEAR="${DEMO_YEAR:-2025}"
REPORTING_URL="${REPORTING_URL:-http://127.0.0.1:8004}"
# Answers are awaited after each phase (the tree level by level, the ledger, each month), or every
# DEMO_CHUNK commands when it is set (docs/demo.md).
CHUNK="${DEMO_CHUNK:-0}"
OUT="${DEMO_DIR:-.data/demo}"
# The simulator gives up when no command is answered for this long. A district notice's
# acknowledgements wait for their deliveries, which the delivery worker makes a page of branches
# at a time: at 100,000 members some 50,000 waited over 180 s (docs/demo.md). MEMBERS/50 s, at least 180.
STALL="${DEMO_STALL_TIMEOUT:-$(( MEMBERS / 50 > 180 ? MEMBERS / 50 : 180 ))}"
# The demo's records begin on the first day of its year (contract, RECORDS_START): the services
# must be started with it (`RECORDS_START=2025-01-01 make demo` passes it to `make up`).
export RECORDS_START="${RECORDS_START:-$YEAR-01-01}"
if [ "$RECORDS_START" != "$YEAR-01-01" ]; then
  echo "[demo] warning: RECORDS_START=$RECORDS_START, not the demo year's first day $YEAR-01-01" >&2
fi
mkdir -p "$OUT"

echo "[demo] X区, seed $SEED, $MEMBERS members, year $YEAR → Kafka ${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}"
# The same seed sends the same ids: running the demo again changes nothing and finishes quickly.
# The progress bar goes to stderr; the JSON summary (stdout) is in the file, the guide below says it in words.
"$PYTHON" -m simulator run --seed "$SEED" --members "$MEMBERS" --year "$YEAR" \
  --chunk "$CHUNK" --stall-timeout "$STALL" --summary "$OUT/summary.json" > /dev/null
"$PYTHON" -m simulator guide "$OUT/summary.json" --reporting "$REPORTING_URL" --wait "${DEMO_WAIT:-1800}"
echo
echo "[demo] the full summary and the figures each report should show: $OUT/summary.json"
# Sign-in: every route but the dashboard's page needs a token (docs/security.md).
TOKEN_FILE="${SUNSET_DATA_DIR:-.data}/secrets/district-admin.token"
echo
echo "[demo] 登录 Sign in: the dashboard asks for a token; paste the district official's (区委组织部, 7 days),"
echo "       written by make up to $TOKEN_FILE, or open the dashboard signed in:"
echo "         $REPORTING_URL/?year=$YEAR&period=$YEAR&as_of=$YEAR-12-31#token=$(cat "$TOKEN_FILE" 2>/dev/null || echo '<run make up>')"
echo "       Another role: make token ROLE=community ORG=<org id> (subdistrict, secretary; ROLE=specialist SPECIALIST=<id>)."
echo "       The API:     curl -H \"Authorization: Bearer \$(cat $TOKEN_FILE)\" $REPORTING_URL/api/v1/orgs"
