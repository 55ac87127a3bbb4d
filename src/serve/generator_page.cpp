#include "serve/generator_page.h"

namespace fas::serve {

// Moving a slider posts the positions to /v1/generate; while a decode is in flight only the
// latest positions are kept, so a fast drag never queues stale requests.
const char* generator_page_html() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fas face generator</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:70em;color:#222}
h1{font-size:1.4em} .row{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}
#face{width:256px;height:256px;border:1px solid #ccc;background:#f4f4f4;image-rendering:auto}
#sliders{display:grid;grid-template-columns:repeat(auto-fill,minmax(15em,1fr));gap:.2em 1.2em;flex:1;min-width:20em}
#sliders label{display:flex;align-items:center;gap:.4em;font-size:.85em}
#sliders input{flex:1} .v{width:3.2em;text-align:right;font-variant-numeric:tabular-nums}
button{margin:.15em} .err{color:#b3261e} input[type=password]{width:12em}
</style></head><body>
<h1>Hybrid face generator</h1>
<p>Each slider moves one latent dimension, in standard deviations of the learned codes (0 = their mean).</p>
<div id="presets"></div>
<p><label>Token (if the server asks for one): <input type="password" id="token" autocomplete="off"></label></p>
<div class="row">
<div><img id="face" alt="decoded face"><p id="status">Loading…</p></div>
<div id="sliders"></div>
</div>
<script>
"use strict";
const $ = id => document.getElementById(id);
let dims = 0, busy = false, pending = null, decodes = 0;

function headers(json) {
  const h = json ? {"Content-Type": "application/json"} : {};
  const t = $("token").value.trim();
  if (t) h["Authorization"] = "Bearer " + t;
  return h;
}
function error(msg) { $("status").innerHTML = '<span class="err" id="error"></span>'; $("error").textContent = msg; }
function positions() { return Array.from(document.querySelectorAll("#sliders input")).map(s => Number(s.value)); }

async function decode(sd) {
  if (busy) { pending = sd; return; }
  busy = true;
  try {
    const res = await fetch("/v1/generate", {method: "POST", headers: headers(true), body: JSON.stringify({sd})});
    if (!res.ok) { error((await res.json()).error || res.statusText); return; }
    const url = URL.createObjectURL(await res.blob());
    const old = $("face").src;
    $("face").src = url;
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    decodes++;
    $("status").textContent = "decoded in " + res.headers.get("X-Decode-Ms") + " ms on the server";
    $("face").dataset.decodes = decodes;
  } catch (e) { error("request failed: " + e); }
  finally {
    busy = false;
    if (pending) { const p = pending; pending = null; decode(p); }
  }
}

function setSliders(sd) {
  document.querySelectorAll("#sliders input").forEach((s, i) => {
    s.value = Math.max(-3, Math.min(3, sd[i])); s.nextElementSibling.textContent = Number(s.value).toFixed(2);
  });
  decode(positions());
}

async function preset(name) {
  const seed = Math.floor(Math.random() * 1e9);
  const res = await fetch("/v1/generator/preset", {method: "POST", headers: headers(true), body: JSON.stringify({name, seed})});
  const j = await res.json();
  if (!res.ok) { error(j.error); return; }
  setSliders(j.sd);
}

async function init() {
  const res = await fetch("/v1/generator", {headers: headers(false)});
  const info = await res.json();
  if (!res.ok) { error(info.error + " (enter the token and reload)"); return; }
  dims = info.dims;
  for (const p of info.presets) {
    const b = document.createElement("button");
    b.textContent = p.startsWith("group:") ? "group " + p.slice(6) + " average" : p;
    b.dataset.preset = p;
    b.onclick = () => preset(p);
    $("presets").appendChild(b);
  }
  const img = document.createElement("button");
  img.textContent = "training image…";
  img.onclick = () => { const k = prompt("training image number (0.." + (info.images - 1) + ")", "0"); if (k !== null) preset("image:" + k.trim()); };
  $("presets").appendChild(img);
  for (let i = 0; i < dims; i++) {
    const l = document.createElement("label");
    l.innerHTML = '<span class="v">z' + i + '</span><input type="range" min="-3" max="3" step="0.05" value="0" id="s' + i +
                  '"><span class="v">0.00</span>';
    const s = l.querySelector("input");
    s.addEventListener("input", () => { s.nextElementSibling.textContent = Number(s.value).toFixed(2); decode(positions()); });
    $("sliders").appendChild(l);
  }
  decode(positions());
}
init();
</script></body></html>
)HTML";
}

}  // namespace fas::serve
