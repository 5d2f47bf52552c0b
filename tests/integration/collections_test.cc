// /v1/collections over real HTTP against a real server: definitions checked against the
// extractors it registers, tiers, features, namespaces kept apart, sources that cannot go.
#include <gtest/gtest.h>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class CollectionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = TestServer::Start().release();
    ASSERT_GT(server_->port(), 0) << server_->Log();
    for (const char* ns : {"team", "other"}) {
      ASSERT_EQ(
          server_->Call("POST", "/v1/namespaces", server_->admin_key(), {{"name", ns}}).status,
          201);
      ASSERT_EQ(Call("POST", "/v1/buckets", {{"name", "photos"}}, ns).status, 201);
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static HttpResult Call(const std::string& method, const std::string& path,
                         const Json& body = nullptr, const std::string& ns = "team") {
    return server_->Call(method, path, server_->admin_key(), body, {{"X-Namespace", ns}});
  }
  static TestServer* server_;
};

TestServer* CollectionsTest::server_ = nullptr;

TEST_F(CollectionsTest, ACollectionIsCreatedReadListedChangedAndDeleted) {
  auto created = Call("POST", "/v1/collections",
                      {{"name", "scenes"},
                       {"source", {{"bucket", "photos"}}},
                       {"extractors",
                        {{{"name", "image_embedding"}},
                         {{"name", "object_detection"}, {"params", {{"score_threshold", 0.4}}}}}},
                       {"field_passthrough", {"metadata.camera"}},
                       {"payload_indexes", {{{"field", "label"}, {"type", "keyword"}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("location"), "/v1/collections/scenes");
  Json c = created.json();
  EXPECT_EQ(c["source"], Json({{"bucket", "photos"}}));
  EXPECT_EQ(c["extractors"][0]["version"], "2") << "the registered version";
  EXPECT_EQ(c["extractors"][1]["params"]["score_threshold"], 0.4);
  EXPECT_EQ(c["auto_process"], true);
  EXPECT_EQ(c["index_signature"].get<std::string>().size(), 32u);

  auto got = Call("GET", "/v1/collections/scenes");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json(), c);
  auto listed = Call("GET", "/v1/collections");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.json()["items"].size(), 1u) << listed.body;
  EXPECT_TRUE(Call("GET", "/v1/collections", nullptr, "other").json()["items"].empty())
      << "namespaces are kept apart";
  EXPECT_EQ(Call("GET", "/v1/collections/scenes", nullptr, "other").status, 404);

  auto features = Call("GET", "/v1/collections/scenes/features");
  ASSERT_EQ(features.status, 200) << features.body;
  ASSERT_EQ(features.json()["items"].size(), 1u) << features.body;
  EXPECT_EQ(features.json()["items"][0]["address"], "image_embedding@2/embedding");
  EXPECT_EQ(features.json()["items"][0]["dimension"], 1280);
  EXPECT_EQ(features.json()["items"][0]["metric"], "cosine");

  auto patched = Call("PATCH", "/v1/collections/scenes",
                      {{"description", "what is in the photos"},
                       {"extractors", {{{"name", "image_embedding"}}, {{"name", "ocr"}}}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["description"], "what is in the photos");
  EXPECT_EQ(patched.json()["extractors"].size(), 2u);
  EXPECT_NE(patched.json()["index_signature"], c["index_signature"])
      << "new extractors change what the documents hold";
  EXPECT_EQ(Call("PATCH", "/v1/collections/scenes", {{"source", {{"bucket", "x"}}}}).status, 400);

  EXPECT_EQ(Call("DELETE", "/v1/collections/scenes").status, 204);
  EXPECT_EQ(Call("GET", "/v1/collections/scenes").status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/collections/scenes").status, 404);
}

TEST_F(CollectionsTest, TiersRunOnRegionsAndSourcesInUseStay) {
  ASSERT_EQ(Call("POST", "/v1/collections",
                 {{"name", "faces"},
                  {"source", {{"bucket", "photos"}}},
                  {"extractors", {{{"name", "face_detection"}}}}})
                .status,
            201);
  auto people = Call("POST", "/v1/collections",
                     {{"name", "people"},
                      {"source", {{"collection", "faces"}}},
                      {"extractors", {{{"name", "face_embedding"}}}}});
  ASSERT_EQ(people.status, 201) << people.body;
  EXPECT_EQ(people.json()["source"], Json({{"collection", "faces"}}));
  auto features = Call("GET", "/v1/collections/people/features").json();
  ASSERT_EQ(features["items"].size(), 1u);
  EXPECT_EQ(features["items"][0]["address"], "face_embedding@1/embedding");
  EXPECT_EQ(features["items"][0]["dimension"], 1024);
  EXPECT_EQ(features["items"][0]["granularity"], "region");

  auto parent = Call("DELETE", "/v1/collections/faces");
  EXPECT_EQ(parent.status, 409) << parent.body;
  EXPECT_NE(parent.body.find("'people'"), std::string::npos) << parent.body;
  auto bucket = Call("DELETE", "/v1/buckets/photos?force=true");
  EXPECT_EQ(bucket.status, 409) << bucket.body;
  EXPECT_NE(bucket.body.find("'faces'"), std::string::npos) << bucket.body;
  EXPECT_EQ(Call("DELETE", "/v1/collections/people").status, 204);
  EXPECT_EQ(Call("DELETE", "/v1/collections/faces").status, 204);
}

TEST_F(CollectionsTest, BadDefinitionsAre4xxNamingTheField) {
  struct Case {
    Json body;
    int status;
    std::string says;
  };
  const Json src = {{"bucket", "photos"}};
  const Json emb = Json::array({{{"name", "image_embedding"}}});
  for (const auto& c : std::vector<Case>{
           {{{"name", "x"}, {"source", src}, {"extractors", {{{"name", "clip"}}}}},
            400,
            "extractors[0].name: no extractor 'clip'"},
           {{{"name", "x"},
             {"source", src},
             {"extractors",
              {{{"name", "object_detection"}, {"params", {{"classes", {"unicorn"}}}}}}}},
            400,
            "extractors[0].params"},
           {{{"name", "x"}, {"source", src}, {"extractors", {{{"name", "ocr"}, {"version", "9"}}}}},
            400,
            "extractors[0].version"},
           {{{"name", "x"}, {"source", {{"bucket", "nope"}}}, {"extractors", emb}}, 404, "nope"},
           {{{"name", "x"}, {"source", {{"collection", "nope"}}}, {"extractors", emb}},
            404,
            "nope"},
           {{{"name", "Not OK"}, {"source", src}, {"extractors", emb}}, 400, "name"},
           {{{"name", "x"},
             {"source", src},
             {"extractors", emb},
             {"payload_indexes", {{{"field", "label"}, {"type", "text"}}}}},
            400,
            "payload_indexes[0].type"},
           {{{"name", "x"}, {"source", src}}, 400, "extractors"}}) {
    auto r = Call("POST", "/v1/collections", c.body);
    EXPECT_EQ(r.status, c.status) << c.body.dump() << " -> " << r.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << r.body;
  }
  ASSERT_EQ(Call("POST", "/v1/collections", {{"name", "dup"}, {"source", src}, {"extractors", emb}})
                .status,
            201);
  EXPECT_EQ(Call("POST", "/v1/collections", {{"name", "dup"}, {"source", src}, {"extractors", emb}})
                .status,
            409);
  EXPECT_EQ(Call("POST", "/v1/collections", {{"name", "dup"}, {"source", src}, {"extractors", emb}},
                 "other")
                .status,
            201)
      << "names are per namespace";
  // Roles: a viewer reads, never writes.
  auto viewer = Call("POST", "/v1/keys", {{"name", "v"}, {"role", "viewer"}}).json()["secret"];
  auto as_viewer = [&](const std::string& method, const std::string& path, const Json& body) {
    return server_->Call(method, path, viewer.get<std::string>(), body, {{"X-Namespace", "team"}});
  };
  EXPECT_EQ(as_viewer("GET", "/v1/collections/dup", nullptr).status, 200);
  EXPECT_EQ(
      as_viewer("POST", "/v1/collections", {{"name", "v"}, {"source", src}, {"extractors", emb}})
          .status,
      403);
  EXPECT_EQ(as_viewer("DELETE", "/v1/collections/dup", nullptr).status, 403);
}

}  // namespace
}  // namespace argus::testing
