#include "embq/workflow.hpp"

#include <spdlog/spdlog.h>

#include "core/sha256.hpp"
#include "core/suggest.hpp"
#include "embq/calibrate.hpp"
#include "embq/dataset.hpp"
#include "embq/embed.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"

namespace embq {

Config load_request_config(const QuantizeRequest& request) {
    if (request.scheme.empty() && !request.keep_fp32.empty() && request.config.empty())
        throw usage_error("--keep-fp32 needs a CONFIG or --scheme to keep layers out of");
    if (request.scheme.empty() && request.config.empty())
        throw usage_error(
            "give a CONFIG (a file or a preset; 'embq configs' lists them) or "
            "--scheme NAME");
    if (request.scheme.empty() && request.keep_fp32.empty() && request.target.empty())
        return load_config(request.config);

    nlohmann::json document = nlohmann::json::object();
    if (!request.config.empty()) {
        const Config base = load_config(request.config);
        document = base.source;
        // A relative calibration text is relative to the config file; the document is parsed
        // again under another origin, so it gets the path the first parse resolved.
        if (base.calibration && document.contains("calibration") &&
            document["calibration"].is_object())
            document["calibration"]["data"] =
                std::filesystem::absolute(base.calibration->data).string();
    }
    // Errors and the stored config say where each part came from: "int8.json --keep-fp32 x".
    std::string origin = request.config.string();
    const auto said = [&](const std::string& part) {
        origin += (origin.empty() ? "" : " ") + part;
    };
    if (!request.scheme.empty()) {
        const Scheme* scheme = find_scheme(request.scheme);
        if (!scheme) {
            std::vector<std::string> names;
            for (const Scheme* s : all_schemes()) names.emplace_back(s->name());
            const auto near = closest_match(request.scheme, names);
            throw usage_error("--scheme: unknown scheme '" + request.scheme + "'" +
                              (near ? "; did you mean '" + *near + "'?" : "") +
                              " ('embq schemes' lists them)");
        }
        for (const LayerKind kind : all_layer_kinds())
            if (scheme->supports(kind))
                document["defaults"][to_string(kind)] = {{"scheme", request.scheme}};
        said("--scheme " + request.scheme);
    }
    for (const std::string& pattern : request.keep_fp32) {
        document["rules"].push_back({{"match", pattern}, {"scheme", "fp32"}});
        said("--keep-fp32 " + pattern);
    }
    if (!request.target.empty()) {
        document["target"] = request.target;
        said("--target " + request.target);
    }
    return parse_config(document, origin);
}

PlannedModel load_and_plan(const QuantizeRequest& request) {
    Config config = load_request_config(request);
    LoadedModel model = load_model(request.model);
    Plan plan = plan_request(request, config, model);
    carry_model_card(model, request.calibration_model);
    return {std::move(model), std::move(config), std::move(plan)};
}

Plan plan_request(const QuantizeRequest& request, const Config& config, const LoadedModel& model) {
    if (model.embq_metadata && !request.requantize)
        throw usage_error(request.model.string() + " is already an embq output (from " +
                          model.embq_metadata->value("source_model", std::string("?")) +
                          "); quantize the FP32 source instead, or pass --force to quantize "
                          "it again");
    PlanOptions options;
    options.allow_unmatched_rules = request.allow_unmatched_rules;
    options.have_calibration = !request.calibration_file.empty() || config.calibration.has_value();
    return plan_and_check_engine(config, take_inventory(model.module), options);
}

Plan plan_and_check_engine(const Config& config, const ModelInventory& inventory,
                           const PlanOptions& options) {
    Plan plan = make_plan(config, inventory, options);
    resolve_engine(plan);
    return plan;
}

Calibration load_calibration_for(const std::filesystem::path& file,
                                 const std::filesystem::path& model, const std::string& observer) {
    Calibration calibration = Calibration::load(file);
    calibration.check_model(sha256_file(model), model.string());
    if (!observer.empty()) calibration.select(observer);
    return calibration;
}

namespace {

std::string gptq_layers(const Plan& plan) {
    std::vector<std::string> layers;
    for (const auto& lp : plan.layers)
        if (lp.needs_input_gram()) layers.push_back(lp.layer.path);
    return format_list(layers);
}

}  // namespace

std::optional<Calibration> obtain_calibration(
    const QuantizeRequest& request, const PlannedModel& planned,
    const std::function<void(const std::string&)>& on_warning) {
    if (!planned.plan.needs_calibration()) return std::nullopt;
    const Config& config = planned.config;
    if (!request.calibration_file.empty()) {
        Calibration calibration =
            load_calibration_for(request.calibration_file, request.model, request.observer);
        if (planned.plan.needs_input_gram() && !calibration.has_input_grams())
            throw usage_error(request.calibration_file.string() +
                              " has no input Gram matrices, which rounding gptq and smoothing "
                              "auto need (layers " +
                              gptq_layers(planned.plan) +
                              "); recalibrate with 'embq calibrate --input-gram'");
        if (config.calibration)
            spdlog::info("using {}; the config's \"calibration\" is not run",
                         request.calibration_file.string());
        return calibration;
    }
    // make_plan allows a scheme that needs calibration only with a file or an inline block.
    EMBQ_ASSERT(config.calibration.has_value());
    const CalibrationSpec& spec = *config.calibration;
    CalibrateOptions options;
    options.samples = spec.samples;
    options.observers = {request.observer.empty() ? spec.observer : request.observer};
    options.batch_size = spec.batch_size;
    options.input_gram = planned.plan.needs_input_gram();
    spdlog::info("calibrating on the first {} texts of {} ({})", spec.samples, spec.data.string(),
                 options.observers.front());
    const CalibrationRun run = calibrate(request.model, request.calibration_model, spec.data,
                                         dataset_format_for(spec.data), options);
    if (on_warning)
        for (const auto& w : run.warnings) on_warning(w);
    return Calibration::from_json(run.document, config.origin + " calibration", run.grams);
}

}  // namespace embq
