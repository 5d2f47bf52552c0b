#include "store/batch_store.h"

namespace argus::store {

namespace {

constexpr std::pair<BatchStatus, std::string_view> kNames[] = {
    {BatchStatus::kDraft, "draft"},           {BatchStatus::kQueued, "queued"},
    {BatchStatus::kProcessing, "processing"}, {BatchStatus::kCompleted, "completed"},
    {BatchStatus::kFailed, "failed"},         {BatchStatus::kCancelled, "cancelled"}};

Json TimeOrNull(TimestampUs t) { return t == 0 ? Json(nullptr) : Json(FormatRfc3339(t)); }

}  // namespace

std::string_view BatchStatusName(BatchStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return name;
  }
  return "unknown";
}

Result<BatchStatus> ParseBatchStatus(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
  }
  return InvalidArgumentError("no batch status '" + std::string(name) + "'");
}

Json BatchJson(const Batch& b) {
  Json progress = b.progress.is_object() ? b.progress : Json::object();
  if (!progress.contains("tiers")) progress["tiers"] = Json::array();
  if (!progress.contains("errors")) progress["errors"] = Json::object();
  return {{"id", b.id},
          {"bucket", b.bucket_name},
          {"selection", b.selection},
          {"collection_ids", b.collection_ids},
          {"status", std::string(BatchStatusName(b.status))},
          {"objects", b.objects},
          {"tiers", progress["tiers"]},
          {"errors", progress["errors"]},
          {"created_at", FormatRfc3339(b.created_at)},
          {"updated_at", FormatRfc3339(b.updated_at)},
          {"submitted_at", TimeOrNull(b.submitted_at)},
          {"finished_at", TimeOrNull(b.finished_at)}};
}

}  // namespace argus::store
