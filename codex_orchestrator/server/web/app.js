// The web page: the runs, newest first, and one run's stages, live.
// No build step and no network beyond this server: plain DOM and fetch/EventSource.
"use strict";

const LIVE = new Set(["queued", "in_progress"]);
const TAIL_LINES = 200;
let current = null; // the state of the run page shown now; null on the list

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(status, extra = {}) {
  return el("span", { class: `badge s-${status}`, ...extra }, status.replace("_", " "));
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.json();
}

function duration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function setConnection(text) {
  document.getElementById("connection").textContent = text;
}

// ---------------------------------------------------------------------------
// The list of runs
// ---------------------------------------------------------------------------

async function showRuns(app) {
  setConnection("");
  const rows = await getJSON("/runs");
  const body = rows.map((row) =>
    el("tr", { "data-run": row.run_id },
      el("td", {}, badge(row.status)),
      el("td", { class: "mono" }, el("a", { href: `#/runs/${encodeURIComponent(row.run_id)}` }, row.run_id)),
      el("td", {}, row.task_id),
      el("td", {}, row.pipeline_id || ""),
      el("td", {}, when(row.started_at)),
      el("td", {}, row.duration_seconds === null ? "" : duration(row.duration_seconds * 1000)),
      el("td", {}, row.status === "unreadable" ? "" : el("a", {
        href: `/runs/${encodeURIComponent(row.run_id)}/report.html`, class: "report-link",
      }, "report")),
    ));
  app.replaceChildren(
    el("h1", {}, "Runs"),
    rows.length === 0
      ? el("p", { class: "muted" }, "No runs yet: start one with codex-orchestrator start.")
      : el("table", { id: "runs" },
        el("thead", {}, el("tr", {}, ["status", "run", "task", "pipeline", "started", "duration", ""]
          .map((name) => el("th", {}, name)))),
        el("tbody", {}, body)),
  );
}

// ---------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------

async function showRun(app, runId) {
  const state = { runId, run: null, selected: null, source: null, timer: null, refreshing: null };
  current = state;
  app.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  await refresh(state);
  if (current !== state) return;
  if (LIVE.has(state.run.status) && !state.run.activity.lost) follow(state);
}

async function refresh(state) {
  const run = await getJSON(`/runs/${encodeURIComponent(state.runId)}`);
  if (current !== state) return;
  state.run = run;
  if (state.selected === null && run.commands.length) {
    const running = run.commands.find((c) => c.status === "running");
    const failed = run.commands.find((c) => c.status === "failed");
    state.selected = (running || failed || run.commands[run.commands.length - 1]).index;
  }
  render(state);
  await Promise.all([loadOutput(state), loadArtifacts(state)]);
}

function scheduleRefresh(state) {
  if (state.refreshing) return;
  state.refreshing = setTimeout(async () => {
    state.refreshing = null;
    try { await refresh(state); } catch (error) { setConnection(`refresh failed: ${error.message}`); }
  }, 150);
}

function follow(state) {
  // Stage changes arrive as server-sent events; if the stream fails, poll instead.
  const source = new EventSource(`/runs/${encodeURIComponent(state.runId)}/events?output=false`);
  state.source = source;
  setConnection("live");
  source.onmessage = (message) => {
    if (current !== state) { source.close(); return; }
    let event = null;
    try { event = JSON.parse(message.data); } catch (_) { return; }
    if (event.type && !event.type.startsWith("command:std")) scheduleRefresh(state);
  };
  source.addEventListener("end", () => {
    source.close();
    clearInterval(state.timer);
    setConnection("run ended");
    scheduleRefresh(state);
  });
  source.onerror = () => {
    source.close();
    if (current !== state) return;
    setConnection("polling");
    poll(state);
  };
  let ticks = 0;
  state.timer = setInterval(() => {
    // The output tail of a running stage and its live files move without stage events.
    if (current !== state) return;
    const stage = state.run && state.run.commands.find((c) => c.index === state.selected);
    if (stage && stage.status === "running") loadOutput(state);
    if (++ticks % 2 === 0) loadArtifacts(state);
  }, 1000);
}

function poll(state) {
  const tick = async () => {
    if (current !== state) return;
    try { await refresh(state); } catch (error) { setConnection(`poll failed: ${error.message}`); }
    if (current === state && LIVE.has(state.run.status) && !state.run.activity.lost) {
      setTimeout(tick, 1000);
    } else if (current === state) {
      setConnection("run ended");
    }
  };
  setTimeout(tick, 1000);
}

function stop(state) {
  if (!state) return;
  if (state.source) state.source.close();
  if (state.timer) clearInterval(state.timer);
  if (state.refreshing) clearTimeout(state.refreshing);
}

function render(state) {
  const run = state.run;
  const app = document.getElementById("app");
  const lost = run.activity.lost;
  const facts = [
    ["pipeline", `${run.pipeline_title} (${run.pipeline_id})`],
    ["task", run.task_id],
    ["started", when(run.started_at)],
    ["completed", when(run.completed_at)],
    ["runner", run.activity.runner_alive ? `pid ${run.activity.runner_pid}, alive` : "not running"],
  ];
  if (run.parent_run_id) facts.push(["parent", run.parent_run_id]);
  const parts = [
    el("p", {}, el("a", { href: "#/" }, "← all runs")),
    el("h1", {}, "Run ", el("span", { class: "mono" }, run.run_id), " ",
      badge(run.status, { id: "run-status" }),
      lost ? el("span", { class: "badge s-lost", id: "run-lost" }, "runner lost") : null),
    el("div", { class: "facts" }, facts.map(([name, value]) =>
      el("div", {}, el("span", {}, name), value))),
    run.report_url
      ? el("p", {}, el("a", { href: run.report_url, id: "report-link" }, "HTML report"),
        el("span", { class: "muted" }, " (stages, timeline, failures and artifacts on one page)"))
      : null,
    lost && run.activity.resume_command
      ? el("p", { class: "error" }, "The runner is gone. Resume with ",
        el("code", {}, run.activity.resume_command)) : null,
    run.summary ? el("div", { class: "summary" }, run.summary) : null,
    el("h2", {}, "Stages"),
    stagesTable(state),
    el("h2", {}, "Timeline"),
    timeline(run),
    el("h2", {}, "Output ", el("span", { class: "muted", id: "output-stage" }, outputLabel(state))),
    el("pre", { class: "output", id: "output" }, state.outputNodes || ""),
    el("h2", {}, "Artifacts"),
    el("div", { id: "artifacts" }, state.artifactNodes || el("p", { class: "muted" }, "Loading…")),
  ];
  app.replaceChildren(...parts.filter((part) => part !== null));
}

// Kept files (archived), live workspace files while the run runs, sealed files.
async function loadArtifacts(state) {
  const base = `/artifacts/${encodeURIComponent(state.runId)}/files`;
  let files;
  try {
    files = await getJSON(base);
  } catch (error) {
    files = null;
    state.artifactNodes = el("p", { class: "muted" }, `No artifacts (${error.message}).`);
  }
  if (current !== state) return;
  if (files !== null) {
    state.artifactNodes = files.length === 0
      ? el("p", { class: "muted" }, "No kept files.")
      : el("table", { id: "artifact-files" },
        el("thead", {}, el("tr", {}, ["instance", "file", "size", "mode"].map((name) => el("th", {}, name)))),
        el("tbody", {}, files.map((file) =>
          el("tr", { "data-file": `${file.instance}/${file.path}`, "data-mode": file.mode },
            el("td", {}, file.instance),
            el("td", { class: "mono" }, file.type === "link"
              ? `${file.path} → ${file.target}`
              : el("a", { href: `${base}/${file.instance}/${file.path.split("/").map(encodeURIComponent).join("/")}`, target: "_blank" }, file.path)),
            el("td", {}, `${file.size} B`),
            el("td", {}, el("span", { class: `badge s-${file.mode === "live" ? "running" : "succeeded"}` }, file.mode))))));
  }
  const holder = document.getElementById("artifacts");
  if (holder) holder.replaceChildren(state.artifactNodes);
}

function outputLabel(state) {
  const stage = state.run.commands.find((c) => c.index === state.selected);
  return stage ? `of ${stage.id} (last ${TAIL_LINES} lines)` : "";
}

function stagesTable(state) {
  const rows = state.run.commands.map((stage) =>
    el("tr", {
      class: `selectable${stage.index === state.selected ? " selected" : ""}`,
      "data-stage": stage.id,
      onclick: () => { state.selected = stage.index; state.outputNodes = null; render(state); loadOutput(state); },
    },
    el("td", {}, String(stage.index)),
    el("td", {}, el("strong", {}, stage.id), stage.title !== stage.id ? el("div", { class: "muted" }, stage.title) : null),
    el("td", {}, badge(stage.status, { id: `stage-${stage.index}-status`, "data-status": stage.status })),
    el("td", {}, duration(stage.duration_ms)),
    el("td", {}, stage.exit_code === null ? "" : String(stage.exit_code)),
    el("td", { class: "mono" }, stage.command || (stage.sub_run_id ? `run ${stage.sub_run_id}` : "")),
    el("td", { class: "muted" }, stage.blocked_by.length ? `blocked by ${stage.blocked_by.join(", ")}` : (stage.summary || "")),
    ));
  return el("table", { id: "stages" },
    el("thead", {}, el("tr", {}, ["#", "stage", "status", "duration", "exit", "command", "note"]
      .map((name) => el("th", {}, name)))),
    el("tbody", {}, rows));
}

function timeline(run) {
  const started = run.commands.filter((c) => c.started_at);
  if (!started.length) return el("p", { class: "muted" }, "No stage has started yet.");
  const now = Date.now();
  const begin = Math.min(...started.map((c) => Date.parse(c.started_at)));
  const spans = started.map((c) => ({
    stage: c,
    from: Date.parse(c.started_at),
    to: c.completed_at ? Date.parse(c.completed_at) : now,
  }));
  const end = Math.max(begin + 1, ...spans.map((s) => s.to));
  // Stages that overlap in time go on separate lanes.
  const lanes = [];
  for (const span of spans.sort((a, b) => a.from - b.from)) {
    let lane = lanes.find((l) => l.at(-1).to <= span.from);
    if (!lane) { lane = []; lanes.push(lane); }
    lane.push(span);
  }
  const width = end - begin;
  return el("div", { class: "timeline", id: "timeline" }, lanes.map((lane) =>
    el("div", { class: "lane" }, lane.map((span) =>
      el("div", {
        class: `bar s-${span.stage.status}`,
        title: `${span.stage.id}: ${span.stage.status} ${duration(span.to - span.from)}`,
        style: `left:${(100 * (span.from - begin)) / width}%;width:${(100 * (span.to - span.from)) / width}%`,
      }, span.stage.id)))));
}

async function loadOutput(state) {
  if (state.selected === null) return;
  const index = state.selected;
  let tail;
  try {
    tail = await getJSON(`/runs/${encodeURIComponent(state.runId)}/stages/${index}/output?lines=${TAIL_LINES}`);
  } catch (error) {
    tail = { lines: [{ stream: "stderr", data: `(output unavailable: ${error.message})` }] };
  }
  if (current !== state || state.selected !== index) return;
  state.outputNodes = tail.lines.map((line) =>
    el("span", { class: line.stream }, line.data + (line.partial ? "" : "\n")));
  const pre = document.getElementById("output");
  if (pre) {
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.replaceChildren(...state.outputNodes);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

async function route() {
  stop(current);
  current = null;
  const app = document.getElementById("app");
  const match = location.hash.match(/^#\/runs\/([^/]+)$/);
  try {
    if (match) await showRun(app, decodeURIComponent(match[1]));
    else await showRuns(app);
  } catch (error) {
    app.replaceChildren(el("p", { class: "error", id: "error" }, error.message));
  }
}

window.addEventListener("hashchange", route);
route();
