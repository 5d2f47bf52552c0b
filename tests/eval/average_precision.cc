#include "tests/eval/average_precision.h"

#include <algorithm>
#include <cstddef>

namespace argus::eval {
namespace {

enum class Outcome { kTruePositive, kFalsePositive, kIgnored };

// What one detection of an image is, given the boxes earlier (better) detections matched.
Outcome Match(const Box& box, const std::vector<GroundTruth>& truth, std::vector<bool>& matched,
              double iou_threshold) {
  int best = -1;
  double best_iou = iou_threshold;
  bool on_ignored = false;
  for (size_t g = 0; g < truth.size(); ++g) {
    const double iou = IoU(box, truth[g].box);
    if (iou < iou_threshold) continue;
    if (truth[g].ignore) {
      on_ignored = true;
    } else if (!matched[g] && iou >= best_iou) {
      best = static_cast<int>(g);
      best_iou = iou;
    }
  }
  if (best >= 0) {
    matched[best] = true;
    return Outcome::kTruePositive;
  }
  return on_ignored ? Outcome::kIgnored : Outcome::kFalsePositive;
}

OperatingPoint Point(double threshold, int tp, int fp, int ground_truth) {
  OperatingPoint p;
  p.score_threshold = threshold;
  p.true_positives = tp;
  p.false_positives = fp;
  p.false_negatives = ground_truth - tp;
  p.precision = tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : 0;
  p.recall = ground_truth > 0 ? static_cast<double>(tp) / ground_truth : 0;
  p.f1 = p.precision + p.recall > 0 ? 2 * p.precision * p.recall / (p.precision + p.recall) : 0;
  return p;
}

}  // namespace

double IoU(const Box& a, const Box& b) {
  const double area_a = std::max(0.0, a.x2 - a.x1) * std::max(0.0, a.y2 - a.y1);
  const double area_b = std::max(0.0, b.x2 - b.x1) * std::max(0.0, b.y2 - b.y1);
  if (area_a <= 0 || area_b <= 0) return 0;
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  return inter / (area_a + area_b - inter);
}

ApResult AveragePrecision(const std::vector<ImageResult>& images, double iou_threshold) {
  struct Ranked {
    double score;
    size_t image;
    size_t index;
  };
  ApResult result;
  std::vector<Ranked> ranked;
  std::vector<std::vector<bool>> matched;
  for (size_t i = 0; i < images.size(); ++i) {
    for (const auto& t : images[i].truth) result.ground_truth += t.ignore ? 0 : 1;
    for (size_t d = 0; d < images[i].detections.size(); ++d) {
      ranked.push_back({images[i].detections[d].score, i, d});
    }
    matched.emplace_back(images[i].truth.size(), false);
  }
  result.detections = static_cast<int>(ranked.size());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.score > b.score; });

  // One point of the curve per distinct score, best first.
  std::vector<OperatingPoint> curve;
  int tp = 0, fp = 0;
  for (size_t k = 0; k < ranked.size(); ++k) {
    const ImageResult& image = images[ranked[k].image];
    switch (Match(image.detections[ranked[k].index].box, image.truth, matched[ranked[k].image],
                  iou_threshold)) {
      case Outcome::kTruePositive:
        ++tp;
        break;
      case Outcome::kFalsePositive:
        ++fp;
        break;
      case Outcome::kIgnored:
        break;
    }
    const bool last_of_score = k + 1 == ranked.size() || ranked[k + 1].score != ranked[k].score;
    if (last_of_score && tp + fp > 0) {
      curve.push_back(Point(ranked[k].score, tp, fp, result.ground_truth));
    }
  }
  result.all = Point(ranked.empty() ? 0 : ranked.back().score, tp, fp, result.ground_truth);
  result.best_f1 = result.all;
  double best_f1 = 0;
  for (const auto& p : curve) {
    if (p.f1 > best_f1) {
      best_f1 = p.f1;
      result.best_f1 = p;
    }
  }
  if (result.ground_truth == 0) return result;

  // All-point interpolation: precision at recall r is the best precision at any recall ≥ r.
  std::vector<double> envelope(curve.size());
  double best = 0;
  for (size_t k = curve.size(); k-- > 0;) {
    best = std::max(best, curve[k].precision);
    envelope[k] = best;
  }
  double previous_recall = 0;
  for (size_t k = 0; k < curve.size(); ++k) {
    result.average_precision += (curve[k].recall - previous_recall) * envelope[k];
    previous_recall = curve[k].recall;
  }
  return result;
}

}  // namespace argus::eval
