// Conformance suite for the MetadataStore contract (src/store/metadata_store.h), run against
// every backend by name. A backend is done when this suite passes unchanged (STYLE.md §3.7).
// Stores are created only through the StoreRegistry, never by concrete type.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/id.h"
#include "store/metadata_store.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store {
namespace {

using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// Every backend compiled in. A server-based backend adds its Register call here behind its
// ARGUS_WITH_* option, and its name to the INSTANTIATE_TEST_SUITE_P list at the end.
Status RegisterAllBackends(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(sqlite::RegisterSqliteStores(registry));
  return OkStatus();
}

// Every field, so a mismatch shows up as a readable diff.
std::string Describe(const Namespace& ns) {
  std::ostringstream out;
  out << "id=" << ns.id << " name=" << ns.name << " settings=" << ns.settings.dump()
      << " created_at=" << ns.created_at << " updated_at=" << ns.updated_at;
  return out.str();
}

std::string Describe(const ApiKey& key) {
  std::ostringstream out;
  out << "id=" << key.id << " namespace_id=" << key.namespace_id << " name=" << key.name
      << " role=" << RoleName(key.role) << " prefix=" << key.prefix << " hash=";
  for (unsigned char c : key.hash) out << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
  out << " created_at=" << key.created_at << " updated_at=" << key.updated_at
      << " expires_at=" << (key.expires_at ? std::to_string(*key.expires_at) : "none")
      << " revoked_at=" << (key.revoked_at ? std::to_string(*key.revoked_at) : "none");
  return out.str();
}

template <typename T>
std::vector<std::string> Ids(const std::vector<T>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.id);
  return ids;
}

class MetadataStoreContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterAllBackends(registry_).ok());
    std::string pattern = testing::TempDir() + "argus-contract-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    auto store = registry_.metadata.Create(
        GetParam(), StoreArgs{.config = &config_, .data_dir = dir_, .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  // Each record gets a later time than the last, so ids (UUIDv7) sort in creation order.
  Namespace NewNamespace(const std::string& name) {
    clock_.AdvanceUs(1000);
    Namespace ns;
    ns.id = NewId(clock_);
    ns.name = name;
    ns.settings = {{"retention_days", 30}, {"tags", {"a", "b"}}, {"nested", {{"x", nullptr}}}};
    ns.created_at = clock_.NowUs();
    ns.updated_at = clock_.NowUs() + 7;
    return ns;
  }

  // A fresh prefix and a 32-byte hash that includes NUL and high bytes.
  ApiKey NewKey(const std::string& namespace_id, Role role = Role::kAdmin) {
    clock_.AdvanceUs(1000);
    ApiKey key;
    key.id = NewId(clock_);
    key.namespace_id = namespace_id;
    key.name = "key-" + std::to_string(++key_counter_);
    key.role = role;
    key.prefix = "argus_" + std::to_string(key_counter_) + "x";
    key.hash.resize(32);
    for (int i = 0; i < 32; ++i) key.hash[i] = static_cast<char>((i * 37 + key_counter_) & 0xff);
    key.hash[0] = '\0';
    key.created_at = clock_.NowUs();
    key.updated_at = clock_.NowUs() + 3;
    return key;
  }

  Namespace MustCreate(const Namespace& ns) {
    auto created = store_->CreateNamespace(ns);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return ns;
  }

  ApiKey MustCreate(const ApiKey& key) {
    auto created = store_->CreateApiKey(key);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return key;
  }

  // Walks every page of namespaces with `limit`, checking the page invariants on the way.
  std::vector<std::string> AllNamespaceIds(int limit) {
    return WalkPages(limit, [&](const PageRequest& req) { return store_->ListNamespaces(req); });
  }

  std::vector<std::string> AllKeyIds(const std::string& ns_id, int limit, bool revoked) {
    return WalkPages(
        limit, [&](const PageRequest& req) { return store_->ListApiKeys(ns_id, req, revoked); });
  }

  template <typename ListFn>
  std::vector<std::string> WalkPages(int limit, ListFn list) {
    std::vector<std::string> ids;
    PageRequest req{.after_id = "", .limit = limit};
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = list(req);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->items.size()), limit);
      for (const auto& id : Ids(page->items)) ids.push_back(id);
      if (page->next_after_id.empty()) break;
      // A page that says more follows is full and ends at its cursor.
      EXPECT_EQ(static_cast<int>(page->items.size()), limit);
      EXPECT_EQ(page->next_after_id, page->items.back().id);
      req.after_id = page->next_after_id;
    }
    return ids;
  }

  StoreRegistry registry_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
  std::string dir_;
  std::unique_ptr<MetadataStore> store_;
  int key_counter_ = 0;
};

TEST_P(MetadataStoreContractTest, PingSucceeds) { EXPECT_TRUE(store_->Ping().ok()); }

TEST_P(MetadataStoreContractTest, SystemValueNeverWrittenIsNullopt) {
  auto value = store_->GetSystemValue("admin_key_created");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, std::nullopt);
}

TEST_P(MetadataStoreContractTest, SystemValueRoundTripsAndIsOverwritten) {
  ASSERT_TRUE(store_->PutSystemValue("a", "1").ok());
  ASSERT_TRUE(store_->PutSystemValue("b", "").ok());
  ASSERT_TRUE(store_->PutSystemValue("a", "two \xc3\xa9").ok());
  EXPECT_EQ(store_->GetSystemValue("a").value_or(std::nullopt), "two \xc3\xa9");
  EXPECT_EQ(store_->GetSystemValue("b").value_or(std::nullopt), "");
  EXPECT_EQ(store_->GetSystemValue("c").value_or("error"), std::nullopt);
}

TEST_P(MetadataStoreContractTest, CreatedNamespaceIsReadableByIdAndByName) {
  Namespace ns = NewNamespace("photos");
  auto created = store_->CreateNamespace(ns);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Describe(*created), Describe(ns));

  auto by_id = store_->GetNamespace(ns.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(Describe(*by_id), Describe(ns));
  auto by_name = store_->GetNamespaceByName("photos");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(Describe(*by_name), Describe(ns));
}

TEST_P(MetadataStoreContractTest, MissingNamespaceIsNotFound) {
  MustCreate(NewNamespace("present"));
  EXPECT_EQ(store_->GetNamespace(NewId(clock_)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetNamespaceByName("absent").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, DuplicateNamespaceNameIsAlreadyExists) {
  Namespace first = MustCreate(NewNamespace("dup"));
  Namespace second = NewNamespace("dup");
  second.settings = {{"other", true}};
  EXPECT_EQ(store_->CreateNamespace(second).status().code(), StatusCode::kAlreadyExists);

  EXPECT_EQ(store_->GetNamespace(second.id).status().code(), StatusCode::kNotFound);
  auto kept = store_->GetNamespaceByName("dup");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(Describe(*kept), Describe(first));
  EXPECT_THAT(AllNamespaceIds(10), ElementsAreArray({first.id}));
}

TEST_P(MetadataStoreContractTest, EmptyStoreListsOneEmptyLastPage) {
  auto page = store_->ListNamespaces({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_THAT(page->items, IsEmpty());
  EXPECT_EQ(page->next_after_id, "");
}

TEST_P(MetadataStoreContractTest, NamespacesPageInIdOrderForEveryLimit) {
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i)
    expected.push_back(MustCreate(NewNamespace("ns-" + std::to_string(i))).id);
  std::sort(expected.begin(), expected.end());
  for (int limit = 1; limit <= 6; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_THAT(AllNamespaceIds(limit), ElementsAreArray(expected));
  }
  // A limit that divides the count exactly still ends with an empty cursor, not an empty page.
  auto exact = store_->ListNamespaces({.after_id = expected[0], .limit = 4});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->items.size(), 4u);
  EXPECT_EQ(exact->next_after_id, "");
}

TEST_P(MetadataStoreContractTest, NamespacePagesFullyDescribeEachItem) {
  Namespace ns = MustCreate(NewNamespace("described"));
  auto page = store_->ListNamespaces({.limit = 1});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(Describe(page->items[0]), Describe(ns));
}

TEST_P(MetadataStoreContractTest, AfterIdNeedNotExist) {
  MustCreate(NewNamespace("a"));
  Namespace gone = MustCreate(NewNamespace("gone"));
  Namespace c = MustCreate(NewNamespace("c"));
  ASSERT_TRUE(store_->DeleteNamespace(gone.id).ok());
  auto page = store_->ListNamespaces({.after_id = gone.id, .limit = 10});
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Ids(page->items), ElementsAreArray({c.id}));
  auto past_end = store_->ListNamespaces({.after_id = c.id, .limit = 10});
  ASSERT_TRUE(past_end.ok());
  EXPECT_THAT(past_end->items, IsEmpty());
  EXPECT_EQ(past_end->next_after_id, "");
}

TEST_P(MetadataStoreContractTest, DeletedNamespaceIsGoneAndItsNameReusable) {
  Namespace kept = MustCreate(NewNamespace("kept"));
  Namespace doomed = MustCreate(NewNamespace("doomed"));
  ASSERT_TRUE(store_->DeleteNamespace(doomed.id).ok());
  EXPECT_EQ(store_->GetNamespace(doomed.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetNamespaceByName("doomed").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(AllNamespaceIds(10), ElementsAreArray({kept.id}));
  Namespace reborn = NewNamespace("doomed");
  EXPECT_TRUE(store_->CreateNamespace(reborn).ok());
  EXPECT_EQ(store_->GetNamespaceByName("doomed").value_or(Namespace{}).id, reborn.id);
}

TEST_P(MetadataStoreContractTest, DeletingMissingNamespaceIsNotFound) {
  EXPECT_EQ(store_->DeleteNamespace(NewId(clock_)).code(), StatusCode::kNotFound);
  Namespace ns = MustCreate(NewNamespace("once"));
  ASSERT_TRUE(store_->DeleteNamespace(ns.id).ok());
  EXPECT_EQ(store_->DeleteNamespace(ns.id).code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, DeletingNamespaceDeletesOnlyItsKeys) {
  Namespace doomed = MustCreate(NewNamespace("doomed"));
  Namespace other = MustCreate(NewNamespace("other"));
  ApiKey doomed_key = MustCreate(NewKey(doomed.id));
  ApiKey other_key = MustCreate(NewKey(other.id));
  ApiKey global_key = MustCreate(NewKey(""));

  ASSERT_TRUE(store_->DeleteNamespace(doomed.id).ok());
  EXPECT_EQ(store_->GetApiKey(doomed_key.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetApiKeyByPrefix(doomed_key.prefix).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(AllKeyIds(doomed.id, 10, true), IsEmpty());
  EXPECT_TRUE(store_->GetApiKey(other_key.id).ok());
  EXPECT_TRUE(store_->GetApiKey(global_key.id).ok());
  EXPECT_THAT(AllKeyIds(other.id, 10, true), ElementsAreArray({other_key.id}));
  EXPECT_THAT(AllKeyIds("", 10, true), ElementsAreArray({global_key.id}));
}

TEST_P(MetadataStoreContractTest, CreatedApiKeyIsReadableByIdAndByPrefix) {
  Namespace ns = MustCreate(NewNamespace("keys"));
  ApiKey key = NewKey(ns.id, Role::kEditor);
  key.expires_at = clock_.NowUs() + 3'600'000'000;
  auto created = store_->CreateApiKey(key);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Describe(*created), Describe(key));

  auto by_id = store_->GetApiKey(key.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(Describe(*by_id), Describe(key));
  auto by_prefix = store_->GetApiKeyByPrefix(key.prefix);
  ASSERT_TRUE(by_prefix.ok()) << by_prefix.status().ToString();
  EXPECT_EQ(Describe(*by_prefix), Describe(key));
}

TEST_P(MetadataStoreContractTest, GlobalKeyHasEmptyNamespaceAndEveryRoleRoundTrips) {
  ApiKey global = MustCreate(NewKey("", Role::kAdmin));
  EXPECT_EQ(Describe(store_->GetApiKey(global.id).value_or(ApiKey{})), Describe(global));
  Namespace ns = MustCreate(NewNamespace("roles"));
  for (Role role : {Role::kViewer, Role::kEditor, Role::kAdmin}) {
    ApiKey key = MustCreate(NewKey(ns.id, role));
    EXPECT_EQ(store_->GetApiKey(key.id).value_or(ApiKey{}).role, role) << RoleName(role);
  }
}

TEST_P(MetadataStoreContractTest, MissingApiKeyIsNotFound) {
  MustCreate(NewKey(""));
  EXPECT_EQ(store_->GetApiKey(NewId(clock_)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetApiKeyByPrefix("argus_nope").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, DuplicatePrefixIsAlreadyExistsAcrossNamespaces) {
  Namespace ns = MustCreate(NewNamespace("prefixes"));
  ApiKey first = MustCreate(NewKey(ns.id));
  for (const std::string& ns_id : {ns.id, std::string()}) {
    ApiKey clash = NewKey(ns_id);
    clash.prefix = first.prefix;
    EXPECT_EQ(store_->CreateApiKey(clash).status().code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(store_->GetApiKey(clash.id).status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(store_->GetApiKeyByPrefix(first.prefix).value_or(ApiKey{}).id, first.id);
}

TEST_P(MetadataStoreContractTest, ApiKeyInMissingNamespaceIsNotFound) {
  ApiKey orphan = NewKey(NewId(clock_));
  EXPECT_EQ(store_->CreateApiKey(orphan).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetApiKey(orphan.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetApiKeyByPrefix(orphan.prefix).status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, GlobalAndNamespaceKeysAreListedSeparately) {
  Namespace a = MustCreate(NewNamespace("a"));
  Namespace b = MustCreate(NewNamespace("b"));
  std::vector<std::string> global, in_a, in_b;
  for (int i = 0; i < 3; ++i) {
    global.push_back(MustCreate(NewKey("")).id);
    in_a.push_back(MustCreate(NewKey(a.id)).id);
    in_b.push_back(MustCreate(NewKey(b.id)).id);
  }
  EXPECT_THAT(AllKeyIds("", 10, false), ElementsAreArray(global));
  EXPECT_THAT(AllKeyIds(a.id, 10, false), ElementsAreArray(in_a));
  EXPECT_THAT(AllKeyIds(b.id, 10, false), ElementsAreArray(in_b));
}

TEST_P(MetadataStoreContractTest, ListedKeysAreComplete) {
  Namespace ns = MustCreate(NewNamespace("complete"));
  ApiKey key = NewKey(ns.id, Role::kViewer);
  key.expires_at = 42;
  MustCreate(key);
  auto page = store_->ListApiKeys(ns.id, {}, false);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(Describe(page->items[0]), Describe(key));
}

TEST_P(MetadataStoreContractTest, RevokedKeysAreListedOnlyWhenAsked) {
  Namespace ns = MustCreate(NewNamespace("revocations"));
  std::vector<std::string> all, live;
  for (int i = 0; i < 6; ++i) {
    ApiKey key = MustCreate(NewKey(ns.id));
    all.push_back(key.id);
    if (i % 2 == 0) {
      ASSERT_TRUE(store_->RevokeApiKey(key.id, clock_.NowUs()).ok());
    } else {
      live.push_back(key.id);
    }
  }
  for (int limit = 1; limit <= 7; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_THAT(AllKeyIds(ns.id, limit, false), ElementsAreArray(live));
    EXPECT_THAT(AllKeyIds(ns.id, limit, true), ElementsAreArray(all));
  }
}

TEST_P(MetadataStoreContractTest, KeysPageOldestFirstForEveryLimit) {
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(MustCreate(NewKey("")).id);
  for (int limit = 1; limit <= 6; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_THAT(AllKeyIds("", limit, true), ElementsAreArray(expected));
  }
}

TEST_P(MetadataStoreContractTest, RevokeSetsRevokedAtAndReturnsTheKey) {
  ApiKey key = MustCreate(NewKey(""));
  TimestampUs at = clock_.NowUs() + 500;
  auto revoked = store_->RevokeApiKey(key.id, at);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->id, key.id);
  EXPECT_EQ(revoked->prefix, key.prefix);
  EXPECT_EQ(revoked->hash, key.hash);
  EXPECT_EQ(revoked->revoked_at, at);
  // Revoked keys are still readable, with revoked_at set.
  EXPECT_EQ(store_->GetApiKey(key.id).value_or(ApiKey{}).revoked_at, at);
  EXPECT_EQ(store_->GetApiKeyByPrefix(key.prefix).value_or(ApiKey{}).revoked_at, at);
}

TEST_P(MetadataStoreContractTest, RevokingTwiceKeepsTheFirstTime) {
  ApiKey key = MustCreate(NewKey(""));
  TimestampUs first = clock_.NowUs() + 10;
  ASSERT_TRUE(store_->RevokeApiKey(key.id, first).ok());
  auto again = store_->RevokeApiKey(key.id, first + 1'000'000);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->revoked_at, first);
  EXPECT_EQ(store_->GetApiKey(key.id).value_or(ApiKey{}).revoked_at, first);
}

TEST_P(MetadataStoreContractTest, RevokingMissingKeyIsNotFound) {
  EXPECT_EQ(store_->RevokeApiKey(NewId(clock_), clock_.NowUs()).status().code(),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, ConcurrentWritersAndReadersSeeEveryCommittedRecord) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Namespace ns;
        ns.id = NewId(clock_);
        ns.name = fmt::format("t{}-{}", t, i);
        ns.created_at = ns.updated_at = clock_.NowUs();
        ApiKey key;
        key.id = NewId(clock_);
        key.namespace_id = ns.id;
        key.prefix = "argus_" + ns.name;
        key.hash = std::string(32, 'h');
        // Each thread reads back its own writes at once, from whichever connection serves it.
        bool ok = store_->CreateNamespace(ns).ok() && store_->CreateApiKey(key).ok() &&
                  store_->GetNamespaceByName(ns.name).ok() &&
                  store_->GetApiKeyByPrefix(key.prefix).ok() &&
                  store_->PutSystemValue("last-" + std::to_string(t), ns.id).ok();
        if (!ok) ++failures;
        ids[t].push_back(ns.id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  std::vector<std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    expected.insert(expected.end(), ids[t].begin(), ids[t].end());
    EXPECT_EQ(store_->GetSystemValue("last-" + std::to_string(t)).value_or(std::nullopt),
              ids[t].back());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(AllNamespaceIds(7), ElementsAreArray(expected));
  for (const std::string& id : expected) {
    EXPECT_EQ(AllKeyIds(id, 10, false).size(), 1u) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreContractTest, testing::Values("sqlite"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace argus::store
