// The auth matrix: every route × every kind of caller, against the real server.
#include <gtest/gtest.h>

#include <array>
#include <set>

#include "tests/integration/test_server.h"

namespace argus::testing {
namespace {

class AuthMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = TestServer::Start().release();
    ASSERT_GT(server_->port(), 0) << server_->Log();
    const std::string& admin = server_->admin_key();
    ASSERT_EQ(server_->Call("POST", "/v1/namespaces", admin, {{"name", "team"}}).status, 201);
    ASSERT_EQ(server_->Call("POST", "/v1/namespaces", admin, {{"name", "other"}}).status, 201);
    for (const char* role : {"viewer", "editor", "admin"}) {
      auto r = server_->Call("POST", "/v1/keys", admin, {{"name", role}, {"role", role}},
                             {{"X-Namespace", "team"}});
      ASSERT_EQ(r.status, 201) << r.body;
      keys_[role] = r.json()["secret"];
      ids_[role] = r.json()["id"];
    }
    auto r = server_->Call("POST", "/v1/keys", admin, {{"name", "o"}, {"role", "admin"}},
                           {{"X-Namespace", "other"}});
    ASSERT_EQ(r.status, 201);
    keys_["other"] = r.json()["secret"];
    ids_["other"] = r.json()["id"];
    keys_["global"] = admin;
    // A task of "team" that no worker runs: it stays pending for the matrix.
    auto t = server_->Call("POST", "/v1/tasks", admin, {{"kind", "ext.matrix-target"}},
                           {{"X-Namespace", "team"}});
    ASSERT_EQ(t.status, 201) << t.body;
    team_task_ = t.json()["id"];
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static TestServer* server_;
  static std::map<std::string, std::string> keys_;
  static std::map<std::string, std::string> ids_;
  static std::string team_task_;
};

TestServer* AuthMatrixTest::server_ = nullptr;
std::map<std::string, std::string> AuthMatrixTest::keys_;
std::map<std::string, std::string> AuthMatrixTest::ids_;
std::string AuthMatrixTest::team_task_;

struct Case {
  std::string method;
  std::string path;  ///< {viewer_id} / {other_id} substituted
  Json body;
  // Expected status for: none, viewer, editor, ns admin, global admin (X-Namespace: team),
  // other-namespace admin.
  std::array<int, 6> expect;
};

TEST_F(AuthMatrixTest, EveryRouteAndCaller) {
  const std::vector<Case> cases = {
      {"GET", "/healthz", nullptr, {200, 200, 200, 200, 200, 200}},
      {"GET", "/readyz", nullptr, {200, 200, 200, 200, 200, 200}},
      {"GET", "/metrics", nullptr, {200, 200, 200, 200, 200, 200}},
      {"GET", "/openapi.json", nullptr, {200, 200, 200, 200, 200, 200}},
      {"GET", "/docs", nullptr, {200, 200, 200, 200, 200, 200}},
      {"GET", "/docs/swagger-ui.css", nullptr, {200, 200, 200, 200, 200, 200}},
      {"GET", "/v1/whoami", nullptr, {401, 200, 200, 200, 200, 200}},
      {"POST",
       "/v1/diagnostics/echo",
       {{"name", "x"}, {"values", {1}}},
       {401, 200, 200, 200, 200, 200}},
      {"GET", "/v1/namespaces", nullptr, {401, 403, 403, 403, 200, 403}},
      {"GET", "/v1/namespaces/team", nullptr, {401, 403, 403, 403, 200, 403}},
      {"POST", "/v1/namespaces", {{"name", "fresh"}}, {401, 403, 403, 403, 201, 403}},
      {"DELETE", "/v1/namespaces/fresh", nullptr, {401, 403, 403, 403, 204, 403}},
      {"GET", "/v1/keys", nullptr, {401, 403, 403, 200, 200, 200}},
      {"POST", "/v1/keys", {{"name", "n"}, {"role", "viewer"}}, {401, 403, 403, 201, 201, 201}},
      {"GET", "/v1/keys/{viewer_id}", nullptr, {401, 403, 403, 200, 200, 404}},
      // Another namespace's key is invisible to team's keys, and the other way round.
      {"GET", "/v1/keys/{other_id}", nullptr, {401, 403, 403, 404, 404, 200}},
      {"DELETE", "/v1/keys/{other_id}", nullptr, {401, 403, 403, 404, 404, 404}},
      {"POST", "/v1/tasks", {{"kind", "ext.matrix"}}, {401, 403, 201, 201, 201, 201}},
      {"POST",
       "/v1/tasks/batch",
       {{"tasks", {{{"kind", "ext.matrix"}}}}},
       {401, 403, 201, 201, 201, 201}},
      {"GET", "/v1/tasks", nullptr, {401, 200, 200, 200, 200, 200}},
      {"GET", "/v1/tasks/{team_task}", nullptr, {401, 200, 200, 200, 200, 404}},
      {"POST", "/v1/tasks/{team_task}/retry", Json::object(), {401, 403, 409, 409, 409, 404}},
      {"POST", "/v1/tasks/cancel", {{"kind", "ext.nothing"}}, {401, 403, 200, 200, 200, 200}},
      {"GET", "/v1/queues", nullptr, {401, 200, 200, 200, 200, 200}},
      {"POST", "/v1/queues/matrix/pause", Json::object(), {401, 403, 403, 403, 204, 403}},
      {"POST", "/v1/queues/matrix/resume", Json::object(), {401, 403, 403, 403, 204, 403}},
      {"GET", "/v1/workers", nullptr, {401, 200, 200, 200, 200, 200}},
      {"POST",
       "/v1/workers/lease",
       {{"worker_id", "m"}, {"kinds", {"ext.none"}}},
       {401, 403, 200, 200, 200, 200}},
      {"POST",
       "/v1/tasks/{team_task}/heartbeat",
       {{"lease_id", "nope"}},
       {401, 403, 409, 409, 409, 404}},
      {"POST",
       "/v1/tasks/{team_task}/complete",
       {{"lease_id", "nope"}},
       {401, 403, 409, 409, 409, 404}},
      {"POST",
       "/v1/tasks/{team_task}/fail",
       {{"lease_id", "nope"}, {"error", {{"code", "x"}, {"message", "y"}}}},
       {401, 403, 409, 409, 409, 404}},
      {"GET", "/v1/webhooks", nullptr, {401, 200, 200, 200, 200, 200}},
      // Subscribed to an event that never happens here: nothing is ever sent off the machine.
      {"POST",
       "/v1/webhooks",
       {{"url", "https://hooks.example.com/x"}, {"events", {"task.retrying"}}},
       {401, 403, 403, 201, 201, 201}},
      {"GET",
       "/v1/webhooks/00000000-0000-7000-8000-000000000000",
       nullptr,
       {401, 404, 404, 404, 404, 404}},
      // The editor cancels it; after that it is terminal for everyone.
      {"POST", "/v1/tasks/{team_task}/cancel", Json::object(), {401, 403, 200, 409, 409, 404}},
  };
  const std::vector<std::string> who = {"", "viewer", "editor", "admin", "global", "other"};
  for (const auto& c : cases) {
    for (size_t i = 0; i < who.size(); ++i) {
      std::string path = c.path;
      if (auto p = path.find("{viewer_id}"); p != std::string::npos) {
        path.replace(p, 11, ids_["viewer"]);
      }
      if (auto p = path.find("{other_id}"); p != std::string::npos) {
        path.replace(p, 10, ids_["other"]);
      }
      if (auto p = path.find("{team_task}"); p != std::string::npos) {
        path.replace(p, 11, team_task_);
      }
      std::map<std::string, std::string> headers;
      if (who[i] == "global") headers["X-Namespace"] = "team";
      std::string key = who[i].empty() ? "" : keys_[who[i]];
      if (c.method == "DELETE" && c.path == "/v1/keys/{other_id}" && who[i] == "other") continue;
      auto r = server_->Call(c.method, path, key, c.body, headers);
      EXPECT_EQ(r.status, c.expect[i])
          << c.method << " " << c.path << " as '" << who[i] << "': " << r.body;
      if (r.status >= 400) {
        Json e = r.json();
        EXPECT_TRUE(e.contains("error")) << r.body;
        EXPECT_EQ(e["error"]["request_id"], r.Header("x-request-id"));
      }
      // The namespace deleted by the global admin is recreated for the next caller's turn.
      if (c.path == "/v1/namespaces/fresh" && r.status == 204) {
        server_->Call("POST", "/v1/namespaces", keys_["global"], {{"name", "fresh"}});
      }
    }
    if (c.method == "POST" && c.path == "/v1/namespaces") {
      // Only the global admin created it; a second create conflicts.
      EXPECT_EQ(server_->Call("POST", "/v1/namespaces", keys_["global"], c.body).status, 409);
    }
  }
}

// Gives namespace `ns` something of its own behind every list and stats route, each named with
// the prefix "<ns>-" (so another namespace's answers can be searched for it): tasks in a queue of
// its own and in a queue both share, an external worker, a bucket with an object, a webhook and a
// key. Returns the ids of its tasks.
std::vector<std::string> Populate(TestServer& server, const std::string& ns) {
  std::map<std::string, std::string> in_ns = {{"X-Namespace", ns}};
  const std::string& admin = server.admin_key();
  std::vector<std::string> ids;
  for (const auto& [queue, n] :
       std::vector<std::pair<std::string, int>>{{ns + "-q", 7}, {"shared", 3}}) {
    for (int i = 0; i < n; ++i) {
      auto t = server.Call("POST", "/v1/tasks", admin,
                           {{"kind", "ext." + ns + "-kind"}, {"queue", queue}}, in_ns);
      EXPECT_EQ(t.status, 201) << t.body;
      ids.push_back(t.json().value("id", ""));
    }
  }
  auto lease = server.Call(
      "POST", "/v1/workers/lease", admin,
      {{"worker_id", ns + "-worker.example"}, {"kinds", {"ext.none"}}, {"queues", {ns + "-q"}}},
      in_ns);
  EXPECT_EQ(lease.status, 200) << lease.body;
  EXPECT_EQ(server.Call("POST", "/v1/buckets", admin, {{"name", ns + "-media"}}, in_ns).status,
            201);
  auto put =
      Request(server.port(), "PUT", "/v1/buckets/" + ns + "-media/objects/" + ns + "-photo.txt",
              {{"Authorization", "Bearer " + admin}, {"X-Namespace", ns}}, "x");
  EXPECT_EQ(put.status, 201) << put.body;
  auto hook = server.Call(
      "POST", "/v1/webhooks", admin,
      {{"url", "https://hooks.example.com/" + ns + "-hook"}, {"events", {"task.retrying"}}}, in_ns);
  EXPECT_EQ(hook.status, 201) << hook.body;
  auto key =
      server.Call("POST", "/v1/keys", admin, {{"name", ns + "-key"}, {"role", "viewer"}}, in_ns);
  EXPECT_EQ(key.status, 201) << key.body;
  return ids;
}

TEST_F(AuthMatrixTest, ListAndStatsRoutesShowNothingOfAnotherNamespace) {
  std::map<std::string, std::vector<std::string>> task_ids = {
      {"team", Populate(*server_, "team")}, {"other", Populate(*server_, "other")}};
  // Every caller acting in one of the two namespaces, with that namespace.
  struct Caller {
    std::string name, key, ns;
  };
  const std::vector<Caller> callers = {
      {"viewer", keys_["viewer"], "team"}, {"editor", keys_["editor"], "team"},
      {"admin", keys_["admin"], "team"},   {"global in team", keys_["global"], "team"},
      {"other", keys_["other"], "other"},  {"global in other", keys_["global"], "other"}};
  for (const Caller& c : callers) {
    const std::string foreign = c.ns == "team" ? "other" : "team";
    std::map<std::string, std::string> headers;
    if (c.key == keys_["global"]) headers["X-Namespace"] = c.ns;
    for (const std::string& path :
         {std::string("/v1/tasks?limit=1000"), std::string("/v1/tasks?status=pending&limit=1000"),
          std::string("/v1/queues"), std::string("/v1/workers"), std::string("/v1/keys?limit=1000"),
          std::string("/v1/webhooks?limit=1000"), std::string("/v1/buckets?limit=1000"),
          "/v1/buckets/" + c.ns + "-media/objects?limit=1000", std::string("/v1/models"),
          std::string("/v1/extractors"), std::string("/v1/whoami")}) {
      auto r = server_->Call("GET", path, c.key, nullptr, headers);
      EXPECT_TRUE(r.status == 200 || r.status == 403)
          << c.name << " GET " << path << ": " << r.body;
      EXPECT_EQ(r.body.find(foreign + "-"), std::string::npos)
          << c.name << " GET " << path << " shows namespace '" << foreign << "': " << r.body;
      for (const auto& id : task_ids[foreign]) {
        EXPECT_EQ(r.body.find(id), std::string::npos) << c.name << " GET " << path << ": " << id;
      }
    }
    // The other namespace's bucket looks like one that does not exist.
    auto objects =
        server_->Call("GET", "/v1/buckets/" + foreign + "-media/objects", c.key, nullptr, headers);
    EXPECT_EQ(objects.status, 404) << c.name << ": " << objects.body;
    // Counts are the namespace's own: 3 tasks in the queue both use, 7 in its own.
    auto queues = server_->Call("GET", "/v1/queues", c.key, nullptr, headers);
    ASSERT_EQ(queues.status, 200) << queues.body;
    std::map<std::string, int64_t> pending;
    for (const auto& q : queues.json()["items"]) pending[q["queue"]] = q["pending"];
    EXPECT_EQ(pending["shared"], 3) << c.name << ": " << queues.body;
    EXPECT_EQ(pending[c.ns + "-q"], 7) << c.name << ": " << queues.body;
    // Its own worker is listed, by id.
    auto workers = server_->Call("GET", "/v1/workers", c.key, nullptr, headers);
    EXPECT_NE(workers.body.find(c.ns + "-worker.example"), std::string::npos)
        << c.name << ": " << workers.body;
  }
  // Global figures stay for the global admin without a namespace in scope.
  auto queues = server_->Call("GET", "/v1/queues", keys_["global"]);
  std::map<std::string, int64_t> pending;
  for (const auto& q : queues.json()["items"]) pending[q["queue"]] = q["pending"];
  EXPECT_EQ(pending["shared"], 6) << queues.body;
  auto workers = server_->Call("GET", "/v1/workers", keys_["global"]);
  EXPECT_NE(workers.body.find("team-worker.example"), std::string::npos) << workers.body;
  EXPECT_NE(workers.body.find("other-worker.example"), std::string::npos) << workers.body;
}

TEST_F(AuthMatrixTest, NamespaceKeyCannotActInAnotherNamespace) {
  auto r = server_->Call("GET", "/v1/keys", keys_["admin"], nullptr, {{"X-Namespace", "other"}});
  EXPECT_EQ(r.status, 404);
  r = server_->Call("GET", "/v1/whoami", keys_["admin"], nullptr, {{"X-Namespace", "team"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["namespace"], "team");
  EXPECT_EQ(r.json()["role"], "admin");
}

TEST_F(AuthMatrixTest, GlobalAdminNeedsAnExistingNamespace) {
  auto r = server_->Call("GET", "/v1/keys", keys_["global"], nullptr, {{"X-Namespace", "nope"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.json()["error"]["code"], "not_found");
  // Without X-Namespace, the global admin sees the global keys.
  r = server_->Call("GET", "/v1/keys", keys_["global"]);
  ASSERT_EQ(r.status, 200);
  ASSERT_GE(r.json()["items"].size(), 1u);
  EXPECT_TRUE(r.json()["items"][0]["namespace"].is_null());
}

// SDKs send X-Namespace on every call; routes outside any namespace ignore it, so a client can
// create the namespace it names.
TEST_F(AuthMatrixTest, RoutesOutsideANamespaceIgnoreXNamespace) {
  const std::string& admin = keys_["global"];
  std::map<std::string, std::string> sdk = {{"X-Namespace", "made-by-sdk"}};
  auto created = server_->Call("POST", "/v1/namespaces", admin, {{"name", "made-by-sdk"}}, sdk);
  EXPECT_EQ(created.status, 201) << created.body;
  // Once it exists, the same client works in it.
  auto bucket = server_->Call("POST", "/v1/buckets", admin, {{"name", "first"}}, sdk);
  EXPECT_EQ(bucket.status, 201) << bucket.body;
  std::map<std::string, std::string> missing = {{"X-Namespace", "not-there"}};
  EXPECT_EQ(server_->Call("GET", "/v1/namespaces/made-by-sdk", admin, nullptr, missing).status,
            200);
  EXPECT_EQ(server_->Call("GET", "/v1/namespaces", admin, nullptr, missing).status, 200);
  EXPECT_EQ(server_->Call("POST", "/v1/queues/sdk/pause", admin, Json::object(), missing).status,
            204);
  EXPECT_EQ(server_->Call("POST", "/v1/queues/sdk/resume", admin, Json::object(), missing).status,
            204);
  EXPECT_EQ(server_->Call("DELETE", "/v1/namespaces/made-by-sdk", admin, nullptr, missing).status,
            204);
  // A namespace key is still refused for what it may not do, not told the namespace is missing.
  auto refused =
      server_->Call("POST", "/v1/namespaces", keys_["admin"], {{"name", "not-there"}}, missing);
  EXPECT_EQ(refused.status, 403) << refused.body;
  // Namespace-scoped routes still need the namespace to exist.
  auto scoped = server_->Call("GET", "/v1/tasks", admin, nullptr, missing);
  EXPECT_EQ(scoped.status, 404) << scoped.body;
  EXPECT_NE(scoped.body.find("not-there"), std::string::npos) << scoped.body;
}

TEST_F(AuthMatrixTest, BadKeysAre401) {
  for (const std::string& header :
       {std::string("Bearer nope"), std::string("Basic abc"), "Bearer " + keys_["viewer"] + "x",
        std::string("Bearer ") + std::string(300, 'a')}) {
    auto r = Request(server_->port(), "GET", "/v1/whoami", {{"Authorization", header}});
    EXPECT_EQ(r.status, 401) << header;
    EXPECT_EQ(r.json()["error"]["code"], "unauthenticated");
    EXPECT_EQ(r.Header("www-authenticate"), "Bearer");
  }
}

TEST_F(AuthMatrixTest, RevocationTakesEffectImmediately) {
  const std::string& admin = keys_["admin"];
  auto created = server_->Call("POST", "/v1/keys", admin, {{"name", "tmp"}, {"role", "editor"}});
  ASSERT_EQ(created.status, 201);
  std::string secret = created.json()["secret"], id = created.json()["id"];
  EXPECT_EQ(server_->Call("GET", "/v1/whoami", secret).status, 200);  // now cached
  EXPECT_EQ(server_->Call("DELETE", "/v1/keys/" + id, admin).status, 204);
  EXPECT_EQ(server_->Call("GET", "/v1/whoami", secret).status, 401);
  auto got = server_->Call("GET", "/v1/keys/" + id, admin);
  EXPECT_FALSE(got.json()["revoked_at"].is_null());
  EXPECT_FALSE(got.json().contains("secret"));
  auto list = server_->Call("GET", "/v1/keys", admin);
  Json active = list.json();  // keep the document alive while iterating it
  for (const auto& k : active["items"]) EXPECT_NE(k["id"], id);
  list = server_->Call("GET", "/v1/keys?include_revoked=true&limit=1000", admin);
  Json all = list.json();
  bool found = false;
  for (const auto& k : all["items"]) found = found || k["id"] == id;
  EXPECT_TRUE(found);
}

TEST_F(AuthMatrixTest, ExpiredKeyIsRefused) {
  auto r =
      server_->Call("POST", "/v1/keys", keys_["admin"],
                    {{"name", "old"}, {"role", "viewer"}, {"expires_at", "2001-01-01T00:00:00Z"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("future"), std::string::npos);
}

TEST_F(AuthMatrixTest, PaginationWalksAllNamespaces) {
  for (int i = 0; i < 5; ++i) {
    server_->Call("POST", "/v1/namespaces", keys_["global"],
                  {{"name", "page-" + std::to_string(i)}});
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r =
        server_->Call("GET", "/v1/namespaces?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
                      keys_["global"]);
    ASSERT_EQ(r.status, 200) << r.body;
    Json j = r.json();
    EXPECT_LE(j["items"].size(), 2u);
    for (const auto& ns : j["items"]) EXPECT_TRUE(seen.insert(ns["name"]).second);
    cursor = j["next_cursor"].is_null() ? "" : j["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 100);
  EXPECT_GE(seen.size(), 7u);
  EXPECT_TRUE(seen.count("page-4"));
  EXPECT_EQ(server_->Call("GET", "/v1/namespaces?limit=0", keys_["global"]).status, 400);
  EXPECT_EQ(server_->Call("GET", "/v1/namespaces?cursor=%%%", keys_["global"]).status, 400);
}

}  // namespace
}  // namespace argus::testing
