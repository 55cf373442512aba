// leadflow UI behaviour: live SLA countdowns, keyboard navigation of the
// queue, and ECharts charts from JSON options. Re-run after htmx swaps.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";

  function fmt(ms) {
    var neg = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var t;
    if (lang === "ja") {
      t = (d ? d + "日" : "") + (d || h ? h + "時間" : "") + m + "分" + (d ? "" : sec + "秒");
      return neg ? t + "超過" : "あと" + t;
    }
    t = (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m" + (d ? "" : " " + sec + "s");
    return neg ? t + " overdue" : "in " + t;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var ms = Date.parse(el.dataset.deadline) - now;
      el.textContent = fmt(ms);
      el.classList.toggle("late", ms < 0);
    });
  }

  function charts(root) {
    if (!window.echarts) return;
    root.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.done) return;
      el.dataset.done = "1";
      var c = echarts.init(el, null, { renderer: "canvas" });
      c.setOption(JSON.parse(el.dataset.chart));
      window.addEventListener("resize", function () { c.resize(); });
    });
  }

  function rows() {
    var t = document.querySelector("table[data-keynav]");
    return t ? Array.prototype.slice.call(t.querySelectorAll("tbody tr[data-href]")) : [];
  }

  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.metaKey || e.ctrlKey || e.altKey) return;
    var rs = rows();
    if (!rs.length) return;
    var i = rs.findIndex(function (r) { return r.classList.contains("sel"); });
    if (e.key === "j" || e.key === "ArrowDown") i = Math.min(i + 1, rs.length - 1);
    else if (e.key === "k" || e.key === "ArrowUp") i = Math.max(i - 1, 0);
    else if (e.key === "Enter" && i >= 0) { window.location.href = rs[i].dataset.href; return; }
    else return;
    e.preventDefault();
    rs.forEach(function (r) { r.classList.remove("sel"); });
    rs[i].classList.add("sel");
    rs[i].focus();
    rs[i].scrollIntoView({ block: "nearest" });
  });

  function init(root) { charts(root || document); tick(); }
  document.addEventListener("DOMContentLoaded", function () { init(document); setInterval(tick, 1000); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
