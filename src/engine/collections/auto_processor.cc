#include "engine/collections/auto_processor.h"

#include <map>
#include <utility>
#include <vector>

#include "domain/document_builder.h"

namespace argus::engine {

namespace {

constexpr std::string_view kCursorKey = "auto_process.cursor";
constexpr std::string_view kObjectCreated = "object.created";

}  // namespace

AutoProcessor::AutoProcessor(store::EventLog* events, store::EventBus* bus,
                             store::BucketStore* buckets, store::CollectionStore* collections,
                             store::SystemValues* values, store::TaskQueue* tasks,
                             AutoProcessorOptions options)
    : events_(events),
      bus_(bus),
      buckets_(buckets),
      collections_(collections),
      values_(values),
      tasks_(tasks),
      options_(std::move(options)) {}

AutoProcessor::~AutoProcessor() { Stop(); }

Result<int> AutoProcessor::Step(bool* more) {
  if (more != nullptr) *more = false;
  if (cursor_ < 0) {
    ARGUS_ASSIGN_OR_RETURN(auto stored, values_->GetSystemValue(kCursorKey));
    // Never run before: from the oldest event kept (objects that came before the first start
    // are processed too; their collections may be older than this version).
    cursor_ = stored.has_value() ? std::stoll(*stored) : 0;
  }
  ARGUS_ASSIGN_OR_RETURN(auto batch, events_->Read(cursor_, options_.batch));
  if (batch.empty()) return 0;
  // Within one step: a bucket's auto_process collections, by (namespace, bucket name).
  struct Source {
    std::string bucket_id;
    std::vector<std::pair<std::string, TimestampUs>> collections;  // id, created_at
  };
  std::map<std::pair<std::string, std::string>, Source> sources;
  std::vector<store::NewTask> tasks;
  for (const store::Event& e : batch) {
    if (e.type != kObjectCreated) continue;
    const Json object = Json::parse(e.data_json, nullptr, false);
    if (!object.is_object() || !object.contains("bucket") || !object["bucket"].is_string()) {
      continue;
    }
    const auto where = std::make_pair(e.namespace_id, object["bucket"].get<std::string>());
    auto it = sources.find(where);
    if (it == sources.end()) {
      Source found;
      auto bucket = buckets_->GetBucket(where.first, where.second);
      if (bucket.ok()) {
        found.bucket_id = bucket->id;
        ARGUS_ASSIGN_OR_RETURN(auto collections,
                               collections_->CollectionsOfSource(bucket->id, false));
        for (const auto& c : collections) {
          if (c.auto_process) found.collections.emplace_back(c.id, c.created_at);
        }
      } else if (bucket.status().code() != StatusCode::kNotFound) {
        return bucket.status();  // a bucket deleted since has nothing to process
      }
      it = sources.emplace(where, std::move(found)).first;
    }
    const auto& [bucket_id, collections] = it->second;
    for (const auto& [collection_id, created_at] : collections) {
      // Objects that were there before the collection are not "new" to it: a trigger or a
      // batch runs those (a follower that lags must not run them behind the user's back).
      if (e.created_at < created_at) continue;
      store::StoredObject o;
      o.id = object.value("id", "");
      o.bucket_id = bucket_id;
      o.key = object.value("key", "");
      store::NewTask t;
      t.namespace_id = e.namespace_id;
      t.kind = std::string(domain::kExtractKind);
      t.queue = options_.queue;
      t.input = domain::ExtractInput(collection_id, o);
      t.idempotency_key = "auto_process:" + collection_id + ":" + o.id;
      tasks.push_back(std::move(t));
    }
  }
  if (!tasks.empty()) ARGUS_RETURN_IF_ERROR(tasks_->Enqueue(tasks, 0).status());
  const int64_t last = batch.back().seq;
  ARGUS_RETURN_IF_ERROR(values_->PutSystemValue(kCursorKey, std::to_string(last)));
  cursor_ = last;
  if (more != nullptr) *more = static_cast<int>(batch.size()) == options_.batch;
  return static_cast<int>(tasks.size());
}

void AutoProcessor::Start() {
  follower_ = std::make_unique<EventFollower>(
      "autoproc", bus_, [](const store::Event& e) { return e.type == kObjectCreated; },
      [this](bool* more) { return Step(more).status(); }, options_.retry_s);
  follower_->Start();
}

void AutoProcessor::Stop() {
  if (follower_) follower_->Stop();
}

}  // namespace argus::engine
