#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka (KRaft, from Maven Central jars), FerretDB 1.24.2
# (built with Go through our wrapper module) and the four services under uvicorn.
#   stack.sh install        fetch the Kafka jars and build FerretDB (idempotent)
#   stack.sh infra          start Kafka and FerretDB, wait until both answer
#   stack.sh services       start the four services, wait until each answers /ready
#   stack.sh up             install + infra + services
#   stack.sh down           stop everything, keep the data
#   stack.sh status
# Every address can be overridden: KAFKA_PORT, KAFKA_CONTROLLER_PORT, MONGO_PORT, and the
# services' ports MEMBERS_PORT, ACTIVITIES_PORT, NOTIFICATIONS_PORT, REPORTING_PORT.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/local"
DATA="${SUNSET_DATA_DIR:-$ROOT/.data}"
TOOLS="$DATA/tools"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${MONGO_PORT:-27017}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:$MONGO_PORT/}"
SERVICES=(members activities notifications reporting)
declare -A PORTS=(
  [members]="${MEMBERS_PORT:-8001}" [activities]="${ACTIVITIES_PORT:-8002}"
  [notifications]="${NOTIFICATIONS_PORT:-8003}" [reporting]="${REPORTING_PORT:-8004}"
)

log() { printf '[stack] %s\n' "$*" >&2; }

install_kafka() {
  local libs="$TOOLS/kafka-libs" stamp
  stamp="$(sha256sum "$HERE/kafka/pom.xml" | cut -c1-16)"
  if [[ -f "$libs/.stamp" && "$(cat "$libs/.stamp")" == "$stamp" ]]; then return; fi
  log "fetching the Kafka jars from Maven Central"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -B -q -f "$HERE/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.7.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs"
  echo "$stamp" > "$libs/.stamp"
}

install_ferretdb() {
  # FerretDB embeds build/version/*.txt; the published module lacks version.txt, so a plain
  # build panics at start. We vendor the module through our wrapper and supply the file.
  # sqlite-id-index.patch makes lookups by _id use the _id index (see docs/ferretdb.md).
  local bin="$TOOLS/ferretdb" src="$TOOLS/ferretdb-src" stamp
  stamp="$(cat "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$HERE/ferretdb/"*.patch | sha256sum | cut -c1-16)"
  if [[ -x "$bin" && -f "$bin.stamp" && "$(cat "$bin.stamp")" == "$stamp" ]]; then return; fi
  log "building FerretDB 1.24.2 (first build takes a minute or two)"
  rm -rf "$src"; mkdir -p "$src"
  cp "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$HERE/ferretdb/tools.go" "$src/"
  (cd "$src" && export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod && go mod vendor \
    && echo v1.24.2 > vendor/github.com/FerretDB/FerretDB/build/version/version.txt \
    && echo sunsetred > vendor/github.com/FerretDB/FerretDB/build/version/package.txt \
    && patch -s -p1 -d vendor/github.com/FerretDB/FerretDB < "$HERE/ferretdb/sqlite-id-index.patch" \
    && GOFLAGS=-mod=vendor go build -o "$bin" github.com/FerretDB/FerretDB/cmd/ferretdb)
  echo "$stamp" > "$bin.stamp"
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # wait_for <what> <seconds> <command...>
  local what="$1" limit="$2"; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start > limit )); then log "$what did not come up in ${limit}s"; return 1; fi
    sleep 0.5
  done
  log "$what ready after $((SECONDS - start))s"
}

start_kafka() {
  local dir="$DATA/kafka" pid="$DATA/run/kafka.pid"
  mkdir -p "$dir/logs" "$DATA/run"
  if alive "$pid"; then log "Kafka already running"; return; fi
  sed -e "s#@LOGDIR@#$dir/data#" -e "s#@PORT@#$KAFKA_PORT#g" \
      -e "s#@CPORT@#$KAFKA_CONTROLLER_PORT#g" "$HERE/kafka/server.properties.in" > "$dir/server.properties"
  local cp="$TOOLS/kafka-libs/*"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local uuid; uuid="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java -cp "$cp" -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
      kafka.tools.StorageTool format -t "$uuid" -c "$dir/server.properties" >/dev/null
  fi
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -cp "$cp" \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
    kafka.Kafka "$dir/server.properties" > "$dir/logs/stdout.log" 2>&1 &
  echo $! > "$pid"
}

start_ferretdb() {
  local dir="$DATA/ferretdb" pid="$DATA/run/ferretdb.pid"
  mkdir -p "$dir/sqlite" "$dir/state" "$DATA/run"
  if alive "$pid"; then log "FerretDB already running"; return; fi
  nohup "$TOOLS/ferretdb" --handler=sqlite --sqlite-url="file:$dir/sqlite/" \
    --listen-addr="127.0.0.1:$MONGO_PORT" --telemetry=disable --debug-addr=- \
    --state-dir="$dir/state" --log-level=warn > "$dir/ferretdb.log" 2>&1 &
  echo $! > "$pid"
}

infra() {
  start_kafka
  start_ferretdb
  wait_for FerretDB 60 "$PY" -m shared.infra.probe mongo
  wait_for Kafka 120 "$PY" -m shared.infra.probe kafka
  "$PY" -m shared.infra.topics
}

start_services() {
  mkdir -p "$DATA/run" "$DATA/logs"
  for s in "${SERVICES[@]}"; do
    local pid="$DATA/run/$s.pid" port="${PORTS[$s]}"
    if alive "$pid"; then log "$s already running"; continue; fi
    PYTHONPATH="$ROOT" nohup "$PY" -m uvicorn "services.$s.entrypoints.app:create_app" --factory \
      --host 127.0.0.1 --port "$port" --no-access-log > "$DATA/logs/$s.log" 2>&1 &
    echo $! > "$pid"
  done
  for s in "${SERVICES[@]}"; do
    wait_for "$s" 120 curl -sf "http://127.0.0.1:${PORTS[$s]}/ready"
  done
}

stop_one() {
  local pid="$DATA/run/$1.pid"
  if alive "$pid"; then
    kill "$(cat "$pid")" 2>/dev/null || true
    for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.25; done
    alive "$pid" && kill -9 "$(cat "$pid")" 2>/dev/null || true
    log "stopped $1"
  fi
  rm -f "$pid"
}

down() {
  for s in "${SERVICES[@]}"; do stop_one "$s"; done
  stop_one ferretdb
  stop_one kafka
}

status() {
  for s in kafka ferretdb "${SERVICES[@]}"; do
    if alive "$DATA/run/$s.pid"; then echo "$s: running (pid $(cat "$DATA/run/$s.pid"))"; else echo "$s: stopped"; fi
  done
}

case "${1:-}" in
  install) install_kafka; install_ferretdb ;;
  infra) install_kafka; install_ferretdb; infra ;;
  services) start_services ;;
  up) install_kafka; install_ferretdb; infra; start_services ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 install|infra|services|up|down|status" >&2; exit 2 ;;
esac
