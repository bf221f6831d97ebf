/* lemma-course: typeset the LaTeX in the search results' excerpts (they arrive after MathJax has run). */
(function () {
  "use strict";
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
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
})();
