// The ops console: one small module, no build step. The token stays in this tab's sessionStorage and goes only in
// the Authorization header of the ops API's own requests; everything shown is set as text, never as markup.
const $ = (id) => document.getElementById(id);

function show(id, visible) { $(id).hidden = !visible; }

function clear() {
  for (const id of ["counts", "dead-letters"]) $(id).replaceChildren();
  $("locks").tBodies[0].replaceChildren();
  $("shift-status").textContent = "";
  show("property-view", false);
}

function fail(message) {
  clear();
  $("error").textContent = message;
  show("error", true);
}

async function api(path, params) {
  const url = new URL(path, location.origin);
  Object.entries(params).forEach(([name, value]) => url.searchParams.set(name, value));
  const answer = await fetch(url, { headers: { Authorization: `Bearer ${sessionStorage.getItem("lis-token")}` } });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(`${answer.status} ${body.reason || answer.statusText}`);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render(summary) {
  const counts = $("counts");
  counts.replaceChildren();
  const facts = {
    locks: summary.lock_count,
    "by vendor": JSON.stringify(summary.by_vendor),
    "by condition": JSON.stringify(summary.by_condition),
    "live credentials": summary.live_credentials,
    "credentials by state": JSON.stringify(summary.credentials),
    "steps in flight": summary.in_flight.length,
    "failed steps": summary.failed.length,
    "dead letters": summary.dead_letters.length,
  };
  for (const [name, value] of Object.entries(facts)) {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = String(value);
    detail.dataset.fact = name;
    counts.append(term, detail);
  }
  const shift = summary.master_keys && summary.master_keys.shift;
  if (shift) {
    const total = Object.values(shift.counts).reduce((a, b) => a + b, 0);
    const done = (shift.counts.done || 0) + (shift.counts.straggler || 0);
    $("shift-status").textContent = `${shift.shift_id}: ${shift.status}, ${done} of ${total} locks settled, ` +
      `${Object.keys(shift.stragglers).length} stragglers`;
    $("shift-progress").max = total || 1;
    $("shift-progress").value = done;
  } else {
    $("shift-status").textContent = "no shift";
  }
  const body = $("locks").tBodies[0];
  body.replaceChildren();
  for (const lock of summary.locks) {
    const row = body.insertRow();
    row.dataset.lock = lock.lock_id;
    cell(row, lock.lock_id);
    cell(row, lock.room || lock.area || "");
    cell(row, lock.vendor);
    cell(row, lock.online === null ? "?" : lock.online ? "yes" : "no");
    cell(row, lock.battery_percent === null ? "" : `${lock.battery_percent} %`);
    const credentials = cell(row, "");
    for (const credential of lock.credentials) {
      const item = document.createElement("div");
      item.className = credential.status;
      item.textContent = `${credential.stay}: ${credential.status} (${credential.kind})`;
      credentials.append(item);
    }
  }
  const letters = $("dead-letters");
  letters.replaceChildren();
  for (const letter of summary.dead_letters) {
    const item = document.createElement("li");
    item.textContent = `${letter.position} ${letter.key}: ${letter.reason}`;
    letters.append(item);
  }
  show("error", false);
  show("property-view", true);
}

async function showProperty(event) {
  event?.preventDefault();
  const key = $("property").value.trim();
  sessionStorage.setItem("lis-property", key);
  try {
    render(await api("/ops/properties", { key, limit: 500 }));
  } catch (error) {
    fail(`Refused: ${error.message}`);
  }
}

function signedIn(token) {
  show("sign-in", !token);
  show("pick", Boolean(token));
  $("who").textContent = token ? "signed in" : "";
}

$("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("lis-token", $("token").value.trim());
  $("token").value = "";
  signedIn(true);
});
$("sign-out").addEventListener("click", () => {
  sessionStorage.clear();
  signedIn(false);
  clear();
});
$("pick").addEventListener("submit", showProperty);
signedIn(Boolean(sessionStorage.getItem("lis-token")));
$("property").value = sessionStorage.getItem("lis-property") || "";
