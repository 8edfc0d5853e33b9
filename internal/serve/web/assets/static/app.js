// runner serve: live updates only. Every page works without this file;
// with it, pages follow /api/v1/events and task logs follow their streams.
"use strict";
(function () {
  var streams = [];

  function closeStreams() {
    streams.forEach(function (es) { es.close(); });
    streams = [];
  }

  // followLogs streams the log of each task that is still running, from
  // the byte offset the page was rendered at.
  function followLogs() {
    document.querySelectorAll("pre[data-stream]").forEach(function (pre) {
      var url = pre.getAttribute("data-stream") + "?offset=" + encodeURIComponent(pre.getAttribute("data-offset") || "0");
      var es = new EventSource(url);
      es.addEventListener("log", function (ev) {
        var c = JSON.parse(ev.data);
        var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.appendChild(document.createTextNode(c.text));
        pre.setAttribute("data-offset", String(c.end));
        if (atEnd) { pre.scrollTop = pre.scrollHeight; }
      });
      es.addEventListener("done", function () { es.close(); });
      es.addEventListener("error", function (ev) { if (ev.data) { es.close(); } });
      streams.push(es);
    });
  }

  // refresh fetches the page again and swaps its main part in, unless the
  // reader is filling in a form there.
  var timer = null, pending = false;
  function refresh() {
    var active = document.activeElement;
    if (active && active.form && document.getElementById("main").contains(active)) {
      pending = true;
      return;
    }
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        if (!fresh) { return; }
        closeStreams();
        var main = document.getElementById("main");
        main.replaceWith(document.importNode(fresh, true));
        followLogs();
      })
      .catch(function () {});
  }
  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { timer = null; refresh(); }, 250);
  }

  function start() {
    followLogs();
    if (!document.body.hasAttribute("data-live") || !window.EventSource) { return; }
    var events = new EventSource("/api/v1/events");
    // A change that came before the stream was open (or while it was
    // reconnecting) is not sent again: look again on every (re)connect.
    var opened = false;
    events.addEventListener("open", function () { if (opened) { soon(); } opened = true; });
    // Changes a busy server dropped are not sent again either: while the
    // run on this page is not finished, look again every few seconds.
    setInterval(function () {
      var status = document.getElementById("run-status");
      if (status && status.getAttribute("data-live") === "true") { soon(); }
    }, 5000);
    events.addEventListener("change", function (ev) {
      var c = {};
      try { c = JSON.parse(ev.data); } catch (e) { /* a change without details: look again */ }
      if (c.log) { return; } // log lines come through the log streams
      var status = document.getElementById("run-status");
      if (status && c.run && c.run !== status.getAttribute("data-run")) { return; }
      soon();
    });
    document.addEventListener("focusout", function () { if (pending) { pending = false; soon(); } });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
