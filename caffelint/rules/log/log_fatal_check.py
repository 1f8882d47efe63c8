"""LOG016 log-fatal-check (catalogue: rules/LOG016.yaml)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Event, Run, TrainingLog
from caffelint.model.log_curves import run_prefix, static_rule


@functools.cache
def known_failures() -> list[tuple[re.Pattern, str, str]]:
    """(pattern, static rule name, meaning) from caffelint/data/fatal_checks.yaml, in order."""
    from caffelint import facts as data

    return [(re.compile(e["pattern"]), e["rule"], e["means"]) for e in data.load("fatal_checks.yaml")]


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        for event in run.fatal[:1]:  # glog stops the process at the first fatal line
            yield ctx.finding(log.span(event.line), f"{run_prefix(log.runs, run)}{explain(run, event)}")


def explain(run: Run, event: Event) -> str:
    """What the fatal message means and which static check catches it before training."""
    message = event.text if len(event.text) <= 160 else event.text[:157] + "..."
    where = f"at iteration {event.iteration}" if run.has_data else "before training started"
    head = f"Caffe stopped {where}: {message}"
    for pattern, rule, means in known_failures():
        found = pattern.search(event.text)
        if found is None:
            continue
        meaning = means.format(*("",) + found.groups(default=""))
        if rule == "net-file-missing" and not run.solver:
            return f"{head}: the solver file named on the command line does not exist"
        if rule:
            return f"{head}: {meaning}; `caffelint check` reports this before training as {static_rule(rule)}"
        return f"{head}: {meaning}"
    return f"{head}: a failed check with no known static counterpart; the lines above it name the layer or file"
