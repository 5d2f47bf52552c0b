#include "api/http/multipart.h"

#include <gtest/gtest.h>

#include <vector>

namespace argus::api {
namespace {

struct Collected {
  std::vector<MultipartPart> parts;
  std::vector<std::string> bodies;
  int ends = 0;
};

MultipartParser::Callbacks Collect(Collected* c) {
  return {.on_part_begin =
              [c](const MultipartPart& p) {
                c->parts.push_back(p);
                c->bodies.emplace_back();
                return true;
              },
          .on_part_data =
              [c](std::string_view d) {
                c->bodies.back().append(d);
                return true;
              },
          .on_part_end =
              [c] {
                ++c->ends;
                return true;
              }};
}

const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
    "photos/a.jpg\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".jpg\"\r\n"
    "Content-Type: image/jpeg\r\n\r\n"
    "\r\n--XyNOT a boundary\r\n--X\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
    "\r\n"
    "--XyZ--\r\nepilogue";

TEST(MultipartTest, ParsesPartsWhateverTheChunking) {
  for (size_t chunk : {kBody.size(), size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
    Collected c;
    MultipartParser parser("XyZ", Collect(&c));
    for (size_t i = 0; i < kBody.size(); i += chunk) {
      ASSERT_TRUE(parser.Feed(std::string_view(kBody).substr(i, chunk)).ok()) << chunk;
    }
    ASSERT_TRUE(parser.Finish().ok()) << chunk;
    ASSERT_EQ(c.parts.size(), 3u) << chunk;
    EXPECT_EQ(c.ends, 3);
    EXPECT_EQ(c.parts[0].name, "key");
    EXPECT_FALSE(c.parts[0].has_filename);
    EXPECT_EQ(c.bodies[0], "photos/a.jpg");
    EXPECT_EQ(c.parts[1].name, "file");
    EXPECT_EQ(c.parts[1].filename, "a \"b\".jpg");
    EXPECT_EQ(c.parts[1].content_type, "image/jpeg");
    // Boundary-like bytes that are not the delimiter stay in the body.
    EXPECT_EQ(c.bodies[1], "\r\n--XyNOT a boundary\r\n--X") << chunk;
    EXPECT_EQ(c.bodies[2], "");
  }
}

TEST(MultipartTest, ReadsTheBoundaryFromTheContentType) {
  EXPECT_EQ(MultipartParser::BoundaryOf("multipart/form-data; boundary=abc").value_or(""), "abc");
  EXPECT_EQ(
      MultipartParser::BoundaryOf("Multipart/Form-Data; charset=x; boundary=\"a b\"").value_or(""),
      "a b");
  EXPECT_FALSE(MultipartParser::BoundaryOf("application/json").ok());
  EXPECT_FALSE(MultipartParser::BoundaryOf("multipart/form-data").ok());
  EXPECT_FALSE(MultipartParser::BoundaryOf("multipart/form-data; boundary=").ok());
}

TEST(MultipartTest, RejectsTruncatedAndMalformedBodies) {
  {
    Collected c;
    MultipartParser parser("XyZ", Collect(&c));
    ASSERT_TRUE(parser.Feed(kBody.substr(0, kBody.size() / 2)).ok());
    EXPECT_FALSE(parser.Finish().ok());  // no closing boundary
  }
  {
    Collected c;
    MultipartParser parser("XyZ", Collect(&c));
    EXPECT_FALSE(parser.Feed("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--").ok());
  }
  {
    Collected c;
    MultipartParser parser("XyZ", Collect(&c));
    EXPECT_FALSE(parser.Feed("--XyZ\r\n" + std::string(20000, 'h')).ok());  // endless headers
  }
  {
    Collected c;
    MultipartParser parser("XyZ", Collect(&c));
    EXPECT_FALSE(parser.Feed("--XyZ\r\n\r\nbody\r\n--XyZ--").ok());  // no headers at all
  }
}

TEST(MultipartTest, AReceiverCanStopTheParse) {
  MultipartParser parser("XyZ", {.on_part_begin = [](const MultipartPart&) { return false; }});
  Status s = parser.Feed(kBody);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
}

TEST(MultipartTest, LargePartsStreamInPieces) {
  std::string big(1 << 20, 'q');
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + big +
      "\r\n--B--";
  size_t largest_piece = 0, total = 0;
  MultipartParser parser("B", {.on_part_data = [&](std::string_view d) {
                           largest_piece = std::max(largest_piece, d.size());
                           total += d.size();
                           return true;
                         }});
  for (size_t i = 0; i < body.size(); i += 65536) {
    ASSERT_TRUE(parser.Feed(std::string_view(body).substr(i, 65536)).ok());
  }
  ASSERT_TRUE(parser.Finish().ok());
  EXPECT_EQ(total, big.size());
  EXPECT_LE(largest_piece, 65536u + 16);  // never the whole part at once
}

}  // namespace
}  // namespace argus::api
