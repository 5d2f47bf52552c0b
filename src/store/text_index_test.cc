#include "store/text_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::store {
namespace {

using ::testing::ElementsAre;

TEST(TextWordsTest, LettersAndDigitsOfAnyScriptMakeWordsAndTheRestSeparatesThem) {
  EXPECT_THAT(TextWords("Café de Flore, 7/7 — \"open\" OR NEAR(x*)"),
              ElementsAre("Café", "de", "Flore", "7", "7", "open", "OR", "NEAR", "x"));
  EXPECT_THAT(TextWords("東京、タワー «x»"), ElementsAre("東京", "タワー", "x"));
  EXPECT_TRUE(TextWords(" ,;!? \t\n").empty());
  EXPECT_EQ(TextWords("a b c d e", 3).size(), 3u) << "at most max_words";
}

}  // namespace
}  // namespace argus::store
