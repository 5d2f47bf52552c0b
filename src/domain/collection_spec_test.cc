#include "domain/collection_spec.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.h"
#include "core/id.h"
#include "store/sqlite/register.h"

namespace argus::domain {
namespace {

// The extractor catalog a definition is checked against: three extractors as the runtime lists
// them (an image embedding per object, face regions, face embeddings per region), with a
// validator beyond the schema. Running them is not this test's business.
class Catalog final : public store::InferenceService {
 public:
  std::vector<store::InferenceTarget> Targets() const override {
    auto target = [](std::string name, std::string version, std::string granularity, Json vectors) {
      store::InferenceTarget t;
      t.name = std::move(name);
      t.version = std::move(version);
      t.kind = "extractor";
      t.details = {{"granularity", granularity}, {"vectors", std::move(vectors)}};
      return t;
    };
    store::InferenceTarget model;
    model.name = "mobilenet_v2";
    model.kind = "model";
    return {target("image_embedding", "2", "object",
                   Json::parse(R"([{"output":"embedding","dimension":1280,"metric":"cosine"}])")),
            target("face_detection", "1", "region", Json::array()),
            target("face_embedding", "1", "region",
                   Json::parse(R"([{"output":"embedding","dimension":1024,"metric":"cosine"}])")),
            target("color_histogram", "1", "object",
                   Json::parse(R"([{"output":"histogram","dimension":48,"metric":"l2"}])")),
            model};
  }
  Status ValidateParams(std::string_view name, const Json& params) const override {
    if (params.value("score_threshold", 0.0) > 1) {
      return InvalidArgumentError("parameters: score_threshold must be at most 1");
    }
    return OkStatus();
  }
  Result<Json> Infer(const store::InferenceRequest&) override {
    return UnimplementedError("catalog only");
  }
  void InferAsync(store::InferenceRequest, std::function<void(Result<Json>)> done) override {
    done(UnimplementedError("catalog only"));
  }
  bool Warm() const override { return true; }
};

class CollectionSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/spec_" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    auto metadata = registry_.metadata.Create("sqlite", {&config_, dir_});
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
    ctx_ = {.buckets = metadata_.get(), .collections = metadata_.get(), .inference = &catalog_};
    ns_ = *metadata_->CreateNamespace({.id = NewId(), .name = "team"});
    ASSERT_TRUE(
        metadata_->CreateBucket({.id = NewId(), .namespace_id = ns_.id, .name = "photos"}).ok());
  }
  void TearDown() override {
    metadata_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<store::Collection> Spec(const Json& body) {
    return CollectionFromSpec(ctx_, ns_.id, body);
  }
  std::string Error(const Json& body) {
    auto c = Spec(body);
    EXPECT_FALSE(c.ok()) << body.dump();
    return c.ok() ? "" : std::string(c.status().message());
  }
  store::Collection Create(const Json& body) {
    auto c = Spec(body);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    store::Collection made = *c;
    made.id = NewId();
    auto created = metadata_->CreateCollection(made);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return *created;
  }

  std::string dir_;
  Config config_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::MetadataStore> metadata_;
  Catalog catalog_;
  CollectionSpecContext ctx_;
  store::Namespace ns_;
};

TEST_F(CollectionSpecTest, AFullDefinitionBecomesTheRecordWithDefaultsFilledIn) {
  auto c = Spec({{"name", "scenes"},
                 {"description", "what is in the photos"},
                 {"source", {{"bucket", "photos"}}},
                 {"extractors",
                  {{{"name", "image_embedding"}},
                   {{"name", "face_detection"},
                    {"version", 1},
                    {"params", {{"score_threshold", 0.5}}},
                    {"input_mappings", {{"image", "source"}}}}}},
                 {"field_passthrough", {"metadata.camera"}},
                 {"payload_indexes", {{{"field", "label"}, {"type", "keyword"}}}}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "scenes");
  EXPECT_EQ(c->source_name, "photos");
  EXPECT_FALSE(c->source_bucket_id.empty());
  ASSERT_EQ(c->extractors.size(), 2u);
  EXPECT_EQ(c->extractors[0].version, "2") << "the registered version by default";
  EXPECT_EQ(c->extractors[1].version, "1");
  EXPECT_EQ(c->extractors[1].params["score_threshold"], 0.5);
  EXPECT_TRUE(c->auto_process) << "on by default";
  ASSERT_EQ(c->payload_indexes.size(), 1u);
  EXPECT_EQ(c->payload_indexes[0].type, store::FieldType::kKeyword);
}

TEST_F(CollectionSpecTest, MistakesNameTheFieldPathAndTheFix) {
  const Json ok_source = {{"bucket", "photos"}};
  const Json one = Json::array({{{"name", "image_embedding"}}});
  auto with = [&](std::string key, Json value) {
    Json body = {{"name", "c"}, {"source", ok_source}, {"extractors", one}};
    body[key] = std::move(value);
    return body;
  };
  EXPECT_NE(Error(with("name", "Bad Name")).find("name: 1-63 lowercase"), std::string::npos);
  EXPECT_NE(Error(with("source", {{"bucket", "photos"}, {"collection", "x"}})).find("source: give"),
            std::string::npos);
  EXPECT_EQ(Spec(with("source", {{"bucket", "nope"}})).status().code(), StatusCode::kNotFound);
  EXPECT_NE(Error(with("extractors", Json::array())).find("extractors: give a non-empty array"),
            std::string::npos);
  std::string unknown = Error(with("extractors", {{{"name", "clip"}}}));
  EXPECT_NE(unknown.find("extractors[0].name: no extractor 'clip'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("image_embedding, face_detection, face_embedding"), std::string::npos)
      << "lists what there is, not the raw models";
  EXPECT_NE(Error(with("extractors", {{{"name", "image_embedding"}, {"version", "1"}}}))
                .find("extractors[0].version: extractor 'image_embedding' runs version 2 here"),
            std::string::npos);
  EXPECT_NE(Error(with("extractors",
                       {{{"name", "face_detection"}, {"params", {{"score_threshold", 7}}}}}))
                .find("extractors[0].params: parameters: score_threshold must be at most 1"),
            std::string::npos);
  EXPECT_NE(
      Error(with("extractors", {{{"name", "image_embedding"}}, {{"name", "image_embedding"}}}))
          .find("extractors[1].name: extractor 'image_embedding' is listed twice"),
      std::string::npos);
  EXPECT_NE(Error(with("extractors", {{{"name", "image_embedding"}, {"colour", 1}}}))
                .find("extractors[0].colour: unknown field"),
            std::string::npos);
  EXPECT_NE(Error(with("extractors",
                       {{{"name", "image_embedding"}, {"input_mappings", {{"audio", "source"}}}}}))
                .find("input_mappings.audio"),
            std::string::npos);
  EXPECT_NE(Error(with("payload_indexes", {{{"field", "label"}, {"type", "text"}}}))
                .find("payload_indexes[0].type: unknown field type 'text'"),
            std::string::npos);
  EXPECT_NE(Error(with("payload_indexes",
                       {{{"field", "a"}, {"type", "bool"}}, {{"field", "a"}, {"type", "bool"}}}))
                .find("payload_indexes[1].field: 'a' is indexed twice"),
            std::string::npos);
  EXPECT_NE(Error(with("field_passthrough", {"metadata..camera"})).find("field_passthrough[0]"),
            std::string::npos);
  EXPECT_NE(Error(with("auto_process", "yes")).find("auto_process"), std::string::npos);
  EXPECT_NE(Error(with("colour", "red")).find("colour: unknown field"), std::string::npos);
}

TEST_F(CollectionSpecTest, ALaterTierNeedsAParentThatYieldsRegions) {
  store::Collection faces = Create({{"name", "faces"},
                                    {"source", {{"bucket", "photos"}}},
                                    {"extractors", {{{"name", "face_detection"}}}}});
  Create({{"name", "scenes"},
          {"source", {{"bucket", "photos"}}},
          {"extractors", {{{"name", "image_embedding"}}}}});
  auto people = Spec({{"name", "people"},
                      {"source", {{"collection", "faces"}}},
                      {"extractors", {{{"name", "face_embedding"}}}}});
  ASSERT_TRUE(people.ok()) << people.status().ToString();
  EXPECT_EQ(people->source_collection_id, faces.id);
  EXPECT_NE(Error({{"name", "on-scenes"},
                   {"source", {{"collection", "scenes"}}},
                   {"extractors", {{{"name", "face_embedding"}}}}})
                .find("source.collection: collection 'scenes' makes one document per object"),
            std::string::npos);
  EXPECT_NE(Error({{"name", "loop"},
                   {"source", {{"collection", "loop"}}},
                   {"extractors", {{{"name", "face_embedding"}}}}})
                .find("cannot be its own source"),
            std::string::npos);
  // Once a tier runs on it, the parent keeps a region extractor.
  store::Collection made = *people;
  made.id = NewId();
  ASSERT_TRUE(metadata_->CreateCollection(made).ok());
  auto drop =
      CollectionUpdateFromSpec(ctx_, faces, {{"extractors", {{{"name", "image_embedding"}}}}});
  EXPECT_EQ(drop.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(drop.status().message().find("'people' runs on this collection's regions"),
            std::string_view::npos);
}

TEST_F(CollectionSpecTest, AnUpdateTakesWhatMayChange) {
  store::Collection c = Create({{"name", "scenes"},
                                {"source", {{"bucket", "photos"}}},
                                {"extractors", {{{"name", "image_embedding"}}}}});
  auto u = CollectionUpdateFromSpec(ctx_, c, {{"description", "d"}, {"auto_process", false}});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->description, "d");
  EXPECT_EQ(u->auto_process, false);
  EXPECT_FALSE(u->extractors.has_value());
  for (const char* fixed : {"name", "source"}) {
    auto bad = CollectionUpdateFromSpec(ctx_, c, {{fixed, "x"}});
    EXPECT_NE(bad.status().message().find("never changes"), std::string_view::npos) << fixed;
  }
}

TEST_F(CollectionSpecTest, FeaturesAndSignatures) {
  store::Collection c = Create({{"name", "scenes"},
                                {"source", {{"bucket", "photos"}}},
                                {"extractors",
                                 {{{"name", "image_embedding"}},
                                  {{"name", "face_detection"}},
                                  {{"name", "face_embedding"}}}}});
  auto features = FeaturesOf(c, catalog_.Targets());
  ASSERT_EQ(features.size(), 2u);
  EXPECT_EQ(features[0].address, "image_embedding@2/embedding");
  EXPECT_EQ(features[0].dimension, 1280);
  EXPECT_EQ(features[0].granularity, "object");
  EXPECT_EQ(features[1].address, "face_embedding@1/embedding");
  EXPECT_EQ(features[1].granularity, "region");
  auto parsed = ParseFeatureAddress("image_embedding@2/embedding", "feature");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->extractor, "image_embedding");
  EXPECT_EQ(parsed->version, "2");
  EXPECT_EQ(parsed->output, "embedding");
  for (const char* bad : {"image_embedding", "image_embedding@2", "@2/x", "a@/x", "a@2/"}) {
    EXPECT_EQ(ParseFeatureAddress(bad, "feature").status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  const std::string before = IndexSignature(c);
  EXPECT_EQ(before.size(), 32u);
  EXPECT_EQ(IndexSignature(c), before);
  c.generation++;
  EXPECT_NE(IndexSignature(c), before);
}

TEST_F(CollectionSpecTest, VectorStorageIsChosenPerExtractorAndChecked) {
  store::Collection c = Create({{"name", "scenes"},
                                {"source", {{"bucket", "photos"}}},
                                {"extractors",
                                 {{{"name", "image_embedding"}, {"vector_storage", "i8"}},
                                  {{"name", "color_histogram"}, {"vector_storage", "f16"}},
                                  {{"name", "face_detection"}}}}});
  ASSERT_EQ(c.extractors.size(), 3u);
  EXPECT_EQ(c.extractors[0].vector_storage, store::VectorStorage::kI8);
  EXPECT_EQ(c.extractors[1].vector_storage, store::VectorStorage::kF16);
  EXPECT_EQ(c.extractors[2].vector_storage, store::VectorStorage::kF32);
  // Stored and read back.
  auto stored = metadata_->GetCollection(ns_.id, "scenes");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->extractors[0].vector_storage, store::VectorStorage::kI8);
  const auto features = FeaturesOf(*stored, catalog_.Targets());
  ASSERT_EQ(features.size(), 2u);
  EXPECT_EQ(features[0].storage, "i8");
  EXPECT_EQ(features[1].storage, "f16");

  auto with = [](Json extractor) {
    return Json{{"name", "other"}, {"source", {{"bucket", "photos"}}}, {"extractors", {extractor}}};
  };
  const std::string unknown = Error(with({{"name", "image_embedding"}, {"vector_storage", "f8"}}));
  EXPECT_NE(unknown.find("extractors[0].vector_storage: f32, f16 or i8"), std::string::npos)
      << unknown;
  const std::string l2 = Error(with({{"name", "color_histogram"}, {"vector_storage", "i8"}}));
  EXPECT_NE(l2.find("i8 is for cosine vectors; 'color_histogram/histogram' is l2: use f16"),
            std::string::npos)
      << l2;
  const std::string none = Error(with({{"name", "face_detection"}, {"vector_storage", "f16"}}));
  EXPECT_NE(none.find("extractor 'face_detection' makes no vectors to store"), std::string::npos)
      << none;
}

}  // namespace
}  // namespace argus::domain
