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

function pollJob(header) {
  const id = header.dataset.jobId;
  const tick = async () => {
    // The tasks shown on this page only: a job's tasks come a page at a time.
    const shownTasks = `/api/v1/jobs/${id}/tasks?offset=${header.dataset.tasksOffset || 0}&limit=${header.dataset.tasksLimit || 200}`;
    const [job, tasks] = await Promise.all([getJson(`/api/v1/jobs/${id}`), getJson(shownTasks)]);
    if (job) showJob(document, job);
    if (tasks) {
      for (const task of tasks.items) {
        for (const cell of document.querySelectorAll(`.frame[data-task="${task.id}"]`)) {
          cell.title = `frame ${cell.dataset.frame}: ${task.state}`;
          setState(cell, "state-", task.state);
        }
      }
    }
    // A finished job: reload once for its thumbnails, log and buttons; otherwise keep polling.
    if (job && ["succeeded", "failed", "cancelled"].includes(job.state)) {
      if (header.dataset.finished !== "yes") window.location.reload();
      return;
    }
    if (job) {
      const done = job.task_counts.done || 0;
      const shown = Number(header.dataset.done || done);
      header.dataset.done = String(done);
      if (done > shown) window.location.reload(); // new frames: show their thumbnails
    }
    setTimeout(tick, POLL_MS);
  };
  setTimeout(tick, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  // Widths come from data-percent: the page's policy allows no inline style attribute.
  for (const bar of document.querySelectorAll(".progress .bar[data-percent]")) {
    bar.style.width = bar.dataset.percent + "%";
  }
  const table = document.querySelector("table.jobs[data-poll]");
  if (table) pollQueue(table);
  const header = document.querySelector("#job[data-job-id]");
  if (header) pollJob(header);
  // A form with data-confirm (delete a job) asks before it is sent.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
