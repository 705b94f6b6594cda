#!/usr/bin/env bash
# Start a throw-away Label Studio Community server on 127.0.0.1 for tests, CI and the demo.
#
#   deploy/label-studio/start.sh            # port 8089, 3 annotators, fresh data
#   IAA_LS_PORT=8090 IAA_LS_ANNOTATORS=5 deploy/label-studio/start.sh
#
# Environment (all optional):
#   IAA_LS_HOME        where the venv, data, logs and pid/env files live  [$REPO/.cache/label-studio]
#   IAA_LS_PORT        port on 127.0.0.1; a busy port is refused           [8089]
#   IAA_LS_ANNOTATORS  number of annotator users annotator{i}@iaa.local     [3]
#   IAA_LS_KEEP_DATA   1 keeps $IAA_LS_HOME/data-$PORT from the last run   [0: wiped]
#   IAA_LS_TEMPLATE    0 migrates a fresh data dir from scratch (~40 s)    [1: copy the template]
#   IAA_LS_TIMEOUT     seconds to wait for GET /health                     [120]
#   IAA_LS_PYTHON      python used to create the venv                      [python3]
#
# What it does:
#   1. installs label-studio==$LS_VERSION into $IAA_LS_HOME/venv once (stamp file, ~1 GB);
#   2. starts the server in its own process group, logs to server-$PORT.log, pid in server-$PORT.pid,
#      on a wiped data dir seeded from a template (an empty, migrated database with the users,
#      saved after the first fresh start: ~5 s to start instead of ~40 s of migrations);
#   3. waits for GET /health;
#   4. checks every token with GET /api/current-user/whoami, and when one is missing or wrong,
#      creates the annotators with known tokens (users.py, Django) and checks again;
#   5. saves the template, after a start from scratch;
#   6. makes a Personal Access Token for every user (POST /api/token/, revoking an older one);
#   7. writes server-$PORT.env (LS_URL, LS_ADMIN_TOKEN, LS_ANNOTATOR_TOKENS, LS_ADMIN_PAT,
#      LS_ANNOTATOR_PATS, ...) and prints it.
# Stop it with deploy/label-studio/stop.sh (same IAA_LS_HOME and IAA_LS_PORT).
set -euo pipefail

LS_VERSION=1.23.2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IAA_LS_HOME=${IAA_LS_HOME:-$REPO/.cache/label-studio}
PORT=${IAA_LS_PORT:-8089}
ANNOTATORS=${IAA_LS_ANNOTATORS:-3}
KEEP_DATA=${IAA_LS_KEEP_DATA:-0}
TIMEOUT=${IAA_LS_TIMEOUT:-120}
USE_TEMPLATE=${IAA_LS_TEMPLATE:-1}
PYTHON=${IAA_LS_PYTHON:-python3}

# Known credentials. This server listens on loopback only and holds test data only.
ADMIN_EMAIL=admin@iaa.local
PASSWORD=iaa-ls-password
TOKEN_PREFIX=iaa-ls-token-          # tokens: ${TOKEN_PREFIX}admin, ${TOKEN_PREFIX}annotator1, ...
ADMIN_TOKEN=${TOKEN_PREFIX}admin

VENV=$IAA_LS_HOME/venv
STAMP=$VENV/.installed-label-studio-$LS_VERSION
DATA_DIR=$IAA_LS_HOME/data-$PORT
LOG_FILE=$IAA_LS_HOME/server-$PORT.log
PID_FILE=$IAA_LS_HOME/server-$PORT.pid
ENV_FILE=$IAA_LS_HOME/server-$PORT.env
TEMPLATE_DIR=$IAA_LS_HOME/template-$LS_VERSION
URL=http://127.0.0.1:$PORT

say() { printf 'label-studio: %s\n' "$*"; }
die() { printf 'label-studio: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "IAA_LS_PORT must be a port number, got '$PORT'"
[[ $ANNOTATORS =~ ^[0-9]+$ ]] || die "IAA_LS_ANNOTATORS must be a non-negative integer, got '$ANNOTATORS'"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "IAA_LS_TIMEOUT must be a number of seconds, got '$TIMEOUT'"
mkdir -p "$IAA_LS_HOME"

# --- 1. install (once) --------------------------------------------------------------------------
# A lock, so that two start.sh for different ports do not install into the same venv at once.
install_label_studio() {
    exec 9>"$IAA_LS_HOME/install.lock"
    flock 9
    if [[ ! -f $STAMP ]]; then
        local t0=$SECONDS
        say "installing label-studio==$LS_VERSION into $VENV (about 1 GB; log: $IAA_LS_HOME/install.log)"
        [[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
               "$VENV/bin/python" -m pip install "label-studio==$LS_VERSION"; } >"$IAA_LS_HOME/install.log" 2>&1; then
            tail -n 30 "$IAA_LS_HOME/install.log" >&2
            die "pip install label-studio==$LS_VERSION failed; full log: $IAA_LS_HOME/install.log"
        fi
        touch "$STAMP"
        say "installed in $((SECONDS - t0)) s"
    fi
    flock -u 9
    exec 9>&-
}
install_label_studio

# --- 2. start -----------------------------------------------------------------------------------
# A server we started earlier on this port? (The pid must still be Label Studio: pids get reused.)
if [[ -f $PID_FILE ]]; then
    old_pid=$(<"$PID_FILE")
    if [[ $old_pid =~ ^[0-9]+$ ]] && kill -0 "$old_pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$old_pid/cmdline" 2>/dev/null | grep -q "label-studio"; then
        die "a server started by this script is already running on port $PORT (pid $old_pid); run $HERE/stop.sh $PORT first"
    fi
fi
rm -f "$PID_FILE" "$ENV_FILE"

# Label Studio silently moves to the next free port when its port is busy, and it probes
# "localhost" (which may be ::1) as well as 127.0.0.1, so check both names here.
port_busy() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
port = int(sys.argv[1])
for host in ("127.0.0.1", "localhost"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        try:
            if s.connect_ex((host, port)) == 0:
                sys.exit(0)
        except OSError:
            pass
sys.exit(1)
EOF
}
if port_busy "$PORT"; then
    die "port $PORT is busy (something listens on 127.0.0.1/localhost:$PORT); choose another with IAA_LS_PORT=..."
fi

# Label Studio connects to a Redis on localhost:6379 when one answers (hard-coded, no setting),
# and then queues webhooks and exports for RQ workers that this script does not run.
if port_busy 6379; then
    say "WARNING: something listens on localhost:6379; if it is Redis, Label Studio will queue" \
        "webhooks and exports for RQ workers that are not running (they will not be sent)"
fi

seeded=0
if [[ $KEEP_DATA != 1 ]]; then
    rm -rf -- "$DATA_DIR"
    if [[ $USE_TEMPLATE == 1 && -f $TEMPLATE_DIR/label_studio.sqlite3 ]]; then
        mkdir -p "$DATA_DIR"
        cp "$TEMPLATE_DIR/label_studio.sqlite3" "$TEMPLATE_DIR/.env" "$DATA_DIR/"
        seeded=1
    fi
fi
mkdir -p "$DATA_DIR/home"

# The server sees only these variables (env -i): nothing leaks in from the caller's environment,
# in particular no USERNAME/PASSWORD/HOST/PORT, which Label Studio also reads unprefixed.
SERVER_ENV=(
    PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin"
    HOME="$DATA_DIR/home"
    LANG=C.UTF-8
    LC_ALL=C.UTF-8
    PYTHONUNBUFFERED=1
    LABEL_STUDIO_BASE_DATA_DIR="$DATA_DIR"
    LABEL_STUDIO_USERNAME="$ADMIN_EMAIL"
    LABEL_STUDIO_PASSWORD="$PASSWORD"
    LABEL_STUDIO_USER_TOKEN="$ADMIN_TOKEN"
    # Without this, "Authorization: Token <key>" is answered 401.
    LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true
    # Without this, webhooks to 127.0.0.1 are refused (403 when registered).
    SSRF_PROTECTION_ENABLED=false
    # No outbound calls: PyPI version check, Sentry, usage analytics, converter downloads.
    LATEST_VERSION_CHECK=false
    SENTRY_DSN=
    FRONTEND_SENTRY_DSN=
    COLLECT_ANALYTICS=false
    FEATURE_FLAGS_OFFLINE=true
    CONVERTER_DOWNLOAD_RESOURCES=false
    DEBUG=false
    LOG_LEVEL=WARNING
)

# From here on, a failure stops the server we started, so nothing is left behind.
started_ok=0
cleanup_on_failure() {
    if [[ $started_ok != 1 ]]; then
        printf 'label-studio: start failed; last lines of %s:\n' "$LOG_FILE" >&2
        tail -n 30 "$LOG_FILE" >&2 || true
        IAA_LS_HOME="$IAA_LS_HOME" IAA_LS_PORT="$PORT" "$HERE/stop.sh" >&2 || true
    fi
}
trap cleanup_on_failure EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs on these signals too

t_start=$SECONDS
data_note=fresh
[[ $seeded == 1 ]] && data_note="fresh, from template"
[[ $KEEP_DATA == 1 ]] && data_note=kept
say "starting on $URL (data: $DATA_DIR, $data_note; log: $LOG_FILE)"
# setsid: the server leads its own process group, so stop.sh can end it with all its children.
env -i "${SERVER_ENV[@]}" setsid "$VENV/bin/label-studio" start \
    --no-browser --internal-host 127.0.0.1 --port "$PORT" --data-dir "$DATA_DIR" \
    >"$LOG_FILE" 2>&1 </dev/null &
SERVER_PID=$!
echo "$SERVER_PID" >"$PID_FILE"

# --- 3. wait for /health ------------------------------------------------------------------------
until curl -fsS -o /dev/null --max-time 2 "$URL/health" 2>/dev/null; do
    # (an exited child stays a zombie until reaped, and kill -0 still finds a zombie)
    state=$(ps -o stat= -p "$SERVER_PID" 2>/dev/null | tr -d ' ' || true)
    [[ -n $state && $state != Z* ]] || die "the server exited during start-up"
    ((SECONDS - t_start < TIMEOUT)) || die "no answer from $URL/health after $TIMEOUT s"
    sleep 0.5
done
if grep -q "is in use" "$LOG_FILE"; then
    die "the server found port $PORT busy and moved to another port; see $LOG_FILE"
fi
say "healthy after $((SECONDS - t_start)) s"

# --- 4. annotators with known tokens ------------------------------------------------------------
annotator_tokens=()
for ((i = 1; i <= ANNOTATORS; i++)); do
    annotator_tokens+=("${TOKEN_PREFIX}annotator$i")
done

# "email active_organization" of a token's user (GET /api/current-user/whoami), or "refused".
whoami() {
    curl -fsS --max-time 10 -H "Authorization: Token $1" "$URL/api/current-user/whoami" 2>/dev/null |
        "$PYTHON" -c 'import json, sys; u = json.load(sys.stdin); print(u["email"], u["active_organization"])' \
            2>/dev/null || echo refused
}

# True when every token authenticates as its own user, all in the admin's active organization;
# otherwise sets users_problem.
users_problem=""
users_ready() {
    local admin org got expected i
    admin=$(whoami "$ADMIN_TOKEN")
    org=${admin#* }
    if [[ $admin != "$ADMIN_EMAIL "* || $org == None ]]; then
        users_problem="admin token $ADMIN_TOKEN: got '$admin', expected '$ADMIN_EMAIL <organization>'"
        return 1
    fi
    for ((i = 1; i <= ANNOTATORS; i++)); do
        got=$(whoami "${annotator_tokens[i - 1]}")
        expected="annotator$i@iaa.local $org"
        if [[ $got != "$expected" ]]; then
            users_problem="token ${annotator_tokens[i - 1]}: got '$got', expected '$expected'"
            return 1
        fi
    done
}

# A template or a kept data dir usually has the users already; users.py (Django, ~4 s) makes them.
if users_ready; then
    say "users already in place"
else
    env -i "${SERVER_ENV[@]}" IAA_LS_PASSWORD="$PASSWORD" IAA_LS_TOKEN_PREFIX="$TOKEN_PREFIX" \
        IAA_LS_ANNOTATORS="$ANNOTATORS" "$VENV/bin/python" "$HERE/users.py" >>"$LOG_FILE" 2>&1 ||
        die "users.py failed; see $LOG_FILE"
    users_ready || die "after users.py, $users_problem"
    say "created the users"
fi

# --- 5. template for the next fresh start ------------------------------------------------------
# Only from a database this script migrated from scratch and that nothing has used yet. The copy
# goes through SQLite's online backup (safe while the server runs), into a temporary directory
# renamed into place, so a concurrent start.sh never sees half a template.
if [[ $USE_TEMPLATE == 1 && $KEEP_DATA != 1 && $seeded == 0 && ! -d $TEMPLATE_DIR ]]; then
    tmp_dir=$TEMPLATE_DIR.tmp.$$
    rm -rf -- "$tmp_dir" && mkdir -p "$tmp_dir"
    if "$VENV/bin/python" -c 'import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
src.close()' "$DATA_DIR/label_studio.sqlite3" "$tmp_dir/label_studio.sqlite3" &&
        cp "$DATA_DIR/.env" "$tmp_dir/" && mv -T "$tmp_dir" "$TEMPLATE_DIR" 2>/dev/null; then
        say "saved a template for the next fresh start: $TEMPLATE_DIR"
    fi
    rm -rf -- "$tmp_dir"
fi

# --- 6. Personal Access Tokens -----------------------------------------------------------------
# One PAT per user, made through the API the way a user makes one in Account & Settings
# (POST /api/token/, here authenticated by the user's legacy token). A user may hold one valid PAT
# and a PAT can be read whole only when it is made, so any PAT a kept data dir holds is revoked
# first (POST /api/token/blacklist/ with the listed, unsigned form). After the template is saved:
# the template holds no PAT.
make_pats() {
    "$PYTHON" - "$URL" "$@" <<'EOF'
import json, sys, urllib.request

url, tokens = sys.argv[1], sys.argv[2:]


def call(method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


for token in tokens:
    for listed in call("GET", "/api/token/", token):
        call("POST", "/api/token/blacklist/", body={"refresh": listed["token"]})
    print(call("POST", "/api/token/", token)["token"])
EOF
}
pats_out=$(make_pats "$ADMIN_TOKEN" "${annotator_tokens[@]}") ||
    die "could not make Personal Access Tokens through $URL/api/token/"
mapfile -t pats <<<"$pats_out"
((${#pats[@]} == ANNOTATORS + 1)) ||
    die "got ${#pats[@]} Personal Access Tokens for $((ANNOTATORS + 1)) users"

# --- 7. machine-readable summary ----------------------------------------------------------------
tokens_csv=$(IFS=,; echo "${annotator_tokens[*]}")
pats_csv=$(IFS=,; echo "${pats[*]:1}")
cat >"$ENV_FILE" <<EOF
LS_URL=$URL
LS_ADMIN_EMAIL=$ADMIN_EMAIL
LS_ADMIN_TOKEN=$ADMIN_TOKEN
LS_ANNOTATOR_TOKENS=$tokens_csv
LS_ADMIN_PAT=${pats[0]}
LS_ANNOTATOR_PATS=$pats_csv
LS_PASSWORD=$PASSWORD
LS_PID=$SERVER_PID
LS_LOG=$LOG_FILE
LS_DATA_DIR=$DATA_DIR
LS_VERSION=$LS_VERSION
EOF
started_ok=1
say "ready in $((SECONDS - t_start)) s: admin $ADMIN_EMAIL and $ANNOTATORS annotators, annotator{1..$ANNOTATORS}@iaa.local"
say "env file: $ENV_FILE"
cat "$ENV_FILE"
