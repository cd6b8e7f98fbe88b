#!/usr/bin/env bash
# Usage ingestion over HTTP on a throwaway database:
#   benchmarks/run_ingest.sh [-s SUBSCRIPTIONS] [-w "WORKERS..."] [-c "CLIENTS..."]
#                            [-r REPEAT] [-p PORT] [bench_ingest.py load arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing,
# creates the data (bench_ingest.py setup), then for each worker count starts
# Odoo as a real prefork server on 127.0.0.1:PORT and, for each client count,
# empties subscription_usage and runs the load client (bench_ingest.py load),
# REPEAT times (1).
# Stops the server and drops the database, whatever happens.
#   benchmarks/run_ingest.sh                      # S=1000, 3 workers, 4 clients
#   benchmarks/run_ingest.sh -w "2 3 4" -c "2 4 8" -e 200000
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"

subscriptions=1000
workers_list="3"
clients_list="4"
port=8169
repeat=1
while [ $# -gt 0 ]; do
    case $1 in
    -s) subscriptions=$2; shift 2 ;;
    -w) workers_list=$2; shift 2 ;;
    -c) clients_list=$2; shift 2 ;;
    -p) port=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    *) break ;;
    esac
done

sb_ensure_debian
sb_ensure_postgres
sb_ensure_odoo
sb_prepare_addons

# The prefork server also spawns its long-polling (gevent) process, on
# another port.
gevent_port=$((port + 1000))
for p in "$port" "$gevent_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        sb_die "port $p is taken: pass another HTTP port with -p (gevent uses it + 1000)"
    fi
done

db="sb_bench_ingest_$(date +%s)_$$"
log="$SB_WORK/$db.install.log"
server_log="$SB_WORK/$db.server.log"
setup_file=$(mktemp "$SB_WORK/$db.setup.XXXXXX")
# The server runs from a script file, not `python3 -m odoo`: the prefork
# server (re)spawns its long-polling process as `python3 <sys.argv[0]>
# gevent ...`; with `-m odoo` that is odoo/__main__.py run as a plain script,
# which cannot import, and is respawned in a loop that eats a good part of a
# core. The benchmark uses no websocket: the launcher's gevent process idles.
launcher="$SB_WORK/$db.launch.py"
cat >"$launcher" <<'PY'
import signal
import sys

if sys.argv[1:2] == ["gevent"]:
    signal.pause()  # no long polling in the benchmark; SIGTERM ends it
else:
    from odoo.cli.command import main

    main()
PY
results=$(mktemp "$SB_WORK/$db.results.XXXXXX")
server_pid=
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local i
        for i in $(seq 1 30); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
}
cleanup() {
    stop_server
    sb_drop_db "$db"
    rm -f "$log" "$setup_file" "$results" "$launcher" "$server_log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sb_install_db "$db" "$SB_MODULE" "$log"

sb_log "setup: $subscriptions subscriptions, an integration user and its API key"
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_ingest.py" setup \
    --database "$db" --config "$SB_CONF" -s "$subscriptions" --out "$setup_file"

for workers in $workers_list; do
    sb_log "starting Odoo with $workers workers on 127.0.0.1:$port"
    : >"$server_log"
    "$SB_PYTHON" "$launcher" -c "$SB_CONF" -d "$db" --db-filter "^$db\$" \
        --workers="$workers" --http-interface=127.0.0.1 --http-port="$port" \
        --gevent-port="$gevent_port" \
        --max-cron-threads=0 --limit-time-real=600 --limit-time-cpu=600 \
        --limit-memory-soft=$((2048 * 1024 * 1024)) \
        --limit-memory-hard=$((2560 * 1024 * 1024)) \
        --log-level=warn >>"$server_log" 2>&1 &
    server_pid=$!
    up=
    for i in $(seq 1 120); do
        kill -0 "$server_pid" 2>/dev/null || break
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/web/health" 2>/dev/null; then
            up=1
            break
        fi
        sleep 0.5
    done
    [ -n "$up" ] || { tail -40 "$server_log" >&2; sb_die "Odoo did not answer on port $port"; }
    for clients in $clients_list; do
      for run in $(seq 1 "$repeat"); do
        psql -d "$db" -qc "TRUNCATE subscription_usage" -c "VACUUM ANALYZE subscription_usage"
        sb_log "load: $workers workers, $clients clients, run $run/$repeat $*"
        status=0
        "$SB_PYTHON" "$SB_ROOT/benchmarks/bench_ingest.py" load \
            --url "http://127.0.0.1:$port" --setup-file "$setup_file" --database "$db" \
            --workers "$workers" --clients "$clients" --server-pid "$server_pid" \
            --json "$results" "$@" || status=$?
        if [ "$status" -ne 0 ]; then
            tail -40 "$server_log" >&2
            sb_die "the load run failed (workers $workers, clients $clients)"
        fi
      done
    done
    stop_server
    sb_check_log "$server_log"
    if grep -q '^Traceback' "$server_log"; then
        grep -m1 -A20 '^Traceback' "$server_log" >&2
        sb_die "the Odoo server log has a traceback ($server_log)"
    fi
done
rm -f "$server_log"

"$SB_PYTHON" - "$results" <<'PY'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
print()
print("| workers | clients | events/s | new events/s | batches/s | p50 ms | p95 ms | CPU s: odoo / postgres / clients / other | events per CPU s | checks |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    cpu = r["cpu_seconds"]
    ok = "OK" if r["rows_check"]["ok"] and r["all_accepted"] else "FAILED"
    print(
        f"| {r['workers']} | {r['clients']} | {r['events_per_second']:,} | "
        f"{r['new_events_per_second']:,} | {r['batches_per_second']} | "
        f"{r['latency_p50_ms']} | {r['latency_p95_ms']} | "
        f"{cpu['odoo']} / {cpu['postgres']} / {cpu['clients']} / {cpu['other']} | "
        f"{r['events_per_cpu_second'] or '-':,} | {ok} |"
    )
if len(rows) > len({(r["workers"], r["clients"]) for r in rows}):
    import statistics

    print("\nmedian per combination:\n")
    print("| workers | clients | runs | events/s (median) | events/s (min-max) |")
    print("| --- | --- | --- | --- | --- |")
    combos = {}
    for r in rows:
        combos.setdefault((r["workers"], r["clients"]), []).append(r["events_per_second"])
    for (w, c), rates in combos.items():
        print(
            f"| {w} | {c} | {len(rates)} | {statistics.median(rates):,.0f} | "
            f"{min(rates):,}-{max(rates):,} |"
        )
best = max(rows, key=lambda r: r["events_per_second"])
print(
    f"\nbest: {best['workers']} workers, {best['clients']} clients: "
    f"{best['events_per_second']:,} events/s "
    f"(target {best['target_events_per_second']:,}: "
    f"{'met' if best['meets_target'] else 'missed'})"
)
PY
