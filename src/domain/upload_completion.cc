#include "domain/upload_completion.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/str_cat.h"

namespace argus::domain {

using store::Bucket;
using store::NewTask;
using store::Upload;
using store::UploadPart;

namespace {

// Parts are read back in pieces this large: few reads per part (one S3 request stream each).
constexpr size_t kPiece = 4 << 20;

}  // namespace

Json CompleteUploadInput::ToJson() const {
  Json j = {{"bucket", bucket}, {"bucket_id", bucket_id}, {"upload_id", upload_id}};
  if (!expected_sha256.empty()) j["sha256"] = expected_sha256;
  if (precondition.must_not_exist) j["if_none_match"] = true;
  if (!precondition.sha256_must_match.empty()) j["if_match"] = precondition.sha256_must_match;
  return j;
}

Result<CompleteUploadInput> CompleteUploadInput::FromJson(const Json& input) {
  CompleteUploadInput in;
  if (!input.is_object()) return InvalidArgumentError("upload.complete input must be an object");
  for (auto [field, out] : {std::pair{"bucket", &in.bucket}, std::pair{"bucket_id", &in.bucket_id},
                            std::pair{"upload_id", &in.upload_id}}) {
    auto it = input.find(field);
    if (it == input.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return InvalidArgumentError(StrCat({"upload.complete input lacks '", field, "'"}));
    }
    *out = it->get<std::string>();
  }
  in.expected_sha256 = input.value("sha256", "");
  in.precondition.must_not_exist = input.value("if_none_match", false);
  in.precondition.sha256_must_match = input.value("if_match", "");
  return in;
}

const Json& CompleteUploadInputSchema() {
  static const Json kSchema = {{"type", "object"},
                               {"required", {"bucket", "bucket_id", "upload_id"}},
                               {"properties",
                                {{"bucket", {{"type", "string"}}},
                                 {"bucket_id", {{"type", "string"}}},
                                 {"upload_id", {{"type", "string"}}},
                                 {"sha256", {{"type", "string"}}},
                                 {"if_none_match", {{"type", "boolean"}}},
                                 {"if_match", {{"type", "string"}}}}}};
  return kSchema;
}

Status CheckUploadParts(const std::vector<UploadPart>& parts) {
  if (parts.empty()) return InvalidArgumentError("the upload has no parts");
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].number != static_cast<int>(i) + 1) {
      return InvalidArgumentError(
          StrCat({"part ", std::to_string(i + 1), " is missing: parts must run 1..",
                  std::to_string(parts.back().number), " without gaps"}));
    }
  }
  return OkStatus();
}

NewTask UploadCompleteTask(std::string_view namespace_id, const CompleteUploadInput& input,
                           const std::vector<UploadPart>& parts) {
  NewTask task;
  task.namespace_id = std::string(namespace_id);
  task.kind = kUploadCompleteKind;
  task.queue = "io";
  task.input = input.ToJson();
  std::string what = task.input.dump();
  for (const UploadPart& p : parts) {
    what.append(StrCat({";", std::to_string(p.number), ":", p.sha256}));
  }
  task.idempotency_key = StrCat(
      {kUploadCompleteKind, ":", input.upload_id, ":", HexEncode(Sha256(what)).substr(0, 32)});
  task.retry.non_retryable_codes = {"not_found",         "condition_failed",
                                    "payload_too_large", "unsupported_media_type",
                                    "already_exists",    "cancelled"};
  return task;
}

Result<IngestResult> CompleteUpload(const IngestContext& ctx, std::string_view namespace_id,
                                    const CompleteUploadInput& input, bool retry,
                                    const std::function<bool(double)>& keep_going) {
  ARGUS_ASSIGN_OR_RETURN(Bucket bucket, ctx.buckets->GetBucket(namespace_id, input.bucket));
  if (bucket.id != input.bucket_id) {
    return NotFoundError(StrCat({"bucket '", input.bucket, "' was deleted"}));
  }
  ARGUS_ASSIGN_OR_RETURN(Upload upload, ctx.buckets->GetUpload(bucket.id, input.upload_id));
  ARGUS_ASSIGN_OR_RETURN(auto parts, ctx.buckets->ListUploadParts(bucket.id, upload.id));
  ARGUS_RETURN_IF_ERROR(CheckUploadParts(parts));
  int64_t total = 0;
  for (const UploadPart& p : parts) total += p.size;
  ARGUS_ASSIGN_OR_RETURN(auto incoming, IncomingObject::Start(ctx, bucket));
  int64_t done = 0;
  for (const UploadPart& part : parts) {
    ARGUS_ASSIGN_OR_RETURN(auto reader, ctx.blobs->Open(part.sha256));
    for (int64_t at = 0; at < reader->size();) {
      if (keep_going && !keep_going(total > 0 ? static_cast<double>(done) / total : 0)) {
        incoming->Abort();
        return CancelledError("the upload's completion was stopped");
      }
      ARGUS_ASSIGN_OR_RETURN(std::string piece, reader->ReadAt(at, kPiece));
      if (piece.empty()) {
        incoming->Abort();
        return InternalError(StrCat({"part ", std::to_string(part.number), " of upload ", upload.id,
                                     " is shorter than recorded"}));
      }
      at += static_cast<int64_t>(piece.size());
      done += static_cast<int64_t>(piece.size());
      ARGUS_RETURN_IF_ERROR(incoming->Append(piece));
    }
  }
  IngestRequest request;
  request.key = upload.key;
  request.metadata = upload.metadata;
  request.expected_sha256 = input.expected_sha256;
  request.precondition = input.precondition;
  request.keep_if_unchanged = retry;
  ARGUS_ASSIGN_OR_RETURN(IngestResult result, CommitObject(ctx, *incoming, std::move(request)));
  // The object now holds the bytes: the parts' rows go (their blobs are collected).
  ARGUS_RETURN_IF_ERROR(ctx.buckets->DeleteUpload(bucket.id, upload.id));
  return result;
}

}  // namespace argus::domain
