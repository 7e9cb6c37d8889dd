#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka (KRaft, from Maven Central jars), SecantusDB's Rust
# server (a MongoDB wire-protocol server over WiredTiger, built once with cargo) and the four
# services under uvicorn.
#   stack.sh install        fetch the Kafka jars and build secantusd-rs (idempotent, cached)
#   stack.sh infra          start Kafka and SecantusDB, wait until both answer
#   stack.sh services       start the four services (INSTANCES of each), wait until each answers /ready
#   stack.sh up             install + infra + services
#   stack.sh down           stop everything this data folder started, keep the data
#   stack.sh status
#   STACK_SERVICES="<service> ..."   the services named alone, for services, stop-services (and up)
#   stack.sh stop-kafka|start-kafka, stop-mongo|start-mongo, stop-services
#                           one part alone (fault injection: chaos/); start-* waits until it answers
# Every address can be overridden: KAFKA_PORT, KAFKA_CONTROLLER_PORT, MONGO_PORT, and the
# services' ports MEMBERS_PORT, ACTIVITIES_PORT, NOTIFICATIONS_PORT, REPORTING_PORT.
# INSTANCES=N (default 1) runs N processes per service: instance k listens on the service's port
# + 10*(k-1) (members 8001, 8011, 8021, ...) and gets INSTANCE_ID=<service>-<k>.
# Data, pid files and logs live in SUNSET_DATA_DIR (default .data/); the built tools live outside
# the checkout in SUNSET_TOOLS_DIR (default ~/.cache/sunsetred/tools) so every clone reuses them.
# Kafka: the clients' listener takes SASL/SCRAM-SHA-512 only, and KRaft's StandardAuthorizer grants
# what shared/infra/kafka_acls.py lists (docs/security.md). `infra` writes each principal's
# credentials to $DATA/secrets/kafka/<principal>.properties (kept across restarts) with the
# registry of signing keys (sources.json), and applies the credentials and the ACLs.
# Sign-in: `services` (and `up`) keep a local key pair under $DATA/secrets (private.pem, jwks.json),
# start the services with AUTH_JWKS=$DATA/secrets/jwks.json (unless AUTH_JWKS is set) and write a
# district official's token, valid 7 days, to $DATA/secrets/district-admin.token.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/local"
DATA="${SUNSET_DATA_DIR:-$ROOT/.data}"
TOOLS="${SUNSET_TOOLS_DIR:-$HOME/.cache/sunsetred/tools}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${MONGO_PORT:-27017}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:$MONGO_PORT/}"
SECRETS="$DATA/secrets"
# Kafka's credentials, one client properties file per principal, and the registry of the district
# systems' signing keys (shared/infra/kafka_acls.py); the services and tools find them here.
export KAFKA_SECRETS_DIR="${KAFKA_SECRETS_DIR:-$SECRETS/kafka}"
INSTANCES="${INSTANCES:-1}"
# How long Kafka may take to start: a broker holding thousands of topics (a developer's data folder
# after many test runs) takes minutes to load them.
KAFKA_START_WAIT="${KAFKA_START_WAIT:-300}"
if ! [[ "$INSTANCES" =~ ^[1-9][0-9]*$ ]]; then echo "INSTANCES must be a positive number, not '$INSTANCES'" >&2; exit 2; fi
SERVICES=(members activities notifications reporting)
# `STACK_SERVICES="reporting" stack.sh services` starts (or stops, with stop-services) the services named
# alone: one service catching up on what the others left in Kafka (a measurement of it alone).
if [ -n "${STACK_SERVICES:-}" ]; then read -ra SERVICES <<< "$STACK_SERVICES"; fi
declare -A PORTS=(
  [members]="${MEMBERS_PORT:-8001}" [activities]="${ACTIVITIES_PORT:-8002}"
  [notifications]="${NOTIFICATIONS_PORT:-8003}" [reporting]="${REPORTING_PORT:-8004}"
)
# SecantusDB: the crate and the exact version we run (see docs/secantusdb.md).
SECANTUS_CRATE=secantus-mdb
SECANTUS_VERSION=0.5.3-beta.196
SECANTUS_BIN="$TOOLS/secantus/bin/secantusd-rs"

log() { printf '[stack] %s\n' "$*" >&2; }

install_kafka() {
  local libs="$TOOLS/kafka-libs" stamp
  stamp="$(sha256sum "$HERE/kafka/pom.xml" | cut -c1-16)"
  if [[ -f "$libs/.stamp" && "$(cat "$libs/.stamp")" == "$stamp" ]]; then return; fi
  log "fetching the Kafka jars from Maven Central into $libs"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -B -q -f "$HERE/kafka/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.7.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs"
  echo "$stamp" > "$libs/.stamp"
}

install_secantus() {
  # Built once per machine from crates.io (about 5 minutes on two cores). The crate declares a
  # newer Rust than the toolchain here; this exact version builds and runs with
  # --ignore-rust-version. The crate's own release profile (thin LTO, one codegen unit) would
  # take about 14 minutes, so LTO is off and codegen units are 16.
  local dir="$TOOLS/secantus" stamp="$SECANTUS_CRATE $SECANTUS_VERSION" cargo tmp
  if [[ -x "$SECANTUS_BIN" && -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then return; fi
  cargo="$(command -v cargo || true)"
  [[ -z "$cargo" && -x "$HOME/.cargo/bin/cargo" ]] && cargo="$HOME/.cargo/bin/cargo"
  if [[ -z "$cargo" ]]; then
    log "cargo (the Rust toolchain) is needed to build SecantusDB: install it with rustup or your package manager"
    return 1
  fi
  log "building $SECANTUS_CRATE $SECANTUS_VERSION with cargo (once per machine, about 5 minutes on two cores)"
  # Build into a fresh folder and move it into place only when complete: an interrupted build
  # leaves no binary without its stamp.
  mkdir -p "$TOOLS"
  tmp="$(mktemp -d "$TOOLS/secantus.build.XXXXXX")"
  if ! CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      "$cargo" install "$SECANTUS_CRATE" --version "$SECANTUS_VERSION" --locked --ignore-rust-version \
      --root "$tmp" >&2; then
    rm -rf "$tmp"
    log "building $SECANTUS_CRATE failed"
    return 1
  fi
  echo "$stamp" > "$tmp/.stamp"
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

install() { install_kafka; install_secantus; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # [WAIT_PID=<pidfile> WAIT_LOG=<log>] wait_for <what> <seconds> <command...>
  # With WAIT_PID, a process that exits while it starts (a port taken) is said at once, with the
  # first errors of its log, instead of after the whole wait.
  local what="$1" limit="$2"; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${WAIT_PID:-}" ]] && ! alive "$WAIT_PID"; then
      log "$what exited while starting${WAIT_LOG:+ (its log: $WAIT_LOG)}"
      if [[ -n "${WAIT_LOG:-}" ]]; then grep -m3 -E "ERROR|Exception|failed" "$WAIT_LOG" >&2 || true; fi
      return 1
    fi
    if (( SECONDS - start > limit )); then log "$what did not come up in ${limit}s"; return 1; fi
    sleep 0.5
  done
  log "$what ready after $((SECONDS - start))s"
}

kafka_properties() {  # kafka_properties <file> [setup port]: the broker's settings (with a setup listener)
  local dir="$DATA/kafka" pw
  pw="$("$PY" -m shared.infra.kafka_acls admin-password --dir "$KAFKA_SECRETS_DIR")"
  ( umask 077
    sed -e "s#@LOGDIR@#$dir/data#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CPORT@#$KAFKA_CONTROLLER_PORT#g" \
        -e "s#@ADMINPW@#$pw#" "$HERE/kafka/server.properties.in" > "$1"
    if [[ -n "${2:-}" ]]; then  # a PLAINTEXT listener on loopback whose clients are ANONYMOUS (a super user)
      sed -i -e "s#^listeners=\(.*\)#listeners=\1,SETUP://127.0.0.1:$2#" \
             -e "s#^advertised.listeners=\(.*\)#advertised.listeners=\1,SETUP://127.0.0.1:$2#" \
             -e "s#^listener.security.protocol.map=\(.*\)#listener.security.protocol.map=\1,SETUP:PLAINTEXT#" "$1"
    fi )
}

launch_kafka() {
  local dir="$DATA/kafka" cp="$TOOLS/kafka-libs/*"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -cp "$cp" \
    -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
    kafka.Kafka "$dir/server.properties" > "$dir/logs/stdout.log" 2>&1 &
  echo $! > "$DATA/run/kafka.pid"
}

start_kafka() {
  local dir="$DATA/kafka" pid="$DATA/run/kafka.pid"
  mkdir -p "$dir/logs" "$DATA/run"
  if alive "$pid"; then log "Kafka already running"; return; fi
  "$PY" -m shared.infra.kafka_acls secrets --dir "$KAFKA_SECRETS_DIR" --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" >&2
  local pw; pw="$("$PY" -m shared.infra.kafka_acls admin-password --dir "$KAFKA_SECRETS_DIR")"
  local stamp; stamp="$(printf '%s' "$pw" | sha256sum | cut -c1-16)"
  local cp="$TOOLS/kafka-libs/*"
  kafka_properties "$dir/server.properties"
  # The super user's SCRAM credentials exist before the broker does (KRaft keeps them in its
  # metadata): given at format time.
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local uuid; uuid="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java -cp "$cp" -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
      kafka.tools.StorageTool format -t "$uuid" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=admin,password=$pw]" >/dev/null
    echo "$stamp" > "$dir/admin-scram.stamp"
  fi
  if [[ "$(cat "$dir/admin-scram.stamp" 2>/dev/null)" != "$stamp" ]]; then
    # A store formatted before Kafka was secured (or another admin password): once, the broker
    # runs with a loopback listener without authentication, the super user gets its credentials
    # through it, and the broker restarts without it (the controller quorum does not take them).
    local setup="${KAFKA_SETUP_PORT:-$((KAFKA_PORT + 2))}"
    log "giving the super user its SCRAM credentials (a one-off start with a setup listener on :$setup)"
    kafka_properties "$dir/server.properties" "$setup"
    launch_kafka
    WAIT_PID="$pid" WAIT_LOG="$dir/logs/kafka.log" wait_for "Kafka's setup listener" "$KAFKA_START_WAIT" "$PY" -m shared.infra.kafka_acls admin-scram --dir "$KAFKA_SECRETS_DIR" \
      --bootstrap "127.0.0.1:$setup"
    stop_pidfiles "$pid"
    kafka_properties "$dir/server.properties"
    echo "$stamp" > "$dir/admin-scram.stamp"
  fi
  launch_kafka
}

start_secantus() {
  # Without --standalone the server presents itself as a single-node replica set (setName
  # secantus): that is what turns on transactions and change streams. --sync-on-commit makes an
  # acknowledged write survive a kill of the server. A new store allocates its whole WiredTiger
  # log file: 32MB instead of the default 128MB. SECANTUS_CACHE_SIZE: the WiredTiger cache, an
  # upper bound filled only as the data grows (2G; in 512M a 100,000-member district stalled every
  # transaction for a minute: docs/secantusdb.md, "The cache").
  local dir="$DATA/secantus" pid="$DATA/run/secantus.pid"
  mkdir -p "$dir/data" "$DATA/run"
  if alive "$pid"; then log "SecantusDB already running"; return; fi
  nohup "$SECANTUS_BIN" --host 127.0.0.1 --port "$MONGO_PORT" --storage-path "$dir/data" \
    --cache-size "${SECANTUS_CACHE_SIZE:-2G}" --log-level WARNING --sync-on-commit --log-file-max 32MB \
    > "$dir/secantus.log" 2>&1 &
  echo $! > "$pid"
}

infra() {
  start_kafka
  start_secantus
  WAIT_PID="$DATA/run/secantus.pid" WAIT_LOG="$DATA/secantus/secantus.log" wait_for SecantusDB 60 "$PY" -m shared.infra.probe mongo
  WAIT_PID="$DATA/run/kafka.pid" WAIT_LOG="$DATA/kafka/logs/kafka.log" wait_for Kafka "$KAFKA_START_WAIT" "$PY" -m shared.infra.probe kafka
  "$PY" -m shared.infra.kafka_acls apply --dir "$KAFKA_SECRETS_DIR" --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" \
    --prefix "${TOPIC_PREFIX:-}"
  "$PY" -m shared.infra.topics
}

secrets() {
  # The local stand-in for the district's identity provider: one ES256 key, kept across restarts;
  # a fresh district official's token at every start (the services verify against the JWKS).
  "$PY" -m shared.auth keys --dir "$SECRETS"
  ( umask 077
    "$PY" -m shared.auth token --role district --sub district-admin --name "区委组织部（本地）" --hours 168 \
      --dir "$SECRETS" > "$SECRETS/district-admin.token.new"
    mv "$SECRETS/district-admin.token.new" "$SECRETS/district-admin.token" )
}

instance_port() {  # instance_port <service> <k>: instance 1 on the service's port, k on port + 10*(k-1)
  echo $(( ${PORTS[$1]} + 10 * ($2 - 1) ))
}

# Where the records of this data directory begin (RECORDS_START) is a fact about its data, kept
# with it: set once (`make demo` sets the demo year's first day), every later start uses it. A
# plain `make up` on the demo's data otherwise evaluated alerts from before the ledger began
# (a member without participation "since 2022-09", a branch too small "since 2013").
records_start() {
  local kept="$DATA/records_start"
  if [ -n "${RECORDS_START:-}" ]; then
    echo "$RECORDS_START" > "$kept"
  elif [ -s "$kept" ]; then
    export RECORDS_START="$(cat "$kept")"
    log "RECORDS_START=$RECORDS_START (kept in $kept)"
  fi
}

start_services() {
  mkdir -p "$DATA/run" "$DATA/logs"
  secrets
  records_start
  export AUTH_JWKS="${AUTH_JWKS:-$SECRETS/jwks.json}"
  local s k pid port
  for s in "${SERVICES[@]}"; do
    for (( k = 1; k <= INSTANCES; k++ )); do
      pid="$DATA/run/$s-$k.pid"; port="$(instance_port "$s" "$k")"
      if alive "$pid"; then log "$s-$k already running"; continue; fi
      INSTANCE_ID="$s-$k" PYTHONPATH="$ROOT" nohup "$PY" -m uvicorn \
        "services.$s.entrypoints.app:create_app" --factory \
        --host 127.0.0.1 --port "$port" --no-access-log > "$DATA/logs/$s-$k.log" 2>&1 &
      echo $! > "$pid"
    done
  done
  for s in "${SERVICES[@]}"; do
    for (( k = 1; k <= INSTANCES; k++ )); do
      port="$(instance_port "$s" "$k")"
      # An instance that exits meanwhile (or is killed: the chaos suite's faults land at any
      # moment) is said at once: waiting out the 120 s held the suite's next restart behind it.
      WAIT_PID="$DATA/run/$s-$k.pid" WAIT_LOG="$DATA/logs/$s-$k.log" \
        wait_for "$s-$k (:$port)" 120 curl -sf "http://127.0.0.1:$port/ready"
    done
  done
}

stop_pidfiles() {  # stop_pidfiles <file.pid>...: SIGTERM to all, up to 10 s for all, then SIGKILL
  local f running=()
  for f in "$@"; do
    if alive "$f"; then kill "$(cat "$f")" 2>/dev/null || true; running+=("$f"); else rm -f "$f"; fi
  done
  (( ${#running[@]} )) || return 0
  for _ in $(seq 1 40); do
    local left=0
    for f in "${running[@]}"; do alive "$f" && left=1; done
    (( left )) || break
    sleep 0.25
  done
  for f in "${running[@]}"; do
    if alive "$f"; then kill -9 "$(cat "$f")" 2>/dev/null || true; log "killed $(basename "$f" .pid) (no exit 10 s after SIGTERM)"
    else log "stopped $(basename "$f" .pid)"; fi
    rm -f "$f"
  done
}

stop_services() {
  local s f services=()
  shopt -s nullglob
  for s in "${SERVICES[@]}"; do
    for f in "$DATA/run/$s"-*.pid "$DATA/run/$s.pid"; do services+=("$f"); done
  done
  shopt -u nullglob
  stop_pidfiles "${services[@]}"
}

down() {
  # Every instance that was started, whatever INSTANCES says now; then the database, then Kafka;
  # then any other process recorded here (e.g. one left by an older version of this script).
  local s f services=()
  shopt -s nullglob
  for s in "${SERVICES[@]}"; do
    for f in "$DATA/run/$s"-*.pid "$DATA/run/$s.pid"; do services+=("$f"); done
  done
  stop_pidfiles "${services[@]}"
  stop_pidfiles "$DATA/run/secantus.pid"
  stop_pidfiles "$DATA/run/kafka.pid"
  stop_pidfiles "$DATA/run/"*.pid
  shopt -u nullglob
}

status() {
  local s f found
  for s in kafka secantus; do
    if alive "$DATA/run/$s.pid"; then echo "$s: running (pid $(cat "$DATA/run/$s.pid"))"; else echo "$s: stopped"; fi
  done
  shopt -s nullglob
  for s in "${SERVICES[@]}"; do
    found=0
    for f in "$DATA/run/$s"-*.pid; do
      found=1
      if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
      else echo "$(basename "$f" .pid): stopped"; fi
    done
    (( found )) || echo "$s: stopped"
  done
  shopt -u nullglob
}

case "${1:-}" in
  install) install ;;
  infra) install; infra ;;
  services) start_services ;;
  up) install; infra; start_services ;;
  down) down ;;
  status) status ;;
  stop-kafka) stop_pidfiles "$DATA/run/kafka.pid" ;;
  start-kafka) start_kafka; WAIT_PID="$DATA/run/kafka.pid" WAIT_LOG="$DATA/kafka/logs/kafka.log" \
                 wait_for Kafka "$KAFKA_START_WAIT" "$PY" -m shared.infra.probe kafka ;;
  stop-mongo) stop_pidfiles "$DATA/run/secantus.pid" ;;
  start-mongo) start_secantus; WAIT_PID="$DATA/run/secantus.pid" WAIT_LOG="$DATA/secantus/secantus.log" wait_for SecantusDB 60 "$PY" -m shared.infra.probe mongo ;;
  stop-services) stop_services ;;
  *) echo "usage: $0 install|infra|services|up|down|status|stop-kafka|start-kafka|stop-mongo|start-mongo|stop-services" >&2
     exit 2 ;;
esac
