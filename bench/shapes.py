"""Layer setup checks and shape inference over the corpus, measured apart from parsing.

Builds the project once (parse and bind), then times NET020-NET023 on every net
view, best of five runs in one process.  Prints the time and, for context, how
many layers and graphs that covers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from caffelint import catalogue
from caffelint.api import build_project
from caffelint.config import Options
from caffelint.engine import RuleContext, rule_options

REPO = Path(__file__).resolve().parents[1]
CODES = ("NET020", "NET021", "NET022", "NET023")


def main() -> None:
    corpus = Path(os.environ.get("CAFFELINT_SHARED", REPO.parent / "shared")) / "corpus"
    options = Options.from_kwargs(isolated=True)
    specs = [catalogue.load()[code] for code in CODES]
    best = float("inf")
    layers = graphs = 0
    for _ in range(5):
        project = build_project([str(corpus)], options)  # fresh views: no shapes cached yet
        views = [(parsed, view) for parsed in project.files if parsed.doc.error is None
                 for view in project.views(parsed)]
        layers = sum(len(view.layers) for _, view in views)
        start = time.perf_counter()
        for parsed, view in views:
            graphs += len(view.graphs())
            for spec in specs:
                ctx = RuleContext(spec, spec.severity, parsed.source, rule_options(spec, options), project)
                list(spec.checker("net")(view, ctx))
        best = min(best, time.perf_counter() - start)
    print(f"NET020-NET023 over the corpus: {len(views)} nets, {layers} layers, "
          f"best time {best * 1000:.0f} ms ({best / max(layers, 1) * 1e6:.1f} us per layer)")


if __name__ == "__main__":
    main()
