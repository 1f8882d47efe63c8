"""A run's files: what the user named, plus every net a solver leads to.

Each file is read and parsed once, however many solvers name it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from caffelint.findings import Problem
from caffelint.model.files import NET, OTHER, SOLVER, ParsedFile, load
from caffelint.model.net import NetView
from caffelint.model.solver import SolverView, net_refs, resolve_path
from caffelint.schema.descriptors import Schema
from caffelint.source import SourceFile

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox"}
SUFFIXES = (".prototxt", ".pbtxt", ".pt")


def discover(paths: list[str]) -> list[str]:
    """Files named directly, and below each folder every *.prototxt, *.pbtxt, *.pt and *solver* file."""
    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for name in sorted(files):
                    if name.endswith(SUFFIXES) or "solver" in name.lower():
                        out.append(os.path.normpath(os.path.join(folder, name)))
        else:
            out.append(path)
    return out


@dataclass(eq=False)
class Project:
    schema: Schema
    root: str | None = None
    forced_kind: str | None = None
    hint: object = None
    files: list[ParsedFile] = field(default_factory=list)
    nets: dict[ParsedFile, NetView] = field(default_factory=dict)
    solvers: dict[ParsedFile, SolverView] = field(default_factory=dict)
    inline_nets: list[NetView] = field(default_factory=list)
    extra_problems: dict[ParsedFile, list[Problem]] = field(default_factory=dict)
    data_cache: dict = field(default_factory=dict)  # scans of data sources, once per run (datasource.py)
    texts: dict[str, str] = field(default_factory=dict)  # real path -> unsaved text (fix rounds)
    _by_path: dict[str, ParsedFile] = field(default_factory=dict)

    def add(self, path: str, kind: str | None = None) -> ParsedFile:
        key = os.path.realpath(path)
        known = self._by_path.get(key)
        if known is not None:
            return known
        source = SourceFile(path, self.texts[key]) if key in self.texts else SourceFile.read(path)
        parsed = load(source, self.schema, kind or self.forced_kind, self.hint)
        self._by_path[key] = parsed
        self.files.append(parsed)
        if parsed.kind == NET and parsed.bound is not None:
            view = NetView(parsed.bound, parsed.path)
            view.file = parsed
            self.nets[parsed] = view
        elif parsed.kind == SOLVER and parsed.bound is not None:
            self.solvers[parsed] = SolverView(parsed, parsed.bound)
        return parsed

    def follow_solvers(self) -> None:
        """Resolve and load every net each solver names (inline nets become views too)."""
        for solver in list(self.solvers.values()):
            for ref in net_refs(solver.bound):
                solver.nets.append(ref)
                if ref.inline:
                    view = NetView(ref.entry.value, f"{solver.file.path}:{ref.role}")
                    view.file = solver.file
                    ref.view = view
                    self.inline_nets.append(view)
                    continue
                ref.resolved, ref.base = resolve_path(ref.written, solver.file.path, self.root)
                if ref.resolved is None:
                    item = ref.entry.item
                    self.extra_problems.setdefault(solver.file, []).append(Problem(
                        "net-file-missing", item.start, item.end,
                        f"{ref.role} {ref.written!r} not found relative to the working directory, "
                        f"the solver's folder or its parents"
                        + (f" or --root {self.root}" if self.root else "")))
                    continue
                if os.path.isdir(ref.resolved):
                    continue
                ref.file = self.add(ref.resolved, NET)
                ref.view = self.nets.get(ref.file)
            for ref in solver.nets:
                if ref.view is not None and solver not in ref.view.solvers:
                    ref.view.solvers.append(solver)

    def views(self, parsed: ParsedFile) -> list[NetView]:
        out = [self.nets[parsed]] if parsed in self.nets else []
        out += [v for v in self.inline_nets if v.file is parsed]
        return out


__all__ = ["Project", "discover", "NET", "SOLVER", "OTHER"]
