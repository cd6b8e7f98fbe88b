#!/usr/bin/env bash
# Usage ingestion over HTTP on a throwaway database:
#   benchmarks/run_ingest.sh [-s SUBSCRIPTIONS] [-w "WORKERS..."] [-c "CLIENTS..."]
#                            [-p PORT] [bench_ingest.py load arguments...]
# Copies the template database (bin/lib.sh), installs subscription_billing,
# creates the data (bench_ingest.py setup), then for each worker count starts
# Odoo as a real prefork server on 127.0.0.1:PORT and, for each client count,
# empties subscription_usage and runs the load client (bench_ingest.py load).
# Stops the server and drops the database, whatever happens.
#   benchmarks/run_ingest.sh                      # S=1000, 3 workers, 4 clients
#   benchmarks/run_ingest.sh -w "2 3 4" -c "2 4 8" -e 200000
set -euo pipefail
source "$(dirname "$0")/../bin/lib.sh"

subscriptions=1000
workers_list="3"
clients_list="4"
port=8169
while [ $# -gt 0 ]; do
    case $1 in
    -s) subscriptions=$2; shift 2 ;;
    -w) workers_list=$2; shift 2 ;;
    -c) clients_list=$2; shift 2 ;;
    -p) port=$2; shift 2 ;;
    *) break ;;
    esac
done

sb_ensure_debian
sb_ensure_postgres
sb_ensure_odoo
sb_prepare_addons

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    sb_die "port $port is taken: pass a free one with -p"
fi

tpl=$(sb_template)
db="sb_bench_ingest_$(date +%s)_$$"
log="$SB_WORK/$db.install.log"
server_log="$SB_WORK/$db.server.log"
setup_file=$(mktemp "$SB_WORK/$db.setup.XXXXXX")
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
    dropdb --if-exists "$db" 2>/dev/null || true
    rm -rf "$SB_WORK/data/filestore/$db" "$log" "$setup_file" "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sb_copy_db "$tpl" "$db"

sb_log "installing $SB_MODULE on $db"
sb_odoo -d "$db" -i "$SB_MODULE" --stop-after-init --log-level=warn >"$log" 2>&1 ||
    { tail -60 "$log" >&2; sb_die "installing $SB_MODULE failed"; }

sb_log "setup: $subscriptions subscriptions, an integration user and its API key"
"$SB_PYTHON" "$SB_ROOT/benchmarks/bench_ingest.py" setup \
    --database "$db" --config "$SB_CONF" -s "$subscriptions" --out "$setup_file"

for workers in $workers_list; do
    sb_log "starting Odoo with $workers workers on 127.0.0.1:$port"
    : >"$server_log"
    "$SB_PYTHON" -m odoo -c "$SB_CONF" -d "$db" --db-filter "^$db\$" \
        --workers="$workers" --http-interface=127.0.0.1 --http-port="$port" \
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
        psql -d "$db" -qc "TRUNCATE subscription_usage" -c "VACUUM ANALYZE subscription_usage"
        sb_log "load: $workers workers, $clients clients $*"
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
    stop_server
    sb_check_log "$server_log"
done
rm -f "$server_log"

"$SB_PYTHON" - "$results" <<'PY'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
print()
print("| workers | clients | events/s | new events/s | batches/s | p50 ms | p95 ms | CPU s: odoo / postgres / clients / other | checks |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    cpu = r["cpu_seconds"]
    ok = "OK" if r["rows_check"]["ok"] and r["all_accepted"] else "FAILED"
    print(
        f"| {r['workers']} | {r['clients']} | {r['events_per_second']:,} | "
        f"{r['new_events_per_second']:,} | {r['batches_per_second']} | "
        f"{r['latency_p50_ms']} | {r['latency_p95_ms']} | "
        f"{cpu['odoo']} / {cpu['postgres']} / {cpu['clients']} / {cpu['other']} | {ok} |"
    )
best = max(rows, key=lambda r: r["events_per_second"])
print(
    f"\nbest: {best['workers']} workers, {best['clients']} clients: "
    f"{best['events_per_second']:,} events/s "
    f"(target {best['target_events_per_second']:,}: "
    f"{'met' if best['meets_target'] else 'missed'})"
)
PY
