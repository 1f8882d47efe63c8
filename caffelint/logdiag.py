"""Diagnosing a training log: read it, run the LOG rules in force, collect findings.

This is `check_paths` for logs: the configuration is found upward from the
log (`.caffelint.yaml`, `rules:` thresholds), the rules are the catalogue's
`log` group, and each rule reads the whole TrainingLog through `check_log`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

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
    _line_index: list[tuple[list[int], list[int], Run]] = field(default_factory=list, repr=False)

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
        if not self._line_index:
            for run in self.log.runs:
                points = sorted({(line, it) for _, curve in run.curves()
                                 for line, it in zip(curve.lines, curve.iters)})
                points += [(p.line, p.iteration) for p in run.test_passes]
                points.sort()
                self._line_index.append(([p[0] for p in points], [p[1] for p in points], run))
        line = finding.span.start.line
        for lines, iters, run in self._line_index:
            if not lines or line < run.line:
                continue
            i = bisect.bisect_right(lines, line) - 1
            if i >= 0 and (run.end_line == 0 or line <= max(run.end_line, lines[-1])):
                return iters[i]
            if i < 0 and lines:
                return iters[0]
        return None


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
