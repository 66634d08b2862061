"""Copies across a class: submissions that hold the same kernel evidence.

Two separate runs of the lab never share a connection: the kernel gives each client an
ephemeral port, each socket an inode, and each reading of its tables an instant. A folder
copied from another (renamed, its hashes redone) keeps them. What the lab fixes for
everyone (the lab port, 127.0.0.1, the backlog) says nothing and is never compared; the
host and the pids are told beside a match, never taken for one (a class may share a
machine, and pids repeat).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tcp_observatory.lab.grading.verify import VerifyResult, safe_name
from tcp_observatory.lab.guide.steps import STEP_IDS
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.text import clock_text, printable

MAX_FACTS = 6  # matching connections named in one sentence
SAME_TIME = 1.0  # seconds: closer file times cannot tell which folder came first


@dataclass(frozen=True)
class Sighting:
    """One connection in one screenshot, by what the kernel chose for it."""

    step: str
    file: str
    port: int  # the ephemeral port (the end that is not the lab port)
    when: float  # the instant the kernel was read
    inodes: frozenset[int]
    pids: frozenset[int]
    taken: str  # the screenshot's recorded time (ISO 8601)


@dataclass(frozen=True)
class Fact:
    step_a: str
    step_b: str
    port: int
    when: float
    inode: int | None  # the same socket; None when matched by the instant alone


@dataclass
class SharedPair:
    a: int  # indexes into the results
    b: int
    facts: list[Fact] = field(default_factory=list)
    host: str | None = None  # the same host in both
    pids: list[int] = field(default_factory=list)  # pids seen in both with the facts
    first: int | None = None  # whose pictures came first (None: cannot tell)
    sentence: str = ""

    @property
    def steps(self) -> dict[int, set[str]]:
        return {self.a: {f.step_a for f in self.facts}, self.b: {f.step_b for f in self.facts}}


def sightings(result: VerifyResult) -> list[Sighting]:
    """Every connection of the folder's screenshots, by its ephemeral port."""
    out: list[Sighting] = []
    for entry in result.manifest.get("screenshots", []):
        if not isinstance(entry, dict):
            continue
        when, rows, lab = entry.get("snapshot_time"), entry.get("snapshot"), entry.get("port")
        if not isinstance(when, (int, float)) or not isinstance(rows, list):
            continue
        by_port: dict[int, tuple[set[int], set[int]]] = {}
        for row in rows:
            if not isinstance(row, dict) or row.get("remote_host") is None:
                continue  # a listener: the lab port, fixed for everyone
            for port in (row.get("local_port"), row.get("remote_port")):
                if isinstance(port, int) and not isinstance(port, bool) and port != lab:
                    inodes, pids = by_port.setdefault(port, (set(), set()))
                    inode, pid = row.get("inode"), row.get("pid")
                    if isinstance(inode, int) and inode > 0:
                        inodes.add(inode)
                    if isinstance(pid, int) and pid > 0:
                        pids.add(pid)
        for port, (inodes, pids) in by_port.items():
            out.append(Sighting(str(entry.get("step")), str(entry.get("file")), port,
                                float(when), frozenset(inodes), frozenset(pids),
                                str(entry.get("time", ""))))
    return out


def _same(x: Sighting, y: Sighting) -> Fact | None:
    """The same connection in two screenshots: the same ephemeral port read at the same
    instant, or held by the same socket (inode). A port alone repeats across a class."""
    if x.port != y.port:
        return None
    common = sorted(x.inodes & y.inodes)
    if common or x.when == y.when:
        return Fact(x.step, y.step, x.port, x.when, common[0] if common else None)
    return None


def shared_evidence(results: Sequence[VerifyResult], lang: str) -> list[SharedPair]:
    """Every pair of submissions holding the same kernel evidence, each with a sentence:
    what matches, and whose pictures came first. Ordered by folder, the same every run."""
    order = sorted(range(len(results)), key=lambda i: str(results[i].folder))
    seen: dict[int, list[tuple[int, Sighting]]] = {}
    for i in order:
        for s in sightings(results[i]):
            seen.setdefault(s.port, []).append((i, s))
    pairs: dict[tuple[int, int], SharedPair] = {}
    matched: dict[tuple[int, int], list[tuple[Sighting, Sighting]]] = {}
    rank = {i: n for n, i in enumerate(order)}
    for port in sorted(seen):
        found = seen[port]
        for n, (i, x) in enumerate(found):
            for j, y in found[n + 1:]:
                if i == j:
                    continue
                a, b, sa, sb = (i, j, x, y) if rank[i] < rank[j] else (j, i, y, x)
                fact = _same(sa, sb)
                if fact is None:
                    continue
                pair = pairs.setdefault((a, b), SharedPair(a, b))
                if fact not in pair.facts:
                    pair.facts.append(fact)
                    matched.setdefault((a, b), []).append((sa, sb))
    out: list[SharedPair] = []
    for key in sorted(pairs, key=lambda k: (rank[k[0]], rank[k[1]])):
        pair = pairs[key]
        step_rank = {s: n for n, s in enumerate(STEP_IDS)}
        pair.facts.sort(key=lambda f: (step_rank.get(f.step_a, 99), f.port, f.when))
        ra, rb = results[pair.a], results[pair.b]
        host_a, host_b = ra.manifest.get("host"), rb.manifest.get("host")
        pair.host = host_a if isinstance(host_a, str) and host_a and host_a == host_b else None
        sights = matched[key]
        pair.pids = sorted(set().union(*(x.pids & y.pids for x, y in sights)))
        pair.first, first_words = _first(ra, rb, pair.a, pair.b, sights, lang)
        pair.sentence = _sentence(pair, ra, rb, first_words, lang)
        out.append(pair)
    return out


def _file_delay(result: VerifyResult, s: Sighting) -> float | None:
    """How long after the recorded time of its screenshot a picture's file was written."""
    if not safe_name(s.file):
        return None
    try:
        taken = datetime.fromisoformat(s.taken).timestamp()
        return os.stat(Path(result.folder) / s.file).st_mtime - taken
    except (OSError, ValueError):
        return None


def _first(ra: VerifyResult, rb: VerifyResult, a: int, b: int,
           sights: list[tuple[Sighting, Sighting]], lang: str) -> tuple[int | None, str]:
    """Whose pictures came first. The recorded times, when they differ; else the files:
    the app writes a picture when it is taken, a copier writes it again later (renaming
    means editing every picture). A copy that kept the files' dates cannot be told."""
    name = {a: _folder(ra), b: _folder(rb)}
    for x, y in sights:
        if x.taken != y.taken and x.taken and y.taken:
            early, late, tx, ty = (a, b, x.taken, y.taken) if x.taken < y.taken else (
                b, a, y.taken, x.taken)
            return early, t("verify.shared.first_taken", lang, first=name[early],
                            other=name[late], t1=tx, t2=ty)
    delays_a = [d for d in (_file_delay(ra, x) for x, _ in sights) if d is not None]
    delays_b = [d for d in (_file_delay(rb, y) for _, y in sights) if d is not None]
    if delays_a and delays_b:
        da, db = min(delays_a), min(delays_b)
        if abs(da - db) >= SAME_TIME:
            early, late = (a, b) if da < db else (b, a)
            return early, t("verify.shared.first_written", lang, first=name[early],
                            other=name[late], delay=duration_text(abs(da - db), lang))
    return None, t("verify.shared.first_unknown", lang)


def duration_text(seconds: float, lang: str) -> str:
    s = round(seconds)
    if s < 90:
        return t("dur.s", lang, n=s)
    if s < 90 * 60:
        return t("dur.min", lang, n=round(s / 60))
    if s < 48 * 3600:
        return t("dur.h", lang, n=round(s / 3600))
    return t("dur.d", lang, n=round(s / 86400))


def _folder(result: VerifyResult) -> str:
    return printable(str(result.folder), 120)


def _sentence(pair: SharedPair, ra: VerifyResult, rb: VerifyResult, first: str,
              lang: str) -> str:
    facts: list[str] = []
    for f in pair.facts[:MAX_FACTS]:
        step = f.step_a if f.step_a == f.step_b else f"{f.step_a} / {f.step_b}"
        if f.inode is not None:
            facts.append(t("verify.shared.inode", lang, step=step, port=f.port,
                           inode=f.inode, time=clock_text(f.when)))
        else:
            facts.append(t("verify.shared.instant", lang, step=step, port=f.port,
                           time=clock_text(f.when)))
    if len(pair.facts) > MAX_FACTS:
        facts.append(t("verify.shared.more", lang, n=len(pair.facts) - MAX_FACTS))
    also: list[str] = []
    if pair.host:
        also.append(t("verify.shared.host", lang, host=printable(pair.host, 60)))
    if pair.pids:
        also.append(t("verify.shared.pids", lang, pids=", ".join(map(str, pair.pids[:6]))))
    sep = t("list.sep", lang)
    return t("verify.shared", lang, a=_folder(ra), b=_folder(rb), facts=sep.join(facts),
             also="".join(sep + x for x in also), first=first)


def flag_copies(results: Sequence[VerifyResult], lang: str) -> list[SharedPair]:
    """Find the shared evidence and refuse, in each folder, the steps it shares."""
    pairs = shared_evidence(results, lang)
    for pair in pairs:
        for mine, other in ((pair.a, pair.b), (pair.b, pair.a)):
            result = results[mine]
            result.copies.append(str(results[other].folder))
            steps = sorted(pair.steps[mine], key=lambda s: STEP_IDS.index(s)
                           if s in STEP_IDS else 99)
            result.problems.append(pair.sentence)
            for row in result.rows:
                if row.step in steps:
                    row.problems.append(pair.sentence)
    return pairs


def json_pairs(results: Sequence[VerifyResult], pairs: Sequence[SharedPair]) -> list[Any]:
    return [{"a": str(results[p.a].folder), "b": str(results[p.b].folder),
             "first": None if p.first is None else str(results[p.first].folder),
             "host": p.host, "pids": p.pids,
             "facts": [{"steps": [f.step_a, f.step_b], "port": f.port, "time": f.when,
                        "inode": f.inode} for f in p.facts],
             "sentence": p.sentence} for p in pairs]
