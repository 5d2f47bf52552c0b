#include "core/thread_name.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace argus {
namespace {

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
  const std::string before = ThreadName();
  std::string seen;
  std::thread([&] {
    SetThreadName("argus-test");
    seen = ThreadName();
  }).join();
  EXPECT_EQ(seen, "argus-test");
  EXPECT_EQ(ThreadName(), before);
}

TEST(ThreadNameTest, LongNamesAreCutAtFifteenBytes) {
  std::string seen;
  std::thread([&] {
    SetThreadName("argus-a-very-long-thread-name");
    seen = ThreadName();
  }).join();
  EXPECT_EQ(seen, "argus-a-very-lo");
}

}  // namespace
}  // namespace argus
