// float16 ⇄ float32 for albums kept as float16: each block of rows is
// widened to float32 just before a GEMM reads it. The x86-64 baseline Swift
// builds for has no F16C, so Swift's Float16 conversions are software; these
// use F16C (8 values per instruction) when the processor has it, checked once,
// and an exact portable body otherwise. Rounding to float16 is to nearest,
// ties to even, as IEEE 754 and F16C's default do.
#include "CKernels.h"
#include <string.h>

static float half_to_float_portable(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000 | (mantissa << 13);  // infinity or NaN
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        // Subnormal half: normalise into a float32 exponent.
        int shift = 0;
        while (!(mantissa & 0x400)) { mantissa <<= 1; shift++; }
        mantissa &= 0x3ff;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint16_t float_to_half_portable(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    uint32_t exponent = (bits >> 23) & 0xff;
    uint32_t mantissa = bits & 0x7fffff;
    if (exponent == 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (uint16_t)(mantissa >> 13) : 0);
    int e = (int)exponent - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00;  // overflow: infinity
    if (e <= 0) {
        if (e < -10) return sign;  // below half the smallest subnormal
        mantissa |= 0x800000;
        int shift = 14 - e;
        uint32_t half = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1))) half++;
        return sign | (uint16_t)half;
    }
    uint32_t half = ((uint32_t)e << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;  // may carry into the exponent: still right
    return sign | (uint16_t)half;
}

static void widen_portable(const uint16_t *in, float *out, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = half_to_float_portable(in[i]);
}

static void narrow_portable(const float *in, uint16_t *out, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = float_to_half_portable(in[i]);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

__attribute__((target("avx,f16c")))
static void widen_f16c(const uint16_t *in, float *out, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(in + i));
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    }
    for (; i < count; i++) out[i] = half_to_float_portable(in[i]);
}

__attribute__((target("avx,f16c")))
static void narrow_f16c(const float *in, uint16_t *out, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
    for (; i < count; i++) out[i] = float_to_half_portable(in[i]);
}

static int has_f16c(void) {
    static int known = -1;
    if (known < 0) known = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
    return known;
}

void curator_f16_to_f32(const uint16_t *in, float *out, size_t count) {
    if (has_f16c()) widen_f16c(in, out, count);
    else widen_portable(in, out, count);
}

void curator_f32_to_f16(const float *in, uint16_t *out, size_t count) {
    if (has_f16c()) narrow_f16c(in, out, count);
    else narrow_portable(in, out, count);
}
#else
void curator_f16_to_f32(const uint16_t *in, float *out, size_t count) { widen_portable(in, out, count); }
void curator_f32_to_f16(const float *in, uint16_t *out, size_t count) { narrow_portable(in, out, count); }
#endif

void curator_f16_to_f32_portable(const uint16_t *in, float *out, size_t count) { widen_portable(in, out, count); }
void curator_f32_to_f16_portable(const float *in, uint16_t *out, size_t count) { narrow_portable(in, out, count); }
