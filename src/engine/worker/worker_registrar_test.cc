#include "engine/worker/worker_registrar.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/config.h"
#include "core/id.h"
#include "core/metrics.h"
#include "store/sqlite/register.h"

namespace argus::engine {
namespace {

class WorkerRegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path().string() + "/argus-reg-" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    store::StoreArgs args{&config_, dir_, &SystemClock::Get()};
    auto q = registry_.task_queue.Create("sqlite", args);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_ = std::move(q).value();
    auto c = registry_.task_catalog.Create("sqlite", args);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(c).value();
    RegisterBuiltinKinds(kinds_);
    ASSERT_TRUE(kinds_
                    .Register({.name = "test.internal",
                               .description = "only Argus starts it",
                               .input_schema = {{"type", "object"}},
                               .handler = [](TaskContext&) -> Result<Json> { return Json(); },
                               .internal = true})
                    .ok());
    WorkerPoolOptions options;
    options.concurrency = {{"cpu", 3}, {"io", 1}};
    pool_ = std::make_unique<WorkerPool>(queue_.get(), &kinds_, options, &SystemClock::Get(),
                                         &metrics_);
    ASSERT_TRUE(pool_->Start().ok());
  }
  void TearDown() override {
    pool_->Stop(std::chrono::milliseconds(100));
    pool_.reset();
    catalog_.reset();
    queue_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  Config config_;
  store::StoreRegistry registry_;
  MetricsRegistry metrics_;
  TaskKindRegistry kinds_;
  std::unique_ptr<store::TaskQueue> queue_;
  std::unique_ptr<store::TaskCatalog> catalog_;
  std::unique_ptr<WorkerPool> pool_;
};

TEST_F(WorkerRegistrarTest, StartPublishesEveryKindWithTheQueuesServedAndRegistersTheWorkers) {
  WorkerRegistrar registrar(catalog_.get(), &kinds_, pool_.get(), {.host = "box-7"},
                            &SystemClock::Get());
  ASSERT_TRUE(registrar.Start().ok());
  auto kinds = catalog_->ListKinds();
  ASSERT_TRUE(kinds.ok());
  std::map<std::string, store::TaskKindEntry> by_name;
  for (auto& k : *kinds) by_name[k.kind] = k;
  ASSERT_EQ(by_name.size(), kinds_.Names().size());
  EXPECT_EQ(by_name["test.internal"].description, "only Argus starts it");
  EXPECT_TRUE(by_name["test.internal"].internal);
  EXPECT_EQ(Json::parse(by_name["test.internal"].input_schema_json), Json({{"type", "object"}}));
  EXPECT_FALSE(by_name["sleep"].internal);
  EXPECT_EQ(by_name["sleep"].queues, (std::vector<std::string>{"cpu", "io"}));
  auto workers = catalog_->ListWorkers("", 0);
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 2u);
  EXPECT_EQ((*workers)[0].id, "serve/cpu");
  EXPECT_EQ((*workers)[0].slots, 3);
  EXPECT_EQ((*workers)[0].host, "box-7");
  EXPECT_EQ((*workers)[1].id, "serve/io");
  registrar.Stop();
  EXPECT_TRUE(catalog_->ListWorkers(std::nullopt, 0)->empty()) << "Stop deregisters";
}

TEST_F(WorkerRegistrarTest, ChangedFiguresAreWrittenAtTheNextLook) {
  WorkerRegistrar registrar(catalog_.get(), &kinds_, pool_.get(),
                            {.heartbeat_s = 0.02, .idle_heartbeat_s = 3600}, &SystemClock::Get());
  ASSERT_TRUE(registrar.Start().ok());
  store::NewTask t;
  t.namespace_id = "ns";
  t.kind = "noop";
  ASSERT_TRUE(queue_->Enqueue({t}, 0).ok());
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int64_t completed = 0;
  while (completed == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    completed = (*catalog_->ListWorkers("", 0))[0].completed;
  }
  EXPECT_EQ(completed, 1);
}

TEST_F(WorkerRegistrarTest, UnchangedRegistrationsAreWrittenAfterTheIdleInterval) {
  WorkerRegistrar registrar(catalog_.get(), &kinds_, pool_.get(),
                            {.heartbeat_s = 0.02, .idle_heartbeat_s = 0.1}, &SystemClock::Get());
  ASSERT_TRUE(registrar.Start().ok());
  const TimestampUs first = (*catalog_->ListWorkers("", 0))[0].last_heartbeat;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  TimestampUs latest = first;
  while (latest == first && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    latest = (*catalog_->ListWorkers("", 0))[0].last_heartbeat;
  }
  EXPECT_GT(latest, first);
}

TEST(TaskKindRegistryTest, AKindWhoseSchemaDoesNotCompileOrWithoutHandlerIsRefused) {
  TaskKindRegistry kinds;
  auto ok = [](TaskContext&) -> Result<Json> { return Json(); };
  Status s = kinds.Register({.name = "bad", .input_schema = {{"type", "nope"}}, .handler = ok});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  s = kinds.Register({.name = "no.handler"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(kinds.Register({.name = "fine", .handler = ok}).ok());
  EXPECT_EQ(kinds.Find("fine")->input_schema, Json::object());
  EXPECT_EQ(kinds.Register({.name = "fine", .handler = ok}).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace argus::engine
