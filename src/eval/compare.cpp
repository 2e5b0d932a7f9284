#include "embq/compare.hpp"

#include <memory>
#include <set>

#include <spdlog/spdlog.h>

#include "core/scratch_dir.hpp"
#include "embq/error.hpp"
#include "embq/workflow.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;

// Where the quantized models go: --keep DIR (kept), or a scratch directory removed
// when the comparison ends, whatever happens.
class OutputDir {
public:
    explicit OutputDir(const fs::path& keep) {
        if (keep.empty()) {
            scratch_ = std::make_unique<ScratchDir>("embq-compare");
            path_ = scratch_->path();
            return;
        }
        std::error_code ec;
        fs::create_directories(keep, ec);
        if (!fs::is_directory(keep))
            throw usage_error("--keep " + keep.string() + ": cannot create the directory");
        path_ = keep;
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
    std::unique_ptr<ScratchDir> scratch_;
};

// Row names from file names; a repeated name gets "-2", "-3", ...
std::vector<std::string> row_names(const std::vector<fs::path>& configs) {
    std::vector<std::string> names;
    std::set<std::string> used;
    for (const auto& c : configs) {
        std::string name = c.stem().string();
        for (int i = 2; used.count(name); ++i) name = c.stem().string() + "-" + std::to_string(i);
        used.insert(name);
        names.push_back(name);
    }
    return names;
}

QuantizeRequest request_for(const CompareInputs& inputs, const fs::path& config) {
    QuantizeRequest request;
    request.model = inputs.model;
    request.config = config;
    request.allow_unmatched_rules = inputs.allow_unmatched_rules;
    request.calibration_file = inputs.calibration_file;
    request.observer = inputs.observer;
    request.calibration_model = inputs.eval.model;
    request.target = inputs.target;
    return request;
}

// Every config is read and planned against the model before anything is embedded, so a
// typo fails at second 1 rather than after the FP32 corpus and the configs before it;
// every broken config is named at once.
void check_every_config_plans(const CompareInputs& inputs, const std::vector<std::string>& names) {
    const LoadedModel model = load_model(inputs.model);
    std::vector<std::string> problems;
    for (size_t i = 0; i < inputs.configs.size(); ++i) {
        const QuantizeRequest request = request_for(inputs, inputs.configs[i]);
        try {
            plan_request(request, load_request_config(request), model);
        } catch (const Error& e) {
            if (e.category() == ErrorCategory::Runtime) throw;
            const std::string what = e.what();
            problems.push_back("config " + std::to_string(i + 1) + " (" + names[i] +
                               "): " + what.substr(0, what.find('\n')));
        }
    }
    if (!problems.empty()) {
        std::string message;
        for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
        throw config_error(message);
    }
}

// Plans, calibrates and quantizes one config as `embq quantize` would; the plan is kept
// for the layer differences even when calibrating or quantizing fails afterwards.
void quantize_row(const CompareInputs& inputs, const fs::path& output, CompareRow& row) {
    const QuantizeRequest request = request_for(inputs, row.config);
    PlannedModel planned = load_and_plan(request);
    row.plan = planned.plan;
    const std::optional<Calibration> calibration = obtain_calibration(
        request, planned, [&](const std::string& w) { spdlog::warn("{}: {}", row.name, w); });
    quantize_model(std::move(planned.model), planned.plan, planned.config.source, output,
                   calibration ? &*calibration : nullptr);
}

}  // namespace

bool CompareRow::passed() const {
    if (!result) return false;
    for (const auto& v : verdicts)
        if (!v.passed) return false;
    return true;
}

bool CompareResult::all_passed() const {
    for (const auto& row : rows)
        if (!row.passed()) return false;
    return !rows.empty();
}

CompareResult run_compare(const CompareInputs& inputs, const EvalOptions& options,
                          const std::vector<Gate>& gates, const CompareProgress& progress) {
    if (inputs.configs.empty()) throw usage_error("compare needs at least one CONFIG");
    const auto names = row_names(inputs.configs);
    check_every_config_plans(inputs, names);
    OutputDir out(inputs.keep_dir);

    EvalInputs eval = inputs.eval;
    eval.baseline = inputs.model;
    // The FP32 side first: bad data or gates stop everything here, before any config runs.
    CompareResult result;
    EvalProgress baseline_progress;
    baseline_progress.start = [&](size_t total) {
        if (progress.start) progress.start("FP32", total);
    };
    baseline_progress.update = progress.update;
    const BaselineEvaluation baseline(eval, options, gates, baseline_progress);
    result.baseline_bytes = fs::file_size(inputs.model);

    for (size_t i = 0; i < inputs.configs.size(); ++i) {
        CompareRow row;
        row.name = names[i];
        row.config = inputs.configs[i];
        const fs::path quantized = out.path() / (row.name + ".pt");
        try {
            if (progress.config) progress.config(i + 1, inputs.configs.size(), row.name);
            quantize_row(inputs, quantized, row);
            if (progress.start) progress.start(row.name, baseline.texts());
            row.result = baseline.evaluate(quantized, progress.update);
            row.verdicts = check_gates(gates, row.result->metrics);
        } catch (const std::exception& e) {
            // One broken config is that row's problem, not the comparison's.
            const std::string what = e.what();
            row.error = what.substr(0, what.find('\n'));
            spdlog::warn("{}: {}", row.name, row.error);
        }
        result.rows.push_back(std::move(row));
    }
    return result;
}

std::vector<LayerDifference> plan_differences(const Plan& first, const Plan& second) {
    std::vector<LayerDifference> out;
    for (const auto& a : first.layers) {
        const LayerPlan* b = second.find(a.layer.path);
        if (!b) continue;  // same model: every layer is in both
        const std::string sa = scheme_text(a), sb = scheme_text(*b);
        if (sa != sb) out.push_back({a.layer.path, sa, sb});
    }
    return out;
}

}  // namespace embq
