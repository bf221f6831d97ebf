"""The session's state in one visible place: lh.session(), lh.reset_session(), and what depends on it."""
import lemma_helpers as lh


def test_the_session_shows_the_assignment_the_code_and_the_tries(capsys):
    lh.reset_session()
    lh.start_assignment("quiz-5.1", mode="formative", code="3ibc xsjw")
    lh.check("5.0.q8", "respondent")
    lh.check("5.0.q8", "household")
    state = lh.session()
    assert (state.assignment, state.mode, state.code, state.tries) == ("quiz-5.1", "formative", "3IBC-XSJW",
                                                                       {"5.0.q8": 2})
    assert repr(state) == (
        "Assignment quiz-5.1 (formative): lh.check gives feedback as usual.\n"
        "Variant code 3IBC-XSJW: lh.load_dataset gives your own version of the data.\n"
        "Wrong tries so far: 5.0.q8 2.")
    assert "<li>Assignment quiz-5.1 (formative)" in state._repr_html_()
    lh.reset_session()
    assert (state.assignment, state.mode, state.code, state.tries) == (None, None, None, {})


def test_load_dataset_says_when_it_returns_a_variant(capsys):
    lh.reset_session()
    full = lh.load_dataset("exam")
    assert capsys.readouterr().out == ""
    lh.start_assignment("quiz-x", mode="formative", code="3IBC-XSJW")
    capsys.readouterr()
    mine = lh.load_dataset("exam")
    said = capsys.readouterr().out
    kept = mine["school"].nunique()
    assert said == (f"Loaded your variant 3IBC-XSJW of exam: {kept} of the 65 schools, {len(mine):,} rows, normexam "
                    "with its own shifts, noise and scale.\n") and 40 <= kept <= 55
    assert len(mine) < len(full)
    lh.reset_session()
    assert len(lh.load_dataset("exam")) == len(full)
