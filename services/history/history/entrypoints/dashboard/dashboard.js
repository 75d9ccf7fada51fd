// The operations dashboard. Every figure comes from the read side's aggregate API, asked with the
// reader's own token: the server applies disclosure control, the page only shows what it is given
// (a withheld count, null, is shown as "<5"). Nothing here computes or hard-codes a figure.
"use strict";

const charts = {};
const state = { token: "", validAt: "", province: "" };

const $ = (selector) => document.querySelector(selector);

function shown(value) {
  return value === null || value === undefined ? "<5" : String(value);
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const problem = await response.json();
      detail = `${problem.title || ""} ${problem.detail || ""}`.trim();
    } catch (_) { /* not problem+json */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.json();
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) search.set(name, value);
  }
  return search.toString();
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fill(tableSelector, items, build) {
  const body = $(`${tableSelector} tbody`);
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    build(row, item);
    body.appendChild(row);
  }
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  // Chart.js may not have loaded (it is deferred like this file, but loads first); tables still show.
  if (typeof Chart === "undefined") return;
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  charts[id] = new Chart(document.getElementById(id), config);
}

const PALETTE = ["#01689b", "#e17000", "#39870c", "#a90061", "#8fcae7", "#ffb612", "#76d2b6", "#94710a",
  "#f9e11e", "#42145f", "#ca005d", "#007bc7"];

// --- sections ------------------------------------------------------------------------------------

function occupancyRow(prefix) {
  return (row, r) => {
    row.dataset.testid = `${prefix}-${r.key}`;
    cell(row, r.name);
    cell(row, shown(r.occupancy), "people");
    cell(row, String(r.capacity), "places");
    cell(row, String(r.locations), "locations");
  };
}

function showOccupancy(byType, byProvince) {
  const main = byType.results.filter((r) => !r.toBeAvoided);
  const avoided = byType.results.filter((r) => r.toBeAvoided);
  fill("#occupancy-types", main, occupancyRow("occupancy-type"));
  fill("#occupancy-avoided", avoided, occupancyRow("occupancy-avoided"));
  $("#occupancy-avoided-none").hidden = avoided.length > 0;
  $('[data-testid="occupancy-total"]').textContent = shown(byType.totalOccupancy);
  $('[data-testid="capacity-total"]').textContent = String(byType.totalCapacity);
  fill("#occupancy-provinces", byProvince.results, occupancyRow("occupancy-province"));
  draw("chart-occupancy", {
    type: "bar",
    data: {
      labels: byType.results.map((r) => r.name),
      datasets: [
        { label: "places", data: byType.results.map((r) => r.capacity), backgroundColor: "#8fcae7" },
        { label: "people", data: byType.results.map((r) => r.occupancy), backgroundColor: "#01689b" },
      ],
    },
    options: { indexAxis: "y" },
  });
}

function showProvinces(provinces) {
  fill("#provinces-table", provinces.results, (row, p) => {
    row.dataset.testid = `province-${p.province}`;
    cell(row, p.province);
    cell(row, String(p.target), "target");
    cell(row, String(p.realised), "realised");
    cell(row, `${Math.round(p.realisedShare * 100)}%`, "share");
    cell(row, shown(p.occupancy), "people");
  });
  draw("chart-provinces", {
    type: "bar",
    data: {
      labels: provinces.results.map((p) => p.province),
      datasets: [
        { label: "target (share of the national target)", data: provinces.results.map((p) => p.target), backgroundColor: "#cccccc" },
        { label: "realised places", data: provinces.results.map((p) => p.realised), backgroundColor: "#39870c" },
      ],
    },
    options: { indexAxis: "y" },
  });
}

const FLOW_SERIES = [
  ["registered", "registered", "#01689b"],
  ["decided", "decided", "#e17000"],
  ["housed", "housed", "#39870c"],
  ["departed", "departed", "#a90061"],
  ["otherEnds", "other ends", "#94710a"],
];

function showFlows(flows) {
  fill("#flows-table", flows.months, (row, m) => {
    row.dataset.testid = `flows-${m.month}`;
    cell(row, m.month);
    for (const [field] of FLOW_SERIES) cell(row, shown(m[field]), field);
  });
  draw("chart-flows", {
    type: "line",
    data: {
      labels: flows.months.map((m) => m.month),
      datasets: FLOW_SERIES.map(([field, label, colour]) => ({
        label, data: flows.months.map((m) => m[field]), borderColor: colour, backgroundColor: colour,
      })),
    },
  });
}

function showStreams(streams) {
  const days = (value) => (value === null ? "–" : String(value));
  fill("#streams-table", streams.results, (row, s) => {
    row.dataset.testid = `stream-${s.stream}`;
    cell(row, s.stream);
    cell(row, shown(s.people), "people");
    cell(row, shown(s.decided), "decided");
    cell(row, days(s.medianDaysToStream), "days-to-stream");
    cell(row, days(s.medianDaysToDecision), "days-to-decision");
  });
  draw("chart-streams", {
    type: "doughnut",
    data: {
      labels: streams.results.map((s) => s.stream),
      datasets: [{ data: streams.results.map((s) => s.people), backgroundColor: PALETTE }],
    },
  });
}

function showMoves(moves) {
  fill("#moves-table", moves.results, (row, m) => {
    row.dataset.testid = `moves-${m.month}-${m.reason}-${m.forced ? "forced" : "unforced"}`;
    cell(row, m.month);
    cell(row, m.reason);
    cell(row, m.forced ? "forced" : "not forced");
    cell(row, shown(m.moves), "moves");
  });
  const series = [...new Set(moves.results.map((m) => `${m.reason}${m.forced ? " (forced)" : ""}`))].sort();
  draw("chart-moves", {
    type: "bar",
    data: {
      labels: moves.months,
      datasets: series.map((name, index) => ({
        label: name,
        backgroundColor: PALETTE[index % PALETTE.length],
        data: moves.months.map((month) => {
          const found = moves.results.find((m) => m.month === month && `${m.reason}${m.forced ? " (forced)" : ""}` === name);
          return found ? found.moves : 0;
        }),
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true } } },
  });
  const policy = moves.childrenPolicy;
  $('[data-testid="children-forced-more-than-once"]').textContent = shown(policy.childrenMovedByForceMoreThanOnce);
  $('[data-testid="children-school-time-moves"]').textContent = shown(policy.schoolAgeMovesOutsideHolidays);
  $('[data-testid="children-out-of-region"]').textContent = shown(policy.outOfRegionMoves);
  // Drill-down lists name (pseudonymous) persons: offered only to readers with person-level access, which
  // the server tells by not applying disclosure control. The list endpoint checks it again itself.
  for (const button of document.querySelectorAll("button.drill")) {
    button.hidden = moves.disclosureControl.applied;
  }
  $("#drill-down").hidden = true;
  state.movesWindow = { validFrom: moves.validFrom, validTo: nextDay(state.validAt) };
}

function nextDay(isoDate) {
  const day = new Date(`${isoDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

async function drillDown(list) {
  const policy = await api(`/v1/children-policy?${query(state.movesWindow)}`);
  const rows = list === "childrenMovedByForceMoreThanOnce"
    ? policy[list].flatMap((child) => child.forcedMoves)
    : policy[list];
  $("#drill-title").textContent = `${rows.length} moves (${list})`;
  fill("#drill-table", rows, (row, m) => {
    cell(row, m.personId);
    cell(row, m.occurredAt.slice(0, 10));
    cell(row, m.reason);
    cell(row, m.forced ? "forced" : "not forced");
    cell(row, `${m.fromLocationType} (${m.fromProvince})`);
    cell(row, `${m.toLocationName} (${m.toProvince})`);
  });
  $("#drill-down").hidden = false;
}

function showHealth(health) {
  const rows = health.services.flatMap((s) => (s.consumers.length ? s.consumers : [null]).map((c) => [s, c]));
  fill("#health-services", rows, (row, [s, c]) => {
    row.dataset.testid = `health-${s.service}${c ? `-${c.consumer}` : ""}`;
    cell(row, s.service);
    cell(row, s.reachable ? "yes" : `no (${s.error})`, "reachable");
    cell(row, s.outboxBacklog === null ? "–" : String(s.outboxBacklog), "backlog");
    cell(row, c ? c.consumer : "–");
    cell(row, c ? String(c.lagMessages) : "–", "lag");
    cell(row, c ? String(c.readModelLagSeconds) : "–", "delay");
    cell(row, c ? String(c.deadLettered) : "–", "dead-lettered");
  });
  fill("#health-read-models", health.readModels, (row, m) => {
    cell(row, m.readModel);
    cell(row, m.consumer);
    cell(row, m.lagMessages === null ? "–" : String(m.lagMessages), "lag");
  });
}

// --- loading -------------------------------------------------------------------------------------

async function load() {
  const at = { validAt: state.validAt };
  const inProvince = { validAt: state.validAt, province: state.province };
  $("#status").textContent = "Loading…";
  document.body.removeAttribute("data-loaded");
  const [byType, byProvince, provinces, flows, streams, moves, health] = await Promise.all([
    api(`/v1/occupancy?${query({ ...inProvince, groupBy: "type" })}`),
    api(`/v1/occupancy?${query({ ...at, groupBy: "province" })}`),
    api(`/v1/provinces?${query(at)}`),
    api(`/v1/flows?${query(at)}`),
    api(`/v1/streams?${query(at)}`),
    api(`/v1/move-statistics?${query(inProvince)}`),
    api("/v1/system-health"),
  ]);
  const provinceSelect = $("#province");
  if (provinceSelect.options.length === 1) {
    for (const p of provinces.results) provinceSelect.add(new Option(p.province, p.province));
    provinceSelect.value = state.province;
  }
  showOccupancy(byType, byProvince);
  showProvinces(provinces);
  showFlows(flows);
  showStreams(streams);
  showMoves(moves);
  showHealth(health);
  for (const node of document.querySelectorAll(".as-of")) node.textContent = state.validAt;
  for (const node of document.querySelectorAll(".province-name")) node.textContent = state.province ? `in ${state.province}` : "";
  $("#disclosure").hidden = !byType.disclosureControl.applied;
  $("#content").hidden = false;
  $("#status").textContent = `Showing ${state.validAt}${state.province ? `, ${state.province}` : ""}.`;
  document.body.dataset.loaded = `${state.validAt}|${state.province}`;
}

function start() {
  const today = new Date().toISOString().slice(0, 10);
  $("#valid-at").value = today;
  $("#token").value = sessionStorage.getItem("asielketen-token") || "";
  $("#controls").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("#token").value.trim();
    state.validAt = $("#valid-at").value || today;
    state.province = $("#province").value;
    sessionStorage.setItem("asielketen-token", state.token);
    load().catch((error) => {
      $("#status").textContent = `Could not load: ${error.message}`;
      document.body.dataset.loaded = "error";
    });
  });
  for (const button of document.querySelectorAll("button.drill")) {
    button.addEventListener("click", () => drillDown(button.dataset.list).catch((error) => {
      $("#status").textContent = `Could not load the list: ${error.message}`;
    }));
  }
}

document.addEventListener("DOMContentLoaded", start);
