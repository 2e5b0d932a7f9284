// What `embq eval` and `embq compare` share: the data options (corpus, queries, pairs,
// card, tokenizer), the metric options (--k, --metric, --queries-sample, --seed, --index, --rescore),
// gates and report paths, declared once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "embq/eval.hpp"
#include "embq/gates.hpp"

namespace embq::cli {

struct EvalArguments {
    EvalInputs inputs;
    EmbeddingModelOptions text;  // --card, --tokenizer, --max-length
    std::string metric = "cosine", index = "exact";
    std::vector<int64_t> ks{1, 10, 100};
    int64_t queries_sample = 1000, similarity_pairs = 10000;
    uint64_t seed = 0;
    double recall_epsilon = 0.01;
    int64_t rescore = 0;
    std::vector<std::string> gates;
    std::string report_json, report_md, report_html;

    // `with_gates`: also --gate (eval, compare, tune; not sensitivity).
    void add_to(CLI::App& app, bool with_gates = true);
    // Parses the gates: usage errors before any work.
    std::vector<Gate> checked_gates() const;
    EvalOptions options() const;
    // Writes --report-json, --report-md and --report-html (atomically) where they were
    // asked for; the arguments are made only then.
    void write_reports(const std::function<nlohmann::json()>& json,
                       const std::function<std::string()>& markdown,
                       const std::function<std::string()>& html) const;
    EvalInputs resolved_inputs() const;  // inputs with the card/tokenizer/max-length options
};

}  // namespace embq::cli
