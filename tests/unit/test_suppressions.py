"""`# caffelint:` directives on real files: which findings each one hides, and PRS008 for the ones
that hide nothing (with fixes that remove exactly the unused part)."""

from __future__ import annotations

import pytest

from caffelint.api import check_paths
from caffelint.config import Options


@pytest.fixture
def lint(tmp_path, monkeypatch):
    """Check `text` as `name` with the given rules plus PRS008; return (code, line) pairs and findings."""
    monkeypatch.chdir(tmp_path)

    def run(text: str, *rules: str, name: str = "solver.prototxt", **options):
        (tmp_path / name).write_bytes(text.encode("utf-8"))
        report = check_paths([name], Options.from_kwargs(select=(*rules, "PRS008"), isolated=True, **options))
        return sorted((f.code, f.span.start.line) for f in report.findings), report.findings

    return run


def fixed(text: str, findings) -> str:
    for edit in sorted((e for f in findings if f.fix for e in f.fix.edits), key=lambda e: -e.start):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


DEBUG = 'net: "n.prototxt"\ndebug_info: true{}\ndisplay: 0{}\n'  # SLV010 on line 2, SLV023 on line 3


def test_a_trailing_directive_covers_its_line_only(lint):
    found, _ = lint(DEBUG.format("  # caffelint: disable=SLV010,SLV023", ""), "SLV010", "SLV023")
    assert found == [("PRS008", 2), ("SLV023", 3)]  # SLV023 is on line 3: unused on line 2


def test_rules_are_named_by_code_or_name_and_all_covers_every_rule(lint):
    assert lint(DEBUG.format("  # caffelint: disable=debug-info-enabled", "  # caffelint: disable=all"),
                "SLV010", "SLV023")[0] == []


def test_an_own_line_directive_covers_the_next_field(lint):
    text = 'net: "n.prototxt"\n# caffelint: disable=SLV010\n\n# a comment between\ndebug_info: true\ndisplay: 0\n'
    assert lint(text, "SLV010", "SLV023")[0] == [("SLV023", 6)]


def test_an_own_line_directive_covers_a_whole_block(lint):
    net = 'name: "n"\n# caffelint: disable=unknown-field\nlayer {\n  name: "a"\n  nmae: "b"\n}\n' \
          'layer {\n  name: "c"\n  tpye: "d"\n}\n'
    assert lint(net, "PRS002", name="net.prototxt")[0] == [("PRS002", 9)]


def test_a_range_ends_at_its_enable(lint):
    text = ('# caffelint: disable=SLV010, display-missing\nnet: "n.prototxt"\ndebug_info: true\n'
            '# caffelint: enable=all\ndisplay: 0\n')
    found, findings = lint(text, "SLV010", "SLV023")
    assert found == [("PRS008", 1), ("SLV023", 5)]
    assert findings[0].message == "unused suppression: no display-missing finding before its enable"


def test_disable_file_covers_everything_and_directives_in_strings_are_not_read(lint):
    text = 'net: "n.prototxt # caffelint: disable-file=all"\ndebug_info: true\n# caffelint: disable-file=SLV023\n' \
           'display: 0\n'
    assert lint(text, "SLV010", "SLV023")[0] == [("SLV010", 2)]


def test_no_suppressions_ignores_every_directive(lint):
    text = DEBUG.format("  # caffelint: disable=SLV010", "  # caffelint: disable=nonsense")
    assert lint(text, "SLV010", "SLV023", no_suppressions=True)[0] == [("SLV010", 2), ("SLV023", 3)]


def test_an_unused_trailing_directive_is_removed_with_its_spaces(lint):
    text = DEBUG.format("", "  # caffelint: disable=SLV010")
    found, findings = lint(text, "SLV010", "SLV023")
    assert ("PRS008", 3) in found
    prs = [f for f in findings if f.code == "PRS008"]
    assert prs[0].message == "unused suppression: no SLV010 finding on this line"
    assert fixed(text, prs) == DEBUG.format("", "")


def test_removing_a_directive_with_a_reason_is_unsafe(lint):
    _, findings = lint(DEBUG.format("", "  # caffelint: disable=SLV010 (kept while debugging)"), "SLV010", "SLV023")
    assert [f.fix.applicability for f in findings if f.code == "PRS008"] == ["unsafe"]


def test_an_unused_own_line_directive_is_removed_with_its_line(lint):
    text = 'net: "n.prototxt"\r\n# caffelint: disable=SLV010\r\ndisplay: 0\r\n'
    _, findings = lint(text, "SLV010")
    assert fixed(text, findings) == 'net: "n.prototxt"\r\ndisplay: 0\r\n'


def test_only_the_unused_rules_are_removed_from_a_list(lint):
    text = DEBUG.format("  # caffelint: disable=SLV023, SLV010, NOPE  (debugging)", "")
    found, findings = lint(text, "SLV010", "SLV023")
    assert found == [("PRS008", 2), ("SLV023", 3)]
    assert findings[0].message == "unused suppression: no SLV023 finding on this line; 'NOPE' is not a rule"
    assert fixed(text, findings[:1]) == DEBUG.format("  # caffelint: disable=SLV010  (debugging)", "")


def test_suppressions_of_rules_that_did_not_run_are_not_judged(lint):
    text = DEBUG.format("  # caffelint: disable=SLV010", "  # caffelint: disable=NET001")
    assert lint(text, "SLV023")[0] == [("SLV023", 3)]


def test_enable_without_disable_and_bad_directives(lint):
    text = 'net: "n.prototxt"  # caffelint: enable=SLV010\ndisplay: 5  # caffelint: ignore SLV023\n'
    found, findings = lint(text, "SLV010")
    assert found == [("PRS008", 1), ("PRS008", 2)]
    assert "nothing disables SLV010 before it" in findings[0].message
    assert "not a caffelint directive" in findings[1].message and findings[1].fix is None


def test_unused_suppression_findings_can_be_suppressed_too(lint):
    text = '# caffelint: disable-file=unused-suppression\nnet: "n.prototxt"  # caffelint: disable=SLV010\n'
    assert lint(text, "SLV010")[0] == []
    assert lint('# caffelint: disable-file=PRS008\nnet: "n.prototxt"\n', "SLV010")[0] == [("PRS008", 1)]


def test_a_file_with_a_syntax_error_keeps_its_directives_unjudged(lint):
    text = 'net: "n.prototxt"  # caffelint: disable=SLV010\nbase_lr: {\n'
    assert lint(text, "SLV010", "PRS001")[0] == [("PRS001", 3)]
