// The web page of GET /: upload an image or take a webcam snapshot, see each test's P(live),
// the fused decision and the face box. Plain HTML + JS in the binary (no CDN, no external file).
#pragma once

namespace fas::serve {
const char* page_html();
}
