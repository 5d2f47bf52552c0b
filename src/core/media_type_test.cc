#include "core/media_type.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace argus {
namespace {

TEST(MediaTypeTest, SniffsFromTheBytes) {
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0", 29);
  EXPECT_EQ(SniffMediaType(png), "image/png");
  const std::string jpeg("\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 20);
  EXPECT_EQ(SniffMediaType(jpeg), "image/jpeg");
  EXPECT_EQ(SniffMediaType("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "application/pdf");
  EXPECT_EQ(SniffMediaType("just some words\n"), "text/plain");
  EXPECT_EQ(SniffMediaType(""), "application/octet-stream");
  EXPECT_EQ(SniffMediaType(std::string("\x00\x01\x02\x03\xfe\xff\x10\x80", 8)),
            "application/octet-stream");
}

TEST(MediaTypeTest, WorksFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) ok += SniffMediaType("%PDF-1.7\n") == "application/pdf";
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST(MediaTypeTest, MatchesExactTypesAndFamilies) {
  EXPECT_TRUE(MediaTypeMatches("image/*", "image/jpeg"));
  EXPECT_TRUE(MediaTypeMatches("image/jpeg", "image/jpeg"));
  EXPECT_TRUE(MediaTypeMatches("*/*", "video/mp4"));
  EXPECT_FALSE(MediaTypeMatches("image/*", "imagex/jpeg"));
  EXPECT_FALSE(MediaTypeMatches("image/png", "image/jpeg"));
  EXPECT_FALSE(MediaTypeMatches("video/*", "image/png"));
}

}  // namespace
}  // namespace argus
