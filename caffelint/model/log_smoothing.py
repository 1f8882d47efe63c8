"""Numbers over curves: running medians and means, buckets, straight-line fits, stretches.

Pure numpy helpers for the log rules, with no knowledge of Caffe; numpy is
imported inside each function.
"""

from __future__ import annotations

from caffelint.model.log_curves import Series


def rolling_median(values, window: int):
    """Centred running median (window clipped at the ends)."""
    import numpy as np

    n = len(values)
    if n == 0:
        return np.zeros(0)
    half = max(1, window // 2)
    padded = np.concatenate([np.full(half, values[0]), values, np.full(half, values[-1])])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.median(windows, axis=1)


def running_mean(values, window: int):
    """Centred running mean (window clipped at the ends), in linear time for any window."""
    import numpy as np

    n = len(values)
    half = max(1, window // 2)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    return (sums[hi] - sums[lo]) / (hi - lo)


def trailing_median(values, window: int, spread: bool = False):
    """Median of the `window` points before each point (the first points use what there is).

    With `spread`, also their median absolute deviation: (medians, deviations).
    """
    import warnings

    import numpy as np

    n = len(values)
    medians, deviations = np.full(n, np.nan), np.full(n, np.nan)
    if n >= 2:
        padded = np.concatenate([np.full(window - 1, np.nan), values])
        windows = np.lib.stride_tricks.sliding_window_view(padded, window)[:n - 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the first windows are partly empty
            medians[1:] = np.nanmedian(windows, axis=1)
            if spread:
                deviations[1:] = np.nanmedian(np.abs(windows - medians[1:, None]), axis=1)
    return (medians, deviations) if spread else medians


def bucketed(data: Series, max_points: int = 4000) -> Series:
    """At most `max_points` points: the median of each run of consecutive points (long logs)."""
    import numpy as np

    n = len(data)
    if n <= max_points:
        return data
    edges = np.linspace(0, n, max_points + 1).astype(int)
    values = np.array([np.median(data.values[a:b]) for a, b in zip(edges[:-1], edges[1:])])
    return Series(data.name, data.iters[edges[:-1]], values, data.lines[edges[:-1]])


def longest_stretch(mask) -> tuple[int, int]:
    """(first, last) index of the longest run of True in `mask`; (0, -1) when there is none."""
    best, start = (0, -1), None
    for i, flag in enumerate(list(mask) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - 1 - start > best[1] - best[0]:
                best = (start, i - 1)
            start = None
    return best


def linear_fit(x, y) -> tuple[float, float, float]:
    """(slope, intercept, R²) of a least-squares line through the points."""
    import numpy as np

    if len(x) < 2 or float(np.ptp(x)) == 0:
        return 0.0, float(y[0]) if len(y) else 0.0, 0.0
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float(((y - fitted) ** 2).sum()) / total if total > 0 else 0.0
    return float(slope), float(intercept), r2


def smoothing_window(n: int) -> int:
    """An odd running-median window: 9 points, or 5 % of a long curve."""
    return max(9, n // 20) | 1


def round_iterations(value: float) -> int:
    """Two significant digits: a stepsize a person would write."""
    if value <= 0:
        return 0
    digits = max(0, len(str(int(value))) - 2)
    return int(round(value, -digits))
