#include "embq/eval.hpp"

#include <algorithm>
#include <map>
#include <random>

#include <spdlog/spdlog.h>

#include "core/clock.hpp"

#include "embq/dataset.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/shards.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;

bool is_vector_input(const fs::path& p) {
    const auto ext = p.extension().string();
    return ext == ".npy" || ext == ".fvecs" || is_shard_set(p);
}

// Corpus or query items: texts, or JSONL records of input_ids that go to both models as
// they are.
std::vector<Record> read_items(const fs::path& path) {
    DatasetReader reader(path, dataset_format_for(path));
    std::vector<Record> items;
    Record record;
    while (reader.next(record)) {
        if (!record.text_b.empty())
            throw usage_error(path.string() +
                              ": TSV pairs go to --pairs; --data and --queries "
                              "take one text per line (.txt) or JSONL");
        items.push_back(std::move(record));
    }
    if (items.empty()) throw input_error(path.string() + ": no texts (every line is empty)");
    return items;
}

// Labelled pairs. Retrieval: texts_a are queries, pool is the distinct texts_b in order of
// first appearance, positive[i] its row. Graded: a, b and a gold score per line.
struct Pairs {
    PairsKind kind = PairsKind::None;
    std::vector<std::string> texts_a, pool;
    std::vector<int64_t> positive;     // Retrieval
    std::vector<std::string> texts_b;  // Graded
    std::vector<double> gold;          // Graded
};

Pairs read_pairs(const fs::path& path) {
    DatasetReader reader(path, DatasetFormat::TsvPairs);
    Pairs pairs;
    std::map<std::string, int64_t> pool_row;
    Record record;
    while (reader.next(record)) {
        const PairsKind kind = record.score ? PairsKind::Graded : PairsKind::Retrieval;
        if (pairs.kind != PairsKind::None && kind != pairs.kind)
            throw input_error(path.string() + ":" + std::to_string(record.line) +
                              ": mixes lines with and without a score; use query<TAB>positive "
                              "lines or a<TAB>b<TAB>score lines, not both");
        pairs.kind = kind;
        pairs.texts_a.push_back(record.text);
        if (kind == PairsKind::Graded) {
            pairs.texts_b.push_back(record.text_b);
            pairs.gold.push_back(*record.score);
        } else {
            const auto [it, added] =
                pool_row.emplace(record.text_b, static_cast<int64_t>(pairs.pool.size()));
            if (added) pairs.pool.push_back(record.text_b);
            pairs.positive.push_back(it->second);
        }
    }
    if (pairs.kind == PairsKind::None)
        throw input_error(path.string() + ": no pairs (every line is empty)");
    return pairs;
}

// The texts of an evaluation, read before any model is loaded.
struct EvalTexts {
    std::vector<Record> corpus, queries;
    std::filesystem::path corpus_source, queries_source;  // for messages naming a line
    Pairs pairs;
    bool pre_tokenized() const {
        for (const auto* list : {&corpus, &queries})
            for (const Record& r : *list)
                if (r.input_ids) return true;
        return false;
    }
    size_t count() const {
        return corpus.size() + queries.size() + pairs.texts_a.size() + pairs.pool.size() +
               pairs.texts_b.size();
    }
};

// Whether record `index` (counted from 0) is in the selection.
bool selected(const TextSelection& sel, size_t index) {
    const auto i = static_cast<int64_t>(index);
    if (i < sel.offset || (i - sel.offset) % sel.stride != 0) return false;
    return sel.limit <= 0 || (i - sel.offset) / sel.stride < sel.limit;
}

template <class T>
std::vector<T> select_records(std::vector<T> all, const TextSelection& sel) {
    std::vector<T> kept;
    for (size_t i = 0; i < all.size(); ++i)
        if (selected(sel, i)) kept.push_back(std::move(all[i]));
    return kept;
}

// The selected pairs, with the retrieval pool rebuilt from the positives kept.
Pairs select_pairs(const Pairs& all, const TextSelection& sel) {
    Pairs out;
    out.kind = all.kind;
    std::map<int64_t, int64_t> pool_row;  // old pool row -> new
    for (size_t i = 0; i < all.texts_a.size(); ++i) {
        if (!selected(sel, i)) continue;
        out.texts_a.push_back(all.texts_a[i]);
        if (all.kind == PairsKind::Graded) {
            out.texts_b.push_back(all.texts_b[i]);
            out.gold.push_back(all.gold[i]);
            continue;
        }
        const int64_t old = all.positive[i];
        const auto [it, added] = pool_row.emplace(old, static_cast<int64_t>(out.pool.size()));
        if (added) out.pool.push_back(all.pool[old]);
        out.positive.push_back(it->second);
    }
    return out;
}

EvalTexts read_eval_texts(const EvalInputs& inputs) {
    if (inputs.corpus.empty())
        throw usage_error("evaluating models needs a corpus: pass --data FILE");
    const TextSelection& sel = inputs.selection;
    EMBQ_ASSERT(sel.offset >= 0 && sel.stride >= 1);
    EvalTexts texts;
    if (!inputs.pairs.empty()) {
        texts.pairs = read_pairs(inputs.pairs);
        if (!sel.everything()) texts.pairs = select_pairs(texts.pairs, sel);
        if (texts.pairs.texts_a.empty())
            throw input_error(inputs.pairs.string() + ": no pairs in the selected part");
    }
    texts.corpus_source = inputs.corpus;
    texts.corpus = select_records(read_items(inputs.corpus), sel);
    if (!sel.everything() && texts.corpus.size() < 2)
        throw input_error(inputs.corpus.string() + ": " + std::to_string(texts.corpus.size()) +
                          " text(s) in the selected part; neighbours need at least 2");
    texts.queries_source = inputs.queries;
    if (!inputs.queries.empty()) texts.queries = read_items(inputs.queries);
    return texts;
}

// What a model reads pre-tokenized records with.
struct ModelInputs {
    std::string name;
    std::vector<std::string> inputs;  // the card's, in forward()'s order
    int64_t token_rows = 0;
};

ModelInputs inputs_of(const EmbeddingModel& model) {
    return {model.path.filename().string(), model.embedder.card().inputs,
            model.embedder.token_rows()};
}

// Records of input_ids reach both models unchanged, so both must read the same inputs from
// the same table: a quantized model and its FP32 source do; two different models need texts.
void check_models_share_inputs(const EvalTexts& texts, const ModelInputs& baseline,
                               const ModelInputs& candidate) {
    if (!texts.pre_tokenized()) return;
    if (baseline.inputs == candidate.inputs && baseline.token_rows == candidate.token_rows) return;
    throw usage_error("pre-tokenized input_ids go to both models as they are, but " +
                      baseline.name + " and " + candidate.name + " do not read the same inputs (" +
                      (baseline.inputs != candidate.inputs
                           ? std::string("their cards name other inputs")
                           : "token tables of " + std::to_string(baseline.token_rows) + " and " +
                                 std::to_string(candidate.token_rows) + " rows") +
                      "); give texts and each model's tokenizer instead");
}

// One list embedded by one model: texts through its tokenizer, records as they come.
Vectors embed_items(EmbeddingModel& model, const std::vector<std::string>& texts,
                    const fs::path& /*source*/, const EmbedOptions& options) {
    return embed_texts(model, texts, options);
}
Vectors embed_items(EmbeddingModel& model, const std::vector<Record>& records,
                    const fs::path& source, const EmbedOptions& options) {
    return embed_records(model, records, source, options);
}

void check_gates_are_computable(const std::vector<Gate>& gates, bool from_vectors, PairsKind pairs,
                                const IndexSpec& index) {
    for (const auto& gate : gates) {
        const MetricNeeds needs = gate.resolved.info->needs;
        const bool available =
            needs == MetricNeeds::Nothing || (needs == MetricNeeds::Models && !from_vectors) ||
            (needs == MetricNeeds::RetrievalPairs && pairs == PairsKind::Retrieval) ||
            (needs == MetricNeeds::GradedPairs && pairs == PairsKind::Graded) ||
            (needs == MetricNeeds::ApproxIndex && index.kind != IndexSpec::Kind::Exact);
        if (!available)
            throw usage_error("--gate '" + gate.text + "': " + gate.metric + " needs " +
                              describe(needs));
    }
}

// Both models embed the same texts chunk by chunk, taking turns going first, so that
// their throughputs are measured side by side under the same machine load.
struct BothEmbedded {
    VectorTable baseline, candidate;
};

class SideBySideEmbedder {
public:
    SideBySideEmbedder(EmbeddingModel& baseline, EmbeddingModel& candidate, int64_t batch_size,
                       const EvalProgress& progress)
        : baseline_(baseline), candidate_(candidate), progress_(progress) {
        options_.batch_size = batch_size;
    }

    template <class Item>
    BothEmbedded embed(const std::vector<Item>& items, const fs::path& source) {
        constexpr size_t kChunk = 1024;
        Vectors baseline, candidate;
        for (size_t start = 0; start < items.size(); start += kChunk) {
            const std::vector<Item> chunk(items.begin() + start,
                                          items.begin() + std::min(items.size(), start + kChunk));
            const bool baseline_first = (chunks_++ % 2) == 0;
            if (baseline_first) append(baseline, run(baseline_, chunk, source, baseline_seconds_));
            append(candidate, run(candidate_, chunk, source, candidate_seconds_));
            if (!baseline_first) append(baseline, run(baseline_, chunk, source, baseline_seconds_));
        }
        return {std::move(baseline), std::move(candidate)};
    }

    double baseline_seconds() const { return baseline_seconds_; }
    double candidate_seconds() const { return candidate_seconds_; }

private:
    template <class Item>
    Vectors run(EmbeddingModel& model, const std::vector<Item>& chunk, const fs::path& source,
                double& seconds) {
        const auto t0 = Clock::now();
        Vectors v = embed_items(model, chunk, source, options_);
        seconds += seconds_since(t0);
        done_ += chunk.size();
        if (progress_.update) progress_.update(done_);
        return v;
    }

    static void append(Vectors& to, const Vectors& rows) {
        if (to.rows == 0) to.dim = rows.dim;
        EMBQ_ASSERT(to.dim == rows.dim);
        to.rows += rows.rows;
        to.data.insert(to.data.end(), rows.data.begin(), rows.data.end());
    }

    EmbeddingModel& baseline_;
    EmbeddingModel& candidate_;
    const EvalProgress& progress_;
    EmbedOptions options_;
    double baseline_seconds_ = 0, candidate_seconds_ = 0;
    size_t chunks_ = 0, done_ = 0;
};

std::string k_name(const std::string& prefix, int64_t k, const std::string& suffix = "") {
    return prefix + "@" + std::to_string(k) + suffix;
}

// Every K the gates name joins the requested ones.
std::vector<int64_t> ks_with_gates(std::vector<int64_t> ks, const std::vector<Gate>& gates) {
    for (const auto& gate : gates)
        if (gate.resolved.k > 0) ks.push_back(gate.resolved.k);
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    return ks;
}

// Corpus agreement: recall@K, cross_recall@K, index_recall@K and search_recall@K (with an
// approximate or compressed index), cosine, similarity_spearman.
void corpus_metrics(const BothEmbedded& corpus, const BothEmbedded* queries,
                    const EvalOptions& options, EvalResult& result) {
    const int64_t rows = corpus.baseline.rows();
    std::vector<int64_t> query_rows;
    BothEmbedded sampled;
    const BothEmbedded* q = queries;
    if (!q) {
        const int64_t n = options.queries_sample > 0 ? options.queries_sample : rows;
        query_rows = sample_rows(rows, n, options.seed);
        sampled.baseline = gather_rows(corpus.baseline, query_rows);
        sampled.candidate = gather_rows(corpus.candidate, query_rows);
        q = &sampled;
    }
    const std::vector<int64_t>* exclude = queries ? nullptr : &query_rows;
    result.query_rows = q->baseline.rows();
    result.queries_from_corpus = queries == nullptr;

    // Queries past the corpus size have no K neighbours: cap K, report the requested name.
    const int64_t max_k = options.ks.back();
    const int64_t searchable = rows - (exclude ? 1 : 0);
    if (searchable < 1) throw input_error("the corpus needs at least 2 rows to have neighbours");
    const int64_t k = std::min(max_k, searchable);
    if (k < max_k)
        spdlog::warn(
            "the corpus has only {} rows to search; recall@K for K > {} is computed at K = {}",
            searchable, k, k);

    // One index at a time: a million-row corpus holds one index's codes, not two.
    Neighbours truth, cross, found;
    {
        const NeighbourIndex baseline(corpus.baseline, options.metric, options.index);
        truth = baseline.search(q->baseline, k, exclude);
        cross = baseline.search(q->candidate, k, exclude);
    }
    found = search(corpus.candidate, q->candidate, k, options.metric, options.index, exclude);
    for (const int64_t kk : options.ks) {
        std::vector<double> per_query = recall_per_query(truth, found, std::min(kk, k));
        result.metrics.set(k_name("recall", kk), mean_of(per_query));
        result.per_item[k_name("recall", kk)] = std::move(per_query);
    }
    for (const int64_t kk : options.ks) {
        std::vector<double> per_query =
            epsilon_recall_per_query(truth, found, corpus.baseline, q->baseline, std::min(kk, k),
                                     options.recall_epsilon, options.metric);
        result.metrics.set(k_name("eps_recall", kk), mean_of(per_query));
        result.per_item[k_name("eps_recall", kk)] = std::move(per_query);
    }
    for (const int64_t kk : options.ks)
        result.metrics.set(k_name("cross_recall", kk), recall_at_k(truth, cross, std::min(kk, k)));
    if (options.index.kind != IndexSpec::Kind::Exact) {
        // The index's own loss (FP32 vectors in it against exact search), and what a search
        // system serving the candidate through it keeps of exact FP32 search: both losses.
        const Neighbours exact =
            search(corpus.baseline, q->baseline, k, options.metric, {}, exclude);
        for (const int64_t kk : options.ks) {
            result.metrics.set(k_name("index_recall", kk),
                               recall_at_k(exact, truth, std::min(kk, k)));
            result.metrics.set(k_name("search_recall", kk),
                               recall_at_k(exact, found, std::min(kk, k)));
        }
        result.metrics.set("index_code_bytes",
                           static_cast<double>(options.index.code_bytes(corpus.baseline.dim())));
    }

    std::vector<double> per_row = rowwise_cosines(corpus.baseline, corpus.candidate);
    const CosineSummary cos = summarise_cosines(per_row);
    result.per_item["cosine"] = std::move(per_row);
    result.metrics.set("cosine.mean", cos.mean);
    result.metrics.set("cosine.min", cos.min);
    result.metrics.set("cosine.p1", cos.p1);
    result.metrics.set("cosine.p5", cos.p5);
    result.metrics.set("cosine.p50", cos.p50);

    // Random pairs (i, j), i != j, the same for both models. Drawn directly (not by
    // sampling from all rows^2 pairs) so a large corpus costs nothing extra.
    std::vector<int64_t> a, b;
    std::mt19937_64 rng(options.seed + 1);
    for (int64_t p = 0; p < options.similarity_pairs; ++p) {
        const auto i = static_cast<int64_t>(rng() % static_cast<uint64_t>(rows));
        auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(rows - 1));
        a.push_back(i);
        b.push_back(j >= i ? j + 1 : j);
    }
    result.metrics.set(
        "similarity_spearman",
        spearman(pair_similarities(corpus.baseline, a, corpus.baseline, b, options.metric),
                 pair_similarities(corpus.candidate, a, corpus.candidate, b, options.metric)));
}

void retrieval_metrics(const Pairs& pairs, const BothEmbedded& queries, const BothEmbedded& pool,
                       const EvalOptions& options, EvalResult& result) {
    const int64_t k =
        std::min<int64_t>(std::max<int64_t>(options.ks.back(), 10), pool.baseline.rows());
    std::vector<int64_t> ks;
    for (const int64_t kk : options.ks)
        if (kk <= k) ks.push_back(kk);
    const RetrievalScores base =
        score_retrieval(search(pool.baseline, queries.baseline, k, options.metric, options.index),
                        pairs.positive, ks);
    const RetrievalScores cand =
        score_retrieval(search(pool.candidate, queries.candidate, k, options.metric, options.index),
                        pairs.positive, ks);
    for (size_t i = 0; i < ks.size(); ++i) {
        result.metrics.set(k_name("hit", ks[i], "_baseline"), base.hit_at[i].second);
        result.metrics.set(k_name("hit", ks[i], "_candidate"), cand.hit_at[i].second);
        result.metrics.set(k_name("hit", ks[i], "_delta"),
                           cand.hit_at[i].second - base.hit_at[i].second);
    }
    result.metrics.set("mrr@10_baseline", base.mrr_at_10);
    result.metrics.set("mrr@10_candidate", cand.mrr_at_10);
    result.metrics.set("mrr@10_delta", cand.mrr_at_10 - base.mrr_at_10);
}

void graded_metrics(const Pairs& pairs, const BothEmbedded& a, const BothEmbedded& b,
                    const EvalOptions& options, EvalResult& result) {
    std::vector<int64_t> rows(pairs.gold.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
    const double base =
        spearman(pair_similarities(a.baseline, rows, b.baseline, rows, options.metric), pairs.gold);
    const double cand = spearman(
        pair_similarities(a.candidate, rows, b.candidate, rows, options.metric), pairs.gold);
    result.metrics.set("sts_spearman_baseline", base);
    result.metrics.set("sts_spearman_candidate", cand);
    result.metrics.set("sts_spearman_delta", cand - base);
}

// A vector file, mapped into memory, or a shard set's rows put back in input order.
VectorTable read_vector_input(const fs::path& path, std::optional<ShardSet>& set) {
    if (!is_shard_set(path)) return VectorTable::map(path);
    set = read_shard_set(path);
    return std::move(set->vectors);
}

BothEmbedded read_vector_pair(const EvalInputs& inputs) {
    std::optional<ShardSet> baseline_set, candidate_set;
    BothEmbedded v{read_vector_input(inputs.baseline, baseline_set),
                   read_vector_input(inputs.candidate, candidate_set)};
    if (baseline_set && candidate_set &&
        baseline_set->manifest["input"]["sha256"] != candidate_set->manifest["input"]["sha256"])
        throw input_error(inputs.baseline.string() + " and " + inputs.candidate.string() +
                          " are shards of different inputs (" +
                          baseline_set->manifest["input"]["path"].get<std::string>() + ", " +
                          candidate_set->manifest["input"]["path"].get<std::string>() +
                          "); embed the same corpus with both models");
    if (v.baseline.rows() != v.candidate.rows())
        throw input_error(inputs.baseline.string() + " has " + std::to_string(v.baseline.rows()) +
                          " rows but " + inputs.candidate.string() + " has " +
                          std::to_string(v.candidate.rows()) +
                          "; row i of each must be the same item");
    return v;
}

}  // namespace

bool inputs_are_vectors(const EvalInputs& inputs) {
    const bool base = is_vector_input(inputs.baseline), cand = is_vector_input(inputs.candidate);
    if (base != cand)
        throw usage_error(
            "--baseline and --candidate must both be models (.pt) or both be vectors "
            "(.npy/.fvecs or shard directories); got " +
            inputs.baseline.string() + " and " + inputs.candidate.string());
    return base;
}

namespace {

// Everything both kinds of run check before embedding: K list, gates against inputs.
EvalOptions prepared_options(EvalOptions options, const std::vector<Gate>& gates, bool from_vectors,
                             PairsKind pairs, EvalResult& result) {
    if (options.ks.empty()) throw usage_error("--k needs at least one value");
    options.ks = ks_with_gates(options.ks, gates);
    check_gates_are_computable(gates, from_vectors, pairs, options.index);
    result.from_vectors = from_vectors;
    result.pairs_kind = pairs;
    result.options = options;
    return options;
}

// The one finite-value check of eval. A baseline vector that is not finite is an input
// error: the reference itself is broken. Candidate rows that are not finite are counted
// and scored as zero vectors (metrics stay defined; FAISS and sorting never see a NaN).
int64_t neutralise_nonfinite(BothEmbedded& v, const char* list) {
    const std::vector<int64_t> broken_baseline = nonfinite_rows(v.baseline);
    if (!broken_baseline.empty())
        throw input_error("the baseline's " + std::string(list) + " vector " +
                          std::to_string(broken_baseline.front()) + " (0-based; " +
                          std::to_string(broken_baseline.size()) +
                          " in all) holds NaN or Inf; the FP32 reference must be finite, so "
                          "check the baseline model or vector file");
    const std::vector<int64_t> broken = nonfinite_rows(v.candidate);
    if (!broken.empty()) {
        spdlog::warn(
            "the candidate's {} vectors hold NaN or Inf in {} rows (first: row {}); "
            "they are scored as zero vectors and every gate fails",
            list, broken.size(), broken.front());
        v.candidate.zero_rows(broken);
    }
    return static_cast<int64_t>(broken.size());
}

// Every metric from vectors already embedded (corpus required; the rest as the texts have).
void score(const EvalTexts& texts, BothEmbedded corpus, BothEmbedded queries, BothEmbedded pairs_a,
           BothEmbedded pairs_b, const EvalOptions& options, EvalResult& result) {
    if (corpus.baseline.dim() != corpus.candidate.dim())
        throw input_error("the baseline gives " + std::to_string(corpus.baseline.dim()) +
                          "-dimensional vectors but the candidate gives " +
                          std::to_string(corpus.candidate.dim()) + "; they cannot be compared");
    result.corpus_rows = corpus.baseline.rows();
    result.dim = corpus.baseline.dim();
    result.pair_rows = static_cast<int64_t>(texts.pairs.texts_a.size());
    result.pool_rows = static_cast<int64_t>(texts.pairs.pool.size());
    const auto t0 = Clock::now();
    const int64_t nonfinite =
        neutralise_nonfinite(corpus, "corpus") + neutralise_nonfinite(queries, "query") +
        neutralise_nonfinite(pairs_a, "pairs") + neutralise_nonfinite(pairs_b, "pairs");
    result.metrics.set("nonfinite_rows", static_cast<double>(nonfinite));
    corpus_metrics(corpus, texts.queries.empty() ? nullptr : &queries, options, result);
    if (texts.pairs.kind == PairsKind::Retrieval)
        retrieval_metrics(texts.pairs, pairs_a, pairs_b, options, result);
    if (texts.pairs.kind == PairsKind::Graded)
        graded_metrics(texts.pairs, pairs_a, pairs_b, options, result);
    result.search_seconds = seconds_since(t0);
}

void set_model_metrics(EvalResult& result) {
    result.metrics.set("size_ratio", static_cast<double>(result.candidate_bytes) /
                                         static_cast<double>(result.baseline_bytes));
    result.metrics.set("throughput_ratio",
                       result.candidate_texts_per_second / result.baseline_texts_per_second);
}

}  // namespace

EvalResult run_eval(const EvalInputs& inputs, EvalOptions options, const std::vector<Gate>& gates,
                    const EvalProgress& progress) {
    EvalResult result;
    if (inputs_are_vectors(inputs)) {
        if (!(inputs.queries.empty() && inputs.pairs.empty()))
            throw usage_error(
                "--queries and --pairs need models to embed them; with vector files only "
                "the corpus rows are compared");
        options = prepared_options(options, gates, true, PairsKind::None, result);
        score({}, read_vector_pair(inputs), {}, {}, {}, options, result);
        return result;
    }
    const EvalTexts texts = read_eval_texts(inputs);
    options = prepared_options(options, gates, false, texts.pairs.kind, result);
    EmbeddingModel baseline = open_embedding_model(inputs.baseline, inputs.model);
    EmbeddingModel candidate = open_embedding_model(inputs.candidate, inputs.model);
    check_models_share_inputs(texts, inputs_of(baseline), inputs_of(candidate));
    result.baseline_bytes = fs::file_size(inputs.baseline);
    result.candidate_bytes = fs::file_size(inputs.candidate);
    result.candidate_runs_as = candidate.runs_as;

    if (progress.start) progress.start(2 * texts.count());
    SideBySideEmbedder embedder(baseline, candidate, inputs.batch_size, progress);
    const auto t0 = Clock::now();
    BothEmbedded corpus = embedder.embed(texts.corpus, texts.corpus_source);
    // Throughput is the corpus's: the texts users care about, in one measured stretch.
    const auto n = static_cast<double>(texts.corpus.size());
    result.baseline_texts_per_second = n / embedder.baseline_seconds();
    result.candidate_texts_per_second = n / embedder.candidate_seconds();
    BothEmbedded queries, pairs_a, pairs_b;
    if (!texts.queries.empty()) queries = embedder.embed(texts.queries, texts.queries_source);
    if (texts.pairs.kind != PairsKind::None) {
        pairs_a = embedder.embed(texts.pairs.texts_a, inputs.pairs);
        pairs_b = embedder.embed(
            texts.pairs.kind == PairsKind::Retrieval ? texts.pairs.pool : texts.pairs.texts_b,
            inputs.pairs);
    }
    result.embed_seconds = seconds_since(t0);
    set_model_metrics(result);
    score(texts, std::move(corpus), std::move(queries), std::move(pairs_a), std::move(pairs_b),
          options, result);
    return result;
}

// ---- one baseline, many candidates ---------------------------------------------------

struct BaselineEvaluation::State {
    EvalInputs inputs;
    EvalTexts texts;
    Vectors corpus, queries, pairs_a, pairs_b;  // the baseline's, embedded once
    ModelInputs baseline_inputs;
    // What every candidate's result starts from: the prepared options, the pairs kind, and
    // the baseline's size and throughput.
    EvalResult prepared;
};

namespace {

struct OneModelVectors {
    Vectors corpus, queries, pairs_a, pairs_b;
    double corpus_seconds = 0, seconds = 0;
};

OneModelVectors embed_all(EmbeddingModel& model, const EvalTexts& texts,
                          const fs::path& pairs_source, int64_t batch_size,
                          const std::function<void(size_t)>& on_texts) {
    EmbedOptions options;
    options.batch_size = batch_size;
    size_t done = 0;
    auto run = [&](const auto& list, const fs::path& source) {
        if (list.empty()) return Vectors{};
        options.on_progress = [&, base = done](size_t n) {
            if (on_texts) on_texts(base + n);
        };
        Vectors v = embed_items(model, list, source, options);
        done += list.size();
        return v;
    };
    // Models are timed one after another here, so each gets an untimed warm-up first: the
    // first calls of a TorchScript model are slower (the executor specialises its graph).
    const size_t warm = std::min<size_t>(texts.corpus.size(), 2 * static_cast<size_t>(batch_size));
    embed_items(model, std::vector<Record>(texts.corpus.begin(), texts.corpus.begin() + warm),
                texts.corpus_source, options);
    OneModelVectors out;
    const auto t0 = Clock::now();
    out.corpus = run(texts.corpus, texts.corpus_source);
    out.corpus_seconds = seconds_since(t0);
    out.queries = run(texts.queries, texts.queries_source);
    out.pairs_a = run(texts.pairs.texts_a, pairs_source);
    out.pairs_b =
        run(texts.pairs.kind == PairsKind::Retrieval ? texts.pairs.pool : texts.pairs.texts_b,
            pairs_source);
    out.seconds = seconds_since(t0);
    return out;
}

}  // namespace

BaselineEvaluation::BaselineEvaluation(const EvalInputs& inputs, EvalOptions options,
                                       const std::vector<Gate>& gates, const EvalProgress& progress)
    : state_(std::make_unique<State>()) {
    State& st = *state_;
    st.inputs = inputs;
    st.texts = read_eval_texts(inputs);
    prepared_options(options, gates, false, st.texts.pairs.kind, st.prepared);
    EmbeddingModel baseline = open_embedding_model(inputs.baseline, inputs.model);
    st.prepared.baseline_bytes = fs::file_size(inputs.baseline);
    st.baseline_inputs = inputs_of(baseline);
    if (progress.start) progress.start(st.texts.count());
    OneModelVectors v =
        embed_all(baseline, st.texts, inputs.pairs, inputs.batch_size, progress.update);
    spdlog::info("embedded the baseline once: {} texts in {:.1f} s", st.texts.count(), v.seconds);
    st.corpus = std::move(v.corpus);
    st.queries = std::move(v.queries);
    st.pairs_a = std::move(v.pairs_a);
    st.pairs_b = std::move(v.pairs_b);
    st.prepared.baseline_texts_per_second =
        static_cast<double>(st.texts.corpus.size()) / v.corpus_seconds;
}

BaselineEvaluation::~BaselineEvaluation() = default;

size_t BaselineEvaluation::texts() const { return state_->texts.count(); }

EvalResult BaselineEvaluation::evaluate(const fs::path& candidate_path,
                                        const std::function<void(size_t)>& on_texts) const {
    const State& st = *state_;
    EvalResult result = st.prepared;
    EmbeddingModelOptions text = st.inputs.model;
    text.announce = false;  // the baseline said it
    EmbeddingModel candidate = open_embedding_model(candidate_path, text);
    check_models_share_inputs(st.texts, st.baseline_inputs, inputs_of(candidate));
    result.candidate_bytes = fs::file_size(candidate_path);
    result.candidate_runs_as = candidate.runs_as;
    OneModelVectors v =
        embed_all(candidate, st.texts, st.inputs.pairs, st.inputs.batch_size, on_texts);
    result.candidate_texts_per_second =
        static_cast<double>(st.texts.corpus.size()) / v.corpus_seconds;
    result.embed_seconds = v.seconds;
    set_model_metrics(result);
    score(st.texts, {st.corpus, std::move(v.corpus)}, {st.queries, std::move(v.queries)},
          {st.pairs_a, std::move(v.pairs_a)}, {st.pairs_b, std::move(v.pairs_b)}, result.options,
          result);
    return result;
}

}  // namespace embq
