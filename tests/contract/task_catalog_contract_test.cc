// TaskCatalog conformance (src/store/task_catalog.h), run against every backend by name: kinds
// published and replaced, worker heartbeats that keep their start time, namespaces kept apart,
// stale workers listed by age and forgotten. Stores are created only through the StoreRegistry,
// with a FakeClock and a fresh data directory per test.

#include <gmock/gmock.h>

#include "tests/contract/store_contract_fixture.h"

namespace argus::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kSecondUs = 1'000'000;

class TaskCatalogContractTest
    : public StoreContractTest<TaskCatalog, &StoreRegistry::task_catalog> {
 protected:
  std::vector<TaskKindEntry> Kinds() {
    auto kinds = store_->ListKinds();
    EXPECT_TRUE(kinds.ok()) << kinds.status().ToString();
    return kinds.ok() ? std::move(kinds).value() : std::vector<TaskKindEntry>{};
  }

  std::vector<WorkerRecord> Workers(std::optional<std::string_view> ns = std::nullopt,
                                    TimestampUs since = 0) {
    auto workers = store_->ListWorkers(ns, since);
    EXPECT_TRUE(workers.ok()) << workers.status().ToString();
    return workers.ok() ? std::move(workers).value() : std::vector<WorkerRecord>{};
  }

  static std::vector<std::string> Ids(const std::vector<WorkerRecord>& workers) {
    std::vector<std::string> ids;
    for (const auto& w : workers) ids.push_back(w.namespace_id + "/" + w.id);
    return ids;
  }

  static WorkerRecord Worker(std::string id, std::string ns = "") {
    WorkerRecord w;
    w.id = std::move(id);
    w.namespace_id = std::move(ns);
    w.namespace_name = w.namespace_id.empty() ? "" : "name-" + w.namespace_id;
    w.host = "host-a";
    w.queues = {"cpu", "io"};
    w.state = "idle";
    w.slots = 4;
    return w;
  }
};

TEST_P(TaskCatalogContractTest, PublishedKindsAreListedByNameWithWhatWasPublished) {
  EXPECT_THAT(Kinds(), IsEmpty());
  ASSERT_TRUE(store_
                  ->PublishKinds({{.kind = "sleep",
                                   .description = "waits",
                                   .input_schema_json = R"({"type":"object"})",
                                   .queues = {"cpu"}},
                                  {.kind = "noop", .internal = false, .queues = {"cpu", "io"}},
                                  {.kind = "sync.run", .internal = true}})
                  .ok());
  auto kinds = Kinds();
  ASSERT_EQ(kinds.size(), 3u);
  EXPECT_EQ(kinds[0].kind, "noop");
  EXPECT_THAT(kinds[0].queues, ElementsAre("cpu", "io"));
  EXPECT_EQ(kinds[0].input_schema_json, "{}");
  EXPECT_EQ(kinds[1].kind, "sleep");
  EXPECT_EQ(kinds[1].description, "waits");
  EXPECT_EQ(kinds[1].input_schema_json, R"({"type":"object"})");
  EXPECT_FALSE(kinds[1].internal);
  EXPECT_EQ(kinds[1].updated_at, clock_.NowUs());
  EXPECT_EQ(kinds[2].kind, "sync.run");
  EXPECT_TRUE(kinds[2].internal);
  EXPECT_THAT(kinds[2].queues, IsEmpty());
}

TEST_P(TaskCatalogContractTest, PublishingAKindAgainReplacesIt) {
  ASSERT_TRUE(
      store_->PublishKinds({{.kind = "resize", .description = "v1", .queues = {"a"}}}).ok());
  clock_.AdvanceUs(5 * kSecondUs);
  ASSERT_TRUE(store_
                  ->PublishKinds({{.kind = "resize",
                                   .description = "v2",
                                   .input_schema_json = R"({"required":["w"]})",
                                   .internal = true,
                                   .queues = {"b"}}})
                  .ok());
  auto kinds = Kinds();
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_EQ(kinds[0].description, "v2");
  EXPECT_EQ(kinds[0].input_schema_json, R"({"required":["w"]})");
  EXPECT_TRUE(kinds[0].internal);
  EXPECT_THAT(kinds[0].queues, ElementsAre("b"));
  EXPECT_EQ(kinds[0].updated_at, clock_.NowUs());
}

TEST_P(TaskCatalogContractTest, AKindWithoutANameOrWithASchemaThatIsNoObjectIsRefusedWhole) {
  Status s = store_->PublishKinds({{.kind = "good"}, {.kind = ""}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  s = store_->PublishKinds({{.kind = "good"}, {.kind = "bad", .input_schema_json = "[1]"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("bad"), std::string_view::npos) << s.ToString();
  s = store_->PublishKinds({{.kind = "bad", .input_schema_json = "{not json"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_THAT(Kinds(), IsEmpty());
}

TEST_P(TaskCatalogContractTest, ExternalKindsSitBesideArgusOwnAndNeverReplaceThem) {
  ASSERT_TRUE(store_->PublishKinds({{.kind = "sleep", .description = "argus's"}}).ok());
  auto created = store_->PublishExternalKind({.kind = "transcode",
                                              .description = "v1",
                                              .input_schema_json = R"({"type":"object"})",
                                              .queues = {"gpu"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(*created);
  clock_.AdvanceUs(kSecondUs);
  auto replaced = store_->PublishExternalKind({.kind = "transcode", .description = "v2"});
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_FALSE(*replaced);
  auto own = store_->PublishExternalKind({.kind = "sleep", .description = "hijack"});
  EXPECT_EQ(own.status().code(), StatusCode::kFailedPrecondition) << own.status().ToString();
  EXPECT_EQ(store_->PublishExternalKind({.kind = "x", .input_schema_json = "[]"}).status().code(),
            StatusCode::kInvalidArgument);
  auto kinds = Kinds();
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0].kind, "sleep");
  EXPECT_EQ(kinds[0].description, "argus's");
  EXPECT_FALSE(kinds[0].external);
  EXPECT_EQ(kinds[1].kind, "transcode");
  EXPECT_EQ(kinds[1].description, "v2");
  EXPECT_EQ(kinds[1].input_schema_json, "{}");
  EXPECT_TRUE(kinds[1].external);
  EXPECT_EQ(kinds[1].updated_at, clock_.NowUs());

  EXPECT_EQ(store_->RemoveExternalKind("sleep").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RemoveExternalKind("nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->RemoveExternalKind("transcode").ok());
  EXPECT_EQ(store_->RemoveExternalKind("transcode").code(), StatusCode::kNotFound);
  ASSERT_EQ(Kinds().size(), 1u);

  // Argus's workers starting to serve a kind an external worker published take it over.
  ASSERT_TRUE(store_->PublishExternalKind({.kind = "ocr"}).ok());
  ASSERT_TRUE(store_->PublishKinds({{.kind = "ocr", .description = "built in"}}).ok());
  kinds = Kinds();
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_FALSE(kinds[0].external);
  EXPECT_EQ(kinds[0].description, "built in");
  OpenStore();
  EXPECT_EQ(Kinds().size(), 2u);
}

TEST_P(TaskCatalogContractTest, KindsSurviveAReopen) {
  ASSERT_TRUE(store_->PublishKinds({{.kind = "ocr", .queues = {"gpu"}}}).ok());
  OpenStore();
  auto kinds = Kinds();
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_THAT(kinds[0].queues, ElementsAre("gpu"));
}

TEST_P(TaskCatalogContractTest, AHeartbeatReplacesWhatTheWorkerReportedAndKeepsItsStart) {
  const TimestampUs start = clock_.NowUs();
  ASSERT_TRUE(store_->Heartbeat({Worker("serve/cpu")}).ok());
  clock_.AdvanceUs(2 * kSecondUs);
  WorkerRecord busy = Worker("serve/cpu");
  busy.state = "busy";
  busy.running = 3;
  busy.completed = 17;
  busy.queues = {"cpu"};
  ASSERT_TRUE(store_->Heartbeat({busy}).ok());
  auto workers = Workers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].state, "busy");
  EXPECT_EQ(workers[0].running, 3);
  EXPECT_EQ(workers[0].completed, 17);
  EXPECT_EQ(workers[0].slots, 4);
  EXPECT_EQ(workers[0].host, "host-a");
  EXPECT_FALSE(workers[0].external);
  EXPECT_THAT(workers[0].queues, ElementsAre("cpu"));
  EXPECT_EQ(workers[0].started_at, start);
  EXPECT_EQ(workers[0].last_heartbeat, clock_.NowUs());
}

TEST_P(TaskCatalogContractTest, TheSameWorkerIdInTwoNamespacesIsTwoWorkers) {
  WorkerRecord a = Worker("box-1", "ns-a");
  a.external = true;
  a.state = "external";
  ASSERT_TRUE(store_->Heartbeat({a, Worker("box-1", "ns-b"), Worker("serve/cpu")}).ok());
  EXPECT_THAT(Ids(Workers()), ElementsAre("/serve/cpu", "ns-a/box-1", "ns-b/box-1"));
  auto in_a = Workers("ns-a");
  ASSERT_EQ(in_a.size(), 1u);
  EXPECT_TRUE(in_a[0].external);
  EXPECT_EQ(in_a[0].namespace_name, "name-ns-a");
  EXPECT_THAT(Ids(Workers("")), ElementsAre("/serve/cpu"));
  EXPECT_THAT(Workers("ns-c"), IsEmpty());
}

TEST_P(TaskCatalogContractTest, ListingFromATimeLeavesOutWorkersSilentSinceAndForgettingDeletes) {
  ASSERT_TRUE(store_->Heartbeat({Worker("old")}).ok());
  clock_.AdvanceUs(60 * kSecondUs);
  const TimestampUs cut = clock_.NowUs();
  ASSERT_TRUE(store_->Heartbeat({Worker("new")}).ok());
  EXPECT_THAT(Ids(Workers(std::nullopt, cut)), ElementsAre("/new"));
  EXPECT_THAT(Ids(Workers()), ElementsAre("/new", "/old"));
  auto forgotten = store_->ForgetWorkers(cut);
  ASSERT_TRUE(forgotten.ok()) << forgotten.status().ToString();
  EXPECT_EQ(*forgotten, 1);
  EXPECT_THAT(Ids(Workers()), ElementsAre("/new"));
}

TEST_P(TaskCatalogContractTest, DeregisteredWorkersAreGoneAndUnknownIdsAreIgnored) {
  ASSERT_TRUE(store_->Heartbeat({Worker("a"), Worker("b"), Worker("a", "ns-x")}).ok());
  ASSERT_TRUE(store_->Deregister("", {"a", "never-seen"}).ok());
  EXPECT_THAT(Ids(Workers()), ElementsAre("/b", "ns-x/a"));
  Status s = store_->Heartbeat({Worker("")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

TEST_P(TaskCatalogContractTest, RegistrationsSurviveAReopen) {
  ASSERT_TRUE(store_->Heartbeat({Worker("w", "ns")}).ok());
  OpenStore();
  EXPECT_THAT(Ids(Workers()), ElementsAre("ns/w"));
}

INSTANTIATE_TEST_SUITE_P(Backends, TaskCatalogContractTest, testing::Values("sqlite"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace argus::store
