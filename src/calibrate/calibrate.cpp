#include "embq/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "calibrate/instrument.hpp"
#include "core/clock.hpp"
#include "core/sha256.hpp"
#include "embq/calibration.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/observers.hpp"
#include "embq/runtime.hpp"

namespace embq {

namespace {

using nlohmann::json;

// Everything kept about one activation (a layer's input or output) while data streams by.
struct ActivationRecord {
    std::vector<Observer> observers;
    bool is_input = false;
    int64_t channels = 0;
    uint64_t rows = 0;
    uint64_t last_batch = 0;                    // the batch whose samples were last counted
    std::unique_ptr<ChannelRange> channel_range;  // inputs only
    std::vector<double> channel_sum;            // inputs only
    bool with_gram = false;                     // inputs only, when asked
    at::Tensor gram;                            // double [channels, channels]

    void observe(const at::Tensor& rows_by_channels, size_t samples) {
        const at::Tensor r = rows_by_channels.contiguous();
        const int64_t n = r.size(0), c = r.size(1);
        if (channels == 0) {
            channels = c;
            if (is_input) {
                channel_range = std::make_unique<ChannelRange>(static_cast<size_t>(c));
                channel_sum.assign(static_cast<size_t>(c), 0.0);
                if (with_gram) gram = at::zeros({c, c}, at::kDouble);
            }
        }
        if (c != channels)
            throw input_error("an activation changed width from " + std::to_string(channels) +
                              " to " + std::to_string(c) + " channels between batches");
        const float* data = r.data_ptr<float>();
        // Observers cost more than the forward pass when several histogram kinds run;
        // running them on threads of their own gained nothing on the 2-CPU VM here
        // (embedding itself ran faster on 1 thread than on 2), so they run in turn.
        for (Observer& o : observers) o.observe(data, static_cast<size_t>(n * c), samples);
        if (is_input) {
            channel_range->observe(data, static_cast<size_t>(n));
            if (with_gram) {
                // A NaN/Inf would poison every entry; the observers already count them.
                const at::Tensor finite = at::nan_to_num(r, 0.0, 0.0, 0.0);
                gram += finite.t().mm(finite).to(at::kDouble);
            }
            // One batch's sums in float (a few thousand rows), the running totals in
            // double: 10,000 texts x 20 tokens of float sums would lose digits.
            const at::Tensor sums = r.sum(0);
            const float* s = sums.data_ptr<float>();
            for (int64_t i = 0; i < c; ++i) channel_sum[static_cast<size_t>(i)] += s[i];
        }
        rows += static_cast<uint64_t>(n);
    }
};

struct LayerRecord {
    int calls = 0;
    ActivationRecord input, output;
};

// The rows of real tokens: [batch, tokens, ...] activations lose their padding positions;
// anything else (a pooled [batch, hidden] input) is taken whole.
at::Tensor real_token_rows(const at::Tensor& activation, const at::Tensor& mask) {
    at::Tensor x = activation.detach().to(at::kFloat);
    const int64_t channels = x.size(-1);
    if (x.dim() >= 3 && mask.defined() && x.size(0) == mask.size(0) && x.size(1) == mask.size(1)) {
        const at::Tensor keep = mask.reshape({-1}).nonzero().reshape({-1});
        x = x.reshape({mask.size(0) * mask.size(1), -1}).index_select(0, keep);
    }
    return x.reshape({-1, channels});
}

std::vector<Observer> make_observers(const std::vector<std::string>& specs) {
    std::vector<Observer> observers;
    for (const auto& spec : specs) observers.push_back(make_observer(spec));
    return observers;
}

json activation_json(const ActivationRecord& rec) {
    json observers = json::object();
    for (const Observer& o : rec.observers) observers[o.spec()] = o.to_json();
    json out = {{"rows", rec.rows}, {"channels", rec.channels}, {"observers", observers}};
    if (!rec.is_input) return out;
    std::vector<double> mean(rec.channel_sum.size(), 0.0);
    for (size_t i = 0; i < mean.size(); ++i)
        mean[i] = rec.rows ? rec.channel_sum[i] / static_cast<double>(rec.rows) : 0.0;
    out["channel_mean"] = mean;
    out["channel_min"] = rec.channel_range ? rec.channel_range->min() : std::vector<float>{};
    out["channel_max"] = rec.channel_range ? rec.channel_range->max() : std::vector<float>{};
    return out;
}

// Diagnostics over every layer, gathered into a few lines a user can act on.
class Diagnosis {
public:
    explicit Diagnosis(const CalibrateOptions& options) : options_(options) {}

    void check(const std::string& name, const ActivationRecord& rec, json& out) {
        if (rec.rows == 0) {
            unreached_.push_back(name);
            return;
        }
        // Every observer saw the same values: the first one speaks for the NaN/Inf count,
        // and its convergence (already in `out`, computed once by Observer::to_json) for
        // the range the file's users take by default.
        const Observer& first = rec.observers.front();
        if (first.nonfinite() > 0)
            warnings_.push_back(name + ": " + std::to_string(first.nonfinite()) +
                                " NaN/Inf values "
                                "ignored (of " +
                                std::to_string(first.nonfinite() + first.values()) +
                                "); the model produces them on this data");
        if (first.values() > 0) {
            const json& movement =  // null: not measurable yet
                out.at("observers").at(first.spec()).at("convergence").at("movement");
            if (!movement.is_number())
                unmeasured_.push_back(name);
            else if (movement.get<double>() > options_.convergence_tolerance)
                moving_.push_back(name + " (" + first.spec() + " moved " +
                                  format_percent(movement.get<double>(), 1.0) + ")");
        }
        if (!rec.is_input || !rec.channel_range) return;
        const auto outliers =
            find_outlier_channels(rec.channel_range->max_abs(), options_.outlier_factor);
        json list = json::array();
        std::vector<std::string> shown;
        for (const auto& oc : outliers) {
            list.push_back({{"channel", oc.channel},
                            {"max_abs", oc.max_abs},
                            {"ratio", std::isfinite(oc.ratio) ? json(oc.ratio) : json()}});
            char buf[64];
            std::snprintf(buf, sizeof buf, "%zu (%.0fx)", oc.channel, oc.ratio);
            shown.emplace_back(buf);
        }
        out["outlier_channels"] = list;
        if (!outliers.empty())
            warnings_.push_back(name + ": " + std::to_string(outliers.size()) +
                                " outlier channel(s) "
                                "with max |x| over " +
                                std::to_string(static_cast<int>(options_.outlier_factor)) +
                                "x the median channel's: " + format_list(shown) +
                                "; one activation scale wastes resolution on them, so keep this "
                                "layer int8_dynamic or fp16 rather than int8_static");
    }

    std::vector<std::string> finish() {
        if (!moving_.empty())
            warnings_.push_back(std::to_string(moving_.size()) +
                                " activation range(s) still moved more than " +
                                format_percent(options_.convergence_tolerance, 1.0) +
                                " over the last 10% of samples: " + format_list(moving_) +
                                "; calibrate on more --samples");
        if (!unmeasured_.empty())
            warnings_.push_back(std::to_string(unmeasured_.size()) +
                                " activation(s) saw too few batches "
                                "to tell whether their range converged (" +
                                format_list(unmeasured_) + "); calibrate on more --samples");
        if (!unreached_.empty())
            warnings_.push_back("the calibration data never reached " + format_list(unreached_) +
                                "; these get no range, and int8_static cannot quantize them");
        return warnings_;
    }

private:
    const CalibrateOptions& options_;
    std::vector<std::string> warnings_, moving_, unmeasured_, unreached_;
};

// Canonical specs ("percentile" -> "percentile:99.99"); an unknown one fails before the
// model loads.
std::vector<std::string> canonical_specs(const CalibrateOptions& options) {
    std::vector<std::string> specs;
    for (const Observer& o : make_observers(options.observers)) {
        if (std::find(specs.begin(), specs.end(), o.spec()) != specs.end())
            throw usage_error("observer " + o.spec() + " is asked for twice");
        specs.push_back(o.spec());
    }
    if (specs.empty()) throw usage_error("calibration needs at least one --observer");
    if (options.samples == 0) throw usage_error("--samples must be at least 1");
    return specs;
}

// Every observed layer's records, and for each instrumented site the record it feeds.
struct Records {
    std::map<std::string, LayerRecord> layers;
    std::vector<ActivationRecord*> by_site;
};

Records make_records(const std::vector<ObservedSite>& sites,
                     const std::vector<std::string>& specs, bool input_gram) {
    Records records;
    for (const ObservedSite& site : sites) {
        LayerRecord& layer = records.layers[site.layer];
        if (!site.output) ++layer.calls;
        ActivationRecord& rec = site.output ? layer.output : layer.input;
        if (rec.observers.empty()) rec.observers = make_observers(specs);
        rec.is_input = !site.output;
        rec.with_gram = rec.is_input && input_gram;
        records.by_site.push_back(&rec);
    }
    return records;
}

// Runs the first `options.samples` texts of `data` through the instrumented model, each
// site's activations (real tokens only) into its record.
EmbedStats observe_data(EmbeddingModel& model, const std::vector<ObservedSite>& sites,
                        Records& records, const std::filesystem::path& data, DatasetFormat format,
                        const CalibrateOptions& options) {
    at::Tensor mask;
    uint64_t batch = 0;
    size_t batch_rows = 0;
    model.embedder.set_before_forward([&](const at::Tensor& m) {
        mask = m;
        batch_rows = static_cast<size_t>(m.size(0));
        ++batch;
    });
    std::string tap_error;
    ScopedActivationTap tap([&](int64_t site, const at::Tensor& activation) {
        if (!tap_error.empty()) return;
        try {
            ActivationRecord& rec = *records.by_site.at(static_cast<size_t>(site));
            // A layer called twice per forward counts the batch's texts once.
            const size_t samples = rec.last_batch == batch ? 0 : batch_rows;
            rec.last_batch = batch;
            rec.observe(real_token_rows(activation, mask), samples);
        } catch (const std::exception& e) {
            tap_error = sites.at(static_cast<size_t>(site)).layer + ": " + e.what();
        }
    });

    EmbedOptions embed_options;
    embed_options.batch_size = options.batch_size;
    embed_options.max_records = options.samples;
    embed_options.on_progress = options.on_progress;
    DatasetReader reader(data, format);
    const auto discard = [](const float*, int64_t, int64_t) {};
    const EmbedStats stats =
        embed_dataset(model.embedder, model.tokenizer.get(), reader, discard, embed_options);
    if (!tap_error.empty()) throw runtime_failure("calibration failed at layer " + tap_error);
    return stats;
}

// The "layers" object of the file; the diagnosis checks each activation on the way.
json layers_json(const std::map<std::string, LayerRecord>& layers, Diagnosis& diagnosis) {
    json docs = json::object();
    for (const auto& [path, layer] : layers) {
        json input = activation_json(layer.input), output = activation_json(layer.output);
        diagnosis.check(path + " input", layer.input, input);
        diagnosis.check(path + " output", layer.output, output);
        docs[path] = {{"calls", layer.calls},
                      {"samples", layer.input.observers.front().samples()},
                      {"input", input},
                      {"output", output}};
    }
    return docs;
}

InputGrams grams_of(const std::map<std::string, LayerRecord>& layers) {
    InputGrams grams;
    for (const auto& [path, layer] : layers) {
        if (!layer.input.gram.defined()) continue;  // the data never reached it
        auto gram = std::make_shared<InputGram>();
        gram->dim = layer.input.channels;
        gram->rows = layer.input.rows;
        const at::Tensor g = layer.input.gram.to(at::kFloat).contiguous();
        gram->values.assign(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
        grams[path] = std::move(gram);
    }
    return grams;
}

}  // namespace

CalibrationRun calibrate(const std::filesystem::path& model_path,
                         const EmbeddingModelOptions& model_options,
                         const std::filesystem::path& data, DatasetFormat format,
                         const CalibrateOptions& options) {
    const std::vector<std::string> specs = canonical_specs(options);
    const auto start = Clock::now();
    EmbeddingModel model = open_embedding_model(model_path, model_options);
    const std::vector<ObservedSite> sites = instrument_linear_layers(model.embedder.module());
    if (sites.empty())
        throw input_error(model_path.string() + ": the model has no linear layer to calibrate");
    Records records = make_records(sites, specs, options.input_gram);
    const EmbedStats stats = observe_data(model, sites, records, data, format, options);

    CalibrationRun run;
    run.samples = stats.texts;
    run.tokens = stats.tokens;
    run.layers = records.layers.size();
    for (const ObservedSite& site : sites)
        if (std::find(run.layer_order.begin(), run.layer_order.end(), site.layer) ==
            run.layer_order.end())
            run.layer_order.push_back(site.layer);
    if (stats.texts < options.samples)
        run.warnings.push_back(data.string() + " has only " + std::to_string(stats.texts) +
                               " texts, fewer than the " + std::to_string(options.samples) +
                               " samples asked for; calibrated on all of them");
    Diagnosis diagnosis(options);
    json layer_docs = layers_json(records.layers, diagnosis);
    for (auto& w : diagnosis.finish()) run.warnings.push_back(std::move(w));

    const ModelCard& card = model.embedder.card();
    run.document = {
        {"format", kCalibrationFormat},
        {"version", kCalibrationVersion},
        {"embq_version", version()},
        {"model", {{"file", model_path.filename().string()}, {"sha256", sha256_file(model_path)}}},
        {"data",
         {{"file", data.filename().string()},
          {"sha256", sha256_file(data)},
          {"texts", stats.texts},
          {"tokens", stats.tokens},
          {"truncated", stats.truncated}}},
        {"options",
         {{"samples", options.samples},
          {"batch_size", options.batch_size},
          {"max_length", card.max_length},
          {"convergence_tolerance", options.convergence_tolerance},
          {"outlier_factor", options.outlier_factor}}},
        {"observers", specs},
        {"layers", std::move(layer_docs)},
        {"warnings", run.warnings},
    };
    if (options.input_gram) run.grams = grams_of(records.layers);
    run.seconds = seconds_since(start);
    return run;
}

}  // namespace embq
