#!/usr/bin/env bash
# Shared by `npm start` and `npm test` (which source scripts/node-env.sh first, so the Node it
# selects stays on their PATH too). Brings the Node in .nvmrc when the machine's is older (node-env.sh),
# installs the npm dependencies when they are missing or older than package-lock.json, rebuilds
# them when they were installed under another Node ABI (native addons are per-ABI), then makes
# Postgres, Redis and RabbitMQ reachable (arguments go to infra/up).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/node-env.sh
abi=$(node -p process.versions.modules)
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm install --no-audit --no-fund
  echo "$abi" >node_modules/.node-abi
elif [[ $(cat node_modules/.node-abi 2>/dev/null) != "$abi" ]]; then
  echo "setup: node_modules were installed for another Node ABI; npm rebuild for $(node -v)" >&2
  npm rebuild
  echo "$abi" >node_modules/.node-abi
fi
infra/up "$@"
