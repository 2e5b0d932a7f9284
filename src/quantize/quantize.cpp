#include "embq/quantize.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/passes/common_subexpression_elimination.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "embq/atomic_file.hpp"
#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/hardware.hpp"
#include "embq/runtime.hpp"
#include "embq/stored_layers.hpp"
#include "model/graph_util.hpp"
#include "model/lite_model.hpp"
#include "model/torch_util.hpp"
#include "quantize/rewrite_context.hpp"
#include "quantize/weight_check.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;
using torch::jit::Node;
using torch::jit::Value;

// True when the value's data (not just its dtype or shape) is still used: scripted
// F.embedding_bag keeps reading weight.dtype, which a placeholder answers equally well.
bool data_is_read(const Value* v, int depth = 0) {
    static const std::set<std::string> kMetadataOnly = {"prim::dtype", "aten::size", "aten::dim",
                                                        "prim::device", "aten::len"};
    for (const auto& use : v->uses()) {
        const Node* user = use.user;
        if (kMetadataOnly.count(user->kind().toQualString())) continue;
        if (user->kind() == c10::prim::Return && user->owningBlock()->owningNode() && depth < 4) {
            const Node* owner = user->owningBlock()->owningNode();
            if (owner->kind() == c10::prim::If &&
                !data_is_read(owner->output(use.offset), depth + 1))
                continue;
        }
        return true;
    }
    return false;
}

// Scripted F.embedding_bag branches on `weight.dtype` (a legacy argument swap) and so
// keeps reading the FP32 table. A rewritten layer's weight dtype is fixed in the output
// model, so fold those queries to constants and let constant propagation drop the
// dead branch.
void fold_weight_dtype_queries(std::shared_ptr<torch::jit::Graph>& graph,
                               const torch::jit::Module& root,
                               const std::map<std::string, int>& rewritten);

void fold_weight_dtype_queries(std::shared_ptr<torch::jit::Graph>& graph,
                               const torch::jit::Module& root,
                               const std::map<std::string, int>& rewritten) {
    const auto paths = module_paths(*graph, "");
    std::vector<Node*> queries;
    for_each_node(graph->block(), [&](Node* node) {
        if (node->kind() != c10::prim::dtype) return;
        const Node* source = node->input(0)->node();
        if (source->kind() != c10::prim::GetAttr || source->s(c10::attr::name) != "weight") return;
        const auto it = paths.find(source->input(0));
        if (it != paths.end() && rewritten.count(it->second)) queries.push_back(node);
    });
    for (Node* node : queries) {
        const Node* source = node->input(0)->node();
        const auto layer = submodule(root, paths.at(source->input(0)));
        const auto dtype = layer.attr("weight").toTensor().scalar_type();
        torch::jit::WithInsertPoint guard(node);
        node->output()->replaceAllUsesWith(graph->insertConstant(static_cast<int64_t>(dtype)));
        node->destroy();
    }
    torch::jit::ConstantPropagation(graph, /*ignore_custom_classes=*/true);
}

// Replaces the FP32 tensors the rewritten graph no longer reads with zero-stride
// placeholders of the same shape and dtype: the file keeps one element instead of
// the matrix, and code that only asks for the shape (scripted F.embedding's
// padding_idx checks) still works. Returns the weights that are still read.
std::vector<std::string> drop_unread_tensors(torch::jit::Graph& graph, torch::jit::Module& root,
                                             const std::map<std::string, int>& rewritten) {
    const auto paths = module_paths(graph, "");
    std::set<std::string> still_read;
    for_each_node(graph.block(), [&](Node* node) {
        if (node->kind() != c10::prim::GetAttr) return;
        const auto it = paths.find(node->input(0));
        if (it != paths.end() && data_is_read(node->output()))
            still_read.insert(join_path(it->second, node->s(c10::attr::name)));
    });
    std::vector<std::string> kept;
    for (const auto& [path, calls] : rewritten) {
        torch::jit::Module layer = submodule(root, path);
        for (const char* name : {"weight", "bias"}) {
            if (!layer.hasattr(name) || !layer.attr(name).isTensor()) continue;
            if (still_read.count(join_path(path, name))) {
                // fp16, bf16 and int4_weight keep the FP32 bias on purpose (the plan
                // counts it); only a weight still read is a surprise worth a warning.
                if (std::string(name) == "weight") kept.push_back(join_path(path, name));
                continue;
            }
            const at::Tensor t = layer.attr(name).toTensor();
            layer.setattr(name, at::zeros({1}, t.options()).expand(t.sizes()));
        }
    }
    return kept;
}

// The weight uses in graph order, each in a group of the uses rewritten with it (most
// alone): uses of different layers planned with one scheme and equal options that the
// scheme rewrites together, which read the same input in the same block. An input that
// anything writes is never shared: a write between two uses would change what the later
// one reads.
std::vector<std::vector<WeightUse>> rewrite_groups(const std::shared_ptr<torch::jit::Graph>& graph,
                                                   const Plan& plan) {
    const torch::jit::AliasDb aliases(graph);
    std::vector<std::vector<WeightUse>> groups;
    for (const WeightUse& use : find_weight_uses(*graph)) {
        const LayerPlan* lp = plan.find(use.layer);
        if (!lp || !lp->scheme->rewrites()) continue;
        const auto joins = [&](const std::vector<WeightUse>& group) {
            const Node* first = group.front().node;
            const LayerPlan* first_plan = plan.find(group.front().layer);
            return first->input(0) == use.node->input(0) &&
                   first->owningBlock() == use.node->owningBlock() &&
                   first_plan->scheme == lp->scheme && first_plan->options == lp->options &&
                   std::none_of(group.begin(), group.end(),
                                [&](const WeightUse& u) { return u.layer == use.layer; });
        };
        const bool shareable =
            lp->scheme->rewrites_together(lp->options) && !aliases.hasWriters(use.node->input(0));
        const auto group =
            shareable ? std::find_if(groups.begin(), groups.end(), joins) : groups.end();
        if (group != groups.end())
            group->push_back(use);
        else
            groups.push_back({use});
    }
    return groups;
}

int64_t bytes_on_disk(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : static_cast<int64_t>(n);
}

// Serialises in memory, checks the bytes load, then writes them through an AtomicFile: a
// failed run leaves no partial output. Not module.save(path): when the disk fills,
// libtorch's archive writer throws, and throws again from its destructor while the first
// exception unwinds, which ends the process (std::terminate) and leaves the temp file.
// The in-memory copy costs one model size of memory, small next to the FP32 model loaded.
// A .ptl is written for the lite interpreter and checked by running it (lite_model.hpp).
void save_atomically(torch::jit::Module& module, torch::jit::Graph& graph,
                     const std::map<std::string, int>& rewritten,
                     const torch::jit::ExtraFilesMap& extra, const fs::path& output,
                     int64_t token_rows, std::vector<std::string>& warnings) {
    std::string bytes;
    if (is_lite_path(output)) {
        std::vector<std::string> layers;
        for (const auto& [path, calls] : rewritten) layers.push_back(path);
        bytes = lite_archive_bytes(module, graph, layers, extra, token_rows, warnings);
    } else {
        try {
            std::ostringstream archive;
            module.save(archive, extra);
            bytes = archive.str();
            std::istringstream check(bytes);
            torch::jit::load(check);
        } catch (const std::exception& e) {
            throw runtime_failure(output.string() +
                                  ": writing the quantized model failed: " + first_line_of(e));
        }
    }
    AtomicFile file(output);
    file.stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.commit();
}

}  // namespace

void resolve_engine(Plan& plan) {
    const Target target = find_target(plan.target);
    const std::string where = target.is_this_machine() ? "this machine" : "target " + target.name;
    if (plan.engine != "auto" && !target.is_this_machine() &&
        std::find(target.engines.begin(), target.engines.end(), plan.engine) ==
            target.engines.end())
        throw config_error("\"engine\": \"" + plan.engine + "\" is not an engine of " + where +
                           " (" + format_list(target.engines, 99) +
                           "); set \"engine\" to \"auto\" or drop it");
    const std::string engine = plan.engine == "auto" ? target.engine() : plan.engine;
    const std::string available = format_list(supported_engines(), 99);

    // Which layers need which scheme, to name them in errors and warnings.
    std::map<const Scheme*, std::vector<std::string>> layers_by_scheme;
    for (const auto& lp : plan.layers)
        if (lp.scheme->rewrites()) layers_by_scheme[lp.scheme].push_back(lp.layer.path);
    const auto on_layers = [&](const Scheme* scheme) {
        const auto& layers = layers_by_scheme.at(scheme);
        return std::string(scheme->name()) + " on " + std::to_string(layers.size()) +
               " layer(s) (" + layers.front() + (layers.size() > 1 ? ", ..." : "") + ")";
    };

    std::string problems;
    for (const auto& [scheme, layers] : layers_by_scheme) {
        const std::optional<std::string> reason =
            scheme->unavailable_reason(engine.empty() ? "none" : engine);
        if (reason) problems += (problems.empty() ? "" : "; ") + on_layers(scheme) + ": " + *reason;
    }
    if (!problems.empty()) {
        const std::string lacks = !target.is_this_machine() && engine.empty()
                                      ? where + " runs int8 on " + format_list(target.engines, 99) +
                                            ", which this libtorch lacks, so it cannot be checked: "
                                      : "";
        throw config_error(
            "engine preflight failed: " + lacks + problems +
            ". This libtorch has engines: " + (available.empty() ? "none" : available) +
            "; set \"engine\" to one of them or \"auto\", or use " +
            format_alternatives(scheme_names(
                [](const Scheme& s) { return s.rewrites() && !s.needs_quantized_engine(); })) +
            ", which need no quantized engine");
    }
    // What the target's features promise: a scheme that runs emulated there, or int8 without
    // the dot-product instructions that make it pay, is worth knowing before deploying.
    for (const auto& [scheme, layers] : layers_by_scheme) {
        const SchemeOutlook o = scheme_outlook(*scheme, target.cpu, engine);
        if (o.outlook == Outlook::Slow)
            plan.warnings.push_back(on_layers(scheme) + " is expected slower than FP32 on " +
                                    where + ": " + o.why);
        else if (scheme->compute() == Scheme::Compute::Int8 && o.outlook != Outlook::Fast)
            plan.warnings.push_back(on_layers(scheme) + " may gain little over FP32 on " + where +
                                    ": " + o.why);
    }
    plan.engine = engine.empty() ? "none" : engine;
}

void check_output_format(const Plan& plan, const fs::path& output) {
    const Target target = find_target(plan.target);
    if (target.runtime == Runtime::Lite && !is_lite_path(output))
        throw usage_error("-o " + output.string() + ": target " + target.name + " runs " +
                          to_string(target.runtime) + " files; name the output " +
                          output.stem().string() + ".ptl");
}

QuantizeResult quantize_model(LoadedModel&& model, const Plan& plan,
                              const nlohmann::json& config_source, const fs::path& output,
                              const Calibration* calibration, const nlohmann::json& provenance) {
    EMBQ_ASSERT(plan.engine != "auto");  // resolve_engine() first
    const std::string& engine = plan.engine;
    if (is_same_file(output, model.path))
        throw usage_error(output.string() +
                          ": the output would overwrite the input model; "
                          "choose another -o path");

    check_weights_representable(model.module, plan);
    // Rewritten tables are no longer detected as layers; keep their size for the id
    // check. The plan lists every layer of the inventory, so no second inventory is taken.
    int64_t token_rows = 0;
    for (const LayerPlan& lp : plan.layers) token_rows = std::max(token_rows, table_rows(lp.layer));

    QuantizeResult result;
    result.engine = engine;
    result.input_file_bytes = bytes_on_disk(model.path);

    torch::jit::Module& root = model.module;
    auto forward = root.find_method("forward");
    if (!forward) throw input_error(model.path.string() + ": the model has no forward method");
    auto graph = forward->graph();
    // One flat graph: every call site of every layer becomes visible in one place, and
    // rewriting it cannot leak into other instances of a shared class type.
    torch::jit::Inline(*graph);

    StoredTogether stored_together;
    for (const std::vector<WeightUse>& group : rewrite_groups(graph, plan)) {
        const LayerPlan& lp = *plan.find(group.front().layer);
        std::vector<torch::jit::Module> modules;
        for (const WeightUse& use : group) modules.push_back(submodule(root, use.layer));
        std::vector<RewriteContext> uses;
        for (size_t i = 0; i < group.size(); ++i)
            uses.emplace_back(root, *graph, group[i].node, modules[i],
                              plan.find(group[i].layer)->layer, engine, calibration,
                              stored_together);
        if (uses.size() == 1) {
            lp.scheme->rewrite(uses.front(), lp.options);
        } else {
            std::vector<std::string> layers;
            for (const WeightUse& use : group) layers.push_back(use.layer);
            spdlog::debug("{} run together ({}, one input)", format_list(layers, 99),
                          lp.scheme->name());
            lp.scheme->rewrite_together(uses, lp.options);
        }
        for (const WeightUse& use : group) ++result.rewritten_calls[use.layer];
    }
    fold_weight_dtype_queries(graph, root, result.rewritten_calls);
    // Layers that read the same input with the same qparams (int8_static query, key and
    // value) then quantize it once instead of three times.
    torch::jit::EliminateCommonSubexpression(graph);
    torch::jit::EliminateDeadCode(graph);

    for (const auto& lp : plan.layers) {
        if (lp.scheme->rewrites() && !result.rewritten_calls.count(lp.layer.path))
            result.warnings.push_back("layer '" + lp.layer.path +
                                      "' is not used by forward(); left as it is");
    }
    for (const auto& tensor : drop_unread_tensors(*graph, root, result.rewritten_calls))
        result.warnings.push_back(tensor +
                                  " is still read by the model (tied weights?); "
                                  "its FP32 copy stays in the file");

    const Target target = find_target(plan.target);
    nlohmann::json meta = {
        {"embq_version", version()},
        {"created_by", build_description()},
        {"engine", engine},
        {"target",
         {{"name", target.name},
          {"runtime", to_string(is_lite_path(output) ? Runtime::Lite : Runtime::TorchScript)},
          {"built_on", describe_machine()}}},
        {"source_model", model.path.filename().string()},
        {"config", config_source},
        {"plan", plan_to_json(plan)},
        {"token_table_rows", token_rows}};
    if (!stored_together.empty()) meta[kStoredTogetherKey] = stored_together;
    if (calibration)
        meta["calibration"] = {{"file", fs::path(calibration->origin()).filename().string()},
                               {"observer", calibration->selected_observer()}};
    meta.update(provenance);
    torch::jit::ExtraFilesMap extra{{kMetadataEntry, meta.dump(2)}};
    if (!model.carried_card.empty()) extra[kCardEntry] = model.carried_card;
    if (!model.carried_tokenizer.empty()) extra[kTokenizerEntry] = model.carried_tokenizer;
    save_atomically(root, *graph, result.rewritten_calls, extra, output, token_rows,
                    result.warnings);
    result.output_file_bytes = bytes_on_disk(output);
    return result;
}

}  // namespace embq
