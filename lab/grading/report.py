"""``report.html``: one offline page with every step, its screenshot, answer and checks."""

from __future__ import annotations

import base64
import contextlib
import html
import os
from pathlib import Path

from lab.files import write_atomic
from lab.grading.manifest import APP_NAME, REPORT, lock
from lab.grading.verify import ShotCheck, safe_name, verdict, verify
from lab.guide.steps import STEPS
from lab.i18n import t

_CSS = """
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
section{background:#fff;border:1px solid #ccc;border-radius:.4rem;padding:.5rem 1.2rem;
margin:1.2rem 0}
.q p{margin:.3rem 0}.q .en{color:#555;font-style:italic}
.answer{white-space:pre-wrap;background:#f3f3f3;border-left:4px solid #777;padding:.5rem .8rem;
font-family:ui-monospace,"Cascadia Mono",Menlo,monospace}
figure{margin:.8rem 0}figure img{max-width:100%;border:1px solid #888}
figcaption{font-size:.85rem;color:#444}li.found::marker{content:"✓ "}
li.missing::marker{content:"✗ "}li.missing{color:#b00020}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _yes_no(value: bool, lang: str) -> str:
    word = "yes" if value else "no"
    return f'<span class="{word}">{_e(t(word, lang))}</span>'


def write_report(folder: str | os.PathLike[str], lang: str = "fr") -> Path:
    """Write ``report.html``: one offline page with every step, screenshot, answer and check."""
    path = Path(folder)
    result = verify(path, lang)
    m = result.manifest
    answers = m.get("answers") or {}
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'img-src data:; style-src \'unsafe-inline\'">',
        f"<title>{_e(APP_NAME)} — {_e(m.get('student') or '')}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(t('report.title', lang))}</h1><dl>",
    ]
    for key, value in (("report.student", m.get("student")), ("report.host", m.get("host")),
                       ("report.version", f"{APP_NAME} {m.get('version') or '?'}"),
                       ("report.created", m.get("created")), ("report.updated", m.get("updated"))):
        out.append(f"<dt>{_e(t(key, lang))}</dt><dd>{_e(value or '?')}</dd>")
    out.append("</dl>")
    out.append(f'<p class="verdict {"ok" if result.ok else "bad"}">{_e(verdict(result, lang))}</p>')
    out.append("</header>")
    # Summary table
    out.append(f"<h2>{_e(t('report.summary', lang))}</h2><table><tr>")
    for key in ("verify.col.step", "report.col.title", "verify.col.present", "verify.col.intact",
                "verify.col.evidence", "verify.col.stamp"):
        out.append(f"<th>{_e(t(key, lang))}</th>")
    out.append("</tr>")
    for step, row in zip(STEPS, result.rows, strict=True):
        out.append(f'<tr><td><a href="#{_e(step.id)}">{_e(step.id)}</a></td>'
                   f"<td>{_e(step.text('title', lang))}</td>"
                   + "".join(f"<td>{_yes_no(v, lang)}</td>"
                             for v in (row.present, row.intact, row.evidence, row.stamped))
                   + "</tr>")
    out.append("</table>")
    if result.problems or result.notes or result.extra_files:
        out.append("<ul>")
        out.extend(f'<li class="missing">{_e(p)}</li>' for p in result.problems)
        out.extend(f"<li>{_e(n)}</li>" for n in result.notes)
        if result.extra_files:
            files = ", ".join(result.extra_files)
            out.append(f"<li>{_e(t('verify.extra', lang, files=files))}</li>")
        out.append("</ul>")
    # One section per step
    for step, row in zip(STEPS, result.rows, strict=True):
        out.append(f'<section id="{_e(step.id)}"><h2>{_e(step.id)} — '
                   f"{_e(step.text('title', lang))}</h2>")
        out.append(f'<div class="q"><p class="fr" lang="fr">{_e(step.text("question", "fr"))}'
                   f'</p><p class="en" lang="en">{_e(step.text("question", "en"))}</p></div>')
        out.append(f"<h3>{_e(t('report.answer', lang))}</h3>")
        answer = answers.get(step.id) if isinstance(answers.get(step.id), str) else ""
        if answer:
            out.append(f'<div class="answer">{_e(answer)}</div>')
        else:
            out.append(f"<p><em>{_e(t('report.no_answer', lang))}</em></p>")
        if not row.shots:
            out.append(f'<p class="no">{_e(t("report.no_screenshot", lang))}</p>')
        for shot in row.shots:
            out.append(_shot_html(path, shot, lang))
        out.append("</section>")
    out.append("</body></html>")
    data = "\n".join(out).encode("utf-8")
    target = path / REPORT
    with lock:
        write_atomic(target, data, lang)
    return target


def _shot_html(folder: Path, shot: ShotCheck, lang: str) -> str:
    parts = [f"<h3>{_e(t('report.evidence', lang))}</h3>"]
    if shot.evidence is not None:
        parts.append("<ul>")
        parts.extend(f'<li class="found">{_e(f)}</li>' for f in shot.evidence.found)
        parts.extend(f'<li class="missing">{_e(f)}</li>' for f in shot.evidence.missing)
        parts.append("</ul>")
    if shot.problem:
        parts.append(f'<p class="no">{_e(shot.problem)}</p>')
    if shot.present and safe_name(shot.file):
        with contextlib.suppress(OSError):
            data = (folder / shot.file).read_bytes()
            uri = "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")
            caption = t("report.caption", lang, file=shot.file, time=shot.time,
                        intact=t("yes" if shot.intact else "no", lang),
                        stamp=t("yes" if shot.stamped else "no", lang))
            parts.append(f'<figure><img src="{uri}" alt="{_e(shot.file)}">'
                         f"<figcaption>{_e(caption)}</figcaption></figure>")
    return "\n".join(parts)
