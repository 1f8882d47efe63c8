"""Reading a training log: a small state machine over its lines.

Runs: a new run starts at `Initializing solver from parameters:` (every
`caffe train` prints it), at `Solving <net>` when the current run already
trained (logs cut before the solver echo), and when the iteration goes
backwards (runs appended without a header).  Multi-GPU builds print `Solving`
once per device before any iteration; those stay one run.
"""

from __future__ import annotations

import os

from caffelint.errors import InputError
from caffelint.model import log_lines as g
from caffelint.model.log import TEST, TRAIN, Curve, Event, Run, TestPass, TrainingLog
from caffelint.model.log_net import LoggedLayer, NetEcho, NetSetup
from caffelint.source import decode

NAN = float("nan")


class LogReader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp = g.Stamp()
        self.log = TrainingLog(path, [])
        self.run = self._new_run(1)
        self.line_no = 0
        self._time: tuple[str, str, str, str] | None = None  # the current line's glog date and time
        self._secs_line, self._secs = -1, NAN
        self.severity = ""
        self.thread = ""
        self.echo: str = ""  # "solver" or "net" while reading an echoed parameter message
        self.solver_depth = 0
        self.net_echo: NetEcho | None = None
        self.pending_role: tuple[str, int] | None = None
        self.net: NetSetup | None = None
        self.layer: LoggedLayer | None = None
        self.display_iteration = 0
        self.open_pass: TestPass | None = None
        self.factory_types: dict[str, str] = {}

    # -- driving
    def read(self) -> TrainingLog:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below; bytes keep line numbers exact
        except IsADirectoryError:
            raise InputError(f"{self.path}: is a directory") from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        with handle:
            if os.fstat(handle.fileno()).st_size == 0:
                raise InputError(f"{self.path}: the log is empty")
            for raw in handle:
                self.line_no += 1
                self.feed(decode(raw).rstrip("\r\n"))
        self._close_run(self.line_no)
        self.log.line_count = self.line_no
        self.log.runs = [run for run in self.log.runs if run.has_data or run.fatal or run.solver or run.nets]
        for i, run in enumerate(self.log.runs):
            run.index = i
        return self.log

    def feed(self, line: str) -> None:
        match = g.GLOG_PREFIX.match(line) if line[:1] in "IWEF" else None
        if match is None:
            if self.echo:
                if self._feed_echo(line):
                    return
                self._end_echo()
            self._time, self.severity, self.thread = None, "", ""
            if "\x1b" in line:
                line = g.ANSI_ESCAPE.sub("", line)
            if line.startswith("Log file created at:"):
                self._log_created(line)
            elif line.startswith("*** ") and ("Aborted at" in line or "SIG" in line):
                self._end("signal")
            else:
                self.message(line)
            return
        if self.echo:
            self._end_echo()
        self.severity, date, hours, minutes, secs, self.thread = match.groups()
        if len(date) == 8:
            self.log.year_known = True
        self._time = (date, hours, minutes, secs)
        message = line[match.end():]
        if "\x1b" in message:
            message = g.ANSI_ESCAPE.sub("", message)
        if self.severity == "F":
            self._fatal(message)
            return
        self.message(message)

    @property
    def secs(self) -> float:
        """The current line's time, computed only for lines that are kept (once per line)."""
        if self._secs_line != self.line_no:
            self._secs_line = self.line_no
            self._secs = self.stamp.seconds(*self._time) if self._time is not None else NAN
        return self._secs

    # -- messages
    def message(self, message: str) -> None:  # noqa: C901 - one dispatch table, by first letter
        body = message.lstrip()
        if not body:
            return
        head = body[0]
        if head == "I" and body.startswith("Iteration "):
            self._iteration(body)
        elif head == "T":
            if body.startswith(("Train net output", "Test net output")):
                self._output(body)
            elif body.startswith(("Top shape", "TRAIN Top shape", "TEST Top shape")):
                self._top_shape(body)
            elif body.startswith("This network produces output ") and self.net is not None:
                self.net.outputs.append(body[len("This network produces output "):].strip())
        elif head == "[":
            self._debug(body)
        elif head == "R":
            if body.startswith("Restarting data pre"):
                self._restart()
            elif body.startswith("Resuming from "):
                self.run.resumed_from = body[len("Resuming from "):].strip()
        elif head == "G" and body.startswith("Gradient clipping"):
            self._clipping(body)
        elif head == "C":
            self._creating(body)
        elif head == "S":
            if body.startswith("Solving"):
                self._solving(body)
            elif body.startswith("Setting up ") and self.net is not None:
                self.layer = self.net.layers.get(body[len("Setting up "):].strip(), self.layer)
        elif head == "I" and body.startswith("Initializing solver from parameters"):
            self._start_solver_echo()
        elif head == "I" and body.startswith("Initializing net from parameters"):
            self._start_net_echo()
        elif head == "L" and body.startswith("Learning Rate Policy:"):
            self.run.lr_policy = body.split(":", 1)[1].strip()
        elif head == "O":
            if body.startswith("Optimization Done"):
                self._end("done")
            elif body.startswith("Optimization stopped early"):
                self._end("stopped")
        elif head == "M" and body.startswith("MultiStep Status"):
            found = g.MULTISTEP.match(body)
            if found:
                self.run.multistep.append(Event(self.line_no, int(found.group(1)), found.group(2)))
        elif head == "w" and body.startswith("with loss weight "):
            self._loss_weight(body)
        elif " <- " in body or " -> " in body:
            self._link(body)

    def _iteration(self, body: str) -> None:
        found = g.DISPLAY.match(body)
        if found:
            iteration = int(found.group(1))
            value = g.parse_value(found.group(2))
            self._at_iteration(iteration)
            self.display_iteration = iteration
            if value is not None:
                self.run.train_loss.add(iteration, value, self.line_no, self.secs)
            return
        found = g.LEARNING_RATE.match(body)
        if found:
            iteration = int(found.group(1))
            value = g.parse_value(found.group(2))
            self._at_iteration(iteration)
            if value is not None:
                self.run.lr.add(iteration, value, self.line_no, self.secs)
            return
        found = g.TESTING.match(body)
        if found:
            iteration, net = int(found.group(1)), int(found.group(2))
            self._at_iteration(iteration)
            self.open_pass = TestPass(net, iteration, self.line_no, self.line_no)
            self.run.test_passes.append(self.open_pass)

    def _at_iteration(self, iteration: int) -> None:
        """Every `Iteration N` line: close a test pass, notice a restart of the count."""
        self.open_pass = None
        if iteration < self.run.last_iteration and self.run.has_data:
            self._close_run(self.line_no - 1)
            self.run = self._new_run(self.line_no)
        self.run.last_iteration = max(self.run.last_iteration, iteration)

    def _output(self, body: str) -> None:
        found = g.NET_OUTPUT.match(body)
        if found is None:
            return
        phase, _, name, text, weight = found.groups()
        value = g.parse_value(text)
        if value is None:
            return
        loss_weight = g.parse_value(weight) if weight is not None else None
        if phase == "Train":
            curves, iteration = self.run.train, self.display_iteration
        else:
            test_pass = self.open_pass or (self.run.test_passes[-1] if self.run.test_passes else None)
            net = test_pass.net if test_pass else 0
            iteration = test_pass.iteration if test_pass else self.run.last_iteration
            curves = self.run.tests.setdefault(net, {})
            if test_pass is not None:
                test_pass.end_line = self.line_no
        curve = curves.get(name)
        if curve is None:
            curve = curves[name] = Curve(name, loss_weight)
        curve.add(iteration, value, self.line_no, self.secs)

    def _restart(self) -> None:
        in_test = -1
        if self.open_pass is not None:
            in_test = len(self.run.test_passes) - 1
            counts = self.open_pass.restarts
            counts[self.thread] = counts.get(self.thread, 0) + 1
        self.run.restarts.append(Event(self.line_no, max(self.run.last_iteration, 0), "", self.thread, in_test))

    def _clipping(self, body: str) -> None:
        found = g.CLIPPING.match(body)
        if found is None:
            return
        norm, threshold = g.parse_value(found.group(1)), g.parse_value(found.group(2))
        if norm is not None:
            self.run.clipping.add(max(self.run.last_iteration, 0), norm, self.line_no, self.secs)
        self.run.clip_threshold = threshold

    def _debug(self, body: str) -> None:
        """debug_info lines: the net-wide norms, the first nan/inf, and a few numbers per training
        pass (log_debug), not every layer's line.  The per-layer lines come by the thousand:
        they are split with str methods, cheaper than a regular expression that backtracks
        over the layer name (on bench/log.py's log the reading costs 0.29 s more instead of 0.45 s)."""
        run = self.run
        run.debug_lines += 1
        found = None
        if body.startswith(g.DEBUG_FORWARD):  # `[Forward] Layer l, top blob b data: v`
            test_pass = self.open_pass  # a test net's lines come before its outputs: not kept
            if test_pass is None or test_pass.end_line != test_pass.line:
                layer, top, rest = body[len(g.DEBUG_FORWARD):].partition(g.DEBUG_TOP_BLOB)
                blob, data, text = rest.rpartition(g.DEBUG_DATA)
                value = g.parse_value(text) if top and data else None
                if value is not None:
                    run.debug.output(layer, blob, value, self.line_no)
        elif body.startswith(g.DEBUG_BACKWARD):  # `[Backward] Layer l, param blob 0 diff: v`
            layer, weights, text = body[len(g.DEBUG_BACKWARD):].partition(g.DEBUG_WEIGHT_DIFF)
            value = g.parse_value(text) if weights else None
            if value is not None:
                run.debug.gradients.param(layer, value, self.line_no)
        elif body.startswith("[Backward] All net params"):
            run.debug.gradients.end_pass()
            found = self._debug_norms(body)
        if run.debug_nonfinite is None and ("nan" in body or "inf" in body or "#" in body):
            texts = list(found.groups()) if found else g.DEBUG_VALUE.findall(body)
            for text in texts:
                value = g.parse_value(text.rstrip(";,)"))
                if value is not None and not g.is_finite(value):
                    run.debug_nonfinite = Event(self.line_no, max(run.last_iteration, 0), body)
                    break

    def _debug_norms(self, body: str):
        found = g.DEBUG_NORMS.search(body)
        if found:
            iteration = max(self.run.last_iteration, 0)
            for label, text in zip(("L1 data", "L1 diff", "L2 data", "L2 diff"), found.groups()):
                value = g.parse_value(text.rstrip(";,)"))
                if value is not None:
                    curve = self.run.debug_norms.get(label)
                    if curve is None:
                        curve = self.run.debug_norms[label] = Curve(label)
                    curve.add(iteration, value, self.line_no, self.secs)
        return found

    def _creating(self, body: str) -> None:
        if body.startswith(("Creating Layer ", "Created Layer ")):
            found = g.CREATED_LAYER.match(body)
            if found:
                self._layer_created(found.group(1).strip())
        elif body.startswith("Creating layer '"):
            found = g.FACTORY_TYPE.match(body)  # NVCaffe names the type here
            if found:
                self.factory_types[found.group(1)] = found.group(2)
        elif body.startswith("Creating training net"):
            self.pending_role = (TRAIN, 0)
            self.net = None
        elif body.startswith("Creating test net"):
            found = g.TEST_NET_CREATED.match(body)
            self.pending_role = (TEST, int(found.group(1)) if found else 0)
            self.net = None
        elif body.startswith("Check failed:"):
            self._fatal(body)

    def _layer_created(self, name: str) -> None:
        if self.net is None:
            self._begin_net()
        self.layer = LoggedLayer(name, self.factory_types.get(name, ""))
        echoed = self.net_echo.layers.get(name) if self.net_echo else None
        if echoed is not None:
            self.layer.type = echoed.type or self.layer.type
            self.layer.top_k, self.layer.num_output = echoed.top_k, echoed.num_output
        self.net.layers[name] = self.layer

    def _link(self, body: str) -> None:
        found = g.LAYER_LINK.match(body)
        if found is None or self.net is None:
            return
        name, arrow, blob = found.groups()
        layer = self.net.layers.get(name)
        if layer is None:
            return
        if arrow == "<-":
            layer.bottoms.append(blob)
        else:
            layer.tops.append(blob)
            self.net.producers[blob] = name

    def _top_shape(self, body: str) -> None:
        found = g.TOP_SHAPE.match(body)
        if found is None or self.layer is None or self.net is None:
            return
        shape = tuple(int(d) for d in found.group(1).split())
        layer = self.layer
        if len(layer.shapes) < len(layer.tops):
            self.net.shapes[layer.tops[len(layer.shapes)]] = shape
        elif not layer.tops:
            # some forks print no `l -> top` lines: the usual top is named after its layer
            layer.tops.append(layer.name)
            self.net.producers.setdefault(layer.name, layer.name)
            self.net.shapes[layer.name] = shape
        layer.shapes.append(shape)

    def _loss_weight(self, body: str) -> None:
        value = g.parse_value(body[len("with loss weight "):].strip())
        layer = self.layer
        if value is not None and layer is not None and layer.shapes and len(layer.shapes) <= len(layer.tops):
            layer.loss_weights[layer.tops[len(layer.shapes) - 1]] = value

    # -- solver and net echoes
    def _start_solver_echo(self) -> None:
        if self.run.has_data or self.run.solver or self.run.solving_line or self.run.fatal:
            self._close_run(self.line_no - 1)
            self.run = self._new_run(self.line_no)
        self.run.solver_line = self.line_no
        self.echo, self.solver_depth = "solver", 0

    def _start_net_echo(self) -> None:
        self.echo = "net"
        self.net_echo = NetEcho()
        self._begin_net()

    def _begin_net(self) -> None:
        role = self.pending_role or (TRAIN, 0)
        self.pending_role = None
        self.net = NetSetup(role[0], role[1], line=self.line_no)
        self.layer = None
        self.run.nets[role] = self.net

    def _feed_echo(self, line: str) -> bool:
        """One line of an echoed message; False when the line is no protobuf text (the echo ended)."""
        found = g.PROTO_TEXT.match(line)
        if found is None:
            return False
        key, value, opens, closes = found.groups()
        if self.echo == "solver":
            if opens:
                self.solver_depth += 1
            elif closes:
                self.solver_depth = max(0, self.solver_depth - 1)
            elif self.solver_depth == 0 and key and value is not None:
                self.run.solver.setdefault(key, []).append(g.proto_scalar(value))
        elif self.net_echo is not None:
            self.net_echo.feed(key, g.proto_scalar(value) if value is not None else None,
                               bool(opens), bool(closes))
        return True

    def _end_echo(self) -> None:
        if self.echo == "net" and self.net_echo is not None and self.net is not None:
            self.net.name = self.net_echo.name
            if self.net_echo.phase == "TEST" and self.net.role == TRAIN and (TRAIN, 0) in self.run.nets:
                # no `Creating test net` line (old builds): the phase says which net this is
                del self.run.nets[(TRAIN, 0)]
                self.net.role = TEST
                self.run.nets[(TEST, 0)] = self.net
        self.echo = ""

    # -- run boundaries and ends
    def _solving(self, body: str) -> None:
        if self.run.has_data:
            self._close_run(self.line_no - 1)
            self.run = self._new_run(self.line_no)
        self.run.net_name = body[len("Solving"):].strip()
        if not self.run.solving_line:
            self.run.solving_line = self.line_no
        if self.log.start_secs is None and self._time is not None:
            self.log.start_secs = self.secs

    def _fatal(self, message: str) -> None:
        if self.run.end in ("done", "stopped"):
            # a later `caffe` invocation that died before echoing its solver
            self._close_run(self.line_no - 1)
            self.run = self._new_run(self.line_no)
        self.run.fatal.append(Event(self.line_no, max(self.run.last_iteration, 0), message.strip()))
        self._end("fatal")

    def _end(self, how: str) -> None:
        if self.run.end == "truncated":
            self.run.end, self.run.end_line = how, self.line_no

    def _log_created(self, line: str) -> None:
        found = g.LOG_CREATED.match(line)
        if found:
            self.stamp.year = int(found.group(1))
            self.log.year_known = True

    def _new_run(self, line: int) -> Run:
        run = Run(len(self.log.runs), line)
        self.log.runs.append(run)
        self.display_iteration = 0
        self.open_pass = None
        return run

    def _close_run(self, line: int) -> None:
        if self.run.end == "truncated":
            self.run.end_line = line
