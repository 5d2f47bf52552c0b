// The AutoProcessor over real SQLite stores (metadata, event log and task queue in one
// directory), stepped by hand; the metadata store is wrapped to fail storing the cursor.
#include "engine/collections/auto_processor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "core/config.h"
#include "core/id.h"
#include "domain/document_builder.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fault_injecting_metadata_store.h"

namespace argus::engine {
namespace {

namespace fs = std::filesystem;

class AutoProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path().string() + "/argus-auto-process-" + NewId();
    fs::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    const store::StoreArgs args{.config = &config_, .data_dir = dir_, .clock = &SystemClock::Get()};
    auto metadata = registry_.metadata.Create("sqlite", args);
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    sqlite_ = std::move(metadata).value();
    metadata_ = std::make_unique<store::FaultInjectingMetadataStore>(sqlite_.get());
    auto events = registry_.event_log.Create("sqlite", args);
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(events).value();
    auto tasks = registry_.task_queue.Create("sqlite", args);
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    tasks_ = std::move(tasks).value();

    ASSERT_TRUE(sqlite_->CreateNamespace({.id = NewId(), .name = "a"}).ok());
    namespace_id_ = sqlite_->GetNamespaceByName("a")->id;
    photos_ = *sqlite_->CreateBucket({.id = NewId(), .namespace_id = namespace_id_, .name = "p"});
    other_ = *sqlite_->CreateBucket({.id = NewId(), .namespace_id = namespace_id_, .name = "o"});
    for (const auto& [name, automatic] : {std::pair{"auto", true}, std::pair{"manual", false}}) {
      store::Collection c;
      c.id = NewId();
      c.namespace_id = namespace_id_;
      c.name = name;
      c.source_bucket_id = photos_.id;
      c.extractors = {{.name = "image_properties", .version = "1"}};
      c.auto_process = automatic;
      auto created = sqlite_->CreateCollection(c);
      ASSERT_TRUE(created.ok()) << created.status().ToString();
      if (automatic) auto_id_ = c.id;
    }
  }
  void TearDown() override {
    tasks_.reset();
    events_.reset();
    metadata_.reset();
    sqlite_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Put(const store::Bucket& bucket, const std::string& key) {
    store::StoredObject o;
    o.id = NewId();
    o.namespace_id = namespace_id_;
    o.bucket_id = bucket.id;
    o.key = key;
    o.size = 3;
    o.sha256 = std::string(64, 'a');
    o.media_type = "image/png";
    o.created_at = o.updated_at = SystemClock::Get().NowUs();
    EXPECT_TRUE(sqlite_->PutObject(o, {}).ok());
    return o.id;
  }

  // The extraction tasks queued: (collection, object) pairs.
  std::multiset<std::pair<std::string, std::string>> Queued() {
    auto page =
        tasks_->List({.namespace_id = namespace_id_, .kind = std::string(domain::kExtractKind)},
                     {.limit = 1000});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::multiset<std::pair<std::string, std::string>> out;
    for (const auto& t : page->items) {
      out.emplace(t.input["collection_id"], t.input["object_id"]);
    }
    return out;
  }

  AutoProcessor Processor() {
    return AutoProcessor(events_.get(), nullptr, metadata_.get(), metadata_.get(), metadata_.get(),
                         tasks_.get(), {.batch = 2});
  }

  Config config_;
  std::string dir_;
  store::StoreRegistry registry_;
  std::unique_ptr<store::MetadataStore> sqlite_;
  std::unique_ptr<store::FaultInjectingMetadataStore> metadata_;
  std::unique_ptr<store::EventLog> events_;
  std::unique_ptr<store::TaskQueue> tasks_;
  std::string namespace_id_, auto_id_;
  store::Bucket photos_, other_;
};

TEST_F(AutoProcessorTest, EachNewObjectOfASourceBucketIsQueuedOnceForEachAutoCollection) {
  const std::string a = Put(photos_, "a.png");
  Put(other_, "x.png");  // no collection takes this bucket
  const std::string b = Put(photos_, "b.png");
  AutoProcessor processor = Processor();
  bool more = false;
  int queued = 0;
  do {
    auto step = processor.Step(&more);
    ASSERT_TRUE(step.ok()) << step.status().ToString();
    queued += *step;
  } while (more);
  EXPECT_EQ(queued, 2);
  using Pairs = std::multiset<std::pair<std::string, std::string>>;
  EXPECT_EQ(Queued(), (Pairs{{auto_id_, a}, {auto_id_, b}}));

  // The cursor cannot be stored after the tasks are: the step is repeated, no task twice.
  const std::string c = Put(photos_, "c.png");
  metadata_->plan().Fail("PutSystemValue", UnavailableError("disk gone"));
  EXPECT_EQ(processor.Step().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Queued().size(), 3u);
  AutoProcessor restarted = Processor();  // from the stored cursor
  do {
    ASSERT_TRUE(restarted.Step(&more).ok());
  } while (more);
  EXPECT_EQ(Queued(), (Pairs{{auto_id_, a}, {auto_id_, b}, {auto_id_, c}}));
  AutoProcessor again = Processor();
  EXPECT_EQ(*again.Step(), 0) << "the cursor is durable: nothing is read twice";
}

TEST_F(AutoProcessorTest, ObjectsOlderThanTheCollectionAreLeftToTriggersAndBatches) {
  // The follower lags: the objects were there before the collection, so they are not new to it
  // even though their events are read after it was made.
  const std::string before = Put(photos_, "before.png");
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  store::Collection late;
  late.id = NewId();
  late.namespace_id = namespace_id_;
  late.name = "late";
  late.source_bucket_id = photos_.id;
  late.extractors = {{.name = "image_properties", .version = "1"}};
  late.auto_process = true;
  late.created_at = late.updated_at = SystemClock::Get().NowUs();
  ASSERT_TRUE(sqlite_->CreateCollection(late).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string after = Put(photos_, "after.png");
  AutoProcessor processor = Processor();
  bool more = false;
  do {
    ASSERT_TRUE(processor.Step(&more).ok());
  } while (more);
  using Pairs = std::multiset<std::pair<std::string, std::string>>;
  EXPECT_EQ(Queued(), (Pairs{{auto_id_, before}, {auto_id_, after}, {late.id, after}}));
}

}  // namespace
}  // namespace argus::engine
