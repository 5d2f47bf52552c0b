// BlobStore conformance (src/store/blob_store.h), run against every backend by name. A backend is
// done when the suite passes unchanged (STYLE.md §3.7). Stores are created only through the
// StoreRegistry, with a fresh data directory per test.
//
// Time: last_used and CleanTemporary's `before` are the storage's wall-clock time (a file's mtime,
// an object's Last-Modified), not the injected clock, so these tests compare them with the real
// clock, allowing kTimeSlackUs for timestamp granularity (coarse kernel clocks, whole seconds on
// S3).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/crypto.h"
#include "store/blob_store.h"
#include "store/localfs/register.h"
#include "store/store_registry.h"
#include "tests/contract/store_contract_fixture.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr int64_t kHourUs = 3'600'000'000;
constexpr int64_t kTimeSlackUs = 2'000'000;

std::string HexSha256(std::string_view bytes) { return HexEncode(Sha256(bytes)); }

TimestampUs WallNowUs() { return SystemClock::Get().NowUs(); }

// `size` bytes that differ from those of any other `seed`.
std::string Bytes(size_t size, int seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + seed * 7919) >> 3);
  return out;
}

class BlobStoreContractTest : public StoreContractTest<BlobStore, &StoreRegistry::blobs> {
 protected:
  std::unique_ptr<BlobWriter> MustNewWriter() {
    auto writer = store_->NewWriter();
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return writer.ok() ? std::move(writer).value() : nullptr;
  }

  // Writes `bytes` in pieces of `piece` bytes and commits.
  BlobInfo MustPut(std::string_view bytes, size_t piece = 4096) {
    std::unique_ptr<BlobWriter> writer = MustNewWriter();
    if (writer == nullptr) return {};
    for (size_t at = 0; at < bytes.size(); at += piece) {
      Status written = writer->Write(bytes.substr(at, piece));
      EXPECT_TRUE(written.ok()) << written.ToString();
    }
    auto info = writer->Commit();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? std::move(info).value() : BlobInfo{};
  }

  std::string MustRead(std::string_view sha256, int64_t offset, size_t max_bytes) {
    auto reader = store_->Open(sha256);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return {};
    auto bytes = (*reader)->ReadAt(offset, max_bytes);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? std::move(bytes).value() : std::string();
  }

  // Reads a whole blob in 1 MiB steps, as a response would.
  std::string MustReadAll(std::string_view sha256) {
    auto reader = store_->Open(sha256);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return {};
    std::string out;
    for (;;) {
      auto chunk = (*reader)->ReadAt(static_cast<int64_t>(out.size()), 1 << 20);
      EXPECT_TRUE(chunk.ok()) << chunk.status().ToString();
      if (!chunk.ok() || chunk->empty()) break;
      out.append(*chunk);
    }
    EXPECT_EQ(static_cast<int64_t>(out.size()), (*reader)->size());
    return out;
  }

  std::vector<BlobStore::Listed> MustList(std::string_view after = "", int limit = 1000) {
    auto listed = store_->List(after, limit);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    return listed.ok() ? std::move(listed).value() : std::vector<BlobStore::Listed>{};
  }

  std::vector<std::string> ListedShas(std::string_view after = "", int limit = 1000) {
    std::vector<std::string> out;
    for (const BlobStore::Listed& listed : MustList(after, limit)) out.push_back(listed.sha256);
    return out;
  }

  bool MustExist(std::string_view sha256) {
    auto exists = store_->Exists(sha256);
    EXPECT_TRUE(exists.ok()) << exists.status().ToString();
    return exists.ok() && *exists;
  }

  // How many temporaries a cleanup with a `before` an hour ahead finds: every one left behind.
  int64_t MustCleanAllTemporaries() {
    auto removed = store_->CleanTemporary(WallNowUs() + kHourUs);
    EXPECT_TRUE(removed.ok()) << removed.status().ToString();
    return removed.ok() ? *removed : -1;
  }
};

TEST_P(BlobStoreContractTest, CommitNamesTheBlobBySha256AndSize) {
  std::string bytes = "the quick brown fox jumps over the lazy dog";
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("the quick brown fox ").ok());
  EXPECT_EQ(writer->size(), 20);
  ASSERT_TRUE(writer->Write("jumps over the lazy dog").ok());
  EXPECT_EQ(writer->size(), static_cast<int64_t>(bytes.size()));
  auto info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, HexSha256(bytes));
  EXPECT_EQ(info->size, static_cast<int64_t>(bytes.size()));
  EXPECT_TRUE(MustExist(info->sha256));
  EXPECT_EQ(MustReadAll(info->sha256), bytes);
}

TEST_P(BlobStoreContractTest, ReadAtReturnsRangesAndNothingPastTheEnd) {
  std::string bytes = Bytes(1000, 1);
  BlobInfo info = MustPut(bytes);
  auto reader = store_->Open(info.sha256);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), 1000);
  struct Case {
    int64_t offset;
    size_t max_bytes;
    std::string want;
  };
  for (const Case& c : {Case{0, 1000, bytes}, Case{0, 10, bytes.substr(0, 10)},
                        Case{10, 20, bytes.substr(10, 20)}, Case{990, 100, bytes.substr(990)},
                        Case{999, 1, bytes.substr(999)}, Case{0, size_t{1} << 40, bytes},
                        Case{500, 0, ""}, Case{1000, 10, ""}, Case{5000, 10, ""}}) {
    auto got = (*reader)->ReadAt(c.offset, c.max_bytes);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, c.want) << "offset " << c.offset << " max " << c.max_bytes;
  }
  // Reads do not depend on one another's order.
  EXPECT_EQ(MustRead(info.sha256, 700, 5), bytes.substr(700, 5));
}

TEST_P(BlobStoreContractTest, EmptyBlobIsStoredAndReadBack) {
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->size(), 0);
  ASSERT_TRUE(writer->Write("").ok());
  auto info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(info->size, 0);
  EXPECT_TRUE(MustExist(info->sha256));
  EXPECT_EQ(MustRead(info->sha256, 0, 100), "");
  std::vector<BlobStore::Listed> listed = MustList();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].sha256, info->sha256);
  EXPECT_EQ(listed[0].size, 0);
}

TEST_P(BlobStoreContractTest, LargeBlobWrittenInOddChunksReadsBackExactly) {
  std::string bytes = Bytes(5 * 1024 * 1024 + 17, 2);
  BlobInfo info = MustPut(bytes, 65'521);
  EXPECT_EQ(info.sha256, HexSha256(bytes));
  EXPECT_EQ(info.size, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(MustReadAll(info.sha256), bytes);
  EXPECT_EQ(MustRead(info.sha256, 3 * 1024 * 1024 - 3, 7), bytes.substr(3 * 1024 * 1024 - 3, 7));
}

TEST_P(BlobStoreContractTest, SameBytesTwiceAreStoredOnceAndMarkedUsedAgain) {
  std::string bytes = Bytes(3000, 3);
  TimestampUs before_first = WallNowUs();
  BlobInfo first = MustPut(bytes, 1000);
  std::vector<BlobStore::Listed> listed = MustList();
  ASSERT_EQ(listed.size(), 1u);
  TimestampUs first_used = listed[0].last_used;
  EXPECT_GE(first_used, before_first - kTimeSlackUs);
  EXPECT_LE(first_used, WallNowUs() + kTimeSlackUs);

  TimestampUs before_second = WallNowUs();
  BlobInfo second = MustPut(bytes, 7);
  EXPECT_EQ(second.sha256, first.sha256);
  EXPECT_EQ(second.size, first.size);
  listed = MustList();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].sha256, first.sha256);
  EXPECT_EQ(listed[0].size, 3000);
  EXPECT_GE(listed[0].last_used, first_used);
  EXPECT_GE(listed[0].last_used, before_second - kTimeSlackUs);
  EXPECT_EQ(MustReadAll(first.sha256), bytes);
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, MatchingExpectedSha256Commits) {
  std::string bytes = Bytes(100, 4);
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write(bytes).ok());
  auto info = writer->Commit(HexSha256(bytes));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, HexSha256(bytes));
  EXPECT_TRUE(MustExist(info->sha256));
}

TEST_P(BlobStoreContractTest, MismatchedExpectedSha256StoresNothing) {
  std::string bytes = Bytes(100, 5);
  for (std::string expected :
       {HexSha256("other bytes"), std::string("not-a-sha256"), HexSha256(bytes).substr(0, 63)}) {
    std::unique_ptr<BlobWriter> writer = MustNewWriter();
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(bytes).ok());
    auto info = writer->Commit(expected);
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << expected;
    // The writer is finished.
    EXPECT_FALSE(writer->Write("more").ok());
    EXPECT_FALSE(writer->Commit().ok());
  }
  EXPECT_FALSE(MustExist(HexSha256(bytes)));
  EXPECT_THAT(MustList(), IsEmpty());
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, AbortedWriteLeavesNothing) {
  std::string bytes = Bytes(200'000, 6);
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write(bytes).ok());
  writer->Abort();
  writer->Abort();  // idempotent
  EXPECT_FALSE(writer->Write("more").ok());
  EXPECT_FALSE(writer->Commit().ok());
  writer.reset();
  EXPECT_FALSE(MustExist(HexSha256(bytes)));
  EXPECT_THAT(MustList(), IsEmpty());
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, DestroyingAnUncommittedWriterLeavesNothing) {
  std::string bytes = Bytes(200'000, 7);
  {
    std::unique_ptr<BlobWriter> writer = MustNewWriter();
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(bytes).ok());
  }
  {
    std::unique_ptr<BlobWriter> untouched = MustNewWriter();  // never written to
  }
  EXPECT_FALSE(MustExist(HexSha256(bytes)));
  EXPECT_THAT(MustList(), IsEmpty());
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, CommittedWriterIsFinished) {
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write("abc").ok());
  auto info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(writer->Write("def").ok());
  EXPECT_FALSE(writer->Commit().ok());
  writer->Abort();  // harmless after a commit: the blob stays
  writer.reset();
  EXPECT_EQ(MustReadAll(info->sha256), "abc");
}

// Seal names the blob before anything is stored, so that a caller can pin it (ADR 0007) before
// Commit stores it or deduplicates against a copy a collector might be deleting. More than one
// S3 part: a multipart upload is under way when Seal is called.
TEST_P(BlobStoreContractTest, SealNamesTheBlobWithoutStoringIt) {
  std::string bytes = Bytes((9 << 20) + 5, 8);
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Write(bytes).ok());
  auto sealed = writer->Seal();
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->sha256, HexSha256(bytes));
  EXPECT_EQ(sealed->size, static_cast<int64_t>(bytes.size()));
  EXPECT_FALSE(MustExist(sealed->sha256));
  EXPECT_THAT(MustList(), IsEmpty());
  EXPECT_EQ(store_->Open(sealed->sha256).status().code(), StatusCode::kNotFound);
  auto again = writer->Seal(HexSha256(bytes));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->sha256, sealed->sha256);
  EXPECT_EQ(writer->Write("more").code(), StatusCode::kFailedPrecondition);

  auto committed = writer->Commit();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->sha256, sealed->sha256);
  EXPECT_EQ(committed->size, sealed->size);
  EXPECT_EQ(writer->Seal().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(MustReadAll(sealed->sha256), bytes);
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, SealedWriterThatIsAbortedLeavesNothing) {
  std::string bytes = Bytes((9 << 20) + 5, 9);
  {
    std::unique_ptr<BlobWriter> writer = MustNewWriter();
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(bytes).ok());
    ASSERT_TRUE(writer->Seal().ok());
    writer->Abort();
    EXPECT_EQ(writer->Commit().status().code(), StatusCode::kFailedPrecondition);
  }
  {
    std::unique_ptr<BlobWriter> writer = MustNewWriter();
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write("sealed, then dropped").ok());
    ASSERT_TRUE(writer->Seal().ok());
  }
  EXPECT_FALSE(MustExist(HexSha256(bytes)));
  EXPECT_THAT(MustList(), IsEmpty());
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, ExpectedSha256IsCheckedAtSealAndAtCommit) {
  std::string bytes = Bytes(100, 10);
  std::unique_ptr<BlobWriter> refused = MustNewWriter();
  ASSERT_NE(refused, nullptr);
  ASSERT_TRUE(refused->Write(bytes).ok());
  EXPECT_EQ(refused->Seal(HexSha256("other")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused->Commit().status().code(), StatusCode::kFailedPrecondition);  // aborted

  std::unique_ptr<BlobWriter> late = MustNewWriter();
  ASSERT_NE(late, nullptr);
  ASSERT_TRUE(late->Write(bytes).ok());
  ASSERT_TRUE(late->Seal().ok());
  EXPECT_EQ(late->Commit(HexSha256("other")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(late->Commit().ok());  // finished
  EXPECT_FALSE(MustExist(HexSha256(bytes)));
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

TEST_P(BlobStoreContractTest, MissingBlobIsNotFound) {
  std::string sha256 = HexSha256("never stored");
  auto reader = store_->Open(sha256);
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(MustExist(sha256));
}

TEST_P(BlobStoreContractTest, MalformedSha256IsInvalidArgument) {
  std::string valid = HexSha256("x");
  std::string upper = valid;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  for (const std::string& bad :
       {std::string(), valid.substr(0, 63), valid + "0", upper, valid.substr(0, 62) + "g0",
        std::string("../../../../etc/passwd"), valid.substr(0, 30) + "/" + valid.substr(31)}) {
    EXPECT_EQ(store_->Open(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Exists(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_->Delete(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_P(BlobStoreContractTest, DeleteRemovesTheBlobAndIsIdempotent) {
  BlobInfo kept = MustPut("kept");
  BlobInfo gone = MustPut("gone");
  ASSERT_TRUE(store_->Delete(gone.sha256).ok());
  EXPECT_FALSE(MustExist(gone.sha256));
  EXPECT_EQ(store_->Open(gone.sha256).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete(gone.sha256).ok());
  EXPECT_TRUE(store_->Delete(HexSha256("never stored")).ok());
  EXPECT_THAT(ListedShas(), ElementsAre(kept.sha256));
  EXPECT_EQ(MustReadAll(kept.sha256), "kept");
  // Stored again after a delete.
  EXPECT_EQ(MustPut("gone").sha256, gone.sha256);
  EXPECT_EQ(MustReadAll(gone.sha256), "gone");
}

TEST_P(BlobStoreContractTest, ListPagesInSha256Order) {
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) {
    std::string bytes = Bytes(static_cast<size_t>(i), i + 100);
    all.push_back(MustPut(bytes).sha256);
  }
  std::sort(all.begin(), all.end());
  EXPECT_THAT(ListedShas(), ElementsAreArray(all));

  std::vector<std::string> paged;
  std::string after;
  for (int pages = 0; pages < 100; ++pages) {
    std::vector<BlobStore::Listed> page = MustList(after, 7);
    EXPECT_LE(page.size(), 7u);
    if (page.empty()) break;
    for (const BlobStore::Listed& listed : page) {
      paged.push_back(listed.sha256);
      EXPECT_GT(listed.sha256, after);
    }
    after = page.back().sha256;
  }
  EXPECT_THAT(paged, ElementsAreArray(all));

  // `after` need not be a stored blob, nor a whole SHA-256.
  std::string middle = all[20].substr(0, 5);
  std::vector<std::string> want;
  for (const std::string& sha : all) {
    if (sha > middle) want.push_back(sha);
  }
  EXPECT_THAT(ListedShas(middle), ElementsAreArray(want));
  EXPECT_THAT(ListedShas(all.back()), IsEmpty());
  EXPECT_THAT(ListedShas("", 1), ElementsAre(all.front()));
}

TEST_P(BlobStoreContractTest, ListReportsSizes) {
  BlobInfo small = MustPut("s");
  BlobInfo big = MustPut(Bytes(70'000, 9));
  for (const BlobStore::Listed& listed : MustList()) {
    EXPECT_EQ(listed.size, listed.sha256 == small.sha256 ? 1 : 70'000) << listed.sha256;
  }
  EXPECT_EQ(MustList().size(), 2u);
  EXPECT_TRUE(MustExist(big.sha256));
}

TEST_P(BlobStoreContractTest, CleanTemporaryLeavesRecentWritesAndCommittedBlobsAlone) {
  BlobInfo committed = MustPut("committed earlier");
  std::unique_ptr<BlobWriter> writer = MustNewWriter();
  ASSERT_NE(writer, nullptr);
  std::string bytes = Bytes(300'000, 10);
  ASSERT_TRUE(writer->Write(bytes.substr(0, 100'000)).ok());
  auto removed = store_->CleanTemporary(WallNowUs() - kHourUs);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 0);
  ASSERT_TRUE(writer->Write(bytes.substr(100'000)).ok());
  auto info = writer->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(MustReadAll(info->sha256), bytes);

  // Committed blobs are not temporaries, however old the cut-off says they are.
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
  EXPECT_EQ(MustReadAll(committed.sha256), "committed earlier");
  EXPECT_EQ(MustReadAll(info->sha256), bytes);
}

TEST_P(BlobStoreContractTest, CommittedBlobsSurviveReopeningTheStore) {
  BlobInfo a = MustPut("first blob");
  BlobInfo b = MustPut(Bytes(100'000, 11));
  std::vector<BlobStore::Listed> before = MustList();
  OpenStore();
  EXPECT_EQ(MustReadAll(a.sha256), "first blob");
  EXPECT_EQ(MustReadAll(b.sha256), Bytes(100'000, 11));
  std::vector<BlobStore::Listed> after = MustList();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].sha256, before[i].sha256);
    EXPECT_EQ(after[i].size, before[i].size);
    EXPECT_EQ(after[i].last_used, before[i].last_used);
  }
}

TEST_P(BlobStoreContractTest, ConcurrentWritersOfTheSameAndOtherBytesAllSucceed) {
  constexpr int kThreads = 6;
  std::vector<std::string> contents = {Bytes(150'000, 12), Bytes(150'000, 13)};
  std::vector<Result<BlobInfo>> results(kThreads, InternalError("not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto writer = store_->NewWriter();
      if (!writer.ok()) {
        results[t] = writer.status();
        return;
      }
      std::string_view bytes = contents[t % 2];
      for (size_t at = 0; at < bytes.size(); at += 10'007) {
        Status written = (*writer)->Write(bytes.substr(at, 10'007));
        if (!written.ok()) {
          results[t] = written;
          return;
        }
      }
      results[t] = (*writer)->Commit();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t].status().ToString();
    EXPECT_EQ(results[t]->sha256, HexSha256(contents[t % 2]));
  }
  std::vector<std::string> want = {HexSha256(contents[0]), HexSha256(contents[1])};
  std::sort(want.begin(), want.end());
  EXPECT_THAT(ListedShas(), ElementsAreArray(want));
  EXPECT_EQ(MustReadAll(want[0]).size(), 150'000u);
  EXPECT_EQ(MustCleanAllTemporaries(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreContractTest,
                         testing::ValuesIn(BlobStoreContractBackends()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;  // "local+sqlite" -> "local_sqlite"
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace argus::store
