/* lemma-course: the self-test quizzes on the website, checked in the browser (no kernel).
 *
 * site/build.py generates each question's HTML from the YAML bank; what is needed to check an answer
 * (keys, feedback, hint, worked answer) is in the question's data-key attribute, lightly obfuscated
 * (JSON, XOR with "lemma-quiz:" + question id, base64) so that nobody reads a key by accident in
 * the page's source. The rules follow lemma_helpers._scoring.score: a wrong answer gets the feedback
 * written for that mistake, the hint from the second wrong try, the worked answer from the third (and
 * at once when the answer is right). Nothing is recorded: in JupyterLab, lh.check does.
 *
 * Keyboard: choosing an option never answers. Arrow keys move through a group of options, Space
 * ticks a box, Enter (or the Check button) checks. Everything the check says (the verdict, the
 * feedback on the chosen options, the hint, the worked answer) is written into one live region.
 */
(function () {
  "use strict";
  var HINT_FROM_TRY = 2, WORKED_FROM_TRY = 3;

  function typeset(el) {
    if (window.MathJax && MathJax.typesetPromise) { MathJax.typesetPromise([el]).catch(function () {}); }
  }

  function decode(id, payload) {
    var bin = atob(payload), key = "lemma-quiz:" + id, keyBytes = new TextEncoder().encode(key);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i) ^ keyBytes[i % keyBytes.length]; }
    return JSON.parse(new TextDecoder().decode(bytes));
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
    if (q.low - eps <= x && x <= q.high + eps) { return [true, ""]; }
    for (var i = 0; i < q.distractors.length; i++) {
      var d = q.distractors[i];
      if (d[0] - eps <= x && x <= d[1] + eps) { return [false, d[2]]; }
    }
    if (Math.abs(q.high) <= 1 && q.low * 100 - eps <= x && x <= q.high * 100 + eps && x !== 0) {
      return [false, "<p>That looks like a percentage: give the proportion (divide by 100).</p>"];
    }
    if (q.low <= -x && -x <= q.high) {
      return [false, "<p>The size is right but the sign is not: check the direction of the effect.</p>"];
    }
    return [false, q.wrong || "<p>Not within the accepted range. Redo the calculation step by step.</p>"];
  }

  function scoreText(q, s) {
    var t = normaliseText(s);
    if (q.accept.indexOf(t) >= 0) { return [true, ""]; }
    for (var i = 0; i < q.distractors.length; i++) {
      if (q.distractors[i][0].indexOf(t) >= 0) { return [false, q.distractors[i][1]]; }
    }
    return [false, q.wrong || "<p>Not the term we are looking for.</p>"];
  }

  function setup(box) {
    var q;
    try { q = decode(box.getAttribute("data-id"), box.getAttribute("data-key")); } catch (e) { return; }
    var out = box.querySelector(".lq-feedback");
    var button = box.querySelector(".lq-check");
    var input = box.querySelector(".lq-input");
    var tries = 0, lastWrong = null;

    function say(message) {
      out.innerHTML = "";
      out.appendChild(block(message, "lq-note"));
    }

    function report(ok, answerKey, messages) {
      if (!ok && answerKey !== lastWrong) { tries += 1; }     // the same wrong answer again costs no try
      lastWrong = ok ? null : answerKey;
      out.innerHTML = "";
      var status = document.createElement("p");
      status.className = "lq-status";
      status.textContent = ok ? "Correct!" : "Not quite" + (tries > 1 ? " (try " + tries + ")." : ".");
      out.appendChild(status);
      messages.forEach(function (m) { if (m) { out.appendChild(block(m, ok ? "lq-correct" : "lq-wrong")); } });
      if (!ok && tries >= HINT_FROM_TRY && q.hint) {
        out.appendChild(block("<p><strong>Hint.</strong></p>" + q.hint, "lq-hint"));
      }
      if ((ok || tries >= WORKED_FROM_TRY) && q.explanation) {
        out.appendChild(block("<p><strong>Worked answer.</strong></p>" + q.explanation, "lq-worked"));
      }
      box.classList.toggle("lq-answered-right", ok);
      box.classList.toggle("lq-answered-wrong", !ok);
      typeset(out);
    }

    function optionFeedback(label) {
      var text = (q.feedback || {})[label] || "";
      return text ? "<p class='lq-option-ref'><strong>" + label + ".</strong></p>" + text : "";
    }

    function markOptions(marks) {
      box.querySelectorAll(".lq-option-row").forEach(function (li) {
        var label = li.querySelector(".lq-option").getAttribute("data-label");
        li.classList.remove("lq-chosen-right", "lq-chosen-wrong");
        if (marks[label]) { li.classList.add(marks[label]); }
      });
    }

    function check() {
      if (q.type === "single" || q.type === "multiple") {
        var chosen = [];
        box.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (c) {
          if (c.checked) { chosen.push(c.value); }
        });
        if (!chosen.length) {
          say("<p>Choose " + (q.type === "single" ? "an option" : "one or more options") + " first.</p>");
          return;
        }
        var ok = chosen.length === q.correct.length && chosen.every(function (c) { return q.correct.indexOf(c) >= 0; });
        var marks = {}, messages = [];
        if (q.type === "single") {
          marks[chosen[0]] = ok ? "lq-chosen-right" : "lq-chosen-wrong";
          messages.push(optionFeedback(chosen[0]));
        } else if (ok) {
          chosen.forEach(function (c) { marks[c] = "lq-chosen-right"; });
          messages.push("<p>All the true statements and nothing else.</p>");
        } else {
          chosen.forEach(function (c) {
            if (q.correct.indexOf(c) < 0) { marks[c] = "lq-chosen-wrong"; messages.push(optionFeedback(c)); }
          });
          if (q.correct.some(function (c) { return chosen.indexOf(c) < 0; })) {
            messages.push("<p>At least one true statement is missing from your answer.</p>");
          }
        }
        markOptions(marks);
        report(ok, chosen.slice().sort().join(","), messages);
      } else if (q.type === "numeric") {
        var x = parseNumber(input.value);
        if (x === null) { say("<p>Type a plain number, such as 0.25 or -1.3.</p>"); return; }
        var r = scoreNumeric(q, x);
        report(r[0], String(x), [r[1]]);
      } else {
        if (!input.value.trim()) { say("<p>Type a word or a short phrase.</p>"); return; }
        var t = scoreText(q, input.value);
        report(t[0], normaliseText(input.value), [t[1]]);
      }
    }

    button.addEventListener("click", check);
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && e.target.matches("input")) { e.preventDefault(); check(); }
    });
  }

  function init() { document.querySelectorAll(".lemma-quiz-live .lq-question").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
