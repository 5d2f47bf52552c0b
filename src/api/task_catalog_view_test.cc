#include "api/task_catalog_view.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.h"
#include "core/id.h"
#include "store/sqlite/register.h"
#include "tests/fakes/fake_clock.h"

namespace argus::api {
namespace {

constexpr int64_t kSecondUs = 1'000'000;

class TaskCatalogViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/catalog_view_" + NewId();
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(store::sqlite::RegisterSqliteStores(registry_).ok());
    auto catalog = registry_.task_catalog.Create("sqlite", {&config_, dir_, &clock_});
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
  }
  void TearDown() override {
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
  store::StoreRegistry registry_;
  std::unique_ptr<store::TaskCatalog> catalog_;
};

TEST_F(TaskCatalogViewTest, AKindPublishedLaterIsSeenAfterTheRefreshIntervalNotBefore) {
  TaskKindCache cache(catalog_.get(), &clock_, 1.0);
  auto found = cache.Find("resize");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, nullptr);
  ASSERT_TRUE(catalog_->PublishKinds({{.kind = "resize"}}).ok());
  EXPECT_EQ(*cache.Find("resize"), nullptr) << "read again before the interval";
  clock_.AdvanceUs(kSecondUs);
  found = cache.Find("resize");
  ASSERT_TRUE(found.ok());
  ASSERT_NE(*found, nullptr);
  EXPECT_NE((*found)->input_schema, nullptr);
}

TEST_F(TaskCatalogViewTest, SchemasAreCompiledAndABadOneIsReportedNotAcceptedUnchecked) {
  ASSERT_TRUE(catalog_
                  ->PublishKinds({{.kind = "strict",
                                   .input_schema_json = R"({"type":"object","required":["n"]})"},
                                  {.kind = "broken", .input_schema_json = R"({"type":"nope"})"},
                                  {.kind = "sync.run", .internal = true}})
                  .ok());
  TaskKindCache cache(catalog_.get(), &clock_);
  auto strict = *cache.Find("strict");
  ASSERT_NE(strict, nullptr);
  EXPECT_FALSE(strict->input_schema->Validate(Json::object()).ok());
  EXPECT_TRUE(strict->input_schema->Validate({{"n", 1}}).ok());
  auto broken = *cache.Find("broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(broken->input_schema, nullptr);
  EXPECT_FALSE(broken->schema_error.empty());
  EXPECT_TRUE((*cache.Find("sync.run"))->entry.internal);
  auto all = cache.List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0]->entry.kind, "broken");
}

TEST_F(TaskCatalogViewTest, ExternalWorkersAreWrittenWhenNewChangedOrDueNotOnEveryLease) {
  WorkerDirectory directory(catalog_.get(), &clock_, 2.0);
  ASSERT_TRUE(directory.TouchExternal("ns1", "team", "box", "10.0.0.1", {"cpu"}).ok());
  auto first = catalog_->ListWorkers(std::nullopt, 0);
  ASSERT_EQ(first->size(), 1u);
  const TimestampUs written_at = (*first)[0].last_heartbeat;
  clock_.AdvanceUs(kSecondUs);
  ASSERT_TRUE(directory.TouchExternal("ns1", "team", "box", "10.0.0.1", {"cpu"}).ok());
  EXPECT_EQ((*catalog_->ListWorkers(std::nullopt, 0))[0].last_heartbeat, written_at);
  ASSERT_TRUE(directory.TouchExternal("ns1", "team", "box", "10.0.0.1", {"gpu"}).ok());
  EXPECT_EQ((*catalog_->ListWorkers(std::nullopt, 0))[0].queues[0], "gpu");
  clock_.AdvanceUs(2 * kSecondUs);
  ASSERT_TRUE(directory.TouchExternal("ns1", "team", "box", "10.0.0.1", {}).ok());
  EXPECT_EQ((*catalog_->ListWorkers(std::nullopt, 0))[0].last_heartbeat, clock_.NowUs());
}

TEST_F(TaskCatalogViewTest, ListingShowsInProcessWorkersFirstAndANamespaceOnlyItsOwn) {
  store::WorkerRecord local{
      .id = "serve/cpu", .host = "h", .queues = {"cpu"}, .state = "idle", .slots = 2};
  ASSERT_TRUE(catalog_->Heartbeat({local}).ok());
  WorkerDirectory directory(catalog_.get(), &clock_);
  ASSERT_TRUE(directory.TouchExternal("", "", "a-global", "10.0.0.2", {"cpu"}).ok());
  ASSERT_TRUE(directory.TouchExternal("ns1", "team", "box", "10.0.0.1", {"cpu"}).ok());
  auto all = directory.ToJson(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u) << all->dump();
  EXPECT_EQ((*all)[0]["id"], "serve/cpu");
  EXPECT_EQ((*all)[0]["slots"], 2);
  EXPECT_EQ((*all)[1]["state"], "external");
  auto team = directory.ToJson(std::string("ns1"));
  ASSERT_EQ(team->size(), 1u);
  EXPECT_EQ((*team)[0]["id"], "box");
  EXPECT_EQ((*team)[0]["namespace"], "team");
  clock_.AdvanceUs(static_cast<int64_t>((WorkerDirectory::kListedForS + 1) * kSecondUs));
  EXPECT_TRUE(directory.ToJson(std::nullopt)->empty()) << "silent workers are not listed";
}

}  // namespace
}  // namespace argus::api
