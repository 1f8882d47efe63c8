"""The grammar of a Caffe training log, one line at a time.

Caffe logs through glog: `I0210 13:39:22.381027 25210 solver.cpp:204] message`
(severity, MMDD or, since glog 0.6, YYYYMMDD, time, thread id, source:line).
The message formats below are those of BVLC/caffe:src/caffe/solver.cpp,
sgd_solver.cpp, net.cpp and data_layer.cpp, plus NVCaffe's and older builds'
variants seen in published logs.  A line without the glog prefix (a log
written with GLOG_log_prefix=0, or through another logger) is read as a bare
message.
"""

from __future__ import annotations

import datetime
import math
import re

GLOG_PREFIX = re.compile(r"([IWEF])(\d{8}|\d{4}) (\d\d):(\d\d):(\d\d(?:\.\d+)?) +(\d+) [^\]\s]*\] ?")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

# `Iteration N (x iter/s, ys/z iters), loss = v` (BVLC since 2017 and NVCaffe, whose first
# iterations print `Iteration 0 (7.6 s)`) and `Iteration N, loss = v` (older builds, forks,
# and the final line of every run, solver.cpp:327).
DISPLAY = re.compile(r"Iteration (\d+)(?: \([^)]*\))?, loss = (\S+)")
LEARNING_RATE = re.compile(r"Iteration (\d+), lr = (\S+)")
TESTING = re.compile(r"Iteration (\d+), Testing net \(#(\d+)\)")
# `    Train net output #k: name = v (* w = w*v loss)`; names may hold spaces and ': '.
NET_OUTPUT = re.compile(r"\s*(Train|Test) net output #(\d+): (.+?) = (\S+)(?: \(\* (\S+) = \S+ loss\))?\s*$")
CLIPPING = re.compile(r"Gradient clipping: scaling down gradients \(L2 norm (\S+) > (\S+)\)")
DEBUG_NORMS = re.compile(r"All net params \(data, diff\): L1 norm = \((\S+), (\S+)\); L2 norm = \((\S+), (\S+)\)")
DEBUG_VALUE = re.compile(r"(?:data|diff): (\S+?);?(?=\s|$)")
# `[Forward] Layer l, top blob b data: v` and `[Backward] Layer l, param blob 0 diff: v`
DEBUG_FORWARD, DEBUG_TOP_BLOB, DEBUG_DATA = "[Forward] Layer ", ", top blob ", " data: "
DEBUG_BACKWARD, DEBUG_WEIGHT_DIFF = "[Backward] Layer ", ", param blob 0 diff: "
MULTISTEP = re.compile(r"MultiStep Status: Iteration (\d+), step = (\d+)")
TEST_NET_CREATED = re.compile(r"Creating test net \(#(\d+)\)")
LAYER_LINK = re.compile(r"(\S+) (<-|->) (\S+)")
# `Top shape: 64 10 (640)`; NVCaffe: `TRAIN Top shape for layer 3 'ip2' 64 10 (640)`.
TOP_SHAPE = re.compile(r"(?:(?:TRAIN|TEST) )?Top shape(?: for layer \d+ '[^']*')?:? ([\d ]*)\(\d+\)")
CREATED_LAYER = re.compile(r"(?:Creating|Created) Layer (.+?)(?: \(\d+\))?$")
FACTORY_TYPE = re.compile(r"Creating layer '(.+)' of type '(\S+)'")
LOG_CREATED = re.compile(r"Log file created at: (\d{4})/(\d\d)/(\d\d)")
# A line of protobuf text inside an echoed SolverParameter or NetParameter.
PROTO_TEXT = re.compile(r"\s*(?:([A-Za-z_]\w*)\s*(?::\s*(.*?)|(\{))|(\}))\s*$")


class Stamp:
    """A glog timestamp as seconds on one continuous clock.

    glog before 0.6 prints no year: take it from the `Log file created at` header
    when there is one, otherwise assume a leap year (so 0229 parses), and move to
    the next year when the month goes backwards, as BVLC/caffe:tools/extra/
    extract_seconds.py does.
    """

    def __init__(self) -> None:
        self.year = 2000
        self.last_month = 0
        self._days: dict[str, float] = {}

    def seconds(self, date: str, hours: str, minutes: str, secs: str) -> float:
        day = self._days.get(date)
        if day is None:
            day = self._day(date)
        return day + int(hours) * 3600 + int(minutes) * 60 + float(secs)

    def _day(self, date: str) -> float:
        if len(date) == 8:
            year, month, dom = int(date[:4]), int(date[4:6]), int(date[6:])
        else:
            month, dom = int(date[:2]), int(date[2:])
            if month < self.last_month:
                self.year += 1
                self._days.clear()
            year = self.year
        self.last_month = month
        try:
            ordinal = datetime.date(year, month, dom).toordinal()
        except ValueError:
            ordinal = datetime.date(2000, 1, 1).toordinal()
        day = ordinal * 86400.0
        self._days[date] = day
        return day


def parse_value(token: str) -> float | None:
    """A logged number; nan, -nan, inf, -inf (and MSVC's 1.#INF, -1.#IND) kept, junk None."""
    try:
        return float(token)
    except ValueError:
        pass
    upper = token.upper()
    if "#INF" in upper:
        return -math.inf if upper.startswith("-") else math.inf
    if "#IND" in upper or "#QNAN" in upper or "#SNAN" in upper:
        return math.nan
    return None


def proto_scalar(text: str) -> str:
    """The value of `key: value` in echoed protobuf text, without quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
