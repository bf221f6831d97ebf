"""The record a grading run leaves for ``lemma-grade merge`` (``grading_record.json``, beside the gradebook).

The gradebook holds points; a platform import needs more: each student's
e-mail and platform ids, the assignment's maximum, Moodle's maximum grade, the
Canvas assignment id, which platform files were asked for, and where each
student's feedback file is. The run writes them here (never a file a person
edits: it is rewritten by every run), so that ``merge`` can write
``grades_final.csv``, the feedback and the platform files again with the
written marks included.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._validation import LemmaError
from .exports import Row, Target

FILE = "grading_record.json"


@dataclass
class Record:
    target: Target
    exports: list                                   # platform files asked for (--export)
    rows: list                                      # [Row], in gradebook order
    names: dict = field(default_factory=dict)       # student -> feedback file name (feedback/<name>.md)
    platforms: dict = field(default_factory=dict)   # student -> download info (feedback zips)
    written: dict = field(default_factory=dict)     # item number (str) -> points
    written_default: float = 1.0
    automatic_maximum: float = 0.0                  # the points of the automatically marked questions

    def written_points(self, item) -> float:
        return float(self.written.get(str(item), self.written_default))


def rows_of(graded: list, students: list | None) -> list:
    """One :class:`~lemma_helpers.grade.exports.Row` per student of a run's :class:`~.run.Graded` results."""
    from .marks import total

    rows = []
    for g in graded:
        st, p = g.student, g.platform
        # this download's participant id first: Moodle's participant ids are per assignment
        pid = p.get("moodle_pid") or (st.platform_id if st and students is not None else "")
        rows.append(Row(g.sub.student, (st.name if st and st.name else p.get("name", "")) or g.sub.student,
                        st.email if st else "", pid if pid.isdigit() else "",
                        p.get("canvas_uid") or (st.platform_id if st else ""), st.id if st else g.sub.student,
                        g.sub.status, None if g.sub.status == "missing" else total(g.marks), "",
                        st.comment if st else ""))
    return rows


def write_record(folder: Path, record: Record) -> Path:
    path = folder / FILE
    data = {"target": asdict(record.target), "exports": list(record.exports),
            "rows": [asdict(r) for r in record.rows], "names": record.names, "platforms": record.platforms,
            "written": {str(k): v for k, v in record.written.items()}, "written_default": record.written_default,
            "automatic_maximum": record.automatic_maximum}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_record(folder: Path) -> Record | None:
    """The record of the run whose outputs are in ``folder``, or None when there is none (an older run)."""
    path = folder / FILE
    if not path.exists():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return Record(Target(**d["target"]), list(d["exports"]), [Row(**r) for r in d["rows"]], d["names"],
                      d["platforms"], d["written"], float(d["written_default"]), float(d["automatic_maximum"]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise LemmaError(f"{path} cannot be read ({type(err).__name__}); grade again to write it anew.") from None
