#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/status.h"

namespace argus::store::sqlite {

/// The pins and delete claims of blobs (BlobReferences, ADR 0007) for one metadata.db. They are
/// kept in memory, not in the database: one argus process owns a data directory (argus.lock),
/// and a pin only protects an upload of that process, which a crash ends too. A blob is either
/// claimed (by one deleter) or pinned (by any number of writers), never both. Thread-safe.
class BlobPinTable {
 public:
  /// How long Pin waits for a claim to end before it gives up.
  static constexpr std::chrono::milliseconds kMaxPinWait{30'000};

  explicit BlobPinTable(std::chrono::milliseconds max_wait = kMaxPinWait) : max_wait_(max_wait) {}

  /// Adds a pin of `sha256`, first waiting while it is claimed. Unavailable, naming the blob,
  /// when the claim lasted longer than the table's max_wait (nothing is pinned then).
  Status Pin(const std::string& sha256);
  /// Removes one pin of `sha256`. REQUIRES: a matching Pin succeeded.
  void Unpin(const std::string& sha256);
  /// Claims `sha256` for a delete; false when it is pinned or claimed already.
  bool TryClaim(const std::string& sha256);
  /// Ends a claim; the pins waiting for it go on. REQUIRES: a matching TryClaim returned true.
  void Release(const std::string& sha256);

  /// Pin calls waiting for a claim right now.
  int WaitingForTest() const;

 private:
  const std::chrono::milliseconds max_wait_;
  mutable std::mutex mu_;
  std::condition_variable released_;
  std::unordered_map<std::string, int> pins_;  // GUARDED_BY(mu_); > 0 only
  std::unordered_set<std::string> claims_;     // GUARDED_BY(mu_)
  int waiting_ = 0;                            // GUARDED_BY(mu_)
};

}  // namespace argus::store::sqlite
