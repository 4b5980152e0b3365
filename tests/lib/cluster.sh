#!/usr/bin/env bash
# A private three-node RabbitMQ cluster on 127.0.0.1 for the fault suite
# (tests/faults/test_cluster.c): three nodes of tests/lib/servers.sh, each
# in DIR/nN, sharing one cookie and one epmd of their own, on ports the
# kernel picks at start, joined into one cluster; and the faults a test
# does to one node. Never touches the system services or other clusters.
#
# Usage (N is 1, 2 or 3):
#   cluster.sh start DIR           start the three nodes and cluster them (waits)
#   cluster.sh stop DIR            stop them and their epmd (idempotent)
#   cluster.sh url DIR N           AMQP_URL: the three nodes, node N first
#   cluster.sh kill DIR N          SIGKILL node N (its Erlang VM)
#   cluster.sh freeze DIR N | thaw DIR N    SIGSTOP / SIGCONT node N
#   cluster.sh stop-node DIR N | start-node DIR N   graceful stop, start again
#   cluster.sh heal DIR            thaw every node, start those down, wait for all
#   cluster.sh leader DIR QUEUE    the N of the node that leads a quorum queue
#   cluster.sh members DIR QUEUE   how many nodes hold the queue (its members)
#   cluster.sh ctl DIR N ARGS...   rabbitmqctl against node N
#
# Waits follow WRT_RABBIT_WAIT_S (per node; default 60). Each node runs one
# Erlang scheduler (WRT_RABBIT_SCHEDULERS=1): three brokers share the cores
# with warren and the load. Prints nothing but results and errors.
set -euo pipefail

SERVERS=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/servers.sh
readonly SERVERS
readonly WAIT_S=${WRT_RABBIT_WAIT_S:-60}
readonly CTL_S=$WAIT_S # one rabbitmqctl query (slow on a loaded machine); a frozen node never answers
PROG=${0##*/}
LIMIT=() # a command prefix for servers.sh (ctl: a timeout)

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
usage() {
    sed -n '8,18p' "$0" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
cmd=$1
DIR=$2
shift 2
mkdir -p -- "$DIR"
DIR=$(cd -- "$DIR" && pwd -P)
readonly ENVFILE=$DIR/cluster.env TAG="WRT_SERVERS_TAG=cluster:$DIR"

# Seven ports the kernel hands out (held together so they differ); an AMQP
# port's next one must be free too (servers.sh's TLS listener convention).
pick_ports() {
    /usr/bin/python3 - <<'EOF'
import socket
held, out = [], []
while len(out) < 7:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
    p = s.getsockname()[1]
    if len(out) < 3:
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p + 1))
        except OSError:
            continue
        finally:
            t.close()
        if any(abs(p - q) <= 1 for q in out):
            continue
    out.append(p)
print(" ".join(map(str, out)))
EOF
}

load() {
    [[ -f $ENVFILE ]] || die "no cluster was started in '$DIR'"
    # shellcheck disable=SC1090
    . "$ENVFILE"
}

node_ok() { [[ $1 =~ ^[123]$ ]] || die "no node '$1' (1, 2 or 3)"; }

# servers.sh for node N, with that node's settings.
node_sh() { # N command [args...]
    local n=$1 c=$2
    shift 2
    local amqp=AMQP$n dist=DIST$n
    env WRT_NODE="${NAME}$n" WRT_AMQP_PORT="${!amqp}" WRT_AMQPS_PORT= \
        WRT_DIST_PORT="${!dist}" WRT_EPMD_PORT="$EPMD" WRT_EPMD_SHARED=1 \
        WRT_RABBIT_SCHEDULERS=1 WRT_RABBIT_WAIT_S="$WAIT_S" \
        "${LIMIT[@]}" bash "$SERVERS" "$c" "$DIR/n$n" "$@"
}

ctl() { # N args... (a frozen or dying node may never answer: bounded)
    local n=$1
    shift
    local LIMIT=(timeout -k 3 "$CTL_S") # seen by node_sh (dynamic scope)
    node_sh "$n" rabbitmqctl -q "$@"
}

beam_pid() { # N
    local p
    p=$(tr -dc "0-9" 2>/dev/null <"$DIR/n$1/rabbit/beam.pid" || true)
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null && printf '%s\n' "$p"
    return 0
}

signal_node() { # N signal
    local p
    p=$(beam_pid "$1")
    [[ -n $p ]] || die "node $1 does not run"
    kill "-$2" "$p"
}

epmd_pid() {
    local p
    p=$(tr -dc "0-9" 2>/dev/null <"$DIR/epmd.pid" || true)
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null &&
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "$TAG" && printf '%s\n' "$p"
    return 0
}

start_epmd() {
    [[ -n $(epmd_pid) ]] && return 0
    (
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
        done
        exec env "$TAG" setsid epmd -port "$EPMD" -address 127.0.0.1 </dev/null \
            >>"$DIR/epmd.log" 2>&1
    ) &
    printf '%s\n' "$!" >"$DIR/epmd.pid"
    local _
    for _ in $(seq 50); do
        ss -Hltn "( sport = :$EPMD )" | grep -q . && return 0
        sleep 0.1
    done
    die "epmd did not listen on $EPMD"
}

cluster_start() {
    if [[ -f $ENVFILE ]]; then
        load
        if [[ -n $(beam_pid 1) && -n $(beam_pid 2) && -n $(beam_pid 3) ]]; then
            ctl 1 await_online_nodes 3 --timeout $((CTL_S * 1000 - 1000)) >/dev/null && return 0
        fi
        cluster_stop
    fi
    rm -rf "$DIR/n1" "$DIR/n2" "$DIR/n3"
    local ports
    read -r -a ports <<<"$(pick_ports)"
    local cookie n
    cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr '0-9a-f' 'A-P')
    {
        printf 'NAME=%q\n' "${WRT_CLUSTER_NAME:-warren-cluster}-"
        printf 'AMQP1=%s AMQP2=%s AMQP3=%s\n' "${ports[0]}" "${ports[1]}" "${ports[2]}"
        printf 'DIST1=%s DIST2=%s DIST3=%s\n' "${ports[3]}" "${ports[4]}" "${ports[5]}"
        printf 'EPMD=%s\n' "${ports[6]}"
    } >"$ENVFILE"
    load
    for n in 1 2 3; do # one cookie: the nodes and rabbitmqctl trust each other
        mkdir -p "$DIR/n$n/rabbit/home"
        chmod 700 "$DIR/n$n/rabbit/home"
        (umask 077 && printf '%s' "$cookie" >"$DIR/n$n/rabbit/home/.erlang.cookie")
        chmod 400 "$DIR/n$n/rabbit/home/.erlang.cookie"
    done
    start_epmd
    # the three boot at once (each waits for itself), then 2 and 3 join 1
    local pids=() rc=0
    for n in 1 2 3; do
        node_sh "$n" start-rabbit &
        pids+=($!)
    done
    for n in "${pids[@]}"; do wait "$n" || rc=1; done
    ((rc == 0)) || { cluster_stop; die "a node did not start"; }
    for n in 2 3; do
        if ! { ctl "$n" stop_app && ctl "$n" join_cluster "${NAME}1@localhost" &&
            ctl "$n" start_app; } >/dev/null; then
            cluster_stop
            die "node $n could not join node 1"
        fi
    done
    wait_online
}

wait_online() { # until node 1 sees all three running
    local end=$(($(date +%s) + WAIT_S))
    until ctl 1 await_online_nodes 3 --timeout 10000 >/dev/null 2>&1; do
        (($(date +%s) < end)) || die "the cluster did not come together in ${WAIT_S}s"
        sleep 1
    done
}

cluster_stop() {
    [[ -f $ENVFILE ]] || return 0
    load
    local n
    for n in 1 2 3; do # a frozen node cannot stop
        p=$(beam_pid "$n")
        [[ -z $p ]] || kill -CONT "$p" 2>/dev/null || true
    done
    for n in 1 2 3; do node_sh "$n" stop-rabbit & done
    wait || true
    local e
    e=$(epmd_pid)
    if [[ -n $e ]]; then
        kill "$e" 2>/dev/null || true
    fi
    rm -f "$DIR/epmd.pid"
}

# The queue's leader ("name@host" -> N), asked of each node in turn (a node
# down or frozen cannot answer).
queue_info() { # queue item
    local n line
    for n in 1 2 3; do
        [[ -n $(beam_pid "$n") ]] || continue
        line=$(ctl "$n" list_queues name "$2" --no-table-headers 2>/dev/null |
            awk -F'\t' -v q="$1" '$1 == q {print $2}') || continue
        [[ -n $line ]] && printf '%s\n' "$line" && return 0
    done
    return 1
}

case $cmd in
start) cluster_start ;;
stop) cluster_stop ;;
url)
    load
    node_ok "${1:-}"
    out="" n=$1
    for _ in 1 2 3; do
        v=AMQP$n
        out+="${out:+,}amqp://guest:guest@127.0.0.1:${!v}/%2f"
        n=$((n % 3 + 1))
    done
    printf '%s\n' "$out"
    ;;
kill | freeze | thaw)
    load
    node_ok "${1:-}"
    case $cmd in kill) s=KILL ;; freeze) s=STOP ;; thaw) s=CONT ;; esac
    signal_node "$1" "$s"
    ;;
stop-node)
    load
    node_ok "${1:-}"
    node_sh "$1" stop-rabbit
    ;;
start-node)
    load
    node_ok "${1:-}"
    node_sh "$1" start-rabbit
    wait_online
    ;;
heal)
    load
    for n in 1 2 3; do
        p=$(beam_pid "$n")
        if [[ -n $p ]]; then kill -CONT "$p"; else node_sh "$n" start-rabbit; fi
    done
    wait_online
    ;;
leader)
    load
    [[ -n ${1:-} ]] || usage
    l=$(queue_info "$1" leader) || die "no node knows queue '$1'"
    [[ $l =~ ^${NAME}([123])@ ]] || die "queue '$1' has no leader ('$l')"
    printf '%s\n' "${BASH_REMATCH[1]}"
    ;;
members)
    load
    [[ -n ${1:-} ]] || usage
    m=$(queue_info "$1" members) || die "no node knows queue '$1'"
    grep -o "${NAME}[123]@" <<<"$m" | sort -u | wc -l
    ;;
ctl)
    load
    node_ok "${1:-}"
    n=$1
    shift
    ctl "$n" "$@"
    ;;
*) usage ;;
esac
