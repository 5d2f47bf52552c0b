#include "engine/text/wordpiece.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace argus::engine {
namespace {

std::vector<std::string> Vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "un",  "##aff", "##able",
          ",",     "!",     "cafe",  "naive", "東",    "京",    "##s", "dog",   "straße"};
}

std::unique_ptr<WordPieceTokenizer> Tokenizer(WordPieceOptions options = {}) {
  auto t = WordPieceTokenizer::FromTokens(Vocab(), std::move(options));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

using Pieces = std::vector<std::string>;

TEST(WordPieceTest, SplitsWordsIntoTheLongestKnownPieces) {
  auto t = Tokenizer();
  EXPECT_EQ(t->Pieces("Hello, unaffable world!"),
            (Pieces{"hello", ",", "un", "##aff", "##able", "world", "!"}));
  EXPECT_EQ(t->Encode("Hello, unaffable world!"),
            (std::vector<int64_t>{2, 4, 9, 6, 7, 8, 5, 10, 3}));
  EXPECT_EQ(t->Pieces("dogs"), (Pieces{"dog", "##s"}));
}

TEST(WordPieceTest, AWordThatCannotBeSplitIsUnknownAsAWhole) {
  auto t = Tokenizer();
  // "unaffablex": "un", "##aff", "##able" then "x" is not a piece: the whole word is [UNK].
  EXPECT_EQ(t->Pieces("unaffablex hello"), (Pieces{"[UNK]", "hello"}));
  EXPECT_EQ(t->Pieces(std::string(101, 'a')), (Pieces{"[UNK]"}));
}

TEST(WordPieceTest, LowerCasesStripsAccentsAndSplitsIdeographs) {
  auto t = Tokenizer();
  EXPECT_EQ(t->Pieces("CAFÉ Naïve"), (Pieces{"cafe", "naive"}));
  EXPECT_EQ(t->Pieces("東京"), (Pieces{"東", "京"}));
  // Lower-casing, not case folding: "ß" stays (BERT's uncased models have it).
  EXPECT_EQ(t->Pieces("Straße"), (Pieces{"straße"}));
  // Control characters and invalid UTF-8 are dropped; Unicode spaces separate words.
  EXPECT_EQ(t->Pieces("hello\x01\xff\xfe\u3000world"), (Pieces{"hello", "world"}));
  EXPECT_TRUE(t->Pieces("   ").empty());
  EXPECT_EQ(t->Encode(""), (std::vector<int64_t>{2, 3}));
}

TEST(WordPieceTest, CasedModelsKeepCaseAndAccents) {
  auto t = Tokenizer({.lowercase = false});
  EXPECT_EQ(t->Pieces("Hello CAFÉ hello"), (Pieces{"[UNK]", "[UNK]", "hello"}));
}

TEST(WordPieceTest, CutsLongTextsToMaxLengthKeepingTheFrame) {
  auto t = Tokenizer({.max_length = 5});
  EXPECT_EQ(t->Encode("hello world hello world hello"), (std::vector<int64_t>{2, 4, 5, 4, 3}));
  auto bare = Tokenizer({.max_length = 3, .begin = "", .end = ""});
  EXPECT_EQ(bare->Encode("hello world hello world"), (std::vector<int64_t>{4, 5, 4}));
}

TEST(WordPieceTest, RefusesAVocabularyWithoutTheSpecialTokens) {
  EXPECT_EQ(WordPieceTokenizer::FromTokens({}, {}).status().code(), StatusCode::kInvalidArgument);
  auto no_cls = WordPieceTokenizer::FromTokens({"[PAD]", "[UNK]", "[SEP]", "a"}, {});
  EXPECT_EQ(no_cls.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_cls.status().message().find("[CLS]"), std::string::npos);
  EXPECT_EQ(WordPieceTokenizer::FromTokens(Vocab(), {.max_length = 1}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(WordPieceTest, LoadsAVocabularyFile) {
  auto path =
      std::filesystem::temp_directory_path() / ("argus-vocab-" + std::to_string(getpid()) + ".txt");
  {
    std::ofstream out(path);
    for (const auto& token : Vocab()) out << token << "\r\n";  // Windows line ends too
  }
  auto t = WordPieceTokenizer::Load(path.string(), {});
  auto other = WordPieceTokenizer::Load(path.string(), {}, std::string(64, '0'));
  std::filesystem::remove(path);
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->vocabulary_size(), Vocab().size());
  EXPECT_EQ((*t)->Encode("hello"), (std::vector<int64_t>{2, 4, 3}));
  EXPECT_EQ(WordPieceTokenizer::Load("/nonexistent/vocab.txt", {}).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace argus::engine
