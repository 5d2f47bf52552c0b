#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace argus {

/// Standard Webhooks (standardwebhooks.com) secrets and signatures, shared by the API (which
/// makes secrets) and the dispatcher (which signs). Pure functions; thread-safe.

/// "whsec_" + base64 of 32 random bytes.
std::string NewWebhookSecret();

/// The key bytes of a "whsec_<base64>" secret into `key`; InvalidArgument when malformed.
/// (An out-parameter: GCC 12 warns falsely on a Result<std::string> here.)
Status DecodeWebhookSecret(std::string_view secret, std::string* key);

/// The `webhook-signature` header value: "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" for
/// each key, separated by spaces (more than one during a secret rotation's grace period).
std::string WebhookSignatureHeader(const std::vector<std::string>& keys, std::string_view id,
                                   int64_t timestamp_s, std::string_view body);

}  // namespace argus
