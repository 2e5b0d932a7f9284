#include "embq/embed.hpp"

#include <algorithm>
#include <numeric>

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "embq/error.hpp"
#include "embq/hardware.hpp"
#include "embq/model.hpp"
#include "model/torch_util.hpp"

namespace embq {

namespace {

at::Tensor select_output(const c10::IValue& result, const OutputSelector& sel) {
    switch (sel.kind) {
        case OutputSelector::Kind::Tensor:
            if (result.isTensor()) return result.toTensor();
            break;
        case OutputSelector::Kind::TupleIndex:
            if (result.isTuple()) {
                const auto& elements = result.toTupleRef().elements();
                if (sel.index < static_cast<int64_t>(elements.size()) &&
                    elements[sel.index].isTensor())
                    return elements[sel.index].toTensor();
            }
            if (result.isList()) {
                const auto list = result.toList();
                if (sel.index < static_cast<int64_t>(list.size()) && list.get(sel.index).isTensor())
                    return list.get(sel.index).toTensor();
            }
            break;
        case OutputSelector::Kind::DictKey:
            if (result.isGenericDict()) {
                for (const auto& entry : result.toGenericDict()) {
                    if (entry.key().isString() && entry.key().toStringRef() == sel.key &&
                        entry.value().isTensor())
                        return entry.value().toTensor();
                }
            }
            break;
    }
    if (sel.kind == OutputSelector::Kind::Tensor && (result.isTuple() || result.isList()))
        throw input_error("the model returns a " + result.tagKind() +
                          ", not one tensor; name the element that holds the vectors in a model "
                          "card, e.g. {\"output\": {\"index\": 0}}, and pass it with --card");
    throw input_error("the model returned " + result.tagKind() + ", which has no " +
                      sel.describe() +
                      " holding a tensor; set \"output\" in the model card (--card)");
}

at::Tensor pool(const at::Tensor& hidden, const at::Tensor& mask, Pooling pooling) {
    if (pooling == Pooling::None) return hidden;
    if (hidden.dim() != 3)
        throw input_error(
            "the model card asks for \"pooling\": \"" + std::string(to_string(pooling)) +
            "\" over tokens, but the model's output has shape " + c10::str(hidden.sizes()) +
            " (it pools itself); set \"pooling\": \"none\" in the card");
    const at::Tensor m = mask.unsqueeze(-1).to(hidden.scalar_type());  // [N, T, 1]
    switch (pooling) {
        case Pooling::Mean: return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0);
        case Pooling::Cls: return hidden.select(1, 0);
        case Pooling::Max:
            return hidden.masked_fill(m == 0, -std::numeric_limits<float>::infinity()).amax(1);
        case Pooling::None: break;
    }
    return hidden;
}

}  // namespace

ModelCard infer_model_card(const c10::FunctionSchema& forward, std::string& how) {
    const auto& args = forward.arguments();
    ModelCard card;
    card.inputs.clear();
    const auto& known = known_model_inputs();
    for (size_t i = 1; i < args.size(); ++i) {  // 0 is self
        std::string name = args[i].name();
        // TorchScript may suffix argument names (input_ids.1); compare the stem.
        name = name.substr(0, name.find('.'));
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            if (args.size() == 3 && i == 1) {
                // Unnamed positional pair: the common (input_ids, attention_mask) shape.
                card.inputs = {"input_ids", "attention_mask"};
                how = "forward() takes 2 inputs named (" + args[1].name() + ", " + args[2].name() +
                      "); assumed (input_ids, attention_mask) returning (N, D) vectors; "
                      "write a model card (--card) if that is wrong";
                return card;
            }
            throw input_error("cannot infer how to call the model: forward() argument '" +
                              args[i].name() +
                              "' is not one of input_ids, attention_mask, "
                              "token_type_ids; write a model card and pass --card");
        }
        card.inputs.push_back(name);
    }
    if (card.inputs.empty()) throw input_error("forward() takes no inputs; write a model card");
    std::string names;
    for (const auto& n : card.inputs) names += (names.empty() ? "" : ", ") + n;
    how = "no model card: from forward(" + names +
          "), assumed it returns (N, D) vectors "
          "(output the tensor, pooling none, max_length " +
          std::to_string(card.max_length) + ")";
    return card;
}

Embedder::Embedder(torch::jit::Module model, ModelCard card)
    : model_(std::move(model)), card_(std::move(card)) {
    model_.eval();
}

Embedder::Embedder(torch::jit::mobile::Module lite, ModelCard card)
    : lite_(std::move(lite)), card_(std::move(card)) {}

torch::jit::Module& Embedder::module() {
    if (lite_)
        throw usage_error(
            "a lite-interpreter model (.ptl) only runs (embed, eval, compare, bench); calibrate "
            "and fine-tune the TorchScript .pt it was written from");
    return model_;
}

std::optional<int64_t> Embedder::first_unknown_id(const std::vector<int64_t>& ids) const {
    for (const int64_t id : ids)
        if (id < 0 || (token_rows_ > 0 && id >= token_rows_)) return id;
    return std::nullopt;
}

// "token id 99999 is outside the model's vocabulary (ids 0..30521)".
static std::string unknown_id_message(int64_t id, int64_t rows) {
    return "token id " + std::to_string(id) + " is outside the model's vocabulary (" +
           (rows > 0 ? "ids 0.." + std::to_string(rows - 1) : std::string("ids are >= 0")) + ")";
}

at::Tensor Embedder::embed(const std::vector<const Encoding*>& batch) {
    EMBQ_ASSERT(!batch.empty());
    size_t longest = 1;
    for (const Encoding* e : batch) longest = std::max(longest, e->ids.size());
    const int64_t n = static_cast<int64_t>(batch.size()), t = static_cast<int64_t>(longest);
    at::Tensor ids = at::full({n, t}, pad_id_, at::kLong);
    at::Tensor mask = at::zeros({n, t}, at::kLong);
    at::Tensor types = at::zeros({n, t}, at::kLong);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    auto types_a = types.accessor<int64_t, 2>();
    for (int64_t r = 0; r < n; ++r) {
        const Encoding& e = *batch[r];
        // Records from a file were checked with their line (embed_dataset); ids from a
        // tokenizer end here when it is not the model's tokenizer.
        if (const auto bad = first_unknown_id(e.ids))
            throw usage_error(unknown_id_message(*bad, token_rows_) +
                              "; is the tokenizer the one the model was trained with?");
        for (size_t c = 0; c < e.ids.size(); ++c) {
            ids_a[r][c] = e.ids[c];
            mask_a[r][c] = 1;
            types_a[r][c] = c < e.type_ids.size() ? e.type_ids[c] : 0;
        }
    }
    std::vector<c10::IValue> inputs;
    for (const auto& name : card_.inputs)
        inputs.emplace_back(name == "input_ids" ? ids : name == "attention_mask" ? mask : types);

    if (before_forward_) before_forward_(mask);
    c10::InferenceMode guard(!gradients_);
    c10::IValue result;
    try {
        result = lite_ ? lite_->forward(inputs) : model_.forward(inputs);
    } catch (const std::exception& e) {
        throw runtime_failure("the model's forward failed on a batch of " + std::to_string(n) +
                              "x" + std::to_string(t) + " token ids: " + first_line_of(e));
    }
    at::Tensor out = pool(select_output(result, card_.output).to(at::kFloat), mask, card_.pooling);
    if (out.dim() != 2 || out.size(0) != n)
        throw input_error(
            "the model's output has shape " + c10::str(out.sizes()) + ", expected (" +
            std::to_string(n) + ", D)" +
            (out.dim() == 3 ? "; token embeddings need \"pooling\" in the model card" : ""));
    if (card_.normalize) out = out / out.norm(2, 1, true).clamp_min(1e-12);
    return out.contiguous();
}

EmbedStats embed_stream(Embedder& embedder, const EncodingSource& next, const RowSink& sink,
                        const EmbedOptions& options) {
    EmbedStats stats;
    std::vector<Encoding> window;
    window.reserve(options.window);

    // Embeds the buffered window sorted by length (little padding) and hands it on in
    // input order.
    auto flush = [&] {
        if (window.empty()) return;
        std::vector<size_t> order(window.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return window[a].ids.size() < window[b].ids.size();
        });
        at::Tensor rows;
        for (size_t start = 0; start < order.size(); start += options.batch_size) {
            const size_t end =
                std::min(order.size(), start + static_cast<size_t>(options.batch_size));
            std::vector<const Encoding*> batch;
            size_t longest = 0;
            for (size_t i = start; i < end; ++i) {
                batch.push_back(&window[order[i]]);
                longest = std::max(longest, window[order[i]].ids.size());
            }
            const auto t0 = Clock::now();
            const at::Tensor vectors = embedder.embed(batch);
            stats.forward_seconds += seconds_since(t0);
            if (!rows.defined())
                rows = at::empty({static_cast<int64_t>(window.size()), vectors.size(1)});
            for (size_t i = start; i < end; ++i) {
                rows[static_cast<int64_t>(order[i])].copy_(
                    vectors[static_cast<int64_t>(i - start)]);
                stats.padded += longest - window[order[i]].ids.size();
            }
            if (options.on_progress) options.on_progress(stats.texts - window.size() + end);
        }
        stats.dim = rows.size(1);
        sink(rows.data_ptr<float>(), rows.size(0), stats.dim);
        window.clear();
    };

    Encoding enc;
    while (next(enc)) {
        stats.truncated += enc.truncated;
        stats.tokens += enc.ids.size();
        ++stats.texts;
        window.push_back(std::move(enc));
        enc = Encoding{};
        if (window.size() >= options.window) flush();
    }
    flush();
    return stats;
}

Encoding encode_record(const Record& record, const Tokenizer* tokenizer, size_t max_length,
                       const std::filesystem::path& source) {
    Encoding enc;
    if (record.input_ids) {
        enc.ids = *record.input_ids;
        enc.truncated = enc.ids.size() > max_length;
        if (enc.truncated) enc.ids.resize(max_length);
        enc.type_ids.assign(enc.ids.size(), 0);
        return enc;
    }
    if (!record.text_b.empty())
        throw usage_error(source.string() +
                          ": TSV pairs are for 'embq eval --pairs'; "
                          "embed takes text (.txt) or JSONL (.jsonl)");
    if (!tokenizer)
        throw usage_error(source.string() + ":" + std::to_string(record.line) +
                          ": text needs a tokenizer; pass --tokenizer FILE or set "
                          "\"tokenizer\" in the model card");
    return tokenizer->encode(record.text, max_length);
}

EmbedStats embed_dataset(Embedder& embedder, const Tokenizer* tokenizer, DatasetReader& reader,
                         const RowSink& sink, const EmbedOptions& options) {
    const auto max_length = static_cast<size_t>(embedder.card().max_length);
    double tokenize_seconds = 0;
    Record record;
    size_t records = 0;
    const auto block = static_cast<int64_t>(options.window);
    auto next = [&](Encoding& enc) {
        // Another shard's records are read and counted, not tokenized.
        do {
            if (options.max_records && records == options.max_records) return false;
            if (!reader.next(record)) return false;
        } while (!options.shard.owns_block(static_cast<int64_t>(records++) / block));
        const auto t0 = Clock::now();
        enc = encode_record(record, tokenizer, max_length, reader.path());
        if (const auto bad = embedder.first_unknown_id(enc.ids))
            throw input_error(reader.path().string() + ":" + std::to_string(record.line) + ": " +
                              unknown_id_message(*bad, embedder.token_rows()));
        if (!record.input_ids) tokenize_seconds += seconds_since(t0);
        return true;
    };
    EmbedStats stats = embed_stream(embedder, next, sink, options);
    stats.tokenize_seconds = tokenize_seconds;
    stats.empty_skipped = reader.stats().empty_skipped;
    stats.records_seen = records;
    if (records == 0)
        throw input_error(reader.path().string() + ": no records to embed (" +
                          std::to_string(stats.empty_skipped) + " empty lines)");
    return stats;
}

namespace {

// What `next` yields, embedded into one matrix, rows in order.
Vectors embed_to_matrix(Embedder& embedder, const EncodingSource& next, const EmbedOptions& options,
                        EmbedStats& stats) {
    Vectors out;
    auto collect = [&](const float* rows, int64_t count, int64_t dim) {
        out.dim = dim;
        out.rows += count;
        out.data.insert(out.data.end(), rows, rows + count * dim);
    };
    stats = embed_stream(embedder, next, collect, options);
    return out;
}

}  // namespace

Vectors embed_texts(EmbeddingModel& model, const std::vector<std::string>& texts,
                    const EmbedOptions& options, EmbedStats* stats_out) {
    if (!model.tokenizer)
        throw usage_error(
            "text needs a tokenizer; pass --tokenizer FILE or set \"tokenizer\" "
            "in the model card");
    const auto max_length = static_cast<size_t>(model.embedder.card().max_length);
    double tokenize_seconds = 0;
    size_t i = 0;
    auto next = [&](Encoding& enc) {
        if (i == texts.size()) return false;
        const auto t0 = Clock::now();
        enc = model.tokenizer->encode(texts[i++], max_length);
        tokenize_seconds += seconds_since(t0);
        return true;
    };
    EmbedStats stats;
    Vectors out = embed_to_matrix(model.embedder, next, options, stats);
    stats.tokenize_seconds = tokenize_seconds;
    if (stats_out) *stats_out = stats;
    return out;
}

Vectors embed_records(EmbeddingModel& model, const std::vector<Record>& records,
                      const std::filesystem::path& source, const EmbedOptions& options) {
    const auto max_length = static_cast<size_t>(model.embedder.card().max_length);
    size_t i = 0;
    auto next = [&](Encoding& enc) {
        if (i == records.size()) return false;
        const Record& record = records[i++];
        enc = encode_record(record, model.tokenizer.get(), max_length, source);
        if (const auto bad = model.embedder.first_unknown_id(enc.ids))
            throw input_error(source.string() + ":" + std::to_string(record.line) + ": " +
                              unknown_id_message(*bad, model.embedder.token_rows()));
        return true;
    };
    EmbedStats stats;
    return embed_to_matrix(model.embedder, next, options, stats);
}

namespace {

std::string describe_runtime(const LoadedModel& loaded) {
    std::string out = loaded.lite ? "lite interpreter" : "TorchScript";
    if (!loaded.embq_metadata) return out;
    const nlohmann::json& meta = *loaded.embq_metadata;
    const std::string engine = meta.value("engine", std::string());
    if (!engine.empty() && engine != "none") out += ", int8 on " + engine;
    if (meta.contains("target") && meta["target"].is_object()) {
        const std::string target = meta["target"].value("name", std::string());
        if (!target.empty() && target != kNativeTarget) out += " (built for target " + target + ")";
    }
    return out;
}

}  // namespace

EmbeddingModel open_embedding_model(const std::filesystem::path& model_path,
                                    const EmbeddingModelOptions& options) {
    LoadedModel loaded = load_model_to_run(model_path);
    const ResolvedCard resolved = resolve_model_card(loaded, options);
    const ModelCard& card = resolved.card;
    if (options.announce && options.card.empty()) spdlog::info("{}", resolved.how);

    std::unique_ptr<Tokenizer> tokenizer;
    if (!resolved.tokenizer_bytes.empty())
        tokenizer = parse_tokenizer(resolved.tokenizer_bytes,
                                    model_path.string() + " (its carried tokenizer)");
    else if (!card.tokenizer.empty())
        tokenizer = load_tokenizer(card.tokenizer);
    if (tokenizer && options.announce) spdlog::info("tokenizer: {}", tokenizer->describe());
    spdlog::debug("model card: {}", card.describe());
    // A .ptl embq did not write has no inventory to read (the lite interpreter keeps no
    // module tree): its ids are checked by the model itself.
    const int64_t token_rows = loaded.embq_metadata
                                   ? loaded.embq_metadata->value("token_table_rows", int64_t{0})
                               : loaded.lite ? 0
                                             : take_inventory(loaded.module).token_table_rows();
    EmbeddingModel model{
        model_path,
        loaded.lite ? Embedder(std::move(*loaded.lite), card) : Embedder(loaded.module, card),
        std::move(tokenizer), describe_runtime(loaded)};
    model.embedder.set_token_rows(token_rows);
    if (model.tokenizer) model.embedder.set_pad_id(model.tokenizer->pad_id());
    return model;
}

}  // namespace embq
