#!/usr/bin/env bash
# npm test: set-up, then every test. Vitest runs the groups in order: unit, integration (real
# Postgres, Redis and RabbitMQ, isolated per test), then faults (which restart those services).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-tools
npx biome check .
npx vitest run "$@"
