(function () {
"use strict";
var CHUNK = @CHUNK_ROWS@;
var FILL_MS = @FILL_MS@;  // ms "Show all" adds rows for before letting the browser draw
var SEP = @SEP@;  // the separator of the paths, as on the machine that scanned them
var records = JSON.parse(document.getElementById("records").textContent);
var KEYS = ["file", "current", "proposed", "confidence", "action", "status", "decision"];
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
    write: (r.write_genres || []).join("; "), album: r.album || "",
    // Albums as album consensus groups them: folder and album tag.
    key: folder + "\u0000" + (r.album || ""), decidable: r.status === "ok" && genres.length > 0
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
  status: function (a, b) { return collator.compare(a.state, b.state); },
  decision: function (a, b) { return collator.compare(decisionText(a), decisionText(b)); }
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
    var g = groups.get(row.key);
    if (!g) groups.set(row.key, g = []);
    g.push(row);
  });
  var out = [];
  groups.forEach(function (members, key) {
    out.push({group: members[0].folder, key: key, members: members});
    out.push.apply(out, members);
  });
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
// A row's decision is a button opening the page's one menu of choices: a
// <select> per row would make 10,000 rows 4x slower to show and sort.
var BLANK_CHOICE = el("button", "choose");
BLANK_CHOICE.type = "button";
BLANK_CHOICE.setAttribute("aria-haspopup", "menu");
var BLANK_TYPED = el("input", "typed");
BLANK_TYPED.setAttribute("list", "genre-words");
BLANK_TYPED.setAttribute("placeholder", "genre; genre");
BLANK_TYPED.setAttribute("aria-label", "genres");
BLANK_FILE.children[5].appendChild(el("span", "badge"));
BLANK_FILE.children[6].appendChild(el("span", "outcome"));  // what the decision writes
var BLANK_METER = el("span", "meter");
BLANK_METER.appendChild(el("i"));

function groupRow(item) {
  var tr = BLANK_GROUP.cloneNode(true), td = tr.firstChild;
  td.appendChild(el("span", "folder", shown(item.group) || "(no folder)"));
  var titles = distinctOf(item.members, "album");
  if (titles.length) td.appendChild(el("span", "album", "album: " + titles.join(" / ")));
  td.appendChild(el("span", "album", item.members.length + (item.members.length === 1 ? " file" : " files")));
  var album = albums.get(item.key);
  tr.dataset.folder = item.group;
  if (album) {
    tr.dataset.album = item.key;
    var box = el("span", "decide");
    var choice = albumChoice.get(item.key);
    box.appendChild(choiceButton(choice, "album: "));
    if (choice && choice.verdict === "typed") box.appendChild(typedInput(choice));
    td.appendChild(box);
  }
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
  if (row.decidable) {
    cells[6].insertBefore(choiceButton(trackChoice.get(row.i), ""), cells[6].firstChild);
    if (trackChoice.has(row.i) || albumChoice.has(row.key)) showDecision(tr, row);
  }
  rowEls.set(row.i, tr);
  return tr;
}

// -- decisions ---------------------------------------------------------------
// A choice is {verdict: accept | pick | typed | reject, genres: [...]}: labels
// for accept and pick, tag text for typed. A track's own choice wins over its
// album's; "Export decisions" saves every file's as the JSON tagger apply reads.
var trackChoice = new Map(), albumChoice = new Map(), rowEls = new Map();
var TOP_CHOICES = 3;  // candidates offered: the proposal and two more
var albums = new Map();  // key -> {members, candidates: [[label, mean confidence]]}
rows.forEach(function (row) {
  if (!row.decidable) return;
  var a = albums.get(row.key);
  if (!a) albums.set(row.key, a = {members: []});
  a.members.push(row);
});
// Ranked as album consensus ranks them: tracks having the label on top, then
// its mean confidence over the album's tracks.
albums.forEach(function (a) {
  var tops = {}, sums = {};
  a.members.forEach(function (row) {
    tops[row.top] = (tops[row.top] || 0) + 1;
    row.r.genres.forEach(function (g) { sums[g.genre] = (sums[g.genre] || 0) + g.confidence; });
  });
  a.candidates = Object.keys(sums).map(function (g) { return [g, sums[g] / a.members.length]; })
    .sort(function (x, y) { return (tops[y[0]] || 0) - (tops[x[0]] || 0) || y[1] - x[1]; });
});

function choiceButton(choice, prefix) {
  var b = BLANK_CHOICE.cloneNode(false);
  b.textContent = buttonText(choice, prefix);
  return b;
}
function buttonText(choice, prefix) { return prefix + choiceName(choice) + " \u25BE"; }
function choiceName(choice) {
  if (!choice) return "decide";
  if (choice.verdict === "typed") return "typed";
  return choice.verdict === "reject" ? "rejected" : choice.verdict + " " + choice.genres[0];
}
// The menu for one row: its candidates (an album's: as album consensus ranks
// them), a typed genre, reject, and back to undecided.
var menu = $("menu"), menuRow = null;
function openMenu(button) {
  var tr = button.closest("tr"), album = tr.dataset.album !== undefined;
  var candidates = album ? albums.get(tr.dataset.album).candidates
    : rows[+tr.dataset.index].r.genres.map(function (g) { return [g.genre, g.confidence]; });
  var current = choiceValue(album ? albumChoice.get(tr.dataset.album) : trackChoice.get(+tr.dataset.index));
  menu.textContent = "";
  var add = function (value, text) {
    var item = el("button", value === current ? "current" : "", text);
    item.type = "button";
    item.dataset.value = value;
    item.setAttribute("role", "menuitem");
    menu.appendChild(item);
  };
  candidates.slice(0, TOP_CHOICES).forEach(function (c, k) {
    add((k ? "pick:" : "accept:") + c[0], (k ? "pick " : "accept ") + c[0] + " " + pct(c[1]));
  });
  add("typed", "type a genre…");
  add("reject", "reject: leave as it is");
  add("", album ? "undecided (each track its own)" : "undecided");
  menuRow = tr;
  menu.hidden = false;
  var r = button.getBoundingClientRect(), height = menu.offsetHeight;
  menu.style.left = Math.min(r.left, innerWidth - menu.offsetWidth - 4) + "px";
  menu.style.top = (r.bottom + height < innerHeight - 48 ? r.bottom : Math.max(0, r.top - height)) + "px";
  menu.firstChild.focus({preventScroll: true});
}
function closeMenu() {
  menu.hidden = true;
  menuRow = null;
}
function choiceValue(choice) {
  if (!choice) return "";
  if (choice.verdict === "accept" || choice.verdict === "pick") return choice.verdict + ":" + choice.genres[0];
  return choice.verdict;
}
function effective(row) {
  return trackChoice.get(row.i) || albumChoice.get(row.key) || null;
}
function decisionText(row) {
  var c = row.decidable ? effective(row) : null;
  if (!c) return "";
  return c.verdict === "reject" ? "rejected" : c.genres.join("; ");
}
// The row's look and the line under its choice: what will be written, and
// whether the album's choice or its own decides it.
function showDecision(tr, row) {
  var c = effective(row), cell = tr.children[6], note = cell.lastChild;
  var done = counted(c);
  tr.classList.toggle("decided", done && c.verdict !== "reject");
  tr.classList.toggle("rejected", done && c.verdict === "reject");
  var own = trackChoice.get(row.i);
  note.textContent = !done ? "" : (c.verdict === "reject" ? "left as it is" : "→ " + c.genres.join("; ")) +
    (own ? "" : " (album)");
  var typed = cell.querySelector("input.typed");
  if (own && own.verdict === "typed" && !typed) cell.insertBefore(typedInput(own), note);
  if ((!own || own.verdict !== "typed") && typed) typed.remove();
}
function typedInput(choice) {
  var input = BLANK_TYPED.cloneNode(false);
  input.value = choice.genres.join("; ");
  return input;
}
function onMenu(event) {
  var item = event.target.closest("button");
  if (!item || !menuRow) return;
  var tr = menuRow, value = item.dataset.value, choice = null;
  closeMenu();
  if (value === "reject") choice = {verdict: "reject", genres: []};
  else if (value === "typed") choice = {verdict: "typed", genres: []};
  else if (value) choice = {verdict: value.split(":")[0], genres: [value.slice(value.indexOf(":") + 1)]};
  if (tr.dataset.album !== undefined) setAlbum(tr, tr.dataset.album, choice);
  else setTrack(tr, rows[+tr.dataset.index], choice);
  var button = tr.querySelector("button.choose");
  button.textContent = buttonText(choice, tr.dataset.album !== undefined ? "album: " : "");
  var input = tr.querySelector("input.typed");
  (value === "typed" && input ? input : button).focus({preventScroll: true});
}
function onTyped(event) {
  var input = event.target;
  if (!input.classList.contains("typed")) return;
  var genres = input.value.split(";").map(function (g) { return g.trim(); }).filter(Boolean);
  var tr = input.closest("tr"), choice = {verdict: "typed", genres: genres};
  if (tr.dataset.album !== undefined) albumChoice.set(tr.dataset.album, choice);
  else trackChoice.set(+tr.dataset.index, choice);
  if (tr.dataset.album !== undefined) refreshAlbum(tr.dataset.album);
  else showDecision(tr, rows[+tr.dataset.index]);
  countDecided();
}
function setTrack(tr, row, choice) {
  if (choice) trackChoice.set(row.i, choice); else trackChoice.delete(row.i);
  showDecision(tr, row);
  countDecided();
}
function setAlbum(tr, key, choice) {
  if (choice) albumChoice.set(key, choice); else albumChoice.delete(key);
  var box = tr.querySelector(".decide"), typed = box.querySelector("input.typed");
  if (choice && choice.verdict === "typed" && !typed) box.appendChild(typedInput(choice));
  if ((!choice || choice.verdict !== "typed") && typed) typed.remove();
  refreshAlbum(key);
  countDecided();
}
function refreshAlbum(key) {
  albums.get(key).members.forEach(function (row) {
    var tr = rowEls.get(row.i);
    if (tr) showDecision(tr, row);
  });
}
// A typed choice counts once it holds a genre.
function counted(c) { return c && (c.verdict !== "typed" || c.genres.length > 0); }
function countDecided() {
  var decidable = 0, decided = 0, rejected = 0;
  rows.forEach(function (row) {
    if (!row.decidable) return;
    decidable++;
    var c = effective(row);
    if (counted(c)) { decided++; if (c.verdict === "reject") rejected++; }
  });
  $("decided").textContent = decided.toLocaleString() + " of " + decidable.toLocaleString() +
    " files decided" + (rejected ? " (" + rejected.toLocaleString() + " rejected)" : "");
  $("decided-meter").max = decidable || 1;
  $("decided-meter").value = decided;
  $("export").disabled = decided === 0;
}
function decisionsFile() {
  var out = [];
  rows.forEach(function (row) {
    var c = row.decidable ? effective(row) : null;
    if (!counted(c)) return;
    out.push({path: row.path, verdict: c.verdict, genres: c.genres,
              current_genres: row.r.current_genres || []});
  });
  return {format: "tagger-decisions", version: 1, decisions: out};
}
// A download from a Blob: no network, no server, and it works from a page on disk.
function exportDecisions() {
  var blob = new Blob([JSON.stringify(decisionsFile(), null, 1) + "\n"], {type: "application/json"});
  var a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = "tagger-decisions.json";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(function () { URL.revokeObjectURL(a.href); }, 60000);
}
// Completion for typed genres: the library's own genres and the model's labels.
function fillWords() {
  var seen = {}, list = $("genre-words");
  rows.forEach(function (row) {
    (row.r.current_genres || []).concat(row.r.write_genres || []).forEach(function (g) { seen[g] = true; });
    (row.r.genres || []).forEach(function (g) { seen[g.genre] = true; });
  });
  Object.keys(seen).sort(collator.compare).forEach(function (g) {
    var o = el("option"); o.value = g; list.appendChild(o);
  });
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
  closeMenu();
  items = select();
  shownRows = 0; shownItems = 0;
  tbody.textContent = "";
  rowEls.clear();
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
tbody.addEventListener("click", function (event) {
  var button = event.target.closest("button.choose");
  if (!button) return;
  if (menuRow === button.closest("tr")) closeMenu(); else openMenu(button);
});
menu.addEventListener("click", onMenu);
document.addEventListener("click", function (event) {
  if (menuRow && !menu.contains(event.target) && !event.target.closest("button.choose")) closeMenu();
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape" && menuRow) { var tr = menuRow; closeMenu(); tr.querySelector("button.choose").focus(); }
});
tbody.addEventListener("input", onTyped);
$("export").addEventListener("click", exportDecisions);
fillWords();
countDecided();
$("more").addEventListener("click", function () { showMore(CHUNK); });
$("all").addEventListener("click", function () { stopFilling(); showAll(); });
window.addEventListener("hashchange", function () { readHash(); render(); });
readHash();
render();
performance.mark("tagger-review-rendered");
})();
