#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace argus::store {

/// One durable state change, as SSE, WebSocket and webhooks deliver it.
struct Event {
  int64_t seq = 0;   ///< strictly increasing, never reused: the readers' resume cursor
  std::string type;  ///< "task.created", "task.succeeded", "object.created", "queue.resumed", ...
  std::string namespace_id;  ///< empty for server-wide events (global admins only)
  std::string subject_id;    ///< the task, object, ... the event is about
  /// For task events, the task's queue (idle workers are woken by the events of their queues);
  /// empty for other events.
  std::string queue;
  std::string data_json;  ///< a JSON object as text: the subject right after the change
  TimestampUs created_at = 0;
};

/// What a caller appends; the log fills seq and created_at.
struct NewEvent {
  std::string type;
  std::string namespace_id;
  std::string subject_id;
  std::string queue;
  std::string data_json;
};

/// The durable outbox of every state change: tasks, objects, syncs, webhooks and queues.
///
/// The stores append events themselves, in the transaction of the change they report (a task
/// completion and its task.succeeded event, an object row and its object.created event commit
/// together or not at all), so an event exists exactly for every change that happened. Readers
/// follow the log from a cursor (their last seq) and resume after a restart or a disconnect for
/// as long as events are retained. Live readers learn of new events through the EventBus and
/// read the log only to catch up.
///
/// Thread-safe. Every call: Unavailable when the backend cannot be reached; Internal on
/// corruption.
class EventLog {
 public:
  virtual ~EventLog() = default;

  /// Appends one event that reports no other stored change, in its own transaction; durable
  /// once it returns. InvalidArgument for a type not of the form "thing.change" or data that is
  /// not a JSON object.
  virtual Result<int64_t> Append(const NewEvent& event) = 0;
  /// Events with seq > after_seq, oldest first, at most `limit` (1..10000, else InvalidArgument).
  virtual Result<std::vector<Event>> Read(int64_t after_seq, int limit) = 0;
  /// The highest seq ever issued (0 when none): where a reader that wants only new events starts.
  /// Unchanged by Purge.
  virtual Result<int64_t> LastSeq() = 0;
  /// Deletes events created before `before`; returns how many.
  virtual Result<int64_t> Purge(TimestampUs before) = 0;
};

}  // namespace argus::store
