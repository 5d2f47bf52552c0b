#include "tests/eval/average_precision.h"

#include <gtest/gtest.h>

namespace argus::eval {
namespace {

Box B(double x1, double y1, double x2, double y2) { return {x1, y1, x2, y2}; }

TEST(IoUTest, OverlapOverUnion) {
  EXPECT_DOUBLE_EQ(IoU(B(0, 0, 10, 10), B(0, 0, 10, 10)), 1.0);
  EXPECT_DOUBLE_EQ(IoU(B(0, 0, 10, 10), B(10, 0, 20, 10)), 0.0);  // touching
  EXPECT_DOUBLE_EQ(IoU(B(0, 0, 10, 10), B(5, 0, 15, 10)), 50.0 / 150);
  EXPECT_DOUBLE_EQ(IoU(B(0, 0, 10, 10), B(0, 0, 10, 12)), 100.0 / 120);
  EXPECT_DOUBLE_EQ(IoU(B(0, 0, 10, 10), B(5, 5, 5, 9)), 0.0);  // empty
}

// Two images, three faces, four detections:
//   image A: truth a1 = [0,0,10,10], a2 = [20,0,30,10]; image B: truth b1 = [0,0,10,10].
//   d1 A 0.9 [0,0,10,10]   IoU(a1) = 1                 → TP  (tp 1, fp 0)
//   d2 B 0.8 [50,50,60,60] overlaps nothing            → FP  (tp 1, fp 1)
//   d3 A 0.7 [1,0,11,10]   IoU(a1) = 90/110, a1 taken  → FP, a duplicate (tp 1, fp 2)
//   d4 B 0.6 [0,0,10,12]   IoU(b1) = 100/120           → TP  (tp 2, fp 2)
// Curve (recall, precision): (1/3, 1), (1/3, 1/2), (1/3, 1/3), (2/3, 1/2).
// Envelope (best precision at this recall or more): 1, 1/2, 1/2, 1/2.
// AP = 1/3 × 1 + (2/3 − 1/3) × 1/2 = 1/2.
// F1: after d1 2·1·(1/3)/(4/3) = 1/2; after d4 2·(1/2)(2/3)/(7/6) = 4/7, the best: threshold 0.6.
// a2 is never found: one false negative.
std::vector<ImageResult> HandCase() {
  ImageResult a{.truth = {{B(0, 0, 10, 10)}, {B(20, 0, 30, 10)}},
                .detections = {{B(0, 0, 10, 10), 0.9}, {B(1, 0, 11, 10), 0.7}}};
  ImageResult b{.truth = {{B(0, 0, 10, 10)}},
                .detections = {{B(50, 50, 60, 60), 0.8}, {B(0, 0, 10, 12), 0.6}}};
  return {a, b};
}

TEST(AveragePrecisionTest, HandComputedCase) {
  ApResult r = AveragePrecision(HandCase());
  EXPECT_DOUBLE_EQ(r.average_precision, 0.5);
  EXPECT_EQ(r.ground_truth, 3);
  EXPECT_EQ(r.detections, 4);
  EXPECT_DOUBLE_EQ(r.best_f1.score_threshold, 0.6);
  EXPECT_DOUBLE_EQ(r.best_f1.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.best_f1.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.best_f1.f1, 4.0 / 7);
  EXPECT_EQ(r.best_f1.true_positives, 2);
  EXPECT_EQ(r.best_f1.false_positives, 2);
  EXPECT_EQ(r.best_f1.false_negatives, 1);
  EXPECT_EQ(r.all.true_positives, 2);
  EXPECT_EQ(r.all.false_positives, 2);
}

TEST(AveragePrecisionTest, AStricterIoUTurnsLooseBoxesIntoFalsePositives) {
  // At IoU 0.85 d3 (0.818) and d4 (0.833) no longer match: one TP (d1) and three FPs.
  ApResult r = AveragePrecision(HandCase(), 0.85);
  EXPECT_DOUBLE_EQ(r.average_precision, 1.0 / 3);
  EXPECT_EQ(r.all.true_positives, 1);
  EXPECT_EQ(r.all.false_positives, 3);
  EXPECT_DOUBLE_EQ(r.best_f1.score_threshold, 0.9);
}

TEST(AveragePrecisionTest, NoDetectionsIsZero) {
  auto images = HandCase();
  for (auto& i : images) i.detections.clear();
  ApResult r = AveragePrecision(images);
  EXPECT_DOUBLE_EQ(r.average_precision, 0.0);
  EXPECT_EQ(r.detections, 0);
  EXPECT_EQ(r.all.true_positives, 0);
  EXPECT_EQ(r.all.false_positives, 0);
  EXPECT_EQ(r.all.false_negatives, 3);
  EXPECT_EQ(r.best_f1.false_negatives, 3);
  EXPECT_DOUBLE_EQ(r.best_f1.f1, 0.0);
  EXPECT_DOUBLE_EQ(AveragePrecision({}).average_precision, 0.0);
}

TEST(AveragePrecisionTest, NoGroundTruthIsZeroWithEveryDetectionFalse) {
  ApResult r = AveragePrecision({{.truth = {}, .detections = {{B(0, 0, 5, 5), 0.9}}}});
  EXPECT_DOUBLE_EQ(r.average_precision, 0.0);
  EXPECT_EQ(r.all.false_positives, 1);
  EXPECT_EQ(r.all.false_negatives, 0);
}

TEST(AveragePrecisionTest, IgnoredTruthIsNeitherFoundNorMissed) {
  // The best detection sits on the ignored box: dropped, not a false positive; the ignored box
  // found or not is no false negative.
  ImageResult image{.truth = {{B(0, 0, 10, 10)}, {B(20, 0, 30, 10), /*ignore=*/true}},
                    .detections = {{B(20, 0, 30, 10), 0.9},
                                   {B(21, 0, 31, 10), 0.85},  // a second one, also dropped
                                   {B(0, 0, 10, 10), 0.8}}};
  ApResult r = AveragePrecision({image});
  EXPECT_DOUBLE_EQ(r.average_precision, 1.0);
  EXPECT_EQ(r.ground_truth, 1);
  EXPECT_EQ(r.detections, 3);
  EXPECT_EQ(r.all.true_positives, 1);
  EXPECT_EQ(r.all.false_positives, 0);
  EXPECT_EQ(r.all.false_negatives, 0);
  image.detections.pop_back();  // only the ignored face found
  r = AveragePrecision({image});
  EXPECT_DOUBLE_EQ(r.average_precision, 0.0);
  EXPECT_EQ(r.all.false_positives, 0);
  EXPECT_EQ(r.all.false_negatives, 1);
}

TEST(AveragePrecisionTest, DuplicateDetectionsAreFalsePositives) {
  // Truth a, b; detections a 0.9, a again 0.8, b 0.7.
  // Curve: (1/2, 1), (1/2, 1/2), (1, 2/3); envelope 1, 2/3, 2/3; AP = 1/2 + 1/2 × 2/3 = 5/6.
  ImageResult image{
      .truth = {{B(0, 0, 10, 10)}, {B(40, 0, 50, 10)}},
      .detections = {{B(0, 0, 10, 10), 0.9}, {B(0, 1, 10, 11), 0.8}, {B(40, 0, 50, 10), 0.7}}};
  ApResult r = AveragePrecision({image});
  EXPECT_NEAR(r.average_precision, 5.0 / 6, 1e-12);
  EXPECT_EQ(r.all.true_positives, 2);
  EXPECT_EQ(r.all.false_positives, 1);
  EXPECT_EQ(r.all.false_negatives, 0);
}

TEST(AveragePrecisionTest, ADetectionTakesAnUnmatchedBoxItOverlapsEnough) {
  // Two close faces, two identical detections: the second takes the face the first left.
  ImageResult image{.truth = {{B(0, 0, 10, 10)}, {B(1, 0, 11, 10)}},
                    .detections = {{B(0, 0, 10, 10), 0.9}, {B(0, 0, 10, 10), 0.8}}};
  ApResult r = AveragePrecision({image});
  EXPECT_DOUBLE_EQ(r.average_precision, 1.0);
  EXPECT_EQ(r.all.true_positives, 2);
}

TEST(AveragePrecisionTest, EqualScoresAreOneStepWhateverTheirOrder) {
  // One face; a hit and a miss with the same score: one point (recall 1, precision 1/2).
  ImageResult hit_first{.truth = {{B(0, 0, 10, 10)}},
                        .detections = {{B(0, 0, 10, 10), 0.5}, {B(50, 0, 60, 10), 0.5}}};
  ImageResult miss_first = hit_first;
  std::swap(miss_first.detections[0], miss_first.detections[1]);
  EXPECT_DOUBLE_EQ(AveragePrecision({hit_first}).average_precision, 0.5);
  EXPECT_DOUBLE_EQ(AveragePrecision({miss_first}).average_precision, 0.5);
  EXPECT_DOUBLE_EQ(AveragePrecision({hit_first}).best_f1.precision, 0.5);
}

}  // namespace
}  // namespace argus::eval
