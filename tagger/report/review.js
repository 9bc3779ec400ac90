(function () {
"use strict";
var CHUNK = @CHUNK_ROWS@;
var FILL_MS = @FILL_MS@;  // ms "Show all" adds rows for before letting the browser draw
var SEP = @SEP@;  // the separator of the paths, as on the machine that scanned them
var records = JSON.parse(document.getElementById("records").textContent);
var KEYS = ["file", "current", "proposed", "confidence", "action", "status"];
var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
var state = {sort: "file", dir: "asc", q: "", status: "", action: "", genre: "", group: true};
var $ = function (id) { return document.getElementById(id); };
var tbody = $("rows");
var items = [], shownRows = 0, shownItems = 0, matching = 0;

function folderOf(path) {
  var i = path.lastIndexOf(SEP);
  return i < 0 ? "" : path.slice(0, i);
}
function pct(c) { return Math.round(c * 100) + "%"; }

var rows = records.map(function (r, i) {
  var path = String(r.path), folder = folderOf(path);
  var genres = r.genres || [];
  var top = genres.length ? genres[0] : null;
  var state = r.status === "error" ? "error" : (r.unsure ? "unsure" : "ok");
  var row = {
    r: r, i: i, path: path, folder: folder, name: folder ? path.slice(folder.length + 1) : path,
    top: top ? top.genre : "", conf: top ? top.confidence : -1, state: state,
    action: r.action || "", current: (r.current_genres || []).join("; "),
    write: (r.write_genres || []).join("; "), album: r.album || ""
  };
  row.text = [path, row.album, row.current, genres.map(function (g) { return g.genre; }).join(" "),
              row.write, r.error || "", row.action, r.action_reason || "", state].join("\n").toLowerCase();
  return row;
});

// Folders are shown from the files' common folder down ("Music/Album"), the
// rest of the path once above the table.
var base = rows.length ? rows[0].folder : "";
rows.forEach(function (row) {
  while (base && row.folder !== base && row.folder.lastIndexOf(base + SEP, 0) !== 0) base = folderOf(base);
});
base = folderOf(base);
function shown(path) { return base ? path.slice(base.length + 1) : path; }
if (base) $("base").textContent = "in " + base + SEP;

var compare = {
  file: function (a, b) { return collator.compare(a.path, b.path); },
  current: function (a, b) { return collator.compare(a.current, b.current); },
  proposed: function (a, b) { return collator.compare(a.top, b.top); },
  confidence: function (a, b) { return a.conf - b.conf; },
  action: function (a, b) { return collator.compare(a.action, b.action); },
  status: function (a, b) { return collator.compare(a.state, b.state); }
};

function fillSelect(select, values) {
  values.forEach(function (v) {
    var o = document.createElement("option");
    o.value = v; o.textContent = v;
    select.appendChild(o);
  });
}
function distinct(key) {
  var seen = {};
  rows.forEach(function (row) { if (row[key]) seen[row[key]] = true; });
  return Object.keys(seen).sort(collator.compare);
}
var actions = distinct("action");
fillSelect($("action"), actions);
$("action").hidden = actions.length === 0;
fillSelect($("genre"), distinct("top"));

function select() {
  var q = state.q.toLowerCase();
  var chosen = rows.filter(function (row) {
    return (!q || row.text.indexOf(q) >= 0) && (!state.status || row.state === state.status) &&
           (!state.action || row.action === state.action) && (!state.genre || row.top === state.genre);
  });
  var cmp = compare[state.sort], sign = state.dir === "desc" ? -1 : 1;
  chosen.sort(function (a, b) { return sign * cmp(a, b) || collator.compare(a.path, b.path) || a.i - b.i; });
  matching = chosen.length;
  if (!state.group) return chosen;
  // Folders in the order of their first row under the current sort.
  var groups = new Map();
  chosen.forEach(function (row) {
    var g = groups.get(row.folder);
    if (!g) groups.set(row.folder, g = []);
    g.push(row);
  });
  var out = [];
  groups.forEach(function (members, folder) { out.push({group: folder, members: members}); out.push.apply(out, members); });
  return out;
}

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// Rows are clones of these blanks, their cells then filled: cheaper than
// building every cell of 20,000 rows one by one.
function blankRow(cls, cells) {
  var tr = el("tr", cls);
  tr.setAttribute("role", "row");
  cells.forEach(function (c) {
    var td = el("td", c);
    td.setAttribute("role", "cell");
    tr.appendChild(td);
  });
  return tr;
}
var BLANK_FILE = blankRow("file", KEYS), BLANK_GROUP = blankRow("group", [""]);
BLANK_FILE.lastChild.appendChild(el("span", "badge"));
var BLANK_METER = el("span", "meter");
BLANK_METER.appendChild(el("i"));

function groupRow(item) {
  var tr = BLANK_GROUP.cloneNode(true), td = tr.firstChild;
  td.appendChild(el("span", "folder", shown(item.group) || "(no folder)"));
  var albums = distinctOf(item.members, "album");
  if (albums.length) td.appendChild(el("span", "album", "album: " + albums.join(" / ")));
  td.appendChild(el("span", "album", item.members.length + (item.members.length === 1 ? " file" : " files")));
  return tr;
}
function distinctOf(members, key) {
  var seen = [];
  members.forEach(function (m) { if (m[key] && seen.indexOf(m[key]) < 0) seen.push(m[key]); });
  return seen;
}

function fileRow(row) {
  var r = row.r, tr = BLANK_FILE.cloneNode(true), cells = tr.children;
  tr.className = "file " + row.state;
  tr.dataset.index = row.i;
  var file = cells[0], current = cells[1], proposed = cells[2], conf = cells[3];
  var action = cells[4], status = cells[5];
  file.textContent = state.group ? row.name : shown(row.path);
  file.title = row.path;
  if (row.current) current.textContent = row.current;
  else { current.className = "current muted"; current.textContent = "–"; }
  if (r.status === "error") {
    proposed.appendChild(el("span", "errtext", "error: " + (r.error || "unknown")));
  } else {
    (r.genres || []).slice(0, 3).forEach(function (g, k) {
      if (k) proposed.appendChild(el("span", "other", " · " + g.genre + " " + pct(g.confidence)));
      else proposed.appendChild(el("b", "", g.genre));
    });
    if (row.conf >= 0) {
      conf.textContent = pct(row.conf);
      var meter = BLANK_METER.cloneNode(true);
      meter.firstChild.style.width = pct(row.conf);
      conf.appendChild(meter);
    }
  }
  if (row.action) {
    action.appendChild(el("span", "act", row.action));
    (r.write_genres || []).forEach(function (g) {
      action.appendChild(document.createTextNode(" "));
      action.appendChild(el("code", "", g));
    });
    if (r.action_reason) action.appendChild(el("span", "reason", r.action_reason));
  } else {
    action.appendChild(el("span", "muted", "–"));
  }
  status.firstChild.className = "badge " + row.state;
  status.firstChild.textContent = row.state;
  return tr;
}

function showMore(n, until) {
  var frag = document.createDocumentFragment(), limit = shownRows + n;
  while (shownItems < items.length && shownRows < limit && !(until && performance.now() > until)) {
    var item = items[shownItems];
    if (item.group !== undefined) {
      frag.appendChild(groupRow(item));
    } else {
      frag.appendChild(fileRow(item));
      shownRows++;
    }
    shownItems++;
  }
  tbody.appendChild(frag);
  var rest = matching - shownRows;
  $("count").textContent = "showing " + shownRows.toLocaleString() + " of " + matching.toLocaleString() +
    " matching files (" + rows.length.toLocaleString() + " in all)";
  $("more").textContent = "Show " + Math.min(CHUNK, rest).toLocaleString() + " more";
  $("all").textContent = "Show all " + rest.toLocaleString();
  $("more-bar").hidden = rest <= 0;
}

// "Show all" adds rows in tasks of FILL_MS until all are in, so the first
// ones show at once and the browser draws and takes input between tasks.
var filling = 0;
function showAll() {
  showMore(Infinity, performance.now() + FILL_MS);
  filling = shownItems < items.length ? setTimeout(showAll, 0) : 0;
}
function stopFilling() {
  clearTimeout(filling);
  filling = 0;
}

function render() {
  stopFilling();
  items = select();
  shownRows = 0; shownItems = 0;
  tbody.textContent = "";
  showMore(CHUNK);
  document.querySelectorAll("th[data-key]").forEach(function (th) {
    if (th.dataset.key === state.sort) th.setAttribute("aria-sort", state.dir === "desc" ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
  });
  document.querySelectorAll(".bar").forEach(function (bar) {
    bar.classList.toggle("selected", bar.getAttribute("data-genre") === state.genre);
  });
}

function readHash() {
  var p = new URLSearchParams(location.hash.slice(1));
  state.sort = KEYS.indexOf(p.get("sort")) >= 0 ? p.get("sort") : "file";
  state.dir = p.get("dir") === "desc" ? "desc" : "asc";
  state.q = p.get("q") || "";
  state.status = p.get("status") || "";
  state.action = p.get("action") || "";
  state.genre = p.get("genre") || "";
  state.group = p.get("group") !== "0";
  syncControls();
}
function syncControls() {
  $("filter").value = state.q;
  setSelect($("status"), state.status);
  setSelect($("action"), state.action);
  setSelect($("genre"), state.genre);
  $("group").checked = state.group;
}
function setSelect(sel, value) {
  if (value && !Array.prototype.some.call(sel.options, function (o) { return o.value === value; })) {
    fillSelect(sel, [value]);
  }
  sel.value = value;
}
function writeHash() {
  var p = new URLSearchParams();
  if (state.sort !== "file") p.set("sort", state.sort);
  if (state.dir !== "asc") p.set("dir", state.dir);
  ["q", "status", "action", "genre"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
  if (!state.group) p.set("group", "0");
  var hash = p.toString();
  try { history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search); } catch (e) { /* file: URLs in some browsers */ }
}
function update() { writeHash(); render(); }

document.querySelectorAll("th[data-key]").forEach(function (th) {
  th.addEventListener("click", function () {
    var key = th.dataset.key;
    state.dir = state.sort === key && state.dir === "asc" ? "desc" : "asc";
    state.sort = key;
    update();
  });
});
$("filter").addEventListener("input", function () { state.q = this.value; update(); });
["status", "action", "genre"].forEach(function (k) {
  $(k).addEventListener("change", function () { state[k] = this.value; update(); });
});
$("group").addEventListener("change", function () { state.group = this.checked; update(); });
document.querySelectorAll(".bar").forEach(function (bar) {
  bar.addEventListener("click", function () {
    var genre = bar.getAttribute("data-genre");
    state.genre = state.genre === genre ? "" : genre;
    setSelect($("genre"), state.genre);
    update();
  });
});
// The header's figures as shortcuts: all files, the errors, the unsure ones, the writes.
var STAT_VIEWS = {"files": {}, "errors": {status: "error"}, "unsure": {status: "unsure"},
                  "would write": {action: "write"}};
document.querySelectorAll(".stat").forEach(function (stat) {
  var view = STAT_VIEWS[stat.dataset.stat];
  if (!view || stat.dataset.empty) return;
  stat.classList.add("link");
  stat.addEventListener("click", function () {
    ["q", "status", "action", "genre"].forEach(function (k) { state[k] = view[k] || ""; });
    syncControls();
    update();
  });
});
$("more").addEventListener("click", function () { showMore(CHUNK); });
$("all").addEventListener("click", function () { stopFilling(); showAll(); });
window.addEventListener("hashchange", function () { readHash(); render(); });
readHash();
render();
performance.mark("tagger-review-rendered");
})();
