// The "s3" source. S3SourceSettingsTest checks the settings and needs no server; S3SourceTest
// lists and reads a real bucket and runs when ARGUS_TEST_S3_ENDPOINT (and ARGUS_TEST_S3_BUCKET)
// are set, as tests/s3/run_with_s3rver.sh does (ctest S3SourceWithServer), skipped otherwise.

#include "store/s3/s3_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/json_schema.h"
#include "store/s3/register.h"

namespace argus::store::s3 {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

Json Settings(std::string endpoint = "https://s3.eu-west-1.amazonaws.com") {
  return {{"endpoint", std::move(endpoint)}, {"bucket", "photos"}};
}

StatusCode CodeOf(const Json& config, bool allow_private = false) {
  return S3Source::ParseSettings(config, allow_private).status().code();
}

TEST(S3SourceSettingsTest, FillsDefaultsAndNormalizesThePrefix) {
  Json config = Settings();
  config["prefix"] = "camera/2024";
  config["access_key_id"] = "AKIDEXAMPLE";
  config["secret_access_key"] = "wJalrXUtnFEMI/K7MDENG";
  auto options = S3Source::ParseSettings(config, false);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(options->region, "us-east-1");
  EXPECT_EQ(options->bucket, "photos");
  EXPECT_EQ(options->prefix, "camera/2024/");
  EXPECT_EQ(options->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(options->secret_access_key, "wJalrXUtnFEMI/K7MDENG");
  EXPECT_TRUE(options->path_style);
  EXPECT_TRUE(options->public_addresses_only);

  config["prefix"] = "camera/";
  config["path_style"] = false;
  config["region"] = "eu-west-1";
  options = S3Source::ParseSettings(config, true);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->prefix, "camera/");
  EXPECT_FALSE(options->path_style);
  EXPECT_EQ(options->region, "eu-west-1");
  EXPECT_FALSE(options->public_addresses_only);
  EXPECT_EQ(S3Source::ParseSettings(Settings(), false)->prefix, "");
}

TEST(S3SourceSettingsTest, RefusesMalformedSettings) {
  EXPECT_EQ(CodeOf(Json::array()), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"bucket", "photos"}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf({{"endpoint", "https://s3.example.com"}}), StatusCode::kInvalidArgument);
  for (const char* field : {"endpoint", "bucket", "prefix", "region", "access_key_id"}) {
    Json config = Settings();
    config[field] = 42;
    EXPECT_EQ(CodeOf(config), StatusCode::kInvalidArgument) << field;
  }
  Json config = Settings();
  config["path_style"] = "yes";
  EXPECT_EQ(CodeOf(config), StatusCode::kInvalidArgument);
  config = Settings();
  config["acl"] = "public";
  auto unknown = S3Source::ParseSettings(config, false);
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("'acl'"));

  for (const char* endpoint :
       {"s3.example.com", "ftp://s3.example.com", "file:///etc", "https://", "https://:9000",
        "https://user:pw@s3.example.com", "https://s3.example.com/?x=1", "https://s3.example.com#f",
        "https://s3.example.com:0", "https://s3.example.com:99999", "https://s3.example.com:x",
        "https://s3 .example.com", "https://[::1"}) {
    EXPECT_EQ(CodeOf(Settings(endpoint), true), StatusCode::kInvalidArgument) << endpoint;
  }
  for (const char* bucket : {"", "a/b", "evil.com/x", "a b", "a?b"}) {
    Json bad = Settings();
    bad["bucket"] = bucket;
    EXPECT_EQ(CodeOf(bad), StatusCode::kInvalidArgument) << bucket;
  }
  Json bad = Settings();
  bad["prefix"] = "/photos";
  EXPECT_EQ(CodeOf(bad), StatusCode::kInvalidArgument);
  bad = Settings();
  bad["access_key_id"] = "AKID\r\nX-Injected: 1";
  EXPECT_EQ(CodeOf(bad), StatusCode::kInvalidArgument);
  bad = Settings();
  bad["region"] = "us-east-1/../x";
  EXPECT_EQ(CodeOf(bad), StatusCode::kInvalidArgument);
}

TEST(S3SourceSettingsTest, LiteralPrivateEndpointsNeedTheOperatorsPermission) {
  for (const char* endpoint :
       {"http://127.0.0.1:9000", "http://10.1.2.3", "http://192.168.0.10:80", "http://[::1]:9000",
        "http://169.254.169.254/latest", "http://0.0.0.0", "http://[::ffff:127.0.0.1]"}) {
    auto refused = S3Source::Create(SourceArgs{.config = Settings(endpoint)});
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << endpoint;
    EXPECT_THAT(refused.status().message(), HasSubstr("syncs.allow_private_endpoints"));
    EXPECT_TRUE(
        S3Source::Create(SourceArgs{.config = Settings(endpoint), .allow_private_endpoints = true})
            .ok())
        << endpoint;
  }
  // Names are checked when connecting, not here.
  EXPECT_TRUE(S3Source::Create(SourceArgs{.config = Settings("http://localhost:9000")}).ok());
  EXPECT_TRUE(S3Source::Create(SourceArgs{.config = Settings("https://8.8.8.8")}).ok());
}

TEST(S3SourceSettingsTest, IsRegisteredWithItsSchemaAndSecrets) {
  StoreRegistry registry;
  ASSERT_TRUE(RegisterS3Stores(registry).ok());
  auto caps = registry.sources.CapabilitiesOf("s3");
  ASSERT_TRUE(caps.ok());
  EXPECT_FALSE(caps->watchable);
  EXPECT_THAT(caps->secret_fields, ElementsAre("secret_access_key"));
  auto schema = JsonSchema::Compile(caps->config_schema);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  Json full = Settings();
  full.update({{"region", "eu-west-1"},
               {"prefix", "p/"},
               {"access_key_id", "a"},
               {"secret_access_key", "s"},
               {"path_style", false}});
  EXPECT_TRUE(schema->Validate(full).ok());
  EXPECT_FALSE(schema->Validate({{"bucket", "photos"}}).ok());
  EXPECT_FALSE(schema->Validate({{"endpoint", "https://x"}}).ok());
  Json extra = Settings();
  extra["other"] = 1;
  EXPECT_FALSE(schema->Validate(extra).ok());
  EXPECT_TRUE(registry.sources.Create("s3", SourceArgs{.config = full}).ok());
}

TEST(S3SourcePageTest, BuildsEntriesSkipsAndTheCursorFromAListing) {
  auto xml = ParseXml(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>photos</Name><Prefix>cam/</Prefix><KeyCount>6</KeyCount><MaxKeys>6</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>cam/</Key><LastModified>2026-11-24T02:35:53.000Z</LastModified>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size></Contents>
  <Contents><Key>cam/a.jpg</Key><LastModified>2026-11-24T02:35:53.250Z</LastModified>
    <ETag>&quot;9e107d9d372bb6826bd81d3542a419d6&quot;</ETag><Size>1234</Size></Contents>
  <Contents><Key>cam/b//c.jpg</Key><LastModified>2026-11-24T02:35:53.000Z</LastModified>
    <ETag>"e4d909c290d0fb1ca068ffaddf22cbd0"</ETag><Size>1</Size></Contents>
  <Contents><Key>cam/d/.thumbs/x</Key><LastModified>2026-11-24T02:35:53.000Z</LastModified>
    <ETag>"00"</ETag><Size>1</Size></Contents>
  <Contents><Key>cam/e/</Key><LastModified>2026-11-24T02:35:53.000Z</LastModified>
    <ETag>"00"</ETag><Size>0</Size></Contents>
</ListBucketResult>)");
  ASSERT_TRUE(xml.ok()) << xml.status().ToString();
  auto page = S3Source::PageFromListing(*xml, "cam/", "");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].path, "a.jpg");
  EXPECT_EQ(page->entries[0].size, 1234);
  EXPECT_EQ(page->entries[0].version, "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(page->entries[0].modified_at, 1'795'487'753'250'000);
  ASSERT_EQ(page->skipped.size(), 1u);
  EXPECT_EQ(page->skipped[0].path, "b//c.jpg");
  EXPECT_EQ(page->next_cursor, "e/");  // the last key, though it is left out

  for (XmlElement& child : xml->children) {
    if (child.name == "IsTruncated") child.text = "false";
  }
  EXPECT_EQ(S3Source::PageFromListing(*xml, "cam/", "")->next_cursor, "");
  for (XmlElement& child : xml->children) {
    if (child.name == "IsTruncated") child.text = "true";
  }
  EXPECT_EQ(S3Source::PageFromListing(*xml, "cam/", "zzz").status().code(), StatusCode::kInternal);
}

class S3SourceTest : public testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = Env("ARGUS_TEST_S3_ENDPOINT", "");
    if (endpoint_.empty()) GTEST_SKIP() << "no ARGUS_TEST_S3_ENDPOINT";
    uint8_t random[8];
    RandomBytes(random, sizeof(random));
    prefix_ = "source-" + HexEncode(std::string_view(reinterpret_cast<const char*>(random), 8));
    settings_ = {{"endpoint", endpoint_},
                 {"region", Env("ARGUS_TEST_S3_REGION", "us-east-1")},
                 {"bucket", Env("ARGUS_TEST_S3_BUCKET", "argus-test")},
                 {"prefix", prefix_},
                 {"access_key_id", Env("ARGUS_TEST_S3_ACCESS_KEY_ID", "S3RVER")},
                 {"secret_access_key", Env("ARGUS_TEST_S3_SECRET_ACCESS_KEY", "S3RVER")}};
    auto options = S3Source::ParseSettings(settings_, true);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    options->prefix.clear();  // the test's own client writes whole keys
    auto client = S3Client::Create(*options);
    ASSERT_TRUE(client.ok());
    client_ = *client;
  }

  void Put(const std::string& path, std::string_view body) {
    auto response =
        client_->Send(S3Request{.method = "PUT", .key = prefix_ + "/" + path, .body = body});
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_TRUE(S3Client::CheckSuccess(*response, "put").ok()) << response->body;
  }

  void Delete(const std::string& path) {
    auto response = client_->Send(S3Request{.method = "DELETE", .key = prefix_ + "/" + path});
    ASSERT_TRUE(response.ok());
  }

  std::unique_ptr<ObjectSource> MakeSource(size_t range_size = S3Source::kRangeSize) {
    auto options = S3Source::ParseSettings(settings_, true);
    EXPECT_TRUE(options.ok());
    auto source = S3Source::CreateWithOptions(*options, range_size);
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(source).value() : nullptr;
  }

  std::vector<std::string> ListAll(ObjectSource& source, int limit, int* pages = nullptr) {
    std::vector<std::string> paths;
    std::string cursor;
    for (int page_count = 1; page_count < 1000; ++page_count) {
      auto page = source.List(cursor, limit);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const SourceEntry& entry : page->entries) {
        EXPECT_GT(entry.path, cursor);
        paths.push_back(entry.path);
      }
      if (pages != nullptr) *pages = page_count;
      if (page->next_cursor.empty()) break;
      EXPECT_GT(page->next_cursor, cursor);
      cursor = page->next_cursor;
    }
    return paths;
  }

  SourceEntry MustFind(ObjectSource& source, const std::string& path) {
    auto page = source.List("", 1000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const SourceEntry& entry : page->entries) {
        if (entry.path == path) return entry;
      }
    }
    ADD_FAILURE() << path << " is not listed";
    return {};
  }

  static Result<std::string> ReadAll(SourceReader& reader, size_t chunk = 3) {
    std::string out;
    std::string buf(chunk, '\0');
    for (;;) {
      ARGUS_ASSIGN_OR_RETURN(size_t got, reader.Read(buf.data(), buf.size()));
      if (got == 0) return out;
      out.append(buf.data(), got);
    }
  }

  std::string endpoint_;
  std::string prefix_;  // without the '/' the source adds
  Json settings_;
  std::shared_ptr<S3Client> client_;
};

TEST_F(S3SourceTest, ListsUnderThePrefixInPagesAndLeavesOutMarkersAndHiddenKeys) {
  // s3rver lists directory by directory of its own store, so "a/x" before "a-b"; the keys
  // here avoid that quirk (AWS S3 and MinIO list in bytewise key order).
  for (const char* path : {"d/e/f", "a.txt", "b/x", "c-d", ".hidden", "dir/.x", "dir/", "dir/y"}) {
    Put(path, path);
  }
  // Next to the prefix, not below it.
  auto outside = client_->Send(S3Request{.method = "PUT", .key = prefix_ + "2/z", .body = "z"});
  ASSERT_TRUE(outside.ok());
  auto source = MakeSource();
  std::vector<std::string> full = ListAll(*source, 1000);
  EXPECT_THAT(full, ElementsAre("a.txt", "b/x", "c-d", "d/e/f", "dir/y"));
  for (int limit : {1, 2, 3}) {
    int pages = 0;
    EXPECT_EQ(ListAll(*source, limit, &pages), full) << "limit " << limit;
    EXPECT_GE(pages, 8 / limit) << "limit " << limit;
  }
  SourceEntry entry = MustFind(*source, "a.txt");
  EXPECT_EQ(entry.size, 5);
  EXPECT_FALSE(entry.version.empty());
  EXPECT_EQ(entry.version.find('"'), std::string::npos);
  EXPECT_GT(entry.modified_at, 1'600'000'000'000'000);
  auto after = source->List("c-d", 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->entries.size(), 2u);
  EXPECT_EQ(after->entries[0].path, "d/e/f");
  EXPECT_EQ(after->next_cursor, "");
}

TEST_F(S3SourceTest, PageOfOnlyLeftOutKeysStillAdvances) {
  for (const char* path : {"m1/", "m2/", "m3/", ".m4", "z"}) Put(path, "");
  auto source = MakeSource();
  auto first = source->List("", 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_THAT(first->entries, IsEmpty());
  EXPECT_EQ(first->next_cursor, "m1/");  // after ".m4": a page of left-out keys
  EXPECT_THAT(ListAll(*source, 2), ElementsAre("z"));
}

TEST_F(S3SourceTest, OpenReadsTheObjectInRanges) {
  std::string content;
  for (int i = 0; i < 40; ++i) content += std::to_string(i * 7919);
  Put("photo.jpg", content);
  Put("empty", "");
  for (size_t range_size : {size_t{7}, content.size(), S3Source::kRangeSize}) {
    auto source = MakeSource(range_size);
    auto reader = source->Open(MustFind(*source, "photo.jpg"));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto read = ReadAll(**reader);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, content) << "range size " << range_size;
  }
  auto source = MakeSource();
  auto reader = source->Open(MustFind(*source, "empty"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(ReadAll(**reader).value_or("?"), "");
}

TEST_F(S3SourceTest, OverwrittenObjectIsFailedPreconditionAndDeletedIsNotFound) {
  Put("photo.jpg", "first version of the bytes");
  auto source = MakeSource(/*range_size=*/4);
  SourceEntry listed = MustFind(*source, "photo.jpg");
  auto reader = source->Open(listed);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  char buf[4];
  ASSERT_TRUE((*reader)->Read(buf, sizeof(buf)).ok());
  Put("photo.jpg", "second version, other bytes");
  EXPECT_EQ(ReadAll(**reader).status().code(), StatusCode::kFailedPrecondition);
  auto again = source->Open(listed);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("changed since it was listed"));

  SourceEntry fresh = MustFind(*source, "photo.jpg");
  EXPECT_NE(fresh.version, listed.version);
  ASSERT_TRUE(source->Open(fresh).ok());
  Delete("photo.jpg");
  EXPECT_EQ(source->Open(fresh).status().code(), StatusCode::kNotFound);
}

TEST_F(S3SourceTest, MissingBucketIsNotFound) {
  Json settings = settings_;
  settings["bucket"] = "argus-no-such-bucket";
  auto source = S3Source::Create(SourceArgs{.config = settings, .allow_private_endpoints = true});
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->List("", 10).status().code(), StatusCode::kNotFound);
}

TEST_F(S3SourceTest, PublicAddressesOnlyRefusesTheLoopbackServer) {
  auto options = S3Source::ParseSettings(settings_, true);
  ASSERT_TRUE(options.ok());
  options->public_addresses_only = true;
  auto client = S3Client::Create(*options);
  ASSERT_TRUE(client.ok());
  auto response = (*client)->Send(S3Request{.method = "GET", .query = {{"list-type", "2"}}});
  EXPECT_EQ(response.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(response.status().message(), HasSubstr("not a public address"));

  // Through the factory: a literal loopback endpoint is refused outright, a name that resolves
  // to loopback when connecting.
  auto literal = S3Source::Create(SourceArgs{.config = settings_});
  EXPECT_EQ(literal.status().code(), StatusCode::kInvalidArgument);
  Json by_name = settings_;
  std::string endpoint = endpoint_;
  size_t host = endpoint.find("127.0.0.1");
  ASSERT_NE(host, std::string::npos) << "the test server is expected on 127.0.0.1";
  by_name["endpoint"] = endpoint.replace(host, 9, "localhost");
  auto source = S3Source::Create(SourceArgs{.config = by_name});
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->List("", 10).status().code(), StatusCode::kPermissionDenied);
  auto allowed = S3Source::Create(SourceArgs{.config = by_name, .allow_private_endpoints = true});
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE((*allowed)->List("", 10).ok());
}

}  // namespace
}  // namespace argus::store::s3
