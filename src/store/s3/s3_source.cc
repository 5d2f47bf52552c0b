#include "store/s3/s3_source.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <initializer_list>
#include <utility>
#include <vector>

#include "core/ip_address.h"
#include "core/str_cat.h"
#include "store/s3/s3_object_reader.h"

namespace argus::store::s3 {
namespace {

constexpr std::string_view kKnownSettings =
    "endpoint, region, bucket, prefix, access_key_id, secret_access_key, path_style";

// User text quoted in a message, cut to a readable length.
std::string Quoted(std::string_view text) { return StrCat({"'", text.substr(0, 80), "'"}); }

bool IsPlainAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// http(s)://host[:port][/path] without credentials, query or fragment. A literal IP address
// that is not public is refused unless allowed; names are checked on every connection.
Status CheckEndpoint(std::string_view endpoint, bool allow_private) {
  if (!IsPlainAscii(endpoint)) {
    return InvalidArgumentError("s3 endpoint must be plain ASCII without spaces");
  }
  size_t scheme_len = endpoint.starts_with("https://")  ? 8
                      : endpoint.starts_with("http://") ? 7
                                                        : 0;
  if (scheme_len == 0) {
    return InvalidArgumentError(
        StrCat({"s3 endpoint must start with http:// or https://, not ", Quoted(endpoint)}));
  }
  std::string_view rest = endpoint.substr(scheme_len);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgumentError("s3 endpoint must not have a query or fragment");
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError("s3 endpoint must not contain credentials (user@)");
  }
  std::string_view host = authority;
  std::string_view port;
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError(StrCat({"s3 endpoint has a malformed host: ", Quoted(endpoint)}));
    }
    port = host.substr(close + 1);
    host = host.substr(0, close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  if (host.empty() || host == "[]") return InvalidArgumentError("s3 endpoint has no host");
  if (!port.empty()) {
    int number = 0;
    auto [end, ec] = std::from_chars(port.data() + 1, port.data() + port.size(), number);
    if (port.front() != ':' || port.size() < 2 || ec != std::errc() ||
        end != port.data() + port.size() || number < 1 || number > 65535) {
      return InvalidArgumentError(StrCat({"s3 endpoint has a malformed port: ", Quoted(endpoint)}));
    }
  }
  IpBytes ip;
  if (!allow_private && ParseIp(host, &ip) && !IsPublicAddress(ip)) {
    return InvalidArgumentError(
        StrCat({"s3 endpoint ", Quoted(endpoint),
                " is a loopback, private or link-local address; the server setting "
                "syncs.allow_private_endpoints allows that"}));
  }
  return OkStatus();
}

// Bucket names go into the URL path, or the host name with virtual-host addressing, so only the
// characters S3 has ever allowed in them pass (legacy names add upper case and '_').
Status CheckBucket(std::string_view bucket) {
  bool ok = !bucket.empty() && bucket.size() <= 255 &&
            std::all_of(bucket.begin(), bucket.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '.' || c == '-' || c == '_';
            });
  if (!ok) {
    return InvalidArgumentError(StrCat(
        {"s3 bucket ", Quoted(bucket), " is not a bucket name (letters, digits, '.', '-', '_')"}));
  }
  return OkStatus();
}

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

// 401/403 are the source refusing access; the rest maps as for every S3 request.
Status SourceError(const S3Response& response, std::string_view what) {
  Status status = S3Client::ErrorStatus(response, what);
  if (response.status == 401 || response.status == 403) {
    return PermissionDeniedError(std::string(status.message()));
  }
  return status;
}

enum class KeyUse { kEntry, kLeftOut, kInvalid };

// What a listed path (the key without the prefix) becomes.
KeyUse Classify(std::string_view path) {
  if (path.empty() || path.ends_with('/')) return KeyUse::kLeftOut;  // a folder marker
  KeyUse use = KeyUse::kEntry;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (!segment.empty() && segment.front() == '.') return KeyUse::kLeftOut;  // hidden
    if (segment.empty()) use = KeyUse::kInvalid;
    start = end + 1;
  }
  return use;
}

Result<SourceEntry> EntryOf(const XmlElement& contents, std::string path, std::string_view key) {
  std::string size_text = contents.ChildText("Size");
  int64_t size = 0;
  auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (ec != std::errc() || end != size_text.data() + size_text.size() || size < 0) {
    return InternalError(StrCat({"s3 listing: bad size ", Quoted(size_text), " of ", key}));
  }
  ARGUS_ASSIGN_OR_RETURN(TimestampUs modified_at, ParseIso8601(contents.ChildText("LastModified")));
  std::string etag = StripQuotes(contents.ChildText("ETag"));
  if (etag.empty()) return InternalError(StrCat({"s3 listing: no ETag for ", key}));
  return SourceEntry{.path = std::move(path),
                     .size = size,
                     .version = std::move(etag),
                     .modified_at = modified_at};
}

// Reads one object by streamed ranged GETs with If-Match (S3ObjectReader), one range per GET,
// handing it out a piece at a time.
class S3SourceReader final : public SourceReader {
 public:
  S3SourceReader(std::shared_ptr<S3Client> client, std::string key, std::string etag, int64_t size,
                 size_t range_size)
      : client_(client),
        key_(key),
        etag_(etag),
        reader_(
            std::move(client), key, size, {{"If-Match", StrCat({"\"", etag, "\""})}},
            [this](const S3Response& head) { return Check(head); },
            static_cast<int64_t>(range_size)),
        piece_size_(std::min<size_t>(range_size, kPieceSize)) {}

  // The first piece (or, for an empty object, an answer), so that a gone or changed object fails
  // Open rather than the first Read.
  Status Start() {
    if (reader_.size() > 0) return Fill();
    ARGUS_ASSIGN_OR_RETURN(S3Response response,
                           client_->Send(S3Request{
                               .method = "GET", .key = key_, .headers = {{"If-Match", Quoted()}}}));
    ARGUS_RETURN_IF_ERROR(Check(response));
    if (response.status != 200 || !response.body.empty()) return Changed();
    return OkStatus();
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (n == 0) return size_t{0};
    if (pos_ == buffer_.size()) {
      if (offset_ >= reader_.size()) return size_t{0};
      ARGUS_RETURN_IF_ERROR(Fill());
    }
    size_t take = std::min(n, buffer_.size() - pos_);
    std::memcpy(buf, buffer_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  // The next piece at offset_ into buffer_.
  Status Fill() {
    buffer_.clear();
    pos_ = 0;
    Status s = reader_.ReadAt(offset_, piece_size_, &buffer_);
    if (s.code() == StatusCode::kFailedPrecondition) return Changed();
    ARGUS_RETURN_IF_ERROR(s);
    offset_ += static_cast<int64_t>(buffer_.size());
    return OkStatus();
  }

  // Every answer is checked: servers that ignore If-Match (s3rver) still say which version they
  // sent.
  Status Check(const S3Response& head) const {
    if (head.status == 404) return NotFoundError(StrCat({"s3 object ", key_, " is gone"}));
    if (head.status == 412 || head.status == 416) return Changed();
    if (head.status != 200 && head.status != 206) {
      return SourceError(head, StrCat({"read s3 object ", key_}));
    }
    std::string etag = StripQuotes(head.Header("etag"));
    if (!etag.empty() && etag != etag_) return Changed();
    return OkStatus();
  }
  std::string Quoted() const { return StrCat({"\"", etag_, "\""}); }
  Status Changed() const {
    return FailedPreconditionError(StrCat({"s3 object ", key_, " changed since it was listed"}));
  }

  // Memory per reader: one piece, however large the range one GET asks for.
  static constexpr size_t kPieceSize = 1 << 20;

  std::shared_ptr<S3Client> client_;
  std::string key_;
  std::string etag_;
  S3ObjectReader reader_;
  size_t piece_size_;
  int64_t offset_ = 0;  // of the next piece
  std::string buffer_;  // the current piece
  size_t pos_ = 0;      // read position in buffer_
};

}  // namespace

S3Source::S3Source(std::shared_ptr<S3Client> client, size_t range_size)
    : client_(std::move(client)), range_size_(range_size) {}

Result<S3Options> S3Source::ParseSettings(const Json& config, bool allow_private_endpoints) {
  if (!config.is_object()) return InvalidArgumentError("s3 source settings must be an object");
  S3Options options;
  for (const auto& [name, value] : config.items()) {
    if (name == "path_style") {
      if (!value.is_boolean()) {
        return InvalidArgumentError("s3 source setting 'path_style' must be true or false");
      }
      options.path_style = value.get<bool>();
      continue;
    }
    std::string* field = name == "endpoint"            ? &options.endpoint
                         : name == "region"            ? &options.region
                         : name == "bucket"            ? &options.bucket
                         : name == "prefix"            ? &options.prefix
                         : name == "access_key_id"     ? &options.access_key_id
                         : name == "secret_access_key" ? &options.secret_access_key
                                                       : nullptr;
    if (field == nullptr) {
      return InvalidArgumentError(
          StrCat({"unknown s3 source setting ", Quoted(name), " (known: ", kKnownSettings, ")"}));
    }
    if (!value.is_string()) {
      return InvalidArgumentError(StrCat({"s3 source setting '", name, "' must be a string"}));
    }
    *field = value.get<std::string>();
  }
  if (options.endpoint.empty()) return InvalidArgumentError("s3 source needs an endpoint");
  ARGUS_RETURN_IF_ERROR(CheckEndpoint(options.endpoint, allow_private_endpoints));
  ARGUS_RETURN_IF_ERROR(CheckBucket(options.bucket));
  if (options.region.empty()) options.region = "us-east-1";
  bool region_ok = options.region.size() <= 64 &&
                   std::all_of(options.region.begin(), options.region.end(), [](unsigned char c) {
                     return std::isalnum(c) || c == '-' || c == '_';
                   });
  if (!region_ok)
    return InvalidArgumentError(StrCat({"s3 region ", Quoted(options.region), " is malformed"}));
  // The key id goes into the Authorization header and the credential scope.
  if (!IsPlainAscii(options.access_key_id) ||
      options.access_key_id.find_first_of("/,") != std::string::npos) {
    return InvalidArgumentError("s3 access_key_id must be plain ASCII without spaces, '/' or ','");
  }
  if (options.prefix.starts_with('/')) {
    return InvalidArgumentError(
        StrCat({"s3 prefix ", Quoted(options.prefix), " must not start with '/'"}));
  }
  if (!options.prefix.empty() && !options.prefix.ends_with('/')) options.prefix.push_back('/');
  options.public_addresses_only = !allow_private_endpoints;
  return options;
}

Result<std::unique_ptr<ObjectSource>> S3Source::Create(const SourceArgs& args) {
  ARGUS_ASSIGN_OR_RETURN(S3Options options,
                         ParseSettings(args.config, args.allow_private_endpoints));
  return CreateWithOptions(std::move(options));
}

Result<std::unique_ptr<ObjectSource>> S3Source::CreateWithOptions(S3Options options,
                                                                  size_t range_size) {
  if (range_size == 0) return InvalidArgumentError("s3 source range size must be positive");
  ARGUS_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, S3Client::Create(std::move(options)));
  return std::unique_ptr<ObjectSource>(new S3Source(std::move(client), range_size));
}

SourceCapabilities S3Source::Capabilities() {
  auto text = [](int min_length, int max_length) {
    return Json{{"type", "string"}, {"minLength", min_length}, {"maxLength", max_length}};
  };
  Json properties = {{"endpoint", text(1, 2048)},
                     {"region", text(0, 64)},
                     {"bucket", text(1, 255)},
                     {"prefix", text(0, 1024)},
                     {"access_key_id", text(0, 256)},
                     {"secret_access_key", text(0, 256)},
                     {"path_style", {{"type", "boolean"}, {"default", true}}}};
  properties["region"]["default"] = "us-east-1";
  properties["prefix"]["default"] = "";
  return SourceCapabilities{.watchable = false,
                            .secret_fields = {"secret_access_key"},
                            .config_schema = {{"type", "object"},
                                              {"properties", std::move(properties)},
                                              {"required", Json::array({"endpoint", "bucket"})},
                                              {"additionalProperties", false}}};
}

Result<SourcePage> S3Source::PageFromListing(const XmlElement& listing, std::string_view prefix,
                                             std::string_view cursor) {
  SourcePage page;
  std::string last_key;
  for (const XmlElement& child : listing.children) {
    if (child.name != "Contents") continue;
    std::string key = child.ChildText("Key");
    last_key = key;
    if (!key.starts_with(prefix)) continue;  // not asked for; S3 never sends it
    std::string path = key.substr(prefix.size());
    switch (Classify(path)) {
      case KeyUse::kLeftOut:
        continue;
      case KeyUse::kInvalid:
        page.skipped.push_back(SourceSkip{.path = std::move(path),
                                          .reason = "key is not a path: it has an empty segment"});
        continue;
      case KeyUse::kEntry:
        break;
    }
    ARGUS_ASSIGN_OR_RETURN(SourceEntry entry, EntryOf(child, std::move(path), key));
    page.entries.push_back(std::move(entry));
  }
  if (listing.ChildText("IsTruncated") == "true") {
    if (last_key.empty() || !last_key.starts_with(prefix) ||
        std::string_view(last_key).substr(prefix.size()) <= cursor) {
      return InternalError(
          StrCat({"s3 listing under '", prefix, "' is truncated but does not advance"}));
    }
    page.next_cursor = last_key.substr(prefix.size());
  }
  return page;
}

Result<SourcePage> S3Source::List(std::string_view cursor, int limit) {
  if (limit < 1) return InvalidArgumentError("s3 listing limit must be at least 1");
  const S3Options& options = client_->options();
  const std::string& prefix = options.prefix;
  S3Request request{.method = "GET",
                    .query = {{"list-type", "2"},
                              {"max-keys", std::to_string(std::min(limit, kMaxKeysPerList))}}};
  if (!prefix.empty()) request.query.emplace_back("prefix", prefix);
  if (!cursor.empty()) request.query.emplace_back("start-after", StrCat({prefix, cursor}));
  std::string what = StrCat({"list s3://", options.bucket, "/", prefix});
  ARGUS_ASSIGN_OR_RETURN(S3Response response, client_->Send(request));
  if (response.status < 200 || response.status > 299) return SourceError(response, what);
  ARGUS_ASSIGN_OR_RETURN(XmlElement xml, ParseXml(response.body));
  if (xml.name != "ListBucketResult") return SourceError(response, what);
  return PageFromListing(xml, prefix, cursor);
}

Result<std::unique_ptr<SourceReader>> S3Source::Open(const SourceEntry& entry) {
  if (entry.path.empty()) return InvalidArgumentError("an s3 source entry needs a path");
  auto reader =
      std::make_unique<S3SourceReader>(client_, StrCat({client_->options().prefix, entry.path}),
                                       entry.version, entry.size, range_size_);
  ARGUS_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<SourceReader>(std::move(reader));
}

}  // namespace argus::store::s3
