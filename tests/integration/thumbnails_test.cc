// Thumbnails of objects over real HTTP: made once from the stored bytes by the `thumbnail`
// extractor, kept in the blob store as a derived blob, served again from there, and freed by the
// blob collector with their source.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

// Width and height from a JPEG's start-of-frame marker (0, 0 when there is none).
std::pair<int, int> JpegSize(const std::string& b) {
  for (size_t i = 2; i + 9 < b.size();) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return {0, 0};
    const unsigned char marker = static_cast<unsigned char>(b[i + 1]);
    const size_t length =
        static_cast<unsigned char>(b[i + 2]) << 8 | static_cast<unsigned char>(b[i + 3]);
    if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {
      int h = static_cast<unsigned char>(b[i + 5]) << 8 | static_cast<unsigned char>(b[i + 6]);
      int w = static_cast<unsigned char>(b[i + 7]) << 8 | static_cast<unsigned char>(b[i + 8]);
      return {w, h};
    }
    i += 2 + length;
  }
  return {0, 0};
}

class ThumbnailsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The collector runs often and frees unreferenced blobs at once.
    server_ =
        TestServer::Start({.env = {"ARGUS_BLOBS_GC_GRACE_S=0", "ARGUS_BLOBS_GC_INTERVAL_S=0.2"}});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    ASSERT_EQ(server_->Call("POST", "/v1/namespaces", server_->admin_key(), {{"name", "a"}}).status,
              201);
    ASSERT_EQ(Raw("POST", "/v1/buckets", Json{{"name", "photos"}}.dump(),
                  {{"Content-Type", "application/json"}})
                  .status,
              201);
  }
  HttpResult Raw(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> headers = {
        {"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "a"}};
    for (const auto& [k, v] : extra) headers[k] = v;
    return Request(server_->port(), method, path, headers, body);
  }
  // Whether the blob store holds `sha` (as a file or a row of blobs/small.db).
  bool Stored(const std::string& sha) const { return BlobStored(server_->data_dir(), sha); }
  std::unique_ptr<TestServer> server_;
};

TEST_F(ThumbnailsTest, MadeOnceKeptInTheBlobStoreAndFreedWithTheirSource) {
  const std::string messi = ReadFile("/usr/share/doc/opencv-doc/examples/data/messi5.jpg");
  ASSERT_EQ(JpegSize(messi), std::make_pair(548, 342));
  auto put = Raw("PUT", "/v1/buckets/photos/objects/2024/messi.jpg", messi);
  ASSERT_EQ(put.status, 201) << put.body;
  const std::string source = put.json()["sha256"];

  auto first = Raw("GET", "/v1/buckets/photos/thumbnails/2024/messi.jpg");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.Header("content-type"), "image/jpeg");
  EXPECT_EQ(JpegSize(first.body), std::make_pair(256, 160));  // 342 × 256 / 548 = 159.8
  EXPECT_LT(first.body.size(), messi.size() / 2);
  const std::string etag = first.Header("etag");
  ASSERT_EQ(etag.size(), 66u) << etag;  // the thumbnail's SHA-256, quoted
  const std::string thumb = etag.substr(1, 64);
  EXPECT_TRUE(Stored(thumb));

  // Served again from the blob store: the same bytes; If-None-Match → 304.
  auto again = Raw("GET", "/v1/buckets/photos/thumbnails/2024/messi.jpg?size=256");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(
      Raw("GET", "/v1/buckets/photos/thumbnails/2024/messi.jpg", "", {{"If-None-Match", etag}})
          .status,
      304);
  // Another key with the same bytes shares the thumbnail.
  ASSERT_EQ(Raw("PUT", "/v1/buckets/photos/objects/copy.jpg", messi).status, 201);
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/thumbnails/copy.jpg").Header("etag"), etag);

  // Other sizes and WebP are other variants.
  auto small = Raw("GET", "/v1/buckets/photos/thumbnails/2024/messi.jpg?size=64");
  ASSERT_EQ(small.status, 200);
  EXPECT_EQ(JpegSize(small.body), std::make_pair(64, 40));
  auto webp = Raw("GET", "/v1/buckets/photos/thumbnails/2024/messi.jpg?size=128&format=webp");
  ASSERT_EQ(webp.status, 200) << webp.body;
  EXPECT_EQ(webp.Header("content-type"), "image/webp");
  EXPECT_EQ(webp.body.substr(8, 4), "WEBP");

  // Once no object holds the source bytes, the collector frees the source and its thumbnails.
  ASSERT_EQ(Raw("DELETE", "/v1/buckets/photos/objects/2024/messi.jpg").status, 204);
  ASSERT_EQ(Raw("DELETE", "/v1/buckets/photos/objects/copy.jpg").status, 204);
  for (int i = 0; i < 100 && (Stored(thumb) || Stored(source)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(Stored(source));
  EXPECT_FALSE(Stored(thumb));
}

TEST_F(ThumbnailsTest, BadRequestsAreClear4xx) {
  ASSERT_EQ(Raw("PUT", "/v1/buckets/photos/objects/notes.txt", "not an image at all").status, 201);
  auto text = Raw("GET", "/v1/buckets/photos/thumbnails/notes.txt");
  EXPECT_EQ(text.status, 415) << text.body;
  EXPECT_NE(text.body.find("not an image"), std::string::npos) << text.body;
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/thumbnails/missing.jpg").status, 404);
  const std::string png =
      ReadFile("/usr/share/doc/opencv-doc/examples/data/pic1.png");  // opencv-doc's shapes
  ASSERT_FALSE(png.empty());
  ASSERT_EQ(Raw("PUT", "/v1/buckets/photos/objects/pic.png", png).status, 201);
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/thumbnails/pic.png?size=100").status, 400);
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/thumbnails/pic.png?size=256x").status, 400);
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/thumbnails/pic.png?format=gif").status, 400);
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/thumbnails/pic.png?size=128").status, 200);
  // A viewer of another namespace sees nothing.
  EXPECT_EQ(Request(server_->port(), "GET", "/v1/buckets/photos/thumbnails/pic.png",
                    {{"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "b"}})
                .status,
            404);
}

}  // namespace
}  // namespace argus::testing
