"""Linux connection source on NETLINK_SOCK_DIAG (inet_diag), filtered inside the kernel.

Why not psutil here: ``psutil.net_connections`` parses every line of /proc/net/tcp{,6} and
reads every process's file descriptors at every poll. A sock_diag dump with an inet_diag
bytecode filter makes the kernel skip the sockets of other ports before they are copied out,
so a poll of the lab port stays near a millisecond with thousands of unrelated sockets. It also
reports what netstat does not: accept/receive queues, timers and retransmits.

Owners (pid, process) are not in the kernel's answer: they are found by scanning
``/proc/<pid>/fd`` for ``socket:[inode]``, only for inodes never seen before, and cached.

Linux only; ``NetlinkSource()`` raises ``OSError`` elsewhere so that ``open_source("auto")``
falls back to psutil.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
import time
from _thread import allocate_lock  # threading.Lock, without importing threading (~0.5 ms)

from tcp_observatory.lab.observe.model import (
    OTHER_ROLE,
    Connection,
    Endpoint,
    Snapshot,
    normalise_host,
)
from tcp_observatory.lab.observe.names import ProcessNames

__all__ = ["NetlinkSource"]

# <linux/netlink.h>, <linux/sock_diag.h>, <linux/inet_diag.h>
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
# The older request (struct inet_diag_req): its dump covers both families in one walk of the
# kernel's tables, where SOCK_DIAG_BY_FAMILY walks them once per family (each walk visits
# every socket: ~5 ms at 50,000). Kernels that refuse it get one dump per family.
TCPDIAG_GETSOCK = 18
NLM_F_REQUEST = 0x001
NLM_F_MULTI = 0x002
NLM_F_DUMP = 0x300  # NLM_F_ROOT | NLM_F_MATCH
NLMSG_ERROR = 2
NLMSG_DONE = 3
INET_DIAG_REQ_BYTECODE = 1
# The TCP info attribute (struct tcp_info), asked by its bit in the request's ``ext``.
INET_DIAG_INFO = 2
_EXT_INFO = 1 << (INET_DIAG_INFO - 1)

# Bytecode opcodes. A port comparison is two ops: the test, then one whose ``no`` is the port.
BC_JMP = 1
BC_S_GE = 2
BC_S_LE = 3
BC_D_GE = 4
BC_D_LE = 5
BC_S_EQ = 11  # Linux >= 4.17; older kernels get the GE/LE form (see _port_filter)
BC_D_EQ = 12

# Kernel TCP states 1..12 (include/net/tcp_states.h) in the handout's spelling.
_STATES: dict[int, str] = {
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECEIVED",
    4: "FIN_WAIT_1",
    5: "FIN_WAIT_2",
    6: "TIME_WAIT",
    7: "CLOSED",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
    12: "SYN_RECEIVED",  # TCP_NEW_SYN_RECV: a request socket, before the handshake completes
}
_TCP_LISTEN = 10
_TCP_NEW_SYN_RECV = 12
# States 1..12. Bit 13 (TCP_BOUND_INACTIVE, Linux >= 6.6) would add bound-but-unused sockets,
# which neither netstat, psutil nor ``ss -a`` list.
_ALL_STATES_MASK = sum(1 << s for s in _STATES)

# idiag_timer -> the short name ss prints ("probe" is ss's "persist": zero-window probe).
_TIMERS: dict[int, str] = {1: "on", 2: "keepalive", 3: "timewait", 4: "probe"}
_TIMER_TIMEWAIT = 3

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_RTATTR = struct.Struct("=HH")  # len, type
_BC_OP = struct.Struct("=BBH")  # code, yes, no
_NLMSGERR = struct.Struct("=i")
# inet_diag_req_v2: family, protocol, ext, pad, states, then an all-zero inet_diag_sockid (48).
_REQ = struct.Struct("=BBBBI48x")
# inet_diag_req (TCPDIAG_GETSOCK): family, src_len, dst_len, ext, sockid (48), states, dbs.
_COMPAT_REQ = struct.Struct("=BBBB48xII")
# inet_diag_msg: family, state, timer, retrans, sockid (ports are big-endian, read apart),
# expires, rqueue, wqueue, uid, inode.
_MSG = struct.Struct("=BBBB4x16s16s12xIIIII")
_PORTS = struct.Struct(">HH")
_INODE = struct.Struct("=I")  # a record's inode, at _INODE_AT: read without unpacking the rest
_INODE_AT = 68
_NO_OWNER: tuple[int | None, str | None] = (None, None)
_WILDCARDS = (bytes(16),)  # the all-zero address, either family (the buffer is 16 bytes)
_new = tuple.__new__  # Connection(...) with keywords costs a Python call per record
# struct tcp_info (<linux/tcp.h>): tcpi_bytes_acked and tcpi_bytes_received, two u64 at 120
# (Linux >= 4.1; an older kernel's shorter tcp_info leaves them unknown). A record asked
# with its TCP info is the inet_diag_msg followed by these 16 bytes alone: the rest of
# tcp_info (RTT, windows, times since the last packet) changes at every poll, and the
# record must stay the same bytes while the socket does not change.
_COUNTS = struct.Struct("=QQ")
_COUNTS_AT = 120
_COUNTS_END = _COUNTS_AT + _COUNTS.size

_RECV_BUFFER = 1 << 16  # the kernel fills at most ~32 KiB per dump datagram
_TIMEOUT = 5.0  # a dump never takes this long; without it a lost reply would hang the poller
_OWNER_TRIES = 3  # scans that may miss an inode before it is recorded as having no owner
# A full /proc scan for the owners of sockets off the lab port: at most this often. On a busy
# machine new sockets come every poll, and a scan reads every descriptor of every process.
_SCAN_EVERY = 2.0
# Whether the owner of a lab socket still holds it (it may have forked and exited, leaving
# it to the child): checked this often. Whether the owner still runs: at every poll.
_HOLD_CHECK_EVERY = 1.0


def _port_filter(port: int, use_eq: bool) -> bytes:
    """Bytecode accepting sockets whose local or remote port is ``port``.

    The kernel runs the program per socket: after each op it jumps ``yes`` or ``no`` bytes;
    landing exactly at the end accepts, jumping past it (end + 4) rejects. Layout, as ss
    builds it for ``sport = :P or dport = :P``::

        [source test][JMP to end][destination test]

    A failed source test jumps to end + 4 of its own block, which is the start of the
    destination test because the JMP is 4 bytes long.
    """
    src = (BC_S_EQ,) if use_eq else (BC_S_GE, BC_S_LE)
    dst = (BC_D_EQ,) if use_eq else (BC_D_GE, BC_D_LE)

    def block(codes: tuple[int, ...]) -> bytes:
        length = 8 * len(codes)
        out = b""
        for i, code in enumerate(codes):
            reject = length - 8 * i + 4
            out += _BC_OP.pack(code, 8, reject) + _BC_OP.pack(0, 0, port)
        return out

    first, second = block(src), block(dst)
    jump = _BC_OP.pack(BC_JMP, 4, len(second) + 4)
    return first + jump + second


def _not_port_filter(port: int, use_eq: bool) -> bytes:
    """Bytecode accepting the sockets ``_port_filter`` rejects, as ss builds ``not``: the
    filter, then a JMP whose ``no`` (always taken) jumps past the end. A socket the filter
    accepts lands on the JMP and is rejected; one it rejects lands at the end: accepted."""
    return _port_filter(port, use_eq) + _BC_OP.pack(BC_JMP, 4, 8)


_SHAPES: dict[int, struct.Struct] = {}  # message length -> its layout, for _uniform


def _uniform(data: bytes, seq: int, kind: int = SOCK_DIAG_BY_FAMILY) -> list[bytes] | None:
    """The records of a datagram whose messages are all socket records of one length (the
    usual case: the kernel adds the same attributes to every full socket), or None.

    ``struct.iter_unpack`` walks them in C: a third of the cost of reading header by header.
    Anything else (the end of the dump, an error, mixed lengths) is left to the slow path.
    """
    if len(data) < _NLMSGHDR.size:
        return None
    length = _NLMSGHDR.unpack_from(data, 0)[0]
    if length < _NLMSGHDR.size + _MSG.size or length % 4 or len(data) % length:
        return None
    shape = _SHAPES.get(length)
    if shape is None:
        shape = _SHAPES[length] = struct.Struct(
            f"=IHHII{_MSG.size}s{length - _NLMSGHDR.size - _MSG.size}x")
    records = [body for ln, k, _f, sq, _p, body in shape.iter_unpack(data)
               if ln == length and k == kind and sq == seq]
    return records if len(records) * length == len(data) else None


_EXPIRES = struct.Struct("=I")
_EXPIRES_AT = 52


def _per_second(raw: bytes) -> bytes:
    """A record whose timer counts down, its milliseconds cut to whole seconds.

    A TIME_WAIT or keepalive timer changes the record at every poll; the tables show its
    seconds, so a record is a new one when the second changes, not ten times a second.
    """
    (expires,) = _EXPIRES.unpack_from(raw, _EXPIRES_AT)
    return raw[:_EXPIRES_AT] + _EXPIRES.pack(expires - expires % 1000) + raw[_EXPIRES_AT + 4:]


def _request(family: int, seq: int, bytecode: bytes | None, ext: int = 0) -> bytes:
    """A dump request of ``family``'s TCP sockets; AF_UNSPEC: both families at once.
    ``ext``: the attributes asked besides each socket's record (``_EXT_INFO``)."""
    if family == socket.AF_UNSPEC:
        kind, body = TCPDIAG_GETSOCK, _COMPAT_REQ.pack(0, 0, 0, ext, _ALL_STATES_MASK, 0)
    else:
        kind = SOCK_DIAG_BY_FAMILY
        body = _REQ.pack(family, socket.IPPROTO_TCP, ext, 0, _ALL_STATES_MASK)
    if bytecode is not None:
        body += _RTATTR.pack(_RTATTR.size + len(bytecode), INET_DIAG_REQ_BYTECODE) + bytecode
    header = _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
    return header + body


def _counts_of(data: bytes, start: int, end: int) -> bytes:
    """The byte counts in the TCP info attribute among a record's attributes (``data``
    from ``start`` to ``end``), as 16 raw bytes; empty where there is none (TIME_WAIT and
    request sockets carry no TCP info) or it is too short (Linux < 4.1)."""
    at = start
    while at + _RTATTR.size <= end:
        length, kind = _RTATTR.unpack_from(data, at)
        if length < _RTATTR.size:
            break
        if kind == INET_DIAG_INFO:
            info = at + _RTATTR.size
            if length - _RTATTR.size >= _COUNTS_END:
                return data[info + _COUNTS_AT:info + _COUNTS_END]
            break
        at += (length + 3) & ~3
    return b""


class NetlinkSource:
    """TCP sockets of both families from ``sock_diag``, with the port filter run by the kernel.

    One instance may be polled from any thread: a lock serialises dumps and the owner cache.
    """

    name = "netlink"
    # Each listener's accept queue and backlog (Recv-Q, Send-Q), and each handshake's
    # retransmissions, request sockets (SYN_RECV) included: what tells the lab's dropped
    # handshakes from another program's (lab.net.overflow).
    listener_queues = True
    stable_records = True  # an unchanged socket comes back as the same Connection object

    def __init__(self, probe: bool = True) -> None:
        """``probe``: dump once now, so that a blocked sock_diag fails here (the app falls
        back to psutil at once); a one-shot command skips it, and its first poll decides."""
        if not sys.platform.startswith("linux") or not hasattr(socket, "AF_NETLINK"):
            raise OSError("netlink sock_diag needs Linux")
        self._lock = allocate_lock()
        self._sock: socket.socket | None = None
        self._seq = 0
        self._closed = False
        self._use_eq = True  # S_EQ/D_EQ ops; cleared on kernels that reject them
        self._families = [socket.AF_INET, socket.AF_INET6]
        self._one_walk: bool | None = None  # both families in one dump: not known yet
        self._names = ProcessNames()
        self._owners: dict[int, tuple[int | None, str | None]] = {}  # inode -> (pid, name)
        self._misses: dict[int, int] = {}  # inode -> scans that did not find it yet
        self._cache: dict[bytes, Connection] = {}  # a record as the kernel sent it -> built
        self._owners_wanted = True
        self._lab_pids: set[int] = set()  # other processes seen holding lab-port sockets
        self._lab_owned: dict[int, int] = {}  # lab-port socket's inode -> its owner's pid
        self._holds_checked = 0.0
        self._last_scan = -_SCAN_EVERY
        self._hosts: dict[bytes, str] = {}  # raw address -> normalised text
        # Counters for tests and benchmarks: what the kernel sent back in the last poll, and
        # how many full /proc scans were made since the source was opened.
        self.last_records = 0
        self.proc_scans = 0
        # Ask the kernel each lab-port socket's byte counts (bytes received, bytes
        # acknowledged): the app does, to see a message reach any server's socket. A
        # one-shot netstat or watch does not pay for them.
        self.byte_counts = False
        self._probed = probe
        with self._lock:
            self._open()
            if not probe:
                return
            # Fail here, not at the first poll, where sock_diag is blocked (containers,
            # seccomp) or the inet_diag module is missing.
            try:
                self._dump(socket.AF_INET, 0)
            except OSError:
                self._close_socket()
                raise
            try:
                self._dump(socket.AF_INET6, 0)
            except OSError:  # a kernel without IPv6 diag: IPv4 alone is still worth having
                self._families.remove(socket.AF_INET6)

    # -- netlink ---------------------------------------------------------------------------

    def _open(self) -> None:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
        try:
            sock.bind((0, 0))
            sock.settimeout(_TIMEOUT)
        except OSError:
            sock.close()
            raise
        self._sock = sock

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _dump_all(self, port: int | None, *, negate: bool = False,
                  counts: bool = False) -> list[bytes]:
        """Both families: in one walk where the kernel takes the older request, else one
        dump per family. ``negate``: every socket but ``port``'s; ``counts``: each record
        with its byte counts (``_replies``)."""
        if self._one_walk is not False and len(self._families) == 2:
            try:
                records = self._dump(socket.AF_UNSPEC, port, negate, counts)
            except OSError:
                if self._one_walk:
                    raise
                self._one_walk = False
            else:
                self._one_walk = True
                return records
        records = self._dump(self._families[0], port, negate, counts)
        for family in self._families[1:]:
            try:
                records += self._dump(family, port, negate, counts)
            except OSError:
                if self._probed:
                    raise
                self._families.remove(family)  # a kernel without IPv6 diag
        return records

    def _dump(self, family: int, port: int | None, negate: bool = False,
              counts: bool = False) -> list[bytes]:
        """One dump of ``family``; on a kernel without S_EQ/D_EQ, retry with GE/LE pairs."""
        try:
            return self._dump_once(family, port, negate, counts)
        except OSError as exc:
            if not (port is not None and self._use_eq and exc.errno == errno.EINVAL):
                raise
            self._use_eq = False
            return self._dump_once(family, port, negate, counts)

    def _dump_once(self, family: int, port: int | None, negate: bool = False,
                   counts: bool = False) -> list[bytes]:
        if self._sock is None:
            self._open()
        sock = self._sock
        assert sock is not None
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        seq = self._seq
        bytecode = None
        if port is not None:
            bytecode = (_not_port_filter if negate else _port_filter)(port, self._use_eq)
        try:
            sock.send(_request(family, seq, bytecode, _EXT_INFO if counts else 0))
            kind = TCPDIAG_GETSOCK if family == socket.AF_UNSPEC else SOCK_DIAG_BY_FAMILY
            return self._replies(sock, seq, kind, counts)
        except BaseException:
            # A dump left half-read would answer the next request: start afresh.
            self._close_socket()
            raise

    def _replies(self, sock: socket.socket, seq: int,
                 kind_wanted: int = SOCK_DIAG_BY_FAMILY, counts: bool = False) -> list[bytes]:
        """Each raw inet_diag_msg until NLMSG_DONE; raise OSError on NLMSG_ERROR.

        A record is returned as its bytes: between two polls, the bytes of a socket that did
        not change are equal, which is how ``poll`` skips rebuilding it. ``counts``: the
        request asked the TCP info; a full socket's record ends with its two byte counts
        (``_counts_of``). Such a dump is the lab port's few sockets: no fast path.
        """
        header, size_msg = _NLMSGHDR.size, _MSG.size
        unpack = _NLMSGHDR.unpack_from
        out: list[bytes] = []
        while True:
            data = sock.recv(_RECV_BUFFER)
            fast = None if counts else _uniform(data, seq, kind_wanted)
            if fast is not None:  # a datagram of same-sized records, all ours: one C loop
                out += fast
                continue
            size = len(data)
            offset = 0
            while offset + header <= size:
                length, kind, _flags, msg_seq, _pid = unpack(data, offset)
                if length < header or offset + length > size:
                    raise OSError(errno.EBADMSG, "truncated netlink message")
                body = offset + header
                offset += (length + 3) & ~3
                if msg_seq != seq:
                    continue  # left over from an earlier request
                if kind == kind_wanted and length - header >= size_msg:
                    record = data[body:body + size_msg]
                    if counts:
                        record += _counts_of(data, body + size_msg, body + length - header)
                    out.append(record)
                elif kind == NLMSG_DONE:
                    return out
                elif kind == NLMSG_ERROR:
                    (error,) = _NLMSGERR.unpack_from(data, body)
                    if error == 0:  # an ACK, not an error
                        continue
                    raise OSError(-error, f"sock_diag: {os.strerror(-error)}")

    # -- records ---------------------------------------------------------------------------

    def _host(self, family: int, raw: bytes) -> str:
        key = raw if family == socket.AF_INET6 else raw[:4]
        host = self._hosts.get(key)
        if host is None:
            if len(self._hosts) > 4096:
                self._hosts.clear()
            # ::ffff:a.b.c.d -> a.b.c.d, as Endpoint.of does
            host = self._hosts[key] = normalise_host(socket.inet_ntop(family, key))
        return host

    def _connection(self, raw: bytes) -> Connection:
        """Build one record. The hot loop of a first poll: tuples are made directly."""
        (family, state, timer, retrans, src, dst, expires, rqueue, wqueue, uid,
         inode) = _MSG.unpack_from(raw)  # fmt: skip
        sport, dport = _PORTS.unpack_from(raw, 4)
        # Inode 0: TIME_WAIT, orphans, connections still in the accept queue: nobody owns them.
        pid, process = self._owners.get(inode, _NO_OWNER) if inode else _NO_OWNER
        local = _new(Endpoint, (self._host(family, src), sport))
        if state == _TCP_LISTEN or (dport == 0 and dst in _WILDCARDS):
            remote = None
        else:
            remote = _new(Endpoint, (self._host(family, dst), dport))
        # TIME_WAIT (and an orphan's FIN_WAIT_2 once it became a timewait socket) and request
        # sockets are mini sockets: the kernel sends uid 0 for them, which is not root.
        mini = timer == _TIMER_TIMEWAIT or state == _TCP_NEW_SYN_RECV
        return _new(Connection, (
            local, remote, _STATES.get(state, "CLOSED"), 6 if family == socket.AF_INET6 else 4,
            pid, process, OTHER_ROLE, rqueue, wqueue,
            _TIMERS.get(timer) if timer else None, expires / 1000.0 if timer else None,
            retrans, inode, None if mini else uid,
            *(_COUNTS.unpack_from(raw, _MSG.size)[::-1] if len(raw) > _MSG.size
              else (None, None)),
        ))

    # -- owners ----------------------------------------------------------------------------

    def _resolve(self, lab: set[int], other: set[int]) -> set[int]:
        """Find the owners of new inodes: this process's first, then all of /proc.

        ``lab``: inodes on the lab port, whose owner decides a role: a full scan at once.
        ``other``: any other socket's, shown in a Process column: a full scan at most every
        ``_SCAN_EVERY`` seconds; until then they have no owner yet, and are asked again.
        Returns the inodes whose owner was decided in this call.
        """
        decided: set[int] = set()
        missing = (lab | other | self._misses.keys()) - self._owners.keys()
        if not missing:
            return decided
        own = os.getpid()

        def look_in(pid: int, fd_dir: str) -> bool:
            """Take the owner of those of ``missing`` that ``pid`` holds; True if any."""
            found = _scan_fds(fd_dir, missing)
            if found:
                owner = (pid, self._names.name(pid))
                for inode in found:
                    self._owners[inode] = owner
                decided.update(found)
                missing.difference_update(found)
            return bool(found)

        look_in(own, "/proc/self/fd")
        # A new socket on the lab port is most likely held by a process that holds another
        # one (the server that accepted it, a client that opened one more): look there
        # before reading every process's descriptors.
        for pid in list(self._lab_pids) if missing & lab else ():
            if not look_in(pid, f"/proc/{pid}/fd") and not os.path.exists(f"/proc/{pid}"):
                self._lab_pids.discard(pid)
        urgent = missing & (lab | self._misses.keys())
        now = time.monotonic()
        if missing and (urgent or now - self._last_scan >= _SCAN_EVERY):
            self.proc_scans += 1
            self._last_scan = now
            for inode, pid in _scan_proc(missing, skip=own).items():
                self._owners[inode] = (pid, self._names.name(pid))
                decided.add(inode)
            missing -= decided
            for inode in missing:
                # accept() gives a socket its inode just before the fd is installed: retry
                # a few polls before deciding that nobody we can see owns it.
                tries = self._misses.get(inode, 0) + 1
                if tries >= _OWNER_TRIES:
                    self._owners[inode] = _NO_OWNER
                    self._misses.pop(inode, None)
                    decided.add(inode)
                else:
                    self._misses[inode] = tries
        else:
            for inode in missing:
                self._misses.setdefault(inode, 0)
        for inode in decided:
            self._misses.pop(inode, None)
            holder = self._owners[inode][0]
            if inode in lab and holder not in (None, own) and len(self._lab_pids) < 64:
                self._lab_pids.add(holder)
        return decided

    def _stale_owners(self) -> set[int]:
        """Lab sockets whose recorded owner no longer holds them: it ended, or (checked once
        a second) closed its descriptor. This process's own sockets are never handed on."""
        now = time.monotonic()
        deep = now - self._holds_checked >= _HOLD_CHECK_EVERY
        if deep:
            self._holds_checked = now
        by_pid: dict[int, set[int]] = {}
        for inode, pid in self._lab_owned.items():
            by_pid.setdefault(pid, set()).add(inode)
        own = os.getpid()
        stale: set[int] = set()
        for pid, inodes in by_pid.items():
            if pid == own:
                continue
            if not os.path.exists(f"/proc/{pid}"):
                stale |= inodes
            elif deep:
                stale |= inodes - _scan_fds(f"/proc/{pid}/fd", inodes)
        return stale

    # -- Source ----------------------------------------------------------------------------

    def poll(self, port: int | None, *, owners: bool = True,
             lab_port: int | None = None) -> Snapshot:
        """Every TCP socket (``port=None``), or those whose local or remote port is ``port``.

        ``owners``: find every socket's owner; else only those of sockets touching
        ``lab_port`` (roles need them), or none without it. A socket whose record did not change
        since the last poll is returned as the very same ``Connection``: nothing of it is
        decoded, looked up or built again, so a poll where nothing changed costs little
        more than the kernel's dump.
        """
        started = time.perf_counter()
        now = time.time()
        with self._lock:
            if self._closed:
                raise OSError(errno.EBADF, "NetlinkSource is closed")
            old = self._cache
            retired: list[Connection] = []
            if owners != self._owners_wanted:  # the Process column came or went: build anew
                self._owners_wanted = owners
                retired, old = list(old.values()), {}
            counts = self.byte_counts and lab_port is not None
            if counts and port == lab_port:
                records = self._dump_all(port, counts=True)
            elif counts and port is None:
                # Every socket: the lab port's with their counts, the others' without (the
                # fast path), in two walks rather than thousands of records made longer.
                records = (self._dump_all(lab_port, negate=True)
                           + self._dump_all(lab_port, counts=True))
            else:
                records = self._dump_all(port)
            self._probed = True
            self.last_records = len(records)
            fresh: dict[bytes, Connection] = {}
            new: list[bytes] = []
            take = old.pop
            for i, raw in enumerate(records):
                if raw[2]:  # a timer runs: its countdown alone is not a change, its second is
                    raw = records[i] = _per_second(raw)
                conn = take(raw, None)
                if conn is not None:
                    fresh[raw] = conn
                elif raw not in fresh:
                    new.append(raw)
            # A socket listed twice is one: a dump of several datagrams resumes its walk of
            # a hash bucket by position, and a socket added ahead of it in the meantime
            # makes the kernel send a record again. Built twice, the first object was handed
            # on and never said gone: the observer kept it, a row of a socket long closed.
            new = list(dict.fromkeys(new))
            # What is left of the last poll changed or went.
            gone = retired + list(old.values())
            inode_of = _INODE.unpack_from
            new_with_inodes = [(raw, inode_of(raw, _INODE_AT)[0]) for raw in new]
            new_inodes = {inode for _, inode in new_with_inodes}
            for conn in gone:  # forget the owners of sockets gone (inodes are reused)
                if conn.inode and conn.inode not in new_inodes:
                    self._owners.pop(conn.inode, None)
                    self._misses.pop(conn.inode, None)
                    self._lab_owned.pop(conn.inode, None)
            lab: set[int] = set()
            other: set[int] = set()
            for raw, inode in new_with_inodes:
                if inode and inode not in self._owners:
                    sport, dport = _PORTS.unpack_from(raw, 4)
                    if lab_port is not None and lab_port in (sport, dport):
                        lab.add(inode)
                    elif owners:
                        other.add(inode)
            if self._lab_owned:
                # An owner gone (a process that forked, then exited): the socket is looked
                # up again, and its unchanged record rebuilt with whoever holds it now.
                for inode in self._stale_owners():
                    self._owners.pop(inode, None)
                    del self._lab_owned[inode]
                    lab.add(inode)
            decided = self._resolve(lab, other) if lab or other or self._misses else set()
            if decided - new_inodes:  # an owner found late: its unchanged record is rebuilt
                for raw, conn in list(fresh.items()):
                    if conn.inode in decided:
                        del fresh[raw]
                        gone.append(conn)
                        new.append(raw)
            changed = []
            for raw in new:
                conn = fresh[raw] = self._connection(raw)
                changed.append(conn)
                if (conn.pid is not None and conn.inode and lab_port is not None
                        and (conn.local.port == lab_port
                             or (conn.remote is not None and conn.remote.port == lab_port))):
                    self._lab_owned[conn.inode] = conn.pid
            self._cache = fresh
            connections = tuple(fresh.values())
        return Snapshot(
            time=now,
            connections=connections,
            source=self.name,
            duration=time.perf_counter() - started,
            changed=tuple(changed),
            gone=tuple(gone),
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._close_socket()
            self._owners.clear()
            self._misses.clear()
            self._cache.clear()

    def __enter__(self) -> NetlinkSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _socket_inode(link: str) -> int | None:
    if link.startswith("socket:["):
        return int(link[8:-1])
    return None


def _scan_fds(fd_dir: str, wanted: set[int]) -> set[int]:
    """The inodes among ``wanted`` that have a descriptor in ``fd_dir``.

    A readlink per descriptor (~3 us): 15,000 descriptors cost ~50 ms. Newest descriptors
    first, since a new socket usually takes the highest number, and stop once all are found.
    """
    found: set[int] = set()
    try:
        fds = sorted((int(name) for name in os.listdir(fd_dir)), reverse=True)
    except OSError:  # gone, or another user's process
        return found
    for fd in fds:
        try:
            inode = _socket_inode(os.readlink(f"{fd_dir}/{fd}"))
        except OSError:
            continue
        if inode in wanted:
            found.add(inode)
            if len(found) == len(wanted):
                break
    return found


def _scan_proc(wanted: set[int], skip: int) -> dict[int, int]:
    """inode -> pid for each of ``wanted`` found in some /proc/<pid>/fd; stops when all are."""
    left = set(wanted)
    owners: dict[int, int] = {}
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return owners
    for pid in sorted(pids, reverse=True):  # recent processes first: new sockets are theirs
        if pid == skip:
            continue
        for inode in _scan_fds(f"/proc/{pid}/fd", left):
            owners[inode] = pid
        left -= owners.keys()
        if not left:
            break
    return owners
