#include "domain/cascading_delete.h"

namespace argus::domain {
namespace {

Result<std::string> StringField(const Json& input, const char* name) {
  auto it = input.find(name);
  if (!input.is_object() || it == input.end() || !it->is_string() ||
      it->get_ref<const std::string&>().empty()) {
    return InvalidArgumentError(std::string("input.") + name + " must be a non-empty string");
  }
  return it->get<std::string>();
}

}  // namespace

Json DeleteNamespaceInput(std::string_view namespace_id) {
  return {{"namespace_id", namespace_id}};
}

Json DeleteBucketInput(std::string_view namespace_id, std::string_view bucket, bool force) {
  return {{"namespace_id", namespace_id}, {"bucket", bucket}, {"force", force}};
}

Status DeleteNamespaceCascade(const CascadeContext& ctx, const Json& input) {
  ARGUS_ASSIGN_OR_RETURN(std::string id, StringField(input, "namespace_id"));
  // Webhooks first: they live in their own store, so a namespace row deleted first would leave
  // webhooks no key can reach if this task stopped in between. Both steps are idempotent.
  if (ctx.webhooks != nullptr) ARGUS_RETURN_IF_ERROR(ctx.webhooks->DeleteNamespaceWebhooks(id));
  Status deleted = ctx.namespaces->DeleteNamespace(id);
  if (deleted.code() == StatusCode::kNotFound) return OkStatus();
  return deleted;
}

Status DeleteBucketCascade(const CascadeContext& ctx, const Json& input) {
  ARGUS_ASSIGN_OR_RETURN(std::string namespace_id, StringField(input, "namespace_id"));
  ARGUS_ASSIGN_OR_RETURN(std::string bucket, StringField(input, "bucket"));
  const bool force = input.value("force", false);
  Status deleted = ctx.buckets->DeleteBucket(namespace_id, bucket, force);
  if (deleted.code() == StatusCode::kNotFound) return OkStatus();
  return deleted;
}

}  // namespace argus::domain
