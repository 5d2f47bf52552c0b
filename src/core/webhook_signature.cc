#include "core/webhook_signature.h"

#include "core/crypto.h"

namespace argus {

namespace {
constexpr std::string_view kPrefix = "whsec_";
}  // namespace

std::string NewWebhookSecret() {
  uint8_t key[32];
  RandomBytes(key, sizeof(key));
  std::string out(kPrefix);
  out += Base64Encode(std::string_view(reinterpret_cast<const char*>(key), sizeof(key)));
  return out;
}

Status DecodeWebhookSecret(std::string_view secret, std::string* key) {
  if (secret.substr(0, kPrefix.size()) != kPrefix) {
    return InvalidArgumentError("a webhook secret starts with 'whsec_'");
  }
  if (!Base64Decode(secret.substr(kPrefix.size()), key) || key->size() < 24 || key->size() > 64) {
    return InvalidArgumentError("a webhook secret is 'whsec_' + base64 of 24 to 64 bytes");
  }
  return OkStatus();
}

std::string WebhookSignatureHeader(const std::vector<std::string>& keys, std::string_view id,
                                   int64_t timestamp_s, std::string_view body) {
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id);
  content.push_back('.');
  content.append(std::to_string(timestamp_s));
  content.push_back('.');
  content.append(body);
  std::string header;
  for (const std::string& key : keys) {
    if (!header.empty()) header.push_back(' ');
    header.append("v1,");
    header.append(Base64Encode(HmacSha256(key, content)));
  }
  return header;
}

}  // namespace argus
