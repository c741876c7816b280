#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for the cluster fault test (npm run test:cluster).
# It never touches the machine's own node (rabbit@localhost on 5672): its nodes have their own names
# (sbt-rmq1..3@localhost), AMQP ports (SB_RMQ_PORT_BASE+1..3, default 45671..45673), distribution
# ports (+11..13), cookie, data and logs under SB_RMQ_DIR, and no plugins (management off).
#
#   scripts/rabbitmq-cluster.sh start        start the three nodes and join them into one cluster
#   scripts/rabbitmq-cluster.sh stop-node N  stop node N gracefully
#   scripts/rabbitmq-cluster.sh kill-node N  SIGKILL node N's VM (the fault: a crash, no goodbye)
#   scripts/rabbitmq-cluster.sh stop         stop every node and remove SB_RMQ_DIR
#   scripts/rabbitmq-cluster.sh urls         the AMQP_URL list of the three nodes
#   scripts/rabbitmq-cluster.sh ctl N ARGS   rabbitmqctl against node N
set -euo pipefail

DIR=${SB_RMQ_DIR:-/tmp/sb-rmq-cluster}
BASE=${SB_RMQ_PORT_BASE:-45670}
BIN=/usr/lib/rabbitmq/bin
NODES=(1 2 3)

node_name() { echo "sbt-rmq$1@localhost"; }

# The environment of node N. HOME holds the Erlang cookie the three nodes and rabbitmqctl share;
# RABBITMQ_CONF_ENV_FILE keeps the machine's rabbitmq-env.conf (which names rabbit@localhost) out.
node_env() {
  local n=$1
  echo HOME="$DIR" \
    RABBITMQ_NODENAME="$(node_name "$n")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT=$((BASE + n)) \
    RABBITMQ_DIST_PORT=$((BASE + 10 + n)) \
    RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$DIR/node$n/mnesia" \
    RABBITMQ_LOG_BASE="$DIR/node$n/log" \
    RABBITMQ_PID_FILE="$DIR/node$n/pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    ERL_CRASH_DUMP="$DIR/node$n/erl_crash.dump"
}

ctl() {
  local n=$1
  shift
  env $(node_env "$n") "$BIN/rabbitmqctl" -n "$(node_name "$n")" "$@"
}

write_config() {
  mkdir -p "$DIR"
  # Idle schedulers sleep instead of spinning: three extra VMs on a shared 2-core machine would
  # otherwise burn CPU the services and the other tests need.
  echo 'SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"' >"$DIR/rabbitmq-env.conf"
  echo '[].' >"$DIR/enabled_plugins"
  echo '[].' >"$DIR/advanced.config"
  # The settings docs/production.md asks of a production cluster, scaled down for a test machine.
  cat >"$DIR/rabbitmq.conf" <<'EOF'
cluster_partition_handling = pause_minority
vm_memory_high_watermark.relative = 0.4
disk_free_limit.absolute = 200MB
log.console = false
log.file.level = warning
EOF
  [[ -f "$DIR/.erlang.cookie" ]] || { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$DIR/.erlang.cookie"; }
  chmod 400 "$DIR/.erlang.cookie"
}

start_node() {
  local n=$1
  mkdir -p "$DIR/node$n/log"
  env $(node_env "$n") nohup "$BIN/rabbitmq-server" >"$DIR/node$n/stdout.log" 2>&1 &
}

start() {
  stop # a cluster left by a killed run: its nodes would hold the ports and names
  write_config
  for n in "${NODES[@]}"; do start_node "$n"; done
  # `wait` waits for the node's pid file (the VM is up), then for its boot to finish.
  for n in "${NODES[@]}"; do ctl "$n" -q wait --timeout 300 "$DIR/node$n/pid" >/dev/null; done
  for n in 2 3; do
    ctl "$n" -q stop_app
    ctl "$n" -q join_cluster "$(node_name 1)"
    ctl "$n" -q start_app
  done
  ctl 1 -q await_online_nodes 3 --timeout 60 2>/dev/null || ctl 1 cluster_status
}

stop_node() { ctl "$1" -q stop || true; }

kill_node() {
  local pid
  pid=$(cat "$DIR/node$1/pid")
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$DIR/node$1/pid"
}

stop() {
  for n in "${NODES[@]}"; do
    if [[ -f "$DIR/node$n/pid" ]]; then ctl "$n" -q stop 2>/dev/null || true; fi
  done
  rm -rf "$DIR"
}

urls() {
  local out=()
  for n in "${NODES[@]}"; do out+=("amqp://guest:guest@127.0.0.1:$((BASE + n))"); done
  (IFS=,; echo "${out[*]}")
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  stop-node) stop_node "$2" ;;
  kill-node) kill_node "$2" ;;
  urls) urls ;;
  ctl) shift; ctl "$@" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
