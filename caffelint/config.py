"""Configuration: .caffelint.yaml files found upward from each file, under CLI options.

The nearest folder with a config wins; in one folder .caffelint.yaml (or .yml) comes before
a pyproject.toml, which counts only when it has a [tool.caffelint] table (the same keys).

A config file may hold: select, ignore, extend-select, severity (rule -> level),
per-file-ignores (glob -> rules), tier, rules (rule -> options), proto, root,
failure-threshold, require-data, unsafe-fixes, sample.  Every key, rule, option
and value is checked when the file is read; a mistake is one error naming the
file, line and column.

Command-line options override the file.  Rule selection layers as in ruff: a
`--select` on the command line replaces the file's selection (select, ignore and
extend-select), while `--ignore` and `--extend-select` add to it.
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
PYPROJECT = "pyproject.toml"
FILE_KEYS = {
    "select", "ignore", "extend-select", "severity", "per-file-ignores", "tier", "rules",
    "proto", "failure-threshold", "require-data", "sample", "root", "unsafe-fixes",
}
SELECTION = ("select", "extend_select", "ignore")
LEVELS = ("error", "warning", "info")


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
        """Rules that per-file-ignores switch off for `path` (globs relative to the config's folder)."""
        rel = os.path.relpath(os.path.abspath(path), self.base_dir or os.getcwd()).replace(os.sep, "/")
        out: list[str] = []
        for pattern, rules in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                out.extend(rules)
        return tuple(out)


def find_config(start: str) -> str | None:
    """The nearest .caffelint.yaml, or pyproject.toml with [tool.caffelint], at or above `start`
    (a file or folder)."""
    folder = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        candidate = os.path.join(folder, PYPROJECT)
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def effective(cli: Options, path: str) -> Options:
    """The options in force for `path`: its config file under the command line's options."""
    if cli.isolated:
        return cli
    config_path = cli.config or find_config(path)
    if not config_path:
        return cli
    from_file = read_config(os.path.abspath(config_path))
    merged = {k: v for k, v in from_file.items() if k not in cli.explicit and k not in SELECTION}
    merged.update(_selection(from_file, cli))
    return replace(cli, **merged)


def threshold_for(cli: Options, path: str, override: str | None = None) -> Severity:
    """The lowest severity that fails the run for findings in `path` (--failure-threshold wins)."""
    return Severity.parse(override or effective(cli, path).failure_threshold)


def _selection(from_file: dict[str, Any], cli: Options) -> dict[str, Any]:
    """Layer the command line's rule selection over the file's."""
    if cli.select is not None:
        return {}  # the command line's select, extend-select and ignore stand alone
    from caffelint import catalogue as catalogue_mod

    catalogue = catalogue_mod.load()
    added = {spec.code for sel in cli.extend_select for spec in catalogue.select(sel)}
    # A rule the command line adds back stays on, even when the file ignores its whole group.
    file_ignored = sorted({spec.code for sel in from_file.get("ignore", ()) for spec in catalogue.select(sel)}
                          - added)
    out: dict[str, Any] = {
        "extend_select": tuple(from_file.get("extend_select", ())) + cli.extend_select,
        "ignore": tuple(file_ignored) + cli.ignore,
    }
    if "select" in from_file and "tier" not in cli.explicit:
        out["select"] = from_file["select"]
    return out


# -- reading and checking one file ------------------------------------------------------


@functools.cache
def read_config(path: str) -> dict[str, Any]:
    """Parse and validate one config file into Options keyword arguments."""
    from caffelint import catalogue as catalogue_mod

    root = _parse_pyproject(path) if os.path.basename(path) == PYPROJECT else _parse_yaml(path)
    if root is None:
        return {"base_dir": os.path.dirname(path)}
    file = _ConfigFile(path, catalogue_mod.load())
    return file.options(root)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _parse_yaml(path: str):
    """The document's node tree (for positions), or None for an empty file."""
    import yaml

    text = _read_text(path)
    try:
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None


@functools.cache
def _has_table(path: str) -> bool:
    """Whether a pyproject.toml holds a [tool.caffelint] table.  One that does not parse but
    names caffelint counts: reading it then reports where it is broken."""
    from caffelint.tomlnodes import toml_module

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False
    if "caffelint" not in text:
        return False  # most pyproject.toml files: no parse needed
    toml = toml_module()
    try:
        tool = toml.loads(text).get("tool")
    except toml.TOMLDecodeError:
        return True
    return isinstance(tool, dict) and "caffelint" in tool


def _parse_pyproject(path: str):
    """The [tool.caffelint] table of a pyproject.toml as YAML nodes, each marked with the line
    and column of its key, so that the checks below report places in the TOML file."""
    from caffelint.tomlnodes import table_nodes

    text = _read_text(path)
    try:
        return table_nodes(text, ("tool", "caffelint"), path)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


class _ConfigFile:
    """One config file's YAML nodes, turned into checked values; errors point at the node."""

    def __init__(self, path: str, catalogue) -> None:
        self.path = path
        self.base_dir = os.path.dirname(path)
        self.catalogue = catalogue

    def error(self, node, message: str) -> ConfigError:
        mark = node.start_mark
        return ConfigError(f"{self.path}:{mark.line + 1}:{mark.column + 1}: {message}")

    def options(self, root) -> dict[str, Any]:
        out: dict[str, Any] = {"base_dir": self.base_dir}
        for key, value in self.mapping(root, "", "a mapping of settings"):
            name = key.value
            if name not in FILE_KEYS:
                raise self.error(key, f"unknown setting {name!r}{self.did_you_mean(name, FILE_KEYS)}")
            out.update(self.setting(name, value))
        return out

    def setting(self, name: str, node) -> dict[str, Any]:
        """The Options keyword arguments one top-level setting gives."""
        attribute = name.replace("-", "_")
        if name in ("select", "ignore", "extend-select"):
            return {attribute: self.selectors(node, name)}
        if name in ("require-data", "unsafe-fixes"):
            return {attribute: self.typed(node, name, "bool")}
        if name in ("proto", "root"):
            return {attribute: self.path_setting(node, name)}
        readers = {"severity": self.severities, "per-file-ignores": self.per_file_ignores,
                   "rules": self.rule_options, "tier": self.tier, "failure-threshold": self.threshold,
                   "sample": self.sample}
        return {"rule_options" if name == "rules" else attribute: readers[name](node, name)}

    def severities(self, node, name: str) -> tuple[tuple[str, str], ...]:
        out = []
        for key, value in self.mapping(node, name, "a mapping rule -> error|warning|info", allow_null=True):
            self.rule(key, name)
            out.append((key.value, self.choice(value, f"{name}.{key.value}", LEVELS)))
        return tuple(out)

    def per_file_ignores(self, node, name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        pairs = self.mapping(node, name, "a mapping glob -> rules", allow_null=True)
        return tuple((str(key.value), self.selectors(value, f"{name}.{key.value}")) for key, value in pairs)

    def rule_options(self, node, name: str) -> tuple:
        pairs = self.mapping(node, name, "a mapping rule -> options", allow_null=True)
        return tuple(self.rule_settings(key, value) for key, value in pairs)

    def tier(self, node, name: str) -> str:
        from caffelint.catalogue import TIERS

        return self.choice(node, name, TIERS)

    def threshold(self, node, name: str) -> str:
        return self.choice(node, name, LEVELS)

    def sample(self, node, name: str) -> int:
        value = self.typed(node, name, "int")
        if value < 1:
            raise self.error(node, f"{name}: expected a number of records of at least 1, got {value}")
        return value

    def rule_settings(self, key, node) -> tuple[str, tuple[tuple[str, Any], ...]]:
        spec = self.rule(key, "rules")
        values = []
        for opt_key, opt_value in self.mapping(node, f"rules.{key.value}", "a mapping option -> value",
                                               allow_null=True):
            option = spec.options.get(opt_key.value)
            if option is None:
                known = ", ".join(spec.options) or "none"
                raise self.error(opt_key, f"rules.{key.value}: unknown option {opt_key.value!r} for "
                                 f"{spec.code} {spec.name} (known: {known})"
                                 f"{self.did_you_mean(opt_key.value, spec.options)}")
            where = f"rules.{key.value}.{opt_key.value}"
            values.append((opt_key.value, self.typed(opt_value, where, option.get("type", "any"))))
        return key.value, tuple(sorted(values))

    # -- value checkers --------------------------------------------------------------

    def mapping(self, node, where: str, expected: str, allow_null: bool = False):
        """(key node, value node) pairs of a mapping node; keys are unique scalars."""
        import yaml

        if allow_null and isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        prefix = f"{where}: " if where else ""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{prefix}expected {expected}")
        seen: dict[str, Any] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(key, f"{prefix}expected {expected}")
            if key.value in seen:
                first = seen[key.value].start_mark
                raise self.error(key, f"{prefix}{key.value!r} is set twice (first on line {first.line + 1})")
            seen[key.value] = key
        return node.value

    def selectors(self, node, where: str) -> tuple[str, ...]:
        """A list (or comma-separated string) of rule codes, names, prefixes or ALL, each checked."""
        import yaml

        if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
            items = [(node, v.strip()) for v in str(node.value).split(",") if v.strip()]
        elif isinstance(node, yaml.SequenceNode) and all(isinstance(i, yaml.ScalarNode) for i in node.value):
            items = [(i, str(i.value).strip()) for i in node.value]
        else:
            raise self.error(node, f"{where}: expected a list of rule codes or names")
        for item, selector in items:
            # A code, a name, a code prefix (NET, NET0) or ALL, as Catalogue.select accepts.
            prefix = selector.upper()
            if prefix != "ALL" and self.catalogue.get(selector) is None \
                    and not any(spec.code.startswith(prefix) for spec in self.catalogue):
                raise self.error(item, f"{where}: {self.unknown_rule(selector)}")
        return tuple(selector for _, selector in items)

    def rule(self, node, where: str):
        spec = self.catalogue.get(str(node.value))
        if spec is None:
            raise self.error(node, f"{where}: {self.unknown_rule(str(node.value))}")
        return spec

    def unknown_rule(self, word: str) -> str:
        names = [spec.name for spec in self.catalogue] + [spec.code for spec in self.catalogue]
        return f"unknown rule {word!r}{self.did_you_mean(word, names)}"

    def choice(self, node, where: str, allowed: tuple[str, ...]) -> str:
        value = self.typed(node, where, "str")
        if value not in allowed:
            raise self.error(node, f"{where}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def typed(self, node, where: str, kind: str) -> Any:
        """The node's value, checked against an option type: float, int, bool, str, list or any."""
        value = _construct(node)
        ok = {
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
            "list": isinstance(value, list),
        }.get(kind, True)
        if not ok:
            article = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
                       "list": "a list"}[kind]
            raise self.error(node, f"{where}: expected {article}, got {value!r}")
        if kind == "float":
            return float(value)
        if kind == "list":
            return tuple(value)
        return value

    def path_setting(self, node, name: str) -> str:
        value = self.typed(node, name, "str")
        path = value if os.path.isabs(value) else os.path.join(self.base_dir, value)
        exists = os.path.isdir(path) if name == "root" else os.path.isfile(path)
        if not exists:
            what = "folder" if name == "root" else "file"
            raise self.error(node, f"{name}: {what} {value!r} not found (relative to {self.base_dir})")
        return path

    @staticmethod
    def did_you_mean(word: str, candidates) -> str:
        from caffelint.schema.suggest import close_matches

        close = close_matches(word, list(candidates), limit=1)
        return f"; did you mean {close[0]!r}?" if close else ""


def _construct(node) -> Any:
    """The Python value of one YAML node (safe types only)."""
    import yaml

    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
