# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Dunning schedules and decline handling, free of any Odoo import.

* :func:`check_steps`: a policy's steps must be in the order of their days and
  end with a final outcome (closing the subscription, or handing the invoice
  to a person); :class:`DunningError` carries a reason code.
* :func:`step_dates`: the day each step runs, counted from the failure (or the
  due date without a saved payment method); payment retries move to the next
  working day when weekends and holidays are to be avoided.
* :func:`due_steps`: what a run does today: the steps whose day has come and
  that were not done, where retries and reminders that were missed (the
  scheduled action did not run for days) collapse into the latest one; the
  others are *superseded* and recorded as such.
* :func:`classify_decline`: hard (card lost or stolen, account closed: never
  retry the method), action (the customer must act: authentication, expired
  card) or soft (insufficient funds, processing error: retry later).
* :func:`simulate`: a population of failed payments through a policy, under a
  stated model of retry success (``benchmarks/simulate_dunning.py``).
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

RETRY = "retry"
REMINDER = "reminder"
ACTIVITY = "activity"
SUSPEND = "suspend"
CLOSE = "close"
ACTIONS = (RETRY, REMINDER, ACTIVITY, SUSPEND, CLOSE)
# A policy ends with one of these: the subscription is closed, or a person
# takes the invoice over (collection, legal action, write-off).
FINAL_ACTIONS = (CLOSE, ACTIVITY)

SOFT = "soft"
HARD = "hard"
ACTION = "action"
DECLINES = (SOFT, HARD, ACTION)

# Reason codes of DunningError (the caller translates them).
NO_STEPS = "no_steps"
NEGATIVE_DAY = "negative_day"
OUT_OF_ORDER = "out_of_order"
NO_FINAL = "no_final"
AFTER_FINAL = "after_final"

# Words providers use in their decline messages (lower case), by decline type.
# Hard declines are checked first: "expired card reported stolen" is hard.
HARD_MARKERS = (
    "lost",
    "stolen",
    "account closed",
    "closed account",
    "revoked",
    "fraud",
    "pickup",
    "pick up",
    "invalid account",
    "no such account",
    "restricted card",
)
ACTION_MARKERS = (
    "authentication",
    "authenticate",
    "3d secure",
    "3ds",
    "sca",
    "requires_action",
    "requires action",
    "expired",
    "mandate",
)


class DunningError(ValueError):
    """A policy that cannot run; ``reason`` is one of the codes above."""

    def __init__(self, reason, message, step=None):
        super().__init__(message)
        self.reason = reason
        self.step = step


@dataclass(frozen=True)
class Step:
    """One step of a policy: on ``day`` (after the failure), do ``action``.

    ``key`` identifies the step for the caller (a record id).
    """

    key: object
    day: int
    action: str


def check_steps(steps):
    """Raise :class:`DunningError` unless ``steps`` (in their order) can run."""
    steps = list(steps)
    if not steps:
        raise DunningError(NO_STEPS, "a dunning policy needs at least one step")
    previous = None
    for step in steps:
        if step.day < 0:
            raise DunningError(NEGATIVE_DAY, "a step day cannot be negative", step)
        if previous is not None and step.day < previous.day:
            raise DunningError(
                OUT_OF_ORDER,
                f"step on day {step.day} comes after a step on day {previous.day}",
                step,
            )
        previous = step
    finals = [i for i, step in enumerate(steps) if step.action in FINAL_ACTIONS]
    if not finals:
        raise DunningError(
            NO_FINAL, "the last step must close the subscription or hand over"
        )
    first_close = next((i for i, s in enumerate(steps) if s.action == CLOSE), None)
    if first_close is not None and first_close != len(steps) - 1:
        raise DunningError(
            AFTER_FINAL, "no step can follow the closing step", steps[first_close + 1]
        )
    if steps[-1].action not in FINAL_ACTIONS:
        raise DunningError(
            NO_FINAL, "the last step must close the subscription or hand over"
        )


def next_working_day(day, is_working_day, horizon=60):
    """``day`` or the first working day after it (at most ``horizon`` days on,
    so a calendar without any working day cannot loop forever)."""
    if is_working_day is None:
        return day
    for offset in range(horizon + 1):
        candidate = day + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    return day


def step_dates(start, steps, is_working_day=None):
    """``[(step, date)]``: when each step runs for a failure on ``start``.

    Retries move to the next working day (``is_working_day(date)``), never
    before the date of the step that precedes them.
    """
    result = []
    floor = start
    for step in steps:
        day = start + timedelta(days=step.day)
        if step.action == RETRY:
            day = next_working_day(day, is_working_day)
        day = max(day, floor)
        result.append((step, day))
        floor = day
    return result


def due_steps(start, steps, done, today, is_working_day=None):
    """``(to_run, superseded)``: steps to run today, in order, and the missed
    ones that a later step of the same action replaces.

    ``done`` holds the keys of steps already run (or superseded). A retry or
    a reminder that came due on an earlier day than another due step of the
    same action is superseded: one payment retry and one reminder at most
    per run. Suspension, activity and closing always run.
    """
    due = [
        step
        for step, day in step_dates(start, steps, is_working_day)
        if day <= today and step.key not in done
    ]
    last_of = {}
    for step in due:
        last_of[step.action] = step
    to_run, superseded = [], []
    for step in due:
        if step.action in (RETRY, REMINDER) and last_of[step.action] is not step:
            superseded.append(step)
        else:
            to_run.append(step)
    return to_run, superseded


def next_date(start, steps, done, is_working_day=None):
    """The date of the first step not done yet (``None``: all are done)."""
    for step, day in step_dates(start, steps, is_working_day):
        if step.key not in done:
            return day
    return None


def classify_decline(message, state="error"):
    """The decline type of a failed payment, from the provider's message.

    A cancelled transaction is soft (the payment may go through later).
    """
    text = (message or "").lower()
    if state == "error":
        if any(marker in text for marker in HARD_MARKERS):
            return HARD
        if any(_has_word(text, marker) for marker in ACTION_MARKERS):
            return ACTION
    return SOFT


def _has_word(text, marker):
    """``marker`` in ``text`` as a word (so "sca" does not match "scan")."""
    start = text.find(marker)
    while start != -1:
        end = start + len(marker)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        start = text.find(marker, start + 1)
    return False


# ----------------------------------------------------------------------
# Simulation (benchmarks/simulate_dunning.py)
# ----------------------------------------------------------------------

# ASSUMED model, NOT measured figures, to compare policies with each other:
# a soft decline (insufficient funds, processing error) becomes payable on a
# hidden day drawn from this cumulative distribution (share of soft declines
# payable by that many days after the failure; the rest never are), and a
# retry succeeds exactly when it comes on or after that day; so spacing the
# retries matters, their number does not. Hard declines (lost or stolen
# card, closed account) and declines needing the customer's action never
# succeed on a retry with the same method.
ASSUMED_FUNDS_BACK = (
    (1, 0.20),
    (3, 0.40),
    (5, 0.50),
    (7, 0.58),
    (14, 0.68),
    (30, 0.75),
)
# ASSUMED chance that a customer pays by themselves after a reminder (pay
# link), by decline type; and the share of each decline type.
ASSUMED_REMINDER_RESPONSE = {SOFT: 0.10, HARD: 0.25, ACTION: 0.35}
ASSUMED_DECLINE_MIX = {SOFT: 0.80, HARD: 0.08, ACTION: 0.12}


def _payable_day(rng):
    draw = rng.random()
    for day, share in ASSUMED_FUNDS_BACK:
        if draw < share:
            return day
    return None


@dataclass
class SimulationResult:
    failed: int
    recovered: int
    lost: int
    recovered_by_step: dict
    retries: int
    reminders: int

    @property
    def recovery_rate(self):
        return self.recovered / self.failed if self.failed else 0.0


def simulate(steps, population=10000, seed=42, mix=None, has_token_share=1.0):
    """Run ``population`` failed payments through ``steps`` (a checked policy)
    under the ASSUMED model above; deterministic for a given ``seed``."""
    rng = random.Random(seed)
    mix = mix or ASSUMED_DECLINE_MIX
    kinds, weights = zip(*mix.items(), strict=True)
    recovered_by_step = {}
    recovered = lost = retries = reminders = 0
    start = date(2026, 1, 1)
    for _i in range(population):
        kind = rng.choices(kinds, weights)[0]
        has_token = rng.random() < has_token_share
        payable = _payable_day(rng) if kind == SOFT else None
        paid = False
        for step, day in step_dates(start, steps):
            days = (day - start).days
            if step.action == RETRY and has_token and kind == SOFT:
                retries += 1
                paid = payable is not None and days >= payable
            elif step.action == REMINDER:
                reminders += 1
                paid = rng.random() < ASSUMED_REMINDER_RESPONSE[kind]
            if paid:
                recovered += 1
                label = f"day {step.day} {step.action}"
                recovered_by_step[label] = recovered_by_step.get(label, 0) + 1
                break
            if step.action == CLOSE:
                break
        if not paid:
            lost += 1
    return SimulationResult(
        population, recovered, lost, recovered_by_step, retries, reminders
    )
