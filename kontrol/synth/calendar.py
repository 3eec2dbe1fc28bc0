"""Day arithmetic for the generator: dates as integer days since 1970-01-01.

Why integers: the background is generated with numpy for millions of persons,
and integer days vectorise (and convert to Arrow ``date32`` without copying),
while ``datetime.date`` objects would force Python loops. The few places that
need calendar logic (month starts, birthdays) go through ``datetime64``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

EPOCH = date(1970, 1, 1)
#: Stands for "no date" (an open relation, no exit event): later than any real day.
NO_DAY = 10**7

IntArray = npt.NDArray[np.int64]


def day(value: date) -> int:
    """Days since 1970-01-01 (Arrow's date32 representation)."""
    return (value - EPOCH).days


def to_date(value: int) -> date:
    return EPOCH + timedelta(days=int(value))


def month_of(days: IntArray) -> IntArray:
    """Months since 1970-01 of each day."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start_of_month(months: IntArray) -> IntArray:
    """First day (days since epoch) of each month given as months since 1970-01."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def first_of_month(days: IntArray) -> IntArray:
    return month_start_of_month(month_of(days))


def birthday(births: IntArray, years: int | IntArray) -> IntArray:
    """The day each person turns ``years`` old.

    Built as "same month, ``years`` later, plus (day-1) days", so a 29 February
    birthday lands on 1 March in common years, the reading the rules use
    (docs/contract-readings.md 8).
    """
    months = month_of(births)
    dom = births - month_start_of_month(months)
    return month_start_of_month(months + 12 * np.asarray(years, dtype=np.int64)) + dom


def age_on(birth: int, t: int) -> int:
    """Whole years completed on day ``t`` (scalar, for the oracle)."""
    b, d = to_date(birth), to_date(t)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


@dataclass(frozen=True)
class Calendar:
    """The ``months`` calendar months ending with the month of ``as_of``.

    ``month_end`` is the real last day of each month; ``cut_end`` is cut at
    ``as_of`` (payments and income never lie after as_of).
    """

    as_of: int
    months: int
    window_months: int
    month_start: IntArray
    month_end: IntArray

    @classmethod
    def build(cls, as_of: date, months: int, window_months: int = 12) -> Calendar:
        last = int(month_of(np.array([day(as_of)], dtype=np.int64))[0])
        idx = np.arange(last - months + 1, last + 1, dtype=np.int64)
        starts = month_start_of_month(idx)
        ends = month_start_of_month(idx + 1) - 1
        return cls(day(as_of), months, window_months, starts, ends)

    @property
    def span_start(self) -> int:
        return int(self.month_start[0])

    @property
    def first_month(self) -> int:
        return int(month_of(self.month_start[:1])[0])

    @property
    def window_index(self) -> int:
        """Index of the first month of the rule window within the span."""
        return max(0, self.months - self.window_months)

    @property
    def window_start(self) -> int:
        last = int(month_of(np.array([self.as_of], dtype=np.int64))[0])
        return int(month_start_of_month(np.array([last - self.window_months + 1]))[0])

    def ms(self, i: int) -> int:
        return int(self.month_start[i])

    def me(self, i: int) -> int:
        """Last day of span month ``i``, cut at as_of."""
        return min(int(self.month_end[i]), self.as_of)

    def dim(self, i: int) -> int:
        """Days in span month ``i`` (the whole calendar month)."""
        return int(self.month_end[i] - self.month_start[i] + 1)

    def index_of(self, days: IntArray) -> IntArray:
        """Span month index of each day (may be negative or >= months)."""
        return month_of(days) - self.first_month
