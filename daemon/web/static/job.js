// The job page, live: every few seconds it asks /jobs/<id>/live for its parts rendered again, the
// frame grid as runs of cells alike and the log from where it stopped, and changes in place only
// what changed. A part holding a field being edited is left alone; the log keeps to its bottom
// while the reader has not scrolled up. (Polling, not Server-Sent Events: an open stream would
// hold one of the daemon's few server threads per open page.)
"use strict";

const LIVE_MS = 1000;  // at most: a page that takes the daemon long to answer waits longer
const LIVE_COST_FACTOR = 4;  // ... this many times its last answer's time
const FINISHED_MS = 10000;

// A field the user is in, or has typed into and not sent, in `region`.
function editing(region) {
  const active = document.activeElement;
  if (active && region.contains(active) && active.matches("input, select, textarea")) return true;
  for (const field of region.querySelectorAll("input:not([type=hidden]), textarea")) {
    if (field.value !== field.defaultValue) return true;
  }
  return false;
}

function parsed(html, holder) {
  const template = document.createElement("template");
  template.innerHTML = holder.tagName === "TBODY" ? `<table><tbody>${html}</tbody></table>` : html;
  return holder.tagName === "TBODY" ? template.content.querySelector("tbody") : template.content;
}

// Rows are swapped one by one (keyed by data-<key>): a row that did not change stays as it is.
function showRows(body, html) {
  const key = body.dataset.rows;
  const fresh = parsed(html, body);
  const old = new Map([...body.children].map((row) => [row.dataset[camel(key)], row]));
  const rows = [...fresh.children].map((row) => {
    const was = old.get(row.dataset[camel(key)]);
    return was && was.outerHTML === row.outerHTML ? was : row;
  });
  rows.forEach((row, i) => { if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null); });
  while (body.children.length > rows.length) body.lastElementChild.remove();
}

function camel(name) {
  return name.replace(/-([a-z])/g, (_, letter) => letter.toUpperCase());
}

function showRegions(regions, shown) {
  for (const [name, html] of Object.entries(regions)) {
    const region = document.querySelector(`[data-live="${name}"]`);
    if (!region || shown.get(name) === html || editing(region)) continue;
    if (region.dataset.rows) showRows(region, html);
    else region.replaceChildren(parsed(html, region));
    showBars(region);
    shown.set(name, html);
  }
}

// The grid's cells in frame order take the runs' states; new thumbnails join their tiles.
function showFrames(grid, cells, runs) {
  let i = 0;
  for (const [count, state, thumb] of runs) {
    for (const end = i + count; i < end && i < cells.length; i += 1) showCell(grid, cells[i], state, thumb === 1);
  }
}

function showCell(grid, cell, state, thumb) {
  const wanted = `frame state-${state}${thumb ? " has-thumb" : ""}`;
  if (cell.className === wanted) return;
  cell.className = wanted;
  if (grid.classList.contains("compact")) return;
  cell.title = `frame ${cell.dataset.frame}: ${state}`;
  if (thumb && !cell.querySelector("img")) {
    const url = grid.dataset.thumbnails + cell.dataset.frame;
    const img = document.createElement("img");
    img.src = url;
    img.alt = `frame ${cell.dataset.frame}`;
    cell.href = url;
    cell.target = "_blank";
    cell.prepend(img);
  }
}

function atBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 4;
}

function showLog(pre, log) {
  const follow = atBottom(pre);
  if (log.reset || pre.dataset.empty === "yes") {
    if (log.reset || log.text) {
      pre.textContent = log.text || "No log yet.";
      pre.dataset.empty = log.text ? "no" : "yes";
    }
  } else if (log.text) {
    pre.append(log.text);
  }
  pre.dataset.task = log.task === null ? "" : String(log.task);
  pre.dataset.attempt = String(log.attempt);
  pre.dataset.offset = String(log.offset);
  if (follow || log.reset) pre.scrollTop = pre.scrollHeight;
}

// Small cells have no title nor picture until asked: hover names the frame, a click on one
// with a thumbnail shows it beside the grid.
function explainCells(grid) {
  const preview = document.getElementById("frame-preview");
  grid.addEventListener("mouseover", (event) => {
    const cell = event.target.closest(".frame");
    if (cell) cell.title = `frame ${cell.dataset.frame}: ${[...cell.classList].find((c) => c.startsWith("state-")).slice(6)}`;
  });
  grid.addEventListener("click", (event) => {
    const cell = event.target.closest(".frame.has-thumb");
    if (!cell || !preview) return;
    const url = grid.dataset.thumbnails + cell.dataset.frame;
    preview.querySelector("img").src = url;
    preview.querySelector("img").alt = `frame ${cell.dataset.frame}`;
    preview.querySelector("a").href = url;
    preview.querySelector("figcaption").textContent = `frame ${cell.dataset.frame}`;
    preview.hidden = false;
  });
}

function followJob(header) {
  const grid = document.getElementById("frames");
  const cells = grid ? [...grid.querySelectorAll(".frame")] : [];
  const pre = document.querySelector("pre.log");
  const shown = new Map();
  if (grid && grid.classList.contains("compact")) explainCells(grid);
  if (pre) pre.scrollTop = pre.scrollHeight;
  let finished = header.dataset.finished === "yes";
  let wait = LIVE_MS;
  const tick = async () => {
    if (!document.hidden) {
      const started = performance.now();
      const url = new URL(header.dataset.liveUrl, window.location.href);
      if (pre && pre.dataset.task) {
        url.searchParams.set("log_task", pre.dataset.task);
        url.searchParams.set("log_attempt", pre.dataset.attempt);
        url.searchParams.set("log_offset", pre.dataset.offset);
      }
      const live = await getJson(url.pathname + url.search).catch(() => null);
      if (live) {
        if (grid) showFrames(grid, cells, live.frames);
        showRegions(live.regions, shown);
        if (pre) showLog(pre, live.log);
        finished = live.finished;
        header.dataset.finished = finished ? "yes" : "no";
      }
      wait = Math.max(LIVE_MS, LIVE_COST_FACTOR * (performance.now() - started));
    }
    setTimeout(tick, finished ? FINISHED_MS : wait);
  };
  setTimeout(tick, finished ? FINISHED_MS : LIVE_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const header = document.querySelector("#job[data-live-url]");
  if (header) followJob(header);
});
