#include "core/registry.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

struct Thing {
  int n = 0;
};
struct Args {
  int n = 0;
};
struct Caps {
  bool shared = false;
};
using ThingRegistry = Registry<Thing, Args, Caps>;

TEST(RegistryTest, TheEntrysValidatorRunsBeforeItsFactoryAndAloneOnRequest) {
  ThingRegistry registry;
  int made = 0;
  ASSERT_TRUE(registry
                  .Register(
                      "even", {.shared = true},
                      [&](const Args& a) -> Result<std::unique_ptr<Thing>> {
                        ++made;
                        return std::make_unique<Thing>(Thing{a.n});
                      },
                      [](const Args& a) {
                        return a.n % 2 == 0 ? OkStatus()
                                            : InvalidArgumentError("things.n must be even");
                      })
                  .ok());
  EXPECT_EQ(registry.Validate("even", {3}).code(), StatusCode::kInvalidArgument);
  auto refused = registry.Create("even", {3});
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(made, 0) << "nothing is made from settings the validator refuses";
  auto made_one = registry.Create("even", {4});
  ASSERT_TRUE(made_one.ok());
  EXPECT_EQ((*made_one)->n, 4);
  EXPECT_TRUE(registry.CapabilitiesOf("even")->shared);
}

TEST(RegistryTest, AnEntryWithoutValidatorAndUnknownNames) {
  ThingRegistry registry;
  ASSERT_TRUE(registry
                  .Register("any", {},
                            [](const Args&) -> Result<std::unique_ptr<Thing>> {
                              return std::make_unique<Thing>();
                            })
                  .ok());
  EXPECT_TRUE(registry.Validate("any", {7}).ok());
  Status unknown = registry.Validate("nope", {});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("any"), std::string_view::npos) << "names the known ones";
  EXPECT_EQ(registry
                .Register("any", {},
                          [](const Args&) -> Result<std::unique_ptr<Thing>> {
                            return std::make_unique<Thing>();
                          })
                .code(),
            StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace argus
