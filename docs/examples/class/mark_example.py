"""The example class only: play the marker, typing marks and comments into the marking sheet (a person does
this in a spreadsheet). Usage: python mark_example.py results/marking_sheet.csv"""
import csv
import sys

path = sys.argv[1]
with open(path, newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
for row in rows:
    if not row["marks"]:
        answered = row["answer"] != "(not answered)"
        row["marks"] = row["max"] if answered and len(row["answer"]) > 40 else ("1" if answered else "0")
        row["comment"] = "" if row["marks"] == row["max"] else "Say which level the variance lies at."
with open(path, "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
print(f"marked {len(rows)} written answer(s) in {path}")
