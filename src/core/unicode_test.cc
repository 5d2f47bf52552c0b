#include "core/unicode.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

TEST(UnicodeTest, NormalizesToNfc) {
  std::string out;
  // "é" as e + combining acute (NFD) becomes the single code point U+00E9.
  ASSERT_TRUE(NormalizeNfc("caf\x65\xcc\x81.jpg", &out).ok());
  EXPECT_EQ(out, "caf\xc3\xa9.jpg");
  ASSERT_TRUE(NormalizeNfc("photos/2024/a.jpg", &out).ok());
  EXPECT_EQ(out, "photos/2024/a.jpg");
  ASSERT_TRUE(NormalizeNfc("", &out).ok());
  EXPECT_EQ(out, "");
}

TEST(UnicodeTest, RejectsInvalidUtf8) {
  std::string out;
  EXPECT_FALSE(NormalizeNfc("bad\xff", &out).ok());
  EXPECT_FALSE(NormalizeNfc("\xc3", &out).ok());          // truncated sequence
  EXPECT_FALSE(NormalizeNfc("\xed\xa0\x80", &out).ok());  // a UTF-16 surrogate
}

}  // namespace
}  // namespace argus
