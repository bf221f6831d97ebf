"""Tests for lemma_helpers.quiz: the question bank, lh.quiz, lh.check, lh.list_questions.

The bank's numeric answers are computed from the reference numbers in
COURSE.md (ML fits on data/, agreeing with lme4); each question's
`explanation` shows the arithmetic.
"""
import importlib
import json
import math
import os
import re
import warnings
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml

import lemma_helpers as lh
from lemma_helpers import LemmaError, LemmaWarning

Q = importlib.import_module("lemma_helpers.quiz")   # lh.quiz is the function
B = importlib.import_module("lemma_helpers._bank")
BANK = Path(Q.__file__).parent / "quizzes"
# the shipped sections, from the bank's own files (one file per section, named after it)
SECTIONS = sorted((p.stem for p in BANK.glob("*.yaml")), key=Q.section_sort_key)
ALL_IDS = [q for s in SECTIONS for q in lh.list_questions(s)["id"]]


@pytest.fixture(autouse=True)
def fresh_tries():
    lh.reset_session()
    yield
    lh.reset_session()


def right_answer(q):
    """An answer that the shipped key accepts."""
    k = q.key
    if q.type == "single":
        return next(iter(k.correct))
    if q.type == "multiple":
        return sorted(k.correct)
    if q.type == "numeric":
        return (k.low + k.high) / 2
    return next(f for f in _accept_forms(q))


def _accept_forms(q):
    data = yaml.safe_load((BANK / f"{q.section}.yaml").read_text(encoding="utf-8"))
    return next(d["accept"] for d in data["questions"] if d["id"] == q.id)


# --- the bank --------------------------------------------------------------

def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads((BANK / "schema.json").read_text()))


@pytest.mark.parametrize("section", SECTIONS)
def test_every_bank_file_follows_the_schema(section):
    schema = json.loads((BANK / "schema.json").read_text())
    data = yaml.safe_load((BANK / f"{section}.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["section"] == section


def test_no_stray_bank_files():
    names = sorted(p.name for p in BANK.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    assert names == sorted([f"{s}.yaml" for s in SECTIONS] + ["schema.json"])
    assert all(B._SECTION_RE.match(s) for s in SECTIONS), SECTIONS


def test_the_bank_has_every_shipped_section_in_course_order(monkeypatch):
    monkeypatch.delenv(B.QUIZ_DIRS_VARIABLE, raising=False)
    B._forget_added_banks()
    assert Q.sections() == SECTIONS
    concepts = [s for s in SECTIONS if not s.startswith("P")]
    assert concepts and SECTIONS[:len(concepts)] == concepts      # concepts first, then practicals


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_has_five_or_more_questions_of_both_kinds(section):
    # the course's own rule for the shipped sections; the schema allows smaller extra banks
    df = lh.list_questions(section)
    assert len(df) >= 5
    assert set(df["kind"]) == {"interpretation", "computation"}
    assert list(df["id"]) == [f"{section}.q{i}" for i in range(1, len(df) + 1)]


def test_right_options_are_not_always_in_the_same_place():
    firsts = [next(iter(Q.question(i).key.correct)) for i in ALL_IDS if Q.question(i).type == "single"]
    assert len(set(firsts)) == 4 and max(firsts.count(x) for x in set(firsts)) < 0.5 * len(firsts)


def _single(i):
    return {"id": f"5.1.q{i}", "type": "single", "kind": "interpretation", "points": 1,
            "prompt": "Which one is right?", "explanation": "Because.",
            "options": [{"label": "a", "text": "A", "correct": True, "feedback": "Yes."},
                        {"label": "b", "text": "B", "feedback": "No."}]}


def test_schema_rejects_a_broken_question():
    bank = {"section": "5.1", "title": "Fine", "questions": [_single(i) for i in range(1, 6)]}
    assert len(Q.parse_bank(bank, "fine.yaml")[2]) == 5
    bank["questions"][2]["options"][1]["correct"] = True
    with pytest.raises(LemmaError, match=r"at questions/2/options: Too many items match"):
        Q.parse_bank(bank, "broken.yaml")
    bank["questions"][2] = _single(3)
    del bank["questions"][2]["options"][0]["feedback"]
    with pytest.raises(LemmaError, match=r"questions/2/options/0: 'feedback' is a required property"):
        Q.parse_bank(bank, "broken.yaml")
    bank["questions"][2] = _single(4)
    with pytest.raises(LemmaError, match=r"numbered q1, q2, \.\.\. in order; got \[1, 2, 4, 4, 5\]"):
        Q.parse_bank(bank, "broken.yaml")


def test_bank_rejects_a_distractor_that_overlaps_the_answer():
    qs = [{"id": f"5.1.q{i}", "type": "numeric", "kind": "computation", "points": 1,
           "prompt": "Compute the VPC.", "explanation": "0.1.", "answer": {"value": 0.1, "tolerance": 0.01},
           "distractors": [{"value": 0.105, "feedback": "Too close."}]} for i in range(1, 6)]
    with pytest.raises(LemmaError, match="overlaps the accepted answer"):
        Q.parse_bank({"section": "5.1", "title": "Overlap", "questions": qs}, "x.yaml")


# --- check: right and wrong answers ----------------------------------------

@pytest.mark.parametrize("qid", ALL_IDS)
def test_every_question_accepts_its_own_key(qid):
    q = Q.question(qid)
    r = lh.check(qid, right_answer(q))
    assert (r.correct, r.valid, r.points, r.max_points) == (True, True, q.key.points, q.key.points)
    assert r.feedback.endswith(q.key.explanation.strip())


@pytest.mark.parametrize("qid", [i for i in ALL_IDS if Q.question(i).type == "single"])
def test_every_wrong_option_gets_its_own_feedback_and_not_the_answer(qid):
    q = Q.question(qid)
    for opt in q.options:
        if opt.correct:
            continue
        lh.session().tries.clear()
        r = lh.check(qid, opt.label)
        assert (r.correct, r.points, r.tries) == (False, 0.0, 1)
        assert r.feedback == opt.feedback             # first wrong try: the feedback only
        assert q.key.explanation.strip() not in r.feedback


@pytest.mark.parametrize("qid", [i for i in ALL_IDS if Q.question(i).type == "numeric"])
def test_numeric_distractors_get_their_feedback(qid):
    q = Q.question(qid)
    for low, high, feedback in q.key.distractors:
        lh.session().tries.clear()
        r = lh.check(qid, (low + high) / 2)
        assert not r.correct and r.feedback == feedback


def test_multiple_choice_feedback_names_wrong_picks_and_missing_ones():
    q = Q.question("5.0.q7")
    wrong = next(o for o in q.options if not o.correct)
    right = sorted(q.key.correct)
    r = lh.check("5.0.q7", [right[0], wrong.label])
    assert not r.correct
    assert f"({wrong.label}) {wrong.feedback}" in r.feedback
    assert "At least one true statement is missing" in r.feedback
    assert lh.check("5.0.q7", ", ".join(reversed(right))).correct        # "e, d, b"
    assert lh.check("5.0.q7", "".join(right).upper()).correct            # "BDE"
    assert lh.check("5.0.q7", set(right)).correct


def test_text_answers_ignore_case_spaces_and_punctuation():
    assert lh.check("5.0.q8", "  The Child. ").correct
    assert lh.check("5.6.q5", "Cross classified").correct
    r = lh.check("5.6.q5", "three-level")
    assert not r.correct and "strict nesting" in r.feedback


def test_hint_on_second_and_worked_answer_on_third_wrong_try():
    q = Q.question("5.1.q1")
    first, second, third = (lh.check("5.1.q1", wrong) for wrong in (0.5, 0.6, 0.7))     # three different tries
    assert [r.tries for r in (first, second, third)] == [1, 2, 3]
    assert "Hint:" not in first.feedback and "0.0921" not in first.feedback
    assert "Hint: " + q.hint in second.feedback and "Worked answer" not in second.feedback
    assert "Worked answer: " + q.key.explanation in third.feedback


def test_numeric_answers_accept_numpy_and_numeric_strings():
    for answer in (0.0921, np.float64(0.0921), np.float32(0.0921), np.array(0.0921), "0.0921", " 0.092 "):
        assert lh.check("5.1.q1", answer).correct, answer
    assert lh.check("5.6.q3", 6).correct and lh.check("5.6.q3", np.int64(6)).correct


def test_percentage_and_sign_slips_get_targeted_feedback():
    assert "percentage" in lh.check("5.1.q1", 9.21).feedback
    assert "sign" in lh.check("5.2.q2", 0.5223).feedback


@pytest.mark.parametrize("qid, answer, match", [
    ("5.1.q1", "about nine percent", r"asks for a number, but you gave the text 'about nine percent'.*lh\.check\(\"5\.1\.q1\", 0\.25\)"),
    ("5.1.q1", "9.2%", r"without the % sign"),
    ("5.1.q1", True, r"asks for a number, but you gave the truth value True"),
    ("5.1.q1", math.nan, r"finite number"),
    ("5.1.q1", pd.Series([0.09, 0.1]), r"one number, but you gave a Series.*iloc\[0\]"),
    ("5.1.q1", [0.0921], r"one number, but you gave a list"),
    ("5.1.q2", ["a"], r"label of one option \('a', 'b', 'c', 'd'\).*One label only"),
    ("5.1.q2", "z", r"'z' is not an option of question 5\.1\.q2: answer with one of 'a', 'b', 'c', 'd'"),
    ("5.1.q2", 2, r"label of one option"),
    ("5.0.q7", {"b": True}, r"answer with a list of labels"),
    ("5.0.q7", ["b", "x"], r"'x' is not an option of question 5\.0\.q7"),
    ("5.0.q8", 2, r"word or short phrase in quotes"),
    ("5.0.q8", "  ", r"is empty"),
    ("5.1.q1", ..., r"No answer yet: replace `\.\.\.` with your answer"),
])
def test_wrong_types_get_a_helpful_message_not_a_traceback(qid, answer, match):
    r = lh.check(qid, answer)
    assert (r.valid, r.correct, r.points) == (False, False, 0.0)
    assert re.search(match, r.feedback), r.feedback
    assert lh.session().tries.get(qid, 0) == 0           # not counted as a try
    assert "answer not understood" in repr(r)


def test_unknown_question_or_section_lists_the_valid_ones():
    with pytest.raises(LemmaError, match=r"Unknown question '5\.1\.q20'\. Did you mean '5\.1\.q2'\? Section 5\.1 has .*5\.1\.q12\."):
        lh.check("5.1.q20", 1)
    with pytest.raises(LemmaError, match=r"ids look like '5\.1\.q3'.*lh\.list_questions\(\)"):
        lh.check("quiz1", 1)
    with pytest.raises(LemmaError, match=r"Unknown section '5\.9'\. Did you mean '5\.6'\?.*'P5\.5'"):
        lh.quiz("5.9")
    with pytest.raises(TypeError, match="question id must be a string"):
        lh.check(3, 1)


def test_section_and_id_aliases():
    assert lh.quiz("C5.1").section == "5.1" and lh.quiz("p5.2").section == "P5.2"
    assert lh.check("C5.1.Q1", 0.0921).question == "5.1.q1"


# --- output: deterministic, displayable, recorded ---------------------------

def test_check_output_is_deterministic():
    def run():
        lh.session().tries.clear()
        rs = [lh.check("5.1.q1", 0.5), lh.check("5.1.q1", 0.5), lh.check("5.1.q2", "a"),
              lh.check("5.0.q7", ["b", "d", "e"]), lh.check("5.1.q1", "x")]
        return [(repr(r), r._repr_html_(), Q.answer_record(r.question, r.answer)) for r in rs]
    first, second = run(), run()
    assert first == second
    assert not any("0x" in text for item in first for text in item[:2])


def test_check_records_the_answer_for_the_grader(monkeypatch):
    shown = []
    monkeypatch.setattr(Q, "_emit", shown.append)
    lh.check("5.1.q1", np.float64(0.0921))
    lh.check("5.0.q7", {"e", "b", "d"})
    lh.check("5.1.q1", ...)                      # a placeholder is not an answer: shown, but not recorded
    assert [b.get(Q.ANSWER_MIME) for b in shown] == [
        {"id": "5.1.q1", "answer": 0.0921}, {"id": "5.0.q7", "answer": ["b", "d", "e"]}, None]
    assert shown[0]["text/plain"].startswith("5.1.q1: correct (1 of 1 point)")     # the verdict, in one output
    assert "&#10004; 5.1.q1" in shown[0]["text/html"]
    assert shown[2]["text/plain"].startswith("5.1.q1: answer not understood")
    json.dumps(shown)                            # plain JSON, as nbformat needs


@pytest.fixture
def ipython():
    """A real IPython shell for the duration of one test (then gone, so that other tests run in plain Python)."""
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def _outputs(shell, source):
    from IPython.utils.capture import capture_output
    with capture_output() as captured:
        shell.run_cell(source, store_history=True)
    return [o.data for o in captured.outputs], captured.stdout.replace(f"Out[{shell.execution_count - 1}]: ", "")


def test_a_check_in_a_notebook_shows_one_output_with_its_record(ipython):
    outputs, printed = _outputs(ipython, "import lemma_helpers as lh\nlh.check('5.1.q1', 0.0921)")
    assert len(outputs) == 1 and printed.strip() == ""     # the returned result is not shown a second time
    assert outputs[0][Q.ANSWER_MIME] == {"id": "5.1.q1", "answer": 0.0921}
    assert outputs[0]["text/plain"].startswith("5.1.q1: correct")
    outputs, _ = _outputs(ipython, "r = lh.check('5.1.q1', 0.5)")
    assert len(outputs) == 1 and "not correct yet" in outputs[0]["text/plain"]
    outputs, _ = _outputs(ipython, "r")                     # a later cell shows it as usual, without a record
    assert len(outputs) == 1 and Q.ANSWER_MIME not in outputs[0] and "not correct yet" in outputs[0]["text/plain"]
    outputs, _ = _outputs(ipython, "for a in [..., 0.3]:\n    lh.check('5.1.q1', a)")
    assert [o["text/plain"].split(":")[1].strip()[:14] for o in outputs] == ["answer not und", "not correct ye"]


def test_record_of_unusual_answers_is_plain_json():
    assert Q.jsonable(np.int64(3)) == 3 and Q.jsonable(math.inf) == "inf"
    assert Q.jsonable(pd.DataFrame({"a": [1]})) == {"unsupported": "DataFrame"}
    assert Q.jsonable(np.array([0.1, 0.2])) == [0.1, 0.2]


def test_check_result_reprs():
    r = lh.check("5.1.q1", 0.0921)
    assert repr(r).splitlines()[0] == "5.1.q1: correct (1 of 1 point)"
    assert "&#10004; 5.1.q1" in r._repr_html_()
    assert list(r.to_frame().columns[:4]) == ["question", "answer", "correct", "points"]
    w = lh.check("5.1.q1", 0.5)
    assert repr(w).splitlines()[0] == "5.1.q1: not correct yet (0 of 1 point, try 1)"


def test_quiz_displays_as_text_and_html():
    qz = lh.quiz("5.1")
    text, page = repr(qz), qz._repr_html_()
    assert text.startswith("Quiz 5.1: Comparing groups (12 questions)")
    for qid in lh.list_questions("5.1")["id"]:
        assert qid in text and f"<strong>{qid}</strong>" in page
    assert "  (a) " in text and 'lh.check("5.1.q2", "a")' in text
    assert r"$\hat\sigma^2_u = 0.08977$" in page          # LaTeX left for MathJax
    assert qz.to_frame().shape[0] == 12


def test_markdown_html():
    assert Q.markdown_html("Use `lh.check` and **not** *this*: $a_i * b_i$") == (
        "<p>Use <code>lh.check</code> and <strong>not</strong> <em>this</em>: $a_i * b_i$</p>")
    assert Q.markdown_html("- one\n- two\n\nEnd <b>") == "<ul><li>one</li><li>two</li></ul><p>End &lt;b&gt;</p>"


def test_list_questions_columns():
    df = lh.list_questions()
    assert list(df.columns) == ["id", "section", "number", "type", "kind", "points", "options", "prompt"]
    assert len(df) == len(ALL_IDS) and set(df["section"]) == set(SECTIONS)
    assert set(df["type"]) == {"single", "multiple", "numeric", "text"}
    row = df.set_index("id").loc["5.1.q2"]
    assert row.options == ["a", "b", "c", "d"] and row.points == 1.0
    assert df.set_index("id").loc["5.1.q1", "options"] is None
    keyed = lh.list_questions("5.1", with_key=True).set_index("id")
    assert keyed.loc["5.1.q1", "key"] == "between 0.0918851 and 0.0922851"
    assert "0.08977 / (0.08977 + 0.88506)" in keyed.loc["5.1.q1", "explanation"]


# --- instructor keys --------------------------------------------------------

def test_instructor_key_replaces_the_shipped_one(tmp_path):
    path = tmp_path / "key.yaml"
    path.write_text("5.1.q1: {value: 0.105, tolerance: 0.001}\n5.1.q2: {correct: a, points: 2}\n"
                    "5.0.q7: {correct: [a, c]}\nC5.0.q8: {accept: pupil}\n")
    key = Q.load_key(path)
    assert set(key) == {"5.1.q1", "5.1.q2", "5.0.q7", "5.0.q8"}
    assert Q.score(Q.question("5.1.q1"), 0.105, key["5.1.q1"]).correct
    assert not Q.score(Q.question("5.1.q1"), 0.0921, key["5.1.q1"]).correct
    assert Q.score(Q.question("5.1.q2"), "a", key["5.1.q2"]).points == 2
    assert Q.score(Q.question("5.0.q7"), "c,a", key["5.0.q7"]).correct
    assert Q.score(Q.question("5.0.q8"), "Pupil", key["5.0.q8"]).correct
    assert key["5.1.q1"].explanation == "" and key["5.1.q1"].distractors == ()
    json_key = tmp_path / "key.json"
    json_key.write_text(json.dumps({"P5.4.q1": {"min": 31, "max": 33}}))
    assert Q.load_key(json_key)["P5.4.q1"].high == 33


@pytest.mark.parametrize("text, match", [
    ("5.1.q1: {correct: a}\n", r"5\.1\.q1 is a numeric question; give value/tolerance or min/max"),
    ("5.1.q2: {correct: z}\n", r"does not follow the quiz schema"),
    ("5.1.q2: {correct: [a, b]}\n", r"`correct` must be one of \['a', 'b', 'c', 'd'\]"),
    ("5.1.q99: {value: 1}\n", r"Unknown question '5\.1\.q99'"),
    ("5.1.q1: {tolerance: 0.1}\n", r"does not follow the quiz schema"),
    ("5.0.q8: {value: 2, tolerance: 0}\n", r"5\.0\.q8 is a text question; give `accept`"),
    ("- just a list\n", r"does not follow the quiz schema at \(top level\)"),
    ("5.1.q1: {value: [\n", r"not valid YAML or JSON"),
    ("5.1.q1: {min: 2, max: 1}\n", r"the accepted range is empty"),
    ("5.0.q8: {accept: [kid], distractors: [{value: 1, feedback: too small}]}\n", r"do not fit a text question"),
])
def test_bad_instructor_keys_are_explained(tmp_path, text, match):
    path = tmp_path / "key.yaml"
    path.write_text(text)
    with pytest.raises(LemmaError, match=match):
        Q.load_key(path)


def test_missing_key_file():
    with pytest.raises(LemmaError, match="Cannot read the key file"):
        Q.load_key("/nonexistent/key.yaml")


# --- extra question banks (LEMMA_QUIZ_DIRS, lh.add_question_bank) ------------

def _bank_file(section, n, title="Extra questions"):
    """A valid bank file with n numeric questions whose answers are 1, 2, ..."""
    qs = [{"id": f"{section}.q{i}", "type": "numeric", "kind": "computation", "points": 1,
           "prompt": f"What is {i} times one?", "explanation": f"{i} x 1 = {i}.",
           "answer": {"value": float(i), "tolerance": 0.01}} for i in range(1, n + 1)]
    return yaml.safe_dump({"section": section, "title": title, "questions": qs}, sort_keys=False)


@pytest.fixture
def no_extra_banks(monkeypatch):
    monkeypatch.delenv(B.QUIZ_DIRS_VARIABLE, raising=False)
    B._forget_added_banks()
    yield
    B._forget_added_banks()


def _lemma_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, LemmaWarning)]


def test_schema_allows_a_two_question_bank():
    data = yaml.safe_load(_bank_file("P6.1", 2))
    sec, _, questions = Q.parse_bank(data, "small.yaml")
    assert (sec, len(questions)) == ("P6.1", 2)


def test_extra_bank_any_name_and_a_broken_file_is_skipped_with_one_warning(tmp_path, no_extra_banks):
    (tmp_path / "W3.yaml").write_text(_bank_file("P6.1", 2, "Week 3"), encoding="utf-8")
    broken = yaml.safe_load(_bank_file("P6.2", 2))
    del broken["questions"][1]["explanation"]
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a bank", encoding="utf-8")
    (tmp_path / ".hidden.yaml").write_text(": not yaml [", encoding="utf-8")
    added, warned = _lemma_warnings(lambda: lh.add_question_bank(tmp_path))
    assert added == ["P6.1"]
    assert len(warned) == 1, warned
    assert "broken.yml" in warned[0] and "'explanation' is a required property" in warned[0]
    # the good file works like a shipped section, and the shipped questions still work
    assert lh.check("P6.1.q2", 2).correct and not lh.check("P6.1.q1", 5).correct
    assert "Quiz P6.1: Week 3 (2 questions)" in repr(lh.quiz("P6.1"))
    assert list(lh.list_questions("P6.1")["id"]) == ["P6.1.q1", "P6.1.q2"]
    assert Q.sections() == SECTIONS + ["P6.1"]
    assert lh.check("5.1.q1", 0.0921).correct
    # no second warning once the bank is loaded
    _, again = _lemma_warnings(lambda: (lh.check("5.1.q1", 0.0921), lh.quiz("P6.1")))
    assert again == []


def test_extra_bank_from_the_environment_variable(tmp_path, monkeypatch, no_extra_banks):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "extra.json").write_text(json.dumps(yaml.safe_load(_bank_file("5.7", 3))), encoding="utf-8")
    (tmp_path / "b" / "bad.yaml").write_text("section: [unclosed", encoding="utf-8")
    monkeypatch.setenv(B.QUIZ_DIRS_VARIABLE, f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    B._clear_caches()
    _, warned = _lemma_warnings(Q.sections)
    assert len(warned) == 1 and "bad.yaml" in warned[0] and "not valid YAML or JSON" in warned[0]
    assert "5.7" in Q.sections() and Q.sections().index("5.7") < Q.sections().index("P5.1")
    assert lh.check("5.7.q3", 3).correct and lh.check("P5.1.q1", right_answer(Q.question("P5.1.q1"))).correct


def test_a_section_defined_twice_is_reported_and_the_second_file_skipped(tmp_path, no_extra_banks):
    (tmp_path / "a_first.yaml").write_text(_bank_file("P6.1", 2, "First"), encoding="utf-8")
    (tmp_path / "b_second.yaml").write_text(_bank_file("P6.1", 3, "Second"), encoding="utf-8")
    (tmp_path / "c_shipped.yaml").write_text(_bank_file("5.1", 2, "Not the real 5.1"), encoding="utf-8")
    added, warned = _lemma_warnings(lambda: lh.add_question_bank(tmp_path))
    assert added == ["P6.1"] and len(warned) == 2, warned
    assert "b_second.yaml defines section P6.1" in warned[0] and "a_first.yaml" in warned[0]
    assert "c_shipped.yaml defines section 5.1" in warned[1] and "shipped file 5.1.yaml" in warned[1]
    assert lh.quiz("P6.1").title == "First" and len(lh.list_questions("P6.1")) == 2
    assert lh.quiz("5.1").title == "Comparing groups"


def test_only_broken_extra_files_leave_the_shipped_bank_working(tmp_path, no_extra_banks):
    (tmp_path / "one.yaml").write_text(_bank_file("P6.1", 1).replace("q1", "q2"), encoding="utf-8")
    (tmp_path / "two.yaml").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "three.json").write_text("", encoding="utf-8")
    (tmp_path / "four.yaml").write_text("- a list\n- not a bank\n", encoding="utf-8")
    added, warned = _lemma_warnings(lambda: lh.add_question_bank(tmp_path))
    assert added == [] and len(warned) == 4
    assert "four.yaml does not follow the quiz schema at (top level)" in warned[0]
    assert "one.yaml" in warned[1] and "numbered q1, q2" in warned[1]
    assert "three.json is empty" in warned[2]
    assert "two.yaml" in warned[3] and "cannot be read" in warned[3]
    assert Q.sections() == SECTIONS and lh.check("5.1.q1", 0.0921).correct


def test_add_question_bank_needs_a_folder(tmp_path, monkeypatch, no_extra_banks):
    with pytest.raises(LemmaError, match=r"is not a folder: add_question_bank needs the folder"):
        lh.add_question_bank(tmp_path / "missing")
    monkeypatch.setenv(B.QUIZ_DIRS_VARIABLE, str(tmp_path / "missing"))
    B._clear_caches()
    _, warned = _lemma_warnings(Q.sections)
    assert len(warned) == 1 and "does not exist or is not a folder" in warned[0]
    assert Q.sections() == SECTIONS


def test_a_worked_answer_is_shown_once_with_its_maths_typeset(ipython):
    outputs, printed = _outputs(ipython, "import lemma_helpers as lh\nlh.reveal('5.1.q1')")
    assert len(outputs) == 1 and printed.strip() == ""
    assert outputs[0]["text/plain"].startswith("Worked answer to 5.1.q1: $\\mathrm{VPC}")
    assert "$\\mathrm{VPC}" in outputs[0]["text/html"] and "<p>Accepted: between" in outputs[0]["text/html"]
    outputs, _ = _outputs(ipython, "text = lh.reveal('5.1.q1')\ntext.startswith('Worked')")
    assert len(outputs) == 1


def test_the_same_wrong_answer_again_is_not_a_new_try():
    """Re-running a cell of answers checks each unchanged answer again: that is not another try, so it never
    brings the worked answer that a third real try would."""
    first = lh.check("5.1.q2", "a")
    again = lh.check("5.1.q2", "a")
    assert (first.tries, again.tries) == (1, 1) and "does not count as a new one" in again.feedback
    third = lh.check("5.1.q2", "a")
    assert third.tries == 1 and "Worked answer" not in third.feedback
    other = lh.check("5.1.q2", "b")
    assert other.tries == 2 and lh.check("5.1.q2", "d").tries == 3
