#!/usr/bin/env bash
# Start and stop private RabbitMQ and Redis servers and a MongoDB test peer
# (tests/lib/mongo_peer.py: no real MongoDB here) on 127.0.0.1, for the tests
# and for the local run. Never touches the system services.
#
# Usage:
#   servers.sh start DIR          start all three (state in DIR, created), wait until ready
#   servers.sh stop DIR           stop what DIR's start started (idempotent)
#   servers.sh start-rabbit DIR | stop-rabbit DIR
#   servers.sh start-redis DIR  | stop-redis DIR
#   servers.sh start-mongo DIR  | stop-mongo DIR
#   servers.sh rabbitmqctl DIR ARGS...   run rabbitmqctl against DIR's node
#
# Settings (read by start*, recorded in DIR so that stop* and rabbitmqctl use
# the values the servers were started with):
#   WRT_AMQP_PORT   AMQP port            (default 5673)
#   WRT_AMQPS_PORT  AMQP over TLS port   (default none: no TLS listener). With
#                   it, start makes DIR/tls/ with openssl (kept while valid
#                   for another day): ca.pem + ca.key (a test CA),
#                   server.pem + server.key (signed by it, naming localhost
#                   and 127.0.0.1); the broker listens on 127.0.0.1 and
#                   127.0.0.2 (a name its certificate lacks), asks clients
#                   for a certificate and checks one if given
#   WRT_DIST_PORT   Erlang dist port     (default 25673)
#   WRT_REDIS_PORT  Redis port           (default 6380)
#   WRT_MONGO_PORT  MongoDB peer port    (default 27018)
#   WRT_MONGO_ARGS  extra mongo_peer.py options, split on blanks (default
#                   none), e.g. "--slow-ms 3000", "--slow-ms 6000
#                   --slow-only insert" or "--reject-inserts"
#   WRT_NODE        RabbitMQ node name   (default warren-test; @localhost added)
#   WRT_EPMD_PORT   private epmd port    (default WRT_DIST_PORT + 10)
#   WRT_EPMD_SHARED 1: the epmd on WRT_EPMD_PORT is the caller's, shared by
#                   the nodes of a cluster (tests/lib/cluster.sh): start
#                   neither checks its port nor records it, stop leaves it
#   WRT_RABBIT_SCHEDULERS  Erlang schedulers (default: half the cores, at least 1)
#
# Each DIR gets its own epmd on its own port, so several DIRs can run at once
# and stopping one never pulls epmd from under another.
#
# Layout of DIR:
#   rabbitmq.conf enabled_plugins rabbitmq-env.conf   RabbitMQ configuration
#   tls/     with WRT_AMQPS_PORT: the certificates above
#   rabbit/  home (HOME, .erlang.cookie), mnesia, log, stdout.log,
#            settings, beam.pid (written by RabbitMQ), wrapper.pid, epmd.pid
#   redis.conf
#   redis/   data dir, stdout.log, settings, redis.pid
#   mongo/   data.jsonl (the peer's documents, kept across stop/start: an
#            outage loses nothing), stdout.log, settings, mongo.pid
#
# Prints nothing but errors. Exits non-zero, with the server's log tail, when
# a server cannot be started.

set -euo pipefail

readonly RABBIT_BIN=/usr/lib/rabbitmq/bin
# A loaded machine (several checkouts testing at once) may need longer.
readonly RABBIT_WAIT_S=${WRT_RABBIT_WAIT_S:-30}
readonly RABBIT_STOP_S=15
readonly REDIS_WAIT_S=10
readonly REDIS_STOP_S=10
readonly MONGO_WAIT_S=10
readonly MONGO_STOP_S=5
# Debian's interpreter: python3-mockupdb and python3-pymongo live there, and
# the python3 first on PATH may be another installation.
readonly MONGO_PYTHON=/usr/bin/python3
MONGO_PEER=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/mongo_peer.py
readonly MONGO_PEER
# shellcheck source=tests/lib/cores.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/cores.sh"

PROG=${0##*/}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

warn() {
    printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

usage() {
    cat >&2 <<EOF
usage: $PROG start|stop|start-rabbit|stop-rabbit|start-redis|stop-redis|start-mongo|stop-mongo DIR
       $PROG rabbitmqctl DIR ARGS...
EOF
    exit 2
}

# --- helpers ---------------------------------------------------------------

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

check_port() { # name value
    if ! is_uint "$2" || ((10#$2 < 1 || 10#$2 > 65535)); then
        die "$1 is not a valid port: '$2'"
    fi
}

now_ms() { date +%s%3N; }

# Does process $1 carry the environment entry $2 (exact)? Used to make sure a
# pid read from a file still is one of ours (pids get reused).
proc_has_env() {
    local pid=$1 entry=$2 e
    local -a env
    # builtins only: tagged_pids asks this of every process, and a fork per
    # process took seconds on a busy machine
    mapfile -d '' -t env 2>/dev/null <"/proc/$pid/environ" || return 1
    for e in "${env[@]}"; do
        [[ $e == "$entry" ]] && return 0
    done
    return 1
}

# Alive and not a zombie (orphans are reaped by init, maybe not at once).
pid_alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

read_pid() { # file -> prints pid or nothing
    local p=""
    [[ -f $1 ]] && p=$(tr -dc '0-9' <"$1" 2>/dev/null || true)
    [[ -n $p ]] && printf '%s\n' "$p"
    return 0
}

# All pids whose environment carries the tag.
tagged_pids() {
    local tag=$1 d pid
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        proc_has_env "$pid" "$tag" && printf '%s\n' "$pid"
    done
    return 0
}

# Wait until none of the pids is alive; returns 1 on timeout.
wait_gone() { # timeout_s pid...
    local deadline=$(($(now_ms) + $1 * 1000)) p any
    shift
    while :; do
        any=0
        for p in "$@"; do pid_alive "$p" && any=1 && break; done
        ((any == 0)) && return 0
        (($(now_ms) >= deadline)) && return 1
        sleep 0.1
    done
}

# TERM, wait, then KILL the given pids (only those still alive).
kill_pids() { # grace_s pid...
    local grace=$1 p alive=()
    shift
    for p in "$@"; do pid_alive "$p" && alive+=("$p"); done
    ((${#alive[@]})) || return 0
    kill -TERM "${alive[@]}" 2>/dev/null || true
    wait_gone "$grace" "${alive[@]}" && return 0
    kill -KILL "${alive[@]}" 2>/dev/null || true
    wait_gone 5 "${alive[@]}" || warn "could not kill pid(s) ${alive[*]}"
}

# Does a broker on 127.0.0.1:port answer the AMQP 0-9-1 header with its
# connection.start (frame type 1, channel 0, class 10 method 10)?
amqp_answers() { # port
    local reply
    reply=$(timeout -k 1 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
        printf "AMQP\0\0\x09\x01" >&3 && head -c 11 <&3 | od -An -tx1' _ "$1" 2>/dev/null) ||
        return 1
    reply=${reply//[[:space:]]/}
    [[ $reply == 010000????????000a000a ]]
}

# Who listens on 127.0.0.1/any:port (TCP)? Prints ss lines.
listeners() { ss -Hltnp "( sport = :$1 )" 2>/dev/null || true; }

listener_pid() { # port -> first pid listening
    listeners "$1" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

port_free_or_die() { # port what
    local l
    l=$(listeners "$1")
    [[ -z $l ]] || die "port $1 ($2) is already in use:"$'\n'"$l"
}

# Run a command in the background, detached (own session, no inherited fds
# besides /dev/null and the log), and print its pid.
spawn() { # logfile cmd...
    local log=$1
    shift
    (
        # close every inherited descriptor above 2 (e.g. a caller's pipe or
        # our own lock), so the server never keeps them open
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
        done
        exec setsid "$@" </dev/null >>"$log" 2>&1
    ) &
    printf '%s\n' "$!"
}

# Last lines of each file, not going back past the last "=== ... starting"
# marker (logs are appended to across restarts).
print_tail() { # file...
    local f
    for f in "$@"; do
        [[ -s $f ]] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        awk '/^=== .* starting /{n=NR} {l[NR]=$0}
             END{s=n?n:1; if (NR-s>=40) s=NR-39; for(i=s;i<=NR;i++) print l[i]}' "$f" >&2 || true
    done
}

# --- state dir and lock ----------------------------------------------------

DIR=""
LOCK_FD=""

open_dir() { # dir create(0/1)
    [[ -n $1 ]] || usage
    if [[ $2 == 1 ]]; then
        mkdir -p -- "$1" || die "cannot create state folder '$1'"
    elif [[ ! -d $1 ]]; then
        return 1
    fi
    DIR=$(cd -- "$1" && pwd -P) || die "cannot enter state folder '$1'"
    if [[ -z $LOCK_FD ]]; then
        exec {LOCK_FD}>>"$DIR/.lock" || die "cannot write in '$DIR'"
        flock -w 120 "$LOCK_FD" || die "timed out waiting for the lock on '$DIR'"
    fi
}

# --- RabbitMQ --------------------------------------------------------------

R_NODE="" R_AMQP="" R_AMQPS="" R_DIST="" R_EPMD=""

rabbit_paths() {
    R_DIR=$DIR/rabbit
    R_HOME=$R_DIR/home
    R_PIDFILE=$R_DIR/beam.pid
    R_WRAPPER_PIDFILE=$R_DIR/wrapper.pid
    R_EPMD_PIDFILE=$R_DIR/epmd.pid
    R_SETTINGS=$R_DIR/settings
    R_STDOUT=$R_DIR/stdout.log
    R_TAG="WRT_SERVERS_TAG=rabbit:$DIR"
}

rabbit_settings_from_env() {
    R_NODE=${WRT_NODE:-warren-test}
    [[ $R_NODE == *@* ]] || R_NODE=$R_NODE@localhost
    [[ $R_NODE =~ ^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$ ]] || die "bad node name '$R_NODE'"
    R_AMQP=${WRT_AMQP_PORT:-5673}
    R_DIST=${WRT_DIST_PORT:-25673}
    check_port WRT_AMQP_PORT "$R_AMQP"
    R_AMQPS=${WRT_AMQPS_PORT:-}
    [[ -z $R_AMQPS ]] || check_port WRT_AMQPS_PORT "$R_AMQPS"
    check_port WRT_DIST_PORT "$R_DIST"
    R_EPMD=${WRT_EPMD_PORT:-$((R_DIST + 10))}
    check_port WRT_EPMD_PORT "$R_EPMD"
    [[ $R_AMQP != "$R_DIST" && $R_AMQP != "$R_EPMD" && $R_DIST != "$R_EPMD" ]] ||
        die "AMQP ($R_AMQP), dist ($R_DIST) and epmd ($R_EPMD) ports must differ"
}

# Settings recorded by a previous start win over the environment.
rabbit_load_settings() {
    if [[ -f $R_SETTINGS ]]; then
        # shellcheck disable=SC1090
        . "$R_SETTINGS"
    else
        rabbit_settings_from_env
    fi
}

rabbit_save_settings() {
    {
        printf 'R_NODE=%q\n' "$R_NODE"
        printf 'R_AMQP=%q\n' "$R_AMQP"
        printf 'R_AMQPS=%q\n' "$R_AMQPS"
        printf 'R_DIST=%q\n' "$R_DIST"
        printf 'R_EPMD=%q\n' "$R_EPMD"
    } >"$R_SETTINGS.tmp"
    mv -f "$R_SETTINGS.tmp" "$R_SETTINGS"
}

# Environment shared by the server and rabbitmqctl (same HOME, hence the
# same .erlang.cookie; same private epmd).
rabbit_env() {
    R_ENV=(
        "$R_TAG"
        HOME="$R_HOME"
        RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
        RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf"
        RABBITMQ_CONFIG_FILES="$DIR/rabbitmq.conf.d"
        RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config"
        RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
        RABBITMQ_MNESIA_BASE="$R_DIR/mnesia"
        RABBITMQ_LOG_BASE="$R_DIR/log"
        RABBITMQ_PID_FILE="$R_PIDFILE"
        RABBITMQ_NODENAME="$R_NODE"
        RABBITMQ_USE_LONGNAME=false
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$R_AMQP"
        RABBITMQ_DIST_PORT="$R_DIST"
        RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
        ERL_EPMD_ADDRESS=127.0.0.1
        ERL_EPMD_PORT="$R_EPMD"
        ERL_CRASH_DUMP="$R_DIR/erl_crash.dump"
    )
}

ctl() { # timeout_s args...
    local t=$1
    shift
    rabbit_env
    env "${R_ENV[@]}" timeout -k 3 "$t" "$RABBIT_BIN/rabbitmqctl" -q -n "$R_NODE" "$@"
}

# Our beam pid, if alive and really ours.
rabbit_beam_pid() {
    local p
    p=$(read_pid "$R_PIDFILE")
    pid_alive "$p" && proc_has_env "$p" "$R_TAG" && printf '%s\n' "$p"
    return 0
}

rabbit_wrapper_pid() {
    local p
    p=$(read_pid "$R_WRAPPER_PIDFILE")
    pid_alive "$p" && proc_has_env "$p" "$R_TAG" && printf '%s\n' "$p"
    return 0
}

rabbit_logs() {
    local f=()
    [[ -f $R_STDOUT ]] && f+=("$R_STDOUT")
    [[ -f $R_DIR/log/$R_NODE.log ]] && f+=("$R_DIR/log/$R_NODE.log")
    print_tail "${f[@]}"
}

rabbit_fail() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    rabbit_logs
    rabbit_stop
    exit 1
}

rabbit_write_config() {
    mkdir -p "$R_DIR" "$R_HOME" "$R_DIR/mnesia" "$R_DIR/log" "$DIR/rabbitmq.conf.d"
    chmod 700 "$R_HOME"
    printf '[].\n' >"$DIR/enabled_plugins"
    : >"$DIR/rabbitmq-env.conf"
    cat >"$DIR/rabbitmq.conf" <<EOF
# generated by tests/lib/servers.sh
vm_memory_high_watermark.relative = 0.6
disk_free_limit.absolute = 50MB
EOF
    [[ -z $R_AMQPS ]] || rabbit_write_tls
    # Same cookie for the server and rabbitmqctl (both use HOME=$R_HOME).
    if [[ ! -s $R_HOME/.erlang.cookie ]]; then
        local cookie
        cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr '0-9a-f' 'A-P')
        (umask 077 && printf '%s' "$cookie" >"$R_HOME/.erlang.cookie")
        chmod 400 "$R_HOME/.erlang.cookie"
    fi
}

# A test CA and the broker's certificate (EC keys: quick to make), and the
# TLS listener. verify_peer with fail_if_no_peer_cert false: a client may
# show no certificate, but one it shows must be valid.
rabbit_write_tls() {
    local t=$DIR/tls ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    # Kept across restarts (tests restart the broker; certificates a test
    # made from the CA stay good) while valid for another day.
    if ! openssl x509 -checkend 86400 -noout -in "$t/server.pem" >/dev/null 2>&1 ||
        [[ ! -s $t/server.key ]]; then
        rabbit_make_certs "$t" "${ec[@]}"
    fi
    cat >>"$DIR/rabbitmq.conf" <<EOF
listeners.ssl.loopback = 127.0.0.1:$R_AMQPS
listeners.ssl.other = 127.0.0.2:$R_AMQPS
ssl_options.cacertfile = $t/ca.pem
ssl_options.certfile = $t/server.pem
ssl_options.keyfile = $t/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
EOF
}

rabbit_make_certs() { # dir openssl-key-options...
    local t=$1
    shift
    local ec=("$@")
    rm -rf "$t" && mkdir -p "$t" && chmod 700 "$t"
    {
        openssl req -x509 "${ec[@]}" -keyout "$t/ca.key" -out "$t/ca.pem" -days 30 \
            -subj "/CN=warren test CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" &&
            openssl req "${ec[@]}" -keyout "$t/server.key" -out "$t/server.csr" \
                -subj "/CN=localhost" &&
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
                >"$t/server.ext" &&
            openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
                -CAcreateserial -days 30 -extfile "$t/server.ext" -out "$t/server.pem"
    } >"$t/openssl.log" 2>&1 || die "openssl could not make the test certificates: $(cat "$t/openssl.log")"
}

rabbit_start() {
    rabbit_paths
    mkdir -p "$R_DIR"

    local beam
    beam=$(rabbit_beam_pid)
    if [[ -n $beam || -n $(rabbit_wrapper_pid) ]]; then
        # Already started from this DIR: make sure it is (or becomes) ready.
        # Our node answering AMQP on its port is (the tests' teardowns ask
        # this often; rabbitmqctl's VM takes seconds to start on a busy
        # machine); else wait as rabbitmqctl does.
        rabbit_load_settings
        [[ -n $beam ]] && amqp_answers "$R_AMQP" && return 0
        ctl $((RABBIT_WAIT_S + 5)) wait "$R_PIDFILE" --timeout "$RABBIT_WAIT_S" >/dev/null 2>&1 &&
            return 0
        rabbit_logs
        die "RabbitMQ node $R_NODE (from $DIR) runs but does not answer; run '$PROG stop-rabbit $DIR'"
    fi

    # Nothing of ours runs: clean leftovers of a crash, then start afresh.
    rabbit_stop
    rabbit_settings_from_env
    port_free_or_die "$R_AMQP" "RabbitMQ AMQP"
    [[ -z $R_AMQPS ]] || port_free_or_die "$R_AMQPS" "RabbitMQ AMQP over TLS"
    port_free_or_die "$R_DIST" "RabbitMQ distribution"
    local e
    e=$(listeners "$R_EPMD")
    [[ -z $e || ${WRT_EPMD_SHARED:-0} == 1 ]] ||
        die "port $R_EPMD (private epmd; set WRT_EPMD_PORT) is already in use:"$'\n'"$e"

    rabbit_write_config
    rabbit_save_settings
    rm -f "$R_PIDFILE" "$R_WRAPPER_PIDFILE" "$R_EPMD_PIDFILE"
    printf '=== %s starting %s\n' "$(date '+%F %T')" "$R_NODE" >>"$R_STDOUT"

    local wrapper schedulers
    rabbit_env
    # Half the cores for the broker's Erlang schedulers (at least one): on a
    # small machine the broker shares the cores with the edge, the workers
    # and the load generator, and two busy schedulers on two cores tripled
    # warren's p99 latency (20 ms against 8 ms at 64 connections, measured
    # with tests/bench/bench.sh). WRT_RABBIT_SCHEDULERS overrides.
    schedulers=${WRT_RABBIT_SCHEDULERS:-$(warren_half_cores)}
    wrapper=$(cd "$R_DIR" && spawn "$R_STDOUT" env "${R_ENV[@]}" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none +S $schedulers:$schedulers" \
        "$RABBIT_BIN/rabbitmq-server")
    printf '%s\n' "$wrapper" >"$R_WRAPPER_PIDFILE"

    # rabbitmqctl wait: waits for the pid file, then for the app to boot.
    # Run it in the background so that a server dying early fails fast.
    local waiter deadline rc timed_out=0
    ctl $((RABBIT_WAIT_S + 5)) wait "$R_PIDFILE" --timeout "$RABBIT_WAIT_S" \
        >"$R_DIR/wait.log" 2>&1 &
    waiter=$!
    deadline=$(($(now_ms) + (RABBIT_WAIT_S + 6) * 1000))
    while pid_alive "$waiter"; do
        if ! pid_alive "$wrapper" && [[ -z $(rabbit_beam_pid) ]]; then
            kill "$waiter" 2>/dev/null || true
            wait "$waiter" 2>/dev/null || true
            rabbit_fail "RabbitMQ node $R_NODE exited during start"
        fi
        if (($(now_ms) >= deadline)); then
            timed_out=1
            kill "$waiter" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rc=0
    wait "$waiter" 2>/dev/null || rc=$?
    if ((rc != 0)); then
        print_tail "$R_DIR/wait.log"
        if ((timed_out)) || ((rc == 124 || rc == 137)) || [[ -n $(rabbit_beam_pid) ]]; then
            rabbit_fail "RabbitMQ node $R_NODE not ready within ${RABBIT_WAIT_S}s"
        fi
        rabbit_fail "RabbitMQ node $R_NODE failed to start (rabbitmqctl wait exit $rc)"
    fi

    # Remember the epmd the node started (it carries our tag); a shared
    # one is its owner's to stop.
    [[ ${WRT_EPMD_SHARED:-0} == 1 ]] && return 0
    local ep
    ep=$(listener_pid "$R_EPMD")
    if [[ -n $ep ]] && proc_has_env "$ep" "$R_TAG"; then
        printf '%s\n' "$ep" >"$R_EPMD_PIDFILE"
    else
        warn "epmd on port $R_EPMD is not the one started for $DIR (pid '${ep:-none}')"
    fi
    return 0
}

rabbit_stop() {
    rabbit_paths
    [[ -d $R_DIR ]] || return 0
    rabbit_load_settings

    local beam wrapper epmd
    beam=$(rabbit_beam_pid)
    wrapper=$(rabbit_wrapper_pid)

    # Graceful stop: on SIGTERM the Erlang VM stops RabbitMQ as rabbitmqctl
    # stop does (connections closed, queues and message stores saved), and
    # without the seconds rabbitmqctl's own VM takes to start. A wedged
    # node is killed after RABBIT_STOP_S.
    [[ -z $beam ]] || kill_pids "$RABBIT_STOP_S" "$beam"
    [[ -z $wrapper ]] || kill_pids 3 "$wrapper"

    epmd=$(read_pid "$R_EPMD_PIDFILE")
    if pid_alive "$epmd" && proc_has_env "$epmd" "$R_TAG"; then
        kill_pids 3 "$epmd"
    fi

    # Anything else started for this DIR (erl_child_setup, inet_gethost,
    # an epmd we did not get to record, ...).
    local rest
    mapfile -t rest < <(tagged_pids "$R_TAG")
    ((${#rest[@]} == 0)) || kill_pids 3 "${rest[@]}"

    rm -f "$R_PIDFILE" "$R_WRAPPER_PIDFILE" "$R_EPMD_PIDFILE"
    return 0
}

# --- Redis -----------------------------------------------------------------

D_PORT=""

redis_paths() {
    D_DIR=$DIR/redis
    D_CONF=$DIR/redis.conf
    D_PIDFILE=$D_DIR/redis.pid
    D_SETTINGS=$D_DIR/settings
    D_STDOUT=$D_DIR/stdout.log
    D_TAG="WRT_SERVERS_TAG=redis:$DIR"
}

redis_load_settings() {
    if [[ -f $D_SETTINGS ]]; then
        # shellcheck disable=SC1090
        . "$D_SETTINGS"
    else
        D_PORT=${WRT_REDIS_PORT:-6380}
    fi
}

redis_pid() {
    local p
    p=$(read_pid "$D_PIDFILE")
    pid_alive "$p" && proc_has_env "$p" "$D_TAG" && printf '%s\n' "$p"
    return 0
}

redis_ping() {
    [[ $(timeout -k 1 2 redis-cli -h 127.0.0.1 -p "$D_PORT" ping 2>/dev/null) == PONG ]]
}

redis_fail() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    print_tail "$D_STDOUT"
    redis_stop
    exit 1
}

redis_wait() { # pid
    local deadline=$(($(now_ms) + REDIS_WAIT_S * 1000))
    while :; do
        pid_alive "$1" || redis_fail "redis-server exited during start"
        redis_ping && return 0
        (($(now_ms) >= deadline)) && redis_fail "redis-server not ready within ${REDIS_WAIT_S}s on port $D_PORT"
        sleep 0.1
    done
}

redis_start() {
    redis_paths
    mkdir -p "$D_DIR"

    local pid
    pid=$(redis_pid)
    if [[ -n $pid ]]; then
        redis_load_settings
        redis_wait "$pid"
        return 0
    fi

    redis_stop
    D_PORT=${WRT_REDIS_PORT:-6380}
    check_port WRT_REDIS_PORT "$D_PORT"
    port_free_or_die "$D_PORT" "Redis"
    printf 'D_PORT=%q\n' "$D_PORT" >"$D_SETTINGS"

    # redis.conf quoting: double quotes with backslash escapes
    local qdir=${D_DIR//\\/\\\\}
    qdir=${qdir//\"/\\\"}
    cat >"$D_CONF" <<EOF
# generated by tests/lib/servers.sh
bind 127.0.0.1
port $D_PORT
protected-mode yes
daemonize no
supervised no
save ""
appendonly no
dir "$qdir"
logfile ""
# keep /proc/PID/environ intact: it carries the tag that identifies the process
set-proc-title no
EOF
    printf '=== %s starting redis on port %s\n' "$(date '+%F %T')" "$D_PORT" >>"$D_STDOUT"
    pid=$(cd "$D_DIR" && spawn "$D_STDOUT" env "$D_TAG" redis-server "$D_CONF")
    printf '%s\n' "$pid" >"$D_PIDFILE"
    redis_wait "$pid"
}

redis_stop() {
    redis_paths
    [[ -d $D_DIR ]] || return 0
    redis_load_settings

    local pid
    pid=$(redis_pid)
    if [[ -n $pid ]]; then
        timeout -k 1 5 redis-cli -h 127.0.0.1 -p "$D_PORT" shutdown nosave >/dev/null 2>&1 || true
        wait_gone "$REDIS_STOP_S" "$pid" || true
        kill_pids 3 "$pid"
    fi
    local rest
    mapfile -t rest < <(tagged_pids "$D_TAG")
    ((${#rest[@]} == 0)) || kill_pids 3 "${rest[@]}"
    rm -f "$D_PIDFILE"
    return 0
}

# --- MongoDB test peer -------------------------------------------------------

M_PORT="" M_ARGS=()

mongo_paths() {
    M_DIR=$DIR/mongo
    M_PIDFILE=$M_DIR/mongo.pid
    M_SETTINGS=$M_DIR/settings
    M_STDOUT=$M_DIR/stdout.log
    M_DATA=$M_DIR/data.jsonl
    M_TAG="WRT_SERVERS_TAG=mongo:$DIR"
}

mongo_settings_from_env() {
    M_PORT=${WRT_MONGO_PORT:-27018}
    check_port WRT_MONGO_PORT "$M_PORT"
    read -r -a M_ARGS <<<"${WRT_MONGO_ARGS:-}"
    local a
    for a in "${M_ARGS[@]}"; do
        case $a in
        --port* | --data* | --host*) die "WRT_MONGO_ARGS may not set $a (servers.sh does)" ;;
        esac
    done
    return 0
}

mongo_load_settings() {
    if [[ -f $M_SETTINGS ]]; then
        # shellcheck disable=SC1090
        . "$M_SETTINGS"
    else
        mongo_settings_from_env
    fi
}

mongo_save_settings() {
    {
        printf 'M_PORT=%q\n' "$M_PORT"
        printf 'M_ARGS=('
        ((${#M_ARGS[@]} == 0)) || printf ' %q' "${M_ARGS[@]}"
        printf ' )\n'
    } >"$M_SETTINGS.tmp"
    mv -f "$M_SETTINGS.tmp" "$M_SETTINGS"
}

mongo_pid() {
    local p
    p=$(read_pid "$M_PIDFILE")
    pid_alive "$p" && proc_has_env "$p" "$M_TAG" && printf '%s\n' "$p"
    return 0
}

# The peer's --slow-ms, if any: every reply may take that long, the
# handshake and the readiness ping included, so the wait grows with it.
mongo_slow_ms() {
    local i a v=0
    for ((i = 0; i < ${#M_ARGS[@]}; i++)); do
        a=${M_ARGS[i]}
        if [[ $a == --slow-ms ]]; then
            v=${M_ARGS[i + 1]:-0}
        elif [[ $a == --slow-ms=* ]]; then
            v=${a#--slow-ms=}
        fi
    done
    is_uint "$v" && ((10#$v < 600000)) || v=0
    printf '%s\n' "$((10#$v))"
}

# Does something accept TCP connections on the port?
mongo_accepts() {
    (exec 3<>"/dev/tcp/127.0.0.1/$M_PORT") 2>/dev/null
}

# One ping through pymongo (a real driver: handshake, then OP_MSG ping).
mongo_ping() { # timeout_ms
    local t=$1
    timeout -k 1 $((t / 1000 + 3)) "$MONGO_PYTHON" -c '
import sys
import pymongo
port, t = int(sys.argv[1]), int(sys.argv[2])
c = pymongo.MongoClient("127.0.0.1", port, connect=False,
                        serverSelectionTimeoutMS=t, connectTimeoutMS=t,
                        socketTimeoutMS=t)
try:
    sys.exit(0 if c.admin.command("ping").get("ok") == 1 else 1)
finally:
    c.close()
' "$M_PORT" "$t" >/dev/null 2>&1
}

mongo_fail() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    print_tail "$M_STDOUT"
    mongo_stop
    exit 1
}

mongo_wait() { # pid
    local wait_ms=$((MONGO_WAIT_S * 1000 + 3 * $(mongo_slow_ms)))
    local deadline=$(($(now_ms) + wait_ms)) left
    while ! mongo_accepts; do
        pid_alive "$1" || mongo_fail "the MongoDB test peer exited during start"
        (($(now_ms) >= deadline)) &&
            mongo_fail "the MongoDB test peer does not accept connections on port $M_PORT within $((wait_ms / 1000))s"
        sleep 0.1
    done
    while :; do
        left=$((deadline - $(now_ms)))
        ((left >= 1000)) || left=1000
        mongo_ping "$left" && return 0
        pid_alive "$1" || mongo_fail "the MongoDB test peer exited during start"
        (($(now_ms) >= deadline)) &&
            mongo_fail "the MongoDB test peer does not answer ping on port $M_PORT within $((wait_ms / 1000))s"
        sleep 0.2
    done
}

mongo_start() {
    mongo_paths
    mkdir -p "$M_DIR"

    local pid
    pid=$(mongo_pid)
    if [[ -n $pid ]]; then
        mongo_load_settings
        mongo_wait "$pid"
        return 0
    fi

    mongo_stop
    [[ -x $MONGO_PYTHON ]] || die "$MONGO_PYTHON not found (the MongoDB test peer needs Debian's python3-mockupdb)"
    [[ -f $MONGO_PEER ]] || die "$MONGO_PEER not found"
    mongo_settings_from_env
    port_free_or_die "$M_PORT" "MongoDB test peer"
    mongo_save_settings

    printf '=== %s starting mongo test peer on port %s\n' "$(date '+%F %T')" "$M_PORT" >>"$M_STDOUT"
    pid=$(cd "$M_DIR" && spawn "$M_STDOUT" env "$M_TAG" PYTHONUNBUFFERED=1 \
        "$MONGO_PYTHON" "$MONGO_PEER" --port "$M_PORT" --data "$M_DATA" "${M_ARGS[@]}")
    printf '%s\n' "$pid" >"$M_PIDFILE"
    mongo_wait "$pid"
}

mongo_stop() {
    mongo_paths
    [[ -d $M_DIR ]] || return 0

    local pid
    pid=$(mongo_pid)
    # SIGTERM: the peer finishes the write to its data file at hand, exits
    [[ -z $pid ]] || kill_pids "$MONGO_STOP_S" "$pid"
    local rest
    mapfile -t rest < <(tagged_pids "$M_TAG")
    ((${#rest[@]} == 0)) || kill_pids 3 "${rest[@]}"
    rm -f "$M_PIDFILE"
    return 0
}

# --- main ------------------------------------------------------------------

(($# >= 2)) || usage
cmd=$1
dir=$2

case $cmd in
start)
    open_dir "$dir" 1
    rabbit_paths
    redis_paths
    mongo_paths
    had_rabbit=$(rabbit_beam_pid)
    had_redis=$(redis_pid)
    had_mongo=$(mongo_pid)
    # Fail before starting anything when a port we need is taken.
    if [[ -z $had_rabbit ]]; then
        rabbit_settings_from_env
        port_free_or_die "$R_AMQP" "RabbitMQ AMQP"
        [[ -z $R_AMQPS ]] || port_free_or_die "$R_AMQPS" "RabbitMQ AMQP over TLS"
        port_free_or_die "$R_DIST" "RabbitMQ distribution"
    fi
    if [[ -z $had_redis ]]; then
        D_PORT=${WRT_REDIS_PORT:-6380}
        check_port WRT_REDIS_PORT "$D_PORT"
        port_free_or_die "$D_PORT" "Redis"
    fi
    if [[ -z $had_mongo ]]; then
        mongo_settings_from_env
        port_free_or_die "$M_PORT" "MongoDB test peer"
    fi
    rabbit_start
    # do not leave part of the set running if we started it just now
    [[ -n $had_rabbit ]] || trap '(($? == 0)) || rabbit_stop' EXIT
    redis_start
    if [[ -z $had_redis ]]; then
        if [[ -n $had_rabbit ]]; then
            trap '(($? == 0)) || redis_stop' EXIT
        else
            trap '(($? == 0)) || { redis_stop; rabbit_stop; }' EXIT
        fi
    fi
    mongo_start
    trap - EXIT
    ;;
stop)
    open_dir "$dir" 0 || exit 0
    mongo_stop
    redis_stop
    rabbit_stop
    ;;
start-rabbit)
    open_dir "$dir" 1
    rabbit_start
    ;;
stop-rabbit)
    open_dir "$dir" 0 || exit 0
    rabbit_stop
    ;;
start-redis)
    open_dir "$dir" 1
    redis_start
    ;;
stop-redis)
    open_dir "$dir" 0 || exit 0
    redis_stop
    ;;
start-mongo)
    open_dir "$dir" 1
    mongo_start
    ;;
stop-mongo)
    open_dir "$dir" 0 || exit 0
    mongo_stop
    ;;
rabbitmqctl)
    open_dir "$dir" 0 || die "no state folder '$dir'"
    shift 2
    rabbit_paths
    [[ -f $R_SETTINGS ]] || die "no RabbitMQ was started in '$DIR'"
    rabbit_load_settings
    # release the lock: this may run long and is read-only for our state
    exec {LOCK_FD}>&-
    rabbit_env
    exec env "${R_ENV[@]}" "$RABBIT_BIN/rabbitmqctl" -n "$R_NODE" "$@"
    ;;
*)
    usage
    ;;
esac
