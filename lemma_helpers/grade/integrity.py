"""Did each notebook do the assignment it was set? What ``lh.start_assignment`` recorded, checked.

A graded notebook starts with ``lh.start_assignment("<id>", code="<its code>")``
(summative) and the call is recorded in the notebook's outputs. The grader
checks each student's records against the assignment and the class:

* the **id** is the assignment's (not another week's, or a typo);
* the **mode** is the assignment's (a summative notebook switched to
  ``formative`` showed its owner verdicts while they worked);
* the **code** is there when the assignment gives variants, and is the
  student's own (not another student's, nor one nobody was given);
* no two students used the **same code**.

Every finding goes to the Problems section of the summary and into the
student's feedback; the marks are not changed by it (that is the
instructor's call).
"""
from __future__ import annotations

from .results import Submission


def _declared(sub: Submission) -> tuple:
    ids = sorted({d.get("assignment", "") for d in sub.declared if d.get("assignment")})
    modes = sorted({d.get("mode", "") for d in sub.declared if d.get("mode")})
    codes = sorted({d.get("code", "") for d in sub.declared if d.get("code")})
    return ids, modes, codes


def findings(sub: Submission, assignment, code: str | None, owner_of_code: dict) -> list:
    """What is wrong with how ``sub`` started the assignment (``code``: the student's own code, when the
    assignment gives variants; ``owner_of_code``: every student's code -> the student)."""
    if sub.status == "missing" or assignment is None:
        return []
    ids, modes, codes = _declared(sub)
    out = []
    if not sub.declared:
        if assignment.summative or assignment.variants:
            call = f'lh.start_assignment("{assignment.id}"' + (', code="..."' if assignment.variants else "") + ")"
            out.append(f"{call} never ran: the notebook was not started as this assignment")
        return out
    wrong_ids = [i for i in ids if i != assignment.id]
    if wrong_ids:
        out.append(f"started as assignment {', '.join(repr(i) for i in wrong_ids)}, not {assignment.id!r}")
    if assignment.summative and any(m != "summative" for m in modes):
        out.append("switched to formative mode in a summative assignment (lh.check showed verdicts)")
    if assignment.variants:
        if not codes:
            out.append("no variant code was given to lh.start_assignment: the full data were used, not the "
                       "student's own")
        elif codes != [code]:
            others = sorted({owner_of_code[c] for c in codes if c in owner_of_code and owner_of_code[c] != sub.student})
            unknown = [c for c in codes if c not in owner_of_code]
            out.append("used " + ("another student's code (" + ", ".join(others) + ")" if others else "")
                       + (" and " if others and unknown else "")
                       + ("a code nobody was given (" + ", ".join(unknown) + ")" if unknown else "")
                       + ", not their own")
    return out


def shared_codes(subs: list) -> dict:
    """``{student: [other students who used the same code]}`` for codes that more than one student used."""
    users: dict = {}
    for sub in subs:
        for c in _declared(sub)[2]:
            users.setdefault(c, set()).add(sub.student)
    out: dict = {}
    for group in users.values():
        if len(group) > 1:
            for s in group:
                out.setdefault(s, set()).update(group - {s})
    return {s: sorted(others) for s, others in out.items()}
