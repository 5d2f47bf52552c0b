#include "core/crypto.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

TEST(CryptoTest, Sha256KnownVector) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, Sha256HasherMatchesOneShotWhateverTheSplit) {
  std::string data;
  for (int i = 0; i < 100'000; ++i) data.push_back(static_cast<char>(i * 7 + i / 251));
  for (size_t piece : {1u, 3u, 64u, 1000u, 65'537u}) {
    Sha256Hasher hasher;
    for (size_t at = 0; at < data.size(); at += piece) {
      hasher.Update(std::string_view(data).substr(at, piece));
    }
    EXPECT_EQ(hasher.Finish(), Sha256(data)) << "pieces of " << piece;
  }
}

TEST(CryptoTest, Sha256HasherStartsOverAfterFinish) {
  Sha256Hasher hasher;
  EXPECT_EQ(HexEncode(hasher.Finish()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hasher.Update("a");
  hasher.Update("bc");
  EXPECT_EQ(HexEncode(hasher.Finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Hasher moved = std::move(hasher);
  moved.Update("abc");
  EXPECT_EQ(moved.Finish(), Sha256("abc"));
}

TEST(CryptoTest, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HmacSha256KeysLongerThanABlockEmptyAndOneAfterAnother) {
  // RFC 4231 case 6: a 131-byte key is hashed first. The context is reused per thread: each
  // call's key must replace the last one's.
  const std::string long_key(131, '\xaa');
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(
        HexEncode(HmacSha256(long_key, "Test Using Larger Than Block-Size Key - Hash Key First")),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(HexEncode(HmacSha256("", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
}

TEST(CryptoTest, Base64Variants) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  ASSERT_TRUE(Base64UrlDecode("-_8", &out));
  EXPECT_EQ(out, "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("a+b", &out));
  EXPECT_FALSE(Base64UrlDecode("abcde", &out));
}

TEST(CryptoTest, Base64DecodeStandardPadded) {
  std::string out;
  for (std::string_view plain : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff\xfe"}) {
    ASSERT_TRUE(Base64Decode(Base64Encode(plain), &out)) << plain;
    EXPECT_EQ(out, plain);
  }
  EXPECT_FALSE(Base64Decode("Zm9vYg", &out));    // padding missing
  EXPECT_FALSE(Base64Decode("Zm9v-_==", &out));  // url alphabet
  EXPECT_FALSE(Base64Decode("Zm===", &out));     // three pad characters
  EXPECT_FALSE(Base64Decode("Zm=v", &out));      // '=' inside
}

TEST(CryptoTest, RandomBytesDiffer) {
  uint8_t a[32], b[32];
  RandomBytes(a, 32);
  RandomBytes(b, 32);
  EXPECT_NE(std::string(reinterpret_cast<char*>(a), 32),
            std::string(reinterpret_cast<char*>(b), 32));
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
}

}  // namespace
}  // namespace argus
