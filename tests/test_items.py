"""Item-writing rules for the shipped choice questions: the form of the options gives the key away to no one.

A learner who knows nothing should score about chance (25% on four options) whatever rule of thumb they
follow. The two rules of thumb that test-wise learners use are "pick the longest option" and "pick the same
letter every time"; over-correcting gives others ("never pick the longest", "pick the second longest"). These
tests check the shipped bank (``lemma_helpers/quizzes/*.yaml``, not extra banks) against all three, and check that every option is
distinct and has its own feedback. docs/QUIZZES.md ("Writing choice questions") states the rules for authors.

Lengths are *visible* lengths (:func:`visible_length`): what a learner sees once Markdown and LaTeX are
rendered, not the characters in the YAML file.
"""
import re
from pathlib import Path

import pytest
import yaml

BANK = Path(__file__).resolve().parent.parent / "lemma_helpers" / "quizzes"

# "at most 35%": chance is 25% on four options; 35% leaves room for the natural unevenness of a bank of about
# forty questions (one key more or less moves a share by 2.4 points) but not for a rule that pays.
MAX_STRATEGY_SCORE = 0.35
# "never the longest" is a cue too: ruling out the longest option lifts a blind guess from 1/4 to 1/3. The key
# should be the longest option about as often as chance has it (a quarter); at least a tenth is required.
MIN_KEY_LONGEST = 0.10
# Per question, the key may be at most 1.25 times as long as the longest distractor. Options written as one
# idea each differ in length by more than that anyway (a short and a long distractor in one question often
# differ by half), so a key within 1.25 times the longest distractor does not stand out; a key that is half
# as long again as every distractor does, and that is what "the longest option is right" rests on. The
# margin lets a key keep a qualifier that makes it true.
MAX_KEY_RATIO = 1.25
# Questions allowed to break MAX_KEY_RATIO: id -> the reason. Keep this empty or nearly so; a stale entry (a
# question that no longer needs it) fails the test too.
KEY_RATIO_EXCEPTIONS: dict = {}


def visible_length(text: str) -> int:
    """The length of an option as a learner sees it.

    A LaTeX command (``\\sigma``, ``\\hat``) counts as one symbol; the markup characters ``$ * ` { } _ ^``
    count as nothing; runs of white space count as one space.

    >>> visible_length(r"$\\sigma^2_{u0}$ is  *small*")
    13
    """
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    text = re.sub(r"[$*`{}_^]", "", text)
    return len(" ".join(text.split()))


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def _choice_questions() -> list:
    out = []
    for path in sorted(BANK.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [q for q in data["questions"] if q["type"] in ("single", "multiple")]
    return out


CHOICE = _choice_questions()
SINGLE = [q for q in CHOICE if q["type"] == "single"]
MULTIPLE = [q for q in CHOICE if q["type"] == "multiple"]


def _lengths(q) -> list:
    return [visible_length(o["text"]) for o in q["options"]]


def _key(q) -> int:
    """Index of the right option of a single-choice question."""
    return next(i for i, o in enumerate(q["options"]) if o.get("correct"))


def _rank_is_key(q, rank: int) -> bool:
    """Whether the option ranked ``rank`` by length (0 the longest, -1 the shortest) is the key, and the only
    option of that length (a learner who picks by length cannot choose between tied options)."""
    lengths = _lengths(q)
    chosen = sorted(lengths, reverse=True)[rank]
    return lengths.count(chosen) == 1 and lengths[_key(q)] == chosen


def rank_score(questions, rank: int) -> float:
    """The share a learner scores by always picking the option ranked ``rank`` by length."""
    return sum(_rank_is_key(q, rank) for q in questions) / len(questions)


def always_longest_score(questions) -> float:
    """The share a learner scores by always picking the longest option; a tie for longest scores nothing."""
    return rank_score(questions, 0)


def always_shortest_score(questions) -> float:
    """The same for always picking the shortest option."""
    return rank_score(questions, -1)


def key_positions(questions) -> dict:
    """``{label: share of the keys}`` over the labels used by the questions."""
    labels = sorted({o["label"] for q in questions for o in q["options"]})
    keys = [q["options"][_key(q)]["label"] for q in questions]
    return {label: keys.count(label) / len(keys) for label in labels}


def key_ratio(q) -> float:
    """Visible length of the key over that of the longest distractor."""
    lengths = _lengths(q)
    k = _key(q)
    return lengths[k] / max(n for i, n in enumerate(lengths) if i != k)


def _ids_where(questions, test) -> str:
    return ", ".join(q["id"] for q in questions if test(q))


# --- the measures themselves, on made-up questions ---------------------------------------------------------

def _made_up(qid, texts, key):
    return {"id": qid, "type": "single",
            "options": [{"label": "abcd"[i], "text": t, "feedback": "Why.", **({"correct": True} if i == key else {})}
                        for i, t in enumerate(texts)]}


def test_the_measures_count_ties_as_wrong_and_read_rendered_lengths():
    qs = [_made_up("X.q1", ["aa", "bbbb", "c", "dd"], 1),        # longest unique and right
          _made_up("X.q2", ["aaaa", "bbbb", "c", "dd"], 1),      # tied for longest: no point
          _made_up("X.q3", ["aa", "bbbb", "c", "dd"], 2),        # shortest unique and right
          _made_up("X.q4", ["aaa", "bbbb", "c", "dd"], 3)]       # third longest, unique and right
    assert always_longest_score(qs) == always_shortest_score(qs) == rank_score(qs, 2) == 1 / 4
    assert rank_score(qs, 1) == 0
    assert key_positions(qs) == pytest.approx({"a": 0, "b": 1 / 2, "c": 1 / 4, "d": 1 / 4})
    assert key_ratio(qs[0]) == 2 and key_ratio(qs[2]) == 0.25
    assert visible_length(r"$\sigma^2_{u}$") == visible_length("x2u") == 3
    assert visible_length("two  spaces\n and a *stress*") == len("two spaces and a stress")


# --- the shipped bank ----------------------------------------------------------------------------------------

def test_the_bank_has_choice_questions_to_check():
    assert len(SINGLE) >= 20 and MULTIPLE


def test_always_picking_the_longest_option_scores_at_most_35_percent():
    score = always_longest_score(SINGLE)
    assert score <= MAX_STRATEGY_SCORE, (
        f"always picking the longest option scores {score:.0%} on the {len(SINGLE)} single-choice questions "
        f"(at most {MAX_STRATEGY_SCORE:.0%}); the key is the unique longest option in: "
        + _ids_where(SINGLE, lambda q: _rank_is_key(q, 0)))


def test_ruling_out_the_longest_option_does_not_help():
    share = always_longest_score(SINGLE)
    assert share >= MIN_KEY_LONGEST, (
        f"the key is the longest option in only {share:.0%} of the single-choice questions (at least "
        f"{MIN_KEY_LONGEST:.0%}): ruling out the longest option then beats chance. Let the key be the longest "
        "where it is natural, rather than shortening every key below its distractors.")


def test_always_picking_the_shortest_option_scores_at_most_35_percent():
    score = always_shortest_score(SINGLE)
    assert score <= MAX_STRATEGY_SCORE, (
        f"always picking the shortest option scores {score:.0%} (at most {MAX_STRATEGY_SCORE:.0%}); the key is "
        "the unique shortest option in: " + _ids_where(SINGLE, lambda q: _rank_is_key(q, -1)))


def test_no_other_rule_by_length_scores_more_than_35_percent():
    # shortening over-long keys can leave them all second-longest: a cue as good as "the longest"
    fewest = min(len(q["options"]) for q in SINGLE)
    scores = {rank: rank_score(SINGLE, rank) for rank in range(1, fewest - 1)}
    high = {rank: score for rank, score in scores.items() if score > MAX_STRATEGY_SCORE}
    assert not high, "; ".join(
        f"always picking the option ranked {rank + 1} by length scores {score:.0%} (at most "
        f"{MAX_STRATEGY_SCORE:.0%}): " + _ids_where(SINGLE, lambda q, rank=rank: _rank_is_key(q, rank))
        for rank, score in high.items())


def test_no_key_position_holds_more_than_35_percent_of_the_keys():
    shares = key_positions(SINGLE)
    crowded = {label: share for label, share in shares.items() if share > MAX_STRATEGY_SCORE}
    assert not crowded, "; ".join(
        f"always answering {label!r} scores {share:.0%} (at most {MAX_STRATEGY_SCORE:.0%}); keyed {label!r}: "
        + _ids_where(SINGLE, lambda q, label=label: q["options"][_key(q)]["label"] == label)
        for label, share in crowded.items())
    assert all(shares.get(label, 0) > 0 for label in "abcd"), f"some position is never the key: {shares}"


def test_no_question_has_two_options_with_the_same_text():
    def repeats(q):
        texts = [_normalised(o["text"]) for o in q["options"]]
        return len(set(texts)) != len(texts)
    assert not _ids_where(CHOICE, repeats), "two options with the same text (case and spaces aside): " + \
        _ids_where(CHOICE, repeats)


def test_every_option_has_its_own_feedback():
    missing = [f"{q['id']} ({o['label']})" for q in CHOICE for o in q["options"]
               if not str(o.get("feedback") or "").strip()]
    assert not missing, "options without feedback: " + ", ".join(missing)


def test_the_key_is_not_much_longer_than_the_longest_distractor():
    too_long = [f"{q['id']} ({key_ratio(q):.2f})" for q in SINGLE
                if key_ratio(q) > MAX_KEY_RATIO and q["id"] not in KEY_RATIO_EXCEPTIONS]
    assert not too_long, (
        f"the key is more than {MAX_KEY_RATIO} times as long as the longest distractor: " + ", ".join(too_long)
        + ". Shorten the key (its feedback can carry the detail) or make the distractors as specific as the key.")
    ids = {q["id"]: q for q in SINGLE}
    stale = [qid for qid in KEY_RATIO_EXCEPTIONS if qid not in ids or key_ratio(ids[qid]) <= MAX_KEY_RATIO]
    assert not stale, "exceptions that are no longer needed (or no longer single-choice questions): " + \
        ", ".join(stale)


def test_right_options_of_multiple_choice_questions_are_not_picked_out_by_length():
    def picked_out(q):
        lengths = _lengths(q)
        right = [n for n, o in zip(lengths, q["options"]) if o.get("correct")]
        wrong = [n for n, o in zip(lengths, q["options"]) if not o.get("correct")]
        if not wrong:
            return False
        # every right option longer than every wrong one, or the longest right option far the longest
        return min(right) > max(wrong) or max(right) > MAX_KEY_RATIO * max(wrong)
    assert not _ids_where(MULTIPLE, picked_out), (
        "the right options stand out by their length: " + _ids_where(MULTIPLE, picked_out))


# --- hints ---------------------------------------------------------------------------------------------------------
# The notebooks tell learners that the second wrong try adds a hint, so every shipped question has one. A hint comes
# after the feedback on the chosen wrong answer and before the worked answer: it points to the idea that decides the
# question, and does not give the key away. For a choice question that means it neither repeats the text of a right
# option nor names an option by its label; with a variant code the options come in each student's own order, so a
# label in a hint would point to a different option for each student anyway.

# A hint may share a few words with a right option (a term such as "between-school variance" is two), but a run of
# this many consecutive words, or all the words of a shorter option, is that option's text.
KEY_RUN = 5


def _all_questions() -> list:
    out = []
    for path in sorted(BANK.glob("*.yaml")):
        out += yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return out


def _words(text: str) -> list:
    return re.findall(r"[a-z0-9]+", text.casefold())


def _shares_a_run(option: list, hint: list) -> bool:
    """Whether ``hint`` holds ``KEY_RUN`` consecutive words of ``option`` (all of them, if it has fewer)."""
    n = min(KEY_RUN, len(option))
    runs = {tuple(option[i:i + n]) for i in range(len(option) - n + 1)}
    return any(tuple(hint[i:i + n]) in runs for i in range(len(hint) - n + 1))


def _names_a_label(hint: str, label: str) -> bool:
    """Whether ``hint`` names the option ``label``: "(b)", "'b'", "option b", "the answer is b". "(b)" after a
    name is a function's argument ("$\\mathrm{var}(b)$"), and after "option", "answer" and the like "a" followed
    by a word is the article ("the answer a learner gives"): neither names an option."""
    article = r"(?!\s+[a-z])" if label == "a" else ""
    return bool(re.search(rf"(?<![\w}}])\({label}\)|[\"'`]{label}[\"'`]", hint)
                or re.search(rf"\b(?:options?|answer|choice|label|key)(?:\s+is)?\s+{label}\b{article}", hint, re.I))


def gives_the_key_away(q) -> list:
    """What in the hint of choice question ``q`` gives its key away: the right options whose text it repeats, and
    the labels it names (any label, see above)."""
    hint = str(q.get("hint") or "")
    found = [f"the text of ({o['label']})" for o in q["options"]
             if o.get("correct") and _shares_a_run(_words(o["text"]), _words(hint))]
    return found + [f"the label {o['label']!r}" for o in q["options"] if _names_a_label(hint, o["label"])]


def test_the_hint_check_finds_a_key_given_away_and_passes_a_hint_that_points_to_the_idea():
    q = _made_up("X.q1", ["The lines fan out as x grows.", "Pupils within schools.", "It has 2 df.", "No."], 0)
    assert gives_the_key_away({**q, "hint": "Ask what a positive covariance does to the lines as $x$ grows."}) == []
    assert gives_the_key_away({**q, "hint": "Here the lines fan out as $x$ grows."}) == ["the text of (a)"]
    assert gives_the_key_away({**q, "hint": "Think of option (a)."}) == ["the label 'a'"]
    assert gives_the_key_away({**q, "hint": 'Answer "a".'}) == ["the label 'a'"]
    assert gives_the_key_away({**q, "hint": "The answer is b, not c."}) == ["the label 'b'"]
    assert gives_the_key_away({**q, "hint": "Rule out option c first."}) == ["the label 'c'"]
    q = _made_up("X.q2", ["Pupils within schools.", "Schools within pupils.", "Neither.", "Both."], 0)
    assert gives_the_key_away({**q, "hint": "Are pupils within schools nested?"}) == ["the text of (a)"]
    assert gives_the_key_away({**q, "hint": "Pupils in schools: the answer a learner gives first; compare (A) and "
                                            "(B); $\\mathrm{var}(a) + f(b)$."}) == []


def test_every_question_has_a_hint():
    missing = [q["id"] for q in _all_questions() if not str(q.get("hint") or "").strip()]
    assert not missing, "questions without a hint (the notebooks promise one from the second wrong try): " + \
        ", ".join(missing)


def test_no_hint_gives_the_key_of_a_choice_question_away():
    given_away = [f"{q['id']} ({', '.join(gives_the_key_away(q))})" for q in CHOICE if gives_the_key_away(q)]
    assert not given_away, (
        "hints that give the key away, by repeating a right option or naming a label: " + "; ".join(given_away)
        + ". Point to the idea, the definition or the part of the output that decides the question instead.")


# --- feedback of wrong answers ---------------------------------------------------------------------------------------
# The feedback of a wrong answer addresses the misconception behind that answer; it does not name the key. For a text
# question that means it contains no accepted form; for a single-choice question, no run of KEY_RUN words of the
# key's text (all of them, for a shorter key).

def _wrong_feedback_naming_the_key() -> list:
    found = []
    for q in _all_questions():
        if q["type"] == "text":
            accepted = [a.casefold() for a in q["accept"]]
            for text in [d["feedback"] for d in q.get("distractors") or ()] + [q.get("feedback_wrong") or ""]:
                named = [a for a in accepted if re.search(rf"\b{re.escape(a)}\b", text.casefold())]
                if named:
                    found.append(f"{q['id']} ({', '.join(named)} in: {text[:60]}...)")
        elif q["type"] == "single":
            key = next(o for o in q["options"] if o.get("correct"))
            found += [f"{q['id']} ({o['label']})" for o in q["options"] if not o.get("correct")
                      and _shares_a_run(_words(key["text"]), _words(o["feedback"]))]
    return found


def test_no_feedback_of_a_wrong_answer_names_the_key():
    named = _wrong_feedback_naming_the_key()
    assert not named, ("feedback of a wrong answer that names the key: " + "; ".join(named)
                       + ". Address the misconception behind that answer instead.")


def _plain(text) -> str:
    return " ".join(_words(str(text or "")))


def _sentences(text) -> list:
    return [p for p in (_plain(s) for s in re.split(r"(?<=[.?!:;])\s+", str(text or ""))) if p]


# A hint sentence this similar (difflib's ratio) to a sentence of some wrong answer's feedback says the same thing.
SAME_CLUE = 0.8


def hint_repeating_feedback(q) -> list:
    """The sentences of wrong answers' feedback to ``q`` that a sentence of its hint repeats, word for word or nearly
    (a hint shown after that feedback would add nothing)."""
    import difflib

    feedback = [q.get("feedback_wrong")] + [d["feedback"] for d in q.get("distractors") or ()] + [
        o["feedback"] for o in q.get("options") or () if not o.get("correct")]
    said = [s for f in feedback for s in _sentences(f)]
    return [s for h in _sentences(q.get("hint")) for s in said
            if difflib.SequenceMatcher(None, h, s).ratio() >= SAME_CLUE]


def test_the_hint_check_finds_a_hint_that_repeats_feedback():
    q = {"hint": 'The word starts with "hetero".', "feedback_wrong": 'Not the term. It starts with "hetero".'}
    assert hint_repeating_feedback(q) == ["it starts with hetero"]
    q = {"hint": "Divide the variance at 80 by the one at 18.", "distractors": [
        {"feedback": "Not so. Divide the variance at 80 by the one at 18."}]}
    assert hint_repeating_feedback(q)
    assert not hint_repeating_feedback({"hint": "Which variance is on top?", "feedback_wrong": "Start over."})


def test_no_hint_repeats_the_feedback_of_a_wrong_answer():
    repeated = [f"{q['id']} ({'; '.join(hint_repeating_feedback(q))})" for q in _all_questions()
                if hint_repeating_feedback(q)]
    assert not repeated, ("hints that repeat the feedback of a wrong answer: " + ", ".join(repeated)
                          + ". A hint comes after that feedback: give the next step instead.")


def test_no_hint_plugs_a_question_s_numbers_into_its_formula():
    """A hint points to the method. A hint that quotes the numbers of a question on given numbers ({name}) in a
    formula leaves only the arithmetic (P5.4.q4 once hinted 'Slope = 1.4518 + (-1.0472) x share')."""
    quoting = [q["id"] for q in _all_questions() if q.get("params")
               and set(re.findall(r"\{([A-Za-z_]\w*)\}", str(q.get("hint") or ""))) & set(q["params"])]
    assert not quoting, "hints that quote the question's numbers: " + ", ".join(quoting)
