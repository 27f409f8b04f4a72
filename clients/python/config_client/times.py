"""Times as the wire writes them (ISO 8601, UTC, milliseconds) and the client's clock.

A clock is a callable returning the current time in seconds since the epoch (``time.time``);
the client, the verifier (rule 4a) and the staleness check take one, so tests can move time.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Optional

#: The current time in seconds since the epoch.
Clock = Callable[[], float]

SYSTEM_CLOCK: Clock = time.time

# The wire's date-times (libs/contracts' readDateTime): RFC 3339 with a T, seconds, a fraction
# of 1 to 9 digits and Z or a numeric offset; ASCII digits only.
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_MAX_DATE_TIME_LENGTH = 40


def iso_of(seconds: float) -> str:
    """A time as JavaScript's toISOString writes it (milliseconds, Z; years beyond 0-9999 as ±YYYYYY)."""
    total_ms = round(seconds * 1000)  # to the nearest millisecond: a parsed time comes back exact
    days, ms_of_day = divmod(total_ms, 86_400_000)
    year, month, day = _civil_from_days(days)
    hour, rest = divmod(ms_of_day, 3_600_000)
    minute, rest = divmod(rest, 60_000)
    second, ms = divmod(rest, 1000)
    shown = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return f"{shown}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}Z"


def iso_now(clock: Clock = SYSTEM_CLOCK) -> str:
    """The clock's current time as JavaScript's toISOString writes it."""
    return iso_of(clock())


def parse_iso(text: object) -> Optional[float]:
    """Seconds since the epoch of a wire date-time, or None for anything else (never raises).

    It reads what JavaScript's Date.parse reads for that pattern, so the Node SDK and this client
    never disagree on whether a payload expired: a day up to 31 in any month (counting on into the
    next), 24:00:00 as the next midnight, offsets up to 23:59, the fraction cut to milliseconds."""
    if not isinstance(text, str) or len(text) > _MAX_DATE_TIME_LENGTH:
        return None
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7) or "", match.group(8)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59 and second <= 59):
        return None
    if hour == 24 and (minute or second or fraction.strip("0")):
        return None
    offset = 0
    if zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * 60 * (1 if zone[0] == "+" else -1)
    days = _days_from_civil(year, month) + day - 1
    milliseconds = int(fraction[:3].ljust(3, "0")) if fraction else 0
    return days * 86400 + hour * 3600 + minute * 60 + second - offset + milliseconds / 1000.0


def _days_from_civil(year: int, month: int) -> int:
    # Days from 1970-01-01 to the first of the month (proleptic Gregorian; year 0 included).
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple:
    # (year, month, day) of a day number from 1970-01-01 (the inverse of _days_from_civil).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day
