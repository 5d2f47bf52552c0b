// What a manifest model answers when it is run by name rather than through an extractor: a
// user's own image embedder, text embedder or detector is registered with a manifest entry alone,
// and its "task" says how its inputs are made and its outputs read.
//
//   image_embedding   image → the first output, L2-normalised: {"embedding", "dimensions"}
//   text_embedding    UTF-8 text → WordPiece ids (preprocessing.tokenizer "wordpiece", vocab
//                     file, lowercase, max_length) → the first output, mean-pooled over the
//                     text's tokens when it is per token ([N, S, D]; postprocessing.pooling "cls"
//                     takes the first token instead), L2-normalised
//   object_detection  image → boxes [N, K, 4] and scores [N, K] or [N, K, C] (+ optional
//                     classes [N, K]), named by postprocessing {boxes, scores, classes} or
//                     called so in the manifest's outputs (else raw outputs, as below), in
//                     postprocessing.box_format (xyxy, yxyx, xywh, cxcywh), normalised (0..1)
//                     unless postprocessing.normalized is false (then model-input pixels);
//                     thresholds and per-class NMS → {"detections": [{label, score, box}]} with
//                     boxes in source-image pixels
//   anything else     the raw outputs {"outputs": {name: {shape, data}}}
//
// Images are stretched to preprocessing.size, or letterboxed with preprocessing.resize
// "letterbox". Pure functions over a ModelPool: thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "engine/image/image_decode.h"
#include "engine/runtime/model_pool.h"
#include "engine/text/wordpiece.h"

namespace argus::engine {

/// How a text model's inputs are made, read once from its manifest entry.
struct TextInput {
  std::unique_ptr<WordPieceTokenizer> tokenizer;
  int ids = 0;                ///< index of the token-id input
  int mask = -1;              ///< index of the attention-mask input, or -1
  int types = -1;             ///< index of the token-type input (all zeros), or -1
  int64_t fixed_length = -1;  ///< the sequence length the graph declares, or -1 (symbolic)
  bool cls_pooling = false;
};

/// True for tasks whose input is text rather than an image.
bool IsTextTask(std::string_view task);

/// The parameter and answer schemas of a model run by name, by its task.
Json TaskParamsSchema(const ModelSpec& spec);
Json TaskOutputSchema(const ModelSpec& spec);

/// `graph_inputs` are the shapes the loaded graph declares (ModelPool::GraphInputShapes).
/// InvalidArgument when the entry's preprocessing does not describe a WordPiece tokenizer, or its
/// inputs are not token ids with an optional mask and token types; NotFound when the vocabulary
/// file is missing.
Result<TextInput> TextInputOf(const ModelSpec& spec,
                              const std::vector<std::vector<int64_t>>& graph_inputs);

/// Runs `spec` on a decoded image (every task but text ones); `params` are valid against
/// TaskParamsSchema(spec).
Result<Json> RunImageModel(ModelPool& pool, const ModelSpec& spec, const DecodedImage& image,
                           const Json& params, std::chrono::steady_clock::time_point deadline);

/// Runs a text_embedding model on `text`. InvalidArgument for a text without any token.
Result<Json> RunTextModel(ModelPool& pool, const ModelSpec& spec, const TextInput& input,
                          std::string_view text, std::chrono::steady_clock::time_point deadline);

}  // namespace argus::engine
