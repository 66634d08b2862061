"""The class as a gradebook file: one CSV row per submission, one column per step, and
feedback in the lab's language, for a learning platform's grade import."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

from tcp_observatory.lab.files import write_atomic
from tcp_observatory.lab.grading.verify import VerifyResult, verdict
from tcp_observatory.lab.guide.steps import STEP_IDS
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.text import printable

HEADER = ("folder", "student", "host", "verdict", "score", *STEP_IDS, "feedback")
# A spreadsheet runs a cell that starts with one of these as a formula: a student's name
# is text, never a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = printable(str(value))
    return "'" + text if text.startswith(_FORMULA) else text


def feedback(result: VerifyResult, lang: str) -> str:
    """What is wrong, in sentences: the verdict, then each missing step, each piece of
    evidence not shown, each problem, and the answers edited outside the app (a scene
    the app set up, Ctrl+R, is the lab's way: not said here)."""
    items = [verdict(result, lang, "listed")]
    for row in result.rows:
        if not row.present:
            items.append(t("grade.no_shot", lang, step=row.step))
        for shot in row.shots:
            if shot.intact and shot.evidence is not None and not shot.evidence.met:
                items.extend(f"{row.step}: {m}" for m in shot.evidence.missing)
            if shot.intact and not shot.stamped:
                items.append(f"{shot.file}: {t('verify.no_stamp', lang)}")
    items.extend(result.problems)
    items.extend(t("grade.note", lang, note=n) for n in result.answer_notes)
    return " | ".join(items)


def gradebook_rows(results: Sequence[VerifyResult], broken: Sequence[tuple[str, str]],
                   lang: str) -> list[list[str]]:
    rows: list[list[str]] = [list(HEADER)]
    for r in results:
        m = r.manifest
        grades = [row.grade for row in r.rows]
        rows.append([safe_cell(x) for x in (
            r.folder, m.get("student") or "", m.get("host") or "",
            "accepted" if r.ok else "refused", grades.count("met"), *grades,
            feedback(r, lang))])
    for folder, error in broken:
        rows.append([safe_cell(x) for x in (folder, "", "", "refused", 0,
                                            *("missing" for _ in STEP_IDS), error)])
    return rows


def write_gradebook(path: str | os.PathLike[str], results: Sequence[VerifyResult],
                    broken: Sequence[tuple[str, str]], lang: str) -> None:
    """UTF-8, comma-separated, a header; LabError (one sentence) when it cannot be written."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(gradebook_rows(results, broken, lang))
    write_atomic(path, out.getvalue().encode("utf-8"), lang)
