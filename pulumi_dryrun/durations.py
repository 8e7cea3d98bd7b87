"""Go duration strings (``time.ParseDuration``), as state files and programs give custom timeouts.

One parser for the state reader and the analyzer wire format: ``"20m"``, ``"1h30m"``, ``"1.5s"``,
``"300ms"``, ``"10us"``/``"10µs"``/``"10μs"``, ``"5ns"``, ``"0"``; an optional sign as Go allows.
"""

from __future__ import annotations

import re

# Go's units (time/format.go: unitMap), in seconds; both micro signs are accepted, as Go does.
_SECONDS_PER_UNIT = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 MICRO SIGN
    "μs": 1e-6,  # U+03BC GREEK SMALL LETTER MU
    "ns": 1e-9,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(h|ms|m|s|us|µs|μs|ns)")


def duration_seconds(text: str) -> float:
    """The seconds of a Go duration string.

    Parameters
    ----------
    text
        A duration as ``time.ParseDuration`` reads it: a sequence of decimal numbers with units.

    Returns
    -------
    float
        The duration in seconds.

    Raises
    ------
    ValueError
        When ``text`` is not a Go duration (an empty string, a number without unit other than
        ``0``, an unknown unit).

    Notes
    -----
    O(len(text)).
    """
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body.lstrip("+-") if body[:1] in "+-" else body
    if body == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(body):
        match = _PART.match(body, position)
        if match is None:
            raise ValueError(f"{text!r} is not a duration such as '20m', '1h30m' or '500ms'")
        total += float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]
        position = match.end()
    if not body:
        raise ValueError(f"{text!r} is not a duration such as '20m', '1h30m' or '500ms'")
    return sign * total
