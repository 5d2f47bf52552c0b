// /v1/collections over real HTTP against a real server: definitions checked against the
// extractors it registers, tiers, features, namespaces kept apart, sources that cannot go.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

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

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Real models on real media: objects become documents with vectors, regions, labels and text.
class CollectionExtractionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start({.env = {"ARGUS_INFERENCE_PRELOAD=true"}});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    for (int i = 0; i < 300 && Request(server_->port(), "GET", "/readyz").status != 200; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(
        server_->Call("POST", "/v1/namespaces", server_->admin_key(), {{"name", "team"}}).status,
        201);
    ASSERT_EQ(Call("POST", "/v1/buckets", {{"name", "photos"}}).status, 201);
  }
  HttpResult Call(const std::string& method, const std::string& path, const Json& body = nullptr) {
    return server_->Call(method, path, server_->admin_key(), body, {{"X-Namespace", "team"}});
  }
  void Put(const std::string& key, const std::string& bytes, const std::string& metadata = "") {
    std::map<std::string, std::string> h = {{"Authorization", "Bearer " + server_->admin_key()},
                                            {"X-Namespace", "team"}};
    if (!metadata.empty()) h["X-Argus-Metadata"] = metadata;
    auto r = Request(server_->port(), "PUT", "/v1/buckets/photos/objects/" + key, h, bytes);
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }
  // Until every collection.extract task has ended (and at least `count` exist); their statuses.
  std::multiset<std::string> AwaitTasks(size_t count = 1) {
    std::multiset<std::string> statuses;
    for (int i = 0; i < 600; ++i) {
      statuses.clear();
      bool open = false;
      const HttpResult tasks = Call("GET", "/v1/tasks?kind=collection.extract&limit=1000");
      for (const auto& t : tasks.json()["items"]) {
        statuses.insert(t["status"].get<std::string>());
        open = open || (t["status"] != "succeeded" && t["status"] != "failed");
      }
      if (!open && statuses.size() >= count) return statuses;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the extraction tasks did not end: "
                  << Call("GET", "/v1/tasks?kind=collection.extract&limit=1000").body;
    return statuses;
  }
  Json Documents(const std::string& query = "", const std::string& collection = "scenes") {
    auto r = Call("GET", "/v1/collections/" + collection + "/documents?limit=1000" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["items"];
  }
  std::unique_ptr<TestServer> server_;
};

TEST_F(CollectionExtractionTest, ObjectsBecomeDocumentsWithVectorsRegionsAndText) {
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  Put("messi.jpg", ReadFile(data + "messi5.jpg"), R"({"camera": "x100"})");
  Put("notes.txt", "plain words, no pixels");
  auto created =
      Call("POST", "/v1/collections",
           {{"name", "scenes"},
            {"source", {{"bucket", "photos"}}},
            {"extractors", {{{"name", "image_embedding"}}, {{"name", "object_detection"}}}},
            {"field_passthrough", {"metadata.camera"}},
            {"payload_indexes", {{{"field", "label"}, {"type", "keyword"}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string signature = created.json()["index_signature"];
  auto trigger = Call("POST", "/v1/collections/scenes/trigger", Json::object());
  ASSERT_EQ(trigger.status, 202) << trigger.body;
  EXPECT_EQ(trigger.json()["tasks"], 2);
  EXPECT_EQ(AwaitTasks(), (std::multiset<std::string>{"succeeded", "succeeded"}));

  Json docs = Documents();
  Json messi, text;
  std::multiset<std::string> labels;
  for (const auto& d : docs) {
    if (d["unit"] == "" && d["payload"]["key"] == "messi.jpg") messi = d;
    if (d["unit"] == "" && d["payload"]["key"] == "notes.txt") text = d;
    if (d["payload"].contains("label")) labels.insert(d["payload"]["label"].get<std::string>());
  }
  ASSERT_FALSE(messi.is_null()) << docs.dump();
  EXPECT_EQ(messi["payload"]["metadata"]["camera"], "x100");
  EXPECT_GE(messi["payload"]["object_detection"]["count"], 2);
  EXPECT_EQ(messi["versions"]["image_embedding"], "2");
  EXPECT_TRUE(labels.count("person")) << docs.dump();
  EXPECT_TRUE(labels.count("sports ball")) << docs.dump();
  ASSERT_FALSE(text.is_null()) << docs.dump();
  EXPECT_NE(text["payload"]["errors"]["image_embedding"].get<std::string>().find("text/plain"),
            std::string::npos)
      << "an object the extractors cannot read keeps their errors";

  auto full = Call("GET", "/v1/collections/scenes/documents/" + messi["id"].get<std::string>() +
                              "?include_vectors=true");
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_EQ(full.json()["vectors"]["image_embedding@2/embedding"].size(), 1280u);

  // Filters over the payload, typed by the payload indexes; regions carry boxes.
  Json people = Documents("&filter=" + UrlEncode(R"({"label": "person"})"));
  ASSERT_FALSE(people.empty());
  for (const auto& p : people) {
    EXPECT_EQ(p["payload"]["label"], "person");
    EXPECT_EQ(p["region"]["box"].size(), 4u);
    EXPECT_EQ(p["payload"]["metadata"]["camera"], "x100");
  }
  EXPECT_EQ(Call("GET", "/v1/collections/scenes/documents?filter=" +
                            UrlEncode(R"({"label": {"like": "p%"}})"))
                .status,
            400);
  // Ordered by a field, best first, pages of two; the whole-object document (no score) last.
  std::vector<double> scores;
  std::string cursor;
  Json last;
  for (int pages = 0; pages < 50; ++pages) {
    auto page = Call("GET", "/v1/collections/scenes/documents?order_by=-score&limit=2" +
                                (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    const Json body = page.json();
    for (const auto& d : body["items"]) {
      if (d["payload"].contains("score")) scores.push_back(d["payload"]["score"]);
      last = d;
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  ASSERT_GE(scores.size(), 2u);
  EXPECT_TRUE(std::is_sorted(scores.rbegin(), scores.rend())) << Json(scores);
  EXPECT_EQ(last["unit"], "") << "the document without a score comes last";
  auto bad_order = Call("GET", "/v1/collections/scenes/documents?order_by=" + UrlEncode("a\"b"));
  EXPECT_EQ(bad_order.status, 400);
  EXPECT_NE(bad_order.body.find("order_by"), std::string::npos) << bad_order.body;
  EXPECT_NE(Call("GET", "/v1/collections/scenes").json()["index_signature"], signature)
      << "documents written: a new signature";

  // Again: the same documents (ids kept), nothing duplicated.
  const size_t count = docs.size();
  ASSERT_EQ(Call("POST", "/v1/collections/scenes/trigger", Json::object()).status, 202);
  AwaitTasks();
  Json again = Documents();
  EXPECT_EQ(again.size(), count);
  std::set<std::string> before, after;
  for (const auto& d : docs) before.insert(d["id"]);
  for (const auto& d : again) after.insert(d["id"]);
  EXPECT_EQ(before, after);

  // Search: a resized, recompressed copy of messi5 (the server's own thumbnail of it, stored in
  // another bucket) finds messi5 first among other photos.
  for (const char* name : {"baboon.jpg", "fruits.jpg", "building.jpg", "HappyFish.jpg"}) {
    Put(name, ReadFile(data + name));
  }
  ASSERT_EQ(Call("POST", "/v1/collections/scenes/trigger", Json::object()).status, 202);
  AwaitTasks();
  auto thumb = Request(
      server_->port(), "GET", "/v1/buckets/photos/thumbnails/messi.jpg?size=256&format=jpeg",
      {{"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "team"}});
  ASSERT_EQ(thumb.status, 200) << thumb.body;
  ASSERT_EQ(Call("POST", "/v1/buckets", {{"name", "queries"}}).status, 201);
  auto small = Request(
      server_->port(), "PUT", "/v1/buckets/queries/objects/small.jpg",
      {{"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "team"}}, thumb.body);
  ASSERT_EQ(small.status, 201) << small.body;
  auto found = Call("POST", "/v1/collections/scenes/search",
                    {{"object", {{"bucket", "queries"}, {"key", "small.jpg"}}}, {"limit", 3}});
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.json()["feature"], "image_embedding@2/embedding");
  ASSERT_FALSE(found.json()["items"].empty()) << found.body;
  EXPECT_EQ(found.json()["items"][0]["document"]["payload"]["key"], "messi.jpg") << found.body;
  EXPECT_GT(found.json()["items"][0]["score"], found.json()["items"][1]["score"]);
  // The same copy uploaded with the search (multipart: the image and the query's JSON), and
  // filtered: the same first result, the same score.
  const std::string form =
      "--bnd\r\nContent-Disposition: form-data; name=\"query\"\r\n"
      "Content-Type: application/json\r\n\r\n"
      R"({"limit": 3, "filter": {"key": {"ne": "baboon.jpg"}}})"
      "\r\n--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"small.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      thumb.body + "\r\n--bnd--\r\n";
  const std::map<std::string, std::string> auth = {
      {"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "team"}};
  auto post = [&](const std::string& type, const std::string& body) {
    auto headers = auth;
    headers["Content-Type"] = type;
    return Request(server_->port(), "POST", "/v1/collections/scenes/search", headers, body);
  };
  const std::string multipart = "multipart/form-data; boundary=bnd";
  auto uploaded = post(multipart, form);
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  const Json by_upload = Json::parse(uploaded.body);
  ASSERT_EQ(by_upload["items"].size(), 3u) << uploaded.body;
  EXPECT_EQ(by_upload["items"][0]["document"]["payload"]["key"], "messi.jpg");
  EXPECT_NEAR(by_upload["items"][0]["score"].get<double>(),
              found.json()["items"][0]["score"].get<double>(), 1e-4);
  for (const auto& item : by_upload["items"]) {
    EXPECT_NE(item["document"]["payload"]["key"], "baboon.jpg") << "the query part's filter";
  }
  // An image that is not one, a form without the image, a query part that is no JSON object,
  // a body of another type: 4xx naming what to send.
  auto not_image = post(multipart,
                        "--bnd\r\nContent-Disposition: form-data; name=\"file\"; "
                        "filename=\"x.jpg\"\r\n\r\nnot an image\r\n--bnd--\r\n");
  EXPECT_EQ(not_image.status, 400) << not_image.body;
  EXPECT_NE(not_image.body.find("file"), std::string::npos) << not_image.body;
  auto no_file = post(multipart,
                      "--bnd\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n"
                      "{}\r\n--bnd--\r\n");
  EXPECT_EQ(no_file.status, 400) << no_file.body;
  EXPECT_NE(no_file.body.find("\\\"file\\\" part"), std::string::npos) << no_file.body;
  auto bad_query = post(multipart,
                        "--bnd\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n"
                        "{\"limit\": -1}\r\n--bnd\r\nContent-Disposition: form-data; "
                        "name=\"file\"; filename=\"a.jpg\"\r\n\r\n" +
                            thumb.body + "\r\n--bnd--\r\n");
  EXPECT_EQ(bad_query.status, 400) << bad_query.body;
  EXPECT_NE(bad_query.body.find("limit"), std::string::npos) << bad_query.body;
  auto text_plain = post("text/plain", "messi");
  EXPECT_EQ(text_plain.status, 415) << text_plain.body;
  auto raw_json = post("application/json", "{\"limit\": 2");
  EXPECT_EQ(raw_json.status, 400) << raw_json.body;
  // By a document, with a filter applied inside the search.
  auto by_doc = Call("POST", "/v1/collections/scenes/search",
                     {{"document_id", messi["id"]},
                      {"filter", {{"key", {{"in", {"fruits.jpg", "baboon.jpg"}}}}}},
                      {"limit", 5}});
  ASSERT_EQ(by_doc.status, 200) << by_doc.body;
  EXPECT_EQ(by_doc.json()["items"].size(), 2u) << by_doc.body;
  EXPECT_EQ(by_doc.json()["plan"], "exact");
  for (const auto& item : by_doc.json()["items"]) {
    EXPECT_NE(item["document"]["payload"]["key"], "messi.jpg");
  }
  // Mistakes name the field.
  auto wrong = Call("POST", "/v1/collections/scenes/search", {{"vector", {1, 2, 3}}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("1280"), std::string::npos) << wrong.body;
  EXPECT_EQ(
      Call("POST", "/v1/collections/scenes/search", {{"vector", {1, 2, 3}}, {"document_id", "x"}})
          .status,
      400);
  auto feature = Call("POST", "/v1/collections/scenes/search",
                      {{"feature", "clip@1/x"}, {"document_id", messi["id"]}});
  EXPECT_EQ(feature.status, 400);
  EXPECT_NE(feature.body.find("image_embedding@2/embedding"), std::string::npos) << feature.body;

  // Deleting the object deletes its documents.
  ASSERT_EQ(Call("DELETE", "/v1/buckets/photos/objects/messi.jpg").status, 204);
  for (const auto& d : Documents()) EXPECT_NE(d["payload"]["key"], "messi.jpg") << d.dump();
  auto gone = Call("POST", "/v1/collections/scenes/search",
                   {{"object", {{"bucket", "queries"}, {"key", "small.jpg"}}}, {"limit", 10}});
  ASSERT_EQ(gone.status, 200) << gone.body;
  for (const auto& item : gone.json()["items"]) {
    EXPECT_NE(item["document"]["payload"]["key"], "messi.jpg") << "its vectors went too";
  }
}

TEST_F(CollectionExtractionTest, ALaterTierRunsOnItsParentsRegionsAndTextIsFoundByBm25) {
  Put("faces.jpg", ReadFile("/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg"));
  Put("page.png", ReadFile("/usr/share/doc/opencv-doc/examples/data/imageTextN.png"));
  for (const Json& spec : {Json{{"name", "faces"},
                                {"source", {{"bucket", "photos"}}},
                                {"extractors", {{{"name", "face_detection"}}, {{"name", "ocr"}}}},
                                {"payload_indexes", {{{"field", "key"}, {"type", "keyword"}}}}},
                           Json{{"name", "people"},
                                {"source", {{"collection", "faces"}}},
                                {"extractors", {{{"name", "face_embedding"}}}}}}) {
    auto created = Call("POST", "/v1/collections", spec);
    ASSERT_EQ(created.status, 201) << created.body;
  }
  auto trigger = Call("POST", "/v1/collections/faces/trigger", Json::object());
  ASSERT_EQ(trigger.status, 202) << trigger.body;
  // Two objects in tier 1, then each object's tier 2 once its faces exist.
  EXPECT_EQ(AwaitTasks(4),
            (std::multiset<std::string>{"succeeded", "succeeded", "succeeded", "succeeded"}));

  std::map<std::string, Json> parents;  // face regions of faces.jpg by id
  const Json faces = Documents("", "faces");
  std::string photo;
  for (const auto& d : faces) {
    if (d["unit"] == "" && d["payload"]["key"] == "faces.jpg") photo = d["object_id"];
  }
  for (const auto& d : faces) {
    if (d["unit"] != "" && d["object_id"] == photo) parents[d["id"]] = d;
  }
  ASSERT_EQ(parents.size(), 6u) << faces;
  std::map<std::string, int> found;  // parent id → faces found again in its crop
  std::string a_face;
  for (const auto& d : Documents("&include_vectors=true", "people")) {
    EXPECT_EQ(d["tier"], 2);
    ASSERT_TRUE(parents.count(d["parent_id"])) << "every face comes from a face region" << d;
    if (d["unit"] == "") continue;
    const Json& parent_box = parents[d["parent_id"]]["region"]["box"];
    const Json& box = d["region"]["box"];
    const double cx = (box[0].get<double>() + box[2].get<double>()) / 2;
    const double cy = (box[1].get<double>() + box[3].get<double>()) / 2;
    // The face found in the crop is in the object's pixels: over its parent's box.
    if (cx > parent_box[0] && cx < parent_box[2] && cy > parent_box[1] && cy < parent_box[3]) {
      ++found[d["parent_id"]];
      a_face = d["id"];
    }
    EXPECT_EQ(d["vectors"]["face_embedding@1/embedding"].size(), 1024u) << d;
  }
  EXPECT_EQ(found.size(), parents.size()) << "each face is found again in its region's crop";
  auto lineage = Call("GET", "/v1/collections/people/documents/" + a_face + "/lineage");
  ASSERT_EQ(lineage.status, 200) << lineage.body;
  const Json up = lineage.json()["parents"];
  ASSERT_EQ(up.size(), 1u) << lineage.body;
  EXPECT_EQ(up[0]["collection"], "faces");
  EXPECT_TRUE(parents.count(up[0]["id"]));
  EXPECT_EQ(lineage.json()["object"]["key"], "faces.jpg") << lineage.body;
  auto down =
      Call("GET", "/v1/collections/faces/documents/" + up[0]["id"].get<std::string>() + "/lineage");
  ASSERT_EQ(down.status, 200) << down.body;
  bool found_child = false;
  const Json children = down.json()["children"];
  for (const auto& child : children) {
    EXPECT_EQ(child["collection"], "people");
    found_child = found_child || child["id"] == a_face;
  }
  EXPECT_TRUE(found_child) << down.body;
  auto facets = Call("GET",
                     "/v1/collections/people/documents?limit=2&return_fields=score,"
                     "extractor&facets=extractor,tier&filter=" +
                         UrlEncode(R"({"unit": {"ne": ""}})"));
  ASSERT_EQ(facets.status, 200) << facets.body;
  const Json page = facets.json();
  EXPECT_EQ(page["items"][0]["payload"].size(), 2u) << facets.body;
  EXPECT_EQ(page["facets"]["extractor"][0]["value"], "face_embedding") << facets.body;
  EXPECT_GE(page["facets"]["extractor"][0]["count"], 6) << "over every page";
  EXPECT_EQ(page["facets"]["tier"][0]["value"], 2);
  auto same = Call("POST", "/v1/collections/people/search", {{"document_id", a_face}});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json()["items"][0]["document"]["id"], a_face);

  // The OCR text of the page is found by its words, ranked by BM25, within a filter.
  auto text = Call("POST", "/v1/collections/faces/search",
                   {{"text", "students' small projects"}, {"limit", 5}});
  ASSERT_EQ(text.status, 200) << text.body;
  ASSERT_EQ(text.json()["items"].size(), 1u) << text.body;
  EXPECT_EQ(text.json()["items"][0]["document"]["payload"]["key"], "page.png");
  EXPECT_NE(text.json()["items"][0]["snippet"].get<std::string>().find("[students]"),
            std::string::npos)
      << text.body;
  auto elsewhere = Call("POST", "/v1/collections/faces/search",
                        {{"text", "students"}, {"filter", {{"key", "faces.jpg"}}}});
  ASSERT_EQ(elsewhere.status, 200) << elsewhere.body;
  EXPECT_TRUE(elsewhere.json()["items"].empty()) << elsewhere.body;
  EXPECT_EQ(Call("POST", "/v1/collections/faces/search", {{"text", "?!"}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/collections/faces/search", Json::object()).status, 400);

  ASSERT_EQ(Call("DELETE", "/v1/buckets/photos/objects/faces.jpg").status, 204);
  EXPECT_TRUE(Documents("", "people").empty()) << "the object's faces went in every tier";
}

TEST_F(CollectionExtractionTest, AutoProcessTakesEachNewObjectOnceAsItArrives) {
  for (const auto& [name, automatic] : {std::pair{"scenes", true}, std::pair{"manual", false}}) {
    auto created = Call("POST", "/v1/collections",
                        {{"name", name},
                         {"source", {{"bucket", "photos"}}},
                         {"extractors", {{{"name", "image_properties"}}}},
                         {"auto_process", automatic}});
    ASSERT_EQ(created.status, 201) << created.body;
  }
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  Put("a.jpg", ReadFile(data + "messi5.jpg"));
  Put("b.png", ReadFile(data + "pic1.png"));
  Put("a.jpg", ReadFile(data + "baboon.jpg"));  // a new version: another object
  EXPECT_EQ(AwaitTasks(3), (std::multiset<std::string>{"succeeded", "succeeded", "succeeded"}))
      << "one task per object version, none for the collection without auto_process";
  std::map<std::string, Json> by_key;
  for (const auto& d : Documents()) by_key[d["payload"]["key"]] = d;
  ASSERT_EQ(by_key.size(), 2u);
  EXPECT_EQ(by_key["a.jpg"]["payload"]["image_properties"]["width"], 512) << "baboon, not messi";
  EXPECT_TRUE(Documents("", "manual").empty());

  // Triggers by staleness and by filter queue only what they select.
  auto current = Call("POST", "/v1/collections/scenes/trigger", {{"stale", true}});
  ASSERT_EQ(current.status, 202) << current.body;
  EXPECT_EQ(current.json()["tasks"], 0) << "every document is of the current version";
  auto missing = Call("POST", "/v1/collections/manual/trigger", {{"stale", true}});
  EXPECT_EQ(missing.json()["tasks"], 2) << "objects without documents are stale";
  auto one = Call("POST", "/v1/collections/scenes/trigger", {{"filter", {{"key", "b.png"}}}});
  EXPECT_EQ(one.json()["tasks"], 1) << one.body;
  EXPECT_EQ(Call("POST", "/v1/collections/scenes/trigger", {{"filter", {{"size", {{"near", 1}}}}}})
                .status,
            400);
}

TEST_F(CollectionExtractionTest, ABatchRunsItsTiersAndCountsThemWithErrorsByExtractor) {
  Put("faces.jpg", ReadFile("/usr/share/doc/libdlib19.1/examples/faces/2008_002470.jpg"));
  Put("messi.jpg", ReadFile("/usr/share/doc/opencv-doc/examples/data/messi5.jpg"));
  Put("notes.txt", "no pixels here");
  for (const Json& spec : {Json{{"name", "faces"},
                                {"source", {{"bucket", "photos"}}},
                                {"extractors", {{{"name", "face_detection"}}}}},
                           Json{{"name", "people"},
                                {"source", {{"collection", "faces"}}},
                                {"extractors", {{{"name", "face_embedding"}}}}}}) {
    ASSERT_EQ(Call("POST", "/v1/collections", spec).status, 201);
  }
  const std::string batches = "/v1/buckets/photos/batches";
  auto missing = Call("POST", batches, {{"keys", {"faces.jpg", "nope.jpg"}}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("keys[1]"), std::string::npos) << missing.body;
  auto later = Call("POST", batches, {{"collections", {"people"}}});
  EXPECT_EQ(later.status, 400);
  EXPECT_NE(later.body.find("collections[0]"), std::string::npos) << later.body;
  EXPECT_EQ(Call("POST", batches, {{"keys", {"faces.jpg"}}, {"prefix", "f"}}).status, 400);
  EXPECT_EQ(Call("POST", batches, {{"filter", {{"size", {{"near", 3}}}}}}).status, 400);

  auto draft = Call("POST", batches, Json::object());
  ASSERT_EQ(draft.status, 201) << draft.body;
  EXPECT_EQ(draft.json()["status"], "draft");
  EXPECT_EQ(draft.json()["collections"], Json({"faces"}));
  const std::string id = draft.json()["id"];
  auto done = server_->Call("POST", batches + "/" + id + "/submit", server_->admin_key(),
                            Json::object(), {{"X-Namespace", "team"}, {"Prefer", "wait=120"}});
  ASSERT_EQ(done.status, 200) << done.body;
  const Json batch = done.json();
  EXPECT_EQ(batch["status"], "completed") << batch;
  EXPECT_EQ(batch["objects"], 3);
  ASSERT_EQ(batch["tiers"].size(), 2u) << batch;
  EXPECT_EQ(batch["tiers"][0]["tier"], 1);
  EXPECT_EQ(batch["tiers"][0]["collections"], Json({"faces"}));
  EXPECT_EQ(batch["tiers"][0]["total"], 3);
  EXPECT_EQ(batch["tiers"][0]["succeeded"], 3);
  EXPECT_EQ(batch["tiers"][1]["tier"], 2);
  EXPECT_EQ(batch["tiers"][1]["collections"], Json({"people"}));
  EXPECT_EQ(batch["tiers"][1]["succeeded"], 3) << "each object's tier 2 ran after its tier 1";
  ASSERT_TRUE(batch["errors"].contains("face_detection")) << batch;
  EXPECT_EQ(batch["errors"]["face_detection"]["count"], 1) << "notes.txt is no image";
  EXPECT_EQ(batch["errors"]["face_detection"]["examples"][0]["key"], "notes.txt");
  EXPECT_FALSE(batch["finished_at"].is_null());
  int faces = 0;
  for (const auto& d : Documents("", "people")) faces += d["unit"] != "" ? 1 : 0;
  EXPECT_GE(faces, 6) << "the batch's tier 2 made the face documents";

  EXPECT_EQ(Call("POST", batches + "/" + id + "/submit", Json::object()).status, 409);
  EXPECT_EQ(Call("POST", batches + "/" + id + "/cancel", Json::object()).status, 409);
  auto retry = Call("POST", batches + "/" + id + "/retry", Json::object());
  ASSERT_EQ(retry.status, 202) << retry.body;
  EXPECT_EQ(retry.json()["retried"], 0);
  EXPECT_EQ(Call("GET", batches).json()["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/batches/" + id).json()["status"], "completed");

  auto one = Call("POST", batches, {{"keys", {"messi.jpg"}}});
  ASSERT_EQ(one.status, 201);
  const std::string second = one.json()["id"];
  ASSERT_EQ(Call("POST", batches + "/" + second + "/submit", Json::object()).status, 202);
  auto cancelled = Call("POST", batches + "/" + second + "/cancel", Json::object());
  if (cancelled.status == 200) {
    EXPECT_EQ(cancelled.json()["status"], "cancelled");
  } else {
    EXPECT_EQ(cancelled.status, 409) << "only when it had finished already: " << cancelled.body;
  }
  EXPECT_EQ(Call("DELETE", batches + "/" + id).status, 204);
  EXPECT_EQ(Call("GET", batches + "/" + id).status, 404);
}

// A server on `options` with namespace "team" and its bucket "photos" (nothing when it did not
// start: the caller checks its port).
std::unique_ptr<TestServer> StartWithPhotos(const TestServer::Options& options) {
  auto server = TestServer::Start(options);
  if (server->port() <= 0) return server;
  EXPECT_EQ(server->Call("POST", "/v1/namespaces", server->admin_key(), {{"name", "team"}}).status,
            201);
  EXPECT_EQ(server
                ->Call("POST", "/v1/buckets", server->admin_key(), {{"name", "photos"}},
                       {{"X-Namespace", "team"}})
                .status,
            201);
  return server;
}

// Kill -9 in the middle of a batch, restart on the same data: the batch completes, every object
// has exactly one whole-item document, and every document its vector.
TEST(CollectionCrashTest, ABatchKilledHalfWayCompletesAfterARestartWithoutDuplicates) {
  const std::string dir = NewTempDir("batch-crash");
  TestServer::Options options{.env = {"ARGUS_INFERENCE_PRELOAD=true"}, .data_dir = dir};
  auto server = StartWithPhotos(options);
  ASSERT_GT(server->port(), 0) << server->Log();
  auto call = [&](const std::string& method, const std::string& path, const Json& body = nullptr) {
    return server->Call(method, path, server->admin_key(), body, {{"X-Namespace", "team"}});
  };
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  std::set<std::string> keys;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    const std::string ext = entry.path().extension().string();
    if ((ext != ".jpg" && ext != ".png") || keys.size() >= 60) continue;
    const std::string key = entry.path().filename().string();
    auto r = Request(server->port(), "PUT", "/v1/buckets/photos/objects/" + key,
                     {{"Authorization", "Bearer " + server->admin_key()}, {"X-Namespace", "team"}},
                     ReadFile(entry.path().string()));
    ASSERT_EQ(r.status, 201) << r.body;
    keys.insert(key);
  }
  ASSERT_EQ(call("POST", "/v1/collections",
                 {{"name", "scenes"},
                  {"source", {{"bucket", "photos"}}},
                  {"extractors", {{{"name", "image_embedding"}}, {{"name", "image_properties"}}}},
                  {"auto_process", false}})
                .status,
            201);
  auto draft = call("POST", "/v1/buckets/photos/batches", Json::object());
  ASSERT_EQ(draft.status, 201) << draft.body;
  const std::string path = "/v1/buckets/photos/batches/" + draft.json()["id"].get<std::string>();
  ASSERT_EQ(call("POST", path + "/submit", Json::object()).status, 202);
  int64_t done_before = 0;
  for (int i = 0; i < 2000; ++i) {  // until some, not all, are done
    const Json tiers = call("GET", path).json()["tiers"];
    done_before = tiers.empty() ? 0 : tiers[0].value("succeeded", 0);
    if (done_before >= 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LT(done_before, 60) << "the kill lands in the middle of the batch";
  EXPECT_EQ(server->Stop(SIGKILL), 128 + SIGKILL);
  server = TestServer::Start(options);
  ASSERT_GT(server->port(), 0) << server->Log();
  Json batch;
  for (int i = 0; i < 1200; ++i) {
    batch = call("GET", path).json();
    if (batch["status"] == "completed" || batch["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(batch["status"], "completed") << batch;
  EXPECT_EQ(batch["tiers"][0]["succeeded"], 60) << batch;
  std::multiset<std::string> documented;
  std::string cursor;
  for (;;) {
    auto page = call("GET", "/v1/collections/scenes/documents?limit=50&include_vectors=true" +
                                (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)));
    ASSERT_EQ(page.status, 200) << page.body;
    const Json body = page.json();
    for (const auto& d : body["items"]) {
      documented.insert(d["payload"]["key"].get<std::string>());
      EXPECT_EQ(d["vectors"]["image_embedding@2/embedding"].size(), 1280u) << d["payload"]["key"];
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  EXPECT_EQ(documented, std::multiset<std::string>(keys.begin(), keys.end()))
      << "one document per object: none lost, none twice";
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The vector index is saved to a file under the data directory when the server stops, opened
// from it on the next start (before any search), and removed with its collection.
TEST(VectorIndexFileTest, SavedOnStopReopenedOnStartRemovedWithTheCollection) {
  const std::string dir = NewTempDir("index-file");
  TestServer::Options options{.data_dir = dir};
  auto server = StartWithPhotos(options);
  ASSERT_GT(server->port(), 0) << server->Log();
  auto call = [&](const std::string& method, const std::string& path, const Json& body = nullptr) {
    return server->Call(method, path, server->admin_key(), body, {{"X-Namespace", "team"}});
  };
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  for (const char* key : {"messi5.jpg", "baboon.jpg", "home.jpg", "fruits.jpg"}) {
    auto r = Request(server->port(), "PUT", std::string("/v1/buckets/photos/objects/") + key,
                     {{"Authorization", "Bearer " + server->admin_key()}, {"X-Namespace", "team"}},
                     ReadFile(data + key));
    ASSERT_EQ(r.status, 201) << r.body;
  }
  auto created = call("POST", "/v1/collections",
                      {{"name", "scenes"},
                       {"source", {{"bucket", "photos"}}},
                       {"extractors", {{{"name", "image_embedding"}}}},
                       {"auto_process", false}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string collection_id = created.json()["id"];
  auto draft = call("POST", "/v1/buckets/photos/batches", Json::object());
  ASSERT_EQ(draft.status, 201) << draft.body;
  const std::string batch = "/v1/buckets/photos/batches/" + draft.json()["id"].get<std::string>();
  auto submitted = server->Call("POST", batch + "/submit", server->admin_key(), Json::object(),
                                {{"X-Namespace", "team"}, {"Prefer", "wait=60"}});
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  ASSERT_EQ(submitted.json()["status"], "completed") << submitted.body;
  const Json by_object = {{"object", {{"bucket", "photos"}, {"key", "messi5.jpg"}}}, {"limit", 4}};
  auto first = call("POST", "/v1/collections/scenes/search", by_object);
  ASSERT_EQ(first.status, 200) << first.body;
  const Json first_items = first.json()["items"];
  ASSERT_EQ(first_items.size(), 4u) << first.body;
  EXPECT_EQ(first_items[0]["document"]["payload"]["key"], "messi5.jpg");
  const Json built = call("GET", "/v1/collections/scenes/features").json()["items"][0];
  EXPECT_EQ(built["index"]["vectors"], 4) << built;
  EXPECT_EQ(built["index"]["opened_from"], "vectors") << built;

  EXPECT_EQ(server->Stop(SIGTERM), 0);
  const std::string folder = dir + "/indexes/" + collection_id;
  ASSERT_TRUE(std::filesystem::exists(folder + "/image_embedding%402%2Fembedding.index"));
  ASSERT_TRUE(
      std::filesystem::exists(folder + "/image_embedding%402%2Fembedding.index.state.json"));

  server = TestServer::Start(options);
  ASSERT_GT(server->port(), 0) << server->Log();
  Json reopened;
  for (int i = 0; i < 500 && !reopened.contains("index"); ++i) {
    reopened = call("GET", "/v1/collections/scenes/features").json()["items"][0];
    if (!reopened.contains("index")) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(reopened.contains("index")) << "opened at start, before any search: " << reopened;
  EXPECT_EQ(reopened["index"]["opened_from"], "file") << reopened;
  EXPECT_EQ(reopened["index"]["vectors"], 4) << reopened;
  EXPECT_EQ(reopened["index"]["saved_seq"], reopened["index"]["seq"]) << reopened;
  const std::string metrics = Request(server->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("argus_vector_index_vectors{collection_id=\"" + collection_id +
                         "\",feature=\"image_embedding@2/embedding\"} 4"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("argus_vector_index_unsaved{collection_id=\"" + collection_id +
                         "\",feature=\"image_embedding@2/embedding\"} 0"),
            std::string::npos);
  // By the document (the model may still be loading after the restart).
  auto again = call("POST", "/v1/collections/scenes/search",
                    {{"document_id", first_items[0]["document"]["id"]}, {"limit", 4}});
  ASSERT_EQ(again.status, 200) << again.body;
  ASSERT_EQ(again.json()["items"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(again.json()["items"][i]["document"]["id"], first_items[i]["document"]["id"]);
  }

  ASSERT_EQ(call("DELETE", "/v1/collections/scenes").status, 204);
  EXPECT_FALSE(std::filesystem::exists(folder)) << "the index files go with the collection";
  server.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace argus::testing
