#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "store/metadata_store.h"
#include "store/sqlite/store_file.h"
#include "store/store_registry.h"

namespace argus::store::sqlite {

/// Connection options from "metadata.sqlite.synchronous" ("normal" or "full") and
/// "metadata.sqlite.busy_timeout_ms" (0..INT_MAX). InvalidArgument naming the key otherwise.
Result<SqliteOptions> SqliteOptionsFromConfig(const Config& config);

/// MetadataStore in metadata.db (SqliteStoreFile), next to the task queue, the event log and the
/// webhooks: writes run as operations of the file's group commit (concurrent uploads share
/// commits) and append their events in the same transaction; reads use its read-only pool (WAL:
/// each read sees every write committed before it started). Durable once a call returns
/// (synchronous=NORMAL survives kill -9; "metadata.sqlite.synchronous: full" also survives power
/// loss). One argus process per file (capabilities: durable, not multi_process). All methods are
/// thread-safe.
class SqliteMetadataStore final : public MetadataStore {
 public:
  /// Uploads DeleteExpiredUploads deletes per write transaction.
  static constexpr int kExpiredUploadBatch = 256;

  /// Opens (or shares) `<args.data_dir>/metadata.db`; errors as SqliteStoreFile::Open.
  static Result<std::unique_ptr<MetadataStore>> Create(const StoreArgs& args);

  Status Ping() override;
  Result<std::optional<std::string>> GetSystemValue(std::string_view key) override;
  Status PutSystemValue(std::string_view key, std::string_view value) override;

  Result<Namespace> CreateNamespace(const Namespace& ns) override;
  Result<Namespace> GetNamespace(std::string_view id) override;
  Result<Namespace> GetNamespaceByName(std::string_view name) override;
  Result<Page<Namespace>> ListNamespaces(const PageRequest& page) override;
  Status DeleteNamespace(std::string_view id) override;

  Result<ApiKey> CreateApiKey(const ApiKey& key) override;
  Result<ApiKey> GetApiKey(std::string_view id) override;
  Result<ApiKey> GetApiKeyByPrefix(std::string_view prefix) override;
  Result<Page<ApiKey>> ListApiKeys(std::string_view namespace_id, const PageRequest& page,
                                   bool include_revoked) override;
  Result<ApiKey> RevokeApiKey(std::string_view id, TimestampUs at) override;

  Result<Bucket> CreateBucket(const Bucket& bucket) override;
  Result<Bucket> GetBucket(std::string_view namespace_id, std::string_view name) override;
  Result<Page<Bucket>> ListBuckets(std::string_view namespace_id, const PageRequest& page) override;
  Result<Bucket> UpdateBucket(std::string_view namespace_id, std::string_view name,
                              const BucketUpdate& update, TimestampUs now) override;
  Status DeleteBucket(std::string_view namespace_id, std::string_view name, bool force) override;

  Result<PutObjectResult> PutObject(const StoredObject& object,
                                    const ObjectPrecondition& precondition) override;
  Result<StoredObject> GetObject(std::string_view bucket_id, std::string_view key) override;
  /// Seeks past each common prefix on the (bucket_id, key) index. Metadata filters are checked in
  /// SQL first (a pre-filter that never drops a match), then exactly in C++, so rows that cannot
  /// match stay inside SQLite; no index serves them: a sparse filter scans the listed key range.
  Result<ListObjectsResult> ListObjects(std::string_view bucket_id,
                                        const ListObjectsRequest& request) override;
  Result<StoredObject> UpdateObjectMetadata(std::string_view bucket_id, std::string_view key,
                                            const Json& metadata,
                                            std::string_view sha256_must_match,
                                            TimestampUs now) override;
  Result<StoredObject> DeleteObject(std::string_view bucket_id, std::string_view key) override;
  /// One read of objects_by_sha256 and upload_parts_by_sha256, so one snapshot.
  Result<bool> BlobReferenced(std::string_view sha256) override;
  /// Pins and claims are in the file's BlobPinTable (memory: one process per data directory).
  Result<std::unique_ptr<BlobPin>> PinBlob(std::string_view sha256) override;
  /// After the claim, a read decides most candidates (a referenced blob costs no write); an
  /// unreferenced one is checked again in the write that deletes its derived-blob records, so a
  /// record is never deleted while its blob is referenced.
  Result<bool> DeleteBlobIfUnreferenced(std::string_view sha256,
                                        const std::function<Status()>& remove) override;
  Status PutDerivedBlob(const DerivedBlob& blob) override;
  Result<DerivedBlob> GetDerivedBlob(std::string_view source_sha256,
                                     std::string_view variant) override;
  Result<int64_t> DeleteDerivedBlobs(std::string_view source_sha256) override;

  /// Fills an empty namespace_id from the bucket (InvalidArgument when another is given), as
  /// PutObject does; InvalidArgument for a key PutObject would refuse or metadata that is not a
  /// JSON object of valid UTF-8; AlreadyExists when upload.id is taken.
  Result<Upload> CreateUpload(const Upload& upload) override;
  Result<Upload> GetUpload(std::string_view bucket_id, std::string_view id) override;
  /// InvalidArgument as well for a sha256 that is not 64 lowercase hex digits or a negative size.
  Status PutUploadPart(std::string_view bucket_id, std::string_view upload_id,
                       const UploadPart& part) override;
  Result<std::vector<UploadPart>> ListUploadParts(std::string_view bucket_id,
                                                  std::string_view upload_id) override;
  Status DeleteUpload(std::string_view bucket_id, std::string_view id) override;
  /// Deletes in batches of kExpiredUploadBatch uploads (each its own transaction, with their
  /// parts), releasing the write lock between them. An error after some batches leaves those
  /// deleted; the next call finds the rest.
  Result<int64_t> DeleteExpiredUploads(TimestampUs now) override;

  // Syncs: sqlite_sync_rows.h holds their rows and checks; these forward to it.
  /// Fills an empty namespace_id from the bucket (InvalidArgument when another is given), as
  /// PutObject does; InvalidArgument as well for a non-finite interval_s or JSON that is not valid
  /// UTF-8; AlreadyExists when sync.id is taken.
  Result<Sync> CreateSync(const Sync& sync) override;
  Result<Sync> GetSync(std::string_view namespace_id, std::string_view id) override;
  Result<Page<Sync>> ListSyncs(std::string_view bucket_id, const PageRequest& page) override;
  Result<Sync> UpdateSync(std::string_view id, const SyncUpdate& update, TimestampUs now) override;
  /// An empty namespace_id matches any namespace, as for GetSync.
  Status DeleteSync(std::string_view namespace_id, std::string_view id) override;
  /// A sync that does not exist has no records (an empty result), here and in ListSyncFiles,
  /// CountSyncFiles (zeros) and RetrySyncFiles (0).
  Result<std::vector<SyncFile>> GetSyncFiles(std::string_view sync_id,
                                             const std::vector<std::string>& paths) override;
  /// InvalidArgument as well for a record with an empty path, a state other than "pending",
  /// "ingested" and "failed", or a negative size or attempts count (nothing is written).
  Status PutSyncFiles(std::string_view sync_id, const std::vector<SyncFile>& files) override;
  Result<Page<SyncFile>> ListSyncFiles(std::string_view sync_id, std::string_view state,
                                       std::string_view after_path, int limit) override;
  Result<SyncCounts> CountSyncFiles(std::string_view sync_id) override;
  /// Only the state changes: error, attempts and updated_at stay as they were.
  Result<int64_t> RetrySyncFiles(std::string_view sync_id,
                                 const std::vector<std::string>& paths) override;

  // Collections: sqlite_collection_store.cc.
  Result<Collection> CreateCollection(const Collection& collection) override;
  Result<Collection> GetCollection(std::string_view namespace_id, std::string_view name) override;
  Result<Collection> GetCollectionById(std::string_view id) override;
  Result<Page<Collection>> ListCollections(std::string_view namespace_id,
                                           const PageRequest& page) override;
  Result<std::vector<Collection>> CollectionsOfSource(std::string_view source_id,
                                                      bool collection) override;
  Result<Collection> UpdateCollection(std::string_view namespace_id, std::string_view name,
                                      const CollectionUpdate& update, TimestampUs now) override;
  Status DeleteCollection(std::string_view namespace_id, std::string_view name) override;

  // Documents: sqlite_document_store.cc.
  Result<std::vector<Document>> ReplaceSourceDocuments(std::string_view collection_id,
                                                       std::string_view source_id,
                                                       const std::vector<Document>& docs,
                                                       TimestampUs now) override;
  Result<Document> GetDocument(std::string_view collection_id, std::string_view id,
                               bool with_vectors) override;
  Result<std::vector<Document>> GetDocumentsByKey(std::string_view collection_id,
                                                  const std::vector<uint64_t>& keys,
                                                  bool with_vectors) override;
  Result<std::vector<Document>> DocumentsOfObject(std::string_view collection_id,
                                                  std::string_view object_id,
                                                  bool with_vectors) override;
  Result<Page<Document>> ListDocuments(std::string_view collection_id, const Filter& filter,
                                       const PageRequest& page, bool with_vectors,
                                       const DocumentOrder& order) override;
  Result<std::vector<uint64_t>> MatchingKeys(std::string_view collection_id,
                                             const Filter& filter) override;
  Result<std::vector<Document>> DocumentsOfSource(std::string_view collection_id,
                                                  std::string_view source_id) override;
  Result<std::map<std::string, std::vector<FacetValue>>> Facets(
      std::string_view collection_id, const Filter& filter, const std::vector<std::string>& fields,
      int max_values) override;
  Status DeleteDocument(std::string_view collection_id, std::string_view id) override;
  Result<std::vector<VectorChange>> VectorChangesSince(std::string_view collection_id,
                                                       int64_t after_seq, int limit) override;
  Result<std::vector<std::pair<uint64_t, std::vector<float>>>> ReadVectors(
      std::string_view collection_id, std::string_view feature,
      const std::vector<uint64_t>& keys) override;
  Result<int64_t> VectorJournalHead() override;
  Status TrimVectorChanges(std::string_view collection_id, int64_t through_seq) override;
  Result<std::vector<std::pair<uint64_t, std::vector<float>>>> ScanVectors(
      std::string_view collection_id, std::string_view feature, uint64_t after_key,
      int limit) override;

  // Batches: sqlite_batch_store.cc.
  Result<Batch> CreateBatch(const Batch& batch) override;
  Result<Batch> GetBatch(std::string_view namespace_id, std::string_view id) override;
  Result<Page<Batch>> ListBatches(std::string_view namespace_id, std::string_view bucket_id,
                                  const PageRequest& page) override;
  Result<Batch> UpdateBatch(std::string_view namespace_id, std::string_view id,
                            const BatchUpdate& update, TimestampUs now) override;
  Status DeleteBatch(std::string_view namespace_id, std::string_view id) override;

  // The text index: sqlite_text_index.cc.
  Result<std::vector<TextHit>> SearchText(std::string_view collection_id,
                                          const TextQuery& query) override;

 private:
  explicit SqliteMetadataStore(std::shared_ptr<SqliteStoreFile> file);

  Result<Namespace> FindNamespace(std::string_view sql, std::string_view value,
                                  std::string_view what);
  Result<ApiKey> FindApiKey(std::string_view sql, std::string_view value, std::string_view what);
  Result<ApiKey> InsertApiKey(SqliteDatabase& db, const ApiKey& key);
  /// The bucket's row read on `db`; NotFound naming it.
  Result<Bucket> FindBucket(SqliteDatabase& db, std::string_view namespace_id,
                            std::string_view name);
  /// The object under (bucket_id, key) on `db`, nullopt when absent.
  Result<std::optional<StoredObject>> FindObject(SqliteDatabase& db, std::string_view bucket_id,
                                                 std::string_view key);
  /// NotFound for an object that is absent: names the bucket, or says the bucket is gone.
  Status ObjectNotFound(SqliteDatabase& db, std::string_view bucket_id, std::string_view key);
  /// AlreadyExists naming object.id when that id is taken.
  Status InsertObject(SqliteDatabase& db, const StoredObject& object, std::string_view metadata);

  const std::shared_ptr<SqliteStoreFile> file_;
  const std::string path_;
  ConnectionPool& readers_;
};

}  // namespace argus::store::sqlite
