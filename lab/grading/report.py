"""``report.html``: one offline page with every step, its screenshot, answer and checks.

Written by the app, it says it is not verified; ``verify`` writes it again with its verdict.
A page that vouched for itself would still say "accepted" after the folder was edited."""

from __future__ import annotations

import base64
import hashlib
import html
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from tcp_observatory.lab.files import write_atomic
from tcp_observatory.lab.grading.manifest import APP_NAME, MANIFEST, REPORT, load_manifest, lock
from tcp_observatory.lab.grading.verify import ShotCheck, VerifyResult, safe_name, verdict
from tcp_observatory.lab.guide.steps import STEPS
from tcp_observatory.lab.i18n import t

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:75rem;
padding:1rem 2rem;color:#1b1b1b;background:#fafafa;line-height:1.45}
header{border-bottom:3px solid #1b1b1b;margin-bottom:1rem}
h1{margin:.2rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}
dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #999;padding:.25rem .6rem;
text-align:left}th{background:#e8e8e8}
.yes{color:#0a6b2d;font-weight:600}.no{color:#b00020;font-weight:600}
.verdict{font-size:1.15rem;font-weight:700;padding:.5rem .8rem;border-radius:.3rem}
.verdict.ok{background:#d9f2e1}.verdict.bad{background:#fbdde2}
.verdict.none{background:#fff3c4}
section{background:#fff;border:1px solid #ccc;border-radius:.4rem;padding:.5rem 1.2rem;
margin:1.2rem 0}
.q p{margin:.3rem 0}.q .en{color:#555;font-style:italic}
.answer{white-space:pre-wrap;background:#f3f3f3;border-left:4px solid #777;padding:.5rem .8rem;
font-family:ui-monospace,"Cascadia Mono",Menlo,monospace}
figure{margin:.8rem 0}figure img{max-width:100%;border:1px solid #888}
figcaption{font-size:.85rem;color:#444}li.found::marker{content:"✓ "}
li.missing::marker{content:"✗ "}li.missing{color:#b00020}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _yes_no(value: bool, lang: str) -> str:
    word = "yes" if value else "no"
    return f'<span class="{word}">{esc(t(word, lang))}</span>'


def head_html(title: str, lang: str, css: str = CSS) -> list[str]:
    """The page's head: nothing loaded from anywhere, no script; pictures as data: URIs."""
    return [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'img-src data:; style-src \'unsafe-inline\'">',
        f"<title>{esc(title)}</title>",
        f"<style>{css}</style></head><body>",
    ]


def picture_uri(folder: Path, name: object) -> str | None:
    """A picture of the folder as a data: URI (None when it cannot be read)."""
    if not safe_name(name):
        return None
    try:
        data = (folder / str(name)).read_bytes()
    except OSError:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def manifest_digest(folder: Path) -> str:
    try:
        return hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return "?"


def write_report(folder: str | os.PathLike[str], lang: str = "fr",
                 result: VerifyResult | None = None) -> Path:
    """Write ``report.html``: one offline page with every step, screenshot and answer.

    The app writes it as the pictures are taken, ``result`` None: the page then says it is
    not verified and gives the manifest's digest; it vouches for nothing. ``verify`` writes
    it again with ``result``, its verdict and checks (an edited folder's page then says so).
    """
    path = Path(folder)
    m = result.manifest if result is not None else load_manifest(path, lang)
    stored = m.get("answers")
    answers: dict[str, Any] = stored if isinstance(stored, dict) else {}
    out = head_html(f"{APP_NAME} — {m.get('student') or ''}", lang)
    out.append(f"<header><h1>{esc(t('report.title', lang))}</h1><dl>")
    for key, value in (("report.student", m.get("student")), ("report.host", m.get("host")),
                       ("report.version", f"{APP_NAME} {m.get('version') or '?'}"),
                       ("report.created", m.get("created")), ("report.updated", m.get("updated")),
                       ("report.digest", manifest_digest(path))):
        out.append(f"<dt>{esc(t(key, lang))}</dt><dd>{esc(value or '?')}</dd>")
    out.append("</dl>")
    if result is None:
        out.append(f'<p class="verdict none">{esc(t("report.not_verified", lang))}</p>')
    else:
        when = datetime.now().astimezone().isoformat(timespec="seconds")
        out.append(f'<p class="verdict {"ok" if result.ok else "bad"}">'
                   f"{esc(verdict(result, lang, 'listed'))}</p>")
        out.append(f"<p>{esc(t('report.verified', lang, time=when))}</p>")
    out.append("</header>")
    if result is not None:
        out.extend(_checks_html(result, lang))
    for step in STEPS:
        out.append(f'<section id="{esc(step.id)}"><h2>{esc(step.id)} — '
                   f"{esc(step.text('title', lang))}</h2>")
        out.append(f'<div class="q"><p class="fr" lang="fr">{esc(step.text("question", "fr"))}'
                   f'</p><p class="en" lang="en">{esc(step.text("question", "en"))}</p></div>')
        out.append(f"<h3>{esc(t('report.answer', lang))}</h3>")
        answer = answers.get(step.id) if isinstance(answers.get(step.id), str) else ""
        if answer:
            out.append(f'<div class="answer">{esc(answer)}</div>')
        else:
            out.append(f"<p><em>{esc(t('report.no_answer', lang))}</em></p>")
        if result is not None:
            row = next(r for r in result.rows if r.step == step.id)
            shots = [(s.file, s.time, _shot_checks(s, lang)) for s in row.shots]
        else:
            shots = [(str(e.get("file")), str(e.get("time", "")), _recorded(e, lang))
                     for e in m.get("screenshots", [])
                     if isinstance(e, dict) and e.get("step") == step.id]
        if not shots:
            out.append(f'<p class="no">{esc(t("report.no_screenshot", lang))}</p>')
        for name, time, checks in shots:
            out.extend(checks)
            uri = picture_uri(path, name)
            if uri is not None:
                caption = t("report.caption", lang, file=name, time=time)
                out.append(f'<figure><img src="{uri}" alt="{esc(name)}">'
                           f"<figcaption>{esc(caption)}</figcaption></figure>")
        out.append("</section>")
    out.append("</body></html>")
    data = "\n".join(out).encode("utf-8")
    target = path / REPORT
    with lock:
        write_atomic(target, data, lang)
    return target


def _checks_html(result: VerifyResult, lang: str) -> list[str]:
    out = [f"<h2>{esc(t('report.summary', lang))}</h2><table><tr>"]
    for key in ("verify.col.step", "report.col.title", "verify.col.present", "verify.col.intact",
                "verify.col.evidence", "verify.col.stamp", "verify.col.shows"):
        out.append(f"<th>{esc(t(key, lang))}</th>")
    out.append("</tr>")
    for step, row in zip(STEPS, result.rows, strict=True):
        out.append(f'<tr><td><a href="#{esc(step.id)}">{esc(step.id)}</a></td>'
                   f"<td>{esc(step.text('title', lang))}</td>"
                   + "".join(f"<td>{_yes_no(v, lang)}</td>" for v in (
                       row.present, row.intact, row.evidence, row.stamped, row.shows))
                   + "</tr>")
    out.append("</table>")
    if result.problems or result.notes or result.extra_files:
        out.append("<ul>")
        out.extend(f'<li class="missing">{esc(p)}</li>' for p in result.problems)
        out.extend(f"<li>{esc(n)}</li>" for n in result.notes)
        if result.extra_files:
            files = ", ".join(result.extra_files)
            out.append(f"<li>{esc(t('verify.extra', lang, files=files))}</li>")
        out.append("</ul>")
    return out


def _shot_checks(shot: ShotCheck, lang: str) -> list[str]:
    """What ``verify`` found of one screenshot."""
    parts = [f"<h3>{esc(t('report.evidence', lang))}</h3>"]
    if shot.evidence is not None:
        parts.append("<ul>")
        parts.extend(f'<li class="found">{esc(f)}</li>' for f in shot.evidence.found)
        parts.extend(f'<li class="missing">{esc(f)}</li>' for f in shot.evidence.missing)
        parts.append("</ul>")
    if shot.problem:
        parts.append(f'<p class="no">{esc(shot.problem)}</p>')
    return parts


def _recorded(entry: dict[str, Any], lang: str) -> list[str]:
    """What the app recorded when the picture was taken: a claim until verified."""
    parts = [f"<h3>{esc(t('report.recorded', lang))}</h3>"]
    evidence = entry.get("evidence")
    if isinstance(evidence, dict):
        parts.append("<ul>")
        for key, css in (("found", "found"), ("missing", "missing")):
            items = evidence.get(key)
            if isinstance(items, list):
                parts.extend(f'<li class="{css}">{esc(x)}</li>' for x in items)
        parts.append("</ul>")
    return parts
