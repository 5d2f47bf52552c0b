#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/webhook_store.h"

namespace argus::engine {

/// What the AsyncDeliveryStore finished since the dispatcher last asked (Take).
struct DeliveryStoreReport {
  /// A lease that ended: the deliveries it leased (none when it failed), and for each webhook
  /// that got fewer than it asked for, when its next pending delivery is due (absent: it has
  /// none). A webhook that got all it asked for may have more due now.
  struct Lease {
    TimestampUs now = 0;  ///< the request's
    Status status;
    std::vector<store::LeasedDelivery> leased;
    std::map<std::string, std::optional<TimestampUs>> next_due;
  };
  std::vector<Lease> leases;
  /// Webhooks that got deliveries stored to be leased later (not sent at once): due now.
  std::vector<std::string> stored_for;
  /// The dispatch cursor committed last (-1: none since the last report).
  int64_t committed_cursor = -1;
  /// An AddDeliveries failed: nothing of it, nor of any AddDeliveries queued after it until
  /// ResumeAdds, was stored. The events after the committed cursor must be fanned out again.
  bool adds_failed = false;
  /// Webhooks that recorded attempts disabled (a run of failures).
  std::vector<std::string> disabled;
  /// Attempts that could not be recorded: they stay leased and are made again after the lease.
  size_t unrecorded_attempts = 0;

  bool empty() const {
    return leases.empty() && stored_for.empty() && committed_cursor < 0 && !adds_failed &&
           disabled.empty() && unrecorded_attempts == 0;
  }
};

/// The webhook dispatcher's writes to its WebhookStore, made on a thread of their own so the
/// dispatcher thread never waits for the database while attempts are in flight: new deliveries
/// with the cursor (AddDeliveries), leases, attempt results (RecordAttempts) and purges run in
/// the order they were queued, so a lease sees every delivery added before it and an attempt is
/// recorded after its delivery is stored. The AddDeliveries and RecordAttempts calls queued while
/// the previous store call ran are merged into one (one transaction, additions first); a call
/// that adds deliveries sent from birth waits up to kLinger for their results, so each is written
/// once, finished.
/// Outcomes are collected for Take(), and `wake` (which must not block) is called after each
/// store call that produced one.
///
/// Thread-safe. `store` is borrowed and outlives this object. The destructor finishes every
/// queued AddDeliveries, RecordAttempts and Purge, answers queued leases without leasing, and
/// joins the thread.
class AsyncDeliveryStore {
 public:
  /// The longest a store call waits for the results of deliveries sent from birth.
  static constexpr std::chrono::milliseconds kLinger{10};

  AsyncDeliveryStore(store::WebhookStore* store, int disable_after_failures,
                     std::function<void()> wake);
  ~AsyncDeliveryStore();
  AsyncDeliveryStore(const AsyncDeliveryStore&) = delete;
  AsyncDeliveryStore& operator=(const AsyncDeliveryStore&) = delete;

  /// Queues WebhookStore::AddDeliveries. Dropped (as if it failed) when queued after a failed
  /// one until ResumeAdds, or queued before a failed one and not yet made.
  void AddDeliveries(std::vector<store::WebhookDelivery> deliveries, int64_t cursor);
  /// After a report with adds_failed: the dispatcher reads the events again from the committed
  /// cursor, and AddDeliveries queued from now on are stored again.
  void ResumeAdds();
  /// Queues WebhookStore::LeaseDeliveries, then NextDueAt for each webhook that got fewer than it
  /// asked for (unless the total bound cut the lease short).
  void Lease(store::LeaseDeliveriesRequest request);
  /// Queues WebhookStore::RecordAttempts.
  void RecordAttempts(std::vector<store::AttemptResult> attempts);
  /// Queues WebhookStore::Purge (the outcome is only logged).
  void Purge(TimestampUs before);

  /// The outcomes since the last call.
  DeliveryStoreReport Take();
  /// Deliveries queued in AddDeliveries calls not yet made (the dispatcher's back-pressure).
  size_t QueuedDeliveries();

 private:
  struct Add {
    std::vector<store::WebhookDelivery> deliveries;
    int64_t cursor = 0;
    uint64_t epoch = 0;  // add_epoch_ when queued
  };
  struct Record {
    std::vector<store::AttemptResult> attempts;
  };
  struct PurgeBefore {
    TimestampUs before = 0;
  };
  using Job = std::variant<Add, store::LeaseDeliveriesRequest, Record, PurgeBefore>;

  void Loop();
  // Runs the Add jobs of `jobs` from `i` on, and the Record jobs after them, in one store call;
  // returns the index after them.
  size_t RunWrites(std::vector<Job>& jobs, size_t i);
  DeliveryStoreReport::Lease RunLease(const store::LeaseDeliveriesRequest& request);

  store::WebhookStore* const store_;
  const int disable_after_failures_;
  const std::function<void()> wake_;

  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Job> queue_;         // guarded by mu_
  size_t queued_deliveries_ = 0;  // guarded by mu_
  // Since the thread last took the queue: deliveries added with their first attempt started,
  // attempt results and leases queued. Guarded by mu_.
  size_t queued_births_ = 0;
  size_t queued_results_ = 0;
  size_t queued_leases_ = 0;
  bool adds_failed_ = false;    // guarded by mu_
  uint64_t add_epoch_ = 0;      // failed additions so far, guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  DeliveryStoreReport report_;  // guarded by mu_
  std::thread thread_;          // last: started once everything above exists
};

}  // namespace argus::engine
