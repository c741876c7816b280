#!/usr/bin/env bash
# npm start: install what is missing, make the dependencies reachable, migrate, seed the development
# tenant, then run every service under services/*/src/main.ts (see scripts/run-services.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh # everything below runs on the Node in .nvmrc
bash scripts/setup.sh
npm run --silent db:migrate
npm run --silent db:seed
exec node scripts/run-services.mjs
