"""``lab.records.record`` does what the ``dataclasses.dataclass`` it replaces did.

Each check builds the same class both ways and compares what a caller sees."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from tcp_observatory.lab.net.client import ClientEvent
from tcp_observatory.lab.records import record
from tcp_observatory.lab.session import Action
from tcp_observatory.tui.widgets.footer import FooterKey, Shown


def _classes(decorator: Callable[..., Any], frozen: bool) -> tuple[type[Any], type[Any]]:
    @decorator(frozen=frozen)
    class Event:
        kind: str
        count: int
        text: str = ""
        peer: tuple[str, int] | None = None
        LIMIT: ClassVar[int] = 3  # not a field

    @decorator(frozen=frozen)
    class Later(Event):
        extra: float = 0.5

    return Event, Later


def _both(frozen: bool) -> list[tuple[type[Any], type[Any]]]:
    return [_classes(dataclasses.dataclass, frozen), _classes(record, frozen)]


@pytest.mark.parametrize("frozen", [True, False])
def test_a_record_is_built_compared_and_shown_as_the_dataclass(frozen: bool) -> None:
    seen = []
    for event, later in _both(frozen):
        a = event("sent", 2, text="Fin")
        b = event(kind="sent", count=2, text="Fin", peer=None)
        c = later("sent", 2, "Fin", None, 1.5)
        seen.append((
            repr(a), repr(c), a == b, a != b, a == event("sent", 3), a == later("sent", 2, "Fin"),
            a == ("sent", 2, "Fin", None), c.extra, a.peer, event.__match_args__,
            later.__match_args__, event.LIMIT,
            hash(a) == hash(b) if frozen else event.__hash__ is None,
        ))
    assert seen[0] == seen[1]
    assert seen[1][0] == "_classes.<locals>.Event(kind='sent', count=2, text='Fin', peer=None)"


@pytest.mark.parametrize("frozen", [True, False])
def test_a_record_refuses_what_the_dataclass_refused(frozen: bool) -> None:
    for event, _later in _both(frozen):
        with pytest.raises(TypeError, match=r"missing|required"):
            event("sent")
        with pytest.raises(TypeError, match="unexpected keyword"):
            event("sent", 1, colour="red")
        with pytest.raises(TypeError, match="multiple values"):
            event("sent", 1, kind="again")
        with pytest.raises(TypeError, match="positional"):
            event("sent", 1, "", None, "one too many")
        a = event("sent", 1)
        if frozen:
            with pytest.raises(dataclasses.FrozenInstanceError):
                a.count = 2
            with pytest.raises(dataclasses.FrozenInstanceError):
                del a.count
        else:
            a.count = 2
            assert a.count == 2


def test_a_non_default_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="non-default argument 'count'"):
        @record(frozen=True)
        class Wrong:
            kind: str = ""
            count: int  # type: ignore[misc]  # (what is tested)


def test_the_apps_records_match_by_position_and_keyword() -> None:
    """A match on the session's events, as the app's handlers could write it."""
    event = ClientEvent("sent", 12.5, 1, text="Fin")
    match event:
        case ClientEvent("sent", _, number, text=text):
            assert (number, text) == (1, "Fin")
        case _:
            pytest.fail("no match")
    assert Action("client-add", 1.0, client=1) == Action("client-add", 1.0, 1)
    assert Action("client-add", 1.0, client=1) != Action("client-add", 1.0, 2)
    key = FooterKey("f2", "F2", "Client", True, region=None)  # type: ignore[arg-type]
    assert isinstance(key, Shown) and key.key == "f2" and key != Shown("f2", "F2", "Client", True)
