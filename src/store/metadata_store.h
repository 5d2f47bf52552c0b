#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/batch_store.h"
#include "store/blob_references.h"
#include "store/bucket_store.h"
#include "store/collection_store.h"
#include "store/document_store.h"
#include "store/key_store.h"
#include "store/namespace_store.h"
#include "store/page.h"
#include "store/sync_store.h"
#include "store/system_values.h"
#include "store/text_index.h"

namespace argus::store {

/// Durable metadata, one role interface per kind of record: namespaces, API keys, buckets with
/// their objects and uploads, syncs, collections, their documents and the text index over them (in
/// later issues retrievers and models), and what refers to blobs (BlobReferences). One backend
/// implements all of them over one database, so that cascades (deleting a namespace or a bucket)
/// stay one transaction; consumers take only the role they use. Thread-safe: any method may be
/// called from any thread concurrently. Every method returns Unavailable when the backend cannot be
/// reached (retry), Internal on a bug or corrupt data.
class MetadataStore : public NamespaceStore,
                      public KeyStore,
                      public BucketStore,
                      public SyncStore,
                      public CollectionStore,
                      public DocumentStore,
                      public TextIndex,
                      public BatchStore,
                      public BlobReferences,
                      public SystemValues {
 public:
  virtual ~MetadataStore() = default;

  /// OK when the backend answers a trivial query.
  virtual Status Ping() = 0;
};

}  // namespace argus::store
