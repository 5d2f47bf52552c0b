#include "domain/document_builder.h"

#include <gtest/gtest.h>

namespace argus::domain {
namespace {

store::InferenceTarget Target(std::string name, std::string granularity, Json more = {}) {
  store::InferenceTarget t;
  t.name = std::move(name);
  t.version = "1";
  t.kind = "extractor";
  t.details = {{"granularity", granularity}};
  for (auto& [k, v] : more.items()) t.details[k] = v;
  return t;
}

class DocumentBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    collection_.id = "c1";
    collection_.namespace_id = "n1";
    collection_.field_passthrough = {"metadata.camera", "metadata.missing"};
    source_.object.id = "o1";
    source_.object.key = "2024/messi.jpg";
    source_.object.media_type = "image/jpeg";
    source_.object.size = 1234;
    source_.object.metadata = {{"camera", "x100"}};
  }
  Result<std::vector<store::Document>> Build(const std::vector<ExtractorAnswer>& answers) {
    return BuildDocuments(collection_, source_, answers,
                          [this] { return "d" + std::to_string(++ids_); });
  }

  ExtractorAnswer Embedding(int dim = 3) {
    return {.name = "image_embedding",
            .version = "2",
            .target = Target("image_embedding", "object",
                             {{"vectors", {{{"output", "embedding"}, {"dimension", 3}}}}}),
            .output = {{"embedding", Json(std::vector<float>(dim, 0.5f))}, {"model", "m@1"}}};
  }
  ExtractorAnswer Detections() {
    return {.name = "object_detection",
            .version = "1",
            .target = Target("object_detection", "region",
                             {{"regions_field", "detections"}, {"text_fields", {"label"}}}),
            .output = {{"detections",
                        {{{"label", "person"}, {"score", 0.9}, {"box", {10, 20, 30, 40}}},
                         {{"label", "sports ball"}, {"score", 0.7}, {"box", {1, 2, 3, 4}}},
                         {{"label", "person"}, {"score", 0.6}, {"box", {5, 6, 7, 8}}}}},
                       {"width", 640}}};
  }
  ExtractorAnswer Ocr() {
    return {.name = "ocr",
            .version = "1",
            .target = Target("ocr", "object", {{"text_fields", {"text"}}}),
            .output = {{"text", "GOAL 2024"}, {"lines", Json::array()}}};
  }

  store::Collection collection_;
  DocumentSource source_;
  int ids_ = 0;
};

TEST_F(DocumentBuilderTest, TheWholeItemTakesObjectLevelOutputsAndRegionSummaries) {
  auto docs = Build({Embedding(), Detections(), Ocr()});
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 4u) << "the item and its three detections";
  const store::Document& whole = (*docs)[0];
  EXPECT_EQ(whole.unit, "");
  EXPECT_EQ(whole.id, "d1");
  EXPECT_EQ(whole.collection_id, "c1");
  EXPECT_EQ(whole.object_id, "o1");
  EXPECT_EQ(whole.tier, 1);
  EXPECT_TRUE(whole.region.is_null());
  EXPECT_EQ(whole.payload["key"], "2024/messi.jpg");
  EXPECT_EQ(whole.payload["image_embedding"], Json({{"model", "m@1"}})) << "the vector moved out";
  EXPECT_EQ(whole.payload["object_detection"],
            Json({{"count", 3}, {"labels", {"person", "sports ball"}}}));
  EXPECT_EQ(whole.payload["ocr"]["text"], "GOAL 2024");
  EXPECT_EQ(whole.payload["metadata"], Json({{"camera", "x100"}}))
      << "passthrough; a missing field is left out";
  ASSERT_EQ(whole.vectors.size(), 1u);
  EXPECT_EQ(whole.vectors[0].feature, "image_embedding@2/embedding");
  EXPECT_EQ(whole.vectors[0].values, (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(whole.text, "person\nsports ball\nGOAL 2024\nx100");
  EXPECT_EQ(whole.versions,
            Json({{"image_embedding", "2"}, {"object_detection", "1"}, {"ocr", "1"}}));
}

TEST_F(DocumentBuilderTest, EachRegionIsADocumentWithItsBoxAndFields) {
  auto docs = Build({Detections()});
  ASSERT_TRUE(docs.ok());
  const store::Document& ball = (*docs)[2];
  EXPECT_EQ(ball.unit, "object_detection/1");
  EXPECT_EQ(ball.region, Json({{"box", {1, 2, 3, 4}}}));
  EXPECT_EQ(ball.payload["label"], "sports ball");
  EXPECT_EQ(ball.payload["score"], 0.7);
  EXPECT_EQ(ball.payload["extractor"], "object_detection");
  EXPECT_FALSE(ball.payload.contains("box"));
  EXPECT_EQ(ball.payload["metadata"]["camera"], "x100");
  EXPECT_EQ(ball.text, "sports ball\nx100");
  EXPECT_EQ(ball.versions, Json({{"object_detection", "1"}}));
}

TEST_F(DocumentBuilderTest, ALaterTierMovesBoxesIntoTheObjectAndRecordsItsParent) {
  store::Document parent;
  parent.id = "face-7";
  parent.tier = 1;
  parent.payload = {{"label", "face"}, {"score", 0.99}};
  source_.parent = &parent;
  source_.crop_x = 100;
  source_.crop_y = 50;
  collection_.field_passthrough = {"score"};
  Json found = {{"box", {1, 2, 11, 12}}, {"embedding", {0.6, 0.8}}, {"age", 30}};
  Json vectors = Json::array({{{"output", "embedding"}, {"dimension", 2}}});
  ExtractorAnswer faces{.name = "face_embedding",
                        .version = "1",
                        .target = Target("face_embedding", "region",
                                         {{"regions_field", "faces"}, {"vectors", vectors}}),
                        .output = {{"faces", Json::array({found})}}};
  auto docs = Build({faces});
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);
  const store::Document& face = (*docs)[1];
  EXPECT_EQ(face.parent_id, "face-7");
  EXPECT_EQ(face.tier, 2);
  EXPECT_EQ(face.object_id, "o1");
  EXPECT_EQ(face.region, Json({{"box", {101.0, 52.0, 111.0, 62.0}}}));
  EXPECT_EQ(face.payload["score"], 0.99) << "a parent field passed through";
  EXPECT_EQ(face.payload["age"], 30);
  ASSERT_EQ(face.vectors.size(), 1u);
  EXPECT_EQ(face.vectors[0].feature, "face_embedding@1/embedding");
}

TEST_F(DocumentBuilderTest, AnAnswerWithoutItsDeclaredVectorIsAnExtractorBug) {
  auto docs = Build({Embedding(5)});
  EXPECT_EQ(docs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(docs.status().message().find("3-d vector 'embedding'"), std::string_view::npos);
  auto none = Build({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->size(), 1u) << "the item itself is always a document";
}

}  // namespace
}  // namespace argus::domain
