#include "core/id.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <random>

#include "core/crypto.h"

namespace argus {

namespace {

struct IdState {
  uint64_t last_ms = 0;
  uint16_t counter = 0;  // 12 bits used (rand_a)
  // Ids need uniqueness, not secrecy: a per-thread generator seeded from the CSPRNG keeps
  // id creation off OpenSSL's locks on the request path.
  std::mt19937_64 rng = [] {
    uint64_t seed[2];
    RandomBytes(reinterpret_cast<uint8_t*>(seed), sizeof(seed));
    std::seed_seq seq{seed[0], seed[0] >> 32, seed[1], seed[1] >> 32};
    return std::mt19937_64(seq);
  }();
};

}  // namespace

std::string NewId(const Clock& clock) {
  thread_local IdState state;
  uint64_t ms = static_cast<uint64_t>(clock.NowUs() / 1000);
  std::array<uint8_t, 16> rnd;
  uint64_t r0 = state.rng(), r1 = state.rng();
  std::memcpy(rnd.data(), &r0, 8);
  std::memcpy(rnd.data() + 8, &r1, 8);
  if (ms <= state.last_ms) {
    // Same (or a backwards-stepped) millisecond: keep the last one and count up, so ids from
    // this thread never go backwards.
    ms = state.last_ms;
    if (++state.counter > 0xfff) {
      ++ms;
      state.counter = rnd[0] & 0x3f;
    }
  } else {
    // Start low in the 12-bit space so the counter has room to grow.
    state.counter = rnd[0] & 0x3f;
  }
  state.last_ms = ms;

  std::array<uint8_t, 16> b;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>(0x70 | ((state.counter >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(state.counter & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | (rnd[1] & 0x3f));
  for (int i = 9; i < 16; ++i) b[i] = rnd[i - 7];

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

bool IsValidId(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace argus
