"""Inline suppressions: `# caffelint: disable=...` comments."""

from __future__ import annotations


def apply_suppressions(findings, parsed, stamper):
    return findings
