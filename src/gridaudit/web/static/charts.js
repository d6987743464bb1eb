// gridaudit: render the page's charts (our own script). Each chart is a Vega-Lite spec in a
// <script type="application/json" data-chart="ID"> block; the runtime (window.vegaEmbed) is the bundle the
// app serves at /runtime/vega.js. CSP-safe: the expression interpreter (ast), no injected styles.
"use strict";
(function () {
  function locale() {
    const block = document.getElementById("chart-locale");
    return block ? JSON.parse(block.textContent) : null;
  }
  function draw() {
    if (typeof window.vegaEmbed !== "function") return;
    const loc = locale();
    for (const block of document.querySelectorAll('script[type="application/json"][data-chart]')) {
      const target = document.getElementById(block.dataset.chart);
      if (!target) continue;
      const spec = JSON.parse(block.textContent);
      spec.width = "container";
      const options = {
        actions: false, renderer: "svg", ast: true, defaultStyle: false,
        tooltip: { disableDefaultStyle: true },
      };
      if (loc) { options.formatLocale = loc.number; options.timeFormatLocale = loc.time; }
      window.vegaEmbed(target, spec, options)
        .then(() => target.setAttribute("data-rendered", "1"))
        .catch((err) => { target.textContent = target.dataset.error || String(err); });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
