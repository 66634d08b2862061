"""Graders with a class (issue 23): a gradebook file, the class by question, copies found
and explained (and none imagined between separate runs), pictures checked against their
sealed records, a student's report that never vouches for itself, answers edited by hand.

The class is made by the app itself (``grading_class``): 17 students in two runs (French
at 160x48, English at 80x24, the stacked layout), two of them through every step, the
others through one; then what copiers do: a folder renamed throughout and re-hashed (twice
from the same original), a renamed copy of a one-step folder, a verbatim copy of another,
and one step's picture borrowed into a student's own folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from grading_class import Student, answer_of, borrow_step, copy_as, make_class
from support import ROOT, cli, free_port

from tcp_observatory.lab.grading.copies import shared_evidence
from tcp_observatory.lab.grading.grade import check_all
from tcp_observatory.lab.grading.gradebook import HEADER
from tcp_observatory.lab.grading.manifest import MANIFEST, REPORT
from tcp_observatory.lab.grading.verify import verify
from tcp_observatory.lab.guide.steps import STEP_IDS
from tcp_observatory.lab.i18n import t

FR = [Student("alice", "Alice Martin", STEP_IDS)]
FR += [Student(f"p{k:02d}", f"Élève {k:02d}", (STEP_IDS[k % 5],)) for k in range(8)]
EN = [Student("chloe", "Chloé Durand", STEP_IDS)]
EN += [Student(f"q{k:02d}", f"Student {k:02d}", (STEP_IDS[(k + 2) % 5],)) for k in range(7)]
HONEST = {s.folder: s for s in FR + EN}
# (original, copy): every pair the class must name, and no other
PAIRS = {("alice", "eve"), ("alice", "fanny"), ("eve", "fanny"), ("p01", "p02"),
         ("gaston", "q03"), ("hugo", "q00")}


@dataclass
class Made:
    root: Path  # the class folder: one subfolder per submission
    port: int  # the lab port, the same for everyone (as 9500 in a lab room)
    reports: dict[str, str]  # each honest folder's report.html as the app wrote it
    borrowed: str  # the picture p01 took from p02


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("grading") / "class"
    port = free_port()
    make_class(root, FR, lang="fr", port=port, size=(160, 48))
    make_class(root, EN, lang="en", port=port, size=(80, 24))
    reports = {name: (root / name / REPORT).read_text(encoding="utf-8") for name in HONEST}
    copy_as(root / "alice", root / "eve", "Alice Martin", "Ève Copie")
    copy_as(root / "alice", root / "fanny", "Alice Martin", "Fanny Copie")
    shutil.copytree(root / "q03", root / "gaston")  # as it was: the files keep their dates
    copy_as(root / "q00", root / "hugo", "Student 00", "Hugo Copie")
    borrowed = borrow_step(root / "p02", "Élève 02", root / "p01", "Élève 01", "p1-q3")
    return Made(root, port, reports, borrowed)


@dataclass
class Graded:
    done: subprocess.CompletedProcess[str]
    rows: list[list[str]]
    page: str


@pytest.fixture(scope="session")
def graded(made: Made, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    out = tmp_path_factory.mktemp("graded")
    done = cli("verify", str(made.root), "--csv", str(out / "notes.csv"),
               "--report", str(out / "classe.html"))
    rows = list(csv.reader(io.StringIO((out / "notes.csv").read_bytes().decode("utf-8"),
                                       newline="")))
    return Graded(done, rows, (out / "classe.html").read_text(encoding="utf-8"))


def by_folder(graded: Graded) -> dict[str, dict[str, str]]:
    head = graded.rows[0]
    return {Path(r[0]).name: dict(zip(head, r, strict=True)) for r in graded.rows[1:]}


def pair_names(sentence: str, made: Made) -> tuple[str, str]:
    names = re.findall(re.escape(str(made.root)) + r"/(\w+)", sentence)
    return names[0], names[1]


# -- 1. the gradebook -------------------------------------------------------------------------
def test_the_gradebook_has_one_row_per_folder_and_one_column_per_step(
        made: Made, graded: Graded) -> None:
    assert graded.done.returncode == 1, graded.done.stdout + graded.done.stderr
    assert graded.rows[0] == list(HEADER)
    assert HEADER[5:10] == STEP_IDS
    rows = by_folder(graded)
    assert len(rows) == 21 == len([p for p in made.root.iterdir() if p.is_dir()])
    for name in ("p01", "chloe"):
        assert rows[name]["student"] == HONEST[name].name
        assert rows[name]["host"] == json.loads(
            (made.root / name / MANIFEST).read_text(encoding="utf-8"))["host"]
    assert [rows["chloe"][s] for s in STEP_IDS] == ["met"] * 5
    assert rows["chloe"]["verdict"] == "accepted" and rows["chloe"]["score"] == "5"
    # In the lab's language by default; a scene the app set up (Ctrl+R) is nothing wrong.
    assert rows["chloe"]["feedback"] == t("verify.ok", "fr", n=5)
    # p01 borrowed p02's p1-q3: refused there (on both sides), its own p1-q2 met.
    assert [rows["p01"][s] for s in STEP_IDS] == ["missing", "met", "refused", "missing",
                                                  "missing"]
    assert rows["p01"]["verdict"] == "refused" and rows["p01"]["score"] == "1"
    assert rows["p02"]["p1-q3"] == "refused"
    # A one-step student: that step met, the others missing, said in French.
    p03 = rows["p03"]
    assert [p03[s] for s in STEP_IDS] == ["missing", "missing", "missing", "met", "missing"]
    assert p03["verdict"] == "refused" and p03["score"] == "1"
    assert "p1-q1 : pas de capture" in p03["feedback"].replace("\xa0", " ")
    # A copy: every step it shares refused, and the feedback says with whom.
    assert [rows["eve"][s] for s in STEP_IDS] == ["refused"] * 5
    assert "partagent la même preuve du noyau" in rows["eve"]["feedback"]


def test_the_gradebook_speaks_english_when_asked_and_keeps_names_as_text(
        made: Made, tmp_path: Path) -> None:
    formula = copy_as(made.root / "q01", tmp_path / "q01", "Student 01", "=HYPERLINK(1)")
    done = cli("verify", str(formula), "--csv", str(tmp_path / "grades.csv"), "--lang", "en")
    assert done.returncode == 1, done.stdout + done.stderr
    head, row = list(csv.reader(io.StringIO(
        (tmp_path / "grades.csv").read_text(encoding="utf-8"), newline="")))
    got = dict(zip(head, row, strict=True))
    assert got["student"] == "'=HYPERLINK(1)"  # a spreadsheet reads it as text
    assert got["feedback"].startswith("REJECTED") and "p1-q1: no screenshot" in got["feedback"]


# -- 2. the class by question ---------------------------------------------------------------
def test_the_class_page_shows_each_question_across_the_class(made: Made,
                                                             graded: Graded) -> None:
    page = graded.page
    assert ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "img-src data:; style-src 'unsafe-inline'\">") in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    pictures = sum(len(json.loads((p / MANIFEST).read_text(encoding="utf-8"))["screenshots"])
                   for p in made.root.iterdir())
    assert page.count("data:image/svg+xml;base64,") == pictures
    sections = re.split(r'<section id="step-', page)[1:]
    assert [s[:s.index('"')] for s in sections] == list(STEP_IDS)
    for section in sections:  # one card per folder, the picture inside what opens it
        assert section.count('<details class="card ') == 21
        assert section.count("<summary>") == 21
    # Each student's answer, escaped: a student's markup is text on the page.
    raw = answer_of(HONEST["alice"], "p1-q2")
    assert raw not in page and "réponse à p1-q2 &lt;b&gt;&amp;&lt;/b&gt;" in page
    # The copy flag sits on the copier's card of the step it shares.
    q3 = sections[2]
    card = q3[q3.index("Élève 01"):]
    card = card[:card.index("</details>")]
    assert "flag copy" in card and str(made.root / "p02") in card


# -- 3. copies ------------------------------------------------------------------------------
def test_every_copy_pair_is_named_once_and_no_honest_pair(made: Made, graded: Graded) -> None:
    shared = [line[2:] for line in graded.done.stdout.splitlines()
              if line.startswith("! ") and "share the same kernel evidence" in line]
    assert {pair_names(s, made) for s in shared} == PAIRS
    assert len(shared) == len(PAIRS)
    # The honest runs share the host, the app's pid and the lab port, and no flag.
    hosts, pids, ports = set(), set(), set()
    for name in HONEST:
        manifest = json.loads((made.root / name / MANIFEST).read_text(encoding="utf-8"))
        hosts.add(manifest["host"])
        for entry in manifest["screenshots"]:
            ports.add(entry["port"])
            pids |= {r["pid"] for r in entry["snapshot"] if r["state"] == "LISTEN"}
    assert len(hosts) == len(pids) == 1 and ports == {made.port}
    for sentence in shared:
        assert f"port {made.port} " not in sentence  # the lab port counts for nothing
        assert "127.0.0.1" not in sentence
        assert "the same host" in sentence


def test_each_class_line_says_where_its_problems_are(made: Made, graded: Graded) -> None:
    """The verdict said "listed above" while the problems came below it (and a folder's own
    problems were not printed at all): now they follow its line, and it says so."""
    lines = graded.done.stdout.splitlines()
    at = lines.index(f"{made.root / 'eve'}\tÈve Copie\tREJECTED: 2 problems listed below.")
    assert lines[at + 1] == "    ! shares its kernel evidence with 2 other submissions " \
                            "(see below)"
    assert f"{made.root / 'chloe'}\tChloé Durand\tACCEPTED: all 5 steps are present, " \
           "intact, proven and stamped." in lines
    assert "above" not in graded.done.stdout
    assert lines[-1] == "1 of 21 submissions accepted."


def test_a_copy_pair_says_what_matches_and_whose_pictures_came_first(
        made: Made, graded: Graded) -> None:
    lines = graded.done.stdout.splitlines()
    alice_eve = next(x for x in lines if x.startswith("! ") and pair_names(x, made) == (
        "alice", "eve"))
    manifest = json.loads((made.root / "alice" / MANIFEST).read_text(encoding="utf-8"))
    client = next(r for r in manifest["screenshots"][0]["snapshot"]
                  if r["role"] == "client")
    port = client["local_port"]
    inodes = {r["inode"] for r in manifest["screenshots"][0]["snapshot"]
              if port in (r["local_port"], r["remote_port"])}
    said = re.search(rf"p1-q1: port {port}, the same socket \(inode (\d+), read at ",
                     alice_eve)
    assert said is not None and int(said.group(1)) in inodes, alice_eve
    assert (f"{made.root / 'alice'}'s pictures were written when they were taken, "
            f"{made.root / 'eve'}'s ") in alice_eve
    assert f"later: {made.root / 'eve'} holds the copy." in alice_eve
    # A copy that kept the files' dates: nobody can tell, and the sentence says so.
    verbatim = next(x for x in lines if x.startswith("! ") and "gaston" in x)
    assert "Nothing tells which came first" in verbatim
    # The borrowed step is named on both sides.
    borrowed = next(x for x in lines if x.startswith("! ") and "p01" in x)
    assert "p1-q3" in borrowed and "p1-q2" not in borrowed


def test_the_class_check_is_the_same_on_every_run(made: Made) -> None:
    folders = sorted(str(p) for p in made.root.iterdir())
    results, broken, pairs = check_all(folders, "en")
    again, _, _ = check_all(list(reversed(folders)), "en")
    assert not broken
    assert [p.sentence for p in pairs] == [p.sentence for p in shared_evidence(again, "en")]
    assert [(str(results[p.a].folder), str(results[p.b].folder)) for p in pairs] == sorted(
        (str(made.root / a), str(made.root / b)) for a, b in PAIRS)


# -- 4. what the picture shows --------------------------------------------------------------
def edit_picture(folder: Path, step: str, old: str, new: str, count: int = 1) -> str:
    """Change what a picture shows and redo its hash, as a forger would."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    entry = next(e for e in manifest["screenshots"] if e["step"] == step)
    svg = folder / entry["file"]
    text = svg.read_text(encoding="utf-8")
    assert old in text
    svg.write_text(text.replace(old, new, count), encoding="utf-8")
    entry["sha256"] = hashlib.sha256(svg.read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return str(entry["file"])


@pytest.mark.parametrize("name", ["alice", "chloe"])  # 160x48 in French, 80x24 in English
def test_a_picture_edited_and_rehashed_is_refused_naming_the_step_and_difference(
        made: Made, tmp_path: Path, name: str) -> None:
    folder = tmp_path / name
    shutil.copytree(made.root / name, folder)
    assert verify(folder, "en").ok
    file = edit_picture(folder, "p1-q1", ">ESTABLISHED", ">CLOSE_WAIT")
    result = verify(folder, "en")
    assert not result.ok
    row = {r.step: r for r in result.rows}["p1-q1"]
    assert row.intact and row.stamped and row.evidence and not row.shows
    assert result.problems == [
        f"{file} (step p1-q1): the picture does not show what its sealed record says: row 2 "
        "(server ↔ client 1), column State: the picture shows \"CLOSE_WAIT\", the record "
        "\"ESTABLISHED\""]


def test_a_picture_with_another_port_or_time_is_refused(made: Made, tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    shutil.copytree(made.root / "alice", folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    entry = next(e for e in manifest["screenshots"] if e["step"] == "p2-fin")
    client = next(r for r in entry["snapshot"] if r["state"] == "TIME_WAIT")
    port = str(client["local_port"])
    other = str(int(port) + 1 if int(port) < 65535 else int(port) - 1)
    edit_picture(folder, "p2-fin", f">127.0.0.1:{port}", f">127.0.0.1:{other}")
    problems = verify(folder, "fr").problems
    assert len(problems) == 1 and "étape p2-fin" in problems[0]
    assert f"l'image montre «\xa0127.0.0.1:{other}\xa0», le relevé «\xa0127.0.0.1:{port}" in (
        problems[0])
    # The stamp's time is the record's too.
    stamp = re.search(r"\d{4}-\d\d-\d\d&#160;(\d\d):\d\d:\d\d",
                      (folder / next(e["file"] for e in manifest["screenshots"]
                                     if e["step"] == "p1-q2")).read_text(encoding="utf-8"))
    assert stamp is not None
    hour = int(stamp.group(1))
    edit_picture(folder, "p1-q2", stamp.group(0),
                 stamp.group(0).replace(f"&#160;{hour:02d}:", f"&#160;{(hour + 1) % 24:02d}:"))
    problems = verify(folder, "en").problems
    assert len(problems) == 2
    assert any("(step p1-q2)" in p and "its stamp says" in p for p in problems)


# -- 5. the student's report ----------------------------------------------------------------
def test_the_report_the_app_writes_says_it_is_not_verified(made: Made) -> None:
    page = made.reports["alice"]
    assert "NON VÉRIFIÉ" in page and "VALIDE" not in page and "REFUSÉ" not in page
    # Its digest is the manifest's as the app left it (the student's last save).
    digest = re.search(r"<dd>([0-9a-f]{64})</dd>", page)
    assert digest is not None
    assert digest.group(1) == hashlib.sha256(
        (made.root / "alice" / MANIFEST).read_bytes()).hexdigest()
    assert page.count("data:image/svg+xml;base64,") == len(STEP_IDS)
    english = made.reports["q00"]
    assert "NOT VERIFIED" in english


def test_verify_rewrites_the_report_with_its_verdict(made: Made, tmp_path: Path) -> None:
    folder = tmp_path / "chloe"
    shutil.copytree(made.root / "chloe", folder)
    assert cli("verify", str(folder)).returncode == 0  # the terminal in English, the page in French
    page = (folder / REPORT).read_text(encoding="utf-8")
    assert "VALIDE" in page and "NON VÉRIFIÉ" not in page
    digest = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    assert f"<dd>{digest}</dd>" in page
    # One picture deleted: the page it had said accepted now says refused.
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    gone = manifest["screenshots"][2]["file"]
    (folder / gone).unlink()
    assert cli("verify", str(folder), "--lang", "en").returncode == 1
    page = (folder / REPORT).read_text(encoding="utf-8")
    assert "REJECTED" in page and "ACCEPTED" not in page and f"{gone} is missing" in page
    assert page.count("data:image/svg+xml;base64,") == len(STEP_IDS) - 1


# -- 6. answers -----------------------------------------------------------------------------
def test_an_answer_edited_outside_the_app_is_noted_not_refused(made: Made,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    shutil.copytree(made.root / "alice", folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["answers"]["p1-q2"] == answer_of(HONEST["alice"], "p1-q2")
    assert set(manifest["answer_digests"]) == set(STEP_IDS)
    before = verify(folder, "en").notes
    assert before and not any("answer" in n for n in before)  # the scenes' notes only
    manifest["answers"]["p1-q2"] = "CLOSE_WAIT côté serveur, FIN_WAIT_2 côté client."
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = verify(folder, "en")
    assert result.ok  # a note: the answer is read and graded by a person
    assert "The answer to p1-q2 was edited outside the app (it no longer matches the digest " \
           "stored when the app saved it)" in result.notes
    assert not any("p1-q1" in n and "answer" in n for n in result.notes)
    assert cli("verify", str(folder), "--csv", str(tmp_path / "notes.csv")).returncode == 0
    row = (tmp_path / "notes.csv").read_text(encoding="utf-8").splitlines()[1]
    assert ",accepted,5," in row and "La réponse à p1-q2 a été modifiée hors de l" in row


# -- 7. the README ----------------------------------------------------------------------------
@pytest.mark.needs("posix-paths")
def test_readme_says_what_each_check_can_and_cannot_find() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for said in ("What `verify` proves about one folder",
                 "What only the class check finds",
                 "What no offline check finds",
                 "--csv FILE", "--report FILE.html"):
        assert said in readme, said
