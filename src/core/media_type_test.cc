#include "core/media_type.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

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

// The first kSniffBytes of a file ("" when it cannot be read).
std::string Head(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(kSniffBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

// The signature table and the choice of what to ask libmagic must never change an answer on real
// files: every file of the packages' media and examples (images, video, fonts, archives, text,
// source code; opencv-doc and libdlib19.1, which scripts/setup.sh installs) and of tests/data gets
// the type libmagic alone gives it.
TEST(MediaTypeTest, AgreesWithLibmagicOnEveryPackagedFile) {
  int files = 0, images_and_videos = 0;
  for (const char* root : {"/usr/share/doc/opencv-doc/examples", "/usr/share/doc/libdlib19.1",
                           ARGUS_SOURCE_DIR "/tests/data"}) {
    ASSERT_TRUE(std::filesystem::is_directory(root)) << root;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      std::string head = Head(entry.path());
      if (head.empty()) continue;
      ++files;
      std::string libmagic = LibmagicMediaType(head);
      EXPECT_EQ(SniffMediaType(head), libmagic) << entry.path();
      EXPECT_EQ(SniffMediaType(head, {.libmagic_for_unknown_binary = true}), libmagic)
          << entry.path();
      images_and_videos += libmagic.starts_with("image/") || libmagic.starts_with("video/");
    }
  }
  EXPECT_GT(files, 700);
  EXPECT_GT(images_and_videos, 150);  // the examples' photos and videos are among them
}

TEST(MediaTypeTest, UnknownBinaryIsOctetStreamWithoutAskingUnlessTold) {
  std::mt19937 rng(7);
  std::string random(10240, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  random[0] = 0x01;  // no signature of the table or of the libmagic list starts with it
  EXPECT_EQ(SniffMediaType(random), "application/octet-stream");
  // An ELF header is not in the table: libmagic names it.
  std::string elf(
      "\x7F"
      "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3E\0",
      20);
  elf.append(std::string(200, '\0'));
  EXPECT_NE(SniffMediaType(elf), "application/octet-stream");
  EXPECT_EQ(SniffMediaType(elf), LibmagicMediaType(elf));
  // Text goes to libmagic, which tells JSON from plain text.
  EXPECT_EQ(SniffMediaType("{\"a\": [1, 2, 3], \"b\": {\"c\": null}}\n"), "application/json");
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
