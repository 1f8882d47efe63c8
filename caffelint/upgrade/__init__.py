"""Deprecated Caffe syntax, upgraded in place.

Caffe upgrades old files every time it reads them (UpgradeNetAsNeeded and
UpgradeSolverAsNeeded in BVLC/caffe:src/caffe/util/upgrade_proto.cpp):
V0 layers to V1, old data-transformation fields to `transform_param`, V1
`layers` to `layer`, net-level `input` fields to an Input layer, and the
solver's `solver_type` enum to `type` (BatchNorm `param` blocks, which Caffe
also rewrites, are batchnorm-learnable-stats' business).
This package does the same as text edits, so comments and the file's own
layout survive.  `plan_net` and `plan_solver` say what is deprecated and how
to fix it; the rule deprecated-syntax (UPG001) reports their answer.
"""

from caffelint.upgrade.plan import Deprecation, plan_net, plan_solver

__all__ = ["Deprecation", "plan_net", "plan_solver"]
