#!/usr/bin/env bash
# Stop the Label Studio server that start.sh started, and only that one.
#
#   deploy/label-studio/stop.sh           # the server on IAA_LS_PORT (default 8089)
#   deploy/label-studio/stop.sh 8090      # the server on port 8090
#   deploy/label-studio/stop.sh --all     # every server with a pid file in IAA_LS_HOME
#
# It reads $IAA_LS_HOME/server-$PORT.pid, sends SIGTERM to the process group start.sh created
# (setsid: the server and any child it spawned), waits up to IAA_LS_STOP_TIMEOUT seconds (10),
# then sends SIGKILL. It never looks processes up by name. The data dir is left for inspection;
# start.sh wipes it on the next start unless IAA_LS_KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IAA_LS_HOME=${IAA_LS_HOME:-$REPO/.cache/label-studio}
STOP_TIMEOUT=${IAA_LS_STOP_TIMEOUT:-10}

say() { printf 'label-studio: %s\n' "$*"; }

# True while any process of the group (or the process itself) is alive. Zombies do not count:
# an exited server whose parent has not reaped it yet is stopped.
alive() {  # pid pgid-or-empty
    if [[ -n $2 ]]; then
        ps -e -o pgid=,stat= | awk -v g="$2" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
    else
        ps -o stat= -p "$1" | grep -qv '^Z'
    fi
}

signal() {  # SIG pid pgid-or-empty
    if [[ -n $3 ]]; then kill "-$1" -- "-$3" 2>/dev/null || true; else kill "-$1" "$2" 2>/dev/null || true; fi
}

stop_port() {  # port
    local port=$1 pid_file="$IAA_LS_HOME/server-$1.pid" pid pgid=""
    if [[ ! -f $pid_file ]]; then
        say "no server started by start.sh on port $port (no $pid_file)"
        return 0
    fi
    pid=$(<"$pid_file")
    [[ $pid =~ ^[0-9]+$ ]] || { say "ignoring $pid_file: '$pid' is not a pid"; rm -f "$pid_file"; return 0; }

    # start.sh runs the server under setsid, so it leads its own process group (pgid == pid);
    # only then is the whole group ours to signal. Guard against a recycled pid as well.
    if kill -0 "$pid" 2>/dev/null; then
        if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "label-studio"; then
            say "pid $pid from $pid_file is no longer Label Studio; not touching it"
            rm -f "$pid_file" "$IAA_LS_HOME/server-$port.env"
            return 0
        fi
        [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]] && pgid=$pid
    elif kill -0 -- "-$pid" 2>/dev/null; then
        pgid=$pid  # the leader is gone but children of its group remain
    else
        say "server on port $port (pid $pid) is not running"
        rm -f "$pid_file" "$IAA_LS_HOME/server-$port.env"
        return 0
    fi

    say "stopping server on port $port (pid $pid${pgid:+, process group $pgid})"
    signal TERM "$pid" "$pgid"
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" "$pgid" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if alive "$pid" "$pgid"; then
        say "still running after $STOP_TIMEOUT s; sending SIGKILL"
        signal KILL "$pid" "$pgid"
        sleep 0.5
    fi
    rm -f "$pid_file" "$IAA_LS_HOME/server-$port.env"
    say "stopped"
}

if [[ ${1:-} == --all ]]; then
    shopt -s nullglob
    for pid_file in "$IAA_LS_HOME"/server-*.pid; do
        port=${pid_file##*/server-}
        stop_port "${port%.pid}"
    done
else
    port=${1:-${IAA_LS_PORT:-8089}}
    [[ $port =~ ^[0-9]+$ ]] || { echo "usage: $0 [PORT|--all]" >&2; exit 2; }
    stop_port "$port"
fi
