// `embq eval`: how well a candidate (quantized) model keeps the baseline (FP32) model's
// neighbours. Embeds a corpus (and optional queries and labelled pairs) with both models,
// or reads vectors computed elsewhere, and computes every metric of gates.hpp's table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "embq/gates.hpp"
#include "embq/metrics.hpp"
#include "embq/model_options.hpp"

namespace embq {

struct EvalOptions {
    std::vector<int64_t> ks{1, 10, 100};
    SimilarityMetric metric = SimilarityMetric::Cosine;
    int64_t queries_sample = 1000;     // corpus rows used as queries; <= 0: every row
    int64_t similarity_pairs = 10000;  // sampled corpus pairs for similarity_spearman
    uint64_t seed = 0;
    IndexSpec index;
    // eps_recall@K's tolerance: a returned row counts when its FP32 distance is within
    // (1 + recall_epsilon) of the FP32 K-th neighbour's (ann-benchmarks uses 0.01).
    double recall_epsilon = 0.01;
};

// A deterministic part of the corpus and of the pairs: records offset, offset + stride,
// offset + 2 * stride, ... of each file, at most `limit` of them (0: no limit). `embq tune`
// searches on one part and reports on another; `embq sensitivity` takes a subset.
struct TextSelection {
    int64_t offset = 0, stride = 1, limit = 0;
    bool everything() const { return offset == 0 && stride == 1 && limit == 0; }
};

struct EvalInputs {
    // Both model files (.pt, .ptl), or both vector inputs holding corpus rows: .npy/.fvecs
    // files or directories of `embed --shard` output (shards.hpp), read in input order.
    std::filesystem::path baseline, candidate;
    std::filesystem::path corpus;   // text or JSONL text; required with models
    std::filesystem::path queries;  // optional: query texts (instead of sampled corpus rows)
    std::filesystem::path pairs;    // optional TSV: query<TAB>positive or a<TAB>b<TAB>score
    EmbeddingModelOptions model;    // card / tokenizer / max_length, for both models
    int64_t batch_size = 32;
    TextSelection selection;  // of the corpus and pairs (not of --queries)
};

// True when both inputs are vector files; a mix of one model and one vector file is a
// Usage error.
bool inputs_are_vectors(const EvalInputs& inputs);

enum class PairsKind { None, Retrieval, Graded };

struct EvalResult {
    MetricValues metrics;
    EvalOptions options;  // as run: the K list includes every K a gate names
    bool from_vectors = false;
    int64_t corpus_rows = 0, query_rows = 0, pair_rows = 0, pool_rows = 0, dim = 0;
    PairsKind pairs_kind = PairsKind::None;
    bool queries_from_corpus = true;  // sampled corpus rows, own item excluded
    uintmax_t baseline_bytes = 0, candidate_bytes = 0;
    double baseline_texts_per_second = 0, candidate_texts_per_second = 0;
    std::string candidate_runs_as;  // EmbeddingModel::runs_as; empty with vector files
    double embed_seconds = 0;   // both models, all texts
    double search_seconds = 0;  // FAISS searches and metric kernels
    // The per-item values behind some metrics, for intervals (sensitivity, tune):
    // "recall@K" and "eps_recall@K" per query, "cosine" per corpus row.
    std::map<std::string, std::vector<double>> per_item;
};

struct EvalProgress {
    std::function<void(size_t total)> start;  // texts to embed, both models together
    std::function<void(size_t done)> update;
};

// Runs the evaluation. `gates` are checked against what the inputs can produce before
// any embedding starts (a gate on hit@1_delta without --pairs is a Usage error), and
// every K a gate names is computed.
EvalResult run_eval(const EvalInputs& inputs, EvalOptions options, const std::vector<Gate>& gates,
                    const EvalProgress& progress = {});

// One baseline against many candidates (embq compare): the texts are read and the
// baseline embedded once, in the constructor; each evaluate() embeds one candidate and
// scores it with the same metrics as run_eval. Throughputs are then measured one model
// after the other rather than interleaved, so throughput_ratio is noisier than run_eval's.
class BaselineEvaluation {
public:
    // `inputs.candidate` is ignored. `progress.start` receives the baseline's text count
    // once the inputs are read, `progress.update` the texts embedded so far.
    BaselineEvaluation(const EvalInputs& inputs, EvalOptions options,
                       const std::vector<Gate>& gates, const EvalProgress& progress = {});
    ~BaselineEvaluation();
    BaselineEvaluation(const BaselineEvaluation&) = delete;
    BaselineEvaluation& operator=(const BaselineEvaluation&) = delete;

    EvalResult evaluate(const std::filesystem::path& candidate,
                        const std::function<void(size_t done)>& on_texts = {}) const;
    size_t texts() const;  // per model, all lists together

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace embq
