// The shared fixture of the store conformance suites: a fresh data directory per test, and the
// store under test created by backend name through the StoreRegistry (never by concrete type),
// with a FakeClock and default configuration.

#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/config.h"
#include "store/localfs/register.h"
#include "store/sqlite/register.h"
#include "store/store_registry.h"
#include "tests/fakes/fake_clock.h"

namespace argus::store {

/// Every backend compiled in. A server-based backend adds its Register call here behind its
/// ARGUS_WITH_* option.
inline Status RegisterAllContractBackends(StoreRegistry& registry) {
  ARGUS_RETURN_IF_ERROR(sqlite::RegisterSqliteStores(registry));
  return localfs::RegisterLocalFsStores(registry);
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
