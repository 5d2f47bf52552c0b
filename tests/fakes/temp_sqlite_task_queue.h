#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "core/id.h"
#include "store/event_log.h"
#include "store/inprocess/in_process_event_bus.h"
#include "store/sqlite/register.h"
#include "store/task_queue.h"

namespace argus {

/// For unit tests of task queue users: the embedded (SQLite) task queue in a fresh temporary
/// directory, removed with this object (the real backend users run, as STYLE.md §7 prefers to
/// a fake), with its event log and an in-process event bus it publishes to. Aborts when the queue
/// cannot be made: the test cannot run without it.
class TempSqliteTaskQueue {
 public:
  TempSqliteTaskQueue()
      : dir_(std::filesystem::temp_directory_path().string() + "/argus-test-queue-" + NewId()) {
    std::filesystem::create_directories(dir_);
    if (!store::sqlite::RegisterSqliteStores(registry_).ok()) std::abort();
    const store::StoreArgs args{&config_, dir_, &SystemClock::Get(), &bus_};
    queue_ = std::move(registry_.task_queue.Create("sqlite", args)).value();
    log_ = std::move(registry_.event_log.Create("sqlite", args)).value();
  }
  ~TempSqliteTaskQueue() {
    queue_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }
  TempSqliteTaskQueue(const TempSqliteTaskQueue&) = delete;
  TempSqliteTaskQueue& operator=(const TempSqliteTaskQueue&) = delete;

  store::TaskQueue* get() const { return queue_.get(); }
  store::TaskQueue* operator->() const { return queue_.get(); }
  store::TaskQueue& operator*() const { return *queue_; }
  store::EventLog* log() const { return log_.get(); }
  store::inprocess::InProcessEventBus* bus() { return &bus_; }

 private:
  Config config_;
  std::string dir_;
  store::StoreRegistry registry_;
  store::inprocess::InProcessEventBus bus_;  // outlives the stores that publish to it
  std::unique_ptr<store::TaskQueue> queue_;
  std::unique_ptr<store::EventLog> log_;
};

}  // namespace argus
