#include "embq/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "embq/config.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/metric_catalogue.hpp"
#include "embq/model.hpp"
#include "tune/search_common.hpp"
#include "tune/trial.hpp"

namespace embq {

namespace {

// "encoder.layer.0.x" -> {"encoder", "layer", "0", "x"}.
std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1)
        parts.push_back(path.substr(start, dot - start));
    parts.push_back(path.substr(start));
    return parts;
}

// Index of the first component that is a number ({"encoder", "layer", "0", ...} -> 2), or -1.
int numbered_component(const std::vector<std::string>& parts) {
    for (size_t i = 0; i < parts.size(); ++i)
        if (!parts[i].empty() && std::all_of(parts[i].begin(), parts[i].end(), ::isdigit))
            return static_cast<int>(i);
    return -1;
}

std::string join_path(const std::vector<std::string>& parts, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) out += (i > begin ? "." : "") + parts[i];
    return out;
}

// Groups keyed by name, in order of first appearance, kept when they hold >= 2 layers.
class GroupCollector {
public:
    void add(const std::string& name, const std::string& layer) {
        if (!index_.count(name)) {
            index_[name] = groups_.size();
            groups_.push_back({name, {}});
        }
        groups_[index_[name]].second.push_back(layer);
    }
    void emit(SensitivityTarget::Kind kind, std::vector<SensitivityTarget>& out) const {
        for (const auto& [name, layers] : groups_)
            if (layers.size() >= 2) out.push_back({kind, name, layers});
    }

private:
    std::map<std::string, size_t> index_;
    std::vector<std::pair<std::string, std::vector<std::string>>> groups_;
};


}  // namespace

const char* to_string(SensitivityTarget::Kind kind) noexcept {
    switch (kind) {
        case SensitivityTarget::Kind::Layer: return "layer";
        case SensitivityTarget::Kind::Block: return "block";
        case SensitivityTarget::Kind::Role: return "role";
        case SensitivityTarget::Kind::LayerKind: return "kind";
        case SensitivityTarget::Kind::Pattern: return "pattern";
    }
    return "?";
}

std::vector<std::string> default_candidate_schemes() {
    return {"int8_dynamic", "int4_weight", "int8_rowwise", "int4_rowwise"};
}

std::vector<SensitivityTarget> sensitivity_targets(const ModelInventory& inventory,
                                                   const GroupOptions& groups) {
    std::vector<SensitivityTarget> out;
    GroupCollector blocks, roles, kinds;
    for (const auto& layer : inventory.layers) {
        out.push_back({SensitivityTarget::Kind::Layer, layer.path, {layer.path}});
        const auto parts = split_path(layer.path);
        const int n = numbered_component(parts);
        if (n >= 0) {
            blocks.add(join_path(parts, 0, n + 1), layer.path);
            std::vector<std::string> role = parts;
            role[n] = "*";
            roles.add(join_path(role, 0, role.size()), layer.path);
        }
        kinds.add(to_string(layer.kind), layer.path);
    }
    if (groups.blocks) blocks.emit(SensitivityTarget::Kind::Block, out);
    if (groups.roles) roles.emit(SensitivityTarget::Kind::Role, out);
    if (groups.kinds) kinds.emit(SensitivityTarget::Kind::LayerKind, out);
    for (const auto& pattern : groups.patterns) {
        SensitivityTarget t{SensitivityTarget::Kind::Pattern, pattern, {}};
        for (const auto& layer : inventory.layers)
            if (glob_match(pattern, layer.path)) t.layers.push_back(layer.path);
        if (t.layers.empty())
            throw usage_error("--group '" + pattern + "' matches no layer of the model ('embq "
                              "inspect MODEL' lists them)");
        out.push_back(std::move(t));
    }
    return out;
}

std::optional<Interval> SensitivityEntry::interval(const std::string& metric) const {
    for (const auto& [name, iv] : intervals)
        if (name == metric) return iv;
    return std::nullopt;
}

double SensitivityResult::loss(const SensitivityEntry& entry) const {
    const auto value = entry.metrics.get(options.rank_by);
    if (!value || std::isnan(*value)) return std::numeric_limits<double>::infinity();
    return agreement_loss(options.rank_by, *value);
}

std::optional<Interval> metric_interval(const EvalResult& result, const std::string& metric,
                                        uint64_t seed, int resamples) {
    if (resamples <= 0) return std::nullopt;
    auto find = [&](const std::string& key) -> const std::vector<double>* {
        const auto it = result.per_item.find(key);
        return it == result.per_item.end() ? nullptr : &it->second;
    };
    auto mean = [](std::vector<double>& v) { return mean_of(v); };
    if (const auto* values = find(metric)) return bootstrap_interval(*values, mean, seed, resamples);
    const auto* cosine = find("cosine");
    if (!cosine) return std::nullopt;
    if (metric == "cosine.mean") return bootstrap_interval(*cosine, mean, seed, resamples);
    double q = -1;
    if (metric == "cosine.min") q = 0;
    if (metric.rfind("cosine.p", 0) == 0) q = std::stod(metric.substr(8));
    if (q < 0) return std::nullopt;
    return bootstrap_interval(
        *cosine,
        [q](std::vector<double>& v) {
            std::sort(v.begin(), v.end());
            return percentile_of_sorted(v, q);
        },
        seed, resamples);
}

SensitivityResult run_sensitivity(const SearchInputs& inputs, const SensitivityOptions& options,
                                  const EvalOptions& eval_options, const SearchProgress& progress) {
    const auto t0 = Clock::now();
    const ResolvedMetric rank = resolve_metric(options.rank_by);
    if (!is_agreement_metric(rank))
        throw usage_error("--rank-by " + options.rank_by +
                          ": rank by an agreement metric (recall@K, eps_recall@K, cosine.p5, "
                          "hit@K_delta, ...), not a size, speed or single-model score");
    const std::vector<Candidate> candidates = candidate_schemes(inputs.schemes);
    const ModelInventory inventory = take_inventory(load_model(inputs.model).module);
    const std::vector<SensitivityTarget> targets = sensitivity_targets(inventory, options.groups);

    SensitivityResult result;
    result.options = options;
    // The rank metric must be computable: check it as a gate would be, before embedding.
    std::vector<Gate> gates = {parse_gate(options.rank_by + ">=0")};
    for (const auto& m : options.also_measure) gates.push_back(parse_gate(m + ">=0"));
    EvalInputs eval = inputs.eval;
    if (options.samples > 0) eval.selection.limit = options.samples;
    if (progress.start) progress.start("FP32", 0);
    TrialRunner runner(inputs.model, eval, eval_options, gates,
                       load_search_calibration(inputs, candidates), progress.update);
    result.baseline_seconds = seconds_since(t0);
    result.fp32_bytes = runner.fp32_bytes();

    // Speed-ups per layer and scheme, from one speed check of a plan putting every
    // layer on the scheme.
    std::map<std::pair<std::string, std::string>, std::vector<double>> speedups;
    if (options.speed)
        for (const Candidate& c : candidates) {
            try {
                const Plan plan = plan_for(inventory, single_scheme_config(inventory, c),
                                           runner.has_calibration());
                for (const auto& g : check_plan_speed(plan, *options.speed).groups)
                    for (const auto& layer : g.layers) speedups[{layer, c.name}] = g.speedup;
            } catch (const Error& e) {
                // A layer its options do not fit (a group size): untimed, not fatal.
                spdlog::warn("{} not timed: {}", c.name, e.what());
            }
        }

    std::vector<std::pair<const SensitivityTarget*, const Candidate*>> work;
    for (const auto& t : targets)
        for (const Candidate& c : candidates)
            if (!layers_supporting(inventory, t.layers, *c.scheme).empty()) work.push_back({&t, &c});

    size_t index = 0;
    for (const auto& [target, candidate] : work) {
        SensitivityEntry entry;
        entry.target = *target;
        entry.scheme = candidate->name;
        entry.layers = layers_supporting(inventory, target->layers, *candidate->scheme);
        ++index;
        if (progress.start)
            progress.start(std::to_string(index) + "/" + std::to_string(work.size()) + " " +
                               entry.scheme + " on " + to_string(target->kind) + " " +
                               target->name,
                           runner.texts());
        try {
            nlohmann::json config = config_for_layers(entry.layers, *candidate);
            const Trial trial = runner.run(config, progress.update);
            for (const auto& path : entry.layers) {
                const LayerPlan* lp = trial.plan.find(path);
                entry.bytes_before += lp->layer.bytes;
                entry.bytes_after += lp->bytes_after;
            }
            entry.metrics = trial.result.metrics;
            entry.seconds = trial.seconds;
            for (const std::string& m :
                 {options.rank_by, std::string("recall@10"), std::string("cosine.mean"),
                  std::string("cosine.p5")}) {
                if (entry.interval(m)) continue;
                if (auto iv = metric_interval(trial.result, m, eval_options.seed,
                                              options.bootstrap_resamples))
                    entry.intervals.push_back({m, *iv});
            }
            if (target->kind == SensitivityTarget::Kind::Layer) {
                const auto it = speedups.find({target->name, entry.scheme});
                if (it != speedups.end()) entry.speedup = it->second;
            }
        } catch (const std::exception& e) {
            const std::string what = e.what();
            entry.error = what.substr(0, what.find('\n'));
            spdlog::warn("{} on {}: {}", entry.scheme, target->name, entry.error);
        }
        result.entries.push_back(std::move(entry));
    }
    result.eval_options = eval_options;
    result.texts = static_cast<int64_t>(runner.texts());

    // Most sensitive first, layers before groups; ties keep the model's order.
    std::stable_sort(result.entries.begin(), result.entries.end(),
                     [&](const SensitivityEntry& a, const SensitivityEntry& b) {
                         const bool la = a.target.kind == SensitivityTarget::Kind::Layer;
                         const bool lb = b.target.kind == SensitivityTarget::Kind::Layer;
                         if (la != lb) return la;
                         return result.loss(a) > result.loss(b);
                     });
    result.seconds = seconds_since(t0);
    return result;
}

}  // namespace embq
