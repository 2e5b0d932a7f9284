#include "embq/metric_catalogue.hpp"

#include "core/suggest.hpp"
#include "core/text_table.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

// "recall@10" -> ("recall@K", 10); names without '@' come back unchanged with k = 0.
std::pair<std::string, int64_t> split_k(const std::string& name) {
    const auto at = name.find('@');
    if (at == std::string::npos) return {name, 0};
    size_t end = at + 1;
    while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
    const std::string digits = name.substr(at + 1, end - at - 1);
    if (digits.empty() || digits.size() > 6 || digits[0] == '0') return {name, -1};
    return {name.substr(0, at + 1) + "K" + name.substr(end), std::stoll(digits)};
}

}  // namespace

const std::vector<MetricInfo>& metric_catalogue() {
    static const std::vector<MetricInfo> table = {
        {"recall@K",
         "neighbour agreement: share of each query's FP32 top-K that the candidate's "
         "top-K keeps (each query's own item excluded)"},
        {"eps_recall@K",
         "recall@K that forgives near-ties (ann-benchmarks' epsilon recall): a returned item "
         "counts when its FP32 distance is within (1 + eps) of the FP32 K-th neighbour's, "
         "eps from --recall-epsilon (default 0.01)"},
        {"cross_recall@K",
         "index compatibility: candidate query vectors searched in an index of the "
         "FP32 corpus vectors, scored against the FP32 top-K"},
        {"index_recall@K",
         "the approximate or compressed index's own recall@K against exact search (FP32 "
         "vectors in both)",
         MetricNeeds::ApproxIndex},
        {"search_recall@K",
         "the candidate's vectors in the index against exact search of the FP32 vectors: "
         "what a search system serving the candidate through this index keeps",
         MetricNeeds::ApproxIndex},
        {"index_code_bytes",
         "bytes the index stores per vector for its codes (exact, ivf, hnsw: 4 x dim; sq8: "
         "dim; sq4: dim / 2; pq:M: M; binary: dim / 8)",
         MetricNeeds::ApproxIndex, false},
        {"cosine.mean", "mean cosine between each item's FP32 and candidate vectors"},
        {"cosine.min", "lowest per-item cosine"},
        {"cosine.p1", "1st percentile of the per-item cosine"},
        {"cosine.p5", "5th percentile of the per-item cosine"},
        {"cosine.p50", "median per-item cosine"},
        {"nonfinite_rows",
         "candidate vectors (all lists) holding a NaN or an infinity; the other metrics score "
         "them as zero vectors, and while any exist every gate fails",
         MetricNeeds::Nothing, false},
        {"similarity_spearman",
         "Spearman correlation of FP32 and candidate similarities over sampled "
         "corpus pairs"},
        {"size_ratio", "candidate model file size / baseline model file size", MetricNeeds::Models,
         false},
        {"throughput_ratio",
         "candidate texts/s / baseline texts/s embedding the corpus, measured "
         "side by side in this run",
         MetricNeeds::Models},
        {"hit@K_baseline",
         "share of queries whose positive is in the baseline's top K of the pool "
         "(the distinct positives)",
         MetricNeeds::RetrievalPairs},
        {"hit@K_candidate", "as hit@K_baseline, for the candidate", MetricNeeds::RetrievalPairs},
        {"hit@K_delta", "hit@K_candidate - hit@K_baseline (-0.01 is one point worse)",
         MetricNeeds::RetrievalPairs},
        {"mrr@10_baseline", "mean reciprocal rank of the positive within the baseline's top 10",
         MetricNeeds::RetrievalPairs},
        {"mrr@10_candidate", "as mrr@10_baseline, for the candidate", MetricNeeds::RetrievalPairs},
        {"mrr@10_delta", "mrr@10_candidate - mrr@10_baseline", MetricNeeds::RetrievalPairs},
        {"sts_spearman_baseline",
         "Spearman correlation of the baseline's pair similarities with the "
         "gold scores",
         MetricNeeds::GradedPairs},
        {"sts_spearman_candidate", "as sts_spearman_baseline, for the candidate",
         MetricNeeds::GradedPairs},
        {"sts_spearman_delta", "sts_spearman_candidate - sts_spearman_baseline",
         MetricNeeds::GradedPairs},
    };
    return table;
}

std::string describe(MetricNeeds needs) {
    switch (needs) {
        case MetricNeeds::Nothing: return "any run";
        case MetricNeeds::Models: return "model files (not vectors)";
        case MetricNeeds::RetrievalPairs: return "--pairs with query<TAB>positive lines";
        case MetricNeeds::GradedPairs: return "--pairs with a<TAB>b<TAB>score lines";
        case MetricNeeds::ApproxIndex: return "an --index other than exact";
    }
    return "?";
}

std::string format_metric_catalogue() {
    TextTable table({"metric", "needs", "meaning"});
    for (const auto& info : metric_catalogue())
        table.add_row({info.pattern, describe(info.needs), info.description});
    return table.render() +
           "K is any positive integer: --k sets which are reported, and a gate's K is always "
           "computed.\n"
           "Gates: --gate 'NAME>=NUMBER' (also >, <=, <), repeatable; a gate on a metric the run "
           "cannot\n"
           "produce is a usage error. Deltas are candidate - baseline as fractions: "
           "hit@1_delta>=-0.01\n"
           "allows one point of loss.\n";
}

ResolvedMetric resolve_metric(const std::string& name) {
    const auto [pattern, k] = split_k(name);
    // mrr@10 is a fixed name, not a K family.
    for (const auto& info : metric_catalogue()) {
        if (info.pattern == name) return {&info, 0};
        if (k > 0 && info.pattern == pattern) return {&info, k};
    }
    std::vector<std::string> names;
    for (const auto& info : metric_catalogue()) {
        const auto at = info.pattern.find("@K");
        names.push_back(at == std::string::npos
                            ? info.pattern
                            : info.pattern.substr(0, at) + "@10" + info.pattern.substr(at + 2));
    }
    const auto hint = closest_match(name, names);
    throw usage_error("unknown metric '" + name + "'" +
                      (hint ? "; did you mean '" + *hint + "'?" : "") +
                      " ('embq eval --list-metrics' prints every name)");
}

void MetricValues::set(const std::string& name, double value) {
    for (auto& [n, v] : values_)
        if (n == name) {
            v = value;
            return;
        }
    values_.emplace_back(name, value);
}

std::optional<double> MetricValues::get(const std::string& name) const {
    for (const auto& [n, v] : values_)
        if (n == name) return v;
    return std::nullopt;
}

}  // namespace embq
