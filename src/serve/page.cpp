#include "serve/page.h"

namespace fas::serve {

// The page posts the image bytes to /v1/liveness with the optional bearer token and draws the
// answer. It requests the camera only when "Start camera" is pressed (getUserMedia needs
// localhost or HTTPS).
const char* page_html() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fas liveness</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:60em;color:#222}
h1{font-size:1.4em} .row{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start}
canvas,video{max-width:100%;border:1px solid #ccc;background:#f4f4f4}
table{border-collapse:collapse;margin-top:.5em} td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
.live{color:#0a7a2f;font-weight:bold} .spoof{color:#b3261e;font-weight:bold} .err{color:#b3261e}
.bar{display:inline-block;height:.7em;background:#4a7bd0;vertical-align:middle}
fieldset{border:1px solid #ddd;margin-bottom:1em} input[type=password]{width:16em}
</style></head><body>
<h1>Face liveness check</h1>
<fieldset><legend>Image</legend>
<input type="file" id="file" accept="image/*">
<button id="cam">Start camera</button> <button id="snap" disabled>Take snapshot</button>
<label>Token (if the server asks for one): <input type="password" id="token" autocomplete="off"></label>
</fieldset>
<div class="row">
<div><canvas id="view" width="480" height="360"></canvas><br><video id="video" width="320" height="240" autoplay playsinline hidden></video></div>
<div id="result"><p>Choose an image or take a snapshot. Images are scored in memory and not stored.</p></div>
</div>
<script>
"use strict";
const $ = id => document.getElementById(id);
const view = $("view"), ctx = view.getContext("2d");
let stream = null;

function drawImage(img, face) {
  const s = Math.min(1, 480 / img.width);  // leaves room for the scores beside it
  view.width = Math.round(img.width * s); view.height = Math.round(img.height * s);
  ctx.drawImage(img, 0, 0, view.width, view.height);
  if (face) {
    ctx.lineWidth = 3; ctx.strokeStyle = "#00c853";
    ctx.strokeRect(face.x * s, face.y * s, face.w * s, face.h * s);
  }
}

function esc(t) { const d = document.createElement("div"); d.textContent = String(t); return d.innerHTML; }

function show(j, img) {
  drawImage(img, j.face);
  const r = $("result");
  if (j.error) { r.innerHTML = '<p class="err" id="error">Error: ' + esc(j.error) + '</p>'; return; }
  let h = "";
  if (!j.fused) {
    h += '<p id="decision" class="err">' + esc(j.message || "no result") + '</p>';
  } else {
    h += '<p>Decision: <span id="decision" class="' + esc(j.fused.decision) + '">' + esc(j.fused.decision) +
         '</span> (fused P(live) ' + j.fused.p_live.toFixed(3) + ', threshold ' + j.fused.threshold + ')</p>';
  }
  h += '<table id="tests"><tr><th>test</th><th>P(live)</th><th></th></tr>';
  for (const t of j.tests) h += '<tr><td>' + esc(t.name) + '</td><td>' + t.p_live.toFixed(3) +
       '</td><td><span class="bar" style="width:' + Math.round(100 * t.p_live) + 'px"></span></td></tr>';
  if (j.fused) h += '<tr><td><b>fused</b></td><td><b>' + j.fused.p_live.toFixed(3) + '</b></td><td></td></tr>';
  h += '</table><p>Face: ' + (j.face ? j.face.w + "x" + j.face.h + " at (" + j.face.x + ", " + j.face.y + ")" : "none") +
       ' — ' + esc(j.face_source) + '<br>Image ' + j.width + "x" + j.height + ', ' + j.ms.toFixed(1) + ' ms on the server</p>';
  r.innerHTML = h;
}

async function score(blob) {
  const img = new Image();
  img.src = URL.createObjectURL(blob);
  try { await img.decode(); } catch (e) { $("result").innerHTML = '<p class="err" id="error">Not an image the browser can show.</p>'; }
  const headers = {"Content-Type": blob.type || "application/octet-stream"};
  const tok = $("token").value.trim();
  if (tok) headers["Authorization"] = "Bearer " + tok;
  $("result").innerHTML = "<p>Scoring…</p>";
  try {
    const res = await fetch("/v1/liveness", {method: "POST", headers, body: blob});
    show(await res.json(), img);
  } catch (e) {
    $("result").innerHTML = '<p class="err" id="error">Request failed: ' + esc(e) + '</p>';
  }
}

$("file").addEventListener("change", e => { if (e.target.files[0]) score(e.target.files[0]); });
$("cam").addEventListener("click", async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false});
    $("video").srcObject = stream; $("video").hidden = false; $("snap").disabled = false;
  } catch (e) { $("result").innerHTML = '<p class="err" id="error">Camera unavailable: ' + esc(e.message || e) + '</p>'; }
});
$("snap").addEventListener("click", () => {
  const v = $("video"), c = document.createElement("canvas");
  c.width = v.videoWidth || 640; c.height = v.videoHeight || 480;
  c.getContext("2d").drawImage(v, 0, 0, c.width, c.height);
  c.toBlob(b => score(b), "image/jpeg", 0.92);
});
</script></body></html>
)HTML";
}

}  // namespace fas::serve
