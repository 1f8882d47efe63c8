"""Configuration: .caffelint.yaml files found upward from each file, under CLI options.

A config file may hold: select, ignore, extend-select, severity (rule -> level),
per-file-ignores (glob -> rules), tier, rules (rule -> options), proto,
failure-threshold, require-data, sample.  Unknown keys, rules and options are
errors naming the file and line.  Command-line options override the file.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from caffelint.errors import ConfigError
from caffelint.findings import Severity

CONFIG_NAMES = (".caffelint.yaml", ".caffelint.yml")
FILE_KEYS = {
    "select", "ignore", "extend-select", "severity", "per-file-ignores", "tier", "rules",
    "proto", "failure-threshold", "require-data", "sample", "root", "unsafe-fixes",
}


@dataclass(frozen=True)
class Options:
    """Everything that shapes a run; CLI flags and config files both land here."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    tier: str = "recommended"
    rule_options: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    failure_threshold: str = "error"
    exit_zero: bool = False
    no_suppressions: bool = False
    kind: str | None = None
    root: str | None = None
    proto: str | None = None
    no_data: bool = False
    require_data: bool = False
    sample: int | None = None
    config: str | None = None
    isolated: bool = False
    unsafe_fixes: bool = False
    base_dir: str = ""
    explicit: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Options:
        known = {f.name for f in fields(cls)}
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        for key in ("select", "extend_select", "ignore"):
            if isinstance(kwargs.get(key), list):
                kwargs[key] = tuple(kwargs[key])
        explicit = frozenset(k for k, v in kwargs.items() if v not in (None, (), False))
        return cls(**kwargs, explicit=explicit)

    def options_for(self, rule: str) -> dict[str, Any]:
        for name, values in self.rule_options:
            if name == rule:
                return dict(values)
        return {}

    def ignored_for(self, path: str) -> tuple[str, ...]:
        """Rules that per-file-ignores switch off for `path`."""
        rel = os.path.relpath(os.path.abspath(path), self.base_dir or os.getcwd())
        out: list[str] = []
        for pattern, rules in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                out.extend(rules)
        return tuple(out)


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: expected a list of rule codes or names")


def find_config(start: str) -> str | None:
    """The nearest .caffelint.yaml at or above `start` (a file or folder)."""
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


@functools.cache
def read_config(path: str) -> dict[str, Any]:
    """Parse and validate one config file into Options keyword arguments."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: expected a mapping of settings")
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(FILE_KEYS))})")
    out: dict[str, Any] = {"base_dir": os.path.dirname(os.path.abspath(path))}
    for key in ("select", "ignore", "extend-select"):
        if key in data:
            out[key.replace("-", "_")] = _as_tuple(data[key], f"{path}: {key}")
    if "severity" in data:
        if not isinstance(data["severity"], dict):
            raise ConfigError(f"{path}: severity: expected a mapping rule -> error|warning|info")
        for rule, level in data["severity"].items():
            try:
                Severity.parse(str(level))
            except ValueError as exc:
                raise ConfigError(f"{path}: severity.{rule}: {exc}") from None
        out["severity"] = tuple((str(k), str(v)) for k, v in data["severity"].items())
    if "per-file-ignores" in data:
        pfi = data["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{path}: per-file-ignores: expected a mapping glob -> rules")
        out["per_file_ignores"] = tuple((str(g), _as_tuple(r, f"{path}: per-file-ignores.{g}"))
                                        for g, r in pfi.items())
    if "tier" in data:
        out["tier"] = str(data["tier"])
    if "rules" in data:
        if not isinstance(data["rules"], dict):
            raise ConfigError(f"{path}: rules: expected a mapping rule -> options")
        out["rule_options"] = tuple((str(k), tuple(sorted((v or {}).items())))
                                    for k, v in data["rules"].items())
    for key in ("proto", "root"):
        if key in data:
            value = str(data[key])
            out[key] = value if os.path.isabs(value) else os.path.join(out["base_dir"], value)
    if "failure-threshold" in data:
        out["failure_threshold"] = str(data["failure-threshold"])
    for key in ("require-data", "unsafe-fixes"):
        if key in data:
            out[key.replace("-", "_")] = bool(data[key])
    if "sample" in data:
        out["sample"] = int(data["sample"])
    return out


def effective(cli: Options, path: str) -> Options:
    """The options in force for `path`: its config file under the command line's options."""
    if cli.isolated:
        return cli
    config_path = cli.config or find_config(path)
    if not config_path:
        return cli
    from_file = read_config(os.path.abspath(config_path))
    merged = {k: v for k, v in from_file.items() if k not in cli.explicit}
    return replace(cli, **merged)
