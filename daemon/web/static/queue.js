// Cloudburst queue page: the selection for the bulk buttons, their confirmation, and the table
// kept current by polling its rows (same query, same order) without reloading the page.
"use strict";

const QUEUE_POLL_MS = 3000;

function selectedBoxes() {
  return document.querySelectorAll('input[name="job"][form="bulk"]:checked');
}

function showSelection() {
  const count = selectedBoxes().length;
  const label = document.querySelector('#bulk [data-field="selected"]');
  if (label) label.textContent = count === 0 ? "No job selected" : `${count} selected`;
  const all = document.querySelector('input[data-select="all"]');
  if (all) {
    const boxes = document.querySelectorAll('input[name="job"][form="bulk"]').length;
    all.checked = boxes > 0 && count === boxes;
    all.indeterminate = count > 0 && count < boxes;
  }
}

function fillBars(root) {
  for (const bar of root.querySelectorAll(".progress .bar[data-percent]")) {
    bar.style.width = bar.dataset.percent + "%";
  }
}

// The cells a poll may rewrite: never the selection box, never a link being followed.
const LIVE_FIELDS = ["rank", "state", "progress-cell", "priority"];

function updateRow(row, fresh) {
  for (const field of LIVE_FIELDS) {
    const old = row.querySelector(`[data-field="${field}"]`);
    const now = fresh.querySelector(`[data-field="${field}"]`);
    if (!old || !now || old.outerHTML === now.outerHTML) continue;
    old.replaceWith(now);
    fillBars(now.parentElement || row);
  }
}

function mergeRows(tbody, fragment) {
  const empty = tbody.querySelector("tr[data-empty]");
  let previous = null;
  for (const fresh of fragment.querySelectorAll("tr[data-job-id]")) {
    const row = tbody.querySelector(`tr[data-job-id="${fresh.dataset.jobId}"]`);
    if (row) {
      updateRow(row, fresh);
      previous = row;
      continue;
    }
    // A job new to this page goes where the server's order puts it, after the row before it.
    if (empty) empty.remove();
    fillBars(fresh);
    if (previous) previous.after(fresh);
    else tbody.prepend(fresh);
    previous = fresh;
  }
}

function pollRows(table) {
  const tbody = table.tBodies[0];
  const tick = async () => {
    if (document.hidden) { // a tab in the background asks nothing until it is seen again
      setTimeout(tick, QUEUE_POLL_MS);
      return;
    }
    try {
      const response = await fetch(table.dataset.rows, { credentials: "same-origin" });
      if (response.redirected && new URL(response.url).pathname === "/login") {
        window.location.reload(); // signed out: the page sends us to sign in
        return;
      }
      if (response.ok) {
        const template = document.createElement("template");
        template.innerHTML = "<table><tbody>" + (await response.text()) + "</tbody></table>";
        mergeRows(tbody, template.content);
        showSelection();
      }
    } catch (error) {
      // The daemon restarting: try again on the next tick.
    }
    setTimeout(tick, QUEUE_POLL_MS);
  };
  setTimeout(tick, QUEUE_POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector("table.jobs[data-rows]");
  if (table) pollRows(table);
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    if (box.dataset.select === "all") {
      for (const one of document.querySelectorAll('input[name="job"][form="bulk"]')) one.checked = box.checked;
    }
    if (box.dataset.select === "all" || box.name === "job") showSelection();
  });
  const bulk = document.getElementById("bulk");
  if (bulk) {
    // The Cancel button asks first; the others act at once.
    bulk.addEventListener("submit", (event) => {
      const question = event.submitter && event.submitter.dataset.confirm;
      if (question && !window.confirm(`${question} (${selectedBoxes().length} selected)`)) {
        event.preventDefault();
      }
    });
  }
  showSelection();
});
