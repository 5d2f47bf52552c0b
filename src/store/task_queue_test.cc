#include "store/task_queue.h"

#include <gtest/gtest.h>

namespace argus::store {
namespace {

Task FullTask() {
  Task t;
  t.id = "01a2-task";
  t.namespace_id = "ns";
  t.kind = "ocr";
  t.queue = "gpu";
  t.priority = 9;
  t.input = {{"object", "photos/a.jpg"}, {"pages", {1, 2}}, {"scale", 0.5}};
  t.idempotency_key = "key-1";
  t.status = TaskStatus::kFailed;
  t.attempt = 3;
  t.retry = {.initial_interval_s = 1.5,
             .backoff_coefficient = 2,
             .max_interval_s = 60,
             .max_attempts = 3,
             .non_retryable_codes = {"invalid_argument", "bad_media"}};
  t.timeouts = {.schedule_to_start_s = 10, .start_to_close_s = 0.25, .heartbeat_s = 5};
  t.progress = 0.75;
  t.progress_message = "page \"2\" of 2\n\t\u00e9\u4e2d";
  t.result = nullptr;
  t.error = TaskError{.code = "bad_media", .message = "truncated JPEG", .attempt = 3};
  t.parent_id = "batch-7";
  t.worker_id = "serve/gpu/0";
  t.created_at = 1'700'000'000'000'000;
  t.updated_at = 1'700'000'001'500'000;
  t.run_at = 1'700'000'000'000'000;
  t.started_at = 1'700'000'001'000'000;
  t.finished_at = 1'700'000'001'500'000;
  return t;
}

TEST(TaskJsonTest, CarriesEveryField) {
  Json j = TaskToJson(FullTask());
  EXPECT_EQ(j["id"], "01a2-task");
  EXPECT_EQ(j["kind"], "ocr");
  EXPECT_EQ(j["queue"], "gpu");
  EXPECT_EQ(j["priority"], 9);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["input"], FullTask().input);
  EXPECT_EQ(j["idempotency_key"], "key-1");
  EXPECT_EQ(j["attempt"], 3);
  EXPECT_EQ(j["retry"]["initial_interval_s"], 1.5);
  EXPECT_EQ(j["retry"]["max_attempts"], 3);
  EXPECT_EQ(j["retry"]["non_retryable_codes"], Json({"invalid_argument", "bad_media"}));
  EXPECT_EQ(j["timeouts"]["start_to_close_s"], 0.25);
  EXPECT_EQ(j["progress"]["fraction"], 0.75);
  EXPECT_EQ(j["progress"]["message"], "page \"2\" of 2\n\t\u00e9\u4e2d");  // escaped and back
  EXPECT_TRUE(j["result"].is_null());
  EXPECT_EQ(j["error"],
            Json({{"code", "bad_media"}, {"message", "truncated JPEG"}, {"attempt", 3}}));
  EXPECT_EQ(j["parent_id"], "batch-7");
  EXPECT_EQ(j["worker_id"], "serve/gpu/0");
  EXPECT_EQ(j["cancel_requested"], false);
  EXPECT_EQ(j["created_at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["started_at"], "2023-11-14T22:13:21.000Z");
  EXPECT_EQ(j["finished_at"], "2023-11-14T22:13:21.500Z");
  EXPECT_EQ(j["crash_count"], 0);
  EXPECT_EQ(j.size(), 22u);
}

TEST(TaskJsonTest, AbsentValuesAreNull) {
  Task t;
  t.id = "x";
  t.result = {{"labels", Json::array()}};
  Json j = TaskToJson(t);
  EXPECT_TRUE(j["idempotency_key"].is_null());
  EXPECT_TRUE(j["parent_id"].is_null());
  EXPECT_TRUE(j["worker_id"].is_null());
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_TRUE(j["started_at"].is_null());
  EXPECT_TRUE(j["finished_at"].is_null());
  EXPECT_TRUE(j["progress"]["message"].is_null());
  EXPECT_EQ(j["result"], Json({{"labels", Json::array()}}));
  EXPECT_EQ(j["input"], Json::object());
}

TEST(TaskJsonTest, TextAndTreeAgree) {
  Task t = FullTask();
  EXPECT_EQ(Json::parse(TaskJsonText(t)), TaskToJson(t));
}

}  // namespace
}  // namespace argus::store
