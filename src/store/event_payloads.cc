#include "store/event_payloads.h"

namespace argus::store {

std::string ObjectETag(const std::string& sha256) {
  std::string etag = "\"";
  etag += sha256;
  etag += "\"";
  return etag;
}

Json ObjectJson(const StoredObject& o, std::string_view bucket_name) {
  return {{"id", o.id},
          {"bucket", bucket_name},
          {"key", o.key},
          {"size", o.size},
          {"sha256", o.sha256},
          {"etag", ObjectETag(o.sha256)},
          {"media_type", o.media_type},
          {"metadata", o.metadata},
          {"status", o.status},
          {"created_at", FormatRfc3339(o.created_at)},
          {"updated_at", FormatRfc3339(o.updated_at)}};
}

std::string ObjectJsonText(const StoredObject& object, std::string_view bucket_name) {
  return ObjectJson(object, bucket_name).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace argus::store
