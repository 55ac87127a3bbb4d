// The generator's page (GET /generator): one slider per latent dimension (in standard deviations
// of the learned codes, -3..3), the presets, and the decoded face redrawn as a slider moves.
// Plain HTML + JS in the binary, like page.h.
#pragma once

namespace fas::serve {
const char* generator_page_html();
}
