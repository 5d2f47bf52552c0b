#include "store/sqlite/sqlite_metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "core/id.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/temp_dir_for_test.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store::sqlite {
namespace {

using ::testing::HasSubstr;

class SqliteMetadataStoreTest : public testing::Test {
 protected:
  Result<std::unique_ptr<MetadataStore>> Create() {
    return SqliteMetadataStore::Create(
        {.config = &config_, .data_dir = dir_.path(), .clock = &clock_});
  }

  std::unique_ptr<MetadataStore> MustCreate() {
    auto store = Create();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  Namespace MakeNamespace(const std::string& name) {
    clock_.AdvanceUs(1000);
    return {.id = NewId(clock_),
            .name = name,
            .settings = {{"k", name}},
            .created_at = clock_.NowUs(),
            .updated_at = clock_.NowUs()};
  }

  std::string DbPath() const { return dir_.File("metadata.db"); }

  TempDirForTest dir_;
  FakeClock clock_{1'700'000'000'000'000};
  Config config_;
};

TEST_F(SqliteMetadataStoreTest, DatabaseFileIsInDataDirInWalMode) {
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Ping().ok());
  EXPECT_TRUE(std::filesystem::exists(DbPath()));
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteMetadataStoreTest, NewDatabaseIsAtTheLatestSchemaVersion) {
  ASSERT_NE(MustCreate(), nullptr);
  EXPECT_EQ(RawQuery(DbPath(), "SELECT max(version) FROM schema_migrations"),
            std::to_string(MetadataMigrations().size()));
}

TEST_F(SqliteMetadataStoreTest, DatabaseWithNewerSchemaIsRefused) {
  ASSERT_NE(MustCreate(), nullptr);
  const std::string future = std::to_string(MetadataMigrations().size() + 1);
  RawQuery(DbPath(),
           "INSERT INTO schema_migrations(version, description, applied_at_us) "
           "VALUES (" +
               future + ", 'from the future', 0); SELECT 1");
  auto store = Create();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(), "database " + DbPath() + " has schema version " + future +
                                          " but this argus knows up to " +
                                          std::to_string(MetadataMigrations().size()) +
                                          "; upgrade argus");
}

TEST_F(SqliteMetadataStoreTest, EmptyVersionZeroDatabaseIsMigratedInPlace) {
  // A database that exists but predates any migration: an unrelated table, no history.
  RawQuery(DbPath(),
           "CREATE TABLE operator_notes(note TEXT); "
           "INSERT INTO operator_notes VALUES ('keep me'); SELECT 1");
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateNamespace(MakeNamespace("after-upgrade")).ok());
  EXPECT_EQ(RawQuery(DbPath(), "SELECT max(version) FROM schema_migrations"),
            std::to_string(MetadataMigrations().size()));
  EXPECT_EQ(RawQuery(DbPath(), "SELECT note FROM operator_notes"), "keep me");
}

TEST_F(SqliteMetadataStoreTest, ReopeningDoesNotReapplyMigrations) {
  ASSERT_NE(MustCreate(), nullptr);
  clock_.AdvanceUs(5'000'000);
  ASSERT_NE(MustCreate(), nullptr);
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM schema_migrations"),
            std::to_string(MetadataMigrations().size()));
  EXPECT_EQ(RawQuery(DbPath(), "SELECT max(applied_at_us) FROM schema_migrations"),
            "1700000000000000");
}

TEST_F(SqliteMetadataStoreTest, DataSurvivesCloseAndReopen) {
  Namespace ns = MakeNamespace("durable");
  ApiKey key{.id = NewId(clock_),
             .namespace_id = ns.id,
             .name = "ci",
             .role = Role::kEditor,
             .prefix = "argus_abc",
             .hash = std::string(32, '\x07'),
             .created_at = 5,
             .updated_at = 6,
             .expires_at = 99};
  {
    auto store = MustCreate();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateNamespace(ns).ok());
    ASSERT_TRUE(store->CreateApiKey(key).ok());
    ASSERT_TRUE(store->PutSystemValue("admin_key_created", "yes").ok());
  }
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  auto got_ns = store->GetNamespaceByName("durable");
  ASSERT_TRUE(got_ns.ok()) << got_ns.status().ToString();
  EXPECT_EQ(got_ns->id, ns.id);
  EXPECT_EQ(got_ns->settings, ns.settings);
  auto got_key = store->GetApiKeyByPrefix("argus_abc");
  ASSERT_TRUE(got_key.ok()) << got_key.status().ToString();
  EXPECT_EQ(got_key->id, key.id);
  EXPECT_EQ(got_key->hash, key.hash);
  EXPECT_EQ(got_key->expires_at, 99);
  auto value = store->GetSystemValue("admin_key_created");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "yes");
}

TEST_F(SqliteMetadataStoreTest, MissingDataDirIsFailedPrecondition) {
  auto store = SqliteMetadataStore::Create({.config = &config_, .data_dir = dir_.File("nope")});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(dir_.File("nope")));
}

TEST_F(SqliteMetadataStoreTest, OptionsComeFromConfig) {
  auto defaults = SqliteOptionsFromConfig(config_);
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->synchronous_full);
  EXPECT_EQ(defaults->busy_timeout_ms, 5000);

  ASSERT_TRUE(config_.Set("metadata.sqlite.synchronous", "full", "flag").ok());
  ASSERT_TRUE(config_.Set("metadata.sqlite.busy_timeout_ms", "250", "flag").ok());
  auto full = SqliteOptionsFromConfig(config_);
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->synchronous_full);
  EXPECT_EQ(full->busy_timeout_ms, 250);
  EXPECT_NE(MustCreate(), nullptr);
}

TEST_F(SqliteMetadataStoreTest, BadSettingsAreInvalidArgument) {
  ASSERT_TRUE(config_.Set("metadata.sqlite.synchronous", "sometimes", "flag").ok());
  auto store = Create();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("metadata.sqlite.synchronous"));

  ASSERT_TRUE(config_.Set("metadata.sqlite.synchronous", "normal", "flag").ok());
  ASSERT_TRUE(config_.Set("metadata.sqlite.busy_timeout_ms", "-1", "flag").ok());
  store = Create();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteMetadataStoreTest, PageLimitOutsideOneToThousandIsInvalidArgument) {
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  for (int limit : {0, -1, 1001}) {
    EXPECT_EQ(store->ListNamespaces({.limit = limit}).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store->ListApiKeys("", {.limit = limit}, true).status().code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(store->ListNamespaces({.limit = 1000}).ok());
}

TEST_F(SqliteMetadataStoreTest, ListingKeysOfUnknownNamespaceIsEmpty) {
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  auto page = store->ListApiKeys(NewId(clock_), {}, true);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->items.empty());
  EXPECT_TRUE(page->next_after_id.empty());
}

TEST_F(SqliteMetadataStoreTest, WriteLockedByAnotherProcessIsUnavailableButReadsProceed) {
  ASSERT_TRUE(config_.Set("metadata.sqlite.busy_timeout_ms", "0", "flag").ok());
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  Namespace before = MakeNamespace("before");
  ASSERT_TRUE(store->CreateNamespace(before).ok());

  auto other = SqliteDatabase::Open(DbPath(), {});  // stands in for a second process
  ASSERT_TRUE(other.ok());
  auto held = Transaction::BeginImmediate(**other, "hold the write lock");
  ASSERT_TRUE(held.ok());

  Namespace blocked = MakeNamespace("blocked");
  auto created = store->CreateNamespace(blocked);
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable) << created.status().ToString();
  EXPECT_THAT(std::string(created.status().message()), HasSubstr(DbPath()));
  EXPECT_TRUE(store->GetNamespace(before.id).ok());  // WAL: readers are not blocked

  ASSERT_TRUE(held->Commit().ok());
  EXPECT_TRUE(store->CreateNamespace(blocked).ok());  // retrying succeeds
}

TEST_F(SqliteMetadataStoreTest, CorruptSettingsAreInternal) {
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  Namespace ns = MakeNamespace("corrupt");
  ASSERT_TRUE(store->CreateNamespace(ns).ok());
  RawQuery(DbPath(),
           "UPDATE namespaces SET settings = '{not json' WHERE id = '" + ns.id + "'; SELECT 1");
  auto got = store->GetNamespace(ns.id);
  EXPECT_EQ(got.status().code(), StatusCode::kInternal);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr(ns.id));
}

TEST_F(SqliteMetadataStoreTest, SettingsThatAreNotValidUtf8AreInvalidArgument) {
  auto store = MustCreate();
  ASSERT_NE(store, nullptr);
  Namespace ns = MakeNamespace("bad-utf8");
  ns.settings = {{"k", std::string("\xff\xfe")}};
  EXPECT_EQ(store->CreateNamespace(ns).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetNamespaceByName("bad-utf8").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace argus::store::sqlite
