// Object reads stream: against a loopback S3 server that ignores Range (answering every GET with
// the whole object), a sequential read of a 64 MiB object is one GET in flat memory, the bytes
// are right, and reads at other offsets skip rather than buffer.
#include "store/s3/s3_object_reader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "store/s3/loopback_server_for_test.h"
#include "store/s3/s3_blob_store.h"
#include "store/s3/s3_source.h"

namespace argus::store::s3 {
namespace {

constexpr int64_t kObjectBytes = 64 << 20;
constexpr size_t kPiece = 1 << 20;

char PatternByte(int64_t i) { return static_cast<char>((i * 131 + (i >> 12)) & 0xff); }

std::string Pattern(int64_t offset, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = PatternByte(offset + static_cast<int64_t>(i));
  return out;
}

// A loopback S3 server that ignores Range: HEAD of the bucket answers 200, HEAD of any object
// its length, and a GET of any object the whole object, made on the fly (never held), whatever
// the Range. One connection per request. Counts GETs and the body bytes it sent.
class RangeIgnoringServer {
 public:
  explicit RangeIgnoringServer(int64_t size)
      : size_(size), server_([this](int fd, const std::string& head) { Answer(fd, head); }) {}
  S3Options Options() const {
    return {.endpoint = "http://127.0.0.1:" + std::to_string(server_.port()),
            .bucket = "b",
            .access_key_id = "a",
            .secret_access_key = "s",
            .max_attempts = 1};
  }
  int gets() const { return gets_.load(); }
  int64_t body_bytes_sent() const { return sent_.load(); }

 private:
  void Answer(int fd, const std::string& head) {
    bool object = head.find("/b/") != std::string::npos;
    int64_t length = object ? size_ : 0;
    if (!LoopbackServerForTest::SendAll(
            fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) +
                    "\r\nConnection: close\r\n\r\n") ||
        !head.starts_with("GET ") || !object) {
      return;
    }
    ++gets_;
    for (int64_t at = 0; at < length;) {
      std::string piece =
          Pattern(at, static_cast<size_t>(std::min<int64_t>(64 << 10, length - at)));
      if (!LoopbackServerForTest::SendAll(fd, piece)) return;  // the client went away
      at += static_cast<int64_t>(piece.size());
      sent_ += static_cast<int64_t>(piece.size());
    }
  }

  int64_t size_;
  std::atomic<int> gets_{0};
  std::atomic<int64_t> sent_{0};
  LoopbackServerForTest server_;  // last: its thread stops before the state above goes
};

// Resident memory, peak and current, in KiB (Linux /proc/self/status).
int64_t StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}
// Makes the peak resident size the current one (clear_refs 5), so growth from here is seen.
void ResetPeakMemory() { std::ofstream("/proc/self/clear_refs") << "5"; }

TEST(S3ObjectReaderTest, ARangeIgnoringServerIsReadOnceInFlatMemory) {
  RangeIgnoringServer server(kObjectBytes);
  auto store = S3BlobStore::CreateWithOptions(server.Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto reader = (*store)->Open(std::string(64, 'a'));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ((*reader)->size(), kObjectBytes);

  ResetPeakMemory();
  const int64_t before_kb = StatusKb("VmRSS");
  bool same = true;
  for (int64_t at = 0; at < kObjectBytes;) {
    auto piece = (*reader)->ReadAt(at, kPiece);
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    ASSERT_EQ(piece->size(), kPiece);
    same = same && *piece == Pattern(at, kPiece);
    at += static_cast<int64_t>(piece->size());
  }
  const int64_t growth_kb = StatusKb("VmHWM") - before_kb;
  EXPECT_TRUE(same) << "the bytes read differ from the object's";
  EXPECT_EQ((*reader)->ReadAt(kObjectBytes, kPiece).value_or("?"), "");
  // One GET for the whole read, and no more bytes sent than the object has (buffering the whole
  // object per read, as before, sent 64 of them and held one).
  EXPECT_EQ(server.gets(), 1);
  EXPECT_EQ(server.body_bytes_sent(), kObjectBytes);
  EXPECT_LT(growth_kb, 24 << 10) << "reading grew resident memory by " << growth_kb << " KiB";
}

TEST(S3ObjectReaderTest, ReadsAtOtherOffsetsSkipToThem) {
  RangeIgnoringServer server(kObjectBytes);
  auto client = S3Client::Create(server.Options());
  ASSERT_TRUE(client.ok());
  S3ObjectReader reader(*client, "blobs/x", kObjectBytes);
  ResetPeakMemory();
  const int64_t before_kb = StatusKb("VmRSS");
  for (int64_t at : {int64_t{40} << 20, int64_t{40 << 20} + 100, int64_t{10}, kObjectBytes - 5}) {
    std::string out;
    ASSERT_TRUE(reader.ReadAt(at, 100, &out).ok()) << at;
    EXPECT_EQ(out, Pattern(at, static_cast<size_t>(std::min<int64_t>(100, kObjectBytes - at))))
        << at;
  }
  // A read right after the previous one went on with its GET; going back needed a new one.
  EXPECT_EQ(server.gets(), 3);
  EXPECT_LT(StatusKb("VmHWM") - before_kb, 24 << 10);
}

TEST(S3ObjectReaderTest, SyncSourceReadsARangeIgnoringServerOnce) {
  RangeIgnoringServer server(kObjectBytes);
  auto source = S3Source::CreateWithOptions(server.Options(), S3Source::kRangeSize);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ResetPeakMemory();
  const int64_t before_kb = StatusKb("VmRSS");
  auto reader = (*source)->Open(SourceEntry{.path = "video.bin", .size = kObjectBytes});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string buf(300 * 1000, '\0');
  int64_t total = 0;
  bool same = true;
  for (;;) {
    auto n = (*reader)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
    same = same && std::string_view(buf.data(), *n) == Pattern(total, *n);
    total += static_cast<int64_t>(*n);
  }
  EXPECT_EQ(total, kObjectBytes);
  EXPECT_TRUE(same);
  EXPECT_EQ(server.gets(), 1);  // 8 ranges asked for, the first answer was the whole object
  EXPECT_LT(StatusKb("VmHWM") - before_kb, 24 << 10);
}

}  // namespace
}  // namespace argus::store::s3
