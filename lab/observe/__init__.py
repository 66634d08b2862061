"""Connection observer: kernel -> source -> snapshot -> diff -> transitions."""

from tcp_observatory.lab.observe.model import (
    ALL_STATES,
    Connection,
    Endpoint,
    Role,
    RoleKind,
    Snapshot,
    Transition,
)

__all__ = [
    "ALL_STATES",
    "Connection",
    "Endpoint",
    "Role",
    "RoleKind",
    "Snapshot",
    "Transition",
]
