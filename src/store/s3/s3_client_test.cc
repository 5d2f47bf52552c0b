#include "store/s3/s3_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "store/s3/loopback_server_for_test.h"

namespace argus::store::s3 {
namespace {

TEST(ParseXmlTest, ReadsTheFieldsOfAListing) {
  auto xml = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1"
      "</NextContinuationToken><Contents><Key>p/blobs/ab</Key><Size>12</Size></Contents>"
      "<Contents><Key>p/blobs/cd</Key><Size>0</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  EXPECT_EQ(xml->name, "ListBucketResult");
  EXPECT_EQ(xml->ChildText("IsTruncated"), "true");
  EXPECT_EQ(xml->ChildText("NextContinuationToken"), "t&1");
  ASSERT_EQ(xml->children.size(), 5u);
  EXPECT_EQ(xml->children[3].ChildText("Key"), "p/blobs/ab");
  EXPECT_EQ(xml->children[4].ChildText("Size"), "0");
  EXPECT_EQ(xml->Child("Missing"), nullptr);
  EXPECT_EQ(xml->ChildText("Missing"), "");
}

TEST(ParseXmlTest, RejectsMalformedDocumentsAndDoctypes) {
  EXPECT_FALSE(ParseXml("").ok());
  EXPECT_FALSE(ParseXml("<a><b></a>").ok());
  EXPECT_FALSE(ParseXml("not xml").ok());
  EXPECT_FALSE(ParseXml("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>").ok());
}

TEST(ParseIso8601Test, ParsesS3Times) {
  auto t = ParseIso8601("2013-05-24T00:00:00.000Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, int64_t{1369353600} * 1'000'000);
  t = ParseIso8601("2026-11-24T02:35:53.250Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t % 1'000'000, 250'000);
  EXPECT_FALSE(ParseIso8601("2013-05-24 00:00:00").ok());
  EXPECT_FALSE(ParseIso8601("Fri, 24 May 2013 00:00:00 GMT").ok());
}

TEST(S3ClientTest, MapsErrorsToStatusCodes) {
  S3Response not_found{.status = 404, .body = {}, .headers = {}};
  EXPECT_EQ(S3Client::ErrorStatus(not_found, "x").code(), StatusCode::kNotFound);
  S3Response busy{.status = 503,
                  .body = "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>",
                  .headers = {}};
  EXPECT_EQ(S3Client::ErrorStatus(busy, "x").code(), StatusCode::kUnavailable);
  S3Response denied{
      .status = 403,
      .body =
          "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>"
          "<Message>The request signature we calculated does not match</Message></Error>",
      .headers = {}};
  Status status = S3Client::ErrorStatus(denied, "write k");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(),
            "write k: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does "
            "not match");
  // CompleteMultipartUpload and CopyObject may fail inside a 200.
  S3Response late{.status = 200,
                  .body = "<Error><Code>InternalError</Code><Message>m</Message></Error>",
                  .headers = {}};
  EXPECT_EQ(S3Client::CheckSuccess(late, "x").code(), StatusCode::kUnavailable);
  S3Response fine{.status = 200, .body = "<CopyObjectResult/>", .headers = {}};
  EXPECT_TRUE(S3Client::CheckSuccess(fine, "x").ok());
}

TEST(S3ClientTest, RejectsBadEndpoints) {
  for (const char* endpoint : {"", "127.0.0.1:9000", "ftp://host", "http://"}) {
    auto client = S3Client::Create({.endpoint = endpoint, .bucket = "b"});
    EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument) << endpoint;
  }
  EXPECT_FALSE(S3Client::Create({.endpoint = "http://127.0.0.1:9000", .bucket = ""}).ok());
}

TEST(S3ClientTest, UnreachableEndpointIsUnavailable) {
  auto client = S3Client::Create({.endpoint = "http://127.0.0.1:1",
                                  .bucket = "b",
                                  .access_key_id = "a",
                                  .secret_access_key = "s"});
  ASSERT_TRUE(client.ok());
  auto response = (*client)->Send(S3Request{.method = "HEAD"});
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

// A loopback HTTP server that answers request n (from 1) with statuses[n-1], or the last entry
// once they run out, and counts the requests.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<int> statuses)
      : statuses_(std::move(statuses)), server_([this](int fd, const std::string&) {
          size_t i = static_cast<size_t>(requests_.fetch_add(1));
          int status = statuses_[std::min(i, statuses_.size() - 1)];
          LoopbackServerForTest::SendAll(fd, "HTTP/1.1 " + std::to_string(status) +
                                                 " X\r\nContent-Length: 0\r\nConnection: "
                                                 "close\r\n\r\n");
        }) {}
  int port() const { return server_.port(); }
  int requests() const { return requests_.load(); }

 private:
  std::vector<int> statuses_;
  std::atomic<int> requests_{0};
  LoopbackServerForTest server_;  // last: its thread stops before the state above goes
};

Result<S3Response> SendTo(const ScriptedServer& server, int max_attempts) {
  auto client = S3Client::Create({.endpoint = "http://127.0.0.1:" + std::to_string(server.port()),
                                  .bucket = "b",
                                  .access_key_id = "a",
                                  .secret_access_key = "s",
                                  .max_attempts = max_attempts,
                                  .base_backoff_ms = 1});
  if (!client.ok()) return client.status();
  return (*client)->Send(S3Request{.method = "GET", .key = "k"});
}

TEST(S3ClientTest, TransientFailuresAreRetried) {
  ScriptedServer flaky({503, 500, 200});
  auto response = SendTo(flaky, 4);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(flaky.requests(), 3);

  ScriptedServer throttled({429, 200});
  ASSERT_TRUE(SendTo(throttled, 4).ok());
  EXPECT_EQ(throttled.requests(), 2);
}

TEST(S3ClientTest, RetriesStopAtMaxAttemptsAndAnswersAreNotRetried) {
  ScriptedServer down({503});
  auto response = SendTo(down, 3);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);  // the last answer, for the caller to map
  EXPECT_EQ(down.requests(), 3);

  for (int status : {404, 403, 412}) {
    ScriptedServer final_answer({status});
    auto answered = SendTo(final_answer, 4);
    ASSERT_TRUE(answered.ok());
    EXPECT_EQ(answered->status, status);
    EXPECT_EQ(final_answer.requests(), 1) << status;
  }
}

}  // namespace
}  // namespace argus::store::s3
