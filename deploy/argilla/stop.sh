#!/usr/bin/env bash
# Stop the Argilla server, its rq worker and its Redis that start.sh started, and only those.
#
#   deploy/argilla/stop.sh           # the processes for IAA_ARGILLA_PORT (default 6900)
#   deploy/argilla/stop.sh 6901      # the processes for port 6901
#   deploy/argilla/stop.sh --all     # every port with a pid file in IAA_ARGILLA_HOME
#
# For each of server-$PORT.pid, worker-$PORT.pid and redis-$PORT.pid (in that order: Redis last,
# so that the server and the worker do not spin on a lost connection) it checks that the pid is
# still the program start.sh ran, sends SIGTERM to its process group (start.sh used setsid) and to
# every descendant (rq's work horse calls setsid itself, so it is in a group of its own and would
# otherwise outlive the worker, finishing a job of minutes), waits up to IAA_ARGILLA_STOP_TIMEOUT
# seconds (10), then sends SIGKILL. It never looks processes up by name. The data dir is left for inspection; start.sh
# wipes it on the next start unless IAA_ARGILLA_KEEP_DATA=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IAA_ARGILLA_HOME=${IAA_ARGILLA_HOME:-$REPO/.cache/argilla}
STOP_TIMEOUT=${IAA_ARGILLA_STOP_TIMEOUT:-10}

say() { printf 'argilla: %s\n' "$*"; }

# True while any process of the group, the process itself or one of the listed descendants is
# alive. Zombies do not count.
alive() {  # pid pgid-or-empty [descendant ...]
    local pid=$1 pgid=$2
    shift 2
    if [[ -n $pgid ]] && ps -e -o pgid=,stat= |
        awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'; then
        return 0
    fi
    local each
    for each in "$pid" "$@"; do
        ps -o stat= -p "$each" 2>/dev/null | grep -qv '^Z' && return 0
    done
    return 1
}

# The pids of every descendant of a process (children, their children, ...), by parent pid.
descendants() {  # pid
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                for (q = parent[p]; q != "" && q != 0 && q != 1; q = parent[q]) {
                    if (q == root) { print p; break }
                }
            }
        }'
}

signal() {  # SIG pid pgid-or-empty [descendant ...]
    local sig=$1 pid=$2 pgid=$3
    shift 3
    if [[ -n $pgid ]]; then kill "-$sig" -- "-$pgid" 2>/dev/null || true; else kill "-$sig" "$pid" 2>/dev/null || true; fi
    local each
    for each in "$@"; do
        kill "-$sig" "$each" 2>/dev/null || true
    done
}

stop_one() {  # what pid_file program-pattern
    local what=$1 pid_file=$2 pattern=$3 pid pgid=""
    [[ -f $pid_file ]] || return 0
    pid=$(<"$pid_file")
    [[ $pid =~ ^[0-9]+$ ]] || { say "ignoring $pid_file: '$pid' is not a pid"; rm -f "$pid_file"; return 0; }

    # start.sh runs each under setsid, so it leads its own process group (pgid == pid); only
    # then is the whole group ours to signal. Guard against a recycled pid as well.
    if kill -0 "$pid" 2>/dev/null; then
        if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"; then
            say "pid $pid from $pid_file is no longer the $what; not touching it"
            rm -f "$pid_file"
            return 0
        fi
        [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]] && pgid=$pid
    elif kill -0 -- "-$pid" 2>/dev/null; then
        pgid=$pid  # the leader is gone but children of its group remain
    else
        rm -f "$pid_file"
        return 0
    fi

    local -a family
    mapfile -t family < <(descendants "$pid")
    say "stopping the $what (pid $pid${pgid:+, process group $pgid}${family[*]:+, descendants ${family[*]}})"
    signal TERM "$pid" "$pgid" "${family[@]}"
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid" "$pgid" "${family[@]}" && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if alive "$pid" "$pgid" "${family[@]}"; then
        say "the $what is still running after $STOP_TIMEOUT s; sending SIGKILL"
        signal KILL "$pid" "$pgid" "${family[@]}"
        sleep 0.5
    fi
    rm -f "$pid_file"
}

stop_port() {  # port
    local port=$1 found=0 f
    for f in server worker redis; do
        [[ -f $IAA_ARGILLA_HOME/$f-$port.pid ]] && found=1
    done
    if [[ $found == 0 ]]; then
        say "nothing started by start.sh for port $port (no pid file in $IAA_ARGILLA_HOME)"
        rm -f "$IAA_ARGILLA_HOME/server-$port.env"
        return 0
    fi
    # the server and the worker first, in parallel (the worker may take a few seconds)
    stop_one "server on port $port" "$IAA_ARGILLA_HOME/server-$port.pid" "launcher.py start" &
    stop_one "rq worker for port $port" "$IAA_ARGILLA_HOME/worker-$port.pid" "launcher.py worker" &
    wait
    stop_one "redis-server for port $port" "$IAA_ARGILLA_HOME/redis-$port.pid" "redis-server"
    rm -f "$IAA_ARGILLA_HOME/server-$port.env"
    say "stopped port $port"
}

if [[ ${1:-} == --all ]]; then
    shopt -s nullglob
    declare -A ports=()
    for pid_file in "$IAA_ARGILLA_HOME"/{server,worker,redis}-*.pid; do
        port=${pid_file##*-}
        ports[${port%.pid}]=1
    done
    for port in "${!ports[@]}"; do
        stop_port "$port"
    done
else
    port=${1:-${IAA_ARGILLA_PORT:-6900}}
    [[ $port =~ ^[0-9]+$ ]] || { echo "usage: $0 [PORT|--all]" >&2; exit 2; }
    stop_port "$port"
fi
