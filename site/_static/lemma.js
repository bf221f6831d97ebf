/* lemma-course: small things on every page.
   - A "Copy" button on every block of code (no library; the clipboard API where the page is a secure
     context, a hidden text area elsewhere).
   - A box that scrolls sideways (a wide figure on a phone, a wide table or equation) can take the keyboard
     focus, so that it can be scrolled without a mouse, and gets the class lemma-scrolls (a shadow at the
     edge that has more: site/_static/lemma.css). */
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy") ? resolve() : reject(new Error("copy refused")); }
      catch (e) { reject(e); }
      finally { document.body.removeChild(area); }
    });
  }
  function add(pre) {
    var holder = pre.parentNode;
    if (holder.querySelector(":scope > .lemma-copy")) { return; }
    var b = document.createElement("button");
    b.type = "button";
    b.className = "lemma-copy";
    b.textContent = "Copy";
    b.setAttribute("aria-label", "Copy this code");
    b.addEventListener("click", function () {
      copyText(pre.innerText.replace(/\n$/, "")).then(function () {
        b.textContent = "Copied";
      }, function () {
        b.textContent = "Select and copy";
      });
      setTimeout(function () { b.textContent = "Copy"; }, 2000);
    });
    holder.classList.add("lemma-has-copy");
    holder.appendChild(b);
  }
  function focusableScrollers() {
    document.querySelectorAll("article figure.lemma-figure, article div.cell_output .output, " +
                              "article mjx-container[display='true'], article div.math").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowX);
      el.classList.toggle("lemma-scrolls", scrolls);
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-lemma-scroll", "");
      } else if (!scrolls && el.hasAttribute("data-lemma-scroll")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-lemma-scroll");
      }
    });
  }
  function init() {
    document.querySelectorAll("article div.highlight > pre").forEach(function (pre) {
      if (!pre.closest(".cell_output")) { add(pre); }          // code, not what it printed
    });
    focusableScrollers();
    window.addEventListener("resize", focusableScrollers);
    window.addEventListener("load", focusableScrollers);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(focusableScrollers);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
