// The console's own script (no library; the pages' CSP allows only scripts from /console/static).
// On the 工作台: adds the alerts of GET /alerts/stream (Server-Sent Events, signed in by the
// session cookie) to the top of the 实时提醒 list as they are raised. The page works without it.
"use strict";

(function () {
  var MAX_ITEMS = 50;
  var FRESH_MS = 8000; // how long a new item keeps its highlight (the CSS fades it out)

  function localTime(iso, timeZone) {
    // "YYYY-MM-DD HH:MM" in the deployment's time zone, as the server writes it
    var when = new Date(iso);
    if (isNaN(when.getTime())) {
      return iso || "";
    }
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-CA", {
        timeZone: timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      })
        .formatToParts(when)
        .forEach(function (part) {
          parts[part.type] = part.value;
        });
    } catch (unknownZone) {
      return when.toLocaleString();
    }
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }

  function span(className, text) {
    var element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function alertItem(event, live) {
    var payload = event.payload || {};
    var item = document.createElement("li");
    var tone = live.tones[event.event_type];
    item.className = "alert fresh" + (tone ? " " + tone : "");
    item.dataset.alertId = event.event_id;
    item.appendChild(span("alert-type", live.types[event.event_type] || event.event_type));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(span("alert-rule", live.rules[payload.rule] || payload.rule || ""));
    item.appendChild(document.createTextNode(" "));
    var where = span("alert-case", "案件 ");
    var link = document.createElement("a");
    link.href = "/console/cases/" + encodeURIComponent(event.case_id);
    link.textContent = event.case_id;
    where.appendChild(link);
    where.appendChild(document.createTextNode("（" + (live.kinds[event.case_kind] || event.case_kind) + "）"));
    item.appendChild(where);
    var level = live.levels[String(payload.level)];
    if (level) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(span("alert-level", "级别：" + level));
    }
    item.appendChild(document.createTextNode(" "));
    item.appendChild(span("alert-due", "期限：" + localTime(payload.due_at, live.timezone)));
    item.appendChild(document.createTextNode(" "));
    var raised = span("alert-time", "提醒时间：");
    var time = document.createElement("time");
    time.dateTime = event.occurred_at;
    time.textContent = localTime(event.occurred_at, live.timezone);
    raised.appendChild(time);
    item.appendChild(raised);
    return item;
  }

  function start(list) {
    var live;
    try {
      live = JSON.parse(list.dataset.live);
    } catch (broken) {
      return;
    }
    var status = document.getElementById("alerts-status");
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    if (!live.stream) {
      say("实时提醒未开启（服务未连接消息队列），请刷新页面查看最新提醒。");
      return;
    }
    if (typeof EventSource === "undefined") {
      say("此浏览器不支持实时提醒，请刷新页面查看最新提醒。");
      return;
    }

    function add(message) {
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (broken) {
        return;
      }
      if (!event || !event.event_id || list.querySelector('[data-alert-id="' + CSS.escape(event.event_id) + '"]')) {
        return; // a copy of an alert already listed
      }
      var empty = list.querySelector(".alert-empty");
      if (empty) {
        empty.remove();
      }
      var item = alertItem(event, live);
      list.insertBefore(item, list.firstChild);
      window.setTimeout(function () {
        item.classList.remove("fresh");
      }, FRESH_MS);
      while (list.children.length > MAX_ITEMS) {
        list.removeChild(list.lastChild);
      }
    }

    say("正在连接实时提醒…");
    var source = new EventSource(live.stream);
    Object.keys(live.types).forEach(function (type) {
      source.addEventListener(type, add);
    });
    source.onopen = function () {
      say("实时提醒已连接：新提醒会自动出现在列表顶部。");
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        say("实时提醒暂不可用，请稍后刷新页面。");
      } else {
        say("实时提醒连接中断，正在重新连接…");
      }
    };
    window.addEventListener("pagehide", function () {
      source.close();
    });
    window.addEventListener("pageshow", function (shown) {
      if (shown.persisted) {
        window.location.reload(); // back from the page cache: its stream was closed
      }
    });
  }

  function ready() {
    var list = document.getElementById("alerts");
    if (list && list.dataset.live) {
      start(list);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
