"""Diagnosing a training log: read it, run the LOG rules in force, collect findings.

This is `check_paths` for logs: the configuration is found upward from the
log (`.caffelint.yaml`, `rules:` thresholds), the rules are the catalogue's
`log` group, and each rule reads the whole TrainingLog through `check_log`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from caffelint import catalogue as catalogue_mod
from caffelint.config import Options, effective
from caffelint.engine import RuleContext, enabled_rules, guarded, rule_options, severity_of
from caffelint.errors import InputError
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog, read_log
from caffelint.source import SourceFile


@dataclass
class LogReport:
    """A diagnosed log: what was read, and what the rules found."""

    path: str
    log: TrainingLog
    findings: list[Finding]

    def run_of(self, finding: Finding) -> Run | None:
        """The run whose lines hold the finding's line."""
        line = finding.span.start.line
        found = None
        for run in self.log.runs:
            if run.line <= line:
                found = run
        return found

    def iteration_of(self, finding: Finding) -> int | None:
        """The training iteration at the finding's line (for marking it on a plot)."""
        run = self.run_of(finding)
        if run is None:
            return None
        line = finding.span.start.line
        best: tuple[int, int] | None = None  # (line, iteration) of the last point at or before `line`
        for _, curve in run.curves():
            i = bisect.bisect_right(curve.lines, line) - 1  # points are kept in file order
            if i >= 0 and (best is None or curve.lines[i] > best[0]):
                best = (curve.lines[i], curve.iters[i])
        for test_pass in run.test_passes:
            if test_pass.line <= line and (best is None or test_pass.line > best[0]):
                best = (test_pass.line, test_pass.iteration)
        if best is None:
            return run.first_iteration if run.has_data else None
        return best[1]


def diagnose_log(path: str, options: Options, debug: bool = False) -> LogReport:
    """Read the training log at `path` and run every enabled LOG rule on it."""
    catalogue = catalogue_mod.load()
    log = read_log(path)
    if not log.runs:
        raise InputError(f"{path}: not a Caffe training log (no solver, iteration or test lines found)")
    options = effective(options, path)
    source = SourceFile(path, "")  # findings carry spans from line numbers; the text is not kept
    findings: list[Finding] = []
    for spec in enabled_rules(catalogue, options, path):
        checker = spec.checker("log") if spec.group == "log" else None
        if checker is None:
            continue
        ctx = RuleContext(spec, severity_of(spec, options, catalogue), source, rule_options(spec, options), log)
        findings.extend(guarded(spec, source, checker(log, ctx), debug, catalogue))
    findings.sort(key=Finding.sort_key)
    return LogReport(path, log, findings)
