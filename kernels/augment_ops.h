// kernels/augment_ops.h — per-element training augmentation shared by the CPU batch augmenter
// (experiments/data/augment.cpp) and the CUDA kernel: random draws keyed by (seed, epoch, example),
// horizontal flip + zero-pad random crop, bilinear random-resized-crop sampling, normalisation.
//
// Source images are uint8 [H, W, C] (channels last); outputs are float [C, OH, OW] per example, i.e.
// a float NCHW batch. Randomness is counter-based (kernels/philox.h): the parameters of example
// `index` in `epoch` are a pure function of (seed, epoch, index), so a resumed run, any batch order
// and any device see the same augmentations.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/hd.h"
#include "kernels/philox.h"

namespace sdd::kern {

// Counter word 3 tags augmentation streams so they never meet sdd::Generator's (c2 = c3 = 0).
constexpr uint32_t kAugmentTag = 0x41554731u;  // "AUG1"

// One Philox block for (seed, epoch, index, draw number k).
SDD_HD U32x4 augment_block(uint64_t seed, uint64_t epoch, uint64_t index, uint32_t k) {
  return philox4x32(static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32),
                    static_cast<uint32_t>(epoch) ^ (k << 24), kAugmentTag + static_cast<uint32_t>(epoch >> 32),
                    static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Uniform integer in [0, m) from a 32-bit word (multiply-high; bias below 2^-32 * m).
SDD_HD int32_t word_below(uint32_t w, uint32_t m) {
  return static_cast<int32_t>((static_cast<uint64_t>(w) * m) >> 32);
}

// ---------------------------------------------------------------- flip, then pad + random crop (CIFAR)

struct CropFlipParams {
  int32_t flip;  // 1: mirror horizontally (probability 0.5)
  int32_t dy;    // crop offset in the padded image, uniform in {0 .. 2*pad}
  int32_t dx;
};

SDD_HD CropFlipParams draw_crop_flip(uint64_t seed, uint64_t epoch, uint64_t index, int32_t pad) {
  const U32x4 r = augment_block(seed, epoch, index, 0);
  CropFlipParams p;
  p.flip = static_cast<int32_t>(r.v[0] >> 31);
  p.dy = word_below(r.v[1], static_cast<uint32_t>(2 * pad + 1));
  p.dx = word_below(r.v[2], static_cast<uint32_t>(2 * pad + 1));
  return p;
}

// ToTensor then Normalize, in float as torchvision: (v / 255 - mean) / std.
SDD_HD float normalize_u8(uint8_t v, float mean, float stdv) {
  return (static_cast<float>(v) / 255.0f - mean) / stdv;
}

// Source value (uint8 as float 0..255, or -1 for padding) of output pixel (y, x), channel ch, of the
// H x W crop taken at (dy, dx) from the image flipped first and then zero-padded by `pad`.
SDD_HD int32_t crop_flip_source(const uint8_t* img, int32_t H, int32_t W, int32_t C, int32_t pad,
                                CropFlipParams p, int32_t ch, int32_t y, int32_t x) {
  const int32_t sy = y + p.dy - pad, sx0 = x + p.dx - pad;
  if (sy < 0 || sy >= H || sx0 < 0 || sx0 >= W) return -1;
  const int32_t sx = p.flip ? W - 1 - sx0 : sx0;
  return img[(sy * W + sx) * C + ch];
}

// Padded pixels are black in uint8 space before normalisation, so they become (0 - mean) / std.
SDD_HD float crop_flip_normalize(const uint8_t* img, int32_t H, int32_t W, int32_t C, int32_t pad, CropFlipParams p,
                                 int32_t ch, int32_t y, int32_t x, float mean, float stdv) {
  const int32_t v = crop_flip_source(img, H, W, C, pad, p, ch, y, x);
  return normalize_u8(static_cast<uint8_t>(v < 0 ? 0 : v), mean, stdv);
}

// ---------------------------------------------------------------- random resized crop (Tiny ImageNet)

struct ResizedCropParams {
  int32_t top, left, height, width;  // crop box in the source image
  int32_t flip;
};

// torchvision RandomResizedCrop.get_params (10 attempts, then the centre crop clamped to the ratio
// range), then a horizontal flip with probability 0.5. Uses the Philox stream instead of torch's.
SDD_HD ResizedCropParams draw_resized_crop(uint64_t seed, uint64_t epoch, uint64_t index, int32_t H, int32_t W,
                                           float scale_lo, float scale_hi, float ratio_lo, float ratio_hi) {
  ResizedCropParams p;
  const float area = static_cast<float>(H) * static_cast<float>(W);
  const float log_lo = logf(ratio_lo), log_hi = logf(ratio_hi);
  const U32x4 f = augment_block(seed, epoch, index, 0);
  p.flip = static_cast<int32_t>(f.v[3] >> 31);
  for (uint32_t attempt = 0; attempt < 10; ++attempt) {
    const U32x4 r = augment_block(seed, epoch, index, 1 + attempt);
    const float target = area * (scale_lo + (scale_hi - scale_lo) * philox_u01f(r.v[0]));
    const float ar = expf(log_lo + (log_hi - log_lo) * philox_u01f(r.v[1]));
    const int32_t w = static_cast<int32_t>(lrintf(sqrtf(target * ar)));
    const int32_t h = static_cast<int32_t>(lrintf(sqrtf(target / ar)));
    if (w > 0 && h > 0 && w <= W && h <= H) {
      p.top = word_below(r.v[2], static_cast<uint32_t>(H - h + 1));
      p.left = word_below(r.v[3], static_cast<uint32_t>(W - w + 1));
      p.height = h;
      p.width = w;
      return p;
    }
  }
  const float in_ratio = static_cast<float>(W) / static_cast<float>(H);
  int32_t w = W, h = H;
  if (in_ratio < ratio_lo) {
    h = static_cast<int32_t>(lrintf(static_cast<float>(W) / ratio_lo));
  } else if (in_ratio > ratio_hi) {
    w = static_cast<int32_t>(lrintf(static_cast<float>(H) * ratio_hi));
  }
  p.top = (H - h) / 2;
  p.left = (W - w) / 2;
  p.height = h;
  p.width = w;
  return p;
}

// Bilinear sample (half-pixel centres, edge clamped) of the crop box resized to OH x OW, at output
// pixel (y, x), channel ch; the flip mirrors the output horizontally. Returns 0..255 as float.
SDD_HD float resized_crop_sample(const uint8_t* img, int32_t W, int32_t C, ResizedCropParams p, int32_t OH,
                                 int32_t OW, int32_t ch, int32_t y, int32_t x) {
  const int32_t xo = p.flip ? OW - 1 - x : x;
  float fy = (static_cast<float>(y) + 0.5f) * static_cast<float>(p.height) / static_cast<float>(OH) - 0.5f;
  float fx = (static_cast<float>(xo) + 0.5f) * static_cast<float>(p.width) / static_cast<float>(OW) - 0.5f;
  fy = fy < 0.f ? 0.f : fy;
  fx = fx < 0.f ? 0.f : fx;
  int32_t y0 = static_cast<int32_t>(fy), x0 = static_cast<int32_t>(fx);
  if (y0 > p.height - 1) y0 = p.height - 1;
  if (x0 > p.width - 1) x0 = p.width - 1;
  const int32_t y1 = y0 + 1 < p.height ? y0 + 1 : p.height - 1;
  const int32_t x1 = x0 + 1 < p.width ? x0 + 1 : p.width - 1;
  const float ly = fy - static_cast<float>(y0), lx = fx - static_cast<float>(x0);
  const auto at = [&](int32_t yy, int32_t xx) {
    return static_cast<float>(img[((p.top + yy) * W + (p.left + xx)) * C + ch]);
  };
  const float top = at(y0, x0) * (1.f - lx) + at(y0, x1) * lx;
  const float bot = at(y1, x0) * (1.f - lx) + at(y1, x1) * lx;
  return top * (1.f - ly) + bot * ly;
}

// ---------------------------------------------------------------- antialiased resampling (PIL style)

// PIL's bilinear resize (the one torchvision's Resize / RandomResizedCrop run on PIL images): the
// triangle filter widened by max(in/out, 1) when downsampling, weights normalised per output pixel,
// separable (rows, then columns). Computed in float without PIL's intermediate uint8 rounding.
// Samples output pixel (oy, ox) of the source box (top, left, bh x bw) of an image with row stride W
// resized to rh x rw. Returns 0..255 as float.
SDD_HD float aa_resize_sample(const uint8_t* img, int32_t W, int32_t C, int32_t ch, int32_t top, int32_t left,
                              int32_t bh, int32_t bw, int32_t rh, int32_t rw, int32_t oy, int32_t ox) {
  const float scy = static_cast<float>(bh) / static_cast<float>(rh);
  const float scx = static_cast<float>(bw) / static_cast<float>(rw);
  const float suy = scy > 1.f ? scy : 1.f, sux = scx > 1.f ? scx : 1.f;  // filter support = 1 * scale
  const float cy = (static_cast<float>(oy) + 0.5f) * scy, cx = (static_cast<float>(ox) + 0.5f) * scx;
  int32_t y0 = static_cast<int32_t>(cy - suy + 0.5f), y1 = static_cast<int32_t>(cy + suy + 0.5f);
  int32_t x0 = static_cast<int32_t>(cx - sux + 0.5f), x1 = static_cast<int32_t>(cx + sux + 0.5f);
  y0 = y0 < 0 ? 0 : y0;
  x0 = x0 < 0 ? 0 : x0;
  y1 = y1 > bh ? bh : y1;
  x1 = x1 > bw ? bw : x1;
  float acc = 0.f, wy_sum = 0.f, wx_sum = 0.f;
  for (int32_t x = x0; x < x1; ++x) {
    const float t = (static_cast<float>(x) - cx + 0.5f) / sux;
    const float wx = 1.f - (t < 0.f ? -t : t);
    if (wx > 0.f) wx_sum += wx;
  }
  for (int32_t y = y0; y < y1; ++y) {
    const float ty = (static_cast<float>(y) - cy + 0.5f) / suy;
    const float wy = 1.f - (ty < 0.f ? -ty : ty);
    if (wy <= 0.f) continue;
    float row = 0.f;
    const uint8_t* line = img + (static_cast<int64_t>(top + y) * W + left) * C + ch;
    for (int32_t x = x0; x < x1; ++x) {
      const float t = (static_cast<float>(x) - cx + 0.5f) / sux;
      const float wx = 1.f - (t < 0.f ? -t : t);
      if (wx > 0.f) row += wx * static_cast<float>(line[x * C]);
    }
    acc += wy * row;
    wy_sum += wy;
  }
  return acc / (wy_sum * wx_sum);
}

// Where output pixel (y, x) of one example comes from: the source box resized to rh x rw, read at
// (y + oy, x' + ox) where x' mirrors x when flip. RandomResizedCrop + flip: box = the crop, rh x rw =
// the output size, oy = ox = 0. Resize + CenterCrop: box = the whole image, rh x rw = the resized
// size, (oy, ox) = the centre-crop offset, no flip.
struct ResampleBox {
  int32_t top, left, bh, bw;
  int32_t rh, rw;
  int32_t oy, ox;
  int32_t flip;
};

// ---------------------------------------------------------------- whole-batch functor

// out[b, ch, y, x] (float NCHW, H x W) for example images[indices[b]]: flip + pad-crop when `augment`,
// else the plain image; then normalisation. Called once per output element (CPU loop or CUDA grid).
struct CropFlipBatchOp {
  const uint8_t* images;   // [N, H, W, C]
  const int64_t* indices;  // [B] example indices into images (also the Philox key of each example)
  float* out;              // [B, C, H, W]
  int32_t H, W, C, pad;
  int32_t augment;
  uint64_t seed, epoch;
  float mean[4], stdv[4];
  // Optional [C][256] table of normalize_u8(v, mean[c], stdv[c]) (fill_normalize_table); row() reads it
  // instead of dividing per pixel. Same values; null on the device.
  const float* lut;

  SDD_HD void operator()(int64_t i) const {
    const int32_t x = static_cast<int32_t>(i % W);
    const int32_t y = static_cast<int32_t>((i / W) % H);
    const int32_t ch = static_cast<int32_t>((i / (static_cast<int64_t>(W) * H)) % C);
    const int64_t b = i / (static_cast<int64_t>(W) * H * C);
    const int64_t ex = indices[b];
    const uint8_t* img = images + ex * static_cast<int64_t>(H) * W * C;
    if (augment) {
      const CropFlipParams p = draw_crop_flip(seed, epoch, static_cast<uint64_t>(ex), pad);
      out[i] = crop_flip_normalize(img, H, W, C, pad, p, ch, y, x, mean[ch], stdv[ch]);
    } else {
      out[i] = normalize_u8(img[(y * W + x) * C + ch], mean[ch], stdv[ch]);
    }
  }

  // The W outputs of row (b, ch, y) at once: the same values as operator() for i = ((b*C+ch)*H+y)*W+x,
  // with the index arithmetic and the random draw done once per row (the CPU loops use this).
  SDD_HD void row(int64_t b, int32_t ch, int32_t y) const {
    const int64_t ex = indices[b];
    const uint8_t* img = images + ex * static_cast<int64_t>(H) * W * C;
    float* o = out + ((b * C + ch) * static_cast<int64_t>(H) + y) * W;
    const float m = mean[ch], s = stdv[ch];
    const float* table = lut != nullptr ? lut + 256 * ch : nullptr;
    if (augment) {
      const CropFlipParams p = draw_crop_flip(seed, epoch, static_cast<uint64_t>(ex), pad);
      if (table != nullptr) {
        for (int32_t x = 0; x < W; ++x) {
          const int32_t v = crop_flip_source(img, H, W, C, pad, p, ch, y, x);
          o[x] = table[v < 0 ? 0 : v];
        }
      } else {
        for (int32_t x = 0; x < W; ++x) o[x] = crop_flip_normalize(img, H, W, C, pad, p, ch, y, x, m, s);
      }
    } else {
      const uint8_t* src = img + static_cast<int64_t>(y) * W * C + ch;
      if (table != nullptr && C == 1) {
        for (int32_t x = 0; x < W; ++x) o[x] = table[src[x]];
      } else if (table != nullptr) {
        for (int32_t x = 0; x < W; ++x) o[x] = table[src[x * C]];
      } else {
        for (int32_t x = 0; x < W; ++x) o[x] = normalize_u8(src[x * C], m, s);
      }
    }
  }
};

// table[c * 256 + v] = normalize_u8(v, mean[c], stdv[c]) for c < C (table holds 256 * C floats).
inline void fill_normalize_table(const CropFlipBatchOp& op, float* table) {
  for (int32_t c = 0; c < op.C; ++c)
    for (int32_t v = 0; v < 256; ++v) table[256 * c + v] = normalize_u8(static_cast<uint8_t>(v), op.mean[c], op.stdv[c]);
}

// out[b, ch, y, x] (float NCHW, OH x OW) for example images[indices[b]] (uint8 [N, H, W, C]) resampled
// through boxes[b], then normalised. Used for Tiny ImageNet (64x64 stored, 32x32 batches).
struct ResampleBatchOp {
  const uint8_t* images;      // [N, H, W, C]
  const int64_t* indices;     // [B]
  const ResampleBox* boxes;   // [B]
  float* out;                 // [B, C, OH, OW]
  int32_t H, W, C, OH, OW;
  float mean[4], stdv[4];

  SDD_HD void operator()(int64_t i) const {
    const int32_t x = static_cast<int32_t>(i % OW);
    const int32_t y = static_cast<int32_t>((i / OW) % OH);
    const int32_t ch = static_cast<int32_t>((i / (static_cast<int64_t>(OW) * OH)) % C);
    const int64_t b = i / (static_cast<int64_t>(OW) * OH * C);
    const ResampleBox p = boxes[b];
    const uint8_t* img = images + indices[b] * static_cast<int64_t>(H) * W * C;
    const int32_t xs = p.flip ? OW - 1 - x : x;
    const float v = aa_resize_sample(img, W, C, ch, p.top, p.left, p.bh, p.bw, p.rh, p.rw, y + p.oy, xs + p.ox);
    out[i] = (v / 255.0f - mean[ch]) / stdv[ch];
  }
};

}  // namespace sdd::kern
