#include "eval_options.hpp"

#include "embq/atomic_file.hpp"
#include "embq/error.hpp"
#include "path_options.hpp"
#include "text_options.hpp"

namespace embq::cli {

namespace {

// CLI11 reads "-1" or "18446744073709551616" into a uint64_t by wrapping around; a seed
// that silently became another number would make a run impossible to repeat.
const CLI::Validator kSeed(
    [](std::string& value) -> std::string {
        const bool digits = !value.empty() && value.size() <= 19 &&
                            value.find_first_not_of("0123456789") == std::string::npos;
        if (digits && std::stoull(value) <= static_cast<uint64_t>(INT64_MAX)) return "";
        return "a seed is a whole number from 0 to 9223372036854775807, not '" + value + "'";
    },
    "SEED");

}  // namespace

void EvalArguments::add_to(CLI::App& app, bool with_gates) {
    reads_file(app.add_option(
        "--data", inputs.corpus,
        "Corpus: .txt (one text per line) or .jsonl (text, or input_ids both models read as "
        "they are); needed with models"));
    reads_file(app.add_option("--queries", inputs.queries,
                              "Query texts (default: a sample of the corpus, own item excluded)"));
    reads_file(
        app.add_option("--pairs", inputs.pairs,
                       "Labelled TSV: query<TAB>positive (hit@k, MRR) or a<TAB>b<TAB>score (STS)"));
    add_model_text_options(app, text, " (every model)");
    add_batch_size_option(app, inputs.batch_size);
    app.add_option("--k", ks, "Neighbour counts to report, comma-separated")
        ->delimiter(',')
        ->check(CLI::Range(int64_t{1}, int64_t{100000}))
        ->capture_default_str();
    app.add_option("--metric", metric, "Similarity: cosine, ip (inner product) or l2")
        ->check(CLI::IsMember({"cosine", "ip", "l2"}))
        ->capture_default_str();
    app.add_option("--queries-sample", queries_sample, "Corpus rows used as queries (0: all)")
        ->check(CLI::Range(0, 100000000))
        ->capture_default_str();
    app.add_option("--similarity-pairs", similarity_pairs,
                   "Sampled corpus pairs for similarity_spearman")
        ->check(CLI::Range(int64_t{2}, int64_t{100000000}))
        ->capture_default_str();
    app.add_option("--recall-epsilon", recall_epsilon,
                   "eps_recall@K's tolerance: a returned item counts when its FP32 distance is "
                   "within (1 + EPS) of the FP32 K-th neighbour's")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--seed", seed, "Seed for the query and pair samples")
        ->check(kSeed)
        ->capture_default_str();
    app.add_option("--index", index,
                   "exact, ivf[:LISTS], hnsw[:M] (approximate), sq8, sq4, pq[:M] or binary "
                   "(compressed codes), ivf[:LISTS],sq8|sq4|pq[:M] (IVF lists of codes, for "
                   "large corpora); any but exact reports its own recall and the "
                   "candidate's against exact FP32 search")
        ->capture_default_str();
    app.add_option("--rescore", rescore,
                   "Re-rank R x K candidates of the --index with the float vectors (0: none)")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    if (with_gates)
        app.add_option("--gate", gates,
                       "Quality gate NAME OP NUMBER, e.g. 'recall@10>=0.98'; repeatable "
                       "('embq eval --list-metrics' prints every NAME)");
    writes_file(app.add_option("--report-json", report_json,
                               "Write every metric, the gates, versions and input hashes"));
    writes_file(app.add_option("--report-md", report_md,
                               "Write a Markdown summary (CI job summary, PR comment)"));
    writes_file(app.add_option("--report-html", report_html,
                               "Write one self-contained HTML page with plots (no script, "
                               "nothing fetched: open it anywhere, attach it to a CI job)"));
}

std::vector<Gate> EvalArguments::checked_gates() const {
    std::vector<Gate> parsed;
    for (const auto& text : gates) parsed.push_back(parse_gate(text));
    return parsed;
}

EvalOptions EvalArguments::options() const {
    EvalOptions o;
    o.ks = ks;
    o.metric = *parse_similarity_metric(metric);
    o.queries_sample = queries_sample;
    o.similarity_pairs = similarity_pairs;
    o.seed = seed;
    o.recall_epsilon = recall_epsilon;
    o.index = parse_index_spec(index);
    if (rescore > 0 && o.index.kind == IndexSpec::Kind::Exact)
        throw usage_error(
            "--rescore re-ranks what a compressed or approximate --index returns; "
            "exact search has nothing to re-rank (add --index sq8, pq or binary)");
    o.index.rescore = rescore;
    return o;
}

void EvalArguments::write_reports(const std::function<nlohmann::json()>& json,
                                  const std::function<std::string()>& markdown,
                                  const std::function<std::string()>& html) const {
    if (!report_json.empty()) write_file_atomically(report_json, json().dump(2) + "\n");
    if (!report_md.empty()) write_file_atomically(report_md, markdown());
    if (!report_html.empty()) write_file_atomically(report_html, html());
}

EvalInputs EvalArguments::resolved_inputs() const {
    EvalInputs resolved = inputs;
    resolved.model = text;
    return resolved;
}

}  // namespace embq::cli
