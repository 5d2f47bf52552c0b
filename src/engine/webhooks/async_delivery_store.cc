#include "engine/webhooks/async_delivery_store.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "core/log.h"
#include "core/thread_name.h"

namespace argus::engine {

AsyncDeliveryStore::AsyncDeliveryStore(store::WebhookStore* store, int disable_after_failures,
                                       std::function<void()> wake)
    : store_(store), disable_after_failures_(disable_after_failures), wake_(std::move(wake)) {
  thread_ = std::thread([this] {
    SetThreadName("argus-wh-store");
    try {
      Loop();
    } catch (const std::exception& e) {
      // Nothing here should throw; if something does, what is queued is not written: deliveries
      // are fanned out again and attempts made again after their leases, after a restart.
      log::Error("webhooks: the delivery store thread stopped after an error",
                 {{"error", e.what()}});
    }
  });
}

AsyncDeliveryStore::~AsyncDeliveryStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void AsyncDeliveryStore::AddDeliveries(std::vector<store::WebhookDelivery> deliveries,
                                       int64_t cursor) {
  {
    std::lock_guard lock(mu_);
    if (adds_failed_) return;
    queued_deliveries_ += deliveries.size();
    for (const store::WebhookDelivery& d : deliveries) queued_births_ += d.attempts > 0 ? 1 : 0;
    queue_.push_back(Add{std::move(deliveries), cursor, add_epoch_});
  }
  work_.notify_one();
}

void AsyncDeliveryStore::ResumeAdds() {
  std::lock_guard lock(mu_);
  adds_failed_ = false;
}

void AsyncDeliveryStore::Lease(store::LeaseDeliveriesRequest request) {
  {
    std::lock_guard lock(mu_);
    ++queued_leases_;
    queue_.push_back(std::move(request));
  }
  work_.notify_one();
}

void AsyncDeliveryStore::RecordAttempts(std::vector<store::AttemptResult> attempts) {
  if (attempts.empty()) return;
  {
    std::lock_guard lock(mu_);
    queued_results_ += attempts.size();
    queue_.push_back(Record{std::move(attempts)});
  }
  work_.notify_one();
}

void AsyncDeliveryStore::Purge(TimestampUs before) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(PurgeBefore{before});
  }
  work_.notify_one();
}

DeliveryStoreReport AsyncDeliveryStore::Take() {
  std::lock_guard lock(mu_);
  return std::exchange(report_, DeliveryStoreReport{});
}

size_t AsyncDeliveryStore::QueuedDeliveries() {
  std::lock_guard lock(mu_);
  return queued_deliveries_;
}

void AsyncDeliveryStore::Loop() {
  std::vector<Job> jobs;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      // Deliveries sent from birth are usually answered within milliseconds: waiting a little
      // for their results writes each of them once, finished, instead of an insert now and an
      // update later. Not while a lease waits (the dispatcher needs its answer).
      work_.wait_for(lock, kLinger, [&] {
        return stopping_ || queued_leases_ > 0 || queued_results_ >= queued_births_;
      });
      queued_births_ = queued_results_ = queued_leases_ = 0;
      stopping = stopping_;
      jobs.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    // Additions first, then attempt results, then leases: each kind merged into one store call
    // (a lease sees every delivery added and every retry recorded before it; an attempt's
    // delivery was added before the attempt started).
    std::stable_partition(jobs.begin(), jobs.end(),
                          [](const Job& j) { return std::holds_alternative<Add>(j); });
    std::stable_partition(jobs.begin(), jobs.end(), [](const Job& j) {
      return std::holds_alternative<Add>(j) || std::holds_alternative<Record>(j);
    });
    for (size_t i = 0; i < jobs.size();) {
      if (std::holds_alternative<Add>(jobs[i]) || std::holds_alternative<Record>(jobs[i])) {
        i = RunWrites(jobs, i);
      } else if (auto* lease = std::get_if<store::LeaseDeliveriesRequest>(&jobs[i])) {
        // A lease queued by a dispatcher that is stopping would only hold deliveries nobody
        // sends until the lease passes.
        DeliveryStoreReport::Lease done{.now = lease->now};
        if (!stopping) done = RunLease(*lease);
        {
          std::lock_guard lock(mu_);
          report_.leases.push_back(std::move(done));
        }
        wake_();
        ++i;
      } else {
        auto purged = store_->Purge(std::get<PurgeBefore>(jobs[i]).before);
        if (!purged.ok()) {
          log::Warn("webhooks: purge failed", {{"error", purged.status().ToString()}});
        }
        ++i;
      }
    }
    jobs.clear();
  }
}

size_t AsyncDeliveryStore::RunWrites(std::vector<Job>& jobs, size_t i) {
  // Additions queued before an addition failed would move the cursor past its events (which
  // the dispatcher fans out again): they are dropped, whenever the dispatcher resumes.
  uint64_t epoch;
  {
    std::lock_guard lock(mu_);
    epoch = add_epoch_;
  }
  std::vector<store::WebhookDelivery> deliveries;
  size_t dropped = 0;
  int64_t cursor = -1;
  size_t end = i;
  for (; end < jobs.size() && std::holds_alternative<Add>(jobs[end]); ++end) {
    Add& add = std::get<Add>(jobs[end]);
    if (add.epoch != epoch) {
      dropped += add.deliveries.size();
      continue;
    }
    if (deliveries.empty()) {
      deliveries = std::move(add.deliveries);
    } else {
      deliveries.insert(deliveries.end(), std::make_move_iterator(add.deliveries.begin()),
                        std::make_move_iterator(add.deliveries.end()));
    }
    cursor = std::max(cursor, add.cursor);
  }
  std::vector<store::AttemptResult> attempts;
  for (; end < jobs.size() && std::holds_alternative<Record>(jobs[end]); ++end) {
    Record& r = std::get<Record>(jobs[end]);
    attempts.insert(attempts.end(), std::make_move_iterator(r.attempts.begin()),
                    std::make_move_iterator(r.attempts.end()));
  }
  if (dropped > 0) {
    std::lock_guard lock(mu_);
    queued_deliveries_ -= dropped;
  }
  // Additions and attempt results are one store call when both are queued (most attempts end
  // before the row of their delivery is written).
  const bool add = cursor >= 0;
  Status s;
  Result<std::vector<std::string>> disabled = std::vector<std::string>();
  if (add && !attempts.empty()) {
    disabled = store_->AddDeliveriesAndRecordAttempts(deliveries, cursor, attempts,
                                                      disable_after_failures_);
    s = disabled.status();
    // The additions are fanned out again; the results of deliveries stored before must not wait
    // for their leases to pass because of them: recorded on their own (those of the deliveries
    // not stored are ignored).
    if (!s.ok()) disabled = store_->RecordAttempts(attempts, disable_after_failures_);
  } else if (add) {
    s = store_->AddDeliveries(deliveries, cursor);
  } else if (!attempts.empty()) {
    disabled = store_->RecordAttempts(attempts, disable_after_failures_);
  }
  bool wake = add;
  {
    std::lock_guard lock(mu_);
    queued_deliveries_ -= deliveries.size();
    if (!add) {
      // Dropped (or none): the dispatcher reads those events again once it has seen the failure.
    } else if (s.ok()) {
      report_.committed_cursor = std::max(report_.committed_cursor, cursor);
      for (const store::WebhookDelivery& d : deliveries) {
        // Stored to be leased (not one whose first attempt started at once).
        if (d.attempts == 0 &&
            (report_.stored_for.empty() || report_.stored_for.back() != d.webhook_id)) {
          report_.stored_for.push_back(d.webhook_id);
        }
      }
    } else {
      log::Warn("webhooks: cannot store deliveries (their events are fanned out again)",
                {{"deliveries", deliveries.size()}, {"error", s.ToString()}});
      adds_failed_ = true;
      ++add_epoch_;
      report_.adds_failed = true;
    }
    if (!disabled.ok()) {
      log::Warn("webhooks: cannot record attempts (they are made again after their lease)",
                {{"attempts", attempts.size()}, {"error", disabled.status().ToString()}});
      report_.unrecorded_attempts += attempts.size();
      wake = true;
    } else if (!disabled->empty()) {
      report_.disabled.insert(report_.disabled.end(), disabled->begin(), disabled->end());
      wake = true;
    }
  }
  if (wake) wake_();
  return end;
}

DeliveryStoreReport::Lease AsyncDeliveryStore::RunLease(
    const store::LeaseDeliveriesRequest& request) {
  DeliveryStoreReport::Lease out;
  out.now = request.now;
  auto leased = store_->LeaseDeliveries(request);
  if (!leased.ok()) {
    out.status = leased.status();
    return out;
  }
  out.leased = std::move(leased).value();
  // A webhook that got less than it asked for has nothing more due now (unless the total bound
  // cut it short): it is looked for again when its next delivery is due, or one is added.
  if (static_cast<int>(out.leased.size()) < request.max) {
    std::map<std::string, int> got;
    for (const store::LeasedDelivery& l : out.leased) ++got[l.delivery.webhook_id];
    for (const auto& [id, wanted] : request.per_webhook) {
      if (got[id] >= wanted) continue;
      auto due = store_->NextDueAt(id);
      if (!due.ok()) {
        out.status = due.status();
        continue;  // looked for again soon (the dispatcher backs off on a failed lease)
      }
      out.next_due[id] = *due;
    }
  }
  return out;
}

}  // namespace argus::engine
