// Buckets and objects over real HTTP: streaming uploads, dedupe, conditional writes, Range and
// ETag downloads, keys, limits, bad input, and the blob collector.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/crypto.h"
#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPng("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde",
                       33);

std::string Hex(const std::string& bytes) { return HexEncode(Sha256(bytes)); }

// The quoted ETag of some bytes (built with append: GCC 12 warns falsely on "\"" + s + "\"").
std::string Quoted(const std::string& bytes) {
  std::string q = "\"";
  q.append(Hex(bytes)).append("\"");
  return q;
}

class ObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Start({})); }
  void Start(std::vector<std::string> env) {
    server_ = TestServer::Start({.env = std::move(env)});
    ASSERT_GT(server_->port(), 0) << server_->Log();
    ASSERT_EQ(Call("POST", "/v1/namespaces", {{"name", "a"}}, "").status, 201);
    ASSERT_EQ(Call("POST", "/v1/buckets", {{"name", "photos"}}).status, 201);
  }
  HttpResult Call(const std::string& method, const std::string& path, const Json& body = nullptr,
                  const std::string& ns = "a") {
    std::map<std::string, std::string> headers;
    if (!ns.empty()) headers["X-Namespace"] = ns;
    return server_->Call(method, path, server_->admin_key(), body, headers);
  }
  // A raw request with a raw body on a fresh connection.
  HttpResult Raw(const std::string& method, const std::string& path, const std::string& body,
                 const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> headers = {
        {"Authorization", "Bearer " + server_->admin_key()}, {"X-Namespace", "a"}};
    for (const auto& [k, v] : extra) headers[k] = v;
    return Request(server_->port(), method, path, headers, body);
  }
  HttpResult Put(const std::string& key, const std::string& body,
                 const std::map<std::string, std::string>& extra = {}) {
    return Raw("PUT", "/v1/buckets/photos/objects/" + key, body, extra);
  }
  // Whether the blob store holds `sha` (as a file or a row of blobs/small.db).
  bool Stored(const std::string& sha) const { return BlobStored(server_->data_dir(), sha); }
  size_t TemporaryCount() const {
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(server_->data_dir() + "/blobs/tmp", ec);
         !ec && it != std::filesystem::directory_iterator(); ++it) {
      ++n;
    }
    return n;
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(ObjectsTest, BucketLifecycle) {
  auto got = Call("GET", "/v1/buckets/photos");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["name"], "photos");
  EXPECT_EQ(Call("POST", "/v1/buckets", {{"name", "photos"}}).status, 409);
  EXPECT_EQ(Call("POST", "/v1/buckets", {{"name", "Bad Name"}}).status, 400);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos", nullptr, "").status, 400);  // no namespace in scope
  auto patched = Call("PATCH", "/v1/buckets/photos",
                      {{"description", "cameras"}, {"allowed_media_types", {"image/*"}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.json()["allowed_media_types"], Json({"image/*"}));
  EXPECT_EQ(Call("GET", "/v1/buckets").json()["items"].size(), 1u);
  ASSERT_EQ(Put("a.png", kPng).status, 201);
  auto refused = Call("DELETE", "/v1/buckets/photos");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(Call("DELETE", "/v1/buckets/photos?force=true").status, 204);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos").status, 404);
}

// Deleting a bucket (and a namespace) is a cascading delete the workers run as an internal task:
// the call answers when it is done, the task is on record, and clients cannot start one.
TEST_F(ObjectsTest, ABucketIsDeletedByAnInternalTaskTheCallWaitsFor) {
  ASSERT_EQ(Put("a.png", kPng).status, 201);
  EXPECT_EQ(Call("DELETE", "/v1/buckets/photos?force=true").status, 204);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos").status, 404);
  auto tasks = Call("GET", "/v1/tasks?kind=bucket.delete");
  ASSERT_EQ(tasks.status, 200) << tasks.body;
  ASSERT_EQ(tasks.json()["items"].size(), 1u) << tasks.body;
  EXPECT_EQ(tasks.json()["items"][0]["status"], "succeeded");
  EXPECT_EQ(tasks.json()["items"][0]["input"]["bucket"], "photos");
  auto submitted =
      Call("POST", "/v1/tasks", {{"kind", "namespace.delete"}, {"input", {{"namespace_id", "x"}}}});
  EXPECT_EQ(submitted.status, 400) << submitted.body;
  EXPECT_EQ(Call("DELETE", "/v1/buckets/photos").status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/namespaces/a", nullptr, "").status, 204);
  EXPECT_EQ(Call("GET", "/v1/namespaces/a", nullptr, "").status, 404);
}

TEST_F(ObjectsTest, UploadRecordAndDownload) {
  auto put = Put("cams/a.png", kPng, {{"X-Argus-Metadata", R"({"camera":"A","n":3})"}});
  ASSERT_EQ(put.status, 201) << put.body;
  const Json& rec = put.json();
  EXPECT_EQ(rec["key"], "cams/a.png");
  EXPECT_EQ(rec["size"], kPng.size());
  EXPECT_EQ(rec["sha256"], Hex(kPng));
  EXPECT_EQ(rec["media_type"], "image/png");  // sniffed, not declared
  EXPECT_EQ(rec["metadata"], Json({{"camera", "A"}, {"n", 3}}));
  EXPECT_EQ(rec["deduplicated"], false);
  EXPECT_EQ(put.Header("etag"), Quoted(kPng));
  EXPECT_TRUE(Stored(Hex(kPng)));

  auto record = Call("GET", "/v1/buckets/photos/objects/cams/a.png");
  ASSERT_EQ(record.status, 200) << record.body;
  EXPECT_EQ(record.json()["sha256"], Hex(kPng));

  auto bytes = Raw("GET", "/v1/buckets/photos/content/cams/a.png", "");
  ASSERT_EQ(bytes.status, 200);
  EXPECT_EQ(bytes.body, kPng);
  EXPECT_EQ(bytes.Header("content-type"), "image/png");
  EXPECT_EQ(bytes.Header("accept-ranges"), "bytes");

  auto head = Raw("HEAD", "/v1/buckets/photos/content/cams/a.png", "");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(kPng.size()));
  EXPECT_TRUE(head.body.empty());

  auto part = Raw("GET", "/v1/buckets/photos/content/cams/a.png", "", {{"Range", "bytes=1-3"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, kPng.substr(1, 3));
  EXPECT_EQ(part.Header("content-range"), "bytes 1-3/" + std::to_string(kPng.size()));
  auto tail = Raw("GET", "/v1/buckets/photos/content/cams/a.png", "", {{"Range", "bytes=-4"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, kPng.substr(kPng.size() - 4));
  auto past = Raw("GET", "/v1/buckets/photos/content/cams/a.png", "", {{"Range", "bytes=999-"}});
  EXPECT_EQ(past.status, 416) << past.body;
  auto cached =
      Raw("GET", "/v1/buckets/photos/content/cams/a.png", "", {{"If-None-Match", Quoted(kPng)}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/content/cams/nope.png", "").status, 404);
}

TEST_F(ObjectsTest, DedupeReplaceAndConditions) {
  ASSERT_EQ(Put("one.png", kPng).status, 201);
  auto two = Put("two.png", kPng);
  ASSERT_EQ(two.status, 201) << two.body;
  EXPECT_EQ(two.json()["deduplicated"], true);  // same bytes, one blob
  EXPECT_EQ(Put("one.png", kPng, {{"If-None-Match", "*"}}).status, 412);
  EXPECT_EQ(Put("one.png", "other bytes", {{"If-Match", "\"deadbeef\""}}).status, 412);
  auto replaced = Put("one.png", "other bytes", {{"If-Match", Quoted(kPng)}});
  EXPECT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json()["sha256"], Hex("other bytes"));
  EXPECT_EQ(replaced.json()["media_type"], "text/plain");
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/content/one.png", "").body, "other bytes");
}

TEST_F(ObjectsTest, UploadsAndDeletesAreEvents) {
  ASSERT_EQ(Put("ev.png", kPng).status, 201);
  ASSERT_EQ(Call("DELETE", "/v1/buckets/photos/objects/ev.png").status, 204);
  Connection c(server_->port());
  c.Send(
      "GET /v1/events?types=object.created,object.deleted HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      server_->admin_key() + "\r\nX-Namespace: a\r\nLast-Event-ID: 0\r\n\r\n");
  std::string got = c.ReadUntil("event: object.deleted");
  ASSERT_NE(got.find("event: object.created\ndata: {"), std::string::npos) << got;
  EXPECT_NE(got.find("\"key\":\"ev.png\""), std::string::npos) << got;
  EXPECT_NE(got.find("event: object.deleted"), std::string::npos) << got;
}

std::string Form(const std::string& file, const std::string& filename, const std::string& key,
                 const std::string& metadata, bool close = true) {
  std::string body;
  if (!metadata.empty()) {
    body +=
        "--bnd\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n" + metadata + "\r\n";
  }
  if (!file.empty()) {
    body += "--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file + "\r\n";
  }
  if (!key.empty()) {
    body += "--bnd\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n" + key + "\r\n";
  }
  if (close) body += "--bnd--\r\n";
  return body;
}

TEST_F(ObjectsTest, MultipartFormUploads) {
  const std::map<std::string, std::string> form = {
      {"Content-Type", "multipart/form-data; boundary=bnd"}};
  auto r = Raw("POST", "/v1/buckets/photos/objects",
               Form(kPng, "camera.png", "cams/b.png", R"({"camera":"B"})"), form);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["key"], "cams/b.png");  // the key part comes after the file: still used
  EXPECT_EQ(r.json()["sha256"], Hex(kPng));
  EXPECT_EQ(r.json()["media_type"], "image/png");
  EXPECT_EQ(r.json()["metadata"], Json({{"camera", "B"}}));
  auto named =
      Raw("POST", "/v1/buckets/photos/objects", Form("hello\n", "notes.txt", "", ""), form);
  ASSERT_EQ(named.status, 201) << named.body;
  EXPECT_EQ(named.json()["key"], "notes.txt");  // no key part: the file name
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/content/notes.txt", "").body, "hello\n");
  auto truncated =
      Raw("POST", "/v1/buckets/photos/objects", Form(kPng, "t.png", "t.png", "", false), form);
  EXPECT_EQ(truncated.status, 400) << truncated.body;
  EXPECT_NE(truncated.body.find("truncated"), std::string::npos) << truncated.body;
  auto no_file = Raw("POST", "/v1/buckets/photos/objects", Form("", "", "k.png", "{}"), form);
  EXPECT_EQ(no_file.status, 400) << no_file.body;
  auto not_form = Raw("POST", "/v1/buckets/photos/objects", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(not_form.status, 400) << not_form.body;
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/objects/t.png").status, 404);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(TemporaryCount(), 0u);
}

TEST_F(ObjectsTest, ResumableUploadInParts) {
  auto created = Call("POST", "/v1/buckets/photos/uploads",
                      {{"key", "big/video.bin"}, {"metadata", {{"camera", "C"}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  std::string base = "/v1/buckets/photos/uploads/" + id;
  std::string p1(300000, 'a'), p2(300000, 'b'), p3 = "tail";
  // Parts arrive out of order, and part 2 is sent twice (a retry): the second one counts.
  ASSERT_EQ(Raw("PUT", base + "/parts/3", p3).status, 200);
  ASSERT_EQ(Raw("PUT", base + "/parts/2", "garbage").status, 200);
  ASSERT_EQ(Raw("PUT", base + "/parts/1", p1).status, 200);
  auto retried = Raw("PUT", base + "/parts/2", p2, {{"X-Argus-Sha256", Hex(p2)}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json()["sha256"], Hex(p2));
  EXPECT_EQ(Raw("PUT", base + "/parts/0", "x").status, 400);
  auto state = Call("GET", base);
  ASSERT_EQ(state.status, 200) << state.body;
  ASSERT_EQ(state.json()["parts"].size(), 3u);
  EXPECT_EQ(state.json()["parts"][1]["size"], 300000);
  // Completing is a task (the bytes are re-read and re-written off the HTTP threads), and
  // `Prefer: wait` answers when it is done. The whole is checked against the given sha256.
  const std::map<std::string, std::string> wait = {{"Prefer", "wait=60"},
                                                   {"Content-Type", "application/json"}};
  auto wrong =
      Raw("POST", base + "/complete", Json({{"sha256", std::string(64, 'f')}}).dump(), wait);
  ASSERT_EQ(wrong.status, 200) << wrong.body;
  EXPECT_EQ(wrong.json()["kind"], "upload.complete");
  EXPECT_EQ(wrong.json()["status"], "failed") << wrong.body;
  EXPECT_EQ(wrong.json()["error"]["code"], "invalid_argument") << wrong.body;
  EXPECT_EQ(wrong.json()["attempt"], 1);     // a wrong checksum is not retried
  ASSERT_EQ(Call("GET", base).status, 200);  // a failed completion leaves the upload
  auto started = Call("POST", base + "/complete", {{"sha256", Hex(p1 + p2 + p3)}});
  ASSERT_EQ(started.status, 202) << started.body;
  std::string task = started.json()["id"];
  EXPECT_EQ(started.Header("location"), "/v1/tasks/" + task);
  // Asking again for the same completion gives the same task.
  auto again = Raw("POST", base + "/complete", Json({{"sha256", Hex(p1 + p2 + p3)}}).dump(), wait);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["id"], task);
  ASSERT_EQ(again.json()["status"], "succeeded") << again.body;
  const Json& object = again.json()["result"];
  EXPECT_EQ(object["key"], "big/video.bin");
  EXPECT_EQ(object["size"], p1.size() + p2.size() + p3.size());
  EXPECT_EQ(object["sha256"], Hex(p1 + p2 + p3));
  EXPECT_EQ(object["metadata"], Json({{"camera", "C"}}));
  EXPECT_EQ(Raw("GET", "/v1/buckets/photos/content/big/video.bin", "").body, p1 + p2 + p3);
  EXPECT_EQ(Call("GET", base).status, 404);  // finished uploads are gone
  // Clients cannot start the kind themselves.
  EXPECT_EQ(
      Call("POST", "/v1/tasks", {{"kind", "upload.complete"}, {"input", Json::object()}}).status,
      400);
  // Gaps are refused; an abandoned upload can be deleted.
  auto gap = Call("POST", "/v1/buckets/photos/uploads", {{"key", "gap.bin"}});
  std::string gap_base = "/v1/buckets/photos/uploads/" + std::string(gap.json()["id"]);
  ASSERT_EQ(Raw("PUT", gap_base + "/parts/2", "x").status, 200);
  auto refused = Call("POST", gap_base + "/complete", Json::object());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("part 1 is missing"), std::string::npos) << refused.body;
  EXPECT_EQ(Call("POST", gap_base + "/complete", {{"sha256", "xyz"}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1/buckets/photos/uploads/nope/complete", Json::object()).status, 404);
  EXPECT_EQ(Call("DELETE", gap_base).status, 204);
  EXPECT_EQ(Raw("PUT", gap_base + "/parts/1", "x").status, 404);
}

TEST_F(ObjectsTest, ChecksumMismatchStoresNothing) {
  auto r = Put("c.png", kPng, {{"X-Argus-Sha256", std::string(64, 'a')}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("SHA-256 does not match"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/objects/c.png").status, 404);
  EXPECT_FALSE(Stored(Hex(kPng)));
  EXPECT_EQ(TemporaryCount(), 0u);
  auto ok = Put("c.png", kPng, {{"X-Argus-Sha256", Hex(kPng)}});
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(ObjectsTest, MetadataHeaderPatchAndFilter) {
  // Percent-encoded JSON carries non-ASCII through a header.
  ASSERT_EQ(
      Put("m1.png", kPng, {{"X-Argus-Metadata", "%7B%22place%22%3A%22K%C3%B6ln%22%7D"}}).status,
      201);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/objects/m1.png").json()["metadata"]["place"],
            "K\xc3\xb6ln");
  ASSERT_EQ(Put("m2.png", "x", {{"X-Argus-Metadata", R"({"camera":"B"})"}}).status, 201);
  auto patched =
      Call("PATCH", "/v1/buckets/photos/objects/m1.png", {{"metadata", {{"camera", "A"}}}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto listed = Call("GET", "/v1/buckets/photos/objects?metadata.camera=A");
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json()["items"].size(), 1u);
  EXPECT_EQ(listed.json()["items"][0]["key"], "m1.png");
  EXPECT_EQ(Put("m3.png", "x", {{"X-Argus-Metadata", "not json"}}).status, 400);
  EXPECT_EQ(Put("m3.png", "x", {{"X-Argus-Metadata", "[1,2]"}}).status, 400);
}

TEST_F(ObjectsTest, BucketMetadataSchemaAndSizeLimit) {
  ASSERT_EQ(Call("POST", "/v1/buckets",
                 {{"name", "strict"},
                  {"metadata_schema",
                   {{"type", "object"},
                    {"required", {"camera"}},
                    {"properties", {{"camera", {{"type", "string"}}}}}}}})
                .status,
            201);
  auto bad = Raw("PUT", "/v1/buckets/strict/objects/a.png", kPng,
                 {{"X-Argus-Metadata", R"({"camera":5})"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("metadata_schema"), std::string::npos) << bad.body;
  EXPECT_EQ(Raw("PUT", "/v1/buckets/strict/objects/a.png", kPng).status, 400);  // required
  EXPECT_EQ(Raw("PUT", "/v1/buckets/strict/objects/a.png", kPng,
                {{"X-Argus-Metadata", R"({"camera":"A"})"}})
                .status,
            201);
  EXPECT_EQ(
      Call("PATCH", "/v1/buckets/strict/objects/a.png", {{"metadata", {{"camera", 1}}}}).status,
      400);
  // Metadata over objects.max_metadata_bytes (16 KiB by default) is refused (sent as a form
  // part: as a header it would already be over the header limit, 431).
  std::string big = R"({"note":")" + std::string(20000, 'n') + R"("})";
  auto huge = Raw("POST", "/v1/buckets/photos/objects", Form(kPng, "h.png", "", big),
                  {{"Content-Type", "multipart/form-data; boundary=bnd"}});
  EXPECT_EQ(huge.status, 400) << huge.body;
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/objects/h.png").status, 404);
  EXPECT_EQ(TemporaryCount(), 0u);
}

TEST_F(ObjectsTest, KeysFoldersAndNormalisation) {
  for (const char* key :
       {"photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "top.txt"}) {
    ASSERT_EQ(Put(key, key).status, 201) << key;
  }
  auto top = Call("GET", "/v1/buckets/photos/objects?delimiter=/");
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(top.json()["common_prefixes"], Json({"photos/"}));
  ASSERT_EQ(top.json()["items"].size(), 1u);
  EXPECT_EQ(top.json()["items"][0]["key"], "top.txt");
  auto inner = Call("GET", "/v1/buckets/photos/objects?prefix=photos/&delimiter=/");
  EXPECT_EQ(inner.json()["common_prefixes"], Json({"photos/2024/", "photos/2025/"}));
  // Paging one at a time walks every key once.
  std::vector<std::string> seen;
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    auto page = Call(
        "GET", "/v1/buckets/photos/objects?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const auto& item : page.json()["items"]) seen.push_back(item["key"]);
    if (page.json()["next_cursor"].is_null()) break;
    cursor = page.json()["next_cursor"];
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"photos/2024/a.jpg", "photos/2024/b.jpg",
                                            "photos/2025/c.jpg", "top.txt"}));
  // NFD in, NFC stored: both spellings name one object.
  ASSERT_EQ(Put("cafe%CC%81.txt", "x").status, 201);
  auto nfc = Call("GET", "/v1/buckets/photos/objects/caf%C3%A9.txt");
  EXPECT_EQ(nfc.status, 200) << nfc.body;
  EXPECT_EQ(nfc.json()["key"], "caf\xc3\xa9.txt");
  for (const std::string& bad : std::vector<std::string>{"a/../b", "..", "a//b", "%2Fabs", "x%01y",
                                                         "%FF", std::string(1100, 'k')}) {
    auto r = Put(bad, "x");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
}

TEST_F(ObjectsTest, LimitsAndMediaTypes) {
  ASSERT_EQ(
      Call("POST", "/v1/buckets",
           {{"name", "small"}, {"max_object_bytes", 1000}, {"allowed_media_types", {"image/*"}}})
          .status,
      201);
  // Declared too large: refused from the head, before the body (no 100 Continue).
  Connection c(server_->port());
  c.Send("PUT /v1/buckets/small/objects/big.png HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         server_->admin_key() +
         "\r\nX-Namespace: a\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  HttpResult early = c.Read();
  EXPECT_EQ(early.status, 413) << early.body;
  EXPECT_NE(early.body.find("payload_too_large"), std::string::npos);
  // Chunked, no declared length: refused when it goes over.
  Connection chunked(server_->port());
  std::string chunk(600, 'z');
  char size_line[16];
  snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
  chunked.Send(
      "PUT /v1/buckets/small/objects/big2.png HTTP/1.1\r\nHost: x\r\nAuthorization: "
      "Bearer " +
      server_->admin_key() + "\r\nX-Namespace: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
      size_line + chunk + "\r\n" + size_line + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.Read().status, 413);
  auto text = Raw("PUT", "/v1/buckets/small/objects/t.txt", "hello there");
  EXPECT_EQ(text.status, 415) << text.body;
  EXPECT_EQ(Raw("PUT", "/v1/buckets/small/objects/p.png", kPng).status, 201);
  EXPECT_EQ(Call("GET", "/v1/buckets/small/objects/big2.png").status, 404);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(TemporaryCount(), 0u);
  EXPECT_EQ(Call("GET", "/healthz", nullptr, "").status, 200);
}

TEST_F(ObjectsTest, ClientGoneMidUploadLeavesNothing) {
  {
    Connection c(server_->port());
    c.Send("PUT /v1/buckets/photos/objects/half.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           server_->admin_key() + "\r\nX-Namespace: a\r\nContent-Length: 1000000\r\n\r\n" +
           std::string(300000, 'q'));
    std::this_thread::sleep_for(200ms);
  }  // the connection closes with 700,000 bytes missing
  for (int i = 0; i < 100 && TemporaryCount() > 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(TemporaryCount(), 0u);
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/objects/half.bin").status, 404);
}

// A streamed upload is routed and authorized once, on its head, before its body is read: the
// answer is that verdict, even when the key is revoked while the body is on its way (as an HTTP
// request is authorized when it starts); the key's next request is refused.
TEST_F(ObjectsTest, AStreamedUploadIsAuthorizedOnceOnItsHead) {
  auto key = Call("POST", "/v1/keys", {{"name", "uploader"}, {"role", "editor"}});
  ASSERT_EQ(key.status, 201) << key.body;
  const std::string secret = key.json()["secret"];
  const std::string id = key.json()["id"];
  Connection c(server_->port());
  const std::string first(200000, 'a'), rest(100000, 'b');
  c.Send("PUT /v1/buckets/photos/objects/late.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         secret + "\r\nContent-Length: 300000\r\n\r\n" + first);
  std::this_thread::sleep_for(200ms);  // the head is decided and the body is being read
  ASSERT_EQ(Call("DELETE", "/v1/keys/" + id).status, 204);
  c.Send(rest);
  HttpResult done = c.Read();
  EXPECT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(Call("GET", "/v1/buckets/photos/objects/late.bin").json()["size"], 300000);
  auto after = Request(server_->port(), "GET", "/v1/buckets/photos/objects",
                       {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(after.status, 401) << after.body;
}

TEST_F(ObjectsTest, LargeUploadStreamsInFlatMemory) {
  auto rss_kib = [&] {
    std::ifstream f("/proc/" + std::to_string(server_->pid()) + "/status");
    for (std::string line; std::getline(f, line);) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0L;
  };
  // 256 MiB here; the slow run sets ARGUS_LARGE_UPLOAD_MIB=2048.
  size_t mib = 256;
  if (const char* env = std::getenv("ARGUS_LARGE_UPLOAD_MIB")) mib = std::stoul(env);
  const size_t total = mib << 20;
  std::string piece(1 << 20, '\0');
  for (size_t i = 0; i < piece.size(); ++i) piece[i] = static_cast<char>((i * 131) ^ (i >> 7));
  long before = rss_kib();
  Connection c(server_->port());
  ASSERT_TRUE(
      c.Send("PUT /v1/buckets/photos/objects/big.bin HTTP/1.1\r\nHost: x\r\n"
             "Authorization: Bearer " +
             server_->admin_key() +
             "\r\nX-Namespace: a\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n"));
  for (size_t sent = 0; sent < total; sent += piece.size()) ASSERT_TRUE(c.Send(piece));
  HttpResult r = c.Read(600000);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["size"], total);
  long grown = rss_kib() - before;
  EXPECT_LT(grown, 64 * 1024) << "RSS grew by " << grown << " KiB for a " << mib << " MiB upload";
  auto head = Raw("HEAD", "/v1/buckets/photos/content/big.bin", "");
  EXPECT_EQ(head.Header("content-length"), std::to_string(total));
}

// An upload is checked against the key's rate limit before its body is read, and charged once.
TEST(ObjectsRateLimitTest, UploadsTakeOneTokenEach) {
  auto server = TestServer::Start(
      {.env = {"ARGUS_RATE_LIMIT_PER_KEY_RPS=0.001", "ARGUS_RATE_LIMIT_PER_KEY_BURST=4"}});
  ASSERT_GT(server->port(), 0);
  const std::string key = server->admin_key();
  ASSERT_EQ(server->Call("POST", "/v1/namespaces", key, {{"name", "a"}}).status, 201);
  ASSERT_EQ(
      server->Call("POST", "/v1/buckets", key, {{"name", "b"}}, {{"X-Namespace", "a"}}).status,
      201);  // two tokens used so far
  auto put = [&](const std::string& k) {
    return Request(server->port(), "PUT", "/v1/buckets/b/objects/" + k,
                   {{"Authorization", "Bearer " + key}, {"X-Namespace", "a"}}, kPng);
  };
  EXPECT_EQ(put("1.png").status, 201);
  EXPECT_EQ(put("2.png").status, 201);
  auto limited = put("3.png");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_FALSE(limited.Header("retry-after").empty());
}

TEST(ObjectsCollectorTest, FreesBlobsNothingRefersTo) {
  auto server =
      TestServer::Start({.env = {"ARGUS_BLOBS_GC_GRACE_S=0", "ARGUS_BLOBS_GC_INTERVAL_S=0.2"}});
  ASSERT_GT(server->port(), 0);
  const std::string key = server->admin_key();
  ASSERT_EQ(server->Call("POST", "/v1/namespaces", key, {{"name", "a"}}).status, 201);
  ASSERT_EQ(
      server->Call("POST", "/v1/buckets", key, {{"name", "b"}}, {{"X-Namespace", "a"}}).status,
      201);
  auto put = [&](const std::string& k) {
    return Request(server->port(), "PUT", "/v1/buckets/b/objects/" + k,
                   {{"Authorization", "Bearer " + key}, {"X-Namespace", "a"}}, kPng);
  };
  ASSERT_EQ(put("x.png").status, 201);
  ASSERT_EQ(put("y.png").status, 201);
  std::string sha = Hex(kPng);
  const std::string dir = server->data_dir();
  ASSERT_TRUE(BlobStored(dir, sha));
  auto del = [&](const std::string& k) {
    return server->Call("DELETE", "/v1/buckets/b/objects/" + k, key, nullptr,
                        {{"X-Namespace", "a"}});
  };
  ASSERT_EQ(del("x.png").status, 204);
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(BlobStored(dir, sha));  // y.png still refers to it
  ASSERT_EQ(del("y.png").status, 204);
  for (int i = 0; i < 100 && BlobStored(dir, sha); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(BlobStored(dir, sha));
}

}  // namespace
}  // namespace argus::testing
