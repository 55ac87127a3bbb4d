// .fasm: a deployable model in one flat file -- the folded, packed, planned inference engine
// (weights in the kernels' packed layouts plus the static memory plan), written by
// `fas export` (deploy/fasm_write.h, full build) and run by the minimal build (FAS_MINIMAL)
// through the C API (include/fas/fas_c.h) with no parsing library.
//
// Layout (all integers little-endian; fas runs on little-endian CPUs only: x86-64, aarch64,
// armhf):
//   header, 64 bytes:
//     0  "FASM"            magic
//     4  u32 version       kVersion; a reader refuses any other (no forward compatibility:
//                          the layout is the engine's, a new engine is a new version)
//     8  u64 file_size     total bytes, header included
//    16  u32 crc32         CRC-32 (IEEE 802.3 / zlib polynomial, reflected 0xEDB88320) of bytes
//                          [20, file_size): catches truncation and bit rot; picked over a
//                          cryptographic hash for size (a table-free loop of a dozen lines)
//                          and because the file is not a trust boundary (sign it if it is)
//    20  u32 kind          Kind below
//    24  u32 arrays        number of arrays that follow
//    28  u32 reserved (0)
//    32  u64 arena_bytes   the planned activation memory the runtime allocates at load
//    40  u32 C, H, W       the input shape [C, H, W] (float, NCHW, values in [0, 1])
//    52  12 bytes reserved (0)
//   then `arrays` arrays, each a 16-byte header {char tag[4], u32 dtype, u64 count} and count
//   elements, padded with zeros to a multiple of 16 bytes (so every array is 16-byte aligned in
//   a 16-byte aligned copy of the file). The arrays come in a fixed order per kind (the
//   runtime reads them in order and checks each tag, type and count against the geometry):
//     mobilenetv2-lite (float and int8):
//       GEOM i64  C, H, W, blocks, then 12 fields per conv (cin, cout, k, stride, depthwise,
//                 relu6, pad_top, pad_left, H, W, Ho, Wo; all 0 for an absent expand conv) for
//                 stem, per block expand, dw, project, then head; then one residual flag per block
//       PLAN i64  buf0, buf1, ring, row, stem_off, final_buf, final_off, then per block
//                 src, dst, src_off, dst_off (models/mobilenetv2_plan.h; checked against the
//                 plan recomputed from GEOM)
//       float: SW, SB (stem), per block [EW, EB if expand] DW, DB, PW, PB, then HW, HB, DENS
//              (head.cout), DNSB (1)                                           -- f32
//       int8:  SW, SB, SSCL (1: stem output scale) f32; per conv of each block (expand if
//              present, dw, project) QW i16, QS f32 (scales), QB f32 (bias), QL f32 (lo, hi);
//              RSCL f32 (per block residual scale); head QW QS QB QL; HSCL f32 (head.cout
//              activation scales), DENS, DNSB
//     lbp-lr:
//       GEOM i64  C, H, W, ycc (1) or grey (0), grid, radii count, radii...
//       PARM f32  scale, offset (added to every histogram value), intercept
//       DENS f32  the logistic regression's weights (features)
//     wiqa-lda (C = 1; the 24 metrics of iqa/iqa.h, whose NIQE and BIQI pristine models are
//     compiled into src/iqa/pristine_model.cpp, not checkpoint data; arena_bytes 0: the metrics
//     allocate their float64 planes per run):
//       GEOM i64  C, H, W, slog (1: sign(x) ln(1 + |x|) of each metric, 0: none), p, then the p
//                 selected metric indices (iqa::Metric, in the LDA's order)
//       SHFT f32  p standardisation shifts, SCAL f32 p scales: z = (metric - shift) / scale
//       DENS f32  p LDA weights on z, DNSB f32 (1) its bias: logit = DENS . z + DNSB
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace fas {
struct FoldedMobileNetV2;
struct MobileNetV2Plan;
}

namespace fas::fasm {

constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;
// A new kind is an addition: files of the existing kinds stay valid (same version).
enum class Kind : uint32_t { Mnv2Float = 1, Mnv2Int8 = 2, LbpLr = 3, WiqaLda = 4 };
enum class DType : uint32_t { I64 = 1, F32 = 2, I16 = 3 };
const char* kind_name(Kind k);  // "mobilenetv2-lite float", ...

uint32_t crc32(const uint8_t* p, size_t n);

// The arena the runtime carves at load (each buffer 64-byte aligned), for the header.
size_t mnv2_arena_bytes(const FoldedMobileNetV2& net, const MobileNetV2Plan& plan, bool int8);
size_t lbp_arena_bytes(int64_t C, int64_t H, int64_t W, int64_t features);

// A loaded model: the file's bytes and the planned arena in one allocation made at load;
// run() allocates nothing. One Runtime per thread (the arena is its own).
class Runtime {
 public:
  // Copies the n bytes at data (any alignment). A foreign, truncated, corrupt or inconsistent
  // file is a fas::Error whose message starts with "not a valid .fasm model: ".
  static std::unique_ptr<Runtime> load(const uint8_t* data, size_t n);
  virtual ~Runtime() = default;
  // The live logit of one image x [C, H, W] (NCHW float, the training input's normalisation).
  virtual float logit(const float* x) = 0;
  Kind kind() const { return kind_; }
  int64_t C = 0, H = 0, W = 0;
  // Bytes allocated at load: the model (weights + geometry) and the arena, and the arena alone.
  size_t memory_bytes = 0, arena_bytes = 0;

 protected:
  Kind kind_ = Kind::Mnv2Float;
};

}  // namespace fas::fasm
