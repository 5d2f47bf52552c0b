// The shared fixture of the store conformance suites: a fresh data directory per test, and the
// store under test created by backend name through the StoreRegistry (never by concrete type),
// with a FakeClock and default configuration. The "s3" blob backend joins when a server is given
// by ARGUS_TEST_S3_ENDPOINT (tests/s3/run_with_s3rver.sh starts one); each test then gets its own
// key prefix in the bucket.

#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "store/localfs/register.h"
#include "store/s3/register.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "store/tiered_blob_store.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store {

/// Every backend compiled in. A server-based backend adds its Register call here behind its
/// ARGUS_WITH_* option.
/// "local+sqlite" is what `argus serve` makes of blobs.backend "local" (ADR 0010): blobs of up to
/// kContractSmallBlobBytes in "sqlite", larger ones in "local" files.
inline constexpr int64_t kContractSmallBlobBytes = 64 * 1024;
inline Status RegisterAllContractBackends(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(sqlite::RegisterSqliteStores(registry));
  ARGUS_RETURN_IF_ERROR(s3::RegisterS3Stores(registry));
  ARGUS_RETURN_IF_ERROR(localfs::RegisterLocalFsStores(registry));
  BlobStoreRegistry* blobs = &registry.blobs;
  return registry.blobs.Register(
      "local+sqlite", {.durable = true, .multi_process = false, .content_addressed = true},
      [blobs](const StoreArgs& args) -> Result<std::unique_ptr<BlobStore>> {
        ARGUS_ASSIGN_OR_RETURN(auto small, blobs->Create("sqlite", args));
        ARGUS_ASSIGN_OR_RETURN(auto large, blobs->Create("local", args));
        return std::unique_ptr<BlobStore>(
            new TieredBlobStore(std::move(small), std::move(large), kContractSmallBlobBytes));
      });
}

/// `name`'s value, or `fallback` when unset or empty.
inline std::string ContractEnv(const char* name, const char* fallback = "") {
  const char* value = getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

/// The blob backends to run: "local", "sqlite", "local+sqlite", and "s3" when
/// ARGUS_TEST_S3_ENDPOINT names a server.
inline std::vector<std::string> BlobStoreContractBackends() {
  std::vector<std::string> out = {"local", "sqlite", "local+sqlite"};
  if (!ContractEnv("ARGUS_TEST_S3_ENDPOINT").empty()) out.push_back("s3");
  return out;
}

/// Points the "s3" backend at the ARGUS_TEST_S3_* server, under the fresh key prefix `prefix`.
inline Status ConfigureS3FromEnv(Config& config, const std::string& prefix) {
  for (const auto& [key, value] :
       {std::pair<const char*, std::string>{"blobs.s3.endpoint",
                                            ContractEnv("ARGUS_TEST_S3_ENDPOINT")},
        {"blobs.s3.region", ContractEnv("ARGUS_TEST_S3_REGION", "us-east-1")},
        {"blobs.s3.bucket", ContractEnv("ARGUS_TEST_S3_BUCKET", "argus-test")},
        {"blobs.s3.access_key_id", ContractEnv("ARGUS_TEST_S3_ACCESS_KEY_ID", "S3RVER")},
        {"blobs.s3.secret_access_key", ContractEnv("ARGUS_TEST_S3_SECRET_ACCESS_KEY", "S3RVER")},
        {"blobs.s3.prefix", prefix}}) {
    ARGUS_RETURN_IF_ERROR(config.Set(key, value, "test"));
  }
  // "false": virtual-host addressing (bucket.host), as run_with_s3rver.sh --virtual-host sets.
  std::string path_style = ContractEnv("ARGUS_TEST_S3_PATH_STYLE", "true");
  return config.Set("blobs.s3.path_style", path_style, "test");
}

/// `Member` names the StoreRegistry member whose backends the suite runs over, e.g.
/// `&StoreRegistry::webhooks`; the test parameter is the backend name.
template <typename Store, auto Member>
class StoreContractTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterAllContractBackends(registry_).ok());
    std::string pattern = testing::TempDir() + "argus-contract-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    if (GetParam() == "s3") {
      std::string prefix = std::filesystem::path(dir_).filename().string();
      prefix.push_back('/');
      Status configured = ConfigureS3FromEnv(config_, prefix);
      ASSERT_TRUE(configured.ok()) << configured.ToString();
    }
    OpenStore();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  /// (Re)opens the store on dir_; the previous instance is destroyed first.
  void OpenStore() {
    store_.reset();
    auto store =
        (registry_.*Member)
            .Create(GetParam(), StoreArgs{.config = &config_, .data_dir = dir_, .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  StoreRegistry registry_;
  Config config_;
  FakeClock clock_{1'700'000'000'000'000};
  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace argus::store
