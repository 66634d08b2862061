"""How many handshakes the kernel dropped because an accept queue was full.

The lab's "backlog" is this: a client whose handshake finds the accept queue full is not
queued; Linux drops its SYN (or final ACK) and counts it in ``TcpExtListenOverflows`` and
``ListenDrops`` (/proc/net/netstat). The counters are the host's, not one socket's: read
while the lab's server listens, their growth is the lab's drops unless another server on
the machine overflows at the same moment. Elsewhere there is no such counter to read.
"""

from __future__ import annotations

from pathlib import Path

NETSTAT = Path("/proc/net/netstat")


def listen_drops(path: Path = NETSTAT) -> int | None:
    """The host's count of handshakes dropped at full accept queues; None where unknown."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for head, values in zip(lines[::2], lines[1::2], strict=False):
        if not head.startswith("TcpExt:"):
            continue
        fields = dict(zip(head.split()[1:], values.split()[1:], strict=False))
        try:
            # ListenDrops counts every drop at a listener, overflows included.
            return int(fields.get("ListenDrops") or fields["ListenOverflows"])
        except (KeyError, ValueError):
            return None
    return None
