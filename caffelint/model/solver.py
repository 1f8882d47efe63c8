"""The solver model: a bound SolverParameter and the nets it names.

Caffe opens `net`, `train_net` and `test_net` paths relative to the working
directory of `caffe train`, which is usually the repository root, not the
solver's folder.  We try the current directory, the solver's folder and each
parent up to the repository root, then `--root`; the base that matched is kept
so messages can say how a path was resolved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from caffelint.model.files import ParsedFile
from caffelint.model.net import TEST, TRAIN, NetState, NetView
from caffelint.schema.bound import Bound, Entry
from caffelint.source import repository_root

NET_PATH_FIELDS = ("net", "train_net", "test_net")


def candidate_bases(solver_path: str, root: str | None = None) -> list[str]:
    """Folders a relative net path may be relative to, most likely first."""
    bases = [os.getcwd()]
    folder = os.path.dirname(os.path.abspath(solver_path))
    top = repository_root(folder)
    while True:
        bases.append(folder)
        parent = os.path.dirname(folder)
        if folder == top or parent == folder:
            break
        folder = parent
    if root:
        bases.append(os.path.abspath(root))
    seen: list[str] = []
    for base in bases:
        if base not in seen:
            seen.append(base)
    return seen


def display_path(path: str) -> str:
    """`path` relative to the working directory when it lies below it, else absolute."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def resolve_path(written: str, solver_path: str, root: str | None = None) -> tuple[str | None, str | None]:
    """(resolved path, base folder used) or (None, None) when no base holds the file."""
    if os.path.isabs(written):
        return (written, None) if os.path.exists(written) else (None, None)
    for base in candidate_bases(solver_path, root):
        candidate = os.path.normpath(os.path.join(base, written))
        if os.path.exists(candidate):
            return display_path(candidate), base
    return None, None


@dataclass(eq=False)
class NetRef:
    """One net a solver uses: where it is named, where it resolved, and its role."""

    role: str  # "net", "train_net", "test_net", "net_param", "train_net_param", "test_net_param"
    entry: Entry
    index: int = 0  # position among test nets
    written: str = ""
    resolved: str | None = None
    base: str | None = None
    file: ParsedFile | None = None
    view: NetView | None = None

    @property
    def inline(self) -> bool:
        return self.role.endswith("_param")


@dataclass(eq=False)
class SolverView:
    file: ParsedFile
    bound: Bound
    nets: list[NetRef] = field(default_factory=list)

    @property
    def type(self) -> str:
        """The solver type, honouring the deprecated solver_type enum."""
        if self.bound.has("type") or not self.bound.has("solver_type"):
            return self.bound.get("type")
        names = {"SGD": "SGD", "NESTEROV": "Nesterov", "ADAGRAD": "AdaGrad",
                 "RMSPROP": "RMSProp", "ADADELTA": "AdaDelta", "ADAM": "Adam"}
        return names.get(self.bound.get("solver_type"), "SGD")

    @property
    def train_net(self) -> NetRef | None:
        for ref in self.nets:
            if ref.role in ("net", "net_param", "train_net", "train_net_param"):
                return ref
        return None

    @property
    def test_nets(self) -> list[tuple[NetRef, NetState]]:
        """Caffe's test nets in order (InitTestNets): explicit test_net(s), then generic copies of `net`."""
        out: list[tuple[NetRef, NetState]] = []
        explicit = [r for r in self.nets if r.role in ("test_net", "test_net_param")]
        generic = self.train_net if self.train_net and self.train_net.role in ("net", "net_param") else None
        total = len(explicit)
        if generic is not None:
            total = max(len(self.bound.all("test_iter")), len(explicit))
        states = self.bound.all("test_state")
        refs = explicit + [generic] * (total - len(explicit)) if generic else explicit
        for i, ref in enumerate(refs):
            base = ref.view.base_state(TEST) if ref.view else NetState(TEST)
            state = base
            if i < len(states):
                st = states[i]
                state = NetState(TEST, st.get("level") if st.has("level") else base.level,
                                 base.stages + tuple(st.all("stage")))
            out.append((ref, state))
        return out

    @property
    def train_state(self) -> NetState:
        ref = self.train_net
        base = ref.view.base_state(TRAIN) if ref and ref.view else NetState(TRAIN)
        st = self.bound.msg("train_state")
        if st is None:
            return base
        return NetState(TRAIN, st.get("level") if st.has("level") else base.level,
                        base.stages + tuple(st.all("stage")))


def net_refs(bound: Bound) -> list[NetRef]:
    """Every net the solver names or holds inline, in Caffe's order of use."""
    refs: list[NetRef] = []
    for role in ("net", "net_param", "train_net", "train_net_param"):
        for entry in bound.entries_of(role):
            refs.append(NetRef(role, entry, written=entry.value if isinstance(entry.value, str) else ""))
    for role in ("test_net", "test_net_param"):
        for i, entry in enumerate(bound.entries_of(role)):
            refs.append(NetRef(role, entry, index=i,
                               written=entry.value if isinstance(entry.value, str) else ""))
    return refs
