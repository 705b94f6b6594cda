#!/usr/bin/env bash
# Stop the PostgreSQL cluster that start.sh started, and only that one (never the system's).
#
#   deploy/postgres/stop.sh           # the cluster on IAA_PG_PORT (default 55432)
#   deploy/postgres/stop.sh 55433     # the cluster on port 55433
#   deploy/postgres/stop.sh --all     # every cluster with a data dir in IAA_PG_HOME
#
# It reads the pid from $IAA_PG_HOME/run-$PORT/server.pid (or, when start.sh died before writing
# it, from data-$PORT/postmaster.pid), checks that this pid is a live postgres serving
# $IAA_PG_HOME/data-$PORT, and runs `pg_ctl stop -m fast` on that data dir as its owner; after
# IAA_PG_STOP_TIMEOUT seconds (10) it tries `-m immediate`. It never looks processes up by name.
# The data dir and the log are left for inspection; start.sh wipes them on the next start unless
# IAA_PG_KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IAA_PG_HOME=${IAA_PG_HOME:-$REPO/.cache/postgres}
STOP_TIMEOUT=${IAA_PG_STOP_TIMEOUT:-10}

say() { printf 'postgres: %s\n' "$*"; }

[[ $STOP_TIMEOUT =~ ^[0-9]+$ ]] || { echo "IAA_PG_STOP_TIMEOUT must be a number of seconds" >&2; exit 2; }
[[ -d $IAA_PG_HOME ]] || { say "nothing to stop: no $IAA_PG_HOME"; exit 0; }
IAA_PG_HOME=$(cd "$IAA_PG_HOME" && pwd)

# Runs pg_ctl as the owner of the data dir (pg_ctl refuses root), with nothing from our environment.
as_owner() {  # data_dir command...
    local owner
    owner=$(stat -c %U "$1")
    shift
    if ((EUID == 0)) && [[ $owner != root ]]; then
        (cd / && runuser -u "$owner" -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@")
    else
        (cd / && env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@")
    fi
}

serves() {  # pid data_dir: the pid is a live process whose command line has "-D data_dir"
    [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null &&
        tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"
}

stop_port() {  # port
    local port=$1 data_dir="$IAA_PG_HOME/data-$1" run_dir="$IAA_PG_HOME/run-$1" pid="" source
    local pid_file="$IAA_PG_HOME/run-$1/server.pid" env_file="$IAA_PG_HOME/server-$1.env"
    if [[ -f $pid_file ]]; then
        pid=$(<"$pid_file") source=$pid_file
    elif [[ -f $data_dir/postmaster.pid ]]; then
        pid=$(head -n 1 "$data_dir/postmaster.pid") source=$data_dir/postmaster.pid
    else
        say "no cluster started by start.sh on port $port (no $pid_file)"
        rm -f "$env_file"
        return 0
    fi
    if ! serves "$pid" "$data_dir"; then
        say "cluster on port $port (pid '$pid' from $source) is not running"
        rm -f "$pid_file" "$env_file"
        return 0
    fi

    # The server binary that runs this cluster, so pg_ctl matches its version.
    local postgres_bin bin
    postgres_bin=$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)
    bin=${postgres_bin%/*}
    [[ -x $bin/pg_ctl ]] || bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)

    say "stopping the cluster on port $port (pid $pid, data $data_dir)"
    if ! as_owner "$data_dir" "$bin/pg_ctl" stop -D "$data_dir" -m fast -w -t "$STOP_TIMEOUT" -s; then
        say "fast shutdown did not finish in $STOP_TIMEOUT s; immediate shutdown"
        as_owner "$data_dir" "$bin/pg_ctl" stop -D "$data_dir" -m immediate -w -t "$STOP_TIMEOUT" -s || true
    fi
    if serves "$pid" "$data_dir"; then
        say "ERROR: pid $pid still serves $data_dir; see $run_dir/server.log" >&2
        return 1
    fi
    rm -f "$pid_file" "$env_file"
    say "stopped"
}

if [[ ${1:-} == --all ]]; then
    shopt -s nullglob
    status=0
    for data_dir in "$IAA_PG_HOME"/data-*; do
        stop_port "${data_dir##*/data-}" || status=1
    done
    exit "$status"
else
    port=${1:-${IAA_PG_PORT:-55432}}
    [[ $port =~ ^[0-9]+$ ]] || { echo "usage: $0 [PORT|--all]" >&2; exit 2; }
    stop_port "$port"
fi
