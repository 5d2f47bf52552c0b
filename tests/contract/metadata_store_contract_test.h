// Shared fixture of the MetadataStore conformance suite (src/store/metadata_store.h), run against
// every backend by name: metadata_store_contract_test.cc instantiates it over the backends, and
// every file of the suite (upload_contract_test.cc, ...) adds TEST_Ps to it. Stores are created
// only through the StoreRegistry, never by concrete type, with a FakeClock for time and a fresh
// data directory per test.

#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/id.h"
#include "store/event_log.h"
#include "store/inprocess/in_process_event_bus.h"
#include "store/metadata_store.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store {

// Every backend compiled in. A server-based backend adds its Register call here behind its
// ARGUS_WITH_* option, and its name to the INSTANTIATE_TEST_SUITE_P list at the end of
// metadata_store_contract_test.cc.
inline Status RegisterAllMetadataBackends(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(sqlite::RegisterSqliteStores(registry));
  return OkStatus();
}

// Every field, so a mismatch shows up as a readable diff.
inline std::string Describe(const Namespace& ns) {
  std::ostringstream out;
  out << "id=" << ns.id << " name=" << ns.name << " settings=" << ns.settings.dump()
      << " created_at=" << ns.created_at << " updated_at=" << ns.updated_at;
  return out.str();
}

inline std::string Describe(const ApiKey& key) {
  std::ostringstream out;
  out << "id=" << key.id << " namespace_id=" << key.namespace_id << " name=" << key.name
      << " role=" << RoleName(key.role) << " prefix=" << key.prefix << " hash=";
  for (unsigned char c : key.hash) out << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
  out << " created_at=" << key.created_at << " updated_at=" << key.updated_at
      << " expires_at=" << (key.expires_at ? std::to_string(*key.expires_at) : "none")
      << " revoked_at=" << (key.revoked_at ? std::to_string(*key.revoked_at) : "none");
  return out.str();
}

inline std::string Describe(const Bucket& bucket) {
  std::ostringstream out;
  out << "id=" << bucket.id << " namespace_id=" << bucket.namespace_id << " name=" << bucket.name
      << " description=" << bucket.description << " max_object_bytes=" << bucket.max_object_bytes
      << " allowed_media_types=" << Json(bucket.allowed_media_types).dump()
      << " metadata_schema=" << bucket.metadata_schema.dump() << " created_at=" << bucket.created_at
      << " updated_at=" << bucket.updated_at;
  return out.str();
}

inline std::string Describe(const StoredObject& object) {
  std::ostringstream out;
  out << "id=" << object.id << " namespace_id=" << object.namespace_id
      << " bucket_id=" << object.bucket_id << " key=" << object.key << " size=" << object.size
      << " sha256=" << object.sha256 << " media_type=" << object.media_type
      << " metadata=" << object.metadata.dump() << " status=" << object.status
      << " created_at=" << object.created_at << " updated_at=" << object.updated_at;
  return out.str();
}

inline std::string Describe(const Upload& upload) {
  std::ostringstream out;
  out << "id=" << upload.id << " namespace_id=" << upload.namespace_id
      << " bucket_id=" << upload.bucket_id << " key=" << upload.key
      << " metadata=" << upload.metadata.dump() << " created_at=" << upload.created_at
      << " expires_at=" << upload.expires_at;
  return out.str();
}

inline std::string Describe(const UploadPart& part) {
  std::ostringstream out;
  out << "number=" << part.number << " sha256=" << part.sha256 << " size=" << part.size
      << " created_at=" << part.created_at;
  return out.str();
}

inline std::vector<std::string> Describe(const std::vector<UploadPart>& parts) {
  std::vector<std::string> described;
  for (const UploadPart& part : parts) described.push_back(Describe(part));
  return described;
}

// A stand-in for the digest of some bytes: distinct contents, distinct canonical digests.
inline std::string Sha(int content) { return fmt::format("{:064x}", content); }

template <typename T>
std::vector<std::string> Ids(const std::vector<T>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.id);
  return ids;
}

class MetadataStoreContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterAllMetadataBackends(registry_).ok());
    std::string pattern = testing::TempDir() + "argus-contract-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    OpenStores();
  }

  // The metadata store and the event log it appends to (same backend, same directory).
  void OpenStores() {
    const StoreArgs args{
        .config = &config_, .data_dir = dir_, .clock = &clock_, .event_bus = &bus_};
    auto store = registry_.metadata.Create(GetParam(), args);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto log = registry_.event_log.Create(GetParam(), args);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }

  void TearDown() override {
    store_.reset();
    log_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  /// Closes the store and opens a new instance on the same data directory.
  void ReopenStore() {
    store_.reset();
    log_.reset();
    OpenStores();
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

  Bucket NewBucket(const std::string& namespace_id, const std::string& name) {
    clock_.AdvanceUs(1000);
    Bucket bucket;
    bucket.id = NewId(clock_);
    bucket.namespace_id = namespace_id;
    bucket.name = name;
    bucket.description = "all about " + name;
    bucket.max_object_bytes = 5'000'000;
    bucket.allowed_media_types = {"image/*", "application/pdf"};
    bucket.metadata_schema = {{"type", "object"}, {"required", {"camera"}}};
    bucket.created_at = clock_.NowUs();
    bucket.updated_at = clock_.NowUs() + 5;
    return bucket;
  }

  Bucket MustCreate(const Bucket& bucket) {
    auto created = store_->CreateBucket(bucket);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return bucket;
  }

  // A namespace with one bucket, for tests about objects.
  Bucket MustCreateBucket(const std::string& name = "photos") {
    Namespace ns = MustCreate(NewNamespace("ns-" + std::to_string(++namespace_counter_)));
    return MustCreate(NewBucket(ns.id, name));
  }

  StoredObject NewObject(const Bucket& bucket, const std::string& key, int content = 1,
                         Json metadata = Json::object()) {
    clock_.AdvanceUs(1000);
    StoredObject object;
    object.id = NewId(clock_);
    object.namespace_id = bucket.namespace_id;
    object.bucket_id = bucket.id;
    object.key = key;
    object.size = 100 + content;
    object.sha256 = Sha(content);
    object.media_type = "image/jpeg";
    object.metadata = std::move(metadata);
    object.created_at = clock_.NowUs();
    object.updated_at = clock_.NowUs() + 2;
    return object;
  }

  PutObjectResult MustPut(const StoredObject& object, const ObjectPrecondition& condition = {}) {
    auto put = store_->PutObject(object, condition);
    EXPECT_TRUE(put.ok()) << put.status().ToString();
    return put.ok() ? std::move(put).value() : PutObjectResult{};
  }

  // Keys and common prefixes of one listing, in the order listed.
  struct Listing {
    std::vector<std::string> keys;
    std::vector<std::string> prefixes;
  };

  // Walks every page with request.limit, checking the page invariants on the way: at most limit
  // items, each listed once, in order and past the cursor; a page that says more follows is full
  // and ends at its cursor.
  Listing ListAll(const std::string& bucket_id, ListObjectsRequest request) {
    Listing all;
    std::set<std::string> seen;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = store_->ListObjects(bucket_id, request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      std::vector<std::string> items;
      for (const StoredObject& object : page->objects) {
        EXPECT_EQ(object.bucket_id, bucket_id);
        all.keys.push_back(object.key);
        items.push_back(object.key);
      }
      for (const std::string& prefix : page->common_prefixes) {
        all.prefixes.push_back(prefix);
        items.push_back(prefix);
      }
      EXPECT_LE(static_cast<int>(items.size()), request.limit);
      for (const std::string& item : items) {
        EXPECT_TRUE(seen.insert(item).second) << "listed twice: " << item;
        EXPECT_GT(item, request.after_key);
      }
      if (page->next_after_key.empty()) break;
      EXPECT_EQ(static_cast<int>(items.size()), request.limit);
      EXPECT_EQ(page->next_after_key, *std::max_element(items.begin(), items.end()));
      request.after_key = page->next_after_key;
    }
    EXPECT_TRUE(std::is_sorted(all.keys.begin(), all.keys.end()));
    EXPECT_TRUE(std::is_sorted(all.prefixes.begin(), all.prefixes.end()));
    return all;
  }

  std::vector<std::string> AllKeys(const std::string& bucket_id, ListObjectsRequest request = {}) {
    return ListAll(bucket_id, std::move(request)).keys;
  }

  // An upload of `key` in `bucket` that expires `ttl_us` after it is created.
  Upload NewUpload(const Bucket& bucket, const std::string& key,
                   int64_t ttl_us = int64_t{24} * 3600 * 1'000'000) {
    clock_.AdvanceUs(1000);
    Upload upload;
    upload.id = NewId(clock_);
    upload.namespace_id = bucket.namespace_id;
    upload.bucket_id = bucket.id;
    upload.key = key;
    upload.metadata = {{"camera", "x100"}, {"tags", {"a", "b"}}};
    upload.created_at = clock_.NowUs();
    upload.expires_at = clock_.NowUs() + ttl_us;
    return upload;
  }

  Upload MustCreate(const Upload& upload) {
    auto created = store_->CreateUpload(upload);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return upload;
  }

  // Part `number` holding the blob of `content` (see Sha).
  UploadPart NewPart(int number, int content) {
    clock_.AdvanceUs(1000);
    return UploadPart{.number = number,
                      .sha256 = Sha(content),
                      .size = 1000 + content,
                      .created_at = clock_.NowUs()};
  }

  UploadPart MustPutPart(const Upload& upload, const UploadPart& part) {
    Status status = store_->PutUploadPart(upload.bucket_id, upload.id, part);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return part;
  }

  // The upload's parts, described; one "error: ..." item when the call fails.
  std::vector<std::string> PartsOf(const Upload& upload) {
    auto parts = store_->ListUploadParts(upload.bucket_id, upload.id);
    if (!parts.ok()) return {"error: " + parts.status().ToString()};
    return Describe(*parts);
  }

  std::vector<std::string> AllBucketIds(const std::string& ns_id, int limit) {
    return WalkPages(limit,
                     [&](const PageRequest& req) { return store_->ListBuckets(ns_id, req); });
  }

  StoreRegistry registry_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
  std::string dir_;
  inprocess::InProcessEventBus bus_;  // before the stores: it outlives them
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<EventLog> log_;
  int key_counter_ = 0;
  int namespace_counter_ = 0;
};

}  // namespace argus::store
