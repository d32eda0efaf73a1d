"""The HTML report's inline style sheet and script (no network: nothing is fetched)."""

from __future__ import annotations

import base64
import hashlib

STYLE = """
:root{--ok:#1a7f37;--bad:#cf222e;--skip:#6e7781;--wait:#9a6700;--run:#0969da;--stop:#8250df;
--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1400px;margin:0 auto;padding:12px 20px}
header{border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:4px 0 6px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
h1 small{color:var(--muted);font-weight:400;font-size:14px}
h2{font-size:16px;margin:22px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:14px;margin:0 0 6px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;background:var(--soft);
border:1px solid var(--line);border-radius:6px;padding:8px;max-height:420px;overflow:auto}
.statusline{margin:0 0 8px;font-size:15px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:4px 16px;margin:0}
.facts div{min-width:0}.facts dt{color:var(--muted);font-size:12px}
.facts dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
color:#fff;background:var(--skip);white-space:nowrap}
.st-succeeded{--c:var(--ok)}.st-failed{--c:var(--bad)}.st-skipped{--c:var(--skip)}
.st-pending,.st-blocked,.st-queued{--c:var(--wait)}.st-running,.st-in_progress{--c:var(--run)}
.st-cancelled{--c:var(--stop)}
.badge[class*=st-]{background:var(--c)}
.guardrail{margin:8px 0 0;font-weight:600}
.tl{border:1px solid var(--line);border-radius:6px;padding:6px 8px;overflow:hidden}
.tl-row{display:grid;grid-template-columns:minmax(90px,200px) 1fr;gap:8px;align-items:center;
min-height:16px}
.tl-label{font-size:12px;color:var(--muted);white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}
.tl-track{position:relative;height:14px;background:var(--soft);border-radius:3px}
.tl-axis .tl-track{background:none;height:16px;font-size:11px;color:var(--muted)}
.tl-axis span{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}
.tl-axis span:first-child{transform:none}.tl-axis span:last-child{transform:translateX(-100%)}
.bar{position:absolute;top:1px;bottom:1px;min-width:2px;border-radius:2px;background:var(--c);
box-shadow:inset -1px 0 0 #fff}
.bar.st-running{background:repeating-linear-gradient(45deg,var(--run) 0 4px,#6cb6ff 4px 8px)}
.bar:hover,.bar:focus{outline:2px solid var(--fg);z-index:1}
.tl-row[data-depth="1"] .tl-label{padding-left:12px}
.tl-row[data-depth="2"] .tl-label{padding-left:24px}
.tl-row[data-depth="3"] .tl-label{padding-left:36px}
.tl-child{border-top:1px dashed var(--line);margin-top:3px;padding-top:3px}
.filters{display:flex;gap:6px;flex-wrap:wrap;margin:0 0 8px}
.filters button{font:inherit;font-size:12px;border:1px solid var(--line);background:var(--bg);
border-radius:12px;padding:1px 10px;cursor:pointer}
.filters button[aria-pressed=true]{background:var(--fg);color:var(--bg)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
table.stages,table.stages thead,table.stages tbody{display:block;min-width:900px}
table.stages tr{display:grid;
grid-template-columns:48px minmax(0,3fr) 104px repeat(4,84px) minmax(0,4fr);
border-bottom:1px solid var(--line)}
table.stages th,table.stages td{display:block;border:0;min-width:0;max-width:none}
/* Rows off screen are not laid out until scrolled to: long runs render fast. */
table.stages tr.stage{content-visibility:auto;contain-intrinsic-size:auto 64px}
table.stages tr[hidden]{display:none}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.name{min-width:160px;max-width:420px;overflow-wrap:anywhere}
td.name small{color:var(--muted)}
td.name .cmd{margin-top:2px;color:var(--muted)}
td.sum{min-width:200px;overflow-wrap:anywhere}
tr.stage[data-depth="1"] td.name{padding-left:24px}
tr.stage[data-depth="2"] td.name{padding-left:40px}
tr.stage[data-depth="3"] td.name{padding-left:56px}
tr.stage:target{background:#fff8c5}
.failure{content-visibility:auto;contain-intrinsic-size:auto 300px;
border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:6px;
padding:8px 10px;margin:0 0 10px}
.failure p{margin:0 0 6px}
.note{color:var(--muted);font-size:12px}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);margin-top:24px}
@media (max-width:700px){
header,main,footer{padding:10px 12px}
.tl-row{grid-template-columns:70px 1fr;gap:4px}
table.stages,table.stages tbody,table.stages tr,table.stages td{display:block;width:auto;
min-width:0}
table.stages thead{display:none}
table.stages tr{border:1px solid var(--line);border-radius:6px;margin:0 0 8px;padding:4px 0;
content-visibility:auto;contain-intrinsic-size:auto 200px}
table.stages td{border:0;padding:2px 10px;text-align:left;max-width:none;min-width:0}
table.stages td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);
font-size:12px}
tr.stage[data-depth] td.name{padding-left:10px}
tr.stage[data-depth="1"],tr.stage[data-depth="2"],tr.stage[data-depth="3"]{margin-left:12px}
}
"""

SCRIPT = """
(function () {
  var body = document.body;
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.stage"));
  var bars = document.querySelectorAll(".tl .bar");
  var counts = {};
  rows.forEach(function (row) {
    var s = row.getAttribute("data-status");
    counts[s] = (counts[s] || 0) + 1;
  });
  var box = document.getElementById("filters");
  var buttons = [];
  function show(status) {
    rows.forEach(function (row) {
      row.hidden = status !== "all" && row.getAttribute("data-status") !== status;
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-status") === status));
    });
  }
  function add(status, count) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute("data-status", status);
    b.textContent = status + " (" + count + ")";
    b.addEventListener("click", function () { show(status); });
    box.appendChild(b);
    buttons.push(b);
  }
  if (box && rows.length) {
    add("all", rows.length);
    Object.keys(counts).sort().forEach(function (s) { add(s, counts[s]); });
    show("all");
  }
  body.setAttribute("data-stage-rows", String(rows.length));
  body.setAttribute("data-timeline-bars", String(bars.length));
  body.setAttribute("data-ready", "1");
})();
"""


def script_hash() -> str:
    """The CSP source that allows exactly our script and nothing else."""
    digest = hashlib.sha256(SCRIPT.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy() -> str:
    """No network, no other script: even text that escaped escaping could not run or fetch."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {script_hash()}; base-uri 'none'; form-action 'none'"
    )
