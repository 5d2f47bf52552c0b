// Shared fixture of the TaskQueue conformance suite (src/store/task_queue.h), run against every
// backend by name. A backend is done when the suite passes unchanged (STYLE.md §3.7). Queues are
// created only through the StoreRegistry, never by concrete type, with a FakeClock for time and a
// fresh data directory per test.

#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "store/inprocess/in_process_event_bus.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "store/task_queue.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store {

// Every backend compiled in. A server-based backend adds its Register call here behind its
// ARGUS_WITH_* option, and its name to TaskQueueBackendNames().
inline Status RegisterAllTaskQueueBackends(StoreRegistry& registry) {
  return sqlite::RegisterSqliteStores(registry);
}

inline std::vector<std::string> TaskQueueBackendNames() { return {"sqlite"}; }

inline constexpr int64_t kSecondUs = 1'000'000;

class TaskQueueContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterAllTaskQueueBackends(registry_).ok());
    std::string pattern = testing::TempDir() + "argus-task-contract-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    const StoreArgs args{
        .config = &config_, .data_dir = dir_, .clock = &clock_, .event_bus = &bus_};
    auto queue = registry_.task_queue.Create(GetParam(), args);
    ASSERT_TRUE(queue.ok()) << queue.status().ToString();
    queue_ = std::move(queue).value();
    // The queue's events are read through the event log of the same backend.
    auto log = registry_.event_log.Create(GetParam(), args);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }

  void TearDown() override {
    queue_.reset();
    log_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  static NewTask MakeTask(std::string kind = "thumbnail", int priority = 5,
                          std::string queue = "cpu") {
    NewTask task;
    task.namespace_id = "ns1";
    task.kind = std::move(kind);
    task.queue = std::move(queue);
    task.priority = priority;
    task.input = {{"object", "obj-1"}};
    return task;
  }

  // Each enqueue happens a millisecond after the last, so creation order is id order whatever
  // the backend's id source.
  Task MustEnqueue(const NewTask& task) {
    clock_.AdvanceUs(1000);
    auto result = queue_->Enqueue({task}, 0);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok() || result->size() != 1) return {};
    EXPECT_TRUE(result->front().created);
    return result->front().task;
  }

  std::vector<Task> MustLease(LeaseRequest request) {
    auto leased = queue_->Lease(request);
    EXPECT_TRUE(leased.ok()) << leased.status().ToString();
    return leased.ok() ? std::move(leased).value() : std::vector<Task>{};
  }

  // Leases exactly the one task `worker` should get next.
  Task MustLeaseOne(const std::string& worker = "w1", double lease_s = 30) {
    std::vector<Task> leased = MustLease({.worker_id = worker, .max_tasks = 1, .lease_s = lease_s});
    EXPECT_EQ(leased.size(), 1u);
    return leased.empty() ? Task{} : leased.front();
  }

  Task MustGet(const std::string& id, const std::string& namespace_id = "ns1") {
    auto task = queue_->Get(namespace_id, id);
    EXPECT_TRUE(task.ok()) << task.status().ToString();
    return task.ok() ? std::move(task).value() : Task{};
  }

  std::vector<Event> EventsOf(const std::string& task_id) {
    auto events = log_->Read(0, 10000);
    EXPECT_TRUE(events.ok()) << events.status().ToString();
    std::vector<Event> out;
    if (!events.ok()) return out;
    for (Event& event : *events) {
      if (event.subject_id == task_id) out.push_back(std::move(event));
    }
    return out;
  }

  std::vector<std::string> EventTypesOf(const std::string& task_id) {
    std::vector<std::string> types;
    for (const Event& event : EventsOf(task_id)) types.push_back(event.type);
    return types;
  }

  std::vector<std::string> ListIds(const TaskFilter& filter, int limit = 1000) {
    auto page = queue_->List(filter, {.limit = limit});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const Task& t : page->items) ids.push_back(t.id);
    }
    return ids;
  }

  TimestampUs Now() const { return clock_.NowUs(); }

  // The last error's code, or a marker that fails any comparison with a real code.
  static std::string ErrorCode(const Task& task) {
    return task.error ? task.error->code : "<no error>";
  }
  static int ErrorAttempt(const Task& task) { return task.error ? task.error->attempt : -1; }

  StoreRegistry registry_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
  std::string dir_;
  inprocess::InProcessEventBus bus_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<TaskQueue> queue_;
};

template <typename T>
std::vector<std::string> IdsOf(const std::vector<T>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.id);
  return ids;
}

}  // namespace argus::store
