"""What every API operation shares: the error body, and pagination whose parameters say what they mean.

One class per name across the whole API: ninja files every schema under its class name in the published
OpenAPI document, and two classes of the same name silently become one (tests/test_openapi.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import Schema
from ninja.pagination import LimitOffsetPagination
from ninja.params import P
from pydantic import Field

# The largest id an operation accepts: JSON-safe (2^53 − 1) and far inside every database's bigint, so a huge
# number in a path or body is refused by validation instead of overflowing the database driver.
MAX_ID = 2**53 - 1


def id_param(description: str) -> dict[str, Any]:
    """The documented constraints of an id in a path: a positive integer up to MAX_ID."""
    return P(description=description, ge=1, le=MAX_ID)


class ErrorOut(Schema):
    """A refusal: one message, messages per field (as Django's ValidationError.message_dict), or a list."""

    detail: str | dict[str, list[str]] | list[str]


class PageIn(LimitOffsetPagination.Input):
    """Which slice of a list to return."""

    limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=1000,
                       description="how many items to return (at most 1000)")
    offset: int = Field(0, ge=0, le=1_000_000_000, description="how many items to skip")


class Paged(LimitOffsetPagination):
    """Limit/offset pagination with documented parameters (and a bounded offset: SQLite refuses larger)."""

    Input = PageIn
