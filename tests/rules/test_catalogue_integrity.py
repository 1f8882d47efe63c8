"""The catalogue is consistent: codes, names, modules, examples and generated docs agree."""

from __future__ import annotations

import importlib
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from caffelint import catalogue
from caffelint.catalogue import CODE_RE, FIX_KINDS, GROUPS, NAME_RE, TIERS, VIEWS

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = catalogue.load()
SPECS = [pytest.param(s, id=s.code) for s in CATALOGUE]


def test_catalogue_is_not_empty_and_files_match_codes():
    files = sorted(p.stem for p in (REPO / "rules").glob("*.yaml"))
    assert files == [s.code for s in CATALOGUE]


def test_codes_and_names_unique():
    assert not [c for c, n in Counter(s.code for s in CATALOGUE).items() if n > 1]
    assert not [c for c, n in Counter(s.name for s in CATALOGUE).items() if n > 1]


@pytest.mark.parametrize("spec", SPECS)
def test_entry_fields(spec):
    assert CODE_RE.match(spec.code), spec.code
    assert NAME_RE.match(spec.name), spec.name
    assert spec.group in GROUPS
    assert spec.tier in TIERS
    assert spec.fix in FIX_KINDS
    assert spec.summary and not spec.summary.endswith(".")
    assert spec.rationale, "every rule explains why training suffers"
    for name, option in spec.options.items():
        assert "default" in option, f"option {name} has no default"
        assert option.get("source") or option.get("help"), f"option {name} says nothing of its origin"


@pytest.mark.parametrize("spec", SPECS)
def test_module_matches_entry(spec):
    if spec.reported_by:
        assert spec.reported_by in {"parser", "binder", "loader", "project", "engine"}
        return
    module = importlib.import_module(spec.module_name)
    checkers = [v for v in VIEWS if callable(getattr(module, f"check_{v}", None))]
    assert checkers, f"{spec.module_name} defines no check_<view> function"
    assert spec.code in (module.__doc__ or ""), "the module docstring names its rule"


@pytest.mark.parametrize("spec", SPECS)
def test_cases_cover_pass_fail_and_fix(spec):
    if spec.name == "internal-error":
        return  # a crash cannot be written as an example
    kinds = Counter("pass" if "pass" in c else "fail" for c in spec.cases)
    assert kinds["pass"] >= 1 and kinds["fail"] >= 1, f"{spec.code} needs a pass and a fail case"
    has_fix_case = any("fix" in c for c in spec.cases)
    assert has_fix_case == (spec.fix != "none"), "fix kind none exactly when no case shows a fix"


def test_every_rule_module_has_an_entry():
    names = {s.module_name for s in CATALOGUE}
    package = resources.files("caffelint.rules")
    for group in GROUPS:
        for item in package.joinpath(group).iterdir():
            if item.name.endswith(".py") and item.name != "__init__.py":
                module = f"caffelint.rules.{group}.{item.name[:-3]}"
                assert module in names, f"{module} has no catalogue entry"


def test_index_is_generated_from_the_catalogue():
    from caffelint.report.catalogue import render_index

    index = REPO / "rules" / "index.json"
    assert index.read_text(encoding="utf-8") == render_index(), "rules/index.json is stale: run `make docs`"


def test_the_index_and_the_entries_give_the_same_rules():
    from caffelint.catalogue import _entry_files, _full_entry, _spec_from_entry

    from_yaml = [_spec_from_entry(_full_entry(p.name), p.name) for p in _entry_files()]
    assert list(CATALOGUE) == sorted(from_yaml, key=lambda s: s.code)
    # options keep the order they are written in (docs and explain list them that way)
    assert [list(s.options) for s in CATALOGUE] == [list(s.options) for s in sorted(from_yaml, key=lambda s: s.code)]


def test_docs_are_generated_from_the_catalogue():
    from caffelint.report.catalogue import render_docs

    docs = REPO / "docs" / "rules.md"
    assert docs.read_text(encoding="utf-8") == render_docs(), "docs/rules.md is stale: run `make docs`"
