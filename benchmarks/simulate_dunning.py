#!/usr/bin/env python3
# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Compare dunning policies on a simulated population of failed payments.

Runs ``--population`` failed payments through each policy below with
``core.dunning.simulate`` and prints, per policy: the recovery rate, the
number of retries and reminders sent, and the recoveries per step.

THE RATES ARE ASSUMPTIONS, NOT MEASUREMENTS: when a soft decline becomes
payable again (a retry succeeds on or after that day), the chance that a
reminder makes the customer pay, and the mix of decline types are the
documented model in ``core/dunning.py`` (``ASSUMED_*``). Use the output to
compare policies with each other under one model, never as a forecast of
real recovery.

Usage::

    python3 benchmarks/simulate_dunning.py [--population 10000] [--seed 42]
        [--token-share 0.8] [--json FILE]
"""

import argparse
import json

from core_loader import load_core


def policies(dn):
    step = dn.Step
    return {
        # The shipped default (data/subscription_dunning_policy_data.xml).
        "default": [
            step(1, 3, dn.RETRY),
            step(2, 5, dn.RETRY),
            step(3, 7, dn.RETRY),
            step(4, 7, dn.REMINDER),
            step(5, 14, dn.RETRY),
            step(6, 14, dn.REMINDER),
            step(7, 21, dn.SUSPEND),
            step(8, 21, dn.REMINDER),
            step(9, 30, dn.CLOSE),
        ],
        "reminders only": [
            step(1, 7, dn.REMINDER),
            step(2, 14, dn.REMINDER),
            step(3, 21, dn.REMINDER),
            step(4, 30, dn.CLOSE),
        ],
        "retries only": [
            step(1, 3, dn.RETRY),
            step(2, 5, dn.RETRY),
            step(3, 7, dn.RETRY),
            step(4, 14, dn.RETRY),
            step(5, 30, dn.CLOSE),
        ],
        "aggressive (daily retries, 10 days)": [
            *(step(i, i, dn.RETRY) for i in range(1, 10)),
            step(10, 10, dn.CLOSE),
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--token-share",
        type=float,
        default=0.8,
        help="share of customers with a saved payment method (default 0.8)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    dn = load_core("dunning")
    print(
        "ASSUMPTIONS, not measurements: when soft declines become payable again, "
        "how customers answer reminders and the decline mix are the model in "
        "core/dunning.py:"
    )
    print(f"  decline mix:        {dn.ASSUMED_DECLINE_MIX}")
    print(f"  soft declines payable again by day (cumulative): {dn.ASSUMED_FUNDS_BACK}")
    print(f"  reminder response:  {dn.ASSUMED_REMINDER_RESPONSE}")
    print(
        f"  population {args.population}, seed {args.seed}, "
        f"{args.token_share:.0%} with a saved payment method"
    )
    print()
    figures = {}
    for name, steps in policies(dn).items():
        dn.check_steps(steps)
        result = dn.simulate(
            steps, args.population, args.seed, has_token_share=args.token_share
        )
        figures[name] = {
            "recovery_rate": round(result.recovery_rate, 4),
            "recovered": result.recovered,
            "lost": result.lost,
            "retries": result.retries,
            "reminders": result.reminders,
            "recovered_by_step": result.recovered_by_step,
        }
        print(
            f"{name:38} recovered {result.recovery_rate:6.1%}  "
            f"retries {result.retries:6}  reminders {result.reminders:6}"
        )
        for label, count in sorted(
            result.recovered_by_step.items(), key=lambda item: int(item[0].split()[1])
        ):
            print(f"    {label:28} {count:6} ({count / args.population:5.1%})")
    print()
    print("Reminder: these rates come from the assumed model above.")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"assumed_model": True, "policies": figures}, handle, indent=2)


if __name__ == "__main__":
    main()
