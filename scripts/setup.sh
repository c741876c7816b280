#!/usr/bin/env bash
# Shared by `npm start` and `npm test`: install the npm dependencies when they are missing or older
# than package-lock.json, then make Postgres, Redis and RabbitMQ reachable (arguments go to infra/up).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm install --no-audit --no-fund
fi
infra/up "$@"
