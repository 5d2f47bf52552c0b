#include "engine/runtime/onnx_session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace argus::engine {
namespace {

// The tiny graphs of tests/models/make_tiny_models.py, written once per test binary.
class OnnxSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("argus-tiny-" + std::to_string(getpid()));
    std::string cmd =
        "/usr/bin/python3 " ARGUS_SOURCE_DIR "/tests/models/make_tiny_models.py " + dir_.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string Path(const std::string& name) { return (dir_ / name).string(); }
  static std::filesystem::path dir_;
};
std::filesystem::path OnnxSessionTest::dir_;

TEST_F(OnnxSessionTest, RunsABatchableGraph) {
  auto s = OnnxSession::Load(Path("double.onnx"), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ((*s)->inputs().size(), 1u);
  EXPECT_EQ((*s)->inputs()[0].name, "x");
  EXPECT_EQ((*s)->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
  EXPECT_TRUE((*s)->batchable());
  auto out = (*s)->Run({Tensor{{2, 3}, {1, 2, 3, 4, 5, 6}}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*out)[0].data, (std::vector<float>{2, 4, 6, 8, 10, 12}));
  EXPECT_FALSE(OnnxSession::RuntimeVersion().empty());
}

TEST_F(OnnxSessionTest, FixedBatchGraphIsNotBatchableAndShapesAreChecked) {
  auto s = OnnxSession::Load(Path("fixed.onnx"), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->batchable());
  auto out = (*s)->Run({Tensor{{1, 3}, {1, 2, 3}}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].data, (std::vector<float>{2, 3, 4}));
  EXPECT_EQ((*s)->Run({Tensor{{2, 3}, {1, 2, 3, 4, 5, 6}}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*s)->Run({}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OnnxSessionTest, BadFilesAreInvalidArgument) {
  EXPECT_EQ(OnnxSession::Load(Path("missing.onnx"), {}).status().code(),
            StatusCode::kInvalidArgument);
  std::ofstream(Path("garbage.onnx")) << "not a model";
  auto garbage = OnnxSession::Load(Path("garbage.onnx"), {});
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace argus::engine
