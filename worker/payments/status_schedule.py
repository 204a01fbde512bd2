"""When the reconciler asks Epay about an unpaid order: often just after checkout, then rarely,
then never (issue 14: 1,000 abandoned checkouts must not cost thousands of status calls).

A buyer who pays is settled by the postLink, the return link or the `confirm_payment` job; the
reconciler is the net under a lost callback, so it can afford to wait. The payment token lives
two hours (spec §2.1, ``expires_in: 7200``): after that no payform can charge the order, and
one last question an hour later settles a late capture before the order is abandoned.
"""

from __future__ import annotations

import bisect

MINUTE, HOUR = 60.0, 3600.0
# The order's ages (seconds since checkout) at which it is asked about: 1, 2, 5, 10, 30 min,
# 1 h, then hourly to the end of the payment window.
PAYMENT_WINDOW_S = 3 * HOUR
ASK_AT_S: tuple[float, ...] = (
    1 * MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE,
    *(h * HOUR for h in range(1, int(PAYMENT_WINDOW_S / HOUR) + 1)),
)
# However many orders fall due, the reconciler asks at most this many times an hour; the
# youngest orders first (their buyers may be waiting), the others wait for the next pass.
STATUS_CALLS_PER_HOUR = 300


def next_ask(last_asked_age_s: float | None) -> float | None:
    """The age at which to ask next, after the ask at ``last_asked_age_s`` (None: never asked,
    e.g. after a restart); None once the last ask of the payment window has been made."""
    if last_asked_age_s is None:
        return ASK_AT_S[0]
    i = bisect.bisect_right(ASK_AT_S, last_asked_age_s)
    return ASK_AT_S[i] if i < len(ASK_AT_S) else None


def calls_per_pass(interval_s: float) -> int:
    """The status-call budget of one reconciler pass every ``interval_s`` seconds."""
    return max(1, round(STATUS_CALLS_PER_HOUR * interval_s / HOUR))
