"""Lists that stay bounded over a three-hour class: the oldest tenth goes when one is full."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def keep(items: list[T], new: Iterable[T], limit: int) -> None:
    """Append ``new``; past ``limit`` items, drop the oldest tenth (amortised O(1))."""
    items.extend(new)
    if len(items) > limit:
        del items[: max(len(items) - limit, limit // 10)]
