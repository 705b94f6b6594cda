#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on 127.0.0.1 for tests and CI (never the system's cluster).
#
#   deploy/postgres/start.sh                     # port 55432, fresh cluster
#   IAA_PG_PORT=55433 deploy/postgres/start.sh
#   IAA_PG_KEEP_DATA=1 deploy/postgres/start.sh  # restart the kept cluster (or leave it running)
#
# Environment (all optional):
#   IAA_PG_HOME       where clusters, sockets, logs, pid and env files live  [$REPO/.cache/postgres]
#   IAA_PG_PORT       port on 127.0.0.1; a busy port is refused              [55432]
#   IAA_PG_KEEP_DATA  1 keeps $IAA_PG_HOME/data-$PORT from the last run      [0: wiped]
#   IAA_PG_TIMEOUT    seconds to wait for the server to accept connections   [60]
#   IAA_PG_BIN        directory with pg_ctl, initdb, postgres, psql          [newest /usr/lib/postgresql/*/bin]
#
# What it does:
#   1. installs Debian's postgresql package (apt-get, as root) when no /usr/lib/postgresql/*/bin
#      has pg_ctl and initdb; apt-get update only when the install fails for a missing package;
#   2. with IAA_PG_KEEP_DATA=1, leaves a cluster it started on this port running; otherwise stops
#      it (stop.sh) and wipes data-$PORT and run-$PORT;
#   3. refuses a busy port;
#   4. initdb's a cluster in data-$PORT (owner and superuser: the OS user postgres when run as
#      root, since the server refuses to run as root; else the caller), writes its pg_hba.conf and
#      iaa-test.conf: 127.0.0.1:$PORT only, unix socket in run-$PORT, trust for role iaa on
#      database iaa over TCP, peer for the superuser on the socket, fsync=off and
#      synchronous_commit=off (test data only);
#   5. starts it with pg_ctl (log run-$PORT/server.log, pid run-$PORT/server.pid) and waits for
#      pg_isready;
#   6. creates the role iaa and its database iaa if they are missing, and connects as iaa over TCP;
#   7. writes $IAA_PG_HOME/server-$PORT.env (IAA_PG_URL=postgresql+psycopg://iaa@127.0.0.1:$PORT/iaa,
#      ...) and prints it.
# Stop it with deploy/postgres/stop.sh (same IAA_PG_HOME and IAA_PG_PORT).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IAA_PG_HOME=${IAA_PG_HOME:-$REPO/.cache/postgres}
PORT=${IAA_PG_PORT:-55432}
KEEP_DATA=${IAA_PG_KEEP_DATA:-0}
TIMEOUT=${IAA_PG_TIMEOUT:-60}

# The test role and database. Trusted on 127.0.0.1 only, holding test data only.
ROLE=iaa
DATABASE=iaa

say() { printf 'postgres: %s\n' "$*"; }
die() { printf 'postgres: ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
seconds_since() { local ms=$(($(now_ms) - $1)); printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10)); }

[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "IAA_PG_PORT must be a port number, got '$PORT'"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "IAA_PG_TIMEOUT must be a number of seconds, got '$TIMEOUT'"
mkdir -p "$IAA_PG_HOME"
IAA_PG_HOME=$(cd "$IAA_PG_HOME" && pwd)

DATA_DIR=$IAA_PG_HOME/data-$PORT
RUN_DIR=$IAA_PG_HOME/run-$PORT
LOG_FILE=$RUN_DIR/server.log
PID_FILE=$RUN_DIR/server.pid
ENV_FILE=$IAA_PG_HOME/server-$PORT.env
URL=postgresql+psycopg://$ROLE@127.0.0.1:$PORT/$DATABASE

# A unix socket path holds at most 107 bytes.
socket_path=$RUN_DIR/.s.PGSQL.$PORT
((${#socket_path} <= 107)) ||
    die "the socket path $socket_path is longer than 107 bytes; choose a shorter IAA_PG_HOME"

# PostgreSQL refuses to run as root: as root, the cluster belongs to the OS user postgres
# (Debian's package creates it); otherwise to whoever runs this script.
if ((EUID == 0)); then OWNER=postgres; else OWNER=$(id -un); fi

# --- 1. install (once) --------------------------------------------------------------------------
BIN=""
find_bin() {
    if [[ -n ${IAA_PG_BIN:-} ]]; then
        BIN=$IAA_PG_BIN
        return 0
    fi
    local dir
    BIN=""
    while read -r dir; do
        [[ -x $dir/pg_ctl && -x $dir/initdb && -x $dir/postgres && -x $dir/psql && -x $dir/pg_isready ]] && BIN=$dir
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
}

# apt-get's own lock serialises parallel installs; this one makes the second start.sh wait and
# then find the binaries instead of running apt-get again.
install_postgres() {
    find_bin
    [[ -n $BIN ]] && return 0
    exec 9>"$IAA_PG_HOME/install.lock"
    flock 9
    find_bin
    if [[ -z $BIN ]]; then
        ((EUID == 0)) || die "no PostgreSQL server under /usr/lib/postgresql/*/bin; as root run: apt-get install -y postgresql"
        command -v apt-get >/dev/null || die "no PostgreSQL server under /usr/lib/postgresql/*/bin and no apt-get; install PostgreSQL and set IAA_PG_BIN to its bin directory"
        local t0 log=$IAA_PG_HOME/install.log
        t0=$(now_ms)
        say "installing Debian's postgresql package (log: $log)"
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y postgresql >"$log" 2>&1; then
            grep -qE "Unable to locate package|has no installation candidate|Failed to fetch|404 +Not Found" "$log" ||
                { tail -n 30 "$log" >&2; die "apt-get install -y postgresql failed; full log: $log"; }
            say "the package lists are missing or stale; running apt-get update and trying again"
            if ! { apt-get update && apt-get install -y postgresql; } >>"$log" 2>&1; then
                tail -n 30 "$log" >&2
                die "apt-get install -y postgresql failed after apt-get update; full log: $log"
            fi
        fi
        find_bin
        [[ -n $BIN ]] || die "apt-get installed postgresql, but no /usr/lib/postgresql/*/bin has pg_ctl and initdb"
        say "installed in $(seconds_since "$t0") s"
    fi
    flock -u 9
    exec 9>&-
}
install_postgres
for tool in pg_ctl initdb postgres psql pg_isready; do
    [[ -x $BIN/$tool ]] || die "$BIN/$tool is missing or not executable (IAA_PG_BIN=${IAA_PG_BIN:-unset})"
done
id -u "$OWNER" >/dev/null 2>&1 || die "no OS user '$OWNER' to own the cluster; apt-get install -y postgresql creates it"
VERSION=$("$BIN/pg_ctl" --version | awk '{print $3}')
MAJOR=${VERSION%%.*}

SERVER_ENV=(PATH="$BIN:/usr/bin:/bin" HOME="$RUN_DIR" LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC)
# Runs a command as the cluster's owner, with only SERVER_ENV (nothing leaks in, e.g. PGPASSWORD).
as_owner() {
    if ((EUID == 0)); then
        (cd / && runuser -u "$OWNER" -- env -i "${SERVER_ENV[@]}" "$@")
    else
        (cd / && env -i "${SERVER_ENV[@]}" "$@")
    fi
}

# --- 2. a cluster this script started on this port? ---------------------------------------------
# Its pid is the first line of data-$PORT/postmaster.pid; it must be alive and still be a postgres
# serving this data dir (pids get reused).
our_server_pid() {
    local pid
    [[ -f $DATA_DIR/postmaster.pid ]] || return 1
    pid=$(head -n 1 "$DATA_DIR/postmaster.pid")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$DATA_DIR" || return 1
    echo "$pid"
}

t_start=$(now_ms)
reused=0
if pid=$(our_server_pid); then
    if [[ $KEEP_DATA == 1 ]]; then
        say "the cluster on port $PORT is already running (pid $pid); keeping it"
        reused=1
    else
        say "stopping the cluster this script started on port $PORT (pid $pid) before wiping it"
        IAA_PG_HOME="$IAA_PG_HOME" "$HERE/stop.sh" "$PORT"
    fi
fi

# --- 3 and 4. a free port and a cluster ---------------------------------------------------------
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

data_note=kept
if [[ $reused == 0 ]]; then
    if port_busy "$PORT"; then
        die "port $PORT is busy (something listens on 127.0.0.1:$PORT); choose another with IAA_PG_PORT=..."
    fi
    rm -f "$ENV_FILE" "$PID_FILE"
    if [[ $KEEP_DATA != 1 || ! -f $DATA_DIR/PG_VERSION ]]; then
        rm -rf -- "$DATA_DIR" "$RUN_DIR"
        data_note=fresh
    elif [[ $(<"$DATA_DIR/PG_VERSION") != "$MAJOR" ]]; then
        die "the kept cluster $DATA_DIR is PostgreSQL $(<"$DATA_DIR/PG_VERSION"), the server is $MAJOR; start without IAA_PG_KEEP_DATA=1 to wipe it"
    fi
    mkdir -p -m 700 "$DATA_DIR" "$RUN_DIR"
    chown "$OWNER:" "$DATA_DIR" "$RUN_DIR"
    chmod 700 "$DATA_DIR" "$RUN_DIR"
    as_owner test -w "$DATA_DIR" ||
        die "the OS user $OWNER cannot reach $DATA_DIR (a parent directory is closed to it); choose another IAA_PG_HOME"

    if [[ $data_note == fresh ]]; then
        t0=$(now_ms)
        # --no-sync: a crash loses a throw-away cluster, nothing else.
        as_owner initdb -D "$DATA_DIR" -U "$OWNER" -E UTF8 --locale=C --no-sync \
            --auth-local=peer --auth-host=reject >"$RUN_DIR/initdb.log" 2>&1 ||
            { tail -n 30 "$RUN_DIR/initdb.log" >&2; die "initdb failed; full log: $RUN_DIR/initdb.log"; }
        say "initdb (PostgreSQL $VERSION) in $(seconds_since "$t0") s: $DATA_DIR"
    fi

    # Written on every start, so a kept cluster gets the current settings too.
    {
        echo "# Written by deploy/postgres/start.sh on every start; edits are lost."
        printf '%-7s %-10s %-10s %-15s %s\n' "# TYPE" DATABASE USER ADDRESS METHOD \
            local all "$OWNER" "" peer \
            host "$DATABASE" "$ROLE" 127.0.0.1/32 trust
    } | as_owner tee "$DATA_DIR/pg_hba.conf" >/dev/null
    as_owner tee "$DATA_DIR/iaa-test.conf" >/dev/null <<EOF
# Written by deploy/postgres/start.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN_DIR'
# Test data only: no flush to disk (a crash of the machine can corrupt this cluster).
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
timezone = 'UTC'
log_timezone = 'UTC'
EOF
    grep -qxF "include 'iaa-test.conf'" "$DATA_DIR/postgresql.conf" ||
        echo "include 'iaa-test.conf'" | as_owner tee -a "$DATA_DIR/postgresql.conf" >/dev/null
fi

# From here on, a failure stops the server we started, so nothing is left behind.
started_ok=0
cleanup_on_failure() {
    if [[ $started_ok != 1 && $reused == 0 ]]; then
        printf 'postgres: start failed; last lines of %s:\n' "$LOG_FILE" >&2
        tail -n 30 "$LOG_FILE" >&2 || true
        IAA_PG_HOME="$IAA_PG_HOME" "$HERE/stop.sh" "$PORT" >&2 || true
    fi
}
trap cleanup_on_failure EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs on these signals too

# --- 5. start and wait --------------------------------------------------------------------------
if [[ $reused == 0 ]]; then
    say "starting on 127.0.0.1:$PORT (data: $DATA_DIR, $data_note; log: $LOG_FILE)"
    # pg_ctl detaches the server into a session of its own; -w waits for it to accept connections.
    as_owner pg_ctl start -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$TIMEOUT" -s ||
        die "pg_ctl start failed on port $PORT"
fi
pid=$(our_server_pid) || die "the server exited during start-up"
echo "$pid" >"$PID_FILE"

# pg_isready as the superuser over the socket (peer authentication): polling over TCP before the
# role exists would fill the log with authentication failures.
wait_ready() {  # description pg_isready-options...
    local what=$1
    shift
    until as_owner pg_isready -q -p "$PORT" -t 2 "$@"; do
        our_server_pid >/dev/null || die "the server exited during start-up"
        (($(now_ms) - t_start < TIMEOUT * 1000)) || die "pg_isready got no answer on $what after $TIMEOUT s"
        sleep 0.1
    done
}
wait_ready "the socket in $RUN_DIR" -h "$RUN_DIR" -U "$OWNER" -d postgres
say "accepting connections $(seconds_since "$t_start") s after the start of start.sh"

# --- 6. role and database, idempotently ---------------------------------------------------------
as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$PORT" -U "$OWNER" -d postgres >/dev/null <<EOF ||
SELECT 'CREATE ROLE $ROLE LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE')
\gexec
SELECT 'CREATE DATABASE $DATABASE OWNER $ROLE' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE')
\gexec
EOF
    die "could not create the role $ROLE and the database $DATABASE; see $LOG_FILE"
# The way the tests connect: TCP on 127.0.0.1, role iaa, no password.
wait_ready "127.0.0.1:$PORT" -h 127.0.0.1 -U "$ROLE" -d "$DATABASE"
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -w -At "host=127.0.0.1 port=$PORT user=$ROLE dbname=$DATABASE" \
    -c 'SELECT 1' >/dev/null 2>&1 ||
    die "$ROLE cannot connect to 127.0.0.1:$PORT/$DATABASE without a password; see $DATA_DIR/pg_hba.conf"

# --- 7. machine-readable summary ----------------------------------------------------------------
cat >"$ENV_FILE" <<EOF
IAA_PG_URL=$URL
IAA_PG_PORT=$PORT
IAA_PG_PID=$pid
IAA_PG_LOG=$LOG_FILE
IAA_PG_DATA_DIR=$DATA_DIR
IAA_PG_SOCKET_DIR=$RUN_DIR
IAA_PG_VERSION=$VERSION
EOF
started_ok=1
say "ready in $(seconds_since "$t_start") s: role $ROLE, database $DATABASE, PostgreSQL $VERSION"
say "env file: $ENV_FILE"
cat "$ENV_FILE"
