"""``tcp-observatory verify DIR... [--csv FILE] [--report FILE.html]``: one submission or a
class. Each folder is checked alone (``verify``), the class for copies (``copies``); the
verdicts go to the terminal, to each student's ``report.html``, and on demand to a
gradebook (CSV) and to one page by question (HTML)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from tcp_observatory.lab.errors import LabError
from tcp_observatory.lab.grading.class_report import write_class_report
from tcp_observatory.lab.grading.copies import SharedPair, flag_copies, json_pairs
from tcp_observatory.lab.grading.gradebook import write_gradebook
from tcp_observatory.lab.grading.manifest import MANIFEST
from tcp_observatory.lab.grading.report import write_report
from tcp_observatory.lab.grading.verify import VerifyResult, format_verify, verdict, verify
from tcp_observatory.lab.i18n import t
from tcp_observatory.lab.text import printable


def class_folders(folder: str) -> list[str]:
    """The submissions in a class folder: its subfolders that hold a manifest (none when
    ``folder`` is itself a submission)."""
    path = Path(folder)
    if (path / MANIFEST).exists() or not path.is_dir():
        return []
    with contextlib.suppress(OSError):
        return [str(p) for p in sorted(path.iterdir()) if (p / MANIFEST).is_file()]
    return []


def check_all(folders: Sequence[str], lang: str) -> tuple[list[VerifyResult],
                                                         list[tuple[str, str]],
                                                         list[SharedPair]]:
    """Every folder checked alone, then the class for copies (with two folders or more).
    Folders that are not submissions are returned with their one sentence."""
    results: list[VerifyResult] = []
    broken: list[tuple[str, str]] = []
    for folder in folders:
        try:
            results.append(verify(folder, lang))
        except LabError as exc:
            broken.append((str(folder), str(exc)))
        except Exception as exc:  # a manifest edited into a shape nobody foresaw
            broken.append((str(folder), t("bundle.bad_manifest", lang, file=folder,
                                          reason=printable(repr(exc), 200))))
    pairs = flag_copies(results, lang) if len(results) > 1 else []
    return results, broken, pairs


def _rewrite_reports(results: Sequence[VerifyResult], lang: str) -> None:
    """Each student's page now says the verdict (a folder may be read-only: said, not
    fatal)."""
    for result in results:
        try:
            write_report(result.folder, lang, result)
        except (LabError, OSError) as exc:
            print(t("verify.report_not_written", lang, folder=result.folder,
                    reason=printable(str(exc), 200)), file=sys.stderr, flush=True)


def run_verify(args: argparse.Namespace) -> int:
    """0 every submission accepted, 1 one refused, 2 one folder not a submission at all.

    With several folders, or one class folder whose subfolders are the submissions, one
    line per submission with its problems under it, the pairs that share kernel evidence,
    then a count."""
    lang = getattr(args, "lang", "fr")
    # What the students read (the gradebook's feedback, the pages) is in the lab's
    # language unless --lang says otherwise; the terminal follows the grader's locale.
    files_lang = lang if getattr(args, "lang_chosen", False) else "fr"
    folders = [str(f) for f in (args.folder if isinstance(args.folder, list) else [args.folder])]
    if len(folders) == 1:
        folders = class_folders(folders[0]) or folders
    # Sentences are made in one language: the files' first, then the terminal's if another.
    results, broken, pairs = check_all(folders, files_lang)
    _rewrite_reports(results, files_lang)
    csv_file, page = getattr(args, "csv", None), getattr(args, "report", None)
    if csv_file:
        write_gradebook(csv_file, results, broken, files_lang)
    if page:
        write_class_report(page, results, pairs, broken, files_lang)
    if files_lang != lang:
        results, broken, pairs = check_all(folders, lang)
    code = 2 if broken else (0 if results and all(r.ok for r in results) else 1)
    as_json = getattr(args, "json", False)
    if len(folders) == 1 and not broken:
        result = results[0]
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        else:
            print(format_verify(result, lang), flush=True)
        return code
    if len(folders) == 1:
        print(broken[0][1], file=sys.stderr, flush=True)
        return code
    if as_json:
        out = [r.to_json() for r in results]
        out.extend({"folder": f, "ok": False, "error": e} for f, e in broken)
        print(json.dumps({"submissions": out, "copies": json_pairs(results, pairs)},
                         ensure_ascii=False, indent=1))
        return code
    print(format_class(results, broken, pairs, lang), flush=True)
    return code


def format_class(results: Sequence[VerifyResult], broken: Sequence[tuple[str, str]],
                 pairs: Sequence[SharedPair], lang: str) -> str:
    """One line per submission (folder, student, verdict) and its problems under it, then
    the pairs that share kernel evidence, then the count."""
    lines: list[str] = []
    for result in sorted(results, key=lambda r: str(r.folder)):
        student = printable(str(result.manifest.get("student") or "?"), 60)
        lines.append(f"{result.folder}\t{student}\t{verdict(result, lang, 'below')}")
        lines.extend(f"    ! {p}" for p in result.problems if p not in
                     {pair.sentence for pair in pairs})
        if result.copies:
            lines.append("    ! " + t("verify.copies_below", lang, n=len(result.copies)))
    for folder, error in broken:
        lines.append(f"{folder}\t-\t{error}")
    if pairs:
        lines.append("")
        lines.append(t("verify.shared_count", lang, n=len(pairs)))
        lines.extend(f"! {pair.sentence}" for pair in pairs)
    accepted = sum(r.ok for r in results)
    lines.append(t("verify.many", lang, n=accepted, total=len(results) + len(broken)))
    return "\n".join(lines)
