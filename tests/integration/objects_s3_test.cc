// The real binary with its blobs in S3 (s3rver, under tests/s3/run_with_s3rver.sh: ctest
// ObjectsS3Test.WithServer): uploads large enough for multipart, downloads and ranges, dedupe,
// and the object size limit held to what one CopyObject can publish.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

TEST(ObjectsS3Test, ServerStoresObjectsInS3) {
  if (Env("ARGUS_TEST_S3_ENDPOINT").empty()) {
    GTEST_SKIP() << "no S3 server (run under tests/s3/run_with_s3rver.sh)";
  }
  auto server = TestServer::Start(
      {.env = {"ARGUS_BLOBS_BACKEND=s3", "ARGUS_BLOBS_S3_ENDPOINT=" + Env("ARGUS_TEST_S3_ENDPOINT"),
               "ARGUS_BLOBS_S3_BUCKET=" + Env("ARGUS_TEST_S3_BUCKET"),
               "ARGUS_BLOBS_S3_ACCESS_KEY_ID=" + Env("ARGUS_TEST_S3_ACCESS_KEY_ID"),
               "ARGUS_BLOBS_S3_SECRET_ACCESS_KEY=" + Env("ARGUS_TEST_S3_SECRET_ACCESS_KEY"),
               "ARGUS_BLOBS_S3_PREFIX=server-" + std::to_string(getpid()) + "/",
               "ARGUS_OBJECTS_MAX_OBJECT_BYTES=0"}});
  ASSERT_GT(server->port(), 0) << server->Log();
  std::map<std::string, std::string> ns = {{"X-Namespace", "a"}};
  ASSERT_EQ(server->Call("POST", "/v1/namespaces", server->admin_key(), {{"name", "a"}}).status,
            201);
  ASSERT_EQ(
      server->Call("POST", "/v1/buckets", server->admin_key(), {{"name", "media"}}, ns).status,
      201);
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + server->admin_key()},
                                             {"X-Namespace", "a"}};

  // 20 MiB: more than one multipart part, published with a copy.
  std::string big(20 << 20, '\0');
  std::mt19937_64 rng(7);
  for (auto& c : big) c = static_cast<char>(rng());
  auto put = Request(server->port(), "PUT", "/v1/buckets/media/objects/video/big.bin", auth, big);
  ASSERT_EQ(put.status, 201) << put.body << server->Log();
  EXPECT_EQ(put.json()["sha256"], HexEncode(Sha256(big)));
  auto back = Request(server->port(), "GET", "/v1/buckets/media/content/video/big.bin", auth);
  ASSERT_EQ(back.status, 200);
  EXPECT_TRUE(back.body == big);
  auto ranged_headers = auth;
  ranged_headers["Range"] = "bytes=1000000-1000099";
  auto ranged =
      Request(server->port(), "GET", "/v1/buckets/media/content/video/big.bin", ranged_headers);
  ASSERT_EQ(ranged.status, 206);
  EXPECT_EQ(ranged.body, big.substr(1000000, 100));
  auto again = Request(server->port(), "PUT", "/v1/buckets/media/objects/copy.bin", auth, big);
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.json()["deduplicated"], true);

  // One CopyObject publishes at most 5 GiB: the server's limit is held there, and a declared
  // length above it is refused before the body is read.
  EXPECT_NE(server->Log().find("lowered"), std::string::npos);
  Connection c(server->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("PUT /v1/buckets/media/objects/huge.bin HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer " +
             server->admin_key() + "\r\nX-Namespace: a\r\nContent-Length: 6442450944\r\n\r\n"));
  auto refused = c.Read();
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_NE(refused.body.find("5368709120"), std::string::npos) << refused.body;
}

}  // namespace
}  // namespace argus::testing
