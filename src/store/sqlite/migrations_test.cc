#include "store/sqlite/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/temp_dir_for_test.h"

namespace argus::store::sqlite {
namespace {

using ::testing::HasSubstr;

constexpr Migration kV1 = {1, "widgets", "CREATE TABLE widgets(id INTEGER PRIMARY KEY, name TEXT)"};
constexpr Migration kV2 = {2, "widget colour", "ALTER TABLE widgets ADD COLUMN colour TEXT"};
constexpr Migration kV2Broken = {
    2, "half-broken", "CREATE TABLE gadgets(id INTEGER); INSERT INTO no_such_table VALUES (1)"};

class MigrationsTest : public testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDatabase::Open(dir_.File("test.db"), {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  int Version() {
    auto v = SchemaVersion(*db_);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.value_or(-1);
  }

  std::string Query(std::string_view sql) {
    auto text = db_->QueryText(sql, "test query");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.value_or("<error>");
  }

  bool TableExists(std::string_view name) {
    return Query("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '" +
                 std::string(name) + "'") == "1";
  }

  TempDirForTest dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(MigrationsTest, EmptyDatabaseIsVersionZero) { EXPECT_EQ(Version(), 0); }

TEST_F(MigrationsTest, MetadataMigrationsAreNumberedFromOne) {
  auto all = MetadataMigrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
}

TEST_F(MigrationsTest, NewDatabaseGetsTheMetadataSchema) {
  ASSERT_TRUE(ApplyMigrations(*db_, MetadataMigrations(), 100).ok());
  EXPECT_EQ(Version(), static_cast<int>(MetadataMigrations().size()));
  EXPECT_TRUE(TableExists("namespaces"));
  EXPECT_TRUE(TableExists("api_keys"));
  EXPECT_TRUE(TableExists("system_values"));
  EXPECT_TRUE(TableExists("buckets"));
  EXPECT_TRUE(TableExists("objects"));
  EXPECT_TRUE(TableExists("uploads"));
  EXPECT_TRUE(TableExists("upload_parts"));
  EXPECT_TRUE(TableExists("syncs"));
  EXPECT_TRUE(TableExists("sync_files"));
  for (std::string_view index :
       {"api_keys_by_namespace", "buckets_by_namespace", "objects_by_bucket_sha256",
        "objects_by_sha256", "uploads_by_bucket", "uploads_by_expiry", "upload_parts_by_sha256",
        "syncs_by_bucket", "sync_files_by_state"}) {
    std::string sql = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '";
    sql.append(index).append("'");
    EXPECT_EQ(Query(sql), "1") << index;
  }
}

TEST_F(MigrationsTest, MetadataDeletesCascadeFromNamespacesThroughBucketsToObjects) {
  ASSERT_TRUE(ApplyMigrations(*db_, MetadataMigrations(), 100).ok());
  constexpr std::string_view kRows = R"sql(
    INSERT INTO namespaces VALUES ('n1', 'one', '{}', 1, 1);
    INSERT INTO buckets VALUES ('b1', 'n1', 'photos', '', 0, '[]', 'null', 1, 1);
    INSERT INTO objects VALUES ('o1', 'n1', 'b1', 'a', 1, 'h', 'image/png', '{}', 'ready', 1, 1);
  )sql";
  ASSERT_TRUE(db_->Exec(kRows, "insert rows").ok());
  // Bucket names are unique per namespace, keys per bucket.
  constexpr std::string_view kSameName =
      "INSERT INTO buckets VALUES ('b2', 'n1', 'photos', '', 0, '[]', 'null', 1, 1)";
  EXPECT_EQ(db_->Exec(kSameName, "same name").code(), StatusCode::kAlreadyExists);
  constexpr std::string_view kSameKey =
      "INSERT INTO objects VALUES ('o2', 'n1', 'b1', 'a', 2, 'h', 'text/x', '{}', 'ready', 2, 2)";
  EXPECT_EQ(db_->Exec(kSameKey, "same key").code(), StatusCode::kAlreadyExists);

  ASSERT_TRUE(db_->Exec("DELETE FROM namespaces WHERE id = 'n1'", "delete namespace").ok());
  EXPECT_EQ(Query("SELECT count(*) FROM buckets"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM objects"), "0");
}

TEST_F(MigrationsTest, MetadataDeletesCascadeFromBucketsThroughUploadsToParts) {
  ASSERT_TRUE(ApplyMigrations(*db_, MetadataMigrations(), 100).ok());
  constexpr std::string_view kRows = R"sql(
    INSERT INTO namespaces VALUES ('n1', 'one', '{}', 1, 1);
    INSERT INTO buckets VALUES ('b1', 'n1', 'photos', '', 0, '[]', 'null', 1, 1);
    INSERT INTO buckets VALUES ('b2', 'n1', 'other', '', 0, '[]', 'null', 1, 1);
    INSERT INTO uploads VALUES ('u1', 'n1', 'b1', 'a', '{}', 1, 10);
    INSERT INTO uploads VALUES ('u2', 'n1', 'b1', 'b', '{}', 1, 10);
    INSERT INTO uploads VALUES ('u3', 'n1', 'b2', 'c', '{}', 1, 10);
    INSERT INTO upload_parts VALUES ('u1', 1, 'h1', 5, 1);
    INSERT INTO upload_parts VALUES ('u1', 2, 'h2', 5, 1);
    INSERT INTO upload_parts VALUES ('u2', 1, 'h3', 5, 1);
    INSERT INTO upload_parts VALUES ('u3', 1, 'h4', 5, 1);
  )sql";
  ASSERT_TRUE(db_->Exec(kRows, "insert rows").ok());
  // One row per (upload, number); numbers stay in 1..10000; a part needs its upload.
  EXPECT_EQ(db_->Exec("INSERT INTO upload_parts VALUES ('u1', 1, 'h9', 5, 2)", "same").code(),
            StatusCode::kAlreadyExists);
  EXPECT_FALSE(db_->Exec("INSERT INTO upload_parts VALUES ('u1', 0, 'h', 5, 2)", "zero").ok());
  EXPECT_FALSE(db_->Exec("INSERT INTO upload_parts VALUES ('u1', 10001, 'h', 5, 2)", "big").ok());
  EXPECT_FALSE(db_->Exec("INSERT INTO upload_parts VALUES ('nope', 1, 'h', 5, 2)", "orphan").ok());

  ASSERT_TRUE(db_->Exec("DELETE FROM uploads WHERE id = 'u2'", "delete upload").ok());
  EXPECT_EQ(Query("SELECT group_concat(sha256) FROM (SELECT sha256 FROM upload_parts ORDER BY 1)"),
            "h1,h2,h4");
  ASSERT_TRUE(db_->Exec("DELETE FROM buckets WHERE id = 'b1'", "delete bucket").ok());
  EXPECT_EQ(Query("SELECT group_concat(id) FROM (SELECT id FROM uploads ORDER BY 1)"), "u3");
  EXPECT_EQ(Query("SELECT group_concat(sha256) FROM (SELECT sha256 FROM upload_parts ORDER BY 1)"),
            "h4");
  ASSERT_TRUE(db_->Exec("DELETE FROM namespaces WHERE id = 'n1'", "delete namespace").ok());
  EXPECT_EQ(Query("SELECT count(*) FROM uploads"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM upload_parts"), "0");
}

TEST_F(MigrationsTest, MetadataV2DatabaseGainsUploadsKeepingItsObjects) {
  ASSERT_TRUE(ApplyMigrations(*db_, MetadataMigrations().first(2), 100).ok());
  constexpr std::string_view kRows = R"sql(
    INSERT INTO namespaces VALUES ('n1', 'one', '{}', 1, 1);
    INSERT INTO buckets VALUES ('b1', 'n1', 'photos', '', 0, '[]', 'null', 1, 1);
    INSERT INTO objects VALUES ('o1', 'n1', 'b1', 'a', 1, 'h', 'image/png', '{}', 'ready', 1, 1);
  )sql";
  ASSERT_TRUE(db_->Exec(kRows, "insert v2 rows").ok());
  ASSERT_FALSE(TableExists("uploads"));
  Status s = ApplyMigrations(*db_, MetadataMigrations(), 200);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Version(), static_cast<int>(MetadataMigrations().size()));
  EXPECT_EQ(Query("SELECT key FROM objects WHERE bucket_id = 'b1'"), "a");
  EXPECT_TRUE(TableExists("uploads"));
  EXPECT_TRUE(TableExists("upload_parts"));
  EXPECT_EQ(Query("SELECT description FROM schema_migrations WHERE version = 3"),
            "uploads, upload_parts");
}

TEST_F(MigrationsTest, MetadataDeletesCascadeFromBucketsThroughSyncsToFiles) {
  ASSERT_TRUE(ApplyMigrations(*db_, MetadataMigrations(), 100).ok());
  constexpr std::string_view kRows = R"sql(
    INSERT INTO namespaces VALUES ('n1', 'one', '{}', 1, 1);
    INSERT INTO buckets VALUES ('b1', 'n1', 'photos', '', 0, '[]', 'null', 1, 1);
    INSERT INTO buckets VALUES ('b2', 'n1', 'other', '', 0, '[]', 'null', 1, 1);
    INSERT INTO syncs VALUES ('s1', 'n1', 'b1', 'folder', '{}', '', '{}', 60, 0, '', '', 0, 0, 0,
                              '', 1, 1);
    INSERT INTO syncs VALUES ('s2', 'n1', 'b1', 'folder', '{}', '', '{}', 1, 1, '', '', 0, 0, 0,
                              '', 1, 1);
    INSERT INTO syncs VALUES ('s3', 'n1', 'b2', 's3', '{}', 'p/', '{}', 1.5, 0, '', '', 0, 0, 0,
                              '', 1, 1);
    INSERT INTO sync_files VALUES ('s1', 'a', 'v1', 1, 'pending', '', 0, 'a', 1);
    INSERT INTO sync_files VALUES ('s1', 'b', 'v1', 1, 'failed', 'boom', 2, 'b', 1);
    INSERT INTO sync_files VALUES ('s2', 'c', 'v1', 1, 'ingested', '', 0, 'c', 1);
    INSERT INTO sync_files VALUES ('s3', 'd', 'v1', 1, 'ingested', '', 0, 'p/d', 1);
  )sql";
  ASSERT_TRUE(db_->Exec(kRows, "insert rows").ok());
  // One record per (sync, path); states, sizes and intervals are checked; a record needs its
  // sync and a sync its bucket.
  constexpr std::string_view kSamePath =
      "INSERT INTO sync_files VALUES ('s1', 'a', 'v2', 1, 'pending', '', 0, 'a', 2)";
  EXPECT_EQ(db_->Exec(kSamePath, "same path").code(), StatusCode::kAlreadyExists);
  for (std::string_view bad : {
           "INSERT INTO sync_files VALUES ('s1', 'x', 'v', 1, 'done', '', 0, 'x', 2)",
           "INSERT INTO sync_files VALUES ('s1', 'x', 'v', -1, 'failed', '', 0, 'x', 2)",
           "INSERT INTO sync_files VALUES ('no', 'x', 'v', 1, 'failed', '', 0, 'x', 2)",
           "INSERT INTO syncs VALUES ('s9', 'n1', 'b1', 'folder', '{}', '', '{}', 0.5, 0, '', '',"
           " 0, 0, 0, '', 1, 1)",
           "INSERT INTO syncs VALUES ('s9', 'n1', 'no', 'folder', '{}', '', '{}', 60, 0, '', '',"
           " 0, 0, 0, '', 1, 1)",
       }) {
    EXPECT_FALSE(db_->Exec(bad, "bad row").ok()) << bad;
  }

  ASSERT_TRUE(db_->Exec("DELETE FROM syncs WHERE id = 's2'", "delete sync").ok());
  EXPECT_EQ(Query("SELECT group_concat(path) FROM (SELECT path FROM sync_files ORDER BY 1)"),
            "a,b,d");
  ASSERT_TRUE(db_->Exec("DELETE FROM buckets WHERE id = 'b1'", "delete bucket").ok());
  EXPECT_EQ(Query("SELECT group_concat(id) FROM (SELECT id FROM syncs ORDER BY 1)"), "s3");
  EXPECT_EQ(Query("SELECT group_concat(path) FROM (SELECT path FROM sync_files ORDER BY 1)"), "d");
  ASSERT_TRUE(db_->Exec("DELETE FROM namespaces WHERE id = 'n1'", "delete namespace").ok());
  EXPECT_EQ(Query("SELECT count(*) FROM syncs"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM sync_files"), "0");
}

TEST_F(MigrationsTest, MetadataV3DatabaseGainsSyncsKeepingItsUploads) {
  ASSERT_TRUE(ApplyMigrations(*db_, MetadataMigrations().first(3), 100).ok());
  constexpr std::string_view kRows = R"sql(
    INSERT INTO namespaces VALUES ('n1', 'one', '{}', 1, 1);
    INSERT INTO buckets VALUES ('b1', 'n1', 'photos', '', 0, '[]', 'null', 1, 1);
    INSERT INTO uploads VALUES ('u1', 'n1', 'b1', 'a', '{}', 1, 10);
    INSERT INTO upload_parts VALUES ('u1', 1, 'h1', 5, 1);
  )sql";
  ASSERT_TRUE(db_->Exec(kRows, "insert v3 rows").ok());
  ASSERT_EQ(Version(), 3);
  ASSERT_FALSE(TableExists("syncs"));
  Status s = ApplyMigrations(*db_, MetadataMigrations(), 200);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Version(), static_cast<int>(MetadataMigrations().size()));
  EXPECT_EQ(Query("SELECT sha256 FROM upload_parts WHERE upload_id = 'u1'"), "h1");
  EXPECT_TRUE(TableExists("syncs"));
  EXPECT_TRUE(TableExists("sync_files"));
  EXPECT_EQ(Query("SELECT description FROM schema_migrations WHERE version = 4"),
            "syncs, sync_files");
  // sync_files is clustered on its primary key.
  EXPECT_EQ(Query("SELECT count(*) FROM pragma_table_list WHERE name = 'sync_files' AND wr = 1"),
            "1");
}

TEST_F(MigrationsTest, NewDatabaseGetsTheLegacyTaskQueueSchema) {
  auto all = LegacyTaskQueueMigrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
  ASSERT_TRUE(ApplyMigrations(*db_, all, 100).ok());
  EXPECT_EQ(Version(), static_cast<int>(all.size()));
  for (std::string_view table : {"tasks", "task_events", "queue_state", "kind_limits"}) {
    EXPECT_TRUE(TableExists(table)) << table;
  }
  // The idempotency index is unique only where a key is set.
  ASSERT_TRUE(db_->Exec("INSERT INTO tasks(id, namespace_id, kind, queue, priority, input, "
                        "idempotency_key, status, attempt, retry_policy, schedule_to_start_s, "
                        "start_to_close_s, heartbeat_s, progress, progress_message, result, "
                        "parent_id, worker_id, lease_id, lease_expires_at, heartbeat_at, "
                        "cancel_requested, created_at, updated_at, run_at) "
                        "SELECT 't' || value, 'ns', 'k', 'q', 5, '{}', '', 'pending', 0, '{}', "
                        "0, 0, 0, 0, '', 'null', '', '', '', 0, 0, 0, 1, 1, 1 "
                        "FROM json_each('[1, 2]')",
                        "insert keyless tasks")
                  .ok());
  ASSERT_TRUE(db_->Exec("UPDATE tasks SET idempotency_key = 'same' WHERE id = 't1'", "key").ok());
  EXPECT_EQ(db_->Exec("UPDATE tasks SET idempotency_key = 'same' WHERE id = 't2'", "dup").code(),
            StatusCode::kAlreadyExists);
}

TEST_F(MigrationsTest, ReapplyingChangesNothing) {
  const Migration both[] = {kV1, kV2};
  ASSERT_TRUE(ApplyMigrations(*db_, both, 100).ok());
  Status again = ApplyMigrations(*db_, both, 200);
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(Version(), 2);
  EXPECT_EQ(Query("SELECT count(*) FROM schema_migrations"), "2");
  EXPECT_EQ(Query("SELECT max(applied_at_us) FROM schema_migrations"), "100");
}

TEST_F(MigrationsTest, OlderDatabaseIsUpgradedInPlaceKeepingItsRows) {
  const Migration first[] = {kV1};
  ASSERT_TRUE(ApplyMigrations(*db_, first, 100).ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO widgets(name) VALUES ('kept')", "insert").ok());
  ASSERT_EQ(Version(), 1);

  const Migration both[] = {kV1, kV2};
  Status s = ApplyMigrations(*db_, both, 200);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Version(), 2);
  EXPECT_EQ(Query("SELECT name FROM widgets"), "kept");
  EXPECT_EQ(Query("SELECT count(colour) FROM widgets"), "0");  // the new column exists
  EXPECT_EQ(Query("SELECT description FROM schema_migrations WHERE version = 2"), "widget colour");
}

TEST_F(MigrationsTest, NewerDatabaseIsRefusedWithUpgradeAdvice) {
  const Migration both[] = {kV1, kV2};
  ASSERT_TRUE(ApplyMigrations(*db_, both, 100).ok());
  const Migration first[] = {kV1};
  Status s = ApplyMigrations(*db_, first, 200);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(s.message(), "database " + db_->path() +
                             " has schema version 2 but this argus knows up to 1; upgrade argus");
  EXPECT_EQ(Version(), 2);
}

TEST_F(MigrationsTest, FailedMigrationIsRolledBackAndNamed) {
  const Migration list[] = {kV1, kV2Broken};
  Status s = ApplyMigrations(*db_, list, 100);
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("migration 2"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no_such_table"));
  EXPECT_EQ(Version(), 1);
  EXPECT_TRUE(TableExists("widgets"));
  EXPECT_FALSE(TableExists("gadgets"));  // the first half of v2 did not stick
}

TEST_F(MigrationsTest, MisnumberedListIsRejectedBeforeAnythingRuns) {
  const Migration gap[] = {kV1, {3, "gap", "CREATE TABLE gap(x)"}};
  Status s = ApplyMigrations(*db_, gap, 100);
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.ToString();
  EXPECT_THAT(std::string(s.message()), HasSubstr("misnumbered"));
  EXPECT_EQ(Version(), 0);
  EXPECT_FALSE(TableExists("widgets"));
}

TEST_F(MigrationsTest, SecondConnectionSeesMigrationAlreadyApplied) {
  const Migration both[] = {kV1, kV2};
  auto other = SqliteDatabase::Open(db_->path(), {});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(ApplyMigrations(*db_, both, 100).ok());
  Status s = ApplyMigrations(**other, both, 200);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Query("SELECT count(*) FROM schema_migrations"), "2");
}

}  // namespace
}  // namespace argus::store::sqlite
