#include "engine/image/image_decode.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

namespace argus::engine {
namespace {

const char kMessi[] = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Encode(const cv::Mat& img, const std::string& ext) {
  std::vector<unsigned char> buf;
  EXPECT_TRUE(cv::imencode(ext, img, buf));
  return std::string(buf.begin(), buf.end());
}

// A JPEG whose stored pixels are 40 wide × 20 high, red on the left half, with an Exif APP1
// segment that sets the orientation tag.
std::string JpegWithOrientation(int orientation) {
  cv::Mat img(20, 40, CV_8UC3, cv::Scalar(255, 0, 0));       // blue
  img(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));  // red left half
  std::string jpeg = Encode(img, ".jpg");
  // "Exif\0\0" + little-endian TIFF header + IFD0 with one SHORT entry 0x0112.
  std::string tiff("II*\0\x08\0\0\0", 8);
  tiff += std::string("\x01\0", 2);                    // 1 entry
  tiff += std::string("\x12\x01\x03\0\x01\0\0\0", 8);  // tag, SHORT, count 1
  tiff += std::string(1, static_cast<char>(orientation)) + std::string("\0\0\0", 3);
  tiff += std::string("\0\0\0\0", 4);  // no next IFD
  std::string payload = std::string("Exif\0\0", 6) + tiff;
  size_t len = payload.size() + 2;
  std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(len >> 8) +
                     static_cast<char>(len & 0xff) + payload;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

TEST(ImageDecodeTest, DecodesARealJpeg) {
  std::string bytes = ReadFile(kMessi);
  ASSERT_FALSE(bytes.empty()) << kMessi << " (opencv-doc) is missing";
  auto header = ProbeImage(bytes);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  cv::Mat reference = cv::imread(kMessi);
  EXPECT_EQ(header->format, "jpeg");
  EXPECT_EQ(header->width, reference.cols);
  EXPECT_EQ(header->height, reference.rows);
  auto decoded = DecodeImage(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->bgr.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(decoded->bgr, reference, cv::NORM_INF), 0);
}

TEST(ImageDecodeTest, ProbesEveryFormatFromItsHeader) {
  cv::Mat img(31, 57, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* ext : {".png", ".bmp", ".webp", ".jpg"}) {
    auto header = ProbeImage(Encode(img, ext));
    ASSERT_TRUE(header.ok()) << ext << ": " << header.status().ToString();
    EXPECT_EQ(header->width, 57) << ext;
    EXPECT_EQ(header->height, 31) << ext;
    auto decoded = DecodeImage(Encode(img, ext), {});
    ASSERT_TRUE(decoded.ok()) << ext;
    EXPECT_EQ(decoded->bgr.size(), img.size()) << ext;
  }
}

TEST(ImageDecodeTest, ExifOrientationIsApplied) {
  auto upright = DecodeImage(JpegWithOrientation(1), {});
  ASSERT_TRUE(upright.ok()) << upright.status().ToString();
  EXPECT_EQ(upright->bgr.cols, 40);
  auto rotated = DecodeImage(JpegWithOrientation(6), {});  // 90° clockwise to stand upright
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->header.orientation, 6);
  ASSERT_EQ(rotated->bgr.cols, 20);
  ASSERT_EQ(rotated->bgr.rows, 40);
  // The stored left half (red) is now the top half.
  cv::Vec3b top = rotated->bgr.at<cv::Vec3b>(5, 10), bottom = rotated->bgr.at<cv::Vec3b>(35, 10);
  EXPECT_GT(top[2], 200);
  EXPECT_LT(top[0], 60);
  EXPECT_GT(bottom[0], 200);
  auto mirrored = DecodeImage(JpegWithOrientation(2), {});  // flipped left-right
  ASSERT_TRUE(mirrored.ok());
  EXPECT_GT(mirrored->bgr.at<cv::Vec3b>(10, 35)[2], 200);  // red now on the right
}

TEST(ImageDecodeTest, BombIsRefusedFromTheHeader) {
  // A PNG header claiming 50,000 × 50,000 pixels, followed by nothing a decoder could use.
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\xc3\x50\0\0\xc3\x50\x08\x02\0\0\0", 29);
  auto header = ProbeImage(png);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->pixels(), 2'500'000'000LL);
  auto refused = DecodeImage(png, {.max_pixels = 40'000'000});
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("2500000000 pixels"), std::string::npos)
      << refused.status().ToString();
}

// A camera JPEG carries an EXIF thumbnail (a whole JPEG, with its own scan and end marker) in
// APP1: a truncated main image must still be caught.
TEST(ImageDecodeTest, TruncationIsFoundPastAnExifThumbnail) {
  std::string jpeg = ReadFile(kMessi);
  std::string thumbnail = Encode(cv::Mat(8, 8, CV_8UC3, cv::Scalar(9, 9, 9)), ".jpg");
  std::string payload = std::string("Exif\0\0II*\0\x08\0\0\0\0\0", 16) + thumbnail;
  size_t len = payload.size() + 2;
  std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(len >> 8) +
                     static_cast<char>(len & 0xff) + payload;
  std::string camera = jpeg.substr(0, 2) + app1 + jpeg.substr(2);
  ASSERT_TRUE(DecodeImage(camera, {}).ok());
  auto cut = DecodeImage(camera.substr(0, camera.size() - 5000), {});
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument) << "decoded a truncated JPEG";
}

// A little-endian TIFF with IFD0 {Make, Model, GPS pointer} and a GPS IFD (48°30'N, 2°15'W).
std::string ExifWithCameraAndGps() {
  std::string t;
  auto u16 = [&](uint32_t v) { t.push_back(char(v & 0xff)), t.push_back(char(v >> 8 & 0xff)); };
  auto u32 = [&](uint32_t v) { u16(v & 0xffff), u16(v >> 16); };
  auto entry = [&](uint16_t tag, uint16_t type, uint32_t count, uint32_t value) {
    u16(tag), u16(type), u32(count), u32(value);
  };
  t = std::string("II*\0", 4);
  u32(8);
  u16(3);                   // IFD0 at 8: 3 entries, data from 50
  entry(0x010F, 2, 9, 50);  // Make "ArgusCam"
  entry(0x0110, 2, 8, 59);  // Model "Model-7"
  entry(0x8825, 4, 1, 68);  // GPS IFD
  u32(0);
  t += std::string("ArgusCam\0Model-7\0\0", 18);  // 50..67, padded to 68
  u16(4);                                         // GPS IFD at 68: data from 122
  entry(0x0001, 2, 2, 'N');
  entry(0x0002, 5, 3, 122);
  entry(0x0003, 2, 2, 'W');
  entry(0x0004, 5, 3, 146);
  u32(0);
  for (uint32_t v : {48u, 1u, 30u, 1u, 0u, 1u, 2u, 1u, 15u, 1u, 0u, 1u}) u32(v);
  return std::string("Exif\0\0", 6) + t;
}

TEST(ImageDecodeTest, ExifTagsAreRead) {
  std::string payload = ExifWithCameraAndGps();
  std::string jpeg = Encode(cv::Mat(16, 16, CV_8UC3, cv::Scalar(1, 2, 3)), ".jpg");
  size_t len = payload.size() + 2;
  std::string app1 = std::string("\xFF\xE1", 2) + static_cast<char>(len >> 8) +
                     static_cast<char>(len & 0xff) + payload;
  auto decoded = DecodeImage(jpeg.substr(0, 2) + app1 + jpeg.substr(2), {});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  Json exif = ReadExif(decoded->exif);
  EXPECT_EQ(exif.value("make", ""), "ArgusCam") << exif.dump();
  EXPECT_EQ(exif.value("model", ""), "Model-7") << exif.dump();
  ASSERT_TRUE(exif.contains("gps")) << exif.dump();
  EXPECT_NEAR(exif["gps"]["latitude"].get<double>(), 48.5, 1e-9);
  EXPECT_NEAR(exif["gps"]["longitude"].get<double>(), -2.25, 1e-9);
  EXPECT_TRUE(ReadExif("").empty());
  EXPECT_TRUE(ReadExif("Exif\0\0garbage").is_object());
}

TEST(ImageDecodeTest, BrokenInputIsInvalidArgument) {
  std::string jpeg = ReadFile(kMessi);
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
  cv::randu(img, 0, 255);
  std::string png = Encode(img, ".png");
  for (const auto& [what, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"empty", ""},
           {"text", "hello, this is not an image"},
           {"truncated jpeg", jpeg.substr(0, jpeg.size() / 2)},
           {"jpeg header only", jpeg.substr(0, 200)},
           {"truncated png", png.substr(0, png.size() / 2)},
           {"png signature only", png.substr(0, 10)}}) {
    auto r = DecodeImage(bytes, {});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
  }
}

}  // namespace
}  // namespace argus::engine

namespace argus::engine {
namespace {

TEST(CropImageTest, ARegionIsClampedToTheImageAndCopied) {
  DecodedImage image;
  image.header = {.format = "jpeg", .width = 40, .height = 30, .orientation = 6};
  image.bgr = cv::Mat(30, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  image.bgr(cv::Rect(10, 5, 4, 3)).setTo(cv::Scalar(255, 255, 255));
  auto crop = CropImage(image, 10, 5, 14, 8);
  ASSERT_TRUE(crop.ok()) << crop.status().ToString();
  EXPECT_EQ(crop->bgr.cols, 4);
  EXPECT_EQ(crop->bgr.rows, 3);
  EXPECT_EQ(crop->header.width, 4);
  EXPECT_EQ(crop->header.orientation, 1) << "a crop is upright";
  EXPECT_EQ(cv::countNonZero(crop->bgr.reshape(1)), 4 * 3 * 3) << "the region's own pixels";
  image.bgr.setTo(cv::Scalar(0, 0, 0));
  EXPECT_EQ(cv::countNonZero(crop->bgr.reshape(1)), 4 * 3 * 3) << "copied, not shared";

  auto clamped = CropImage(image, -20.4, 25, 1000, 1e9);
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(clamped->bgr.cols, 40);
  EXPECT_EQ(clamped->bgr.rows, 5);
  EXPECT_EQ(CropImage(image, 50, 0, 60, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CropImage(image, 10, 10, 10, 20).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CropImage(image, NAN, 0, 10, 10).ok(), true) << "NaN counts as the edge";
}

}  // namespace
}  // namespace argus::engine
