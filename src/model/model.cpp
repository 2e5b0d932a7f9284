#include "embq/model.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <unordered_map>

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/mobile/import.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "embq/error.hpp"
#include "embq/runtime.hpp"
#include "model/graph_util.hpp"
#include "model/lite_model.hpp"
#include "model/torch_save_file.hpp"
#include "model/torch_util.hpp"

namespace embq {

namespace {

namespace fs = std::filesystem;
using torch::jit::Node;

bool starts_with_zip_magic(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

// Turns libtorch's multi-line loader error into one line that says what is wrong.
std::string describe_load_failure(const fs::path& path, const std::exception& e) {
    const std::string what = e.what();
    const std::string head = first_line_of(e);
    if (what.find("constants.pkl") != std::string::npos) {
        const std::string saved = describe_torch_save_file(path);
        if (!saved.empty())
            return saved +
                   "; export the model with torch.jit.save(torch.jit.trace(model, "
                   "example_inputs)) (or torch.jit.script) and pass that file";
    }
    if (what.find("PytorchStreamReader failed") != std::string::npos ||
        what.find("file not found") != std::string::npos)
        return "corrupt or truncated TorchScript archive (" + head + ")";
    if (what.find("constants.pkl") != std::string::npos || what.find("code/") != std::string::npos)
        return "a zip file but not a TorchScript archive; was it saved with torch.save() "
               "instead of torch.jit.save()? (" +
               head + ")";
    return "cannot load TorchScript archive (" + head + ")";
}

// The layer kind of a module whose forward applies a weight op to `self.weight`.
// Detecting by the op, not the class name, also finds layers of user-defined classes.
std::optional<LayerKind> detect_kind(const torch::jit::Module& m) {
    auto forward = m.find_method("forward");
    if (!forward || !m.hasattr("weight") || !m.attr("weight").isTensor()) return std::nullopt;
    // Saved scripted modules call torch.nn.functional helpers (F.embedding, ...) through
    // prim::CallFunction; inline a copy so the aten op itself is visible.
    const auto graph = forward->graph()->copy();
    torch::jit::Inline(*graph);
    const ModulePaths paths = module_paths(*graph, "");
    std::optional<LayerKind> kind;
    for_each_node(graph->block(), [&](const Node* node) {
        const WeightOp* op = weight_op(node);
        if (!kind && op && attribute_owner(node->input(op->weight_input), "weight", paths) == "")
            kind = op->kind;
    });
    return kind;
}

// Counts, for every submodule path, the method calls made on it anywhere in the model.
// Follows prim::GetAttr chains from each method's `self`, so a layer called twice from
// one forward counts 2 even when identical layers share a class type.
void count_calls(const torch::jit::Module& m, const std::string& path,
                 std::map<std::string, int>& calls) {
    for (const auto& method : m.get_methods()) {
        const auto graph = method.graph();
        const ModulePaths paths = module_paths(*graph, path);
        for_each_node(graph->block(), [&](const Node* node) {
            if (node->kind() != c10::prim::CallMethod) return;
            const auto it = paths.find(node->input(0));
            if (it != paths.end()) ++calls[it->second];
        });
    }
}

int64_t tensor_bytes(const at::Tensor& t) {
    return t.numel() * static_cast<int64_t>(t.element_size());
}

// The metadata entry read alone, before the model: the engine must be chosen before the
// model's packed int8 weights are unpacked and packed again for it. "" when there is none
// or the archive cannot be read (loading it then says why).
std::string metadata_before_loading(const fs::path& path) {
    try {
        caffe2::serialize::PyTorchStreamReader reader(path.string());
        const std::string record = std::string("extra/") + kMetadataEntry;
        if (!reader.hasRecord(record)) return "";
        const auto [data, size] = reader.getRecord(record);
        return std::string(static_cast<const char*>(data.get()), size);
    } catch (const std::exception&) {
        return "";
    }
}

void use_recorded_engine(const std::string& metadata) {
    const auto meta = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
    if (!meta.is_object() || !meta.contains("engine") || !meta["engine"].is_string()) return;
    const std::string engine = meta["engine"];
    const auto engines = supported_engines();
    if (std::find(engines.begin(), engines.end(), engine) != engines.end()) use_engine(engine);
}

LoadedModel load_archive(const fs::path& path, bool with_lite_interpreter) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw input_error(path.string() + ": no such file");
    if (fs::is_directory(path, ec))
        throw input_error(path.string() + ": is a directory, expected a TorchScript .pt file");
    if (!starts_with_zip_magic(path))
        throw input_error(path.string() +
                          ": not a TorchScript archive (not a zip file); save the model with "
                          "torch.jit.save(torch.jit.trace(...) or torch.jit.script(...))");
    use_recorded_engine(metadata_before_loading(path));

    LoadedModel loaded{path, {}, std::nullopt, std::nullopt, "", ""};
    torch::jit::ExtraFilesMap extra{{kMetadataEntry, ""}, {kCardEntry, ""}, {kTokenizerEntry, ""}};
    try {
        if (with_lite_interpreter) {
            loaded.lite = torch::jit::_load_for_mobile(path.string(), torch::kCPU, extra);
        } else {
            loaded.module = torch::jit::load(path.string(), torch::kCPU, extra);
            loaded.module.eval();
        }
    } catch (const std::exception& e) {
        throw input_error(path.string() + ": " +
                          (with_lite_interpreter
                               ? "cannot load it with the lite interpreter (" + first_line_of(e) +
                                     "); was it saved with _save_for_lite_interpreter?"
                               : describe_load_failure(path, e)));
    }
    loaded.carried_card = extra[kCardEntry];
    loaded.carried_tokenizer = extra[kTokenizerEntry];

    const std::string& meta = extra[kMetadataEntry];
    if (!meta.empty()) {
        try {
            loaded.embq_metadata = nlohmann::json::parse(meta);
        } catch (const nlohmann::json::exception& e) {
            throw input_error(path.string() + ": corrupt embq metadata (extra/" + kMetadataEntry +
                              "): " + e.what());
        }
    }
    return loaded;
}

}  // namespace

LoadedModel load_model(const fs::path& path) { return load_archive(path, false); }

LoadedModel load_model_to_run(const fs::path& path) {
    return load_archive(path, is_lite_path(path));
}

const c10::FunctionSchema& forward_schema(const LoadedModel& model) {
    if (model.lite) {
        const auto method = model.lite->find_method("forward");
        if (!method) throw input_error(model.path.string() + ": the model has no forward method");
        return method->function().getSchema();
    }
    const auto method = model.module.find_method("forward");
    if (!method) throw input_error(model.path.string() + ": the model has no forward method");
    return method->function().getSchema();
}

ModelInventory take_inventory(const torch::jit::Module& model) {
    std::map<std::string, int> type_uses;
    std::map<std::string, int> calls;
    for (const auto& entry : model.named_modules()) {
        ++type_uses[entry.value.type()->name()->qualifiedName()];
        count_calls(entry.value, entry.name, calls);
    }

    ModelInventory inv;
    for (const auto& entry : model.named_modules()) {
        const auto& m = entry.value;
        const std::string type_name = m.type()->name()->qualifiedName();
        if (const auto kind = detect_kind(m)) {
            Layer layer;
            layer.path = entry.name;
            layer.kind = *kind;
            const at::Tensor weight = m.attr("weight").toTensor();
            layer.weight_shape = weight.sizes().vec();
            layer.dtype = dtype_name(weight.scalar_type());
            layer.params = weight.numel();
            layer.bytes = tensor_bytes(weight);
            if (m.hasattr("bias") && m.attr("bias").isTensor()) {
                const at::Tensor bias = m.attr("bias").toTensor();
                layer.has_bias = true;
                layer.params += bias.numel();
                layer.bytes += tensor_bytes(bias);
            }
            layer.type_name = type_name;
            layer.type_shared = type_uses[type_name] > 1;
            layer.calls = calls[entry.name];
            inv.layers.push_back(std::move(layer));
            continue;
        }
        KeptModule kept{entry.name, type_name, 0, 0};
        for (const auto& p : m.named_parameters(/*recurse=*/false)) {
            kept.params += p.value.numel();
            kept.bytes += tensor_bytes(p.value);
        }
        if (kept.params > 0) inv.kept.push_back(std::move(kept));
    }
    return inv;
}

}  // namespace embq
