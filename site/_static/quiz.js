/* lemma-course: the self-test quizzes on the website, checked in the browser (no kernel).
 * The questions, options, feedback and accepted answers are generated from the YAML bank by
 * site/build.py; the rules follow lemma_helpers._scoring.score: a wrong answer gets the feedback
 * written for that mistake, the hint from the second wrong try, the worked explanation from the
 * third (and at once when the answer is right). Nothing is recorded: in JupyterLab, lh.check does.
 */
(function () {
  "use strict";
  var HINT_FROM_TRY = 2, WORKED_FROM_TRY = 3;

  function typeset(el) {
    if (window.MathJax && MathJax.typesetPromise) { MathJax.typesetPromise([el]).catch(function () {}); }
  }

  function block(htmlText, cls) {
    var d = document.createElement("div");
    if (cls) { d.className = cls; }
    d.innerHTML = htmlText;
    return d;
  }

  function normaliseText(s) {
    s = String(s).normalize("NFKC").toLowerCase();
    return Array.from(s).filter(function (ch) { return /[\p{L}\p{N}]/u.test(ch); }).join("");
  }

  function parseNumber(s) {
    s = String(s).trim().replace(/\u2212/g, "-").replace(/\s+/g, "");
    if (/^[-+]?\d+,\d+$/.test(s)) { s = s.replace(",", "."); }   // a decimal comma
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) { return null; }
    return parseFloat(s);
  }

  function scoreNumeric(q, x) {
    var eps = 1e-9 * Math.max(1, Math.abs(q.low), Math.abs(q.high));
    if (q.low - eps <= x && x <= q.high + eps) { return [true, "Correct."]; }
    for (var i = 0; i < q.distractors.length; i++) {
      var d = q.distractors[i];
      if (d[0] - eps <= x && x <= d[1] + eps) { return [false, d[2]]; }
    }
    if (Math.abs(q.high) <= 1 && q.low * 100 - eps <= x && x <= q.high * 100 + eps && x !== 0) {
      return [false, "That looks like a percentage: give the proportion (divide by 100)."];
    }
    if (q.low <= -x && -x <= q.high) {
      return [false, "The size is right but the sign is not: check the direction of the effect."];
    }
    return [false, q.wrong || "Not within the accepted range. Redo the calculation step by step."];
  }

  function scoreText(q, s) {
    var t = normaliseText(s);
    if (q.accept.indexOf(t) >= 0) { return [true, "Correct."]; }
    for (var i = 0; i < q.distractors.length; i++) {
      if (q.distractors[i][0].indexOf(t) >= 0) { return [false, q.distractors[i][1]]; }
    }
    return [false, q.wrong || "Not the term we are looking for."];
  }

  function setup(box) {
    var q = JSON.parse(box.getAttribute("data-question"));
    var out = box.querySelector(".lq-feedback");
    var tries = 0;

    function report(ok, message, optionFeedback) {
      if (!ok) { tries += 1; }
      out.innerHTML = "";
      var status = document.createElement("p");
      status.className = "lq-status";
      status.textContent = ok ? "Correct!" : "Not quite.";
      out.appendChild(status);
      if (message) { out.appendChild(block(message, ok ? "lq-correct" : "")); }
      if (!ok && tries >= HINT_FROM_TRY && q.hint) { out.appendChild(block("<p><strong>Hint.</strong></p>" + q.hint)); }
      if ((ok || tries >= WORKED_FROM_TRY) && q.explanation) {
        out.appendChild(block("<p><strong>Worked answer.</strong></p>" + q.explanation, ok ? "lq-correct" : ""));
      }
      box.classList.toggle("lq-answered-right", ok);
      box.classList.toggle("lq-answered-wrong", !ok);
      typeset(out);
    }

    function hideOptionFeedback() {
      box.querySelectorAll(".lq-option-feedback").forEach(function (f) { f.hidden = true; f.classList.remove("lq-correct"); });
    }

    function showOptionFeedback(label, right) {
      var li = box.querySelector(".lq-option[data-label='" + label + "']").parentNode;
      var f = li.querySelector(".lq-option-feedback");
      f.hidden = false;
      f.classList.toggle("lq-correct", right);
    }

    if (q.type === "single") {
      box.querySelectorAll("input[type=radio]").forEach(function (r) {
        r.addEventListener("change", function () {
          var ok = q.correct.indexOf(r.value) >= 0;
          hideOptionFeedback();
          showOptionFeedback(r.value, ok);
          report(ok, "");
        });
      });
      return;
    }
    var button = box.querySelector(".lq-check");
    var input = box.querySelector(".lq-input");
    function check() {
      if (q.type === "multiple") {
        var chosen = [];
        box.querySelectorAll("input[type=checkbox]").forEach(function (c) { if (c.checked) { chosen.push(c.value); } });
        hideOptionFeedback();
        var ok = chosen.length === q.correct.length && chosen.every(function (c) { return q.correct.indexOf(c) >= 0; });
        chosen.forEach(function (c) { if (q.correct.indexOf(c) < 0) { showOptionFeedback(c, false); } });
        var missing = q.correct.some(function (c) { return chosen.indexOf(c) < 0; });
        report(ok, ok ? "<p>All the true statements and nothing else.</p>"
                      : (missing ? "<p>At least one true statement is missing from your answer.</p>" : ""));
      } else if (q.type === "numeric") {
        var x = parseNumber(input.value);
        if (x === null) { out.innerHTML = "<p>Type a plain number, such as 0.25 or -1.3.</p>"; return; }
        var r = scoreNumeric(q, x);
        report(r[0], r[0] ? "" : r[1]);
      } else {
        if (!input.value.trim()) { out.innerHTML = "<p>Type a word or a short phrase.</p>"; return; }
        var t = scoreText(q, input.value);
        report(t[0], t[0] ? "" : t[1]);
      }
    }
    button.addEventListener("click", check);
    if (input) {
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); check(); } });
    }
  }

  function init() { document.querySelectorAll(".lemma-quiz-live .lq-question").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
