// Deleting a namespace or a bucket with everything in it: a use case run as an internal task, so
// it survives a restart, runs where the workers are, and has room for the steps the search half
// adds (documents, vectors and index files of the collections built from the objects).
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "store/bucket_store.h"
#include "store/namespace_store.h"
#include "store/webhook_store.h"

namespace argus::domain {

/// The stores a cascading delete writes. Borrowed.
struct CascadeContext {
  store::NamespaceStore* namespaces = nullptr;
  store::BucketStore* buckets = nullptr;
  store::WebhookStore* webhooks = nullptr;  ///< null: no webhooks to delete
};

/// The internal task kinds that run the deletes (the API refuses them from clients).
inline constexpr std::string_view kDeleteNamespaceKind = "namespace.delete";
inline constexpr std::string_view kDeleteBucketKind = "bucket.delete";

/// The tasks' inputs.
Json DeleteNamespaceInput(std::string_view namespace_id);
Json DeleteBucketInput(std::string_view namespace_id, std::string_view bucket, bool force);

/// Deletes the namespace's webhooks (with their deliveries), then the namespace with its keys,
/// buckets, objects, uploads and syncs (one transaction of the metadata store; the blobs no
/// object names any more are freed by the collector). Idempotent: a namespace already gone is
/// done, so a retried or repeated task succeeds. InvalidArgument for a malformed input.
Status DeleteNamespaceCascade(const CascadeContext& ctx, const Json& input);

/// Deletes the bucket, and with force its objects and uploads. FailedPrecondition when it still
/// holds objects and force is false; a bucket already gone is done.
Status DeleteBucketCascade(const CascadeContext& ctx, const Json& input);

}  // namespace argus::domain
