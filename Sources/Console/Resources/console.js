// The decode-async console page. Everything shown is put in the DOM as text (textContent,
// createTextNode): dead-letter bodies are attacker-controlled, so no data ever reaches an
// HTML-parsing property or method. The page polls the JSON API every 2 s.
"use strict";

const REFRESH_MS = 2000;
const PAGE_SIZE = 10;
const state = {
  queues: [],
  pages: {},        // queue -> current page number
  expanded: {},     // "queue id" -> full body text
  lastRendered: {}, // queue -> JSON of the rendered page
  totals: {},       // queue -> letters in the rendered page's queue
  busy: 0,          // actions in flight: polling of dead letters waits
};

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function text(id, value) {
  document.getElementById(id).textContent = value === undefined || value === null ? "–" : String(value);
}

function setStatus(message, isError) {
  state.statusUntil = Date.now() + 6000;
  showStatus(message, isError);
}

function showStatus(message, isError) {
  const status = document.getElementById("status");
  status.textContent = message;
  status.classList.toggle("error", Boolean(isError));
}

async function api(path, options) {
  const init = Object.assign({credentials: "same-origin", headers: {}}, options || {});
  if (init.body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(init.body);
  }
  const response = await fetch("/api/" + path, init);
  if (response.status === 401) {
    window.location.assign("/login");
    throw new Error("signed out");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || ("HTTP " + response.status));
  return answer;
}

function number(value) {
  return value === undefined || value === null ? "–" : String(value);
}

function rate(value) {
  return value === undefined || value === null ? "–" : value.toFixed(1);
}

// Queues

function renderQueues(overview) {
  const body = document.querySelector("#queue-table tbody");
  const rows = overview.queues.map((queue) => {
    const retries = queue.retry_queues.length
      ? queue.retry_queues.map((retry) => retry.name.slice(queue.queue.length + 1) + ": " + retry.depth).join(", ")
      : "none";
    const row = el("tr", {dataset: {queue: queue.queue}},
      el("th", {scope: "row"}, queue.queue, queue.exists ? null : el("span", {class: "note"}, " (not declared)")),
      el("td", {"data-label": "Ready"}, number(queue.ready)),
      el("td", {"data-label": "Unacked"}, number(queue.unacknowledged)),
      el("td", {"data-label": "Consumers"}, number(queue.consumers)),
      el("td", {"data-label": "Publish/s"}, rate(queue.publish_rate)),
      el("td", {"data-label": "Deliver/s"}, rate(queue.deliver_rate)),
      el("td", {"data-label": "Retry queues"}, retries),
      el("td", {"data-label": "Dead letters", class: "dlq-depth"}, number(queue.dead_letters)));
    if (queue.error) row.appendChild(el("td", {class: "error"}, queue.error));
    return row;
  });
  body.replaceChildren(...rows);
  const note = document.getElementById("management-note");
  const managementErrors = overview.queues.map((queue) => queue.management_error).filter(Boolean);
  if (!overview.management) {
    note.textContent = "Unacknowledged counts and rates need RabbitMQ's management API (set RABBITMQ_MANAGEMENT_URI).";
    note.hidden = false;
  } else if (managementErrors.length) {
    note.textContent = "Management API unavailable: " + managementErrors[0];
    note.hidden = false;
  } else {
    note.hidden = true;
  }
}

// Throughput charts (SVG built with createElementNS)

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function chart(series) {
  const width = 300, height = 80;
  const count = series.processed.length;
  const max = Math.max(1, ...series.processed, ...series.dead_lettered);
  const line = (values) => values.map((value, index) =>
    (index * width / Math.max(1, count - 1)).toFixed(1) + "," + (height - value * (height - 4) / max - 2).toFixed(1)).join(" ");
  const root = svg("svg", {viewBox: "0 0 " + width + " " + height, role: "img", class: "chart", preserveAspectRatio: "none"});
  const title = svg("title", {});
  const processed = series.processed.reduce((a, b) => a + b, 0);
  const dead = series.dead_lettered.reduce((a, b) => a + b, 0);
  title.textContent = series.queue + ": " + processed + " processed, " + dead + " dead-lettered in 15 minutes";
  root.appendChild(title);
  root.appendChild(svg("polyline", {points: line(series.processed), class: "processed"}));
  root.appendChild(svg("polyline", {points: line(series.dead_lettered), class: "dead"}));
  return el("figure", {class: "chart-box", dataset: {queue: series.queue}}, root,
    el("figcaption", {}, series.queue + " — " + processed + " processed, " + dead + " dead-lettered, peak " + max + "/10 s"));
}

function renderThroughput(overview) {
  const charts = document.getElementById("charts");
  if (!overview.throughput.length) {
    charts.replaceChildren(el("p", {class: "note"}, "No throughput figures: the console needs Redis (REDIS_URI)."));
    return;
  }
  charts.replaceChildren(...overview.throughput.map(chart));
}

// Notifications and graph

function renderLive(overview) {
  text("presence-users", overview.presence.users);
  text("presence-sockets", overview.presence.sockets);
  text("stored-hour", overview.notifications.stored_last_hour);
  text("delivered-hour", overview.notifications.delivered_last_hour);
  const errors = [overview.presence.error, overview.notifications.error].filter(Boolean);
  const note = document.getElementById("live-error");
  note.textContent = errors.join(" · ");
  note.hidden = errors.length === 0;
}

function renderGraph(graph) {
  const last = graph.last_check;
  if (last) {
    let summary = "Last check " + last.checked_at + " (" + last.ran_by + "): " + last.checked_users + " users, " +
      (last.differing === 0 ? "MongoDB and the graph agree" : last.differing + " differ");
    if (last.repairs_emitted !== undefined && last.repairs_emitted !== null) summary += "; fix emitted " + last.repairs_emitted + " update_user_request";
    text("graph-summary", summary);
    document.getElementById("graph-differences").replaceChildren(...last.first_differences.map((line) => el("li", {}, line)));
  } else {
    text("graph-summary", "No check has run yet.");
    document.getElementById("graph-differences").replaceChildren();
  }
  const error = document.getElementById("graph-error");
  error.textContent = graph.error || "";
  error.hidden = !graph.error;
  for (const id of ["run-check", "run-fix"]) document.getElementById(id).disabled = !graph.available || graph.running;
  if (graph.running) text("graph-summary", "A check is running…");
}

async function runCheck(fix) {
  setStatus(fix ? "running the check and fixing…" : "running the check…");
  try {
    const result = await api(fix ? "graph/fix" : "graph/check", {body: {}});
    setStatus("check done: " + result.differing + " users differ");
  } catch (error) {
    setStatus("check failed: " + error.message, true);
  }
  refresh();
}

// Dead letters

function ensurePanels(queues) {
  const container = document.getElementById("dlq-panels");
  for (const queue of queues) {
    if (container.querySelector('[data-queue="' + CSS.escape(queue) + '"]')) continue;
    const list = el("ol", {class: "letters"});
    const pager = el("div", {class: "pager"});
    const panel = el("article", {class: "dlq", dataset: {queue: queue}},
      el("h3", {}, queue + ".dlq ", el("span", {class: "count"}, "")),
      el("div", {class: "actions"},
        el("button", {type: "button", class: "replay-all", onclick: () => replayAll(queue)}, "Replay all"),
        el("button", {type: "button", class: "purge danger", onclick: () => purge(queue)}, "Purge")),
      list, pager);
    container.appendChild(panel);
  }
}

function letterItem(queue, letter) {
  const key = queue + " " + letter.id;
  const full = state.expanded[key];
  const body = el("pre", {class: "body"}, full !== undefined ? full : letter.body);
  const item = el("li", {class: "letter", dataset: {id: letter.id}},
    el("dl", {},
      el("dt", {}, "Pattern"), el("dd", {class: "pattern"}, letter.pattern || "–"),
      el("dt", {}, "Reason"), el("dd", {class: "reason"}, letter.reason || "–"),
      el("dt", {}, "Kind"), el("dd", {}, letter.kind || "–"),
      el("dt", {}, "First failure"), el("dd", {}, letter.first_failure_at || "–"),
      el("dt", {}, "Dead-lettered"), el("dd", {}, letter.dead_lettered_at || "–"),
      el("dt", {}, "Retries"), el("dd", {}, String(letter.retry_count)),
      el("dt", {}, "Replayed"), el("dd", {class: "replays"}, letter.replay_count ? letter.replay_count + " time(s) before, failed again" : "never"),
      el("dt", {}, "Message id"), el("dd", {class: "id"}, letter.message_id || letter.id)),
    body);
  if (letter.truncated && full === undefined) {
    item.appendChild(el("button", {type: "button", class: "link show-all", onclick: () => showAll(queue, letter.id)},
      "Show all " + letter.body_length + " characters"));
  }
  item.appendChild(el("div", {class: "actions"},
    el("button", {type: "button", class: "replay", onclick: () => act(queue, "replay", [letter.id])}, "Replay"),
    el("button", {type: "button", class: "delete danger", onclick: () => act(queue, "delete", [letter.id])}, "Delete")));
  return item;
}

function renderLetters(queue, page) {
  const panel = document.querySelector('#dlq-panels [data-queue="' + CSS.escape(queue) + '"]');
  const signature = JSON.stringify(page) + JSON.stringify(Object.keys(state.expanded));
  if (state.lastRendered[queue] === signature) return;
  state.lastRendered[queue] = signature;
  panel.querySelector(".count").textContent = "(" + page.total + ")";
  const list = panel.querySelector(".letters");
  list.replaceChildren(...(page.items.length ? page.items.map((letter) => letterItem(queue, letter)) : [el("li", {class: "note empty"}, "No dead letters.")]));
  const pager = panel.querySelector(".pager");
  pager.replaceChildren(
    el("button", {type: "button", class: "link", disabled: page.page <= 1 ? "" : null, onclick: () => goTo(queue, page.page - 1)}, "‹ Newer"),
    el("span", {}, " page " + page.page + " of " + page.pages + " "),
    el("button", {type: "button", class: "link", disabled: page.page >= page.pages ? "" : null, onclick: () => goTo(queue, page.page + 1)}, "Older ›"));
  if (page.read_limit) {
    const why = page.read_limit === "bytes" ? "reading stopped at 8 MB of letters" : "the console reads at most 1,000 letters";
    pager.appendChild(el("span", {class: "read-limit"},
      " · showing the oldest " + page.read + " of " + page.total + " (" + why + ")"));
  }
}

async function loadLetters(queue) {
  const page = state.pages[queue] || 1;
  const answer = await api("queues/" + encodeURIComponent(queue) + "/dead-letters?page=" + page + "&page_size=" + PAGE_SIZE);
  state.pages[queue] = answer.page;
  state.totals[queue] = answer.total;
  renderLetters(queue, answer);
}

function goTo(queue, page) {
  state.pages[queue] = page;
  loadLetters(queue).catch((error) => setStatus(error.message, true));
}

async function showAll(queue, id) {
  try {
    const letter = await api("queues/" + encodeURIComponent(queue) + "/dead-letters/letter?id=" + encodeURIComponent(id));
    state.expanded[queue + " " + id] = letter.body;
    await loadLetters(queue);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function withBusy(work) {
  state.busy += 1;
  try {
    return await work();
  } finally {
    state.busy -= 1;
  }
}

async function act(queue, action, ids) {
  await withBusy(async () => {
    try {
      const answer = await api("queues/" + encodeURIComponent(queue) + "/dead-letters/" + action, {body: {ids: ids}});
      const done = action === "replay" ? answer.replayed : answer.deleted;
      setStatus((action === "replay" ? "replayed " : "deleted ") + done + " letter(s) of " + queue + ".dlq", done === 0);
      await loadLetters(queue);
    } catch (error) {
      setStatus(action + " failed: " + error.message, true);
    }
  });
}

async function replayAll(queue) {
  await withBusy(async () => {
    try {
      const answer = await api("queues/" + encodeURIComponent(queue) + "/dead-letters/replay", {body: {all: true}});
      setStatus("replayed " + answer.replayed + " letter(s) of " + queue + ".dlq");
      await loadLetters(queue);
    } catch (error) {
      setStatus("replay failed: " + error.message, true);
    }
  });
}

function confirmPurge(queue) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-text").textContent =
    "Delete every dead letter of " + queue + ".dlq? This cannot be undone.";
  dialog.dataset.queue = queue;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

async function purge(queue) {
  if (!(await confirmPurge(queue))) {
    setStatus("purge of " + queue + ".dlq cancelled");
    return;
  }
  await withBusy(async () => {
    try {
      const answer = await api("queues/" + encodeURIComponent(queue) + "/dead-letters/purge", {body: {confirm: queue}});
      setStatus("purged " + answer.purged + " letter(s) of " + queue + ".dlq");
      state.pages[queue] = 1;
      await loadLetters(queue);
    } catch (error) {
      setStatus("purge failed: " + error.message, true);
    }
  });
}

// Polling

let refreshing = false;

async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const overview = await api("overview");
    state.queues = overview.queues.map((queue) => queue.queue);
    renderQueues(overview);
    renderThroughput(overview);
    renderLive(overview);
    renderGraph(overview.graph);
    ensurePanels(state.queues);
    // A dead-letter queue is read only when it has letters, or to clear what the page still shows.
    const depths = Object.fromEntries(overview.queues.map((queue) => [queue.queue, queue.dead_letters]));
    const toRead = state.queues.filter((queue) => depths[queue] !== 0 || state.totals[queue] !== 0);
    if (state.busy === 0) await Promise.all(toRead.map(loadLetters));
    document.body.dataset.updated = overview.generated_at;
    if (!state.statusUntil || Date.now() > state.statusUntil) showStatus("updated " + new Date().toLocaleTimeString());
  } catch (error) {
    showStatus("update failed: " + error.message, true);
  } finally {
    refreshing = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("run-check").addEventListener("click", () => runCheck(false));
  document.getElementById("run-fix").addEventListener("click", () => runCheck(true));
  refresh();
  setInterval(refresh, REFRESH_MS);
});
