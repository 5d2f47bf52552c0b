// Completing a resumable upload: its parts, read back in order, become one object. Slow work (it
// re-reads and re-writes up to the object size limit), so it runs as a task: the API checks the
// request and queues it (UploadCompleteTask), the engine runs it (CompleteUpload), both on the
// store contracts only.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "domain/object_ingest.h"
#include "store/bucket_store.h"
#include "store/task_queue.h"

namespace argus::domain {

/// The task kind (queue "io", started only by the server) that completes a resumable upload.
/// Its result is the object record (ObjectJson) with "deduplicated".
inline constexpr char kUploadCompleteKind[] = "upload.complete";

/// What completing one upload needs: the task's input.
struct CompleteUploadInput {
  std::string bucket;     ///< the bucket's name ...
  std::string bucket_id;  ///< ... and id: a bucket deleted and made again is not the same one
  std::string upload_id;
  std::string expected_sha256;  ///< of the whole; empty: not checked
  store::ObjectPrecondition precondition;

  Json ToJson() const;
  /// InvalidArgument naming what is missing or malformed.
  static Result<CompleteUploadInput> FromJson(const Json& input);
};

/// The JSON schema of the task's input.
const Json& CompleteUploadInputSchema();

/// OK when `parts` (in number order) run 1..N without a gap; InvalidArgument naming the first
/// missing part, or saying there is none.
Status CheckUploadParts(const std::vector<store::UploadPart>& parts);

/// The task that completes `input` in `namespace_id`, with an idempotency key made of the upload
/// and exactly the parts and conditions it completes: asking twice for the same completion gives
/// the same task, and asking again after replacing a part gives a new one. Permanent failures
/// (a checksum or condition that does not hold, a size or media type the bucket refuses, the
/// upload gone) are not retried.
store::NewTask UploadCompleteTask(std::string_view namespace_id, const CompleteUploadInput& input,
                                  const std::vector<store::UploadPart>& parts);

/// Joins the parts of the upload into a new blob (hashed and size-checked on the way, like a
/// streamed upload), commits the object (CommitObject, with the upload's key and metadata) and
/// deletes the upload. `keep_going(fraction done)` is called between pieces; false stops with
/// Cancelled and nothing stored. `retry`: an earlier attempt may have committed the object before
/// it died, so a key that already holds exactly these bytes is kept as it is (no second version).
/// Errors: NotFound (bucket or upload gone), InvalidArgument (parts missing, checksum mismatch),
/// ConditionFailed, PayloadTooLarge, UnsupportedMediaType, and the stores' own.
Result<IngestResult> CompleteUpload(const IngestContext& ctx, std::string_view namespace_id,
                                    const CompleteUploadInput& input, bool retry,
                                    const std::function<bool(double)>& keep_going);

}  // namespace argus::domain
