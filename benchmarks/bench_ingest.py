#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Usage ingestion over HTTP: ``POST /subscription_billing/usage`` under load.

Two steps, run by ``benchmarks/run_ingest.sh`` on a throwaway database:

``setup`` (an Odoo environment, committed): an income-account product, the
metric ``api_calls`` (sum), a plan with a standard usage line, S subscriptions
started on 2026-01-01 for S distinct customers, an integration user in
*Subscriptions / User* and its API key. Writes the key and the subscription
references to a JSON file (``--out``).

``load`` (no Odoo import: a plain HTTP client): C client processes, one
connection each, post batches of 1,000 events to a running Odoo server. Each
client first sends one warm-up batch of new events (not measured), then its
share of the E measured events; in every measured batch, 10% of the events are
resends of events the same client had accepted in earlier batches (same key,
same payload): the endpoint must answer them ``accepted`` (an idempotent
replay, with the id of the first write) and write nothing. Events go to random
subscriptions among the S, with random timestamps in 2026 after January 1st
and before now.

Reported: events per second (all events sent / wall time), new events written
per second, batches per second, the batch latency (p50, p95, max), the CPU
time of the client processes. Checked at the end, by SQL: the rows of
``subscription_usage`` are exactly the unique keys sent (no event counted
twice, none lost), their quantities add up to those of the unique events, and
every answer was ``accepted``. A last line ``JSON {...}`` sums it up.

Usage::

    python3 benchmarks/bench_ingest.py setup --database DB --config CONF \\
        [-s 1000] --out FILE
    python3 benchmarks/bench_ingest.py load --url http://127.0.0.1:8169 \\
        --setup-file FILE --database DB [-e 200000] [-c 4] [--workers 3]
"""
# pylint: disable=print-used,invalid-commit

import argparse
import http.client
import json
import multiprocessing
import os
import random
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta

TARGET_EVENTS_PER_SECOND = 10_000
BATCH = 1000
DUPLICATE_SHARE = 0.10
PATH = "/subscription_billing/usage"
METRIC = "api_calls"
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
FIRST_MOMENT = datetime(2026, 1, 1, 0, 0, 1)


# ----------------------------------------------------------------------
# Setup (inside Odoo)
# ----------------------------------------------------------------------


def setup(args):
    try:
        from odoo import Command, api
        from odoo.modules.registry import Registry
        from odoo.tools import config
    except ImportError as import_error:
        sys.exit(
            f"error: Odoo 19.0 is not importable by {sys.executable} ({import_error})"
        )
    config.parse_config(
        ["-c", args.config, "-d", args.database, "--log-level=warn"], setup_logging=True
    )
    registry = Registry(args.database)
    start = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, QUIET)
        income = env.company.income_account_id or env["account.account"].search(
            [("account_type", "=", "income")], limit=1
        )
        product = env["product.product"].create(
            {
                "name": "API calls",
                "type": "service",
                "property_account_income_id": income.id,
            }
        )
        metric = env["subscription.metric"].create(
            {"name": "API calls", "code": METRIC, "aggregation": "sum"}
        )
        plan = env["subscription.plan"].create(
            {
                "name": "Metered (ingestion bench)",
                "line_ids": [
                    Command.create(
                        {
                            "line_type": "usage",
                            "product_id": product.id,
                            "metric_id": metric.id,
                            "charge_model": "standard",
                            "usage_unit_price": 0.05,
                        }
                    )
                ],
            }
        )
        Sub = env["subscription.subscription"]
        subs = Sub
        for offset in range(0, args.subscriptions, 500):
            count = min(500, args.subscriptions - offset)
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"Ingest customer {offset + n:06d}",
                        "ref": f"INGEST-{offset + n:06d}",
                        "is_company": True,
                    }
                    for n in range(count)
                ]
            )
            chunk = Sub.create(
                [
                    {
                        "partner_id": partner.id,
                        "plan_id": plan.id,
                        "date_start": "2026-01-01",
                    }
                    for partner in partners
                ]
            )
            chunk.action_start()
            subs |= chunk
            cr.commit()
        assert all(state in ("active", "trial") for state in subs.mapped("state"))
        group = env.ref("subscription_billing.group_subscription_user")
        user = env["res.users"].create(
            {
                "name": "Usage ingestion bench",
                "login": "usage_ingest_bench",
                "group_ids": [Command.set([group.id])],
            }
        )
        key = (
            env["res.users.apikeys"]
            .with_user(user)
            .sudo()
            ._generate(None, "usage ingestion bench", None)
        )
        cr.commit()
        cr.execute("ANALYZE")
        data = {
            "key": key,
            "metric": METRIC,
            "subscriptions": subs.mapped("name"),
            "subscription_ids": subs.ids,
        }
        login = user.login
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    print(
        f"setup: {len(data['subscriptions'])} started subscriptions, user "
        f"{login} and its API key, in {time.perf_counter() - start:.1f} s"
    )


# ----------------------------------------------------------------------
# Load (plain HTTP client)
# ----------------------------------------------------------------------


def plan_batches(args, client, subscriptions, end):
    """The batches of one client: a warm-up batch, then the measured ones.

    Returns ``(warmup, measured, unique)``: ``warmup`` one list of events,
    ``measured`` a list of ``(body bytes, events, resent keys)``, ``unique``
    ``{key: quantity}`` of the unique events sent.
    """
    rng = random.Random(f"{args.seed}-{client}")
    span = int((end - FIRST_MOMENT).total_seconds())
    counter = [0]
    unique = {}

    def new_event():
        counter[0] += 1
        key = f"{args.run}-c{client}-{counter[0]}"
        moment = FIRST_MOMENT + timedelta(seconds=rng.randrange(span))
        event = {
            "idempotency_key": key,
            "subscription": rng.choice(subscriptions),
            "metric": METRIC,
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "quantity": rng.randint(1, 100),
        }
        unique[key] = event["quantity"]
        return event

    warmup = [new_event() for __ in range(BATCH)]
    sent = list(warmup)
    measured = []
    share = args.events // args.clients + (client < args.events % args.clients)
    while share > 0:
        size = min(BATCH, share)
        share -= size
        resent = rng.sample(sent, min(round(size * DUPLICATE_SHARE), len(sent)))
        fresh = [new_event() for __ in range(size - len(resent))]
        events = fresh + resent
        rng.shuffle(events)
        measured.append(
            (
                json.dumps({"events": events}).encode(),
                len(events),
                {event["idempotency_key"] for event in resent},
            )
        )
        sent.extend(fresh)
    return warmup, measured, unique


class Client:
    """One HTTP connection, reopened when the server closes it.

    Odoo's prefork workers answer in HTTP/1.0 and close the connection after
    each response, so keep-alive is offered but not granted: count
    ``reconnects``.
    """

    def __init__(self, url, key, timeout):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.timeout = timeout
        self.headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "Connection": "keep-alive",
        }
        self.conn = None
        self.reconnects = 0

    def post(self, body):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
            self.reconnects += 1
        try:
            self.conn.request("POST", PATH, body=body, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:500]!r}")
        return json.loads(data)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def check_answers(answer, events_count, ids, resent, tally):
    """Tally one batch's answers; remember the ids of accepted events."""
    results = answer["results"]
    if len(results) != events_count:
        raise RuntimeError(f"{len(results)} answers for {events_count} events")
    for result in results:
        key = result["idempotency_key"]
        status = result["status"]
        if status != "accepted":
            tally["not_accepted"] += 1
            if len(tally["samples"]) < 5:
                tally["samples"].append(result)
            continue
        if key in resent:
            tally["replays"] += 1
            if ids.get(key) != result.get("id"):
                tally["replay_id_mismatch"] += 1
        else:
            if key in ids:
                tally["unexpected_replay"] += 1
            tally["new"] += 1
            ids[key] = result.get("id")


def client_main(args, client, data, end, barriers, queue):
    try:
        warmup, measured, unique = plan_batches(
            args, client, data["subscriptions"], end
        )
        http_client = Client(args.url, data["key"], args.timeout)
        ids = {}
        tally = {
            "new": 0,
            "replays": 0,
            "not_accepted": 0,
            "replay_id_mismatch": 0,
            "unexpected_replay": 0,
            "samples": [],
        }
        check_answers(
            http_client.post(json.dumps({"events": warmup}).encode()),
            len(warmup),
            ids,
            set(),
            tally,
        )
        warm = dict(tally, samples=list(tally["samples"]))
        tally.update(new=0, replays=0)
        barriers[0].wait()  # warmed up
        barriers[1].wait()  # go
        cpu_before = os.times()
        begin = time.monotonic()
        latencies = []
        events = 0
        for body, count, resent in measured:
            started = time.monotonic()
            answer = http_client.post(body)
            latencies.append(time.monotonic() - started)
            check_answers(answer, count, ids, resent, tally)
            events += count
        finish = time.monotonic()
        cpu_after = os.times()
        http_client.close()
        queue.put(
            {
                "client": client,
                "begin": begin,
                "finish": finish,
                "events": events,
                "batches": len(measured),
                "latencies": latencies,
                "tally": tally,
                "warmup": warm,
                "unique_keys": len(unique),
                "unique_quantity": sum(unique.values()),
                "reconnects": http_client.reconnects,
                "cpu_seconds": (cpu_after.user - cpu_before.user)
                + (cpu_after.system - cpu_before.system),
            }
        )
    except BaseException as error:  # report anything to the parent, then stop
        for barrier in barriers:
            barrier.abort()
        queue.put({"client": client, "error": f"{type(error).__name__}: {error}"})


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def process_cpu_seconds(pids):
    """``{pid: utime + stime}`` of processes, from /proc (clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def cpu_since(before, pids):
    """CPU seconds of ``pids`` since ``before``; a new process counts whole."""
    now = process_cpu_seconds(pids)
    return sum(value - before.get(pid, 0.0) for pid, value in now.items())


def machine_busy_seconds():
    """CPU seconds all cores spent busy since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: all but idle and iowait
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def server_pids(root):
    """The Odoo server process and its children (the workers)."""
    if not root:
        return []
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, ()))
    return pids


def postgres_pids(database):
    """Backends connected to ``database`` (the workers' connections)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                text = cmdline.read().decode(errors="replace")
        except OSError:
            continue
        if text.startswith("postgres:") and f" {database} " in text:
            pids.append(int(entry))
    return pids


def verify(args, expected_rows, expected_quantity):
    import psycopg2

    params = {"dbname": args.database}
    if args.db_user:
        params["user"] = args.db_user
    with psycopg2.connect(**params) as conn, conn.cursor() as cr:
        cr.execute(
            """
            SELECT COUNT(*), COUNT(DISTINCT (company_id, idempotency_key)),
                   COALESCE(SUM(quantity), 0)
              FROM subscription_usage
             WHERE idempotency_key LIKE %s
            """,
            [f"{args.run}-%"],
        )
        rows, distinct, quantity = cr.fetchone()
        cr.execute("SELECT COUNT(*) FROM subscription_usage")
        (all_rows,) = cr.fetchone()
    conn.close()
    return {
        "rows": rows,
        "distinct_keys": distinct,
        "rows_in_table": all_rows,
        "quantity": float(quantity),
        "expected_rows": expected_rows,
        "expected_quantity": float(expected_quantity),
        "ok": rows == expected_rows == distinct
        and float(quantity) == float(expected_quantity),
    }


def load(args):
    with open(args.setup_file, encoding="utf-8") as setup_file:
        data = json.load(setup_file)
    if args.subscriptions:
        data["subscriptions"] = data["subscriptions"][: args.subscriptions]
    if args.by_id:
        data["subscriptions"] = data["subscription_ids"][: len(data["subscriptions"])]
    args.run = args.run or f"r{int(time.time())}-{os.getpid()}"
    # Timestamps: 2026 after January 1st, before now (a day of margin).
    end = min(datetime.now(UTC).replace(tzinfo=None), datetime(2027, 1, 1))
    end -= timedelta(days=1)
    if end <= FIRST_MOMENT:
        sys.exit("error: the clock is before 2026-01-02: no past 2026 timestamp exists")
    context = multiprocessing.get_context("fork")
    barriers = [context.Barrier(args.clients + 1) for __ in range(2)]
    queue = context.Queue()
    processes = [
        context.Process(
            target=client_main, args=(args, client, data, end, barriers, queue)
        )
        for client in range(args.clients)
    ]
    for process in processes:
        process.start()
    server_cpu, pg_cpu, busy = {}, {}, 0.0
    load_start = os.getloadavg()[0]
    try:
        barriers[0].wait(timeout=args.timeout * 2 + 300)
        server_cpu = process_cpu_seconds(server_pids(args.server_pid))
        pg_cpu = process_cpu_seconds(postgres_pids(args.database))
        busy = machine_busy_seconds()
        barriers[1].wait(timeout=60)
    except threading.BrokenBarrierError:
        # A client failed: its report (read below) says why; no CPU figures.
        server_cpu, pg_cpu = {}, {}
    reports = [queue.get() for __ in processes]
    for process in processes:
        process.join()
    errors = [report for report in reports if "error" in report]
    if errors:
        for report in errors:
            print(
                f"error: client {report['client']}: {report['error']}", file=sys.stderr
            )
        sys.exit(2)
    wall = max(report["finish"] for report in reports) - min(
        report["begin"] for report in reports
    )
    busy = machine_busy_seconds() - busy
    server_cpu = cpu_since(server_cpu, server_pids(args.server_pid))
    pg_cpu = cpu_since(pg_cpu, postgres_pids(args.database))
    latencies = [seconds for report in reports for seconds in report["latencies"]]
    events = sum(report["events"] for report in reports)
    batches = sum(report["batches"] for report in reports)
    tally = {
        name: sum(report["tally"][name] for report in reports)
        for name in (
            "new",
            "replays",
            "not_accepted",
            "replay_id_mismatch",
            "unexpected_replay",
        )
    }
    warm_bad = sum(report["warmup"]["not_accepted"] for report in reports)
    samples = [s for report in reports for s in report["tally"]["samples"]][:5]
    expected_rows = sum(report["unique_keys"] for report in reports)
    expected_quantity = sum(report["unique_quantity"] for report in reports)
    check = verify(args, expected_rows, expected_quantity)
    all_accepted = (
        tally["not_accepted"] == 0
        and warm_bad == 0
        and tally["replay_id_mismatch"] == 0
        and tally["unexpected_replay"] == 0
        and tally["new"] + tally["replays"] == events
    )
    per_second = events / wall
    client_cpu = sum(report["cpu_seconds"] for report in reports)
    # Independent of what else runs on the machine: the events one CPU second
    # of the whole stack (Odoo workers, their PostgreSQL backends, clients)
    # ingests; times the cores, the rate the machine would reach alone.
    stack_cpu = server_cpu + pg_cpu + client_cpu
    per_cpu_second = events / stack_cpu if args.server_pid and stack_cpu else None
    summary = {
        "workers": args.workers,
        "clients": args.clients,
        "subscriptions": len(data["subscriptions"]),
        "events": events,
        "new_events": tally["new"],
        "replays": tally["replays"],
        "batches": batches,
        "seconds": round(wall, 3),
        "events_per_second": round(per_second),
        "new_events_per_second": round(tally["new"] / wall),
        "batches_per_second": round(batches / wall, 2),
        "latency_p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "latency_max_ms": round(1000 * max(latencies), 1),
        "cpu_seconds": {
            "odoo": round(server_cpu, 2) if args.server_pid else None,
            "postgres": round(pg_cpu, 2),
            "clients": round(client_cpu, 2),
            "machine": round(busy, 2),
            "other": round(busy - server_cpu - pg_cpu - client_cpu, 2),
        },
        "events_per_cpu_second": round(per_cpu_second) if per_cpu_second else None,
        "connections_opened": sum(report["reconnects"] for report in reports),
        "load_average_at_start": round(load_start, 2),
        "rows_check": check,
        "all_accepted": all_accepted,
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "meets_target": per_second >= TARGET_EVENTS_PER_SECOND,
    }
    print(f"server workers          {args.workers}")
    print(f"clients                 {args.clients}")
    print(f"subscriptions           {len(data['subscriptions'])}")
    print(
        f"events sent             {events:,} in {batches} batches "
        f"({tally['new']:,} new, {tally['replays']:,} resent) "
        f"+ {args.clients} warm-up batches"
    )
    print(f"wall time               {wall:.2f} s")
    print(f"events/s (all sent)     {per_second:,.0f}")
    print(f"new events written/s    {tally['new'] / wall:,.0f}")
    print(f"batches/s               {batches / wall:.2f}")
    print(
        f"batch latency           p50 {summary['latency_p50_ms']} ms, "
        f"p95 {summary['latency_p95_ms']} ms, max {summary['latency_max_ms']} ms"
    )
    cpu = summary["cpu_seconds"]
    print(
        f"CPU seconds             odoo {cpu['odoo']}, postgres {cpu['postgres']}, "
        f"clients {cpu['clients']}, other processes {cpu['other']}; machine "
        f"busy {cpu['machine']} of {os.cpu_count()} cores x {wall:.1f} s = "
        f"{os.cpu_count() * wall:.1f}"
    )
    if per_cpu_second:
        alone = per_cpu_second * os.cpu_count()
        print(
            f"events per CPU second   {per_cpu_second:,.0f} (odoo + postgres + "
            f"clients; x {os.cpu_count()} cores = {alone:,.0f} events/s on an "
            "otherwise idle machine)"
        )
    print(
        f"rows check              {check['rows']:,} rows for "
        f"{check['expected_rows']:,} unique keys sent, quantity "
        f"{check['quantity']:,.0f} for {check['expected_quantity']:,.0f}: "
        f"{'OK' if check['ok'] else 'MISMATCH'}"
    )
    accepted = "all accepted" if all_accepted else "NOT all accepted"
    print(
        f"answers                 {accepted} ({tally['replays']:,} replays with "
        "their first id)"
    )
    if samples:
        print(f"not accepted, e.g.      {samples}")
    print(
        f"target                  {TARGET_EVENTS_PER_SECOND:,} events/s: "
        f"{'met' if summary['meets_target'] else 'missed'}"
    )
    print("JSON " + json.dumps(summary))
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            out.write(json.dumps(summary) + "\n")
    if not (check["ok"] and all_accepted):
        sys.exit(1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("setup", help="create the data (in Odoo, committed)")
    step.add_argument("--database", required=True)
    step.add_argument("--config", required=True)
    step.add_argument("-s", "--subscriptions", type=int, default=1000)
    step.add_argument(
        "--out", required=True, help="JSON file for the key and references"
    )
    step = steps.add_parser("load", help="post the events to a running server")
    step.add_argument("--url", default="http://127.0.0.1:8169")
    step.add_argument("--setup-file", required=True)
    step.add_argument("--database", required=True, help="for the final SQL check")
    step.add_argument("--db-user", default=os.environ.get("PGUSER"))
    step.add_argument("-e", "--events", type=int, default=200_000)
    step.add_argument("-c", "--clients", type=int, default=4)
    step.add_argument("-s", "--subscriptions", type=int, help="use the first S only")
    step.add_argument("--workers", type=int, help="the server's workers, to report")
    step.add_argument(
        "--server-pid", type=int, help="the Odoo server, for its CPU time"
    )
    step.add_argument("--by-id", action="store_true", help="name subscriptions by id")
    step.add_argument("--run", help="prefix of the keys (default: unique per run)")
    step.add_argument("--seed", default="ingest")
    step.add_argument("--timeout", type=float, default=600)
    step.add_argument("--json", help="append the summary to this file")
    args = parser.parse_args(argv)
    if args.step == "setup":
        setup(args)
    else:
        if args.clients < 1 or args.events < 1:
            parser.error("--clients and --events must be positive")
        load(args)


if __name__ == "__main__":
    main()
