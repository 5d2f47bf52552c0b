#include "engine/deletes/delete_tasks.h"

#include <string>

namespace argus::engine {

Status RegisterDeleteKinds(TaskKindRegistry& kinds, domain::CascadeContext ctx) {
  ARGUS_RETURN_IF_ERROR(kinds.Register(
      {.name = std::string(domain::kDeleteNamespaceKind),
       .description = "deletes a namespace with its webhooks, keys, buckets, objects and syncs",
       .input_schema = {{"type", "object"},
                        {"required", {"namespace_id"}},
                        {"properties", {{"namespace_id", {{"type", "string"}}}}}},
       .handler = [ctx](TaskContext& task) -> Result<Json> {
         ARGUS_RETURN_IF_ERROR(domain::DeleteNamespaceCascade(ctx, task.task().input));
         return Json::object();
       },
       .internal = true}));
  return kinds.Register(
      {.name = std::string(domain::kDeleteBucketKind),
       .description = "deletes a bucket (with force, its objects and uploads too)",
       .input_schema = {{"type", "object"},
                        {"required", {"namespace_id", "bucket"}},
                        {"properties",
                         {{"namespace_id", {{"type", "string"}}},
                          {"bucket", {{"type", "string"}}},
                          {"force", {{"type", "boolean"}}}}}},
       .handler = [ctx](TaskContext& task) -> Result<Json> {
         ARGUS_RETURN_IF_ERROR(domain::DeleteBucketCascade(ctx, task.task().input));
         return Json::object();
       },
       .internal = true});
}

}  // namespace argus::engine
