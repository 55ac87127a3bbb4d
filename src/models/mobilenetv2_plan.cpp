#include "models/mobilenetv2_plan.h"

#include <algorithm>

namespace fas {

MobileNetV2Plan plan_mobilenetv2(const FoldedMobileNetV2& net, bool shift) {
  MobileNetV2Plan p;
  auto shifted = [shift](const FoldedBlock& fb) { return shift && !fb.expand.defined() && fb.residual; };
  if (!net.blocks.empty() && shifted(net.blocks[0])) p.stem_off = net.blocks[0].dw.W * net.blocks[0].dw.cin;
  int cur = 0;
  size_t off = p.stem_off;
  p.buf[0] = off + net.stem.Ho * net.stem.Wo * net.stem.cout;
  for (const FoldedBlock& fb : net.blocks) {
    MobileNetV2Plan::Step s;
    s.src = cur, s.src_off = off;
    const size_t row_len = fb.dw.W * fb.dw.cin;
    if (fb.expand.defined() && fb.residual) {  // residual implies stride 1 and equal widths
      s.dst = cur, s.dst_off = off;
    } else if (shifted(fb) && off >= row_len) {
      s.dst = cur, s.dst_off = off - row_len;
    } else {
      s.dst = 1 - cur, s.dst_off = 0;
    }
    cur = s.dst, off = s.dst_off;
    p.buf[cur] = std::max<size_t>(p.buf[cur], off + fb.project.Ho * fb.project.Wo * fb.project.cout);
    if (fb.expand.defined()) p.ring = std::max<size_t>(p.ring, 3 * fb.expand.W * fb.expand.cout);
    p.row = std::max<size_t>(p.row, fb.dw.Wo * fb.dw.cout);
    p.steps.push_back(s);
  }
  p.final_buf = cur, p.final_off = off;
  return p;
}

}  // namespace fas
