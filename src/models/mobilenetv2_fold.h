// A trained MobileNetV2Lite reduced to what inference needs: every conv with its batch norm
// folded in (w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps),
// running statistics, i.e. eval mode), the ReLU6 flag, the exact Keras padding and all
// spatial sizes. The float engine (mobilenetv2_infer.h) and the int8 engine
// (mobilenetv2_int8.h) both build from this.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fas {

// Declared only: the folded form is also what the minimal deployment build (FAS_MINIMAL, no
// tensors or autograd) runs, so this header must not pull the training model in.
class MobileNetV2Lite;

struct FoldedConv {
  int64_t cin = 0, cout = 0;  // cin: input channels of the layer (depthwise: == cout)
  int k = 1, stride = 1;      // kernel size (1 or 3), stride (1 or 2)
  bool depthwise = false, relu6 = false;
  int pad_top = 0, pad_left = 0;  // TF "same" / Keras correct_pad: bottom/right take the rest
  int64_t H = 0, W = 0, Ho = 0, Wo = 0;  // input and output size
  std::vector<float> w;  // PyTorch layout [cout, cin/groups, k, k], BN scale folded in
  std::vector<float> b;  // [cout], folded BN shift
  bool defined() const { return cout > 0; }
};

struct FoldedBlock {
  FoldedConv expand;  // undefined for expansion 1 (block 0)
  FoldedConv dw, project;
  bool residual = false;
};

struct FoldedMobileNetV2 {
  int64_t C = 0, H = 0, W = 0;  // input
  FoldedConv stem;
  std::vector<FoldedBlock> blocks;
  FoldedConv head;             // Conv_1 1x1 + BN + ReLU6
  std::vector<float> dense_w;  // [head.cout]: Logits.weight
  float dense_b = 0.f;
};

// Reads the model's parameters and buffers by their Keras names (state_dict); throws
// fas::Error naming the tensor if one is missing or has an unexpected shape.
FoldedMobileNetV2 fold_mobilenetv2(const MobileNetV2Lite& model);

// Bytes of the folded weights and biases (what an engine keeps of the network beside its packing).
size_t folded_bytes(const FoldedMobileNetV2& net);

}  // namespace fas
