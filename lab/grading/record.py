"""The evidence record stored beside each screenshot, its seal, and how it is read back.

The record is what the step's evidence is checked on: the lab's rows of the snapshot, the
messages, the mode and the port, and what the kernel showed of the step's bytes (receipts).
Its seal (a short digest) is shown in the picture's stamp, so a record edited after the
picture was taken no longer matches the picture.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tcp_observatory.lab.guide.evidence import Evidence, Message, Receipt, check_evidence, lab_port
from tcp_observatory.lab.guide.steps import get_step
from tcp_observatory.lab.observe.model import Connection, Endpoint, Role, RoleKind, Snapshot

MAX_STORED_MESSAGES = 200  # the step's latest messages kept as evidence
MAX_MESSAGE_CHARS = 500  # of each (a 1 MiB paste is not evidence of anything more)


def _record(step: str, mode: str, port: int | None, snapshot: list[Any],
            messages: list[Any], origin: dict[str, Any] | None = None,
            refused: list[Any] | None = None,
            kernel: list[Any] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"step": step, "mode": mode, "port": port,
                              "snapshot": snapshot, "messages": messages}
    if origin:  # sealed with the rest: removing "demo" breaks the seal
        record["origin"] = origin
    if refused:  # Windows: clients whose connect a full accept queue refused (no row shows it)
        record["refused"] = refused
    if kernel:  # what the kernel showed of the step's bytes (receipts), where it did
        record["kernel"] = kernel
    return record


def origin_of(*, demo: bool = False, sent_by_app: Iterable[Message] = (),
              scene_by_app: Iterable[str] = ()) -> dict[str, Any]:
    """What the app, not the student, did for a screenshot: a demo run, the step's setup,
    messages it sent. Empty for a student's own work (and then left out of the record)."""
    origin: dict[str, Any] = {}
    if demo:
        origin["demo"] = True
    sent = [[n, str(text)[:MAX_MESSAGE_CHARS]] for n, text in sent_by_app]
    if sent:
        origin["sent_by_app"] = sent[-MAX_STORED_MESSAGES:]
    scene = [str(x)[:200] for x in scene_by_app]
    if scene:
        origin["scene_by_app"] = scene[:20]
    return origin


def evidence_record(
    step_id: str, snapshot: Snapshot, messages: Iterable[Message], mode: str | None = None,
    port: int | None = None, origin: dict[str, Any] | None = None, refused: Iterable[int] = (),
    receipts: Iterable[Receipt] = (),
) -> tuple[list[Connection], list[Message], dict[str, Any]]:
    """What a screenshot's evidence is checked on, as stored: lab rows, capped messages,
    the kernel's receipts."""
    step = get_step(step_id)
    # Only the lab's rows: with the "all connections" filter on, the rest of the machine's
    # traffic (browsers, mail...) is the student's business, not the grader's.
    conns = [c for c in snapshot.connections if c.role.kind is not RoleKind.OTHER]
    port = port if port is not None else lab_port(conns)
    msgs = [(n, str(text)[:MAX_MESSAGE_CHARS]) for n, text in messages][-MAX_STORED_MESSAGES:]
    record = _record(step.id, mode or step.mode, port, [c.to_json() for c in conns],
                     [[n, text] for n, text in msgs], origin, sorted(set(refused)),
                     [r.to_json() for r in receipts][-MAX_STORED_MESSAGES:])
    return conns, msgs, record


def seal_of(record: dict[str, Any]) -> str:
    """A short digest of an evidence record, shown in the stamp of its screenshot.

    Editing the stored record (to claim states the picture does not show) changes it, and
    the picture, whose hash is stored too, still shows the old one.
    """
    import hashlib  # here, not with the app's first screen: its library takes ~5 ms to load

    data = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


def seal_for(step_id: str, snapshot: Snapshot, messages: Iterable[Message],
             mode: str | None = None, port: int | None = None,
             origin: dict[str, Any] | None = None, refused: Iterable[int] = (),
             receipts: Iterable[Receipt] = ()) -> str:
    return seal_of(evidence_record(step_id, snapshot, messages, mode, port, origin, refused,
                                   receipts)[2])


def seal_of_entry(entry: dict[str, Any]) -> str:
    origin = entry.get("origin")
    return seal_of(_record(_str(entry.get("step")), _str(entry.get("mode")),
                           _opt_int(entry.get("port")), entry.get("snapshot") or [],
                           entry.get("messages") or [],
                           origin if isinstance(origin, dict) else None,
                           entry.get("refused") or None, entry.get("kernel") or None))


def connection_from_json(d: dict[str, Any]) -> Connection:
    """The inverse of ``Connection.to_json``; ValueError when ``d`` is not one."""
    if not isinstance(d, dict):
        raise ValueError("a connection must be a JSON object")
    try:
        local = Endpoint.of(_str(d["local_host"]), _int(d["local_port"]))
        remote = None
        if d.get("remote_host") is not None:
            remote = Endpoint.of(_str(d["remote_host"]), _int(d["remote_port"]))
        role = Role(
            RoleKind(d.get("role", "other")),
            client=_opt_int(d.get("client")),
            thread=_opt_str(d.get("thread")),
            server_side=bool(d.get("server_side", False)),
        )
        return Connection(
            local=local,
            remote=remote,
            state=_str(d["state"]),
            family=6 if d.get("proto") == "TCPv6" else 4,
            pid=_opt_int(d.get("pid")),
            process=_opt_str(d.get("process")),
            role=role,
            recv_q=_opt_int(d.get("recv_q")),
            send_q=_opt_int(d.get("send_q")),
            timer=_opt_str(d.get("timer")),
            timer_left=_opt_float(d.get("timer_left")),
            retransmits=_opt_int(d.get("retransmits")),
            inode=_opt_int(d.get("inode")),
            uid=_opt_int(d.get("uid")),
            bytes_received=_opt_int(d.get("bytes_received")),
            bytes_acked=_opt_int(d.get("bytes_acked")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored connection: {exc}") from None


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected text, got {v!r}")
    return v


def _int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"expected a whole number, got {v!r}")
    return v


def _opt_int(v: object) -> int | None:
    return None if v is None else _int(v)


def _opt_str(v: object) -> str | None:
    return None if v is None else _str(v)


def _opt_float(v: object) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"expected a number, got {v!r}")
    return float(v)


def snapshot_from_entry(entry: dict[str, Any]) -> Snapshot:
    conns = entry.get("snapshot")
    if not isinstance(conns, list):
        raise ValueError("the screenshot has no stored snapshot")
    t_ = entry.get("snapshot_time")
    return Snapshot(
        time=float(t_) if isinstance(t_, (int, float)) else 0.0,
        connections=tuple(connection_from_json(c) for c in conns),
        source=str(entry.get("source") or "stored"),
    )


def messages_from_entry(entry: dict[str, Any]) -> list[Message]:
    out: list[Message] = []
    for m in entry.get("messages") or []:
        if not (isinstance(m, list) and len(m) == 2 and isinstance(m[1], str)):
            raise ValueError("a stored message must be [client number or null, text]")
        out.append((_opt_int(m[0]), m[1]))
    return out


def evidence_of_entry(entry: dict[str, Any], lang: str) -> Evidence:
    """Re-check a stored screenshot's evidence from its stored data alone."""
    step = _str(entry.get("step"))
    mode = _str(entry.get("mode") or get_step(step).mode)
    port = _opt_int(entry.get("port"))
    refused = refused_from_entry(entry)
    # Refusals are stored only where a full queue refuses (Windows): judged as there.
    return check_evidence(step, snapshot_from_entry(entry), messages_from_entry(entry), mode,
                          port=port, lang=lang, refused=refused, windows=bool(refused),
                          receipts=receipts_from_entry(entry))


def receipts_from_entry(entry: dict[str, Any]) -> list[Receipt]:
    kernel = entry.get("kernel") or []
    if not isinstance(kernel, list):
        raise ValueError("kernel must be a list of receipts")
    return [Receipt.from_json(r) for r in kernel]


def refused_from_entry(entry: dict[str, Any]) -> list[int]:
    refused = entry.get("refused") or []
    if not (isinstance(refused, list) and all(type(n) is int for n in refused)):
        raise ValueError("refused must be a list of client numbers")
    return list(refused)
