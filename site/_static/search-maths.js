/* lemma-course: the search page.
 * - Excerpts come from the article only (not the theme's buttons, navigation and headers), without
 *   quizzes and code cells, and their LaTeX is typeset (they arrive after MathJax has run).
 * - Ranking: a page that defines a searched term (in bold in its text; the list comes from
 *   site/build.py as window.LEMMA_TERMS) ranks above pages that only mention it.
 */
(function () {
  "use strict";
  var DEFINES = 10;   // added to a result's score for each searched word the page defines

  function words() {
    var q = new URLSearchParams(window.location.search).get("q") || "";
    return q.toLowerCase().split(/[^a-z0-9]+/).filter(function (w) { return w.length > 2; });
  }

  function improveSearch() {
    if (typeof Search === "undefined") { return; }
    Search.htmlToText = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      var root = doc.querySelector("article.bd-article") || doc.querySelector("[role='main']") || doc.body;
      root.querySelectorAll(".headerlink, script, style, .lemma-quiz, .cell_input, details.hide, " +
                            ".lemma-copy, figcaption, mjx-assistive-mml").forEach(function (el) { el.remove(); });
      if (anchor) {
        var part = root.querySelector(anchor);
        if (part) { return part.textContent; }
      }
      return root.textContent;
    };
    if (typeof Scorer !== "undefined" && window.LEMMA_TERMS) {
      var previous = Scorer.score;
      Scorer.score = function (result) {
        var score = previous ? previous(result) : result[4];
        var defined = window.LEMMA_TERMS[result[0]] || [];
        words().forEach(function (w) { if (defined.indexOf(w) >= 0) { score += DEFINES; } });
        return score;
      };
    }
  }

  function watch() {
    var results = document.getElementById("search-results");
    if (!results || !window.MutationObserver) { return; }
    var pending = false;
    new MutationObserver(function () {
      if (pending || !(window.MathJax && MathJax.typesetPromise)) { return; }
      pending = true;
      setTimeout(function () { pending = false; MathJax.typesetPromise([results]).catch(function () {}); }, 200);
    }).observe(results, {childList: true, subtree: true});
  }

  function start() { improveSearch(); watch(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
