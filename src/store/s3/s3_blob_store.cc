#include "store/s3/s3_blob_store.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <utility>

#include "core/config.h"
#include "core/crypto.h"
#include "core/str_cat.h"
#include "store/s3/s3_object_reader.h"

namespace argus::store::s3 {
namespace {

constexpr std::string_view kMarkerSuffix = ".upload";
constexpr int kMaxKeysPerList = 1000;

Result<int64_t> ParseSize(std::string_view text, std::string_view what) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return InternalError(StrCat({what, ": bad size '", text.substr(0, 40), "'"}));
  }
  return value;
}

// Sends and maps a transport failure or a non-success to the contract's codes.
Result<S3Response> SendChecked(S3Client& client, const S3Request& request, std::string_view what) {
  ARGUS_ASSIGN_OR_RETURN(S3Response response, client.Send(request));
  ARGUS_RETURN_IF_ERROR(S3Client::CheckSuccess(response, what));
  return response;
}

// DELETE that is OK when the object is already gone.
Status DeleteKey(S3Client& client, const std::string& key) {
  ARGUS_ASSIGN_OR_RETURN(S3Response response,
                         client.Send(S3Request{.method = "DELETE", .key = key}));
  if (response.status == 404) return OkStatus();
  return S3Client::CheckSuccess(response, StrCat({"delete ", key}));
}

Status AbortUpload(S3Client& client, const std::string& key, const std::string& upload_id) {
  ARGUS_ASSIGN_OR_RETURN(
      S3Response response,
      client.Send(S3Request{.method = "DELETE", .key = key, .query = {{"uploadId", upload_id}}}));
  if (response.status == 404) return OkStatus();  // NoSuchUpload: completed or aborted already
  // s3rver 3.7.1 has no AbortMultipartUpload (405 MethodNotAllowed): its parts stay in the
  // server's own uploads folder, which nothing lists; treat the upload as gone.
  if (response.status == 405 || response.status == 501) return OkStatus();
  return S3Client::CheckSuccess(response, StrCat({"abort multipart upload of ", key}));
}

// One page of ListObjectsV2 under `prefix`.
struct ListedObject {
  std::string key;
  int64_t size = 0;
  TimestampUs last_modified = 0;
};
struct ListPage {
  std::vector<ListedObject> objects;
  std::string next_token;  // empty when this was the last page
};

Result<ListPage> ListObjects(S3Client& client, const std::string& prefix,
                             const std::string& start_after, const std::string& token,
                             int max_keys) {
  S3Request request{
      .method = "GET",
      .key = {},
      .query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}}};
  if (!token.empty()) {
    request.query.emplace_back("continuation-token", token);
  } else if (!start_after.empty()) {
    request.query.emplace_back("start-after", start_after);
  }
  std::string what = StrCat({"list ", prefix});
  ARGUS_ASSIGN_OR_RETURN(S3Response response, SendChecked(client, request, what));
  auto xml = ParseXml(response.body);
  if (!xml.ok()) return InternalError(StrCat({what, ": ", xml.status().message()}));
  ListPage page;
  for (const XmlElement& child : xml->children) {
    if (child.name != "Contents") continue;
    ListedObject object{.key = child.ChildText("Key")};
    ARGUS_ASSIGN_OR_RETURN(object.size, ParseSize(child.ChildText("Size"), what));
    auto modified = ParseIso8601(child.ChildText("LastModified"));
    if (!modified.ok()) return InternalError(StrCat({what, ": ", modified.status().message()}));
    object.last_modified = *modified;
    page.objects.push_back(std::move(object));
  }
  if (xml->ChildText("IsTruncated") == "true") {
    page.next_token = xml->ChildText("NextContinuationToken");
    if (page.next_token.empty()) {
      return InternalError(StrCat({what, ": truncated listing without a continuation token"}));
    }
  }
  return page;
}

// Buffers one part; a blob within one part is one PUT at Commit, a larger one a multipart upload
// to a temporary key that Commit copies under the blob's name.
class S3BlobWriter final : public BlobWriter {
 public:
  S3BlobWriter(std::shared_ptr<S3Client> client, std::string blobs_prefix, std::string temp_key,
               size_t part_size)
      : client_(std::move(client)),
        blobs_prefix_(std::move(blobs_prefix)),
        temp_key_(std::move(temp_key)),
        marker_key_(StrCat({temp_key_, kMarkerSuffix})),
        part_size_(part_size) {}
  ~S3BlobWriter() override { Abort(); }

  Status Write(std::string_view bytes) override {
    if (finished_ || digest_.sealed()) {
      return FailedPreconditionError("blob writer is already sealed, committed or aborted");
    }
    digest_.Update(bytes);
    while (!bytes.empty()) {
      // A full buffer is sent only when more bytes follow: a blob of exactly one part stays a
      // single PUT.
      if (buffer_.size() == part_size_) {
        Status sent = SendPart();
        if (!sent.ok()) {
          Abort();
          return sent;
        }
      }
      size_t take = std::min(bytes.size(), part_size_ - buffer_.size());
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
    }
    return OkStatus();
  }

  int64_t size() const override { return digest_.size(); }

  // Only hashes: the last part (or the single PUT) stays buffered until Commit.
  Result<BlobInfo> Seal(std::string_view expected_sha256) override {
    if (finished_) return FailedPreconditionError("blob writer is already committed or aborted");
    auto info = digest_.Seal(expected_sha256);
    if (!info.ok()) Abort();
    return info;
  }

  Result<BlobInfo> Commit(std::string_view expected_sha256) override {
    ARGUS_ASSIGN_OR_RETURN(BlobInfo info, Seal(expected_sha256));
    Status status = Publish(info);
    Abort();  // finished either way; removes what is left in tmp/
    if (!status.ok()) return status;
    return info;
  }

  void Abort() override {
    finished_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    // Failures only leave temporaries for CleanTemporary.
    if (!upload_id_.empty()) {
      AbortUpload(*client_, temp_key_, upload_id_).IgnoreError();
      upload_id_.clear();
    }
    if (temp_exists_) {
      DeleteKey(*client_, temp_key_).IgnoreError();
      temp_exists_ = false;
    }
    if (marker_exists_) {
      DeleteKey(*client_, marker_key_).IgnoreError();
      marker_exists_ = false;
    }
  }

 private:
  // Uploads buffer_ as the next part (starting the multipart upload first) and empties it. The
  // marker is rewritten before each part, so its LastModified is the upload's last activity.
  Status SendPart() {
    if (upload_id_.empty()) {
      std::string what = StrCat({"start multipart upload of ", temp_key_});
      ARGUS_ASSIGN_OR_RETURN(
          S3Response response,
          SendChecked(*client_,
                      S3Request{.method = "POST", .key = temp_key_, .query = {{"uploads", ""}}},
                      what));
      auto xml = ParseXml(response.body);
      if (!xml.ok()) return InternalError(StrCat({what, ": ", xml.status().message()}));
      upload_id_ = xml->ChildText("UploadId");
      if (upload_id_.empty()) return InternalError(StrCat({what, ": no UploadId in the answer"}));
    }
    ARGUS_RETURN_IF_ERROR(
        SendChecked(*client_, S3Request{.method = "PUT", .key = marker_key_, .body = upload_id_},
                    StrCat({"write ", marker_key_}))
            .status());
    marker_exists_ = true;
    std::string part_number = std::to_string(etags_.size() + 1);
    ARGUS_ASSIGN_OR_RETURN(
        S3Response response,
        SendChecked(*client_,
                    S3Request{.method = "PUT",
                              .key = temp_key_,
                              .query = {{"partNumber", part_number}, {"uploadId", upload_id_}},
                              .body = buffer_},
                    StrCat({"upload part ", part_number, " of ", temp_key_})));
    std::string etag = response.Header("etag");
    if (etag.empty())
      return InternalError(StrCat({"no ETag for part ", part_number, " of ", temp_key_}));
    etags_.push_back(std::move(etag));
    buffer_.clear();
    return OkStatus();
  }

  // Stores the blob under its name. Writing over an existing copy is the deduplication: the bytes
  // are identical and the write refreshes LastModified (the blob's last_used).
  Status Publish(const BlobInfo& info) {
    std::string blob_key = StrCat({blobs_prefix_, info.sha256});
    if (upload_id_.empty()) {
      return SendChecked(
                 *client_,
                 S3Request{
                     .method = "PUT", .key = blob_key, .body = buffer_, .body_sha256 = info.sha256},
                 StrCat({"write ", blob_key}))
          .status();
    }
    if (!buffer_.empty()) ARGUS_RETURN_IF_ERROR(SendPart());
    std::string parts = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      parts.append("<Part><PartNumber>");
      parts.append(std::to_string(i + 1));
      parts.append("</PartNumber><ETag>");
      for (char c : etags_[i]) {  // ETags are quoted: escape for XML
        if (c == '"') {
          parts.append("&quot;");
        } else if (c == '&') {
          parts.append("&amp;");
        } else if (c == '<') {
          parts.append("&lt;");
        } else {
          parts.push_back(c);
        }
      }
      parts.append("</ETag></Part>");
    }
    parts.append("</CompleteMultipartUpload>");
    temp_exists_ = true;  // from here on a failure may leave a completed temporary
    ARGUS_RETURN_IF_ERROR(SendChecked(*client_,
                                      S3Request{.method = "POST",
                                                .key = temp_key_,
                                                .query = {{"uploadId", upload_id_}},
                                                .body = parts},
                                      StrCat({"complete multipart upload of ", temp_key_}))
                              .status());
    upload_id_.clear();
    std::string source = StrCat({"/", client_->options().bucket, "/", temp_key_});
    return SendChecked(*client_,
                       S3Request{.method = "PUT",
                                 .key = blob_key,
                                 .headers = {{"x-amz-copy-source", UriEncode(source, true)}}},
                       StrCat({"copy ", temp_key_, " to ", blob_key}))
        .status();
  }

  std::shared_ptr<S3Client> client_;
  std::string blobs_prefix_;
  std::string temp_key_;
  std::string marker_key_;
  size_t part_size_;
  std::string buffer_;
  BlobDigest digest_;
  bool finished_ = false;
  std::string upload_id_;           // of a multipart upload started and not completed/aborted
  std::vector<std::string> etags_;  // of the parts sent, in order
  bool marker_exists_ = false;
  bool temp_exists_ = false;  // a completed multipart object at temp_key_
};

// Streams the blob (S3ObjectReader): sequential reads go on with one GET, in flat memory.
class S3BlobReader final : public BlobReader {
 public:
  S3BlobReader(std::shared_ptr<S3Client> client, std::string key, int64_t size)
      : reader_(std::move(client), std::move(key), size) {}

  int64_t size() const override { return reader_.size(); }

  Result<std::string> ReadAt(int64_t offset, size_t max_bytes) override {
    std::string out;
    Status s = reader_.ReadAt(offset, max_bytes, &out);
    // Blobs never change: an answer for other bytes is a damaged store, the contract's Internal.
    if (s.code() == StatusCode::kFailedPrecondition) return InternalError(std::string(s.message()));
    if (!s.ok()) return s;
    return out;
  }

 private:
  S3ObjectReader reader_;
};

}  // namespace

namespace {

using T = ConfigType;

// The settings of the S3 blob store, declared beside the code that reads them.
constexpr ConfigKey kS3Keys[] = {
    {"blobs.s3.endpoint", T::kString, "\"\"",
     "S3 blob store: http(s)://host[:port] of the S3 API, e.g. \"http://127.0.0.1:9000\""},
    {"blobs.s3.region", T::kString, "\"us-east-1\"", "S3 blob store: region signed into requests"},
    {"blobs.s3.bucket", T::kString, "\"\"", "S3 blob store: bucket (must exist)"},
    {"blobs.s3.prefix", T::kString, "\"\"",
     "S3 blob store: prefix of every key, e.g. \"argus/\" (a missing trailing / is added)"},
    {"blobs.s3.access_key_id", T::kString, "\"\"", "S3 blob store: access key id"},
    {"blobs.s3.secret_access_key", T::kString, "\"\"", "S3 blob store: secret access key", true},
    {"blobs.s3.path_style", T::kBool, "true",
     "S3 blob store: path-style URLs (host/bucket/key); false: virtual-host (bucket.host/key)"},
};
const ConfigKeyGroup kS3KeyGroup("store/s3", kS3Keys);

}  // namespace

S3BlobStore::S3BlobStore(std::shared_ptr<S3Client> client, size_t part_size)
    : client_(std::move(client)),
      part_size_(part_size),
      blobs_prefix_(StrCat({client_->options().prefix, "blobs/"})),
      tmp_prefix_(StrCat({client_->options().prefix, "tmp/"})) {}

Status S3BlobStore::Validate(const StoreArgs& args) {
  if (args.config == nullptr) return InvalidArgumentError("the S3 blob store needs a config");
  const Config& config = *args.config;
  const std::string& endpoint = config.GetString("blobs.s3.endpoint");
  if (endpoint.empty()) {
    return InvalidArgumentError(
        "blobs.s3.endpoint is not set: give the S3 API's URL, e.g. http://127.0.0.1:9000");
  }
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
    return InvalidArgumentError("blobs.s3.endpoint must start with http:// or https://, not '" +
                                endpoint + "'");
  }
  if (config.GetString("blobs.s3.bucket").empty()) {
    return InvalidArgumentError("blobs.s3.bucket is not set: name an existing bucket");
  }
  if (config.GetString("blobs.s3.region").empty()) {
    return InvalidArgumentError("blobs.s3.region is not set (e.g. us-east-1)");
  }
  if (config.GetString("blobs.s3.access_key_id").empty() ||
      config.GetString("blobs.s3.secret_access_key").empty()) {
    return InvalidArgumentError("blobs.s3.access_key_id and secret_access_key must be set");
  }
  return OkStatus();
}

Result<std::unique_ptr<BlobStore>> S3BlobStore::Create(const StoreArgs& args) {
  ARGUS_RETURN_IF_ERROR(Validate(args));
  const Config& config = *args.config;
  S3Options options{.endpoint = config.GetString("blobs.s3.endpoint"),
                    .region = config.GetString("blobs.s3.region"),
                    .bucket = config.GetString("blobs.s3.bucket"),
                    .prefix = config.GetString("blobs.s3.prefix"),
                    .access_key_id = config.GetString("blobs.s3.access_key_id"),
                    .secret_access_key = config.GetString("blobs.s3.secret_access_key"),
                    .path_style = config.GetBool("blobs.s3.path_style")};
  return CreateWithOptions(std::move(options));
}

Result<std::unique_ptr<BlobStore>> S3BlobStore::CreateWithOptions(S3Options options,
                                                                  size_t part_size) {
  if (options.endpoint.empty()) return InvalidArgumentError("blobs.s3.endpoint is not set");
  if (options.region.empty()) return InvalidArgumentError("blobs.s3.region is not set");
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return InvalidArgumentError("blobs.s3.access_key_id and secret_access_key must be set");
  }
  if (part_size == 0) return InvalidArgumentError("the S3 part size must be positive");
  if (!options.prefix.empty() && options.prefix.back() != '/') options.prefix.push_back('/');
  ARGUS_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, S3Client::Create(std::move(options)));
  std::string what = StrCat({"check bucket ", client->options().bucket});
  ARGUS_ASSIGN_OR_RETURN(S3Response response, client->Send(S3Request{.method = "HEAD"}));
  if (response.status == 404) {
    return FailedPreconditionError(
        StrCat({"S3 bucket ", client->options().bucket, " does not exist"}));
  }
  ARGUS_RETURN_IF_ERROR(S3Client::CheckSuccess(response, what));
  return std::unique_ptr<BlobStore>(new S3BlobStore(std::move(client), part_size));
}

std::string S3BlobStore::BlobKey(std::string_view sha256) const {
  return StrCat({blobs_prefix_, sha256});
}

Result<std::unique_ptr<BlobWriter>> S3BlobStore::NewWriter() {
  uint8_t random[16];
  RandomBytes(random, sizeof(random));
  std::string temp_key =
      StrCat({tmp_prefix_, HexEncode(std::string_view(reinterpret_cast<const char*>(random), 16))});
  return std::unique_ptr<BlobWriter>(
      new S3BlobWriter(client_, blobs_prefix_, std::move(temp_key), part_size_));
}

Result<std::unique_ptr<BlobReader>> S3BlobStore::Open(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  std::string key = BlobKey(sha256);
  ARGUS_ASSIGN_OR_RETURN(S3Response response,
                         client_->Send(S3Request{.method = "HEAD", .key = key}));
  if (response.status == 404) return NotFoundError(StrCat({"blob ", sha256, " does not exist"}));
  ARGUS_RETURN_IF_ERROR(S3Client::CheckSuccess(response, StrCat({"open ", key})));
  ARGUS_ASSIGN_OR_RETURN(int64_t size,
                         ParseSize(response.Header("content-length"), StrCat({"open ", key})));
  return std::unique_ptr<BlobReader>(new S3BlobReader(client_, std::move(key), size));
}

Result<bool> S3BlobStore::Exists(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  std::string key = BlobKey(sha256);
  ARGUS_ASSIGN_OR_RETURN(S3Response response,
                         client_->Send(S3Request{.method = "HEAD", .key = key}));
  if (response.status == 404) return false;
  ARGUS_RETURN_IF_ERROR(S3Client::CheckSuccess(response, StrCat({"check ", key})));
  return true;
}

Status S3BlobStore::Delete(std::string_view sha256) {
  if (!IsBlobSha256(sha256)) return BadBlobSha256(sha256);
  return DeleteKey(*client_, BlobKey(sha256));
}

Result<std::vector<BlobStore::Listed>> S3BlobStore::List(std::string_view after, int limit) {
  if (limit < 1) {
    return InvalidArgumentError(
        StrCat({"blob list limit must be at least 1, not ", std::to_string(limit)}));
  }
  std::vector<Listed> out;
  // Keys compare as bytes (UTF-8 binary order), like the sha256 strings they end in.
  std::string start_after = StrCat({blobs_prefix_, after});
  std::string token;
  for (;;) {
    int max_keys = std::min(kMaxKeysPerList, limit - static_cast<int>(out.size()));
    ARGUS_ASSIGN_OR_RETURN(ListPage page,
                           ListObjects(*client_, blobs_prefix_, start_after, token, max_keys));
    for (ListedObject& object : page.objects) {
      std::string_view name = std::string_view(object.key).substr(blobs_prefix_.size());
      if (!object.key.starts_with(blobs_prefix_) || !IsBlobSha256(name) || name <= after) {
        continue;
      }
      out.push_back(Listed{
          .sha256 = std::string(name), .size = object.size, .last_used = object.last_modified});
      if (out.size() == static_cast<size_t>(limit)) return out;
    }
    if (page.next_token.empty()) return out;
    token = std::move(page.next_token);
  }
}

Result<int64_t> S3BlobStore::CleanTemporary(TimestampUs before) {
  // Collect first, then delete: deleting while paging would shift the listing under the token.
  std::vector<ListedObject> stale;
  std::string token;
  for (;;) {
    ARGUS_ASSIGN_OR_RETURN(ListPage page,
                           ListObjects(*client_, tmp_prefix_, "", token, kMaxKeysPerList));
    for (ListedObject& object : page.objects) {
      if (object.last_modified < before) stale.push_back(std::move(object));
    }
    if (page.next_token.empty()) break;
    token = std::move(page.next_token);
  }
  int64_t removed = 0;
  for (const ListedObject& object : stale) {
    if (object.key.ends_with(kMarkerSuffix)) {
      std::string what = StrCat({"read ", object.key});
      ARGUS_ASSIGN_OR_RETURN(S3Response response,
                             client_->Send(S3Request{.method = "GET", .key = object.key}));
      if (response.status == 404) continue;  // its writer committed or aborted meanwhile
      if (response.status != 200) return S3Client::ErrorStatus(response, what);
      std::string temp_key = object.key.substr(0, object.key.size() - kMarkerSuffix.size());
      ARGUS_RETURN_IF_ERROR(AbortUpload(*client_, temp_key, response.body));
    }
    ARGUS_RETURN_IF_ERROR(DeleteKey(*client_, object.key));
    ++removed;
  }
  return removed;
}

}  // namespace argus::store::s3
