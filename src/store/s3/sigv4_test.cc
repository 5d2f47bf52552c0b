// SigV4 against AWS's published examples. The expected values are AWS's (the "get-vanilla" case
// of the Signature Version 4 test suite and the examples of the S3 "Authenticating Requests"
// guide), recomputed independently with Python's hmac/hashlib.

#include "store/s3/sigv4.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace argus::store::s3 {
namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Credentials S3DocsCredentials() {
  return {.access_key_id = "AKIAIOSFODNN7EXAMPLE",
          .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          .region = "us-east-1",
          .service = "s3"};
}

TEST(SigV4Test, GetVanillaFromTheTestSuite) {
  SigV4Credentials credentials{.access_key_id = "AKIDEXAMPLE",
                               .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                               .region = "us-east-1",
                               .service = "service"};
  SigV4Request request{.method = "GET",
                       .host = "example.amazonaws.com",
                       .canonical_uri = "/",
                       .query = {},
                       .headers = {{"X-Amz-Date", "20150830T123600Z"}},
                       .payload_sha256 = kEmptySha256};
  std::string want = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n";
  want.append("host;x-amz-date\n");
  want.append(kEmptySha256);
  EXPECT_EQ(CanonicalRequest(request), want);
  EXPECT_EQ(StringToSign(request, credentials, "20150830T123600Z"),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(AuthorizationHeader(request, credentials, "20150830T123600Z"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, S3GetObjectWithRange) {
  SigV4Request request{.method = "GET",
                       .host = "examplebucket.s3.amazonaws.com",
                       .canonical_uri = "/test.txt",
                       .query = {},
                       .headers = {{"Range", "bytes=0-9"},
                                   {"x-amz-content-sha256", kEmptySha256},
                                   {"x-amz-date", "20130524T000000Z"}},
                       .payload_sha256 = kEmptySha256};
  EXPECT_EQ(AuthorizationHeader(request, S3DocsCredentials(), "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObjectSignsThePayloadHash) {
  std::string body = "Welcome to Amazon S3.";
  std::string payload = HexEncode(Sha256(body));
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  std::string uri = "/";
  uri.append(UriEncode("test$file.text", true));
  SigV4Request request{.method = "PUT",
                       .host = "examplebucket.s3.amazonaws.com",
                       .canonical_uri = uri,
                       .query = {},
                       .headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                   {"x-amz-content-sha256", payload},
                                   {"x-amz-date", "20130524T000000Z"},
                                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                       .payload_sha256 = payload};
  EXPECT_EQ(request.canonical_uri, "/test%24file.text");
  EXPECT_EQ(Signature(request, S3DocsCredentials(), "20130524T000000Z"),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3ListObjectsSortsAndEncodesTheQuery) {
  SigV4Request request{
      .method = "GET",
      .host = "examplebucket.s3.amazonaws.com",
      .canonical_uri = "/",
      .query = {{"prefix", "J"}, {"max-keys", "2"}},
      .headers = {{"x-amz-content-sha256", kEmptySha256}, {"x-amz-date", "20130524T000000Z"}},
      .payload_sha256 = kEmptySha256};
  EXPECT_EQ(Signature(request, S3DocsCredentials(), "20130524T000000Z"),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, UriEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UriEncode("aZ09-._~", false), "aZ09-._~");
  EXPECT_EQ(UriEncode("a b/c+d=é", false), "a%20b%2Fc%2Bd%3D%C3%A9");
  EXPECT_EQ(UriEncode("dir/key name", true), "dir/key%20name");
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQueryString({{"start-after", "p/blobs/"}, {"list-type", "2"}}),
            "list-type=2&start-after=p%2Fblobs%2F");
}

}  // namespace
}  // namespace argus::store::s3
