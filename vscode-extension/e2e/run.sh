#!/bin/bash
# Fresh profile → install the vsix → start code-server → run e2e.js → stop code-server.
#   VSIX=path/to/scopeline.vsix  PYTHON=python with scopeline  BP_LINE=7 (0: no breakpoint)
#   D=work dir (default ~/.cache/scopeline-e2e, made by setup.sh) holding cs/
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
D=${D:-$HOME/.cache/scopeline-e2e}
CS=${CS:-$D/cs/node_modules/.bin/code-server}
export NODE_PATH=${NODE_PATH:-$D/cs/node_modules}
export SHOTS=${SHOTS:-$D/shots}
VSIX=${VSIX:-$HERE/../scopeline.vsix}  # npm run package
PYTHON=${PYTHON:-python3}  # the scopeline.python setting: a Python with scopeline installed
PORT=${PORT:-8765}
RUN=$D/run; WS=$RUN/ws
rm -rf "$RUN"; mkdir -p "$RUN"/{ud/User,ext,xdg-config,xdg-data,tmp} "$WS/.vscode"
export TMPDIR=$RUN/tmp XDG_CONFIG_HOME=$RUN/xdg-config XDG_DATA_HOME=$RUN/xdg-data
cp "$HERE/loop.py" "$WS/loop.py"
cat > "$WS/.vscode/launch.json" <<'J'
{
  "version": "0.2.0",
  "configurations": [
    {"type": "scopeline", "request": "launch", "name": "Trace",
     "program": "${workspaceFolder}/loop.py",
     "tracepoints": [{"file": "${workspaceFolder}/loop.py", "line": 13, "message": "i={i}"},
                     {"file": "${workspaceFolder}/loop.py", "line": 8, "message": "acc={acc}"}]}
  ]
}
J
cat > "$RUN/ud/User/settings.json" <<J
{
  "workbench.startupEditor": "none",
  "scopeline.python": "$PYTHON",
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  "workbench.tips.enabled": false
}
J
"$CS" --user-data-dir "$RUN/ud" --extensions-dir "$RUN/ext" --install-extension "$VSIX" >"$RUN/install.log" 2>&1 \
  || { cat "$RUN/install.log"; exit 2; }
setsid "$CS" --bind-addr 127.0.0.1:$PORT --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust --user-data-dir "$RUN/ud" --extensions-dir "$RUN/ext" "$WS" \
  >"$RUN/code-server.log" 2>&1 &
CSPID=$!
trap 'kill -- -$CSPID 2>/dev/null; wait $CSPID 2>/dev/null' EXIT
for _ in $(seq 60); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.5; done
CS_URL=http://127.0.0.1:$PORT WS=$WS node "$HERE/e2e.js"
rc=$?
echo "logs: $RUN/code-server.log, $RUN/ud/logs/*/exthost*/, $RUN/xdg-data/scopeline/logs/serve.log"
exit $rc
