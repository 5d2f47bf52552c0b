// The MetadataStore conformance suite, continued: collections (src/store/collection_store.h). The
// fixture and the instantiation over the backends are those of metadata_store_contract_test.{h,cc}.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/id.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class CollectionContract : public MetadataStoreContractTest {
 protected:
  Collection NewCollection(const Bucket& source, const std::string& name) {
    clock_.AdvanceUs(1000);
    Collection c;
    c.id = NewId(clock_);
    c.namespace_id = source.namespace_id;
    c.name = name;
    c.description = "about " + name;
    c.source_bucket_id = source.id;
    c.extractors = {{.name = "image_embedding", .version = "2"},
                    {.name = "object_detection",
                     .version = "1",
                     .params = {{"score_threshold", 0.4}},
                     .input_mappings = {{"image", "source"}}}};
    c.field_passthrough = {"metadata.camera"};
    c.payload_indexes = {{.field = "label", .type = FieldType::kKeyword},
                         {.field = "metadata.taken_at", .type = FieldType::kDatetime}};
    c.auto_process = true;
    c.created_at = clock_.NowUs();
    c.updated_at = clock_.NowUs() + 1;
    return c;
  }

  Collection Tier2(const Collection& parent, const std::string& name) {
    clock_.AdvanceUs(1000);
    Collection c;
    c.id = NewId(clock_);
    c.namespace_id = parent.namespace_id;
    c.name = name;
    c.source_collection_id = parent.id;
    c.extractors = {{.name = "face_embedding", .version = "1"}};
    c.created_at = c.updated_at = clock_.NowUs();
    return c;
  }

  Collection MustCreate(const Collection& c) {
    auto created = store_->CreateCollection(c);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : c;
  }
  using MetadataStoreContractTest::MustCreate;
};

TEST_P(CollectionContract, ACreatedCollectionReadsBackWholeByNameAndById) {
  Bucket photos = MustCreateBucket("photos");
  Collection want = NewCollection(photos, "scenes");
  Collection got = MustCreate(want);
  for (const Collection& c : {got, *store_->GetCollection(photos.namespace_id, "scenes"),
                              *store_->GetCollectionById(want.id)}) {
    EXPECT_EQ(c.id, want.id);
    EXPECT_EQ(c.namespace_id, want.namespace_id);
    EXPECT_EQ(c.name, "scenes");
    EXPECT_EQ(c.description, "about scenes");
    EXPECT_EQ(c.source_bucket_id, photos.id);
    EXPECT_EQ(c.source_collection_id, "");
    EXPECT_EQ(c.source_name, "photos");
    ASSERT_EQ(c.extractors.size(), 2u);
    EXPECT_EQ(c.extractors[1].name, "object_detection");
    EXPECT_EQ(c.extractors[1].version, "1");
    EXPECT_EQ(c.extractors[1].params, Json({{"score_threshold", 0.4}}));
    EXPECT_EQ(c.extractors[1].input_mappings, Json({{"image", "source"}}));
    EXPECT_THAT(c.field_passthrough, ElementsAre("metadata.camera"));
    ASSERT_EQ(c.payload_indexes.size(), 2u);
    EXPECT_EQ(c.payload_indexes[1].field, "metadata.taken_at");
    EXPECT_EQ(c.payload_indexes[1].type, FieldType::kDatetime);
    EXPECT_TRUE(c.auto_process);
    EXPECT_EQ(c.generation, 1);
    EXPECT_EQ(c.created_at, want.created_at);
    EXPECT_EQ(c.updated_at, want.updated_at);
  }
  ReopenStore();
  EXPECT_EQ(store_->GetCollection(photos.namespace_id, "scenes")->extractors.size(), 2u);
}

TEST_P(CollectionContract, NamesAreUniquePerNamespaceAndSourcesMustBeThere) {
  Bucket a = MustCreateBucket("photos");
  Bucket b = MustCreateBucket("photos");  // another namespace
  MustCreate(NewCollection(a, "scenes"));
  auto twice = store_->CreateCollection(NewCollection(a, "scenes"));
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("scenes"));
  MustCreate(NewCollection(b, "scenes"));  // the same name elsewhere

  Collection foreign = NewCollection(a, "foreign");
  foreign.namespace_id = b.namespace_id;  // a's bucket seen from b's namespace
  EXPECT_EQ(store_->CreateCollection(foreign).status().code(), StatusCode::kNotFound);
  Collection none = NewCollection(a, "none");
  none.source_bucket_id.clear();
  EXPECT_EQ(store_->CreateCollection(none).status().code(), StatusCode::kInvalidArgument);
  Collection both = NewCollection(a, "both");
  both.source_collection_id = both.id;
  EXPECT_EQ(store_->CreateCollection(both).status().code(), StatusCode::kInvalidArgument);
  Collection self = NewCollection(a, "self");
  self.source_bucket_id.clear();
  self.source_collection_id = self.id;
  EXPECT_EQ(store_->CreateCollection(self).status().code(), StatusCode::kInvalidArgument);
  Collection ghost = Tier2(NewCollection(a, "never-made"), "ghost");
  EXPECT_EQ(store_->CreateCollection(ghost).status().code(), StatusCode::kNotFound);
}

TEST_P(CollectionContract, TiersNameTheirSourceAndAreFoundFromIt) {
  Bucket photos = MustCreateBucket("photos");
  Collection faces = MustCreate(NewCollection(photos, "faces"));
  Collection scenes = MustCreate(NewCollection(photos, "scenes"));
  Collection people = MustCreate(Tier2(faces, "people"));
  EXPECT_EQ(people.source_collection_id, faces.id);
  EXPECT_EQ(people.source_bucket_id, "");
  EXPECT_EQ(people.source_name, "faces");
  auto tier1 = store_->CollectionsOfSource(photos.id, false);
  ASSERT_TRUE(tier1.ok()) << tier1.status().ToString();
  ASSERT_EQ(tier1->size(), 2u);
  EXPECT_EQ((*tier1)[0].name, "faces");
  EXPECT_EQ((*tier1)[1].name, "scenes");
  auto tier2 = store_->CollectionsOfSource(faces.id, true);
  ASSERT_TRUE(tier2.ok());
  ASSERT_EQ(tier2->size(), 1u);
  EXPECT_EQ((*tier2)[0].name, "people");
  EXPECT_THAT(*store_->CollectionsOfSource(scenes.id, true), IsEmpty());
}

TEST_P(CollectionContract, ListingPagesInCreationOrderWithinTheNamespace) {
  Bucket photos = MustCreateBucket("photos");
  Bucket elsewhere = MustCreateBucket("photos");
  std::vector<std::string> ids;
  for (const char* name : {"c0", "c1", "c2", "c3", "c4"}) {
    ids.push_back(MustCreate(NewCollection(photos, name)).id);
  }
  MustCreate(NewCollection(elsewhere, "other"));
  EXPECT_EQ(WalkPages(2,
                      [&](const PageRequest& req) {
                        return store_->ListCollections(photos.namespace_id, req);
                      }),
            ids);
  EXPECT_EQ(store_->ListCollections(photos.namespace_id, {.limit = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(CollectionContract, AnUpdateChangesWhatItSetsAndNewExtractorsBumpTheGeneration) {
  Bucket photos = MustCreateBucket("photos");
  Collection c = MustCreate(NewCollection(photos, "scenes"));
  clock_.AdvanceUs(5000);
  auto described =
      store_->UpdateCollection(photos.namespace_id, "scenes",
                               {.description = "new words", .auto_process = false}, clock_.NowUs());
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->description, "new words");
  EXPECT_FALSE(described->auto_process);
  EXPECT_EQ(described->extractors.size(), 2u) << "unset fields stay";
  EXPECT_EQ(described->generation, 1);
  EXPECT_EQ(described->updated_at, clock_.NowUs());
  EXPECT_EQ(described->created_at, c.created_at);
  auto reextract = store_->UpdateCollection(
      photos.namespace_id, "scenes",
      {.extractors = std::vector<CollectionExtractor>{{.name = "image_embedding", .version = "3"}},
       .field_passthrough = std::vector<std::string>{},
       .payload_indexes = std::vector<PayloadIndex>{{.field = "n", .type = FieldType::kInteger}}},
      clock_.NowUs());
  ASSERT_TRUE(reextract.ok()) << reextract.status().ToString();
  EXPECT_EQ(reextract->generation, 2);
  ASSERT_EQ(reextract->extractors.size(), 1u);
  EXPECT_EQ(reextract->extractors[0].version, "3");
  EXPECT_THAT(reextract->field_passthrough, IsEmpty());
  ASSERT_EQ(reextract->payload_indexes.size(), 1u);
  EXPECT_EQ(reextract->payload_indexes[0].type, FieldType::kInteger);
  EXPECT_EQ(reextract->description, "new words");
  EXPECT_EQ(store_->UpdateCollection(photos.namespace_id, "nope", {}, 0).status().code(),
            StatusCode::kNotFound);
}

TEST_P(CollectionContract, ASourceInUseCannotBeDeletedAndANamespaceTakesAllWithIt) {
  Bucket photos = MustCreateBucket("photos");
  Collection faces = MustCreate(NewCollection(photos, "faces"));
  MustCreate(Tier2(faces, "people"));
  Status parent = store_->DeleteCollection(photos.namespace_id, "faces");
  EXPECT_EQ(parent.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(parent.message()), HasSubstr("'people'"));
  Status bucket = store_->DeleteBucket(photos.namespace_id, "photos", true);
  EXPECT_EQ(bucket.code(), StatusCode::kFailedPrecondition) << bucket.ToString();
  EXPECT_THAT(std::string(bucket.message()), HasSubstr("'faces'"));
  EXPECT_TRUE(store_->GetBucket(photos.namespace_id, "photos").ok());

  ASSERT_TRUE(store_->DeleteCollection(photos.namespace_id, "people").ok());
  ASSERT_TRUE(store_->DeleteCollection(photos.namespace_id, "faces").ok());
  EXPECT_EQ(store_->DeleteCollection(photos.namespace_id, "faces").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetCollectionById(faces.id).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteBucket(photos.namespace_id, "photos", true).ok());

  Bucket again = MustCreateBucket("photos");
  Collection scenes = MustCreate(NewCollection(again, "scenes"));
  MustCreate(Tier2(scenes, "detail"));
  ASSERT_TRUE(store_->DeleteNamespace(again.namespace_id).ok());
  EXPECT_EQ(store_->GetCollectionById(scenes.id).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(*store_->CollectionsOfSource(again.id, false), IsEmpty());
}

// The backends of metadata_store_contract_test.cc's list.
INSTANTIATE_TEST_SUITE_P(Backends, CollectionContract, testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace argus::store
