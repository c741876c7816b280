#!/usr/bin/env bash
# Sourced by scripts/setup.sh (and so by `npm start`, `npm test` and CI): makes `node` on PATH the
# Node major in .nvmrc. When the machine's node is older, the official binary comes from the npm
# registry's node-<os>-<arch> package (no other download), installed once into .tools/node
# (gitignored) and put first on PATH, so npm, npx, vitest and the services all run on it from here
# on. `npm start` itself began under the older node; only this bash process and its children switch.
# NODE_BOOTSTRAP=0 turns the switch off (a machine that manages node some other way).

switchboard_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_major=$(tr -dc '0-9' <"$switchboard_root/.nvmrc")
node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [[ ${NODE_BOOTSTRAP:-1} != 0 && $(node_major) -lt $want_major ]]; then
  case "$(uname -m)" in
    x86_64 | amd64) node_arch=x64 ;;
    aarch64 | arm64) node_arch=arm64 ;;
    *) node_arch=$(uname -m) ;;
  esac
  node_pkg="node-$(uname -s | tr '[:upper:]' '[:lower:]')-$node_arch"
  node_bin="$switchboard_root/.tools/node/node_modules/$node_pkg/bin"
  if [[ $(node_major "$node_bin/node") != "$want_major" ]]; then
    echo "setup: node $(node -v 2>/dev/null || echo missing) is older than $want_major; installing $node_pkg@$want_major into .tools/node" >&2
    mkdir -p "$switchboard_root/.tools/node"
    # Several worktrees or test runs may start at once: one installs, the others wait for it.
    (
      flock 9
      if [[ $(node_major "$node_bin/node") != "$want_major" ]]; then
        npm install --prefix "$switchboard_root/.tools/node" --no-save --no-audit --no-fund \
          --no-package-lock "$node_pkg@$want_major" >&2
      fi
    ) 9>"$switchboard_root/.tools/node.lock"
  fi
  export PATH="$node_bin:$PATH"
  # npm records the node that started it; children must not be pointed back at the old one.
  unset npm_node_execpath NODE
  if [[ $(node_major) != "$want_major" ]]; then
    echo "setup: could not bring node $want_major (still $(node -v))" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
