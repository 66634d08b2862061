"""Where the student is in the lab, kept in the screenshots folder so a restart resumes there.

``progress.json`` is a convenience, not evidence: a missing or damaged file gives the
defaults (the first step, nothing done) instead of an error.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tcp_observatory.lab.files import ensure_folder, write_atomic
from tcp_observatory.lab.guide.steps import MAX_ANSWER, STEP_IDS
from tcp_observatory.lab.text import clean_field

PROGRESS = "progress.json"  # beside the screenshots and their manifest


@dataclass
class Progress:
    step: str = STEP_IDS[0]  # the step on screen
    met: list[str] = field(default_factory=list)  # steps whose evidence was seen, in lab order
    answers: dict[str, str] = field(default_factory=dict)
    student: str = ""

    def mark_met(self, step_id: str) -> None:
        if step_id in STEP_IDS and step_id not in self.met:
            self.met = [s for s in STEP_IDS if s in self.met or s == step_id]

    def to_json(self) -> dict[str, Any]:
        return {"format": 1, "step": self.step, "met": list(self.met),
                "answers": dict(self.answers), "student": self.student}

    @classmethod
    def from_json(cls, data: object) -> Progress:
        """Whatever can be read from ``data``; anything unexpected falls back to a default."""
        if not isinstance(data, dict):
            return cls()
        step = data.get("step")
        met = data.get("met")
        answers = data.get("answers")
        student = data.get("student")
        return cls(
            step=step if step in STEP_IDS else STEP_IDS[0],
            met=[s for s in STEP_IDS if isinstance(met, list) and s in met],
            answers={k: v[:MAX_ANSWER] for k, v in answers.items()
                     if k in STEP_IDS and isinstance(v, str)} if isinstance(answers, dict) else {},
            student=clean_field(student) if isinstance(student, str) else "",
        )


def load_progress(folder: str | os.PathLike[str]) -> Progress:
    """The saved progress, or the defaults when there is none or it cannot be read."""
    try:
        text = (Path(folder) / PROGRESS).read_text(encoding="utf-8")
        return Progress.from_json(json.loads(text))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return Progress()


def save_progress(folder: str | os.PathLike[str], progress: Progress, lang: str = "fr") -> Path:
    """Write ``progress.json`` at once (LabError with one sentence when it cannot be written)."""
    path = ensure_folder(folder, lang) / PROGRESS
    data = json.dumps(progress.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
    write_atomic(path, data, lang)
    return path
