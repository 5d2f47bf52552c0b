// Detection quality: PASCAL VOC-style average precision over a set of images, for tests that
// score a detector on annotated media. Pure functions of their arguments: thread-safe.
#pragma once

#include <vector>

namespace argus::eval {

/// An axis-aligned box, corners in pixels (x1 < x2, y1 < y2), continuous coordinates.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

/// Intersection over union; 0 when either box is empty.
double IoU(const Box& a, const Box& b);

struct GroundTruth {
  Box box;
  /// "Don't care" (VOC's difficult, dlib's ignore='1'): a detection matching it is neither a true
  /// nor a false positive, and missing it is not a false negative.
  bool ignore = false;
};

struct Detection {
  Box box;
  double score = 0;
};

/// One annotated image and what the detector found in it.
struct ImageResult {
  std::vector<GroundTruth> truth;
  std::vector<Detection> detections;
};

/// Counts when every detection scoring at least `score_threshold` is kept.
struct OperatingPoint {
  double score_threshold = 0;
  double precision = 0;  ///< tp / (tp + fp); 0 with no detection
  double recall = 0;     ///< tp / (tp + fn); 0 with no ground truth
  double f1 = 0;
  int true_positives = 0;
  int false_positives = 0;
  int false_negatives = 0;
};

struct ApResult {
  /// All-point interpolated AP (VOC 2010+): the area under the precision-recall curve after
  /// making precision non-increasing in recall. 0 when there is no (non-ignored) ground truth.
  double average_precision = 0;
  int ground_truth = 0;    ///< non-ignored boxes
  int detections = 0;      ///< all detections, including those matching ignored boxes
  OperatingPoint best_f1;  ///< the score threshold with the highest F1 (the highest such score)
  OperatingPoint all;      ///< every detection kept
};

/// Matches detections to ground truth greedily, best score first over all images: a detection
/// takes the unmatched, non-ignored box it overlaps most at IoU ≥ `iou_threshold` (true
/// positive); failing that, one that overlaps an ignored box at that IoU is dropped; anything
/// else is a false positive (including a second detection of a box already matched).
/// Detections with equal scores form one step of the curve (one threshold). `best_f1` is `all`
/// when no threshold gives a true positive.
ApResult AveragePrecision(const std::vector<ImageResult>& images, double iou_threshold = 0.5);

}  // namespace argus::eval
