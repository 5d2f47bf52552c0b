// The MetadataStore conformance suite, continued: documents (src/store/document_store.h). The
// fixture is metadata_store_contract_test.h's.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/id.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class DocumentContract : public MetadataStoreContractTest {
 protected:
  void SetUp() override {
    MetadataStoreContractTest::SetUp();
    bucket_ = MustCreateBucket("photos");
    collection_ = MustCreateCollection("scenes", bucket_.id, "", "object_detection");
    object_ = PutObject("a.jpg", 1);
  }

  // A collection of the bucket (tier 1), or of the collection (a later tier).
  Collection MustCreateCollection(const std::string& name, const std::string& bucket_id,
                                  const std::string& collection_id, const std::string& extractor) {
    clock_.AdvanceUs(1000);
    Collection c;
    c.id = NewId(clock_);
    c.namespace_id = bucket_.namespace_id;
    c.name = name;
    c.source_bucket_id = bucket_id;
    c.source_collection_id = collection_id;
    c.extractors = {{.name = extractor, .version = "1"}};
    c.payload_indexes = {{.field = "taken_at", .type = FieldType::kDatetime}};
    auto created = store_->CreateCollection(c);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : c;
  }

  StoredObject PutObject(const std::string& key, int content) {
    StoredObject o = NewObject(bucket_, key, content);
    auto put = store_->PutObject(o, {});
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return o;
  }

  Document Doc(const std::string& unit, const std::string& label, std::vector<float> v = {1, 0}) {
    clock_.AdvanceUs(10);
    Document d;
    d.id = NewId(clock_);
    d.unit = unit;
    d.object_id = object_.id;
    d.region = unit.empty() ? Json(nullptr) : Json{{"box", {1, 2, 3, 4}}};
    d.payload = {{"label", label}, {"score", 0.5}};
    d.versions = {{"object_detection", "1"}};
    d.vectors = {{.feature = "object_detection@1/embedding", .values = std::move(v)}};
    d.text = label + " on the beach";
    return d;
  }

  std::vector<Document> MustReplace(const std::string& source, const std::vector<Document>& docs) {
    clock_.AdvanceUs(1000);
    auto written = store_->ReplaceSourceDocuments(collection_.id, source, docs, clock_.NowUs());
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return written.ok() ? *written : std::vector<Document>{};
  }

  std::vector<VectorChange> Changes(int64_t after = 0) {
    auto changes = store_->VectorChangesSince(collection_.id, after, 1000);
    EXPECT_TRUE(changes.ok()) << changes.status().ToString();
    return changes.ok() ? *changes : std::vector<VectorChange>{};
  }

  std::vector<std::string> Labels(const Filter& filter) {
    std::vector<std::string> out;
    PageRequest page{.limit = 3};
    for (;;) {
      auto listed = store_->ListDocuments(collection_.id, filter, page, false, {});
      EXPECT_TRUE(listed.ok()) << listed.status().ToString();
      if (!listed.ok()) break;
      for (const auto& d : listed->items) out.push_back(d.payload["label"]);
      if (listed->next_after_id.empty()) break;
      page.after_id = listed->next_after_id;
    }
    return out;
  }

  Bucket bucket_;
  Collection collection_;
  StoredObject object_;
};

TEST_P(DocumentContract, ASourcesDocumentsAreWrittenWholeAndReadBack) {
  auto written = MustReplace(object_.id, {Doc("", "scene"), Doc("object_detection/0", "person")});
  ASSERT_EQ(written.size(), 2u);
  EXPECT_GT(written[0].key, 0u);
  EXPECT_NE(written[0].key, written[1].key);
  EXPECT_EQ(written[1].namespace_id, bucket_.namespace_id);
  EXPECT_EQ(written[1].collection_id, collection_.id);
  EXPECT_EQ(written[1].source_id, object_.id);
  auto got = store_->GetDocument(collection_.id, written[1].id, true);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->key, written[1].key);
  EXPECT_EQ(got->unit, "object_detection/0");
  EXPECT_EQ(got->object_id, object_.id);
  EXPECT_EQ(got->region, Json({{"box", {1, 2, 3, 4}}}));
  EXPECT_EQ(got->payload["label"], "person");
  EXPECT_EQ(got->versions, Json({{"object_detection", "1"}}));
  EXPECT_EQ(got->text, "person on the beach");
  ASSERT_EQ(got->vectors.size(), 1u);
  EXPECT_EQ(got->vectors[0].feature, "object_detection@1/embedding");
  EXPECT_THAT(got->vectors[0].values, ElementsAre(1.0f, 0.0f));
  EXPECT_EQ(got->created_at, clock_.NowUs());
  EXPECT_TRUE(store_->GetDocument(collection_.id, written[1].id, false)->vectors.empty());
  auto by_key =
      store_->GetDocumentsByKey(collection_.id, {written[1].key, 999999, written[0].key}, true);
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  ASSERT_EQ(by_key->size(), 2u) << "absent keys are left out";
  EXPECT_EQ((*by_key)[0].id, written[1].id) << "in the order asked";
  EXPECT_EQ((*by_key)[1].vectors.size(), 1u);
  EXPECT_EQ(store_->GetCollectionById(collection_.id)->generation, 2)
      << "a write is a new generation";
  ReopenStore();
  EXPECT_EQ(store_->GetDocument(collection_.id, written[0].id, true)->vectors.size(), 1u);
}

TEST_P(DocumentContract, WritingASourceAgainKeepsIdsAndKeysAndDropsWhatIsGone) {
  auto first = MustReplace(object_.id, {Doc("", "scene"), Doc("object_detection/0", "person"),
                                        Doc("object_detection/1", "dog")});
  const TimestampUs created = first[0].created_at;
  // The same task run again (a retry) with fresh ids: the units keep theirs.
  auto again = MustReplace(
      object_.id, {Doc("", "scene at night", {0, 1}), Doc("object_detection/0", "person")});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].id, first[0].id);
  EXPECT_EQ(again[0].key, first[0].key);
  EXPECT_EQ(again[0].created_at, created);
  EXPECT_EQ(again[0].updated_at, clock_.NowUs());
  EXPECT_EQ(again[1].key, first[1].key);
  EXPECT_EQ(store_->GetDocument(collection_.id, first[2].id, false).status().code(),
            StatusCode::kNotFound)
      << "the unit no longer found is deleted";
  EXPECT_EQ(store_->GetDocument(collection_.id, first[0].id, true)->vectors[0].values,
            (std::vector<float>{0, 1}));
  EXPECT_THAT(Labels({}), ElementsAre("scene at night", "person"));
  // The journal: each vector added, then the rewrite (removed, added again), then the drop.
  std::vector<std::string> journal;
  for (const auto& c : Changes()) {
    journal.push_back(std::to_string(c.key) + (c.removed ? "-" : "+"));
  }
  const std::string k0 = std::to_string(first[0].key), k1 = std::to_string(first[1].key),
                    k2 = std::to_string(first[2].key);
  EXPECT_THAT(journal, ElementsAre(k0 + "+", k1 + "+", k2 + "+", k0 + "-", k0 + "+", k1 + "-",
                                   k1 + "+", k2 + "-"));
  auto tail = Changes(Changes()[4].seq);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[0].key, first[1].key);
  auto vectors = store_->ReadVectors(collection_.id, "object_detection@1/embedding",
                                     {first[0].key, first[2].key, first[1].key});
  ASSERT_TRUE(vectors.ok());
  ASSERT_EQ(vectors->size(), 2u) << "absent keys are left out";
  EXPECT_EQ((*vectors)[0].first, first[0].key);
  EXPECT_EQ((*vectors)[1].first, first[1].key);
}

TEST_P(DocumentContract, FiltersSelectDocumentsAndTheirKeysPageByPage) {
  std::vector<Document> docs;
  for (int i = 0; i < 10; ++i) {
    Document d = Doc("object_detection/" + std::to_string(i), i % 3 == 0 ? "person" : "dog");
    d.payload["n"] = i;
    d.payload["taken_at"] = i < 5 ? "2026-01-01T00:00:00Z" : "2026-06-01T12:00:00+02:00";
    docs.push_back(std::move(d));
  }
  auto written = MustReplace(object_.id, docs);
  auto person = ParseFilter({{"label", "person"}});
  ASSERT_TRUE(person.ok());
  EXPECT_THAT(Labels(*person), ElementsAre("person", "person", "person", "person"));
  EXPECT_EQ(Labels({}).size(), 10u) << "every page, in key order";
  auto late = ParseFilter({{"taken_at", {{"gt", "2026-06-01T09:00:00Z"}}}, {"n", {{"lt", 8}}}},
                          {{"taken_at", FieldType::kDatetime}});
  ASSERT_TRUE(late.ok());
  auto keys = store_->MatchingKeys(collection_.id, *late);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_THAT(*keys, ElementsAre(written[5].key, written[6].key, written[7].key))
      << "datetimes compare as instants (the collection indexes taken_at as datetime)";
  auto lineage = ParseFilter({{"object_id", object_.id}, {"tier", 1}});
  EXPECT_EQ(store_->MatchingKeys(collection_.id, *lineage)->size(), 10u);
  auto bad_cursor =
      store_->ListDocuments(collection_.id, {}, {.after_id = "x", .limit = 5}, false, {});
  EXPECT_EQ(bad_cursor.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(DocumentContract, DocumentsGoWithTheirObjectTheirCollectionOrOnTheirOwn) {
  auto a = MustReplace(object_.id, {Doc("", "a")});
  StoredObject other = PutObject("b.jpg", 2);
  Document b = Doc("", "b");
  b.object_id = other.id;
  auto kept = MustReplace(other.id, {b});
  const int64_t before = Changes().back().seq;
  ASSERT_TRUE(store_->DeleteObject(bucket_.id, "a.jpg").ok());
  EXPECT_EQ(store_->GetDocument(collection_.id, a[0].id, false).status().code(),
            StatusCode::kNotFound);
  auto removed = Changes(before);
  ASSERT_EQ(removed.size(), 1u) << "the cascade is journalled too";
  EXPECT_TRUE(removed[0].removed);
  EXPECT_EQ(removed[0].key, a[0].key);
  EXPECT_TRUE(store_->GetDocument(collection_.id, kept[0].id, false).ok());

  const int64_t generation = store_->GetCollectionById(collection_.id)->generation;
  ASSERT_TRUE(store_->DeleteDocument(collection_.id, kept[0].id).ok());
  EXPECT_EQ(store_->DeleteDocument(collection_.id, kept[0].id).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetCollectionById(collection_.id)->generation, generation + 1);

  Document again = Doc("", "again");
  again.object_id = other.id;
  MustReplace(other.id, {again});
  Document orphan = Doc("", "orphan");  // its object (a.jpg) is gone
  EXPECT_EQ(store_->ReplaceSourceDocuments(collection_.id, "a", {orphan}, 1).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store_->DeleteCollection(bucket_.namespace_id, "scenes").ok());
  EXPECT_THAT(*store_->VectorChangesSince(collection_.id, 0, 100), IsEmpty());
  EXPECT_EQ(
      store_->ReplaceSourceDocuments(collection_.id, other.id, {Doc("", "x")}, 1).status().code(),
      StatusCode::kNotFound);
}

TEST_P(DocumentContract, AListIsOrderedByAFieldWithMissingValuesLastAcrossPages) {
  std::vector<Document> docs;
  const std::vector<std::pair<std::string, Json>> scores = {
      {"a", 0.5}, {"b", 0.9}, {"c", nullptr}, {"d", 0.1}, {"e", 0.9}, {"f", 0.7}, {"g", nullptr}};
  for (size_t i = 0; i < scores.size(); ++i) {
    Document d = Doc("u/" + std::to_string(i), scores[i].first);
    if (scores[i].second.is_null()) {
      d.payload.erase("score");
    } else {
      d.payload["score"] = scores[i].second;
    }
    docs.push_back(d);
  }
  MustReplace(object_.id, docs);
  auto listed = [&](const DocumentOrder& order, const Filter& filter, int limit) {
    std::vector<std::string> out;
    PageRequest page{.limit = limit};
    for (int pages = 0; pages < 20; ++pages) {
      auto got = store_->ListDocuments(collection_.id, filter, page, false, order);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) break;
      for (const auto& d : got->items) out.push_back(d.payload["label"]);
      if (got->next_after_id.empty()) break;
      page.after_id = got->next_after_id;
    }
    return out;
  };
  using Labels = std::vector<std::string>;
  // Ties by key (the order they were written); documents without the field last, by key.
  for (int limit : {1, 2, 3, 100}) {
    EXPECT_EQ(listed({.field = "score"}, {}, limit), (Labels{"d", "a", "f", "b", "e", "c", "g"}))
        << "pages of " << limit;
    EXPECT_EQ(listed({.field = "score", .descending = true}, {}, limit),
              (Labels{"b", "e", "f", "a", "d", "c", "g"}))
        << "pages of " << limit;
  }
  EXPECT_EQ(listed({.field = "label", .descending = true}, {}, 2),
            (Labels{"g", "f", "e", "d", "c", "b", "a"}));
  EXPECT_EQ(listed({.field = "created_at"}, {}, 3).size(), 7u);
  // With a filter: the order holds among the matching documents.
  auto filter = ParseFilter({{"score", {{"gte", 0.5}}}}, {});
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(listed({.field = "score", .descending = true}, *filter, 2),
            (Labels{"b", "e", "f", "a"}));
  // A cursor of another order, or not a cursor at all, is refused; so is a path with quotes.
  auto first = store_->ListDocuments(collection_.id, {}, {.limit = 2}, false, {.field = "score"});
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_after_id.empty());
  EXPECT_EQ(store_
                ->ListDocuments(collection_.id, {}, {.after_id = first->next_after_id, .limit = 2},
                                false, {.field = "label"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_
                ->ListDocuments(collection_.id, {}, {.after_id = "17", .limit = 2}, false,
                                {.field = "score"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ListDocuments(collection_.id, {}, {.limit = 2}, false, {.field = "a\"b"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_P(DocumentContract, TheJournalIsTrimmedThroughASavedSeqAndARebuildScansTheVectors) {
  auto head = store_->VectorJournalHead();
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto written =
      MustReplace(object_.id, {Doc("", "a", {1, 0}), Doc("object_detection/0", "b", {0, 1}),
                               Doc("object_detection/1", "c", {1, 1})});
  ASSERT_EQ(written.size(), 3u);
  const auto changes = Changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(*store_->VectorJournalHead(), changes.back().seq);
  EXPECT_GT(changes.back().seq, *head);

  // Pages of the feature's vectors in key order, from a key on.
  auto first = store_->ScanVectors(collection_.id, "object_detection@1/embedding", 0, 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].first, written[0].key);
  EXPECT_THAT((*first)[0].second, ElementsAre(1.0f, 0.0f));
  auto rest =
      store_->ScanVectors(collection_.id, "object_detection@1/embedding", (*first)[1].first, 2);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].first, written[2].key);
  EXPECT_THAT(*store_->ScanVectors(collection_.id, "other@1/v", 0, 10), IsEmpty());

  // Trimmed through the second change: reading from before it is OutOfRange, after it works.
  ASSERT_TRUE(store_->TrimVectorChanges(collection_.id, changes[1].seq).ok());
  EXPECT_EQ(store_->VectorChangesSince(collection_.id, 0, 100).status().code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(store_->VectorChangesSince(collection_.id, changes[0].seq, 100).status().code(),
            StatusCode::kOutOfRange);
  auto after = store_->VectorChangesSince(collection_.id, changes[1].seq, 100);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].seq, changes[2].seq);
  // A lower trim never lowers the floor; another collection's journal is untouched.
  ASSERT_TRUE(store_->TrimVectorChanges(collection_.id, changes[0].seq).ok());
  EXPECT_EQ(store_->VectorChangesSince(collection_.id, changes[0].seq, 100).status().code(),
            StatusCode::kOutOfRange);
  const Collection other = MustCreateCollection("other", bucket_.id, "", "object_detection");
  EXPECT_TRUE(store_->VectorChangesSince(other.id, 0, 100).ok());
  // The head does not move back when the newest entries are trimmed.
  ASSERT_TRUE(store_->TrimVectorChanges(collection_.id, changes[2].seq).ok());
  EXPECT_EQ(*store_->VectorJournalHead(), changes.back().seq);
  EXPECT_THAT(*store_->VectorChangesSince(collection_.id, changes[2].seq, 100), IsEmpty());

  // A deleted collection's journal and floor go with it (no removals journalled for it).
  ASSERT_TRUE(store_->DeleteCollection(bucket_.namespace_id, "scenes").ok());
  EXPECT_THAT(*store_->VectorChangesSince(collection_.id, 0, 100), IsEmpty());
}

TEST_P(DocumentContract, ALaterTiersDocumentsGoWithTheirParent) {
  const Collection faces = MustCreateCollection("faces", "", collection_.id, "face_embedding");
  auto parents = MustReplace(object_.id, {Doc("", "whole"), Doc("object_detection/0", "person"),
                                          Doc("object_detection/1", "person")});
  ASSERT_EQ(parents.size(), 3u);
  auto of_object = store_->DocumentsOfObject(collection_.id, object_.id, true);
  ASSERT_TRUE(of_object.ok()) << of_object.status().ToString();
  ASSERT_EQ(of_object->size(), 3u);
  EXPECT_EQ((*of_object)[1].vectors.size(), 1u);
  for (size_t i = 1; i < 3; ++i) {
    Document child = Doc("", "face " + std::to_string(i));
    child.parent_id = parents[i].id;
    child.tier = 2;
    clock_.AdvanceUs(1000);
    ASSERT_TRUE(
        store_->ReplaceSourceDocuments(faces.id, parents[i].id, {child}, clock_.NowUs()).ok());
  }
  ASSERT_EQ(store_->DocumentsOfObject(faces.id, object_.id, false)->size(), 2u);
  const int64_t generation = store_->GetCollectionById(faces.id)->generation;
  // The parent's object now has one person: the other person's face goes with it.
  MustReplace(object_.id, {Doc("", "whole"), Doc("object_detection/0", "person")});
  auto left = store_->DocumentsOfObject(faces.id, object_.id, false);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].parent_id, parents[1].id);
  EXPECT_GT(store_->GetCollectionById(faces.id)->generation, generation)
      << "a removal by cascade changes the later tier's index signature too";
  ASSERT_TRUE(store_->DeleteDocument(collection_.id, parents[1].id).ok());
  EXPECT_THAT(*store_->DocumentsOfObject(faces.id, object_.id, false), IsEmpty());
}

TEST_P(DocumentContract, TextSearchRanksByBm25WithinTheAllowedDocuments) {
  std::vector<Document> docs = {Doc("", "whole"), Doc("ocr/0", "x"), Doc("ocr/1", "x"),
                                Doc("ocr/2", "x")};
  docs[0].text = "";
  docs[1].text = "Café de Flore, open daily";
  docs[2].text = "daily specials: cafe au lait, cafe noir, cafe creme";
  docs[3].text = "STOP";
  auto written = MustReplace(object_.id, docs);
  auto hits = store_->SearchText(collection_.id, {.text = "CAFÉ"});
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u) << "case and accents fold";
  EXPECT_EQ((*hits)[0].key, written[2].key) << "three mentions rank above one";
  EXPECT_GT((*hits)[0].score, (*hits)[1].score);
  EXPECT_GT((*hits)[1].score, 0);
  EXPECT_NE((*hits)[1].snippet.find("[Café]"), std::string::npos) << (*hits)[1].snippet;

  auto all = store_->SearchText(collection_.id, {.text = "flore daily", .match = TextMatch::kAll});
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, written[1].key);
  auto phrase =
      store_->SearchText(collection_.id, {.text = "open, daily!", .match = TextMatch::kPhrase});
  ASSERT_EQ(phrase->size(), 1u);
  auto none =
      store_->SearchText(collection_.id, {.text = "daily open", .match = TextMatch::kPhrase});
  EXPECT_THAT(*none, IsEmpty());
  const std::vector<uint64_t> allowed = {written[1].key};
  auto filtered = store_->SearchText(collection_.id, {.text = "cafe", .allowed = &allowed});
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ((*filtered)[0].key, written[1].key);
  auto injected = store_->SearchText(collection_.id, {.text = "stop OR NEAR(\"x\" *"});
  ASSERT_TRUE(injected.ok()) << "operators are words: " << injected.status().ToString();
  EXPECT_EQ(injected->size(), 1u);
  EXPECT_EQ(store_->SearchText(collection_.id, {.text = " ,;! "}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SearchText(collection_.id, {.text = "cafe", .limit = 0}).status().code(),
            StatusCode::kInvalidArgument);

  MustReplace(object_.id, {docs[0], docs[3]});  // rewritten without the menu lines
  EXPECT_THAT(*store_->SearchText(collection_.id, {.text = "cafe"}), IsEmpty());
  ASSERT_TRUE(store_->DeleteObject(bucket_.id, "a.jpg").ok());
  EXPECT_THAT(*store_->SearchText(collection_.id, {.text = "stop"}), IsEmpty());
}

TEST_P(DocumentContract, FacetsCountValuesAndArrayElementsUnderAFilter) {
  std::vector<Document> docs = {Doc("", "whole"), Doc("d/0", "person"), Doc("d/1", "person"),
                                Doc("d/2", "dog"), Doc("d/3", "7")};
  docs[0].payload["labels"] = {"person", "dog", "person"};
  docs[4].payload["label"] = 7;  // a number: another value than "7"
  auto written = MustReplace(object_.id, docs);
  auto all = store_->Facets(collection_.id, {}, {"label", "labels", "missing"}, 10);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  const auto& label = (*all)["label"];
  ASSERT_EQ(label.size(), 4u);
  EXPECT_EQ(label[0].value, "person");
  EXPECT_EQ(label[0].count, 2);
  EXPECT_EQ((*all)["labels"][0].value, "person");
  EXPECT_EQ((*all)["labels"][0].count, 2) << "each element of an array counts";
  EXPECT_THAT((*all)["missing"], IsEmpty());
  auto regions = ParseFilter({{"unit", {{"ne", ""}}}});
  auto top = store_->Facets(collection_.id, *regions, {"label"}, 1);
  ASSERT_EQ((*top)["label"].size(), 1u) << "at most max_values";
  EXPECT_EQ((*top)["label"][0].count, 2);
  EXPECT_THAT((*store_->Facets(collection_.id, *regions, {"label"}, 10))["label"],
              ::testing::Not(::testing::Contains(::testing::Field(&FacetValue::value, "whole"))));
  auto of_source = store_->DocumentsOfSource(collection_.id, object_.id);
  ASSERT_TRUE(of_source.ok());
  EXPECT_EQ(of_source->size(), 5u);
  EXPECT_EQ((*of_source)[0].unit, "") << "in unit order";
}

TEST_P(DocumentContract, BadDocumentsAreRefusedWhole) {
  Document nan = Doc("object_detection/1", "x", {1, std::numeric_limits<float>::quiet_NaN()});
  auto s = store_->ReplaceSourceDocuments(collection_.id, object_.id, {Doc("", "ok"), nan}, 1);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  s = store_->ReplaceSourceDocuments(collection_.id, object_.id, {Doc("", "a"), Doc("", "b")}, 1);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  Document empty = Doc("", "e", {});
  EXPECT_EQ(store_->ReplaceSourceDocuments(collection_.id, object_.id, {empty}, 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Labels({}).empty()) << "nothing of a refused write is stored";
  EXPECT_EQ(store_->GetCollectionById(collection_.id)->generation, 1);
}

// The backends of metadata_store_contract_test.cc's list.
INSTANTIATE_TEST_SUITE_P(Backends, DocumentContract, testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace argus::store
