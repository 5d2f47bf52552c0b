#include "store/sqlite/sqlite_blob_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/crypto.h"
#include "core/str_cat.h"
#include "store/sqlite/connection_pool.h"
#include "store/sqlite/group_commit_writer.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_database.h"
#include "store/sqlite/wal_checkpointer.h"

namespace argus::store::sqlite {

struct SqliteBlobStore::File {
  explicit File(std::string p, const SqliteOptions& reader_options)
      : path(std::move(p)), readers(path, reader_options, kMaxReaders) {}

  static constexpr int kMaxReaders = 4;
  const std::string path;
  ConnectionPool readers;
  // Declared before the writer, so it stops after the writer's last commit.
  std::unique_ptr<WalCheckpointer> checkpointer;
  std::unique_ptr<GroupCommitWriter> writer;
};

namespace {

constexpr std::array<Migration, 1> kMigrations = {{
    {1, "blobs",
     "CREATE TABLE blobs ("
     " sha256 TEXT PRIMARY KEY,"
     " size INTEGER NOT NULL,"
     " last_used INTEGER NOT NULL,"  // wall-clock microseconds: committed or deduplicated against
     " bytes BLOB NOT NULL)"},
}};

// The storage's wall clock (BlobStore's timestamps are not the injected clock).
TimestampUs WallNowUs() { return SystemClock::Get().NowUs(); }

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return OkStatus();
  return InternalError(StrCat({"cannot create directory ", path, ": ", std::strerror(errno)}));
}

// Bytes in memory until Commit inserts them as one row.
class SqliteBlobWriter final : public BlobWriter {
 public:
  explicit SqliteBlobWriter(std::shared_ptr<SqliteBlobStore::File> file) : file_(std::move(file)) {}

  Status Write(std::string_view bytes) override {
    if (finished_ || digest_.sealed()) {
      return FailedPreconditionError("blob writer is already sealed, committed or aborted");
    }
    if (static_cast<int64_t>(bytes_.size() + bytes.size()) > SqliteBlobStore::kMaxBlobBytes) {
      Abort();
      return PayloadTooLargeError(
          StrCat({"the sqlite blob store keeps blobs of at most ",
                  std::to_string(SqliteBlobStore::kMaxBlobBytes), " bytes"}));
    }
    digest_.Update(bytes);
    bytes_.append(bytes);
    return OkStatus();
  }

  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }

  Result<BlobInfo> Seal(std::string_view expected_sha256) override {
    if (finished_) return FailedPreconditionError("blob writer is already committed or aborted");
    auto info = digest_.Seal(expected_sha256);
    if (!info.ok()) Abort();
    return info;
  }

  Result<BlobInfo> Commit(std::string_view expected_sha256) override {
    ARGUS_ASSIGN_OR_RETURN(BlobInfo info, Seal(expected_sha256));
    const TimestampUs now = WallNowUs();
    Status status = file_->writer->Run([&](SqliteDatabase& db) -> Status {
      ARGUS_ASSIGN_OR_RETURN(
          auto stmt,
          db.Prepare("INSERT INTO blobs (sha256, size, last_used, bytes)"
                     " VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (sha256) DO UPDATE SET last_used = excluded.last_used",
                     "store blob"));
      stmt->BindText(1, info.sha256);
      stmt->BindInt64(2, info.size);
      stmt->BindInt64(3, now);
      stmt->BindBlob(4, bytes_);
      return stmt->Run();
    });
    Abort();  // finished either way
    if (!status.ok()) return status;
    return info;
  }

  void Abort() override {
    finished_ = true;
    std::string().swap(bytes_);
  }

 private:
  std::shared_ptr<SqliteBlobStore::File> file_;
  std::string bytes_;
  BlobDigest digest_;
  bool finished_ = false;
};

class InMemoryBlobReader final : public BlobReader {
 public:
  explicit InMemoryBlobReader(std::string bytes) : bytes_(std::move(bytes)) {}
  int64_t size() const override { return static_cast<int64_t>(bytes_.size()); }
  Result<std::string> ReadAt(int64_t offset, size_t max_bytes) override {
    if (offset < 0) return InvalidArgumentError("negative read offset");
    if (offset >= size()) return std::string();
    return bytes_.substr(static_cast<size_t>(offset), max_bytes);
  }

 private:
  std::string bytes_;
};

}  // namespace

SqliteBlobStore::~SqliteBlobStore() = default;

BlobStoreCapabilities SqliteBlobStore::Capabilities() {
  return {.durable = true,
          .multi_process = false,
          .content_addressed = true,
          .max_blob_bytes = kMaxBlobBytes};
}

Result<std::unique_ptr<BlobStore>> SqliteBlobStore::Create(const StoreArgs& args) {
  if (args.data_dir.empty()) {
    return InvalidArgumentError("the sqlite blob store needs a data directory");
  }
  struct stat st;
  if (::stat(args.data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError(
        StrCat({"data directory ", args.data_dir, " does not exist or is not a directory"}));
  }
  const std::string dir = StrCat({args.data_dir, "/blobs"});
  ARGUS_RETURN_IF_ERROR(MakeDir(dir));
  const std::string path = StrCat({dir, "/", kFileName});
  // FULL: a blob is acknowledged only once it would survive power loss, as a synced file would;
  // the object row that names it may be written with less.
  SqliteOptions options{.synchronous_full = true, .cache_kib = 8192};
  ARGUS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDatabase> writer,
                         SqliteDatabase::Open(path, options));
  ARGUS_RETURN_IF_ERROR(ApplyMigrations(*writer, kMigrations, WallNowUs()));
  SqliteOptions reader_options = options;
  reader_options.query_only = true;
  auto file = std::make_shared<File>(path, reader_options);
  ARGUS_ASSIGN_OR_RETURN(file->checkpointer, WalCheckpointer::Start(path, reader_options, *writer));
  file->writer = std::make_unique<GroupCommitWriter>(
      std::move(writer), /*on_rollback=*/[] {}, /*on_commit=*/nullptr, "argus-blobs-db");
  return std::unique_ptr<BlobStore>(new SqliteBlobStore(std::move(file)));
}

Result<std::unique_ptr<BlobWriter>> SqliteBlobStore::NewWriter() {
  return std::unique_ptr<BlobWriter>(new SqliteBlobWriter(file_));
}

Result<std::unique_ptr<BlobReader>> SqliteBlobStore::Open(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db->Prepare("SELECT bytes FROM blobs WHERE sha256 = ?1", "read blob"));
  stmt->BindText(1, sha256);
  ARGUS_ASSIGN_OR_RETURN(bool found, stmt->Step());
  if (!found) return NotFoundError(StrCat({"blob ", sha256, " does not exist"}));
  return std::unique_ptr<BlobReader>(new InMemoryBlobReader(stmt->ColumnBlob(0)));
}

Result<bool> SqliteBlobStore::Exists(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt,
                         db->Prepare("SELECT 1 FROM blobs WHERE sha256 = ?1", "look for blob"));
  stmt->BindText(1, sha256);
  return stmt->Step();
}

Status SqliteBlobStore::Delete(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  return file_->writer->Run([&](SqliteDatabase& db) -> Status {
    ARGUS_ASSIGN_OR_RETURN(auto stmt,
                           db.Prepare("DELETE FROM blobs WHERE sha256 = ?1", "delete blob"));
    stmt->BindText(1, sha256);
    return stmt->Run();
  });
}

Result<std::vector<BlobStore::Listed>> SqliteBlobStore::List(std::string_view after, int limit) {
  if (limit < 1) {
    return InvalidArgumentError(
        StrCat({"blob list limit must be at least 1, not ", std::to_string(limit)}));
  }
  ARGUS_ASSIGN_OR_RETURN(auto db, file_->readers.Acquire());
  ARGUS_ASSIGN_OR_RETURN(auto stmt, db->Prepare("SELECT sha256, size, last_used FROM blobs"
                                                " WHERE sha256 > ?1 ORDER BY sha256 LIMIT ?2",
                                                "list blobs"));
  stmt->BindText(1, after);
  stmt->BindInt64(2, limit);
  std::vector<Listed> out;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(Listed{.sha256 = stmt->ColumnText(0),
                         .size = stmt->ColumnInt64(1),
                         .last_used = stmt->ColumnInt64(2)});
  }
  return out;
}

Result<int64_t> SqliteBlobStore::CleanTemporary(TimestampUs /*before*/) { return int64_t{0}; }

}  // namespace argus::store::sqlite
