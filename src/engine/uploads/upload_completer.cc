#include "engine/uploads/upload_completer.h"

#include <chrono>

#include "domain/upload_completion.h"

namespace argus::engine {

namespace {

constexpr auto kBeatEvery = std::chrono::seconds(2);

}  // namespace

Result<Json> UploadCompleter::Run(TaskContext& ctx) {
  ARGUS_ASSIGN_OR_RETURN(auto input, domain::CompleteUploadInput::FromJson(ctx.task().input));
  auto last_beat = std::chrono::steady_clock::now();
  auto keep_going = [&](double done) {
    if (ctx.stopping()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now - last_beat < kBeatEvery) return true;
    last_beat = now;
    return ctx.Heartbeat(done);
  };
  ARGUS_ASSIGN_OR_RETURN(auto result,
                         domain::CompleteUpload(ingest_, ctx.task().namespace_id, input,
                                               /*retry=*/ctx.task().attempt > 1, keep_going));
  Json object = store::ObjectJson(result.put.object, input.bucket);
  object["deduplicated"] = result.put.deduplicated;
  return object;
}

Status UploadCompleter::Register(TaskKindRegistry& registry) {
  return registry.Register({domain::kUploadCompleteKind,
                            "joins a resumable upload's parts into its object (started by POST "
                            "/v1/buckets/{bucket}/uploads/{id}/complete)",
                            domain::CompleteUploadInputSchema(),
                            [this](TaskContext& ctx) { return Run(ctx); },
                            /*internal=*/true});
}

}  // namespace argus::engine
