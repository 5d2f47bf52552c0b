// Conformance suite for the MetadataStore contract (src/store/metadata_store.h), run against
// every backend by name. A backend is done when this suite passes unchanged (STYLE.md §3.7).
// Stores are created only through the StoreRegistry, never by concrete type. The fixture is in
// metadata_store_contract_test.h; more of the suite's tests are in upload_contract_test.cc.

#include "tests/contract/metadata_store_contract_test.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/id.h"

namespace argus::store {
namespace {

using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

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

TEST_P(MetadataStoreContractTest, CreatedBucketIsReadableAndListed) {
  Namespace ns = MustCreate(NewNamespace("buckets"));
  Bucket bucket = NewBucket(ns.id, "photos");
  auto created = store_->CreateBucket(bucket);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(Describe(*created), Describe(bucket));
  auto got = store_->GetBucket(ns.id, "photos");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), Describe(bucket));

  // Empty lists and a null schema round-trip too.
  Bucket plain = NewBucket(ns.id, "plain");
  plain.allowed_media_types.clear();
  plain.metadata_schema = nullptr;
  plain.max_object_bytes = 0;
  MustCreate(plain);
  EXPECT_EQ(Describe(store_->GetBucket(ns.id, "plain").value_or(Bucket{})), Describe(plain));
  auto page = store_->ListBuckets(ns.id, {});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(Describe(page->items[0]), Describe(bucket));
  EXPECT_EQ(Describe(page->items[1]), Describe(plain));
}

TEST_P(MetadataStoreContractTest, BucketNamesAreValidated) {
  Namespace ns = MustCreate(NewNamespace("names"));
  for (const std::string& name : {std::string("a"), std::string("0.a_b-c"), std::string(63, 'z')}) {
    EXPECT_TRUE(store_->CreateBucket(NewBucket(ns.id, name)).ok()) << name;
  }
  for (const std::string& name :
       {std::string(""), std::string("Photos"), std::string("-photos"), std::string(".hidden"),
        std::string("_x"), std::string("a b"), std::string("a/b"), std::string(64, 'z'),
        std::string("caf\xc3\xa9")}) {
    Bucket bucket = NewBucket(ns.id, name);
    EXPECT_EQ(store_->CreateBucket(bucket).status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(AllBucketIds(ns.id, 10).size(), 3u);
}

TEST_P(MetadataStoreContractTest, BucketNameIsUniqueOnlyWithinItsNamespace) {
  Namespace a = MustCreate(NewNamespace("a"));
  Namespace b = MustCreate(NewNamespace("b"));
  Bucket first = MustCreate(NewBucket(a.id, "shared"));
  auto clash = store_->CreateBucket(NewBucket(a.id, "shared"));
  EXPECT_EQ(clash.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(clash.status().message()), testing::HasSubstr("shared"));
  Bucket other = MustCreate(NewBucket(b.id, "shared"));
  EXPECT_EQ(store_->GetBucket(a.id, "shared").value_or(Bucket{}).id, first.id);
  EXPECT_EQ(store_->GetBucket(b.id, "shared").value_or(Bucket{}).id, other.id);
}

TEST_P(MetadataStoreContractTest, BucketInMissingNamespaceIsNotFound) {
  Bucket orphan = NewBucket(NewId(clock_), "orphan");
  EXPECT_EQ(store_->CreateBucket(orphan).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetBucket(orphan.namespace_id, "orphan").status().code(),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, BucketOfAnotherNamespaceIsNotFoundAndNamed) {
  Namespace mine = MustCreate(NewNamespace("mine"));
  Namespace theirs = MustCreate(NewNamespace("theirs"));
  MustCreate(NewBucket(theirs.id, "secret"));
  auto got = store_->GetBucket(mine.id, "secret");
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(got.status().message()), testing::HasSubstr("'secret'"));
  EXPECT_EQ(
      store_->UpdateBucket(mine.id, "secret", {.description = "x"}, clock_.NowUs()).status().code(),
      StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteBucket(mine.id, "secret", true).code(), StatusCode::kNotFound);
  EXPECT_THAT(AllBucketIds(mine.id, 10), IsEmpty());
  EXPECT_TRUE(store_->GetBucket(theirs.id, "secret").ok());
}

TEST_P(MetadataStoreContractTest, BucketsPageInIdOrderPerNamespace) {
  Namespace a = MustCreate(NewNamespace("a"));
  Namespace b = MustCreate(NewNamespace("b"));
  std::vector<std::string> in_a, in_b;
  for (int i = 0; i < 4; ++i) {
    in_a.push_back(MustCreate(NewBucket(a.id, "bucket-" + std::to_string(4 - i))).id);
    in_b.push_back(MustCreate(NewBucket(b.id, "bucket-" + std::to_string(i))).id);
  }
  for (int limit = 1; limit <= 5; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_THAT(AllBucketIds(a.id, limit), ElementsAreArray(in_a));
    EXPECT_THAT(AllBucketIds(b.id, limit), ElementsAreArray(in_b));
  }
  EXPECT_THAT(AllBucketIds(NewId(clock_), 10), IsEmpty());
  EXPECT_EQ(store_->ListBuckets(a.id, {.limit = 0}).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreContractTest, UpdateBucketChangesOnlySetFields) {
  Namespace ns = MustCreate(NewNamespace("updates"));
  Bucket bucket = MustCreate(NewBucket(ns.id, "docs"));
  TimestampUs now = clock_.NowUs() + 1'000'000;
  auto updated = store_->UpdateBucket(ns.id, "docs", {.description = "new words"}, now);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  Bucket expected = bucket;
  expected.description = "new words";
  expected.updated_at = now;
  EXPECT_EQ(Describe(*updated), Describe(expected));
  EXPECT_EQ(Describe(store_->GetBucket(ns.id, "docs").value_or(Bucket{})), Describe(expected));

  BucketUpdate all{.description = "",
                   .max_object_bytes = 0,
                   .allowed_media_types = std::vector<std::string>{},
                   .metadata_schema = Json(nullptr)};
  updated = store_->UpdateBucket(ns.id, "docs", all, now + 1);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  expected.description = "";
  expected.max_object_bytes = 0;
  expected.allowed_media_types.clear();
  expected.metadata_schema = nullptr;
  expected.updated_at = now + 1;
  EXPECT_EQ(Describe(*updated), Describe(expected));
  EXPECT_EQ(Describe(store_->GetBucket(ns.id, "docs").value_or(Bucket{})), Describe(expected));
}

TEST_P(MetadataStoreContractTest, NonEmptyBucketIsDeletedOnlyWithForce) {
  Bucket bucket = MustCreateBucket("full");
  Bucket other = MustCreate(NewBucket(bucket.namespace_id, "other"));
  MustPut(NewObject(bucket, "a.jpg", 1));
  MustPut(NewObject(bucket, "b.jpg", 2));
  MustPut(NewObject(other, "kept.jpg", 3));

  Status refused = store_->DeleteBucket(bucket.namespace_id, "full", false);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_TRUE(store_->GetBucket(bucket.namespace_id, "full").ok());
  EXPECT_THAT(AllKeys(bucket.id), ElementsAreArray({"a.jpg", "b.jpg"}));

  ASSERT_TRUE(store_->DeleteBucket(bucket.namespace_id, "full", true).ok());
  EXPECT_EQ(store_->GetBucket(bucket.namespace_id, "full").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetObject(bucket.id, "a.jpg").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_FALSE(store_->BlobReferenced(Sha(2)).value_or(true));
  EXPECT_TRUE(store_->BlobReferenced(Sha(3)).value_or(false));
  EXPECT_THAT(AllKeys(other.id), ElementsAreArray({"kept.jpg"}));

  // The name is free again, and the new bucket starts empty.
  Bucket reborn = MustCreate(NewBucket(bucket.namespace_id, "full"));
  EXPECT_THAT(AllKeys(reborn.id), IsEmpty());
  EXPECT_TRUE(store_->DeleteBucket(bucket.namespace_id, "full", false).ok());
  EXPECT_EQ(store_->DeleteBucket(bucket.namespace_id, "full", true).code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, DeletingNamespaceDeletesItsBucketsAndObjects) {
  Bucket doomed = MustCreateBucket("doomed");
  Bucket kept = MustCreateBucket("kept");
  MustPut(NewObject(doomed, "x", 1));
  MustPut(NewObject(kept, "y", 2));
  ASSERT_TRUE(store_->DeleteNamespace(doomed.namespace_id).ok());
  EXPECT_EQ(store_->GetBucket(doomed.namespace_id, "doomed").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->GetObject(doomed.id, "x").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_TRUE(store_->GetObject(kept.id, "y").ok());
}

DerivedBlob NewDerived(int source, std::string variant, int sha) {
  return {.source_sha256 = Sha(source),
          .variant = std::move(variant),
          .sha256 = Sha(sha),
          .media_type = "image/jpeg",
          .size = 1234,
          .details = {{"width", 256}, {"height", 171}},
          .created_at = 1700000000000000};
}

TEST_P(MetadataStoreContractTest, DerivedBlobsAreFoundByTheirSourceAndVariant) {
  ASSERT_TRUE(store_->PutDerivedBlob(NewDerived(1, "thumbnail-256.jpeg", 10)).ok());
  ASSERT_TRUE(store_->PutDerivedBlob(NewDerived(1, "thumbnail-64.jpeg", 11)).ok());
  auto got = store_->GetDerivedBlob(Sha(1), "thumbnail-256.jpeg");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sha256, Sha(10));
  EXPECT_EQ(got->media_type, "image/jpeg");
  EXPECT_EQ(got->size, 1234);
  EXPECT_EQ(got->details, Json({{"width", 256}, {"height", 171}}));
  EXPECT_EQ(got->created_at, 1700000000000000);
  EXPECT_EQ(store_->GetDerivedBlob(Sha(2), "thumbnail-256.jpeg").status().code(),
            StatusCode::kNotFound);
  // A second put replaces.
  ASSERT_TRUE(store_->PutDerivedBlob(NewDerived(1, "thumbnail-256.jpeg", 12)).ok());
  EXPECT_EQ(store_->GetDerivedBlob(Sha(1), "thumbnail-256.jpeg").value_or(DerivedBlob{}).sha256,
            Sha(12));
  EXPECT_EQ(store_->DeleteDerivedBlobs(Sha(1)).value_or(-1), 2);
  EXPECT_EQ(store_->GetDerivedBlob(Sha(1), "thumbnail-64.jpeg").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteDerivedBlobs(Sha(1)).value_or(-1), 0);
  // ... and by the derived blob itself.
  ASSERT_TRUE(store_->PutDerivedBlob(NewDerived(3, "thumbnail-256.jpeg", 13)).ok());
  ASSERT_TRUE(store_->PutDerivedBlob(NewDerived(4, "thumbnail-256.jpeg", 14)).ok());
  EXPECT_EQ(store_->DeleteDerivedBlobs(Sha(13)).value_or(-1), 1);
  EXPECT_EQ(store_->GetDerivedBlob(Sha(3), "thumbnail-256.jpeg").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetDerivedBlob(Sha(4), "thumbnail-256.jpeg").ok());
}

TEST_P(MetadataStoreContractTest, DerivedBlobsAreReferencedWhileTheirSourceIs) {
  Bucket bucket = MustCreateBucket();
  ASSERT_TRUE(store_->PutDerivedBlob(NewDerived(1, "thumbnail-256.jpeg", 10)).ok());
  EXPECT_FALSE(store_->BlobReferenced(Sha(10)).value_or(true));  // no object holds the source
  MustPut(NewObject(bucket, "a.jpg", 1));
  EXPECT_TRUE(store_->BlobReferenced(Sha(10)).value_or(false));
  ASSERT_TRUE(store_->DeleteObject(bucket.id, "a.jpg").ok());
  EXPECT_FALSE(store_->BlobReferenced(Sha(10)).value_or(true));
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
}

TEST_P(MetadataStoreContractTest, MalformedDerivedBlobsAreInvalidArgument) {
  auto code = [&](DerivedBlob b) { return store_->PutDerivedBlob(b).code(); };
  DerivedBlob b = NewDerived(1, "v", 2);
  b.sha256 = "abc";
  EXPECT_EQ(code(b), StatusCode::kInvalidArgument);
  b = NewDerived(1, "v", 2);
  b.source_sha256 = std::string(64, 'G');
  EXPECT_EQ(code(b), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(NewDerived(1, "", 2)), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(NewDerived(1, std::string(129, 'v'), 2)), StatusCode::kInvalidArgument);
  b = NewDerived(1, "v", 2);
  b.size = -1;
  EXPECT_EQ(code(b), StatusCode::kInvalidArgument);
  b = NewDerived(1, "v", 2);
  b.details = Json::array();
  EXPECT_EQ(code(b), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetDerivedBlob(Sha(1), "v").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, NewObjectIsStoredAsGiven) {
  Bucket bucket = MustCreateBucket();
  StoredObject object = NewObject(bucket, "2024/cat.jpg", 7, {{"camera", "x100"}, {"iso", 400}});
  auto put = store_->PutObject(object, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Describe(put->object), Describe(object));
  EXPECT_EQ(put->replaced, std::nullopt);
  EXPECT_FALSE(put->deduplicated);
  auto got = store_->GetObject(bucket.id, "2024/cat.jpg");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Describe(*got), Describe(object));
}

TEST_P(MetadataStoreContractTest, PutReplacesTheKeyAndReturnsTheOldObject) {
  Bucket bucket = MustCreateBucket();
  StoredObject first = MustPut(NewObject(bucket, "a.jpg", 1, {{"v", 1}})).object;
  StoredObject second = NewObject(bucket, "a.jpg", 2, {{"v", 2}});
  auto put = store_->PutObject(second, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Describe(put->object), Describe(second));
  ASSERT_TRUE(put->replaced.has_value());
  EXPECT_EQ(Describe(*put->replaced), Describe(first));
  EXPECT_EQ(Describe(store_->GetObject(bucket.id, "a.jpg").value_or(StoredObject{})),
            Describe(second));
  EXPECT_THAT(AllKeys(bucket.id), ElementsAreArray({"a.jpg"}));
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
}

TEST_P(MetadataStoreContractTest, IfNoneMatchStarRefusesAnExistingKeyOnly) {
  Bucket bucket = MustCreateBucket();
  ObjectPrecondition create_only{.must_not_exist = true};
  StoredObject first = MustPut(NewObject(bucket, "once", 1), create_only).object;
  auto again = store_->PutObject(NewObject(bucket, "once", 2), create_only);
  EXPECT_EQ(again.status().code(), StatusCode::kConditionFailed) << again.status().ToString();
  EXPECT_EQ(Describe(store_->GetObject(bucket.id, "once").value_or(StoredObject{})),
            Describe(first));
  EXPECT_FALSE(store_->BlobReferenced(Sha(2)).value_or(true));
}

TEST_P(MetadataStoreContractTest, ConcurrentCreateOnlyPutsHaveOneWinner) {
  Bucket bucket = MustCreateBucket();
  constexpr int kThreads = 6;
  std::vector<StoredObject> objects;
  for (int t = 0; t < kThreads; ++t) objects.push_back(NewObject(bucket, "race", t));
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto put = store_->PutObject(objects[t], {.must_not_exist = true});
      if (put.ok()) ++won;
      if (put.status().code() == StatusCode::kConditionFailed) ++lost;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), kThreads - 1);
  EXPECT_THAT(AllKeys(bucket.id), ElementsAreArray({"race"}));
}

TEST_P(MetadataStoreContractTest, IfMatchHoldsOnlyForTheCurrentSha) {
  Bucket bucket = MustCreateBucket();
  StoredObject first = MustPut(NewObject(bucket, "doc", 1)).object;

  auto wrong = store_->PutObject(NewObject(bucket, "doc", 2), {.sha256_must_match = Sha(9)});
  EXPECT_EQ(wrong.status().code(), StatusCode::kConditionFailed) << wrong.status().ToString();
  EXPECT_EQ(store_->GetObject(bucket.id, "doc").value_or(StoredObject{}).id, first.id);

  auto absent = store_->PutObject(NewObject(bucket, "new", 2), {.sha256_must_match = Sha(1)});
  EXPECT_EQ(absent.status().code(), StatusCode::kConditionFailed) << absent.status().ToString();
  EXPECT_EQ(store_->GetObject(bucket.id, "new").status().code(), StatusCode::kNotFound);

  StoredObject second = NewObject(bucket, "doc", 2);
  auto right = store_->PutObject(second, {.sha256_must_match = Sha(1)});
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_EQ(right->replaced.value_or(StoredObject{}).id, first.id);
  EXPECT_EQ(store_->GetObject(bucket.id, "doc").value_or(StoredObject{}).id, second.id);
}

TEST_P(MetadataStoreContractTest, DeduplicatedOnlyWhenAnotherKeyOfTheBucketHasTheBytes) {
  Bucket bucket = MustCreateBucket();
  Bucket other = MustCreate(NewBucket(bucket.namespace_id, "other"));
  EXPECT_FALSE(MustPut(NewObject(bucket, "a", 1)).deduplicated);  // first upload
  EXPECT_TRUE(MustPut(NewObject(bucket, "b", 1)).deduplicated);   // same bytes, other key
  EXPECT_FALSE(MustPut(NewObject(other, "a", 1)).deduplicated);   // other bucket
  EXPECT_FALSE(MustPut(NewObject(bucket, "c", 2)).deduplicated);  // new bytes
  EXPECT_FALSE(MustPut(NewObject(bucket, "c", 2)).deduplicated);  // the key's own bytes again
  EXPECT_TRUE(MustPut(NewObject(bucket, "c", 1)).deduplicated);   // replaced by shared bytes
}

TEST_P(MetadataStoreContractTest, PutIntoMissingBucketIsNotFound) {
  Bucket bucket = MustCreateBucket("gone");
  ASSERT_TRUE(store_->DeleteBucket(bucket.namespace_id, "gone", false).ok());
  auto put = store_->PutObject(NewObject(bucket, "a", 1), {});
  EXPECT_EQ(put.status().code(), StatusCode::kNotFound) << put.status().ToString();
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
}

TEST_P(MetadataStoreContractTest, InvalidObjectsAreRejected) {
  Bucket bucket = MustCreateBucket();
  EXPECT_TRUE(store_->PutObject(NewObject(bucket, std::string(1024, 'k')), {}).ok());
  for (const std::string& key : {std::string(), std::string(1025, 'k'), std::string("a\0b", 3)}) {
    EXPECT_EQ(store_->PutObject(NewObject(bucket, key), {}).status().code(),
              StatusCode::kInvalidArgument)
        << key.size();
  }
  StoredObject upper = NewObject(bucket, "upper");
  upper.sha256.back() = 'F';  // a digest is spelled in lowercase only
  StoredObject short_sha = NewObject(bucket, "short");
  short_sha.sha256.pop_back();
  StoredObject bad_utf8 = NewObject(bucket, "utf8", 1, {{"name", "caf\xc3"}});
  StoredObject elsewhere = NewObject(bucket, "elsewhere");
  elsewhere.namespace_id = NewId(clock_);
  for (const StoredObject& object : {upper, short_sha, bad_utf8, elsewhere}) {
    EXPECT_EQ(store_->PutObject(object, {}).status().code(), StatusCode::kInvalidArgument)
        << object.key;
  }
  EXPECT_THAT(AllKeys(bucket.id), ElementsAreArray({std::string(1024, 'k')}));
  EXPECT_EQ(store_
                ->UpdateObjectMetadata(bucket.id, std::string(1024, 'k'), {{"x", "\xff"}}, "",
                                       clock_.NowUs())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_P(MetadataStoreContractTest, EmptyNamespaceIdIsTakenFromTheBucket) {
  Bucket bucket = MustCreateBucket();
  StoredObject object = NewObject(bucket, "k");
  object.namespace_id.clear();
  EXPECT_EQ(MustPut(object).object.namespace_id, bucket.namespace_id);
  EXPECT_EQ(store_->GetObject(bucket.id, "k").value_or(StoredObject{}).namespace_id,
            bucket.namespace_id);
}

TEST_P(MetadataStoreContractTest, MissingObjectIsNotFoundNamingBucketAndKey) {
  Bucket bucket = MustCreateBucket("albums");
  MustPut(NewObject(bucket, "present", 1));
  auto got = store_->GetObject(bucket.id, "absent.jpg");
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(got.status().message()), testing::HasSubstr("albums"));
  EXPECT_THAT(std::string(got.status().message()), testing::HasSubstr("absent.jpg"));
  // The same key in another bucket is another object.
  Bucket other = MustCreate(NewBucket(bucket.namespace_id, "other"));
  EXPECT_EQ(store_->GetObject(other.id, "present").status().code(), StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, ListWithPrefixIsInKeyOrder) {
  Bucket bucket = MustCreateBucket();
  for (const char* key : {"photos/b.jpg", "photos/a.jpg", "photo.jpg", "photos0", "video/x"}) {
    MustPut(NewObject(bucket, key));
  }
  EXPECT_THAT(AllKeys(bucket.id, {.prefix = "photos/"}),
              ElementsAreArray({"photos/a.jpg", "photos/b.jpg"}));
  EXPECT_THAT(AllKeys(bucket.id, {.prefix = "photo"}),
              ElementsAreArray({"photo.jpg", "photos/a.jpg", "photos/b.jpg", "photos0"}));
  EXPECT_THAT(AllKeys(bucket.id, {.prefix = "nothing"}), IsEmpty());
  EXPECT_THAT(AllKeys(bucket.id), ElementsAreArray({"photo.jpg", "photos/a.jpg", "photos/b.jpg",
                                                    "photos0", "video/x"}));
}

TEST_P(MetadataStoreContractTest, DelimiterRollsKeysUpIntoCommonPrefixes) {
  Bucket bucket = MustCreateBucket();
  for (const char* key : {"photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/b.jpg",
                          "photos/cover.jpg", "top.txt", "zzz/"}) {
    MustPut(NewObject(bucket, key));
  }
  Listing top = ListAll(bucket.id, {.delimiter = "/"});
  EXPECT_THAT(top.keys, ElementsAreArray({"top.txt"}));
  EXPECT_THAT(top.prefixes, ElementsAreArray({"photos/", "zzz/"}));

  Listing photos = ListAll(bucket.id, {.prefix = "photos/", .delimiter = "/"});
  EXPECT_THAT(photos.keys, ElementsAreArray({"photos/cover.jpg"}));
  EXPECT_THAT(photos.prefixes, ElementsAreArray({"photos/2024/", "photos/2025/"}));

  // A delimiter of several characters, found only after the prefix.
  Listing years = ListAll(bucket.id, {.prefix = "photos/20", .delimiter = "4/"});
  EXPECT_THAT(years.keys, ElementsAreArray({"photos/2025/b.jpg"}));
  EXPECT_THAT(years.prefixes, ElementsAreArray({"photos/2024/"}));
}

TEST_P(MetadataStoreContractTest, PagesCrossCommonPrefixesWithoutGapsOrRepeats) {
  Bucket bucket = MustCreateBucket();
  for (const char* key : {"a", "b/1", "b/2", "b/3", "c", "d/x/1", "d/y", "e", "f/", "g"}) {
    MustPut(NewObject(bucket, key));
  }
  for (int limit = 1; limit <= 8; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    Listing listing = ListAll(bucket.id, {.delimiter = "/", .limit = limit});
    EXPECT_THAT(listing.keys, ElementsAreArray({"a", "c", "e", "g"}));
    EXPECT_THAT(listing.prefixes, ElementsAreArray({"b/", "d/", "f/"}));
  }
  // A page that ends on a common prefix resumes after every key under it.
  auto page = store_->ListObjects(bucket.id, {.delimiter = "/", .limit = 2});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->next_after_key, "b/");
  auto next = store_->ListObjects(bucket.id, {.delimiter = "/", .after_key = "b/", .limit = 1});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_EQ(next->objects.size(), 1u);
  EXPECT_EQ(next->objects[0].key, "c");
  EXPECT_THAT(next->common_prefixes, IsEmpty());
}

TEST_P(MetadataStoreContractTest, AfterKeyIsAPlainLowerBound) {
  Bucket bucket = MustCreateBucket();
  for (const char* key : {"a", "b/1", "b/2", "c"}) MustPut(NewObject(bucket, key));
  EXPECT_THAT(AllKeys(bucket.id, {.after_key = "a0"}), ElementsAreArray({"b/1", "b/2", "c"}));
  EXPECT_THAT(AllKeys(bucket.id, {.after_key = "b/1"}), ElementsAreArray({"b/2", "c"}));
  // Inside a common prefix, the prefix itself was already listed: the listing resumes past it.
  Listing rest = ListAll(bucket.id, {.delimiter = "/", .after_key = "b/1"});
  EXPECT_THAT(rest.keys, ElementsAreArray({"c"}));
  EXPECT_THAT(rest.prefixes, IsEmpty());
  EXPECT_THAT(AllKeys(bucket.id, {.after_key = "c"}), IsEmpty());
}

TEST_P(MetadataStoreContractTest, KeysSortBytewise) {
  Bucket bucket = MustCreateBucket();
  // UTF-8 bytes: 'Z' 0x5a < 'a' 0x61 < 'z' 0x7a < U+00E9 0xc3 0xa9 < U+4E2D 0xe4 < U+1F600 0xf0;
  // '-' 0x2d < '/' 0x2f < '0' 0x30.
  const std::vector<std::string> sorted = {"Zebra",
                                           "a",
                                           "a-b",
                                           "a/b",
                                           "a0",
                                           "z",
                                           "\xc3\xa9t\xc3\xa9",
                                           "\xe4\xb8\xad/\xe6\x96\x87",
                                           "\xf0\x9f\x98\x80",
                                           "\xf4\x8f\xbf\xbf",
                                           "\xf4\x8f\xbf\xbf/x"};
  std::vector<std::string> shuffled = sorted;
  std::reverse(shuffled.begin(), shuffled.end());
  std::swap(shuffled[2], shuffled[7]);
  for (const std::string& key : shuffled) MustPut(NewObject(bucket, key));
  for (int limit = 1; limit <= 4; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_THAT(AllKeys(bucket.id, {.limit = limit}), ElementsAreArray(sorted));
  }
  EXPECT_THAT(AllKeys(bucket.id, {.prefix = "\xe4\xb8\xad"}),
              ElementsAreArray({"\xe4\xb8\xad/\xe6\x96\x87"}));
  // The highest code point as a prefix: its range has no successor of the same length.
  EXPECT_THAT(AllKeys(bucket.id, {.prefix = "\xf4\x8f\xbf\xbf"}),
              ElementsAreArray({"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf/x"}));
  Listing folders = ListAll(bucket.id, {.delimiter = "/"});
  EXPECT_THAT(folders.prefixes, ElementsAreArray({"a/", "\xe4\xb8\xad/", "\xf4\x8f\xbf\xbf/"}));
}

TEST_P(MetadataStoreContractTest, MetadataFilterMatchesTopLevelFieldsByJsonValue) {
  Bucket bucket = MustCreateBucket();
  MustPut(NewObject(bucket, "k1", 1, {{"camera", "x100"}, {"iso", 400}, {"raw", true}}));
  MustPut(NewObject(bucket, "k2", 2, {{"camera", "x100"}, {"iso", 400.0}, {"raw", false}}));
  MustPut(NewObject(bucket, "k3", 3, {{"camera", "X100"}, {"iso", "400"}, {"raw", 1}}));
  MustPut(NewObject(bucket, "k4", 4, {{"camera", nullptr}, {"tags", {"a", "b"}}}));
  MustPut(NewObject(bucket, "k5", 5, {{"lens", {{"mm", 35}}}, {"a\"b", "q"}}));
  MustPut(NewObject(bucket, "k6", 6));

  auto keys = [&](std::vector<std::pair<std::string, Json>> equals) {
    return AllKeys(bucket.id, {.metadata_equals = std::move(equals), .limit = 1});
  };
  EXPECT_THAT(keys({{"camera", "x100"}}), ElementsAreArray({"k1", "k2"}));
  EXPECT_THAT(keys({{"iso", 400}}), ElementsAreArray({"k1", "k2"}));  // 400 == 400.0
  EXPECT_THAT(keys({{"iso", "400"}}), ElementsAreArray({"k3"}));
  EXPECT_THAT(keys({{"raw", true}}), ElementsAreArray({"k1"}));  // true != 1
  EXPECT_THAT(keys({{"raw", 1}}), ElementsAreArray({"k3"}));
  EXPECT_THAT(keys({{"raw", false}}), ElementsAreArray({"k2"}));
  EXPECT_THAT(keys({{"camera", nullptr}}), ElementsAreArray({"k4"}));  // absent is not null
  EXPECT_THAT(keys({{"tags", {"a", "b"}}}), ElementsAreArray({"k4"}));
  EXPECT_THAT(keys({{"tags", {"b", "a"}}}), IsEmpty());
  EXPECT_THAT(keys({{"lens", {{"mm", 35}}}}), ElementsAreArray({"k5"}));
  EXPECT_THAT(keys({{"a\"b", "q"}}), ElementsAreArray({"k5"}));
  EXPECT_THAT(keys({{"camera", "x100"}, {"raw", false}}), ElementsAreArray({"k2"}));
  EXPECT_THAT(keys({{"camera", "x100"}, {"raw", 1}}), IsEmpty());
  EXPECT_THAT(keys({{"mm", 35}}), IsEmpty());  // top-level fields only
}

TEST_P(MetadataStoreContractTest, FilteredPagesAreFullWhenMoreMatchesFollow) {
  Bucket bucket = MustCreateBucket();
  std::vector<std::string> blue;
  for (int i = 0; i < 30; ++i) {
    std::string key = fmt::format("item-{:02}", i);
    bool is_blue = i % 7 == 3;
    MustPut(NewObject(bucket, key, i, {{"color", is_blue ? "blue" : "red"}}));
    if (is_blue) blue.push_back(key);
  }
  ASSERT_EQ(blue.size(), 4u);
  for (int limit = 1; limit <= 5; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_THAT(AllKeys(bucket.id, {.metadata_equals = {{"color", "blue"}}, .limit = limit}),
                ElementsAreArray(blue));
  }
  // The last match ends the listing: no cursor to an empty page.
  auto page = store_->ListObjects(bucket.id, {.metadata_equals = {{"color", "blue"}}, .limit = 4});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->objects.size(), 4u);
  EXPECT_EQ(page->next_after_key, "");
}

TEST_P(MetadataStoreContractTest, FilterFindsAMatchPastALongRunOfNonMatches) {
  Bucket bucket = MustCreateBucket();
  // More non-matching objects before the match than any page holds.
  for (int i = 0; i < 1100; ++i) {
    MustPut(NewObject(bucket, fmt::format("a-{:04}", i), i, {{"tags", {"x"}}}));
  }
  MustPut(NewObject(bucket, "b", 5000, {{"tags", {"y"}}}));
  MustPut(NewObject(bucket, "c", 5001, {{"tags", {"y"}}}));
  EXPECT_THAT(AllKeys(bucket.id, {.metadata_equals = {{"tags", {"y"}}}, .limit = 1}),
              ElementsAreArray({"b", "c"}));
}

TEST_P(MetadataStoreContractTest, FilteredDelimiterListsOnlyPrefixesWithAMatch) {
  Bucket bucket = MustCreateBucket();
  MustPut(NewObject(bucket, "a/1", 1, {{"keep", false}}));
  MustPut(NewObject(bucket, "a/2", 2, {{"keep", true}}));
  MustPut(NewObject(bucket, "b/1", 3, {{"keep", false}}));
  MustPut(NewObject(bucket, "c", 4, {{"keep", true}}));
  MustPut(NewObject(bucket, "d", 5, {{"keep", false}}));
  for (int limit = 1; limit <= 3; ++limit) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    Listing listing =
        ListAll(bucket.id, {.delimiter = "/", .metadata_equals = {{"keep", true}}, .limit = limit});
    EXPECT_THAT(listing.keys, ElementsAreArray({"c"}));
    EXPECT_THAT(listing.prefixes, ElementsAreArray({"a/"}));
  }
}

TEST_P(MetadataStoreContractTest, ListLimitOutsideOneToThousandIsInvalid) {
  Bucket bucket = MustCreateBucket();
  for (int limit : {0, -1, 1001}) {
    EXPECT_EQ(store_->ListObjects(bucket.id, {.limit = limit}).status().code(),
              StatusCode::kInvalidArgument)
        << limit;
  }
  EXPECT_TRUE(store_->ListObjects(bucket.id, {.limit = 1000}).ok());
}

TEST_P(MetadataStoreContractTest, UpdateMetadataReplacesItUnderItsCondition) {
  Bucket bucket = MustCreateBucket();
  StoredObject object = MustPut(NewObject(bucket, "doc", 1, {{"a", 1}, {"b", 2}})).object;
  TimestampUs now = clock_.NowUs() + 1'000'000;
  auto updated = store_->UpdateObjectMetadata(bucket.id, "doc", {{"c", 3}}, "", now);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  StoredObject expected = object;
  expected.metadata = {{"c", 3}};
  expected.updated_at = now;
  EXPECT_EQ(Describe(*updated), Describe(expected));
  EXPECT_EQ(Describe(store_->GetObject(bucket.id, "doc").value_or(StoredObject{})),
            Describe(expected));

  auto wrong = store_->UpdateObjectMetadata(bucket.id, "doc", {{"d", 4}}, Sha(2), now + 1);
  EXPECT_EQ(wrong.status().code(), StatusCode::kConditionFailed) << wrong.status().ToString();
  auto right = store_->UpdateObjectMetadata(bucket.id, "doc", {{"d", 4}}, Sha(1), now + 2);
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  expected.metadata = {{"d", 4}};
  expected.updated_at = now + 2;
  EXPECT_EQ(Describe(store_->GetObject(bucket.id, "doc").value_or(StoredObject{})),
            Describe(expected));

  EXPECT_EQ(store_->UpdateObjectMetadata(bucket.id, "nope", {}, "", now).status().code(),
            StatusCode::kNotFound);
}

TEST_P(MetadataStoreContractTest, DeleteObjectReturnsItOnce) {
  Bucket bucket = MustCreateBucket();
  StoredObject object = MustPut(NewObject(bucket, "bye", 1, {{"x", "y"}})).object;
  MustPut(NewObject(bucket, "stay", 2));
  auto deleted = store_->DeleteObject(bucket.id, "bye");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(Describe(*deleted), Describe(object));
  EXPECT_EQ(store_->GetObject(bucket.id, "bye").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteObject(bucket.id, "bye").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(AllKeys(bucket.id), ElementsAreArray({"stay"}));
}

TEST_P(MetadataStoreContractTest, BlobIsReferencedWhileAnyObjectInAnyNamespaceHasIt) {
  Bucket first = MustCreateBucket("first");
  Bucket second = MustCreateBucket("second");  // another namespace
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  MustPut(NewObject(first, "a", 1));
  MustPut(NewObject(second, "b", 1));
  EXPECT_TRUE(store_->BlobReferenced(Sha(1)).value_or(false));
  ASSERT_TRUE(store_->DeleteObject(first.id, "a").ok());
  EXPECT_TRUE(store_->BlobReferenced(Sha(1)).value_or(false));
  MustPut(NewObject(second, "b", 2));  // replaced by other bytes
  EXPECT_FALSE(store_->BlobReferenced(Sha(1)).value_or(true));
  EXPECT_TRUE(store_->BlobReferenced(Sha(2)).value_or(false));
}

TEST_P(MetadataStoreContractTest, BucketsAndObjectsSurviveReopening) {
  Bucket bucket = MustCreateBucket("durable");
  StoredObject object = MustPut(NewObject(bucket, "k\xc3\xa9y", 1, {{"n", 1.5}})).object;
  store_.reset();
  auto reopened = registry_.metadata.Create(
      GetParam(), StoreArgs{.config = &config_, .data_dir = dir_, .clock = &clock_});
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();
  EXPECT_EQ(Describe(store_->GetBucket(bucket.namespace_id, "durable").value_or(Bucket{})),
            Describe(bucket));
  EXPECT_EQ(Describe(store_->GetObject(bucket.id, "k\xc3\xa9y").value_or(StoredObject{})),
            Describe(object));
  EXPECT_TRUE(store_->BlobReferenced(Sha(1)).value_or(false));
}

INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreContractTest, testing::Values("sqlite"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace argus::store
