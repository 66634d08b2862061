"""The server's two modes and the lab's defaults, apart from the server so that the guided
lab and the command lines can name them without importing sockets and threads."""

from __future__ import annotations

SINGLE = "single"  # listing 2: one client at a time, backlog 1
THREADED = "threaded"  # listing 3: one thread per client, backlog 5
MODES = (SINGLE, THREADED)
DEFAULT_PORT = 9500
DEFAULT_MAX_CLIENTS = 200


def default_backlog(mode: str) -> int:
    """The handout's backlogs: 1 for the single server (listing 2), 5 threaded (listing 3)."""
    return 1 if mode == SINGLE else 5
