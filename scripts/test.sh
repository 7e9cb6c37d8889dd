#!/usr/bin/env bash
# The whole suite (make test): pytest over unit, integration and end-to-end tests, and beside it,
# on a stack of its own, the short fault-injection suite (tests/e2e/test_chaos_short.py: kills, a
# broker restart, 1,000 fuzzed messages a commands topic). The two run at once: both spend most of
# their time waiting on Kafka and the services, and one after the other they would pass 20 minutes.
# CHAOS=0 leaves the chaos suite out (a developer's quick run). Fails if either fails; pytest's
# exit 5 (no tests collected) is a failure too.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p artifacts
chaos_log=artifacts/chaos-short.log
chaos_pid=
if [ "${CHAOS:-1}" != 0 ]; then
  SUNSET_CHAOS=1 "$PYTHON" -m pytest -q -s -rfE -p no:cacheprovider tests/e2e/test_chaos_short.py >"$chaos_log" 2>&1 &
  chaos_pid=$!
  echo "test: the short chaos suite runs beside the others (log: $chaos_log)"
fi
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of arguments
"$PYTHON" -m pytest ${PYTEST_ARGS:-}
suite=$?
chaos=0
if [ -n "$chaos_pid" ]; then
  wait "$chaos_pid"
  chaos=$?
  echo "---- the short chaos suite (exit $chaos) ----"
  if [ "$chaos" = 0 ]; then tail -n 25 "$chaos_log"; else tail -n 150 "$chaos_log"; fi
fi
echo "test: pytest exit $suite, chaos exit $chaos"
[ "$suite" = 0 ] && [ "$chaos" = 0 ]
