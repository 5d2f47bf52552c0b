#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "store/metadata_store.h"

namespace argus::store {

/// The public JSON form of an object (API responses and object.* event data).
Json ObjectJson(const StoredObject& object, std::string_view bucket_name);
/// The same as text, for event rows.
std::string ObjectJsonText(const StoredObject& object, std::string_view bucket_name);
/// `"<sha256>"`: an object's ETag.
std::string ObjectETag(const std::string& sha256);

}  // namespace argus::store
