"""Report formats; each module renders findings, none prints."""

from __future__ import annotations


def render(output_format: str, report, statistics: bool = False) -> str:
    """Render a check Report in `output_format` (text, concise, json, sarif, github)."""
    sources = {f.path: f.source for f in report.files}
    if statistics:
        from caffelint.report.statistics import render as render_statistics

        return render_statistics(report.findings, output_format)
    if output_format == "json":
        from caffelint.report.json import render as render_json

        return render_json(report.findings, sources)
    if output_format == "sarif":
        from caffelint.report.sarif import render as render_sarif

        return render_sarif(report.findings, sources)
    if output_format == "github":
        from caffelint.report.github import render as render_github

        return render_github(report.findings)
    from caffelint.report import text

    if output_format == "concise":
        return "".join(text.format_finding(f, show_fix=False) + "\n" for f in report.findings)
    return text.render(report.findings) + text.summary(report.findings, len(report.files))
