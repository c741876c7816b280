#!/usr/bin/env bash
# npm start: set-up, seed the development tenant, then run every service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent db:seed
exec node scripts/run-services.mjs
