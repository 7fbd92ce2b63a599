#!/bin/bash
# Install what run.sh needs, once, into $D (idempotent): Debian's Chromium and the build
# dependencies of code-server's native modules (apt), code-server 4.100.3 (VS Code 1.100.3;
# newer ones need Node 24) and playwright-core (npm). Offline-safe: @vscode/ripgrep's download
# is served from a cache seeded with Debian's rg. ~2 min the first time, ~0 s after.
set -euo pipefail
D=${D:-$HOME/.cache/scopeline-e2e}
mkdir -p "$D/tmp" "$D/cs"
need=()
for cmd in chromium rg pkg-config curl; do command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd"); done
for pc in krb5-gssapi xkbfile libsecret-1; do
  pkg-config --exists "$pc" 2>/dev/null || need+=("$pc")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "e2e setup: apt-get install (missing: ${need[*]})" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep curl \
      chromium >/dev/null
fi
if [ ! -x "$D/cs/node_modules/.bin/code-server" ] || [ ! -d "$D/cs/node_modules/playwright-core" ]; then
  export TMPDIR=$D/tmp
  cache=$TMPDIR/vscode-ripgrep-cache-1.15.11
  mkdir -p "$cache"
  tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" \
      -C "$(dirname "$(command -v rg)")" rg
  cd "$D/cs"
  [ -f package.json ] || echo '{"name":"cs","private":true}' > package.json
  npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund \
      --loglevel=error code-server@4.100.3 playwright-core@1 --foreground-scripts >/dev/null
fi
echo "$D"
