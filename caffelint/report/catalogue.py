"""The catalogue as text: `caffelint rules`, `caffelint explain`, docs/rules.md."""

from __future__ import annotations

import json
import sys

from caffelint import catalogue as catalogue_mod
from caffelint.catalogue import RuleSpec


def render_rules(output_format: str = "text") -> str:
    specs = list(catalogue_mod.load())
    if output_format == "json":
        return json.dumps([_spec_dict(s) for s in specs], indent=2) + "\n"
    width = max(len(s.name) for s in specs)
    lines = [f"{s.code}  {s.name:<{width}}  {str(s.severity):<7}  {s.tier:<11}  fix:{s.fix:<6}  {s.summary}"
             for s in specs]
    return "\n".join(lines) + "\n"


def _spec_dict(s: RuleSpec) -> dict:
    return {
        "code": s.code, "name": s.name, "group": s.group, "severity": str(s.severity), "tier": s.tier,
        "fix": s.fix, "summary": s.summary, "rationale": s.rationale,
        "options": s.options, "aliases": list(s.aliases),
    }


def _example(spec: RuleSpec) -> tuple[dict | None, dict | None]:
    bad = next((c for c in spec.cases if "fail" in c), None)
    good = next((c for c in spec.cases if "pass" in c), None)
    return bad, good


def _fix_example(spec: RuleSpec) -> tuple[str, str, str] | None:
    """(text before, text after, how) for the rule's first case that shows a fix."""
    for case in spec.cases:
        if "fail" in case and "fix" in case:
            if spec.group == "log":
                return case.get("solver", ""), case["fix"], \
                    "the solver after `caffelint fix solver.prototxt --from-log train.log --unsafe-fixes`"
            return case["fail"], case["fix"], "after `caffelint fix`"
    return None


def render_explain(key: str) -> str | None:
    spec = catalogue_mod.load().get(key)
    if spec is None:
        return None
    out = [f"{spec.code} {spec.name} [{spec.severity}, tier {spec.tier}, fix: {spec.fix}]", "",
           spec.summary, "", spec.rationale, ""]
    if spec.options:
        out.append("Options:")
        for name, opt in spec.options.items():
            out.append(f"  {name} ({opt.get('type', 'any')}, default {opt.get('default')!r}): "
                       f"{opt.get('help', '')} {('[' + opt['source'] + ']') if opt.get('source') else ''}".rstrip())
        out.append("")
    bad, good = _example(spec)
    if bad:
        out += ["Example of the problem" + (" (a training log)" if spec.group == "log" else "") + ":",
                "", _indent(bad["fail"])]
    fixed = _fix_example(spec)
    if fixed:
        before, after, how = fixed
        if spec.group == "log" or before != (bad or {}).get("fail"):
            out += ["Before the fix:", "", _indent(before)]
        out += [how[0].upper() + how[1:] + ":", "", _indent(after)]
    if good:
        out += ["Fine:", "", _indent(good["pass"])]
    return "\n".join(out).rstrip() + "\n"


def _indent(text: str) -> str:
    return "".join("    " + line + "\n" if line.strip() else "\n" for line in text.splitlines())


def render_docs() -> str:
    """docs/rules.md, generated from the catalogue (a test keeps it fresh)."""
    specs = list(catalogue_mod.load())
    out = ["# caffelint rules", "",
           "Generated from `rules/*.yaml` by `make docs`; do not edit by hand.", "",
           "| code | name | severity | tier | fix | summary |", "|---|---|---|---|---|---|"]
    for s in specs:
        out.append(f"| {s.code} | [{s.name}](#{s.code.lower()}-{s.name}) | {s.severity} | {s.tier} | "
                   f"{s.fix} | {s.summary} |")
    out.append("")
    for s in specs:
        out += [f"## {s.code} {s.name}", "",
                f"Severity **{s.severity}**, tier **{s.tier}**, fix **{s.fix}**.", "", s.summary, "",
                s.rationale, ""]
        if s.options:
            out += ["| option | type | default | source |", "|---|---|---|---|"]
            for name, opt in s.options.items():
                out.append(f"| `{name}` | {opt.get('type', '')} | `{opt.get('default')!r}` | {opt.get('source', '')} |")
            out.append("")
        bad, good = _example(s)
        if bad:
            out += ["Problem" + (" (a training log)" if s.group == "log" else "") + ":", "", "```",
                    bad["fail"].rstrip("\n"), "```", ""]
        fixed = _fix_example(s)
        if fixed:
            before, after, how = fixed
            if s.group == "log" or before != (bad or {}).get("fail"):
                out += ["Before the fix:", "", "```", before.rstrip("\n"), "```", ""]
            out += [how[0].upper() + how[1:] + ":", "", "```", after.rstrip("\n"), "```", ""]
        if good:
            out += ["Fine:", "", "```", good["pass"].rstrip("\n"), "```", ""]
    return "\n".join(out)


def render_index() -> str:
    """rules/index.json: what a check needs from the catalogue, without parsing YAML."""
    return json.dumps(catalogue_mod.build_index(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    # python -m caffelint.report.catalogue --write docs/rules.md --index rules/index.json
    args = sys.argv[1:]
    outputs = {"--write": render_docs, "--index": render_index}
    if not args:
        sys.stdout.write(render_docs())
    for flag, target in zip(args[::2], args[1::2]):
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(outputs[flag]())
