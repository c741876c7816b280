#!/bin/sh
# The image's entrypoint: the first argument names what runs. `exec` makes node PID 1, so SIGTERM
# reaches the service's graceful shutdown directly.
set -eu
cd "$(dirname "$0")/../.." # /app in the image
case "${1:-}" in
  ingest | webhooks | sync-worker | assignment-worker | realtime)
    exec node "services/$1/dist/main.js"
    ;;
  migrate)
    exec node tools/cli/dist/switchboard.js migrate
    ;;
  switchboard)
    shift
    exec node tools/cli/dist/switchboard.js "$@"
    ;;
  -h | --help | "")
    echo "usage: <ingest|webhooks|sync-worker|assignment-worker|realtime|migrate|switchboard <subcommand> ...>"
    ;;
  *)
    exec "$@"
    ;;
esac
