// bench/filter: how fast a filter finds its documents (DocumentStore::MatchingKeys, a vector
// search's allow-list) through the payload indexes, against the same store without them (every
// payload read and matched) and against raw SQLite on the same file with an expression index per
// field (json_extract), the way one would index JSON in SQLite by hand. Same documents, same
// run, one thread. Prints milliseconds per filter for each and the ratio of the payload index to
// the better raw plan.
//
//   argus_bench_filter [N=100000] [QUERIES=50] [DIR=/tmp]
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/id.h"
#include "store/metadata_store.h"
#include "store/sqlite/sqlite_metadata_store.h"

namespace {

using argus::Json;
using Clock = std::chrono::steady_clock;
namespace store = argus::store;

long Env(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atol(v) : fallback;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "argus_bench_filter: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(argus::Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

// One filter of the run: its JSON for a query number, and the same as SQL over json_extract.
struct Case {
  const char* name;
  double selectivity;
  Json (*filter)(int q);
  std::string (*sql)(int q);
};

std::string Tenth(int q) { return fmt::format("{}", q % 10); }
std::string Hundredth(int q) { return fmt::format("h{}", q % 100); }
std::string Thousandth(int q) { return fmt::format("t{}", q % 1000); }
constexpr const char* kT = "json_extract(payload, '$.tenth')";
constexpr const char* kH = "json_extract(payload, '$.hundredth')";
constexpr const char* kK = "json_extract(payload, '$.thousandth')";
constexpr const char* kS = "json_extract(payload, '$.score')";

const store::FieldTypes kTypes = {{"tenth", store::FieldType::kInteger},
                                  {"hundredth", store::FieldType::kKeyword},
                                  {"thousandth", store::FieldType::kKeyword},
                                  {"score", store::FieldType::kFloat}};

const Case kCases[] = {
    {"eq 10%", 0.1,
     [](int q) {
       return Json{{"tenth", q % 10}};
     },
     [](int q) { return fmt::format("{} = {}", kT, Tenth(q)); }},
    {"eq 1%", 0.01,
     [](int q) {
       return Json{{"hundredth", Hundredth(q)}};
     },
     [](int q) { return fmt::format("{} = '{}'", kH, Hundredth(q)); }},
    {"eq 0.1%", 0.001,
     [](int q) {
       return Json{{"thousandth", Thousandth(q)}};
     },
     [](int q) { return fmt::format("{} = '{}'", kK, Thousandth(q)); }},
    {"range 5%", 0.05,
     [](int q) {
       return Json{{"score", {{"gte", q % 19 * 0.05}, {"lt", q % 19 * 0.05 + 0.05}}}};
     },
     [](int q) {
       return fmt::format("{} >= {} AND {} < {}", kS, q % 19 * 0.05, kS, q % 19 * 0.05 + 0.05);
     }},
    {"and 1%x10%", 0.001,
     [](int q) {
       return Json{{"hundredth", Hundredth(q)}, {"tenth", (q / 7) % 10}};
     },
     [](int q) {
       return fmt::format("{} = '{}' AND {} = {}", kH, Hundredth(q), kT, Tenth(q / 7));
     }},
    {"or 3x0.1%", 0.003,
     [](int q) {
       Json any = Json::array();
       for (int i = 0; i < 3; ++i) any.push_back({{"thousandth", Thousandth(q + i * 331)}});
       return Json{{"or", any}};
     },
     [](int q) {
       return fmt::format("{} IN ('{}', '{}', '{}')", kK, Thousandth(q), Thousandth(q + 331),
                          Thousandth(q + 662));
     }},
    {"ne 90%", 0.9,
     [](int q) {
       return Json{{"tenth", {{"ne", q % 10}}}};
     },
     [](int q) { return fmt::format("NOT coalesce({} = {}, 0)", kT, Tenth(q)); }},
};

}  // namespace

int main() {
  const long n = Env("N", 100000);
  const int queries = static_cast<int>(Env("QUERIES", 50));
  const char* base = std::getenv("DIR");
  const std::string dir =
      fmt::format("{}/argus-bench-filter-{}", base != nullptr && *base ? base : "/tmp", getpid());
  std::filesystem::create_directories(dir);
  argus::Config config;
  const argus::Clock& clock = argus::SystemClock::Get();
  auto md = Must(store::sqlite::SqliteMetadataStore::Create(
                     {.config = &config, .data_dir = dir, .clock = &clock}),
                 "open store");

  // A namespace, a bucket with one object, and two collections of it with the same documents:
  // one with payload indexes, one without.
  store::Namespace ns{.id = argus::NewId(clock), .name = "bench"};
  Must(md->CreateNamespace(ns), "namespace");
  store::Bucket bucket{.id = argus::NewId(clock), .namespace_id = ns.id, .name = "b"};
  bucket = Must(md->CreateBucket(bucket), "bucket");
  store::StoredObject object{.id = argus::NewId(clock),
                             .namespace_id = ns.id,
                             .bucket_id = bucket.id,
                             .key = "o",
                             .size = 1,
                             .sha256 = std::string(64, 'a'),
                             .media_type = "image/jpeg"};
  Must(md->PutObject(object, {}), "object");
  std::string ids[2];
  for (int c = 0; c < 2; ++c) {
    store::Collection col{.id = argus::NewId(clock),
                          .namespace_id = ns.id,
                          .name = c == 0 ? "indexed" : "plain",
                          .source_bucket_id = bucket.id};
    col.extractors = {{.name = "image_properties", .version = "1"}};
    if (c == 0) {
      col.payload_indexes = {{.field = "tenth", .type = store::FieldType::kInteger},
                             {.field = "hundredth", .type = store::FieldType::kKeyword},
                             {.field = "thousandth", .type = store::FieldType::kKeyword},
                             {.field = "score", .type = store::FieldType::kFloat}};
    }
    ids[c] = Must(md->CreateCollection(col), "collection").id;
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  const auto write_start = Clock::now();
  constexpr int kPerSource = 100;
  for (long s = 0; s * kPerSource < n; ++s) {
    std::vector<store::Document> docs;
    for (int u = 0; u < kPerSource && s * kPerSource + u < n; ++u) {
      store::Document d;
      d.unit = fmt::format("r/{}", u);
      d.object_id = object.id;
      d.payload = {{"tenth", static_cast<int>(rng() % 10)},
                   {"hundredth", Hundredth(static_cast<int>(rng() % 100))},
                   {"thousandth", Thousandth(static_cast<int>(rng() % 1000))},
                   {"score", unit(rng)},
                   {"caption", "a photo of something"}};
      docs.push_back(std::move(d));
    }
    for (const auto& id : ids) {
      for (auto& d : docs) d.id = argus::NewId(clock);
      Must(md->ReplaceSourceDocuments(id, fmt::format("s{}", s), docs, clock.NowUs()), "write");
    }
  }
  std::printf("documents: %ld per collection, written in %.1f s (both collections)\n", n,
              Seconds(write_start));

  // Raw SQLite on the same file: an expression index per field.
  sqlite3* raw = nullptr;
  if (sqlite3_open((dir + "/metadata.db").c_str(), &raw) != SQLITE_OK) Die("open raw");
  const auto index_start = Clock::now();
  for (const char* e : {kT, kH, kK, kS}) {
    const std::string sql =
        fmt::format("CREATE INDEX IF NOT EXISTS bench_{} ON documents(collection_id, {})",
                    std::hash<std::string>()(e) % 100000, e);
    if (sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      Die(std::string("raw index: ") + sqlite3_errmsg(raw));
    }
  }
  sqlite3_exec(raw, "ANALYZE", nullptr, nullptr, nullptr);
  std::printf("raw expression indexes built in %.1f s\n", Seconds(index_start));

  std::printf("\n%-12s %8s %12s %12s %12s %12s %8s\n", "filter", "matches", "index ms", "scan ms",
              "raw idx ms", "raw scan ms", "ratio");
  for (const Case& c : kCases) {
    double ms[4] = {0, 0, 0, 0};
    size_t matches = 0;
    for (int plan = 0; plan < 4; ++plan) {
      const int reps = plan == 1 || plan == 3 ? std::max(3, queries / 10) : queries;
      const auto start = Clock::now();
      for (int q = 0; q < reps; ++q) {
        if (plan < 2) {
          auto f = Must(store::ParseFilter(c.filter(q), plan == 0 ? kTypes : store::FieldTypes{}),
                        "filter");
          auto keys = Must(md->MatchingKeys(ids[plan], f), "match");
          if (plan == 0 && q == 0) matches = keys.size();
        } else {
          // plan 2 reads the indexed collection's rows through the expression indexes; plan 3
          // scans the plain one's (NOT INDEXED).
          const std::string sql = std::string("SELECT key FROM documents ") +
                                  (plan == 3 ? "NOT INDEXED " : "") + "WHERE collection_id = '" +
                                  ids[plan == 2 ? 0 : 1] + "' AND (" + c.sql(q) + ") ORDER BY key";
          sqlite3_stmt* stmt = nullptr;
          if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
            Die(std::string("raw: ") + sqlite3_errmsg(raw));
          }
          std::vector<int64_t> keys;
          while (sqlite3_step(stmt) == SQLITE_ROW) keys.push_back(sqlite3_column_int64(stmt, 0));
          sqlite3_finalize(stmt);
        }
      }
      ms[plan] = Seconds(start) * 1000 / reps;
    }
    const double best_raw = std::min(ms[2], ms[3]);
    std::printf("%-12s %8zu %12.3f %12.3f %12.3f %12.3f %7.2fx\n", c.name, matches, ms[0], ms[1],
                ms[2], ms[3], best_raw / ms[0]);
  }
  std::printf("\nratio: the better raw SQLite plan's time over the payload index's (>1: faster)\n");
  sqlite3_close(raw);
  md.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
