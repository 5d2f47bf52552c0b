#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/metadata_store.h"
#include "tests/fakes/fault_plan.h"

namespace argus::store {

/// A MetadataStore that forwards every call to `base` (borrowed), except the calls its FaultPlan
/// fails or delays, named as the methods are ("PutSyncFiles", "UpdateSync", "PutObject",
/// "PinBlob", ...). A failed call never reaches `base`, so it changes nothing, like a database
/// that cannot be reached. For testing what the sync runner and the upload path do when a
/// metadata read or write fails. Thread-safe as `base` is.
class FaultInjectingMetadataStore final : public MetadataStore {
 public:
  explicit FaultInjectingMetadataStore(MetadataStore* base) : base_(base) {}
  FaultPlan& plan() { return plan_; }

  Result<bool> BlobReferenced(std::string_view sha256) override {
    ARGUS_INJECT_FAULT(plan_, "BlobReferenced");
    return base_->BlobReferenced(sha256);
  }
  Result<std::unique_ptr<BlobPin>> PinBlob(std::string_view sha256) override {
    ARGUS_INJECT_FAULT(plan_, "PinBlob");
    return base_->PinBlob(sha256);
  }
  Result<bool> DeleteBlobIfUnreferenced(std::string_view sha256,
                                        const std::function<Status()>& remove) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteBlobIfUnreferenced");
    return base_->DeleteBlobIfUnreferenced(sha256, remove);
  }
  Status PutDerivedBlob(const DerivedBlob& blob) override {
    ARGUS_INJECT_FAULT(plan_, "PutDerivedBlob");
    return base_->PutDerivedBlob(blob);
  }
  Result<DerivedBlob> GetDerivedBlob(std::string_view source_sha256,
                                     std::string_view variant) override {
    ARGUS_INJECT_FAULT(plan_, "GetDerivedBlob");
    return base_->GetDerivedBlob(source_sha256, variant);
  }
  Result<int64_t> DeleteDerivedBlobs(std::string_view sha256) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteDerivedBlobs");
    return base_->DeleteDerivedBlobs(sha256);
  }
  Status Ping() override {
    ARGUS_INJECT_FAULT(plan_, "Ping");
    return base_->Ping();
  }
  Result<std::optional<std::string>> GetSystemValue(std::string_view key) override {
    ARGUS_INJECT_FAULT(plan_, "GetSystemValue");
    return base_->GetSystemValue(key);
  }
  Status PutSystemValue(std::string_view key, std::string_view value) override {
    ARGUS_INJECT_FAULT(plan_, "PutSystemValue");
    return base_->PutSystemValue(key, value);
  }
  Result<Namespace> CreateNamespace(const Namespace& ns) override {
    ARGUS_INJECT_FAULT(plan_, "CreateNamespace");
    return base_->CreateNamespace(ns);
  }
  Result<Namespace> GetNamespace(std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetNamespace");
    return base_->GetNamespace(id);
  }
  Result<Namespace> GetNamespaceByName(std::string_view name) override {
    ARGUS_INJECT_FAULT(plan_, "GetNamespaceByName");
    return base_->GetNamespaceByName(name);
  }
  Result<Page<Namespace>> ListNamespaces(const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListNamespaces");
    return base_->ListNamespaces(page);
  }
  Status DeleteNamespace(std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteNamespace");
    return base_->DeleteNamespace(id);
  }
  Result<ApiKey> CreateApiKey(const ApiKey& key) override {
    ARGUS_INJECT_FAULT(plan_, "CreateApiKey");
    return base_->CreateApiKey(key);
  }
  Result<ApiKey> GetApiKey(std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetApiKey");
    return base_->GetApiKey(id);
  }
  Result<ApiKey> GetApiKeyByPrefix(std::string_view prefix) override {
    ARGUS_INJECT_FAULT(plan_, "GetApiKeyByPrefix");
    return base_->GetApiKeyByPrefix(prefix);
  }
  Result<Page<ApiKey>> ListApiKeys(std::string_view namespace_id, const PageRequest& page,
                                   bool include_revoked) override {
    ARGUS_INJECT_FAULT(plan_, "ListApiKeys");
    return base_->ListApiKeys(namespace_id, page, include_revoked);
  }
  Result<ApiKey> RevokeApiKey(std::string_view id, TimestampUs at) override {
    ARGUS_INJECT_FAULT(plan_, "RevokeApiKey");
    return base_->RevokeApiKey(id, at);
  }
  Result<Bucket> CreateBucket(const Bucket& bucket) override {
    ARGUS_INJECT_FAULT(plan_, "CreateBucket");
    return base_->CreateBucket(bucket);
  }
  Result<Bucket> GetBucket(std::string_view namespace_id, std::string_view name) override {
    ARGUS_INJECT_FAULT(plan_, "GetBucket");
    return base_->GetBucket(namespace_id, name);
  }
  Result<Page<Bucket>> ListBuckets(std::string_view namespace_id,
                                   const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListBuckets");
    return base_->ListBuckets(namespace_id, page);
  }
  Result<Bucket> UpdateBucket(std::string_view namespace_id, std::string_view name,
                              const BucketUpdate& update, TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "UpdateBucket");
    return base_->UpdateBucket(namespace_id, name, update, now);
  }
  Status DeleteBucket(std::string_view namespace_id, std::string_view name, bool force) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteBucket");
    return base_->DeleteBucket(namespace_id, name, force);
  }
  Result<PutObjectResult> PutObject(const StoredObject& object,
                                    const ObjectPrecondition& precondition) override {
    ARGUS_INJECT_FAULT(plan_, "PutObject");
    return base_->PutObject(object, precondition);
  }
  Result<StoredObject> GetObject(std::string_view bucket_id, std::string_view key) override {
    ARGUS_INJECT_FAULT(plan_, "GetObject");
    return base_->GetObject(bucket_id, key);
  }
  Result<ListObjectsResult> ListObjects(std::string_view bucket_id,
                                        const ListObjectsRequest& request) override {
    ARGUS_INJECT_FAULT(plan_, "ListObjects");
    return base_->ListObjects(bucket_id, request);
  }
  Result<StoredObject> UpdateObjectMetadata(std::string_view bucket_id, std::string_view key,
                                            const Json& metadata,
                                            std::string_view sha256_must_match,
                                            TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "UpdateObjectMetadata");
    return base_->UpdateObjectMetadata(bucket_id, key, metadata, sha256_must_match, now);
  }
  Result<StoredObject> DeleteObject(std::string_view bucket_id, std::string_view key) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteObject");
    return base_->DeleteObject(bucket_id, key);
  }
  Result<Upload> CreateUpload(const Upload& upload) override {
    ARGUS_INJECT_FAULT(plan_, "CreateUpload");
    return base_->CreateUpload(upload);
  }
  Result<Upload> GetUpload(std::string_view bucket_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetUpload");
    return base_->GetUpload(bucket_id, id);
  }
  Status PutUploadPart(std::string_view bucket_id, std::string_view upload_id,
                       const UploadPart& part) override {
    ARGUS_INJECT_FAULT(plan_, "PutUploadPart");
    return base_->PutUploadPart(bucket_id, upload_id, part);
  }
  Result<std::vector<UploadPart>> ListUploadParts(std::string_view bucket_id,
                                                  std::string_view upload_id) override {
    ARGUS_INJECT_FAULT(plan_, "ListUploadParts");
    return base_->ListUploadParts(bucket_id, upload_id);
  }
  Status DeleteUpload(std::string_view bucket_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteUpload");
    return base_->DeleteUpload(bucket_id, id);
  }
  Result<int64_t> DeleteExpiredUploads(TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteExpiredUploads");
    return base_->DeleteExpiredUploads(now);
  }
  Result<Sync> CreateSync(const Sync& sync) override {
    ARGUS_INJECT_FAULT(plan_, "CreateSync");
    return base_->CreateSync(sync);
  }
  Result<Sync> GetSync(std::string_view namespace_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetSync");
    return base_->GetSync(namespace_id, id);
  }
  Result<Page<Sync>> ListSyncs(std::string_view bucket_id, const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListSyncs");
    return base_->ListSyncs(bucket_id, page);
  }
  Result<Sync> UpdateSync(std::string_view id, const SyncUpdate& update, TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "UpdateSync");
    return base_->UpdateSync(id, update, now);
  }
  Status DeleteSync(std::string_view namespace_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteSync");
    return base_->DeleteSync(namespace_id, id);
  }
  Result<std::vector<SyncFile>> GetSyncFiles(std::string_view sync_id,
                                             const std::vector<std::string>& paths) override {
    ARGUS_INJECT_FAULT(plan_, "GetSyncFiles");
    return base_->GetSyncFiles(sync_id, paths);
  }
  Status PutSyncFiles(std::string_view sync_id, const std::vector<SyncFile>& files) override {
    ARGUS_INJECT_FAULT(plan_, "PutSyncFiles");
    return base_->PutSyncFiles(sync_id, files);
  }
  Result<Page<SyncFile>> ListSyncFiles(std::string_view sync_id, std::string_view state,
                                       std::string_view after_path, int limit) override {
    ARGUS_INJECT_FAULT(plan_, "ListSyncFiles");
    return base_->ListSyncFiles(sync_id, state, after_path, limit);
  }
  Result<SyncCounts> CountSyncFiles(std::string_view sync_id) override {
    ARGUS_INJECT_FAULT(plan_, "CountSyncFiles");
    return base_->CountSyncFiles(sync_id);
  }
  Result<int64_t> RetrySyncFiles(std::string_view sync_id,
                                 const std::vector<std::string>& paths) override {
    ARGUS_INJECT_FAULT(plan_, "RetrySyncFiles");
    return base_->RetrySyncFiles(sync_id, paths);
  }

  Result<Collection> CreateCollection(const Collection& collection) override {
    ARGUS_INJECT_FAULT(plan_, "CreateCollection");
    return base_->CreateCollection(collection);
  }
  Result<Collection> GetCollection(std::string_view namespace_id, std::string_view name) override {
    ARGUS_INJECT_FAULT(plan_, "GetCollection");
    return base_->GetCollection(namespace_id, name);
  }
  Result<Collection> GetCollectionById(std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetCollectionById");
    return base_->GetCollectionById(id);
  }
  Result<Page<Collection>> ListCollections(std::string_view namespace_id,
                                           const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListCollections");
    return base_->ListCollections(namespace_id, page);
  }
  Result<std::vector<Collection>> CollectionsOfSource(std::string_view source_id,
                                                      bool collection) override {
    ARGUS_INJECT_FAULT(plan_, "CollectionsOfSource");
    return base_->CollectionsOfSource(source_id, collection);
  }
  Result<Collection> UpdateCollection(std::string_view namespace_id, std::string_view name,
                                      const CollectionUpdate& update, TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "UpdateCollection");
    return base_->UpdateCollection(namespace_id, name, update, now);
  }
  Status DeleteCollection(std::string_view namespace_id, std::string_view name) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteCollection");
    return base_->DeleteCollection(namespace_id, name);
  }

  Result<std::vector<Document>> ReplaceSourceDocuments(std::string_view collection_id,
                                                       std::string_view source_id,
                                                       const std::vector<Document>& docs,
                                                       TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "ReplaceSourceDocuments");
    return base_->ReplaceSourceDocuments(collection_id, source_id, docs, now);
  }
  Result<Document> GetDocument(std::string_view collection_id, std::string_view id,
                               bool with_vectors) override {
    ARGUS_INJECT_FAULT(plan_, "GetDocument");
    return base_->GetDocument(collection_id, id, with_vectors);
  }
  Result<std::vector<Document>> GetDocumentsByKey(std::string_view collection_id,
                                                  const std::vector<uint64_t>& keys,
                                                  bool with_vectors) override {
    ARGUS_INJECT_FAULT(plan_, "GetDocumentsByKey");
    return base_->GetDocumentsByKey(collection_id, keys, with_vectors);
  }
  Result<Batch> CreateBatch(const Batch& batch) override {
    ARGUS_INJECT_FAULT(plan_, "CreateBatch");
    return base_->CreateBatch(batch);
  }
  Result<Batch> GetBatch(std::string_view namespace_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "GetBatch");
    return base_->GetBatch(namespace_id, id);
  }
  Result<Page<Batch>> ListBatches(std::string_view namespace_id, std::string_view bucket_id,
                                  const PageRequest& page) override {
    ARGUS_INJECT_FAULT(plan_, "ListBatches");
    return base_->ListBatches(namespace_id, bucket_id, page);
  }
  Result<Batch> UpdateBatch(std::string_view namespace_id, std::string_view id,
                            const BatchUpdate& update, TimestampUs now) override {
    ARGUS_INJECT_FAULT(plan_, "UpdateBatch");
    return base_->UpdateBatch(namespace_id, id, update, now);
  }
  Status DeleteBatch(std::string_view namespace_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteBatch");
    return base_->DeleteBatch(namespace_id, id);
  }
  Result<Page<Document>> ListDocuments(std::string_view collection_id, const Filter& filter,
                                       const PageRequest& page, bool with_vectors,
                                       const DocumentOrder& order) override {
    ARGUS_INJECT_FAULT(plan_, "ListDocuments");
    return base_->ListDocuments(collection_id, filter, page, with_vectors, order);
  }
  Result<std::vector<Document>> DocumentsOfObject(std::string_view collection_id,
                                                  std::string_view object_id,
                                                  bool with_vectors) override {
    ARGUS_INJECT_FAULT(plan_, "DocumentsOfObject");
    return base_->DocumentsOfObject(collection_id, object_id, with_vectors);
  }
  Result<std::vector<TextHit>> SearchText(std::string_view collection_id,
                                          const TextQuery& query) override {
    ARGUS_INJECT_FAULT(plan_, "SearchText");
    return base_->SearchText(collection_id, query);
  }
  Result<std::vector<Document>> DocumentsOfSource(std::string_view collection_id,
                                                  std::string_view source_id) override {
    ARGUS_INJECT_FAULT(plan_, "DocumentsOfSource");
    return base_->DocumentsOfSource(collection_id, source_id);
  }
  Result<std::map<std::string, std::vector<FacetValue>>> Facets(
      std::string_view collection_id, const Filter& filter, const std::vector<std::string>& fields,
      int max_values) override {
    ARGUS_INJECT_FAULT(plan_, "Facets");
    return base_->Facets(collection_id, filter, fields, max_values);
  }
  Result<std::vector<uint64_t>> MatchingKeys(std::string_view collection_id,
                                             const Filter& filter) override {
    ARGUS_INJECT_FAULT(plan_, "MatchingKeys");
    return base_->MatchingKeys(collection_id, filter);
  }
  Status DeleteDocument(std::string_view collection_id, std::string_view id) override {
    ARGUS_INJECT_FAULT(plan_, "DeleteDocument");
    return base_->DeleteDocument(collection_id, id);
  }
  Result<std::vector<VectorChange>> VectorChangesSince(std::string_view collection_id,
                                                       int64_t after_seq, int limit) override {
    ARGUS_INJECT_FAULT(plan_, "VectorChangesSince");
    return base_->VectorChangesSince(collection_id, after_seq, limit);
  }
  Result<std::vector<std::pair<uint64_t, std::vector<float>>>> ReadVectors(
      std::string_view collection_id, std::string_view feature,
      const std::vector<uint64_t>& keys) override {
    ARGUS_INJECT_FAULT(plan_, "ReadVectors");
    return base_->ReadVectors(collection_id, feature, keys);
  }
  Result<int64_t> VectorJournalHead() override {
    ARGUS_INJECT_FAULT(plan_, "VectorJournalHead");
    return base_->VectorJournalHead();
  }
  Status TrimVectorChanges(std::string_view collection_id, int64_t through_seq) override {
    ARGUS_INJECT_FAULT(plan_, "TrimVectorChanges");
    return base_->TrimVectorChanges(collection_id, through_seq);
  }
  Result<std::vector<std::pair<uint64_t, std::vector<float>>>> ScanVectors(
      std::string_view collection_id, std::string_view feature, uint64_t after_key,
      int limit) override {
    ARGUS_INJECT_FAULT(plan_, "ScanVectors");
    return base_->ScanVectors(collection_id, feature, after_key, limit);
  }

 private:
  MetadataStore* base_;
  FaultPlan plan_;
};

}  // namespace argus::store
