// The MetadataStore conformance suite, continued: payload indexes. A store may answer a filter
// through its payload indexes or by reading every document; either way the answer is the one the
// filter language defines (store/filter.h Matches). Random documents (arrays, missing fields,
// nulls, values of another type) meet random filters, before and after documents change and
// the collection's indexes do, and each answer is compared with Matches over every document.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/id.h"
#include "store/sqlite/temp_dir_for_test.h"
#include "tests/contract/metadata_store_contract_test.h"

namespace argus::store {
namespace {

const std::vector<std::string> kLabels = {"cat", "dog", "car", "cart", "", "Cat"};
const std::vector<std::string> kTags = {"a", "b", "ab", "c"};
const std::vector<std::string> kDays = {"2026-01-01T00:00:00Z", "2026-01-02T12:00:00Z",
                                        "2026-01-03T00:00:00+02:00", "2026-01-05T08:30:00Z"};

class PayloadIndexContract : public MetadataStoreContractTest {
 protected:
  void SetUp() override {
    MetadataStoreContractTest::SetUp();
    bucket_ = MustCreateBucket("photos");
    object_ = NewObject(bucket_, "a.jpg", 1);
    ASSERT_TRUE(store_->PutObject(object_, {}).ok());
    Collection c;
    clock_.AdvanceUs(1000);
    c.id = NewId(clock_);
    c.namespace_id = bucket_.namespace_id;
    c.name = "scenes";
    c.source_bucket_id = bucket_.id;
    c.extractors = {{.name = "object_detection", .version = "1"}};
    c.payload_indexes = {{.field = "label", .type = FieldType::kKeyword},
                         {.field = "score", .type = FieldType::kFloat},
                         {.field = "count", .type = FieldType::kInteger},
                         {.field = "flag", .type = FieldType::kBool},
                         {.field = "taken_at", .type = FieldType::kDatetime},
                         {.field = "meta.tags", .type = FieldType::kKeyword}};
    auto created = store_->CreateCollection(c);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    collection_ = *created;
  }

  FieldTypes Types() const {
    FieldTypes types;
    for (const auto& i : collection_.payload_indexes) types.emplace(i.field, i.type);
    return types;
  }

  template <typename T>
  const T& Pick(const std::vector<T>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng_)];
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // A payload with every kind of value a field may hold: the declared type, another type, null,
  // an array, or nothing.
  Json RandomPayload() {
    Json p = Json::object();
    if (Chance(0.85)) p["label"] = Chance(0.9) ? Json(Pick(kLabels)) : Json(3);
    if (Chance(0.8)) {
      std::uniform_real_distribution<double> unit(0, 1);
      p["score"] = Chance(0.8)
                       ? Json(unit(rng_))
                       : (Chance(0.5) ? Json::array({unit(rng_), unit(rng_)}) : Json("high"));
    }
    if (Chance(0.8)) {
      const int n = std::uniform_int_distribution<int>(0, 9)(rng_);
      p["count"] = Chance(0.1) ? Json(nullptr) : (Chance(0.1) ? Json(n + 0.5) : Json(n));
    }
    if (Chance(0.7)) p["flag"] = Chance(0.9) ? Json(Chance(0.5)) : Json(1);
    if (Chance(0.8)) {
      p["taken_at"] = Chance(0.9) ? Json(Pick(kDays)) : Json("soon");
    }
    if (Chance(0.8)) {
      Json tags = Json::array();
      const int n = std::uniform_int_distribution<int>(0, 3)(rng_);
      for (int i = 0; i < n; ++i) tags.push_back(Pick(kTags));
      p["meta"] = {{"tags", Chance(0.85) ? tags : Json(Pick(kTags))}};
    }
    if (Chance(0.5)) p["note"] = Chance(0.5) ? "a red car" : "the cat sat";
    return p;
  }

  // Rewrites `sources` sources with fresh random documents (some units gone, some new).
  void WriteSources(int first, int count) {
    for (int s = first; s < first + count; ++s) {
      std::vector<Document> docs;
      const int units = std::uniform_int_distribution<int>(0, 6)(rng_);
      for (int u = 0; u < units; ++u) {
        clock_.AdvanceUs(10);
        Document d;
        d.id = NewId(clock_);
        d.unit = "r/" + std::to_string(std::uniform_int_distribution<int>(0, 8)(rng_));
        d.object_id = object_.id;
        d.payload = RandomPayload();
        d.versions = {{"object_detection", "1"}};
        if (std::any_of(docs.begin(), docs.end(),
                        [&](const Document& o) { return o.unit == d.unit; })) {
          continue;
        }
        docs.push_back(std::move(d));
      }
      clock_.AdvanceUs(1000);
      auto written = store_->ReplaceSourceDocuments(collection_.id, "source-" + std::to_string(s),
                                                    docs, clock_.NowUs());
      ASSERT_TRUE(written.ok()) << written.status().ToString();
    }
  }

  Json RandomOperand(const std::string& field) {
    if (field == "label") return Pick(kLabels);
    if (field == "score") return std::uniform_real_distribution<double>(0, 1)(rng_);
    if (field == "count") return std::uniform_int_distribution<int>(-1, 10)(rng_);
    if (field == "flag") return Chance(0.5);
    if (field == "taken_at") return Pick(kDays);
    if (field == "meta.tags") return Pick(kTags);
    return Chance(0.5) ? "car" : "cat";  // note
  }

  // A random filter over the fields, `depth` levels of and / or / not at most.
  Json RandomFilter(int depth) {
    const int kind = std::uniform_int_distribution<int>(0, depth > 0 ? 5 : 2)(rng_);
    if (kind >= 3) {
      if (kind == 5) return {{"not", RandomFilter(depth - 1)}};
      Json children = Json::array();
      const int n = std::uniform_int_distribution<int>(1, 3)(rng_);
      for (int i = 0; i < n; ++i) children.push_back(RandomFilter(depth - 1));
      return {{kind == 3 ? "and" : "or", children}};
    }
    static const std::vector<std::string> kFields = {"label",    "score",     "count", "flag",
                                                     "taken_at", "meta.tags", "note"};
    const std::string field = Pick(kFields);
    std::vector<std::string> ops = {"eq", "ne", "in", "nin", "exists", "is_null"};
    if (field != "flag") ops.insert(ops.end(), {"gt", "gte", "lt", "lte"});
    if (field == "label" || field == "meta.tags" || field == "note") {
      ops.insert(ops.end(), {"starts_with", "contains", "text"});
    }
    if (field != "flag" && field != "note" && Chance(0.25)) {
      // A window: two range conditions on the field.
      Json a = RandomOperand(field), b = RandomOperand(field);
      return {{field, {{Chance(0.5) ? "gt" : "gte", a}, {Chance(0.5) ? "lt" : "lte", b}}}};
    }
    const std::string op = Pick(ops);
    if (op == "exists" || op == "is_null") return {{field, {{op, Chance(0.5)}}}};
    if (op == "in" || op == "nin") {
      Json values = Json::array();
      for (int i = 0; i < 3; ++i) values.push_back(RandomOperand(field));
      return {{field, {{op, values}}}};
    }
    Json operand = RandomOperand(field);
    if (op == "starts_with") operand = operand.get<std::string>().substr(0, 1);
    if (op == "text" && operand.get<std::string>().empty()) operand = "cat";
    return {{field, {{op, operand}}}};
  }

  // Every document of the collection, by key.
  std::map<uint64_t, Document> AllDocuments() {
    std::map<uint64_t, Document> out;
    PageRequest page{.limit = 1000};
    for (;;) {
      auto listed = store_->ListDocuments(collection_.id, Filter{}, page, false, {});
      EXPECT_TRUE(listed.ok()) << listed.status().ToString();
      if (!listed.ok()) return out;
      for (auto& d : listed->items) out.emplace(d.key, std::move(d));
      if (listed->next_after_id.empty()) return out;
      page.after_id = listed->next_after_id;
    }
  }

  static Json View(const Document& d) {
    Json view = d.payload;
    view["object_id"] = d.object_id;
    view["parent_id"] = d.parent_id;
    view["tier"] = d.tier;
    view["unit"] = d.unit;
    return view;
  }

  // `rounds` random filters: the matching keys, a paged list and the facets of each agree with
  // Matches over every document.
  void CheckRandomFilters(int rounds) {
    const FieldTypes types = Types();
    const std::map<uint64_t, Document> all = AllDocuments();
    ASSERT_GT(all.size(), 50u);
    int nonempty = 0, partial = 0;
    for (int i = 0; i < rounds; ++i) {
      const Json json = RandomFilter(2);
      auto filter = ParseFilter(json, types);
      ASSERT_TRUE(filter.ok()) << json.dump() << ": " << filter.status().ToString();
      std::vector<uint64_t> expected;
      std::map<std::string, int64_t> labels;
      for (const auto& [key, d] : all) {
        if (!Matches(*filter, View(d), types)) continue;
        expected.push_back(key);
        if (d.payload.contains("label") && d.payload["label"].is_string()) {
          ++labels[d.payload["label"].get<std::string>()];
        }
      }
      nonempty += !expected.empty();
      partial += !expected.empty() && expected.size() < all.size();
      auto keys = store_->MatchingKeys(collection_.id, *filter);
      ASSERT_TRUE(keys.ok()) << keys.status().ToString();
      ASSERT_EQ(*keys, expected) << json.dump();

      std::vector<uint64_t> listed;
      PageRequest page{.limit = 7};
      for (;;) {
        auto got = store_->ListDocuments(collection_.id, *filter, page, false, {});
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        for (const auto& d : got->items) listed.push_back(d.key);
        if (got->next_after_id.empty()) break;
        page.after_id = got->next_after_id;
      }
      ASSERT_EQ(listed, expected) << json.dump();

      auto facets = store_->Facets(collection_.id, *filter, {"label"}, 100);
      ASSERT_TRUE(facets.ok()) << facets.status().ToString();
      std::map<std::string, int64_t> counted;
      for (const auto& f : (*facets)["label"]) {
        if (f.value.is_string()) counted[f.value.get<std::string>()] = f.count;
      }
      ASSERT_EQ(counted, labels) << json.dump();
    }
    // The filters were not all trivial.
    EXPECT_GT(partial, rounds / 4);
    EXPECT_GT(nonempty, rounds / 2);
  }

  std::mt19937 rng_{20261208};
  Bucket bucket_;
  StoredObject object_;
  Collection collection_;
};

TEST_P(PayloadIndexContract, RandomFiltersSelectWhatTheFilterLanguageSays) {
  WriteSources(0, 60);
  CheckRandomFilters(300);
}

TEST_P(PayloadIndexContract, AnswersStayRightAsDocumentsAndIndexesChange) {
  WriteSources(0, 60);
  CheckRandomFilters(60);
  // Documents rewritten (values change, units come and go), some deleted on their own.
  WriteSources(0, 30);
  WriteSources(60, 10);
  auto some = store_->ListDocuments(collection_.id, Filter{}, PageRequest{.limit = 5}, false, {});
  ASSERT_TRUE(some.ok());
  for (const auto& d : some->items) ASSERT_TRUE(store_->DeleteDocument(collection_.id, d.id).ok());
  CheckRandomFilters(60);
  // Indexes dropped, changed and added: count is no longer indexed, note now is.
  CollectionUpdate update;
  update.payload_indexes =
      std::vector<PayloadIndex>{{.field = "label", .type = FieldType::kKeyword},
                                {.field = "note", .type = FieldType::kKeyword},
                                {.field = "taken_at", .type = FieldType::kDatetime}};
  clock_.AdvanceUs(1000);
  auto updated = store_->UpdateCollection(bucket_.namespace_id, "scenes", update, clock_.NowUs());
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  collection_ = *updated;
  CheckRandomFilters(60);
  // And the answers survive a restart.
  ReopenStore();
  CheckRandomFilters(30);
}

INSTANTIATE_TEST_SUITE_P(Backends, PayloadIndexContract, testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

// SQLite's own: a metadata.db whose payload values were made for no indexes (one from before
// schema v16, or left behind by a crash) gets them made when the store opens, and filters on
// indexed fields keep answering right meanwhile.
class SqlitePayloadValues : public PayloadIndexContract {};

TEST_P(SqlitePayloadValues, ValuesMissingForTheIndexesAreMadeWhenTheStoreOpens) {
  WriteSources(0, 40);
  const std::string db = dir_ + "/metadata.db";
  const int rows = std::stoi(sqlite::RawQuery(db, "SELECT count(*) FROM payload_values"));
  ASSERT_GT(rows, 100);
  store_.reset();
  log_.reset();
  sqlite::RawQuery(db, "DELETE FROM payload_values; UPDATE collections SET payload_values_of = ''");
  OpenStores();
  EXPECT_EQ(std::stoi(sqlite::RawQuery(db, "SELECT count(*) FROM payload_values")), rows);
  EXPECT_EQ(sqlite::RawQuery(db,
                             "SELECT count(*) FROM collections"
                             " WHERE payload_values_of <> payload_indexes"),
            "0");
  CheckRandomFilters(40);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SqlitePayloadValues, testing::Values("sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace argus::store
