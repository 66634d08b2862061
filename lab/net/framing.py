"""How the server cuts a TCP byte stream into messages.

TCP keeps no message boundaries. The rule, chosen to work with both clients:

* a message ends at a newline (``\\n``; a ``\\r`` before it is dropped). This project's
  client ends every message with one, so its messages stay distinct however the kernel
  groups the bytes;
* bytes with no newline (the handout's client sends each line raw) become a message of
  their own when the sender pauses (``IDLE_FLUSH`` seconds with no more bytes) or closes;
* a line longer than ``MAX_MESSAGE`` bytes is delivered in pieces of that size, never lost.

Bytes that are not UTF-8 are decoded with replacement characters.
"""

from __future__ import annotations

IDLE_FLUSH = 0.05  # seconds
MAX_MESSAGE = 4 * 1024 * 1024  # bytes


class Framer:
    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self._buf = bytearray()
        self._max = max_message

    @property
    def pending(self) -> bool:
        return bool(self._buf)

    def feed(self, data: bytes) -> list[str]:
        """Add received bytes; return the complete messages they finish."""
        self._buf += data
        out: list[str] = []
        start = 0
        while True:
            nl = self._buf.find(b"\n", start)
            if nl < 0:
                break
            # Cut a long line the same way whether it came in one read or in many.
            while nl - start > self._max:
                out.append(_decode(self._buf[start : start + self._max], strip_cr=False))
                start += self._max
            out.append(_decode(self._buf[start:nl]))
            start = nl + 1
        del self._buf[:start]
        while len(self._buf) > self._max:
            out.append(_decode(self._buf[: self._max], strip_cr=False))
            del self._buf[: self._max]
        return out

    def flush(self) -> list[str]:
        """The sender paused or closed: what is buffered is a message of its own."""
        if not self._buf:
            return []
        text = _decode(self._buf)
        self._buf.clear()
        return [text]


def _decode(raw: bytes | bytearray, strip_cr: bool = True) -> str:
    if strip_cr and raw.endswith(b"\r"):
        raw = raw[:-1]
    return bytes(raw).decode("utf-8", errors="replace")


def is_fin(message: str) -> bool:
    """The handout's test: the message, stripped and lower-cased, is "fin"."""
    return message.strip().lower() == "fin"
