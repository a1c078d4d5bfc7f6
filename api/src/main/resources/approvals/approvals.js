// Ferry's approvals page: plain JavaScript, no build step. Everything shown comes from the API
// and is put on the page as text (textContent), never as HTML.
"use strict";

const TOKEN_KEY = "ferry.token";
const POLL_MS = 1500;
let selectedRun = null;
let timer = null;

const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function say(text, isError) {
  $("message").textContent = text || "";
  $("message").className = isError ? "error" : "";
}

async function api(method, path, body) {
  const headers = { "Authorization": "Bearer " + token(), "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = {};
  try { json = await response.json(); } catch (e) { /* empty body */ }
  if (response.status === 401) { signOut("The token was not accepted."); throw new Error("unauthorised"); }
  if (!response.ok) {
    const problems = (json.errors || []).map((e) => e.field + ": " + e.message).join("; ");
    throw new Error("HTTP " + response.status + ": " + (json.message || "") + (problems ? " (" + problems + ")" : ""));
  }
  return json;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function size(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let n = Number(bytes) || 0, i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

async function loadRuns() {
  const state = $("state-filter").value;
  const page = await api("GET", "/api/runs?limit=50" + (state ? "&state=" + encodeURIComponent(state) : ""));
  const body = $("runs").querySelector("tbody");
  body.replaceChildren();
  for (const run of page.runs) {
    const row = document.createElement("tr");
    row.dataset.runId = run.runId;
    if (run.runId === selectedRun) row.className = "selected";
    cell(row, run.runId);
    cell(row, run.app);
    cell(row, run.kind);
    cell(row, run.state, "state-" + run.state);
    cell(row, run.startedBy);
    cell(row, when(run.createdAt));
    row.addEventListener("click", () => { selectedRun = run.runId; refresh(); });
    body.appendChild(row);
  }
}

// The latest rehearsal reports and their trend: the selected run's app's, or every app's.
let selectedApp = null;

async function loadRehearsals() {
  const list = await api("GET", "/api/rehearsals?limit=10" + (selectedApp ? "&app=" + encodeURIComponent(selectedApp) : ""));
  $("rehearsals-app").textContent = selectedApp ? "of " + selectedApp : "(all apps)";
  const t = list.trend;
  $("rehearsal-trend").textContent = t.considered === 0
    ? "No rehearsal has run yet."
    : "Last " + t.considered + " that ran: " + t.succeeded + " succeeded (" + Math.round(t.successRate * 100) + "%); "
      + "estimated downtime median " + (t.medianDowntime || "-") + ", worst " + (t.worstDowntime || "-") + ".";
  const body = $("rehearsal-reports").querySelector("tbody");
  body.replaceChildren();
  for (const r of list.rehearsals) {
    const row = document.createElement("tr");
    row.dataset.rehearsalId = r.rehearsalId;
    if (r.rehearsalId === selectedRun) row.className = "selected";
    cell(row, r.rehearsalId);
    cell(row, r.app);
    cell(row, r.outcome, "outcome-" + r.outcome);
    cell(row, when(r.startedAt));
    cell(row, r.durationMillis == null ? "" : (r.durationMillis / 1000).toFixed(1) + " s");
    cell(row, r.estimatedDowntime || "").title = r.estimateBasis || "";
    cell(row, r.skipped || (r.errors.length ? r.errors.join("; ") : r.verification));
    row.addEventListener("click", () => { selectedRun = r.rehearsalId; refresh(); });
    body.appendChild(row);
  }
}

// Rehearsal schedules (Temporal schedules) of the selected run's app, or every app's; a
// schedule's recent fires once it is picked: started which rehearsal, or skipped and why.
let selectedSchedule = null;
// Schedules change slowly and each costs the API a few calls to Temporal: read them every few
// seconds, or at once when the picked app or schedule changed.
const SCHEDULES_MS = 5000;
let schedulesReadAt = 0;
let schedulesReadFor = null;

function fireText(f) {
  const what = f.result === "STARTED" ? "started " + f.rehearsalId + (f.reason ? " (" + f.reason + ")" : "")
    : f.result === "SKIPPED" ? "skipped: " + (f.reason || "")
    : String(f.result || "").toLowerCase() + (f.reason ? ": " + f.reason : "");
  const by = f.trigger && f.trigger !== "schedule" ? " [" + f.trigger + "]" : "";
  return when(f.at) + " " + what + by;
}

async function loadSchedules() {
  const key = (selectedApp || "") + "|" + (selectedSchedule || "");
  if (key === schedulesReadFor && Date.now() - schedulesReadAt < SCHEDULES_MS) return;
  schedulesReadFor = key;
  schedulesReadAt = Date.now();
  const page = await api("GET", "/api/schedules" + (selectedApp ? "?app=" + encodeURIComponent(selectedApp) : ""));
  $("schedules-app").textContent = selectedApp ? "of " + selectedApp : "(all apps)";
  const body = $("schedule-list").querySelector("tbody");
  body.replaceChildren();
  for (const s of page.schedules) {
    const row = document.createElement("tr");
    row.dataset.scheduleId = s.scheduleId;
    if (s.scheduleId === selectedSchedule) row.className = "selected";
    cell(row, s.scheduleId);
    cell(row, s.app);
    cell(row, s.state, "state-" + s.state).title = s.note || s.problem || "";
    cell(row, s.cron ? "cron \"" + s.cron + "\" " + s.timezone : "every " + s.interval);
    cell(row, when(s.nextFireAt));
    cell(row, s.started == null ? "" : s.started + " started, " + s.skipped + " skipped");
    cell(row, s.recent && s.recent.length ? fireText(s.recent[0]) : (s.problem || ""));
    row.addEventListener("click", () => { selectedSchedule = s.scheduleId; refresh(); });
    body.appendChild(row);
  }
  const picked = page.schedules.find((s) => s.scheduleId === selectedSchedule);
  $("schedule-detail").hidden = !picked;
  if (picked) {
    $("schedule-title").textContent = picked.scheduleId;
    $("schedule-note").textContent = [picked.state, picked.note, picked.problem].filter(Boolean).join(" · ");
    const list = $("schedule-fires");
    list.replaceChildren();
    for (const f of picked.recent || []) {
      const li = document.createElement("li");
      li.dataset.result = f.result;
      li.className = "fire-" + f.result;
      li.textContent = fireText(f);
      list.appendChild(li);
    }
    if (!(picked.recent || []).length) {
      const li = document.createElement("li");
      li.textContent = "No fire yet.";
      list.appendChild(li);
    }
  }
}

function evidence(run) {
  // The gate's own evidence first: it is what the decision's digest covers.
  const items = [...((run.pendingGate && run.pendingGate.evidence) || [])];
  const p = run.preflight;
  if (p) {
    if (p.source) items.push("source " + p.source.endpoint + ": PostgreSQL " + p.source.serverVersion + ", " + p.source.tables + " tables, " + size(p.source.sizeBytes));
    if (p.target) items.push("target " + p.target.endpoint + ": PostgreSQL " + p.target.serverVersion + ", " + p.target.tables + " tables, " + size(p.target.sizeBytes));
    for (const w of p.warnings || []) items.push("warning: " + w);
  }
  const v = run.verification;
  if (v) items.push("verification " + (v.passed ? "passed" : "FAILED: " + v.mismatches + " mismatch(es)"));
  for (const n of run.notes || []) items.push("note: " + n);
  return items;
}

async function loadRun() {
  if (!selectedRun) { $("run-detail").hidden = true; return; }
  const run = await api("GET", "/api/runs/" + encodeURIComponent(selectedRun));
  selectedApp = run.app || null;
  $("run-detail").hidden = false;
  $("run-title").textContent = run.runId;
  $("run-state").textContent = run.state;
  $("run-state").className = "state-" + run.state;
  $("run-phase").textContent = run.phase || "";
  $("run-starter").textContent = run.startedBy || "";
  $("run-failure").hidden = !run.failure;
  $("run-failure").textContent = run.failure || "";

  const progress = run.progress;
  $("progress").textContent = "";
  if (progress && progress.tablesTotal) {
    const width = 30;
    const filled = Math.min(width, Math.floor(progress.tablesDone * width / progress.tablesTotal));
    $("progress").textContent = progress.activity + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + progress.tablesDone + "/" + progress.tablesTotal + " tables";
    $("progress").className = "bar";
  }

  const gate = run.pendingGate;
  const wasHidden = $("gate").hidden;
  $("gate").hidden = !gate;
  if (gate) {
    $("gate-name").textContent = gate.gate;
    $("gate-deadline").textContent = when(gate.deadline);
    $("gate-approvers").textContent = gate.approvers.length ? gate.approvers.join(", ") : "anyone with the approver role";
    $("gate").dataset.gate = gate.gate;
    $("gate").dataset.digest = gate.evidenceDigest || "";
    const list = $("evidence");
    list.replaceChildren();
    for (const e of evidence(run)) { const li = document.createElement("li"); li.textContent = e; list.appendChild(li); }
    if (wasHidden) $("comment").value = "";
  }

  const steps = $("steps").querySelector("tbody");
  steps.replaceChildren();
  for (const s of run.steps) {
    const row = document.createElement("tr");
    row.dataset.step = s.name;
    cell(row, s.name);
    cell(row, s.state, "state-" + s.state);
    cell(row, s.durationMillis == null ? "" : (s.durationMillis / 1000).toFixed(1) + " s");
    cell(row, s.detail);
    steps.appendChild(row);
  }
  const decisions = $("decisions");
  decisions.replaceChildren();
  for (const d of run.decisions) {
    const li = document.createElement("li");
    li.textContent = d.gate + ": " + d.verdict + " by " + d.decidedBy + " at " + when(d.decidedAt) + (d.comment ? " — " + d.comment : "");
    decisions.appendChild(li);
  }
}

async function decide(verb) {
  const gate = $("gate").dataset.gate;
  const digest = $("gate").dataset.digest;
  const comment = $("comment").value.trim();
  if (verb === "reject" && !comment) { say("Say why you reject, in the comment.", true); return; }
  $("approve").disabled = $("reject").disabled = true;
  try {
    const d = await api("POST", "/api/runs/" + encodeURIComponent(selectedRun) + "/gates/" + encodeURIComponent(gate) + "/" + verb,
      // The digest of the evidence shown: if the gate's evidence changed meanwhile, the API
      // refuses (409) rather than record a decision made on what is no longer true.
      Object.assign(comment ? { comment } : {}, digest ? { evidenceDigest: digest } : {}));
    say("Gate " + d.gate + " " + d.verdict.toLowerCase() + "d by " + d.decidedBy + ".");
    await refresh();
  } catch (e) {
    say(e.message, true);
  } finally {
    $("approve").disabled = $("reject").disabled = false;
  }
}

async function refresh() {
  clearTimeout(timer);
  try {
    await loadRuns();
    await loadRun();
    await loadRehearsals();
    await loadSchedules();
  } catch (e) {
    if (e.message !== "unauthorised") say(e.message, true);
  }
  if (token()) timer = setTimeout(refresh, POLL_MS);
}

function signOut(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(timer);
  $("app").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  say(why || "", Boolean(why));
}

function start() {
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  say("");
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("state-filter").addEventListener("change", refresh);
  $("approve").addEventListener("click", () => decide("approve"));
  $("reject").addEventListener("click", () => decide("reject"));
  if (token()) start(); else signOut();
});
