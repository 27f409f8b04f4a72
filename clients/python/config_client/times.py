"""Times as the wire writes them (ISO 8601, UTC, milliseconds) and the client's clock.

A clock is a callable returning the current time in seconds since the epoch (``time.time``);
the client, the verifier (rule 4a) and the staleness check take one, so tests can move time.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

#: The current time in seconds since the epoch.
Clock = Callable[[], float]

SYSTEM_CLOCK: Clock = time.time

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# ECMAScript's date-time string format (what Date.parse reads the same everywhere): a date,
# optionally a time with seconds and fraction, and Z or an offset. Without an offset a date-time
# is read as UTC (a manager always writes Z).
_ISO = re.compile(
    r"(?P<year>[0-9]{4}|[+-][0-9]{6})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


def iso_of(seconds: float) -> str:
    """A time as JavaScript's toISOString writes it (milliseconds, Z)."""
    moment = _EPOCH + timedelta(milliseconds=int(seconds * 1000 // 1))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_now(clock: Clock = SYSTEM_CLOCK) -> str:
    """The clock's current time as JavaScript's toISOString writes it."""
    return iso_of(clock())


def parse_iso(text: object) -> Optional[float]:
    """Seconds since the epoch of an ISO 8601 time (ECMAScript's format), or None."""
    if not isinstance(text, str):
        return None
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        year = int(parts["year"])
        moment = datetime(
            year if 1 <= year <= 9999 else 2000,
            int(parts["month"] or 1),
            int(parts["day"] or 1),
            0 if parts["hour"] == "24" else int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            tzinfo=timezone.utc,
        )
    except ValueError:
        return None
    if not 1 <= year <= 9999:
        return None  # beyond what the manager could mean; refused rather than guessed
    if parts["hour"] == "24":
        if parts["minute"] != "00" or (parts["second"] or "00") != "00" or int(parts["fraction"] or "0") != 0:
            return None
        moment += timedelta(days=1)
    seconds = (moment - _EPOCH).total_seconds()
    if parts["fraction"]:
        seconds += int(parts["fraction"][:3].ljust(3, "0")) / 1000.0
    zone = parts["zone"]
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * 60
        seconds += -offset if zone[0] == "+" else offset
    return seconds
