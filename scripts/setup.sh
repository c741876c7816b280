#!/usr/bin/env bash
# Shared by `npm start` and `npm test`: install what is missing, make the services reachable, migrate.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm install --no-audit --no-fund
fi
infra/up "$@"
npm run --silent db:migrate
