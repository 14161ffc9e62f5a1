"""Percentiles, medians, reporting periods and the per-report rules of the figures, on
lists and rows whose answers are known in advance."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from web import i18n, stats


def test_the_nearest_rank_percentile_is_a_value_from_the_list() -> None:
    # The textbook example: 15, 20, 35, 40, 50.
    values = [50, 15, 40, 20, 35]
    assert stats.percentile(values, 5) == 15
    assert stats.percentile(values, 30) == 20
    assert stats.percentile(values, 40) == 20
    assert stats.percentile(values, 50) == 35
    assert stats.percentile(values, 100) == 50


def test_the_90th_percentile_of_known_lists() -> None:
    assert stats.percentile(list(range(1, 11)), 90) == 9  # rank ceil(9.0) = 9
    assert stats.percentile(list(range(1, 21)), 90) == 18  # rank 18
    assert stats.percentile(list(range(1, 12)), 90) == 10  # rank ceil(9.9) = 10
    assert stats.percentile([7.5], 90) == 7.5
    assert stats.percentile([2, 30], 90) == 30
    assert stats.percentile([], 90) is None


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError):
        stats.percentile([1, 2], 0)
    with pytest.raises(ValueError):
        stats.percentile([1, 2], 101)


def test_the_median_is_the_middle_or_the_mean_of_the_two_middles() -> None:
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.median([]) is None


def test_the_last_full_month_and_quarter_roll_over_the_year() -> None:
    assert stats.last_full_month(date(2026, 1, 15)) == stats.Period(
        "bulan", date(2025, 12, 1), date(2025, 12, 31)
    )
    assert stats.last_full_month(date(2026, 3, 1)).last == date(2026, 2, 28)
    assert stats.last_full_quarter(date(2026, 2, 10)) == stats.Period(
        "triwulan", date(2025, 10, 1), date(2025, 12, 31)
    )
    assert stats.last_full_quarter(date(2026, 11, 24)) == stats.Period(
        "triwulan", date(2026, 7, 1), date(2026, 9, 30)
    )


def test_a_period_is_whole_days_of_city_time() -> None:
    november = stats.month(2026, 11)
    assert november.bounds("Asia/Jakarta") == ("2026-10-31T17:00:00Z", "2026-11-30T17:00:00Z")
    assert november.bounds("Asia/Jayapura") == ("2026-10-31T15:00:00Z", "2026-11-30T15:00:00Z")
    assert stats.quarter(2026, 4).bounds("Asia/Jakarta") == (
        "2026-09-30T17:00:00Z",
        "2026-12-31T17:00:00Z",
    )


def test_the_dashboard_period_is_read_from_its_form() -> None:
    today = date(2026, 11, 24)
    assert stats.parse_period({}, today) == (stats.month(2026, 11), "")
    assert stats.parse_period({"periode": "bulan", "bulan": "2026-02"}, today)[0].last == date(
        2026, 2, 28
    )
    assert stats.parse_period({"periode": "triwulan", "triwulan": "2026-Q2"}, today) == (
        stats.quarter(2026, 2),
        "",
    )
    custom = {"periode": "rentang", "dari": "2026-11-03", "sampai": "2026-11-10"}
    assert stats.parse_period(custom, today) == (
        stats.Period("rentang", date(2026, 11, 3), date(2026, 11, 10)),
        "",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"periode": "bulan", "bulan": "2026-13"},
        {"periode": "triwulan", "triwulan": "2026-Q5"},
        {"periode": "rentang", "dari": "2026-11-10", "sampai": "2026-11-03"},
        {"periode": "rentang", "dari": "2020-01-01", "sampai": "2026-11-03"},
        {"periode": "rentang", "dari": "kemarin"},
    ],
)
def test_an_unreadable_period_falls_back_to_this_month_with_a_message(
    params: dict[str, str],
) -> None:
    period, error = stats.parse_period(params, date(2026, 11, 24))
    assert period == stats.month(2026, 11)
    assert error


def row(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "area_code": "A",
        "kecamatan_code": "K",
        "agency_code": None,
        "category_code": "sampah",
        "channel": "web",
        "written_at": None,
        "received_at": "2026-03-02T02:00:00Z",
        "response_due_at": "2026-03-03T02:00:00Z",
        "first_response_at": None,
        "resolved_at": None,
        "status": "received",
        "next_due_at": "2026-03-03T02:00:00Z",
        "reopen_count": 0,
        "rating": None,
    }
    base.update(fields)
    return base


def test_responses_are_judged_in_time_late_or_not_yet() -> None:
    figures = stats.Figures("A")
    now = "2026-03-02T12:00:00Z"
    figures.add(row(first_response_at="2026-03-03T02:00:00Z", status="verified"), now)
    figures.add(row(first_response_at="2026-03-03T02:00:01Z", status="verified"), now)
    figures.add(row(), now)  # due tomorrow: not judged yet
    figures.add(
        row(response_due_at="2026-03-02T11:00:00Z", next_due_at="2026-03-02T11:00:00Z"), now
    )
    assert (figures.in_time, figures.late, figures.not_yet_due) == (1, 2, 1)
    assert figures.in_time_percent == pytest.approx(100 / 3)
    assert figures.overdue_now == 1
    assert figures.response_hours.tolist() == [24.0, 24 + 1 / 3600]


def test_the_clock_of_a_walk_in_complaint_starts_when_the_resident_complained() -> None:
    figures = stats.Figures("A")
    walk_in = row(
        channel="walk_in",
        written_at="2026-03-02T00:00:00Z",
        first_response_at="2026-03-02T04:00:00Z",
        resolved_at="2026-03-03T00:00:00Z",
        status="resolved",
        next_due_at=None,
    )
    figures.add(walk_in, "2026-03-05T00:00:00Z")
    assert figures.response_hours.tolist() == [4.0]
    assert figures.resolution_hours.tolist() == [24.0]


def test_rejected_reopened_and_ratings_are_counted() -> None:
    figures = stats.Figures("A")
    now = "2026-03-10T00:00:00Z"
    figures.add(
        row(status="rejected", first_response_at="2026-03-02T03:00:00Z", next_due_at=None), now
    )
    figures.add(row(status="closed", reopen_count=2, rating=4, next_due_at=None), now)
    figures.add(row(status="closed", rating=1, next_due_at=None), now)
    assert (figures.rejected, figures.reopened) == (1, 1)
    assert figures.average_rating == 2.5
    assert figures.overdue_now == 0  # closed reports are never overdue


def test_nothing_judged_has_no_percentage_and_ranks_last() -> None:
    a, b, c = stats.Figures("a"), stats.Figures("b"), stats.Figures("c")
    a.in_time, a.late = 1, 1
    b.in_time = 3
    assert c.in_time_percent is None
    assert [f.key for f in stats.ranked([c, a, b])] == ["b", "a", "c"]
    assert [f.key for f in stats.late_responders([c, a, b])] == ["a"]


def test_figures_read_well_in_both_languages() -> None:
    assert stats.format_hours(None) == "—"
    assert stats.format_hours(0.5) == "30 menit"
    assert stats.format_hours(5.25) == "5,2 jam"
    assert stats.format_hours(72) == "3 hari"
    assert stats.format_percent(87.54) == "87,5%"
    token = i18n.current_language.set("en")
    try:
        assert stats.format_hours(5.25) == "5.2 h"
        assert stats.format_percent(1234.5) == "1,234.5%"
    finally:
        i18n.current_language.reset(token)


def test_the_most_often_late_come_first_by_share_then_by_count() -> None:
    x, y, z, w = (stats.Figures(k) for k in "xyzw")
    x.late = 1  # 1 of 1 late
    y.in_time, y.late = 5, 5  # 5 of 10
    z.late = 5  # 5 of 5
    w.in_time = 4  # never late: not named
    assert [f.key for f in stats.late_responders([x, y, z, w])] == ["z", "x", "y"]
    assert (z.late_percent, y.late_percent, w.late_percent) == (100, 50, 0)
    assert stats.Figures("none").late_percent is None
