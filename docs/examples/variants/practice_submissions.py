"""A practice run only: play three students of the example class, writing their notebooks of quiz-v51 into
submissions/ (the first two use their own codes from codes.csv, the third copies the first one's notebook).
Usage: python practice_submissions.py codes.csv submissions"""
import csv
import sys
from pathlib import Path

import nbformat

codes, out = Path(sys.argv[1]), Path(sys.argv[2])
here = Path(__file__).resolve().parent
with open(codes, newline="", encoding="utf-8") as f:
    students = list(csv.DictReader(f))[:3]
for i, st in enumerate(students):
    nb = nbformat.read(str(here / "quiz-v51.ipynb"), as_version=4)
    code = students[0]["code"] if i == 2 else st["code"]          # the third hands in a copy of the first's
    nb.cells[1].source = nb.cells[1].source.replace("YOUR-CODE", code)
    nb.cells[4].source = ('m0 = lh.fit("score ~ 1 + (1 | schoolid)", data=ssls)\n'
                          'lh.check("V5.1.q1", round(m0.vpc(), 3))')
    (out / st["id"]).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out / st["id"] / "quiz-v51.ipynb"))
print(f"wrote {len(students)} practice notebooks into {out}/")
