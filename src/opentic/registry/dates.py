"""Dates as Chinese text writes them: 2026年11月2日, without leading zeros."""

from __future__ import annotations

import datetime as dt


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
