"""The tests' own helpers, where a defect would make other tests fail now and then."""

from __future__ import annotations

import socket

from support import LOCALHOST, _clients_ports, free_port


def test_a_free_port_is_never_one_a_client_connection_could_take() -> None:
    """A program's port comes from below (or above) the kernel's range for clients' ends,
    is bindable when handed out, and is not handed out twice."""
    low, high = _clients_ports()
    ports = [free_port() for _ in range(50)]
    assert not [p for p in ports if low <= p <= high]
    assert len(set(ports)) == len(ports)
    with socket.socket() as s:
        s.bind((LOCALHOST, ports[-1]))
