#include "model/lite_model.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include <torch/csrc/jit/mobile/import.h>

#include "embq/error.hpp"
#include "embq/format.hpp"
#include "embq/stored_layers.hpp"
#include "model/graph_util.hpp"
#include "model/torch_util.hpp"

namespace embq {

namespace {

using torch::jit::Graph;
using torch::jit::Node;

// Outputs of one forward agree when every tensor in them does; the lite interpreter runs
// the same kernels, so anything above float noise is a fault in the export.
double max_abs_difference(const c10::IValue& a, const c10::IValue& b) {
    if (a.isTensor() && b.isTensor()) {
        const at::Tensor x = a.toTensor().to(at::kFloat), y = b.toTensor().to(at::kFloat);
        if (x.sizes() != y.sizes()) return std::numeric_limits<double>::infinity();
        return x.numel() == 0 ? 0.0 : (x - y).abs().max().item<double>();
    }
    if (a.isTuple() && b.isTuple()) {
        const auto& xs = a.toTupleRef().elements();
        const auto& ys = b.toTupleRef().elements();
        if (xs.size() != ys.size()) return std::numeric_limits<double>::infinity();
        double worst = 0;
        for (size_t i = 0; i < xs.size(); ++i)
            worst = std::max(worst, max_abs_difference(xs[i], ys[i]));
        return worst;
    }
    return 0.0;  // other outputs (dicts of strings, ...) are not compared
}

// "aten::foo.out" -> "aten::foo": the loader names overloads, graph nodes do not.
std::string without_overload(const std::string& op) { return op.substr(0, op.find('.')); }

// The layers a node of kind `op` serves: those whose module attributes feed it, or whose
// stored attributes on the root (the packed weights quantize registers there) do.
std::vector<std::string> layers_using(const std::string& op, Graph& graph,
                                      const std::vector<std::string>& layers) {
    const ModulePaths paths = module_paths(graph, "");
    std::set<std::string> found;
    for_each_node(graph.block(), [&](const Node* node) {
        if (node->kind().toQualString() != without_overload(op)) return;
        for (const torch::jit::Value* input : node->inputs()) {
            const Node* producer = input->node();
            if (producer->kind() != c10::prim::GetAttr) continue;
            const auto it = paths.find(producer->input(0));
            if (it == paths.end()) continue;
            if (!it->second.empty()) found.insert(it->second);
            const std::string name = producer->s(c10::attr::name);
            for (const std::string& layer : layers)
                if (name.rfind(stored_attribute_name(layer, ""), 0) == 0) found.insert(layer);
        }
    });
    return {found.begin(), found.end()};
}

}  // namespace

bool is_lite_path(const std::filesystem::path& path) { return path.extension() == ".ptl"; }

std::optional<std::vector<c10::IValue>> sample_inputs(const c10::FunctionSchema& forward,
                                                      int64_t token_rows) {
    constexpr int64_t kRows = 2, kTokens = 8;
    const int64_t id_limit = token_rows > 0 ? std::min<int64_t>(token_rows, 1000) : 100;
    std::vector<c10::IValue> inputs;
    const auto& args = forward.arguments();
    for (size_t i = 1; i < args.size(); ++i) {  // 0 is self
        if (args[i].type()->kind() != c10::TypeKind::TensorType) return std::nullopt;
        const std::string& name = args[i].name();
        if (name.find("mask") != std::string::npos)
            inputs.emplace_back(at::ones({kRows, kTokens}, at::kLong));
        else if (name.find("type") != std::string::npos)
            inputs.emplace_back(at::zeros({kRows, kTokens}, at::kLong));
        else
            inputs.emplace_back(at::arange(kRows * kTokens, at::kLong)
                                    .remainder(id_limit)
                                    .reshape({kRows, kTokens}));
    }
    return inputs;
}

std::string describe_lite_failure(const std::exception& e, Graph& graph,
                                  const std::vector<std::string>& layers) {
    const std::string what = e.what();
    const std::string marker = "Following ops cannot be found: [";
    const auto at = what.find(marker);
    if (at == std::string::npos) return first_line_of(e);
    const auto start = at + marker.size();
    const std::string list = what.substr(start, what.find(']', start) - start);
    std::vector<std::string> parts;
    std::istringstream ops(list);
    for (std::string op; std::getline(ops, op, ',');) {
        op.erase(0, op.find_first_not_of(' '));
        const auto users = layers_using(op, graph, layers);
        parts.push_back(op + (users.empty() ? "" : " (used by " + format_list(users) + ")"));
    }
    return "the lite interpreter has no " + format_list(parts, 99) +
           "; keep those layers in a scheme the mobile runtime has (fp32, fp16), or deploy the "
           "TorchScript .pt";
}

std::string lite_archive_bytes(torch::jit::Module& module, Graph& graph,
                               const std::vector<std::string>& layers,
                               const torch::jit::ExtraFilesMap& extra, int64_t token_rows,
                               std::vector<std::string>& warnings) {
    std::ostringstream archive;
    try {
        module._save_for_mobile(archive, extra);
    } catch (const std::exception& e) {
        throw runtime_failure("the model cannot be written for the lite interpreter: " +
                              describe_lite_failure(e, graph, layers));
    }
    std::string bytes = archive.str();
    std::istringstream in(bytes);
    torch::jit::mobile::Module lite;
    try {
        lite = torch::jit::_load_for_mobile(in, at::kCPU);
    } catch (const std::exception& e) {
        throw runtime_failure("the lite interpreter cannot load the written model: " +
                              describe_lite_failure(e, graph, layers));
    }
    const auto method = module.find_method("forward");
    const auto sample =
        method ? sample_inputs(method->function().getSchema(), token_rows) : std::nullopt;
    if (!sample) {
        warnings.push_back(
            "forward() takes inputs other than tensors: the .ptl was loaded back with the lite "
            "interpreter but not run; run 'embq embed' on it before shipping");
        return bytes;
    }
    c10::IValue expected, got;
    try {
        c10::InferenceMode guard;
        expected = module.forward(*sample);
        got = lite.forward(*sample);
    } catch (const std::exception& e) {
        throw runtime_failure("the lite interpreter cannot run the written model: " +
                              describe_lite_failure(e, graph, layers));
    }
    const double difference = max_abs_difference(expected, got);
    if (!(difference <= 1e-4))
        throw runtime_failure("the lite interpreter's output differs from TorchScript's by " +
                              format_fixed(difference, 6) + " on a sample batch; deploy the .pt");
    return bytes;
}

}  // namespace embq
