// Cloudburst dashboard: what every page shares (the queue and job pages have their own scripts).
"use strict";

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    return null;
  }
  if (!response.ok) return null;
  return (await response.json()).data;
}

// Widths come from data-percent: the page's policy allows no inline style attribute.
function showBars(root) {
  for (const bar of root.querySelectorAll(".progress .bar[data-percent]")) {
    bar.style.width = bar.dataset.percent + "%";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  showBars(document);
  // A form with data-confirm (delete a job) asks before it is sent.
  // (Listened for on the document: the job page redraws its buttons in place.)
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
