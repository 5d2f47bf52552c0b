// The `collection.extract` task: a collection's extractors run on one object of its source
// bucket (tier 1), or on the regions of the object's documents in its source collection (a later
// tier), and the answers become documents (domain/document_builder), written whole and
// idempotently (a retry or a second run rewrites the same documents). Once written, the
// collections sourced from this one get a task for the same object: tiers run in order.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "engine/worker/task_kinds.h"
#include "store/bucket_store.h"
#include "store/collection_store.h"
#include "store/document_store.h"
#include "store/inference_service.h"
#include "store/task_queue.h"

namespace argus::engine {

/// What the task reads and writes. Borrowed; `inference` returns null until the models are
/// loaded (the task then fails as Unavailable and is retried).
struct ExtractDeps {
  store::CollectionStore* collections = nullptr;
  store::DocumentStore* documents = nullptr;
  store::BucketStore* buckets = nullptr;
  std::function<store::InferenceService*()> inference;
  /// Where the next tiers' tasks go once an object's documents are written (null: none).
  store::TaskQueue* tasks = nullptr;
  double extractor_timeout_s = 300;  ///< one extractor on one object
};

/// Registers the internal kind `collection.extract` (domain::kExtractKind, input
/// domain::ExtractInput). Its result: {"documents": n} written, or
/// {"skipped": why} when the collection or the object is gone (nothing to do, not an error).
/// An extractor that cannot read the object (not an image) leaves its error in the item's
/// payload under `errors`; one that is unavailable (loading) fails the task for a retry.
Status RegisterExtractKind(TaskKindRegistry& kinds, ExtractDeps deps);

}  // namespace argus::engine
