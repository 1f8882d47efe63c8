"""caffelint: lint and fix Caffe solver and net prototxt files, their data and their logs.

The public API is small:

    >>> import caffelint
    >>> doc = caffelint.parse('layer { name: "a" }\n')
    >>> str(doc)
    'layer { name: "a" }\n'
    >>> findings = caffelint.check(["solver.prototxt"])   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from caffelint.findings import Finding
    from caffelint.syntax.cst import Document

__all__ = ["__version__", "check", "parse"]


def parse(text: str) -> Document:
    """Parse text-format `text` into a lossless syntax tree: `str(parse(t)) == t`."""
    from caffelint.syntax.parser import parse as parse_text

    return parse_text(text)


def check(paths: list[str], **options: Any) -> list[Finding]:
    """Lint files or directories; options are those of `caffelint check` (snake_case)."""
    from caffelint.api import check_paths
    from caffelint.config import Options

    return check_paths([str(p) for p in paths], Options.from_kwargs(**options)).findings
