// embq inspect MODEL.pt [--json]: the layers of a model and what embq stored in it.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/model.hpp"
#include "embq/stored_layers.hpp"
#include "path_options.hpp"

namespace embq::cli {

namespace {

struct InspectOptions {
    std::string model;
    bool json = false;
};

int run_inspect(const InspectOptions& opt) {
    const LoadedModel loaded = load_model(opt.model);
    const ModelInventory inventory = take_inventory(loaded.module);
    const bool ours = is_embq_output(loaded);
    if (opt.json) {
        nlohmann::json out = inventory_to_json(inventory);
        out["model"] = opt.model;
        out["embq"] = loaded.embq_metadata ? *loaded.embq_metadata : nlohmann::json(nullptr);
        out["stored"] = ours ? stored_inventory_to_json(take_stored_inventory(loaded))
                             : nlohmann::json(nullptr);
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (ours) {
        // The inventory of an embq output would read the FP32 placeholders left in place
        // of rewritten weights; what matters is what each layer is stored as.
        const StoredModel stored = take_stored_inventory(loaded);
        std::cout << opt.model << ": written by embq, " << stored.layers.size()
                  << " planned layers\n\n"
                  << format_stored_inventory(stored, *loaded.embq_metadata)
                  << "The stored config, plan and versions: embq inspect " << opt.model
                  << " --json\n";
        return 0;
    }
    std::cout << opt.model << ": " << inventory.layers.size() << " quantizable layers\n\n"
              << format_inventory(inventory);
    return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& parent) {
    auto opt = std::make_shared<InspectOptions>();
    CLI::App* app = parent.add_subcommand(
        "inspect",
        "List the layers of a TorchScript model that a scheme could quantize, with sizes "
        "and type sharing; for a model embq wrote, what each layer is stored as and the "
        "bytes it really takes.");
    reads_model(app->add_option("model", opt->model, "TorchScript model file (.pt)"))->required();
    app->add_flag("--json", opt->json,
                  "Print the inventory as JSON instead of tables (for an embq output also the "
                  "stored metadata: config, plan, versions)");
    return {app, [opt] { return run_inspect(*opt); }};
}

}  // namespace embq::cli
