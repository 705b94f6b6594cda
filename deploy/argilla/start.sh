#!/usr/bin/env bash
# Start a throw-away Argilla server on 127.0.0.1 for tests, CI and the demo, without Elasticsearch.
#
#   deploy/argilla/start.sh                 # port 6900, 3 annotators, fresh data
#   IAA_ARGILLA_PORT=6901 IAA_ARGILLA_ANNOTATORS=5 deploy/argilla/start.sh
#
# Environment (all optional):
#   IAA_ARGILLA_HOME        venv, data dirs, logs, pid and env files    [$REPO/.cache/argilla]
#   IAA_ARGILLA_PORT        port on 127.0.0.1; a busy port is refused   [6900]
#   IAA_ARGILLA_ANNOTATORS  number of annotator users annotator{i}      [3]
#   IAA_ARGILLA_KEEP_DATA   1 keeps $IAA_ARGILLA_HOME/data-$PORT        [0: wiped]
#   IAA_ARGILLA_TIMEOUT     seconds to wait for GET /api/v1/status      [120]
#   IAA_ARGILLA_PYTHON      python (3.11) used to create the venv       [python3]
#
# What it runs, each in its own process group (setsid), all on this machine only:
#   - redis-server, on a Unix socket in the data dir (no TCP port: it can collide with nothing,
#     and a Redis on localhost:6379 would make Label Studio queue its webhooks for absent workers);
#   - the rq worker (webhook deliveries and dataset jobs are rq jobs: Redis is mandatory);
#   - argilla-server, with the search engine of sql_search_engine.py (answers from the SQLite
#     database; no Elasticsearch), through launcher.py, which registers that engine.
#
# In order: 1. installs argilla-server==$ARGILLA_VERSION into $IAA_ARGILLA_HOME/venv once (stamp file),
# and Debian's redis-server when it is missing; 2. refuses a busy port; 3. wipes the data dir;
# 4. starts Redis; 5. copies the database template (migrated, with the users), or on the first
# fresh start migrates the database and creates the users with known API keys (users.py) and saves
# the template; 6. starts the worker and the server; 7. waits for GET /api/v1/status and checks
# every API key with GET /api/v1/me (running users.py when one is wrong, e.g. on a kept data dir);
# 8. writes server-$PORT.env (ARGILLA_URL, ARGILLA_API_KEY, ...) and prints it.
# Stop everything with deploy/argilla/stop.sh (same IAA_ARGILLA_HOME and IAA_ARGILLA_PORT).
set -euo pipefail

ARGILLA_VERSION=2.8.0
# typer 0.9 (pinned by argilla-server) breaks under click >= 8.2: every CLI command crashes;
# huggingface-hub 1.x and datasets 4.x are not compatible with argilla-server 2.8 either.
CONSTRAINTS=("click<8.2" "huggingface-hub<1.0" "datasets<4.0")

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IAA_ARGILLA_HOME=${IAA_ARGILLA_HOME:-$REPO/.cache/argilla}
mkdir -p "$IAA_ARGILLA_HOME"
IAA_ARGILLA_HOME=$(cd "$IAA_ARGILLA_HOME" && pwd)
PORT=${IAA_ARGILLA_PORT:-6900}
ANNOTATORS=${IAA_ARGILLA_ANNOTATORS:-3}
KEEP_DATA=${IAA_ARGILLA_KEEP_DATA:-0}
TIMEOUT=${IAA_ARGILLA_TIMEOUT:-120}
PYTHON=${IAA_ARGILLA_PYTHON:-python3}

# Known credentials. This server listens on loopback only and holds test data only.
PASSWORD=iaa-argilla-password
KEY_PREFIX=iaa-argilla-key-          # API keys: ${KEY_PREFIX}owner, ${KEY_PREFIX}annotator1, ...
OWNER_KEY=${KEY_PREFIX}owner
WORKSPACE=iaa

VENV=$IAA_ARGILLA_HOME/venv
STAMP=$VENV/.installed-argilla-server-$ARGILLA_VERSION
DATA_DIR=$IAA_ARGILLA_HOME/data-$PORT
LOG_FILE=$IAA_ARGILLA_HOME/server-$PORT.log
WORKER_LOG=$IAA_ARGILLA_HOME/worker-$PORT.log
REDIS_LOG=$IAA_ARGILLA_HOME/redis-$PORT.log
PID_FILE=$IAA_ARGILLA_HOME/server-$PORT.pid
WORKER_PID_FILE=$IAA_ARGILLA_HOME/worker-$PORT.pid
REDIS_PID_FILE=$IAA_ARGILLA_HOME/redis-$PORT.pid
ENV_FILE=$IAA_ARGILLA_HOME/server-$PORT.env
TEMPLATE_DIR=$IAA_ARGILLA_HOME/template-$ARGILLA_VERSION-$ANNOTATORS
REDIS_SOCKET=$DATA_DIR/redis.sock
URL=http://127.0.0.1:$PORT

say() { printf 'argilla: %s\n' "$*"; }
die() { printf 'argilla: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "IAA_ARGILLA_PORT must be a port number, got '$PORT'"
[[ $ANNOTATORS =~ ^[0-9]+$ ]] || die "IAA_ARGILLA_ANNOTATORS must be a non-negative integer, got '$ANNOTATORS'"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "IAA_ARGILLA_TIMEOUT must be a number of seconds, got '$TIMEOUT'"
# A Unix socket path has at most 107 bytes.
((${#REDIS_SOCKET} < 100)) || die "IAA_ARGILLA_HOME is too deep for Redis' Unix socket ($REDIS_SOCKET); choose a shorter one"

# --- 1. install (once) --------------------------------------------------------------------------
# A lock, so that two start.sh for different ports do not install into the same venv at once.
install_argilla() {
    exec 9>"$IAA_ARGILLA_HOME/install.lock"
    flock 9
    if [[ ! -f $STAMP ]]; then
        local t0=$SECONDS
        say "installing argilla-server==$ARGILLA_VERSION into $VENV (log: $IAA_ARGILLA_HOME/install.log)"
        [[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
        printf '%s\n' "${CONSTRAINTS[@]}" >"$IAA_ARGILLA_HOME/constraints.txt"
        if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
               "$VENV/bin/python" -m pip install -c "$IAA_ARGILLA_HOME/constraints.txt" \
                   "argilla-server==$ARGILLA_VERSION"; } >"$IAA_ARGILLA_HOME/install.log" 2>&1; then
            tail -n 30 "$IAA_ARGILLA_HOME/install.log" >&2
            die "pip install argilla-server==$ARGILLA_VERSION failed; full log: $IAA_ARGILLA_HOME/install.log"
        fi
        touch "$STAMP"
        say "installed in $((SECONDS - t0)) s"
    fi
    if ! command -v redis-server >/dev/null; then
        command -v apt-get >/dev/null && [[ $(id -u) == 0 ]] ||
            die "redis-server is missing; install it (Debian: apt-get install -y redis-server)"
        say "installing Debian's redis-server (log: $IAA_ARGILLA_HOME/install-redis.log)"
        { apt-get install -y --no-install-recommends redis-server ||
          { apt-get update && apt-get install -y --no-install-recommends redis-server; }; } \
            >"$IAA_ARGILLA_HOME/install-redis.log" 2>&1 ||
            die "apt-get install redis-server failed; see $IAA_ARGILLA_HOME/install-redis.log"
    fi
    flock -u 9
    exec 9>&-
}
install_argilla

# --- 2. refuse a busy port, or a server of ours still running ------------------------------------
for pid_file in "$PID_FILE" "$WORKER_PID_FILE" "$REDIS_PID_FILE"; do
    if [[ -f $pid_file ]]; then
        old_pid=$(<"$pid_file")
        if [[ $old_pid =~ ^[0-9]+$ ]] && kill -0 "$old_pid" 2>/dev/null &&
            tr '\0' ' ' <"/proc/$old_pid/cmdline" 2>/dev/null | grep -q "launcher.py\|redis-server"; then
            die "a process started by this script for port $PORT is still running (pid $old_pid, $pid_file); run $HERE/stop.sh $PORT first"
        fi
    fi
done
rm -f "$PID_FILE" "$WORKER_PID_FILE" "$REDIS_PID_FILE" "$ENV_FILE"

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
    die "port $PORT is busy (something listens on 127.0.0.1/localhost:$PORT); choose another with IAA_ARGILLA_PORT=..."
fi

[[ $KEEP_DATA == 1 ]] || rm -rf -- "$DATA_DIR"
mkdir -p "$DATA_DIR/home" "$DATA_DIR/tmp"
rm -rf -- "${DATA_DIR:?}"/tmp/* "$REDIS_SOCKET"
# The secret that signs the web UI's session tokens; kept with the data, so a restart with
# IAA_ARGILLA_KEEP_DATA=1 keeps users logged in.
[[ -s $DATA_DIR/auth-secret ]] || "$PYTHON" -c 'import secrets; print(secrets.token_hex(32))' >"$DATA_DIR/auth-secret"

# The processes see only these variables (env -i): nothing leaks in from the caller's environment
# (argilla-server reads USERNAME, and every ARGILLA_* variable).
SERVER_ENV=(
    PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin"
    HOME="$DATA_DIR/home"
    # Each server process copies its 14 MB web UI into a new temporary directory, never deleted.
    TMPDIR="$DATA_DIR/tmp"
    LANG=C.UTF-8
    LC_ALL=C.UTF-8
    PYTHONUNBUFFERED=1
    ARGILLA_HOME_PATH="$DATA_DIR/home"
    ARGILLA_DATABASE_URL="sqlite+aiosqlite:///$DATA_DIR/argilla.db?check_same_thread=False"
    ARGILLA_REDIS_URL="unix://$REDIS_SOCKET?db=0"
    ARGILLA_SEARCH_ENGINE=sql
    ARGILLA_AUTH_SECRET_KEY="$(<"$DATA_DIR/auth-secret")"
    ARGILLA_SHOW_HUGGINGFACE_SPACE_PERSISTENT_STORAGE_WARNING=false
    # No outbound calls: Hugging Face telemetry (read by argilla-server's settings) and the Hub.
    HF_HUB_DISABLE_TELEMETRY=1
    HF_HUB_OFFLINE=1
    DO_NOT_TRACK=1
)
# users.py: migrate the database, create or repair the users (idempotent)
prepare_users() {
    env -i "${SERVER_ENV[@]}" IAA_ARGILLA_ANNOTATORS="$ANNOTATORS" IAA_ARGILLA_KEY_PREFIX="$KEY_PREFIX" \
        IAA_ARGILLA_PASSWORD="$PASSWORD" IAA_ARGILLA_WORKSPACE="$WORKSPACE" \
        "$VENV/bin/python" "$HERE/users.py" >>"$LOG_FILE" 2>&1
}

# From here on, a failure stops what we started, so nothing is left behind.
started_ok=0
cleanup_on_failure() {
    if [[ $started_ok != 1 ]]; then
        for log in "$LOG_FILE" "$WORKER_LOG" "$REDIS_LOG"; do
            [[ -s $log ]] && { printf 'argilla: start failed; last lines of %s:\n' "$log" >&2; tail -n 20 "$log" >&2; }
        done
        IAA_ARGILLA_HOME="$IAA_ARGILLA_HOME" IAA_ARGILLA_PORT="$PORT" "$HERE/stop.sh" >&2 || true
    fi
}
trap cleanup_on_failure EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs on these signals too

alive() {  # pid: running and not a zombie
    local state
    state=$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ' || true)
    [[ -n $state && $state != Z* ]]
}

t_start=$SECONDS
data_note=fresh
[[ $KEEP_DATA == 1 ]] && data_note=kept

# --- 4. Redis -----------------------------------------------------------------------------------
[[ $KEEP_DATA == 1 ]] || : >"$REDIS_LOG" >"$WORKER_LOG"
setsid redis-server --port 0 --unixsocket "$REDIS_SOCKET" --unixsocketperm 700 \
    --dir "$DATA_DIR" --save "" --appendonly no --daemonize no --logfile "$REDIS_LOG" \
    </dev/null >>"$REDIS_LOG" 2>&1 &
REDIS_PID=$!
echo "$REDIS_PID" >"$REDIS_PID_FILE"
until [[ $(redis-cli -s "$REDIS_SOCKET" ping 2>/dev/null) == PONG ]]; do
    alive "$REDIS_PID" || die "redis-server exited during start-up"
    ((SECONDS - t_start < 20)) || die "redis-server did not answer on $REDIS_SOCKET in 20 s"
    sleep 0.1
done

# --- 5. database and users ----------------------------------------------------------------------
# A fresh data dir starts from a template when there is one: the database migrated and holding
# the users, saved by the first fresh start (a copy instead of a Python start-up of 5-10 s).
if [[ $KEEP_DATA == 1 && -f $DATA_DIR/argilla.db ]]; then
    : >>"$LOG_FILE"
    prepared=later  # checked with the API keys once the server answers (step 7)
elif [[ -f $TEMPLATE_DIR/argilla.db ]]; then
    : >"$LOG_FILE"
    cp "$TEMPLATE_DIR/argilla.db" "$DATA_DIR/argilla.db"
    data_note="$data_note, from template"
    prepared=template
else
    : >"$LOG_FILE"
    say "migrating the database and creating the users"
    prepare_users || die "users.py failed; see $LOG_FILE"
    prepared=fresh
    # the template for the next fresh start: SQLite's online backup into a temporary directory
    # renamed into place, so a concurrent start.sh never sees half a template
    if [[ ! -d $TEMPLATE_DIR ]]; then
        tmp_dir=$TEMPLATE_DIR.tmp.$$
        rm -rf -- "$tmp_dir" && mkdir -p "$tmp_dir"
        if "$VENV/bin/python" -c 'import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
src.close()' "$DATA_DIR/argilla.db" "$tmp_dir/argilla.db" && mv -T "$tmp_dir" "$TEMPLATE_DIR" 2>/dev/null; then
            say "saved a template for the next fresh start: $TEMPLATE_DIR"
        fi
        rm -rf -- "$tmp_dir"
    fi
fi

# --- 6. worker and server -----------------------------------------------------------------------
env -i "${SERVER_ENV[@]}" setsid "$VENV/bin/python" "$HERE/launcher.py" worker --num-workers 1 \
    >>"$WORKER_LOG" 2>&1 </dev/null &
WORKER_PID=$!
echo "$WORKER_PID" >"$WORKER_PID_FILE"

say "starting on $URL (data: $DATA_DIR, $data_note; log: $LOG_FILE)"
env -i "${SERVER_ENV[@]}" setsid "$VENV/bin/python" "$HERE/launcher.py" start \
    --host 127.0.0.1 --port "$PORT" --no-access-log >>"$LOG_FILE" 2>&1 </dev/null &
SERVER_PID=$!
echo "$SERVER_PID" >"$PID_FILE"

# --- 7. wait for the status endpoint, check the keys --------------------------------------------
until curl -fsS -o /dev/null --max-time 2 "$URL/api/v1/status" 2>/dev/null; do
    alive "$SERVER_PID" || die "the server exited during start-up"
    alive "$WORKER_PID" || die "the rq worker exited during start-up; see $WORKER_LOG"
    ((SECONDS - t_start < TIMEOUT)) || die "no answer from $URL/api/v1/status after $TIMEOUT s"
    sleep 0.3
done
say "answering after $((SECONDS - t_start)) s"

# "username role" of an API key's user (GET /api/v1/me), or "refused".
whoami() {
    curl -fsS --max-time 10 -H "X-Argilla-Api-Key: $1" "$URL/api/v1/me" 2>/dev/null |
        "$PYTHON" -c 'import json, sys; u = json.load(sys.stdin); print(u["username"], u["role"])' \
            2>/dev/null || echo refused
}
# True when every key authenticates as its own user with the right role; else sets users_problem.
users_problem=""
users_ready() {
    local got i
    got=$(whoami "$OWNER_KEY")
    [[ $got == "owner owner" ]] || { users_problem="API key $OWNER_KEY: got '$got', expected 'owner owner'"; return 1; }
    for ((i = 1; i <= ANNOTATORS; i++)); do
        got=$(whoami "${KEY_PREFIX}annotator$i")
        if [[ $got != "annotator$i annotator" ]]; then
            users_problem="API key ${KEY_PREFIX}annotator$i: got '$got', expected 'annotator$i annotator'"
            return 1
        fi
    done
}
if ! users_ready; then
    [[ $prepared != fresh ]] || die "after users.py, $users_problem"
    say "$users_problem; running users.py"
    prepare_users || die "users.py failed; see $LOG_FILE"
    users_ready || die "after users.py, $users_problem"
fi
annotator_keys=()
for ((i = 1; i <= ANNOTATORS; i++)); do
    annotator_keys+=("${KEY_PREFIX}annotator$i")
done

# --- 8. machine-readable summary ----------------------------------------------------------------
keys_csv=$(IFS=,; echo "${annotator_keys[*]}")
cat >"$ENV_FILE" <<EOF
ARGILLA_URL=$URL
ARGILLA_API_KEY=$OWNER_KEY
ARGILLA_ANNOTATOR_KEYS=$keys_csv
ARGILLA_WORKSPACE=$WORKSPACE
ARGILLA_PASSWORD=$PASSWORD
ARGILLA_SERVER_PID=$SERVER_PID
ARGILLA_WORKER_PID=$WORKER_PID
ARGILLA_REDIS_PID=$REDIS_PID
ARGILLA_REDIS_URL=unix://$REDIS_SOCKET?db=0
ARGILLA_LOG=$LOG_FILE
ARGILLA_DATA_DIR=$DATA_DIR
ARGILLA_VERSION=$ARGILLA_VERSION
EOF
started_ok=1
say "ready in $((SECONDS - t_start)) s: owner 'owner' and $ANNOTATORS annotators annotator{1..$ANNOTATORS} in workspace '$WORKSPACE'"
say "env file: $ENV_FILE"
cat "$ENV_FILE"
