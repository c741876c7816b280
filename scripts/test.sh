#!/usr/bin/env bash
# npm test: install what is missing, make the dependencies reachable (and promtool installed), then
# every test. Vitest runs its groups in order: unit, integration (real Postgres, Redis and RabbitMQ,
# isolated per test), then faults (which restart those services). Arguments go to vitest
# (`npm test -- --project unit`, `npm test -- services/ingest`); a full run first lints and checks the
# Prometheus config, alert rules and their unit tests (a few hundred milliseconds together).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh # everything below runs on the Node in .nvmrc
bash scripts/setup.sh --with-test-tools
if [[ $# -eq 0 ]]; then
  npx biome check .
  TURBO_TELEMETRY_DISABLED=1 npm run --silent typecheck
  npm run --silent check:infra >/dev/null
fi
exec npx vitest run "$@"
