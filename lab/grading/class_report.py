"""The class by question: one offline page where each step shows every student's picture
side by side (a thumbnail that opens at full size, without a script), its verdict, its
copy flags and the student's answer, so a grader grades one question at a time.

Everything a student wrote (names, hosts, answers, file names) is escaped; the pictures
are data: URIs, and the page's content policy loads nothing and runs nothing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tcp_observatory.lab.files import write_atomic
from tcp_observatory.lab.grading.copies import SharedPair
from tcp_observatory.lab.grading.report import CSS, esc, head_html, picture_uri
from tcp_observatory.lab.grading.verify import StepRow, VerifyResult, verdict
from tcp_observatory.lab.guide.steps import STEPS
from tcp_observatory.lab.i18n import t

_CLASS_CSS = CSS + """
body{max-width:none}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(22rem,1fr));gap:.8rem}
details.card{background:#fff;border:2px solid #999;border-radius:.4rem;padding:.4rem .6rem}
details.card.met{border-color:#0a6b2d}details.card.refused{border-color:#b00020}
details.card.missing{border-style:dashed}
details.card[open]{grid-column:1/-1}
summary{cursor:zoom-in;list-style:none}details[open] summary{cursor:zoom-out}
summary span{display:block}.who{font-weight:700}
.grade{font-weight:700}.grade.met{color:#0a6b2d}.grade.refused{color:#b00020}
.grade.missing{color:#666}
.flag{color:#b00020;font-size:.85rem}.flag.copy{background:#fbdde2;padding:.1rem .3rem}
.note{color:#555;font-size:.85rem}
summary .answer{max-height:12rem;overflow:auto;font-size:.85rem;margin:.3rem 0}
summary img{display:block;width:100%;border:1px solid #888;margin-top:.3rem}
td.met{background:#d9f2e1}td.refused{background:#fbdde2}td.missing{color:#666}
"""


def write_class_report(target: str | os.PathLike[str], results: Sequence[VerifyResult],
                       pairs: Sequence[SharedPair], broken: Sequence[tuple[str, str]],
                       lang: str) -> Path:
    """Write the class's page to ``target``; LabError when it cannot be written."""
    ordered = sorted(range(len(results)), key=lambda i: str(results[i].folder))
    accepted = sum(r.ok for r in results)
    total = len(results) + len(broken)
    out = head_html(t("class.title", lang), lang, _CLASS_CSS)
    when = datetime.now().astimezone().isoformat(timespec="seconds")
    out.append(f"<header><h1>{esc(t('class.title', lang))}</h1>")
    out.append(f"<p>{esc(t('verify.many', lang, n=accepted, total=total))} "
               f"{esc(t('class.made', lang, time=when))}</p>")
    out.append("<p>" + " · ".join(f'<a href="#step-{esc(s.id)}">{esc(s.id)}</a>'
                                  for s in STEPS) + "</p></header>")
    # The class at a glance
    out.append(f"<h2>{esc(t('report.summary', lang))}</h2><table><tr>")
    for label in (t("class.col.student", lang), t("report.host", lang),
                  t("class.col.folder", lang), t("class.col.verdict", lang),
                  *(s.id for s in STEPS)):
        out.append(f"<th>{esc(label)}</th>")
    out.append("</tr>")
    for i in ordered:
        r = results[i]
        out.append(f"<tr><td>{esc(r.manifest.get('student') or '?')}</td>"
                   f"<td>{esc(r.manifest.get('host') or '?')}</td><td>{esc(r.folder)}</td>"
                   f"<td>{esc(verdict(r, lang, 'listed'))}</td>")
        for row in r.rows:
            out.append(f'<td class="{row.grade}"><a href="#{_card_id(row.step, i)}">'
                       f"{esc(t(f'grade.{row.grade}', lang))}</a></td>")
        out.append("</tr>")
    for folder, error in broken:
        out.append(f"<tr><td>?</td><td>?</td><td>{esc(folder)}</td><td>{esc(error)}</td>"
                   + "".join('<td class="missing"></td>' for _ in STEPS) + "</tr>")
    out.append("</table>")
    # Copies
    out.append(f"<h2>{esc(t('class.copies', lang))}</h2>")
    if pairs:
        out.append("<ul>" + "".join(f'<li class="flag copy">{esc(p.sentence)}</li>'
                                    for p in pairs) + "</ul>")
    else:
        out.append(f"<p>{esc(t('class.no_copies', lang))}</p>")
    # One section per question
    for n, step in enumerate(STEPS):
        out.append(f'<section id="step-{esc(step.id)}"><h2>{esc(step.id)} — '
                   f"{esc(step.text('title', lang))}</h2>")
        out.append(f'<div class="q"><p class="fr" lang="fr">{esc(step.text("question", "fr"))}'
                   f'</p><p class="en" lang="en">{esc(step.text("question", "en"))}</p></div>')
        out.append(f'<p class="note">{esc(t("class.open", lang))}</p><div class="grid">')
        for i in ordered:
            out.append(_card(results[i], results[i].rows[n], i, pairs, lang))
        out.append("</div></section>")
    out.append("</body></html>")
    path = Path(target)
    write_atomic(path, "\n".join(out).encode("utf-8"), lang)
    return path


def _card_id(step: str, i: int) -> str:
    return f"{step}-{i}"


def _card(r: VerifyResult, row: StepRow, i: int, pairs: Sequence[SharedPair],
          lang: str) -> str:
    """One student's answer to one question: a card whose picture opens at full size."""
    grade = row.grade
    parts = [f'<details class="card {grade}" id="{_card_id(row.step, i)}"><summary>',
             f'<span class="who">{esc(r.manifest.get("student") or "?")}</span>',
             f'<span class="note">{esc(r.folder)} · {esc(r.manifest.get("host") or "?")}</span>',
             f'<span class="grade {grade}">{esc(t(f"grade.{grade}", lang))}</span>']
    copies = {p.sentence for p in pairs if i in (p.a, p.b) and row.step in p.steps[i]}
    for problem in row.problems:
        css = "flag copy" if problem in copies else "flag"
        parts.append(f'<span class="{css}">{esc(problem)}</span>')
    for shot in row.shots:
        if shot.intact and shot.evidence is not None and not shot.evidence.met:
            parts.extend(f'<span class="flag">{esc(m)}</span>' for m in shot.evidence.missing)
        if shot.intact and not shot.stamped:
            parts.append(f'<span class="flag">{esc(t("verify.no_stamp", lang))}</span>')
    answers = r.manifest.get("answers")
    answer = answers.get(row.step) if isinstance(answers, dict) else None
    if isinstance(answer, str) and answer:
        parts.append(f'<span class="answer">{esc(answer)}</span>')
    else:
        parts.append(f'<span class="note">{esc(t("report.no_answer", lang))}</span>')
    parts.extend(f'<span class="note">{esc(note)}</span>' for note in r.notes
                 if row.step in note)
    for shot in row.shots:
        uri = picture_uri(Path(r.folder), shot.file) if shot.present else None
        if uri is not None:
            parts.append(f'<img src="{uri}" alt="{esc(shot.file)}">')
    parts.append("</summary></details>")
    return "\n".join(parts)
