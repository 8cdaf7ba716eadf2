// Cloudburst dashboard: live progress by polling the JSON API (same-origin, session cookie).
"use strict";

const POLL_MS = 3000;

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    return null;
  }
  if (!response.ok) return null;
  return (await response.json()).data;
}

function setState(element, prefix, value) {
  if (!element) return;
  element.classList.forEach((name) => { if (name.startsWith(prefix)) element.classList.remove(name); });
  element.classList.add(prefix + value);
}

function showJob(container, job) {
  const state = container.querySelector('[data-field="state"]');
  if (state) { state.textContent = job.state; setState(state, "state-", job.state); }
  const progress = container.querySelector('[data-field="progress"]');
  if (progress) {
    const percent = job.progress * 100;
    const bar = progress.querySelector(".bar");
    bar.style.width = percent.toFixed(1) + "%";
    setState(bar, "state-", job.state);
    progress.querySelector("span").textContent = percent.toFixed(0) + "%";
  }
  const rank = container.querySelector('[data-field="rank"]');
  if (rank) rank.textContent = job.rank === null ? "—" : String(job.rank);
  const reason = container.querySelector('[data-field="rank_reason"]');
  if (reason) reason.textContent = job.rank_reason || "Not waiting in the queue.";
  const priority = container.querySelector('[data-field="priority"]');
  // A list item (GET /jobs) has the priority itself; the whole job has it in its spec.
  if (priority) priority.textContent = String(job.spec ? job.spec.priority : job.priority);
}

// Widths come from data-percent: the page's policy allows no inline style attribute.
function showBars(root) {
  for (const bar of root.querySelectorAll(".progress .bar[data-percent]")) {
    bar.style.width = bar.dataset.percent + "%";
  }
}

function pollQueue(table) {
  const tick = async () => {
    const page = await getJson(table.dataset.poll);
    if (page) {
      for (const job of page.items) {
        const row = table.querySelector(`tr[data-job-id="${job.id}"]`);
        if (row) showJob(row, job);
      }
    }
    setTimeout(tick, POLL_MS);
  };
  setTimeout(tick, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  showBars(document);
  const table = document.querySelector("table.jobs[data-poll]");
  if (table) pollQueue(table);
  // A form with data-confirm (delete a job) asks before it is sent.
  // (Listened for on the document: the job page redraws its buttons in place.)
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
