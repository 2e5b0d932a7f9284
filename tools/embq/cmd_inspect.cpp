// embq inspect MODEL.pt [--json]: the layers of a model and what embq stored in it.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "embq/model.hpp"
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
    if (opt.json) {
        nlohmann::json out = inventory_to_json(inventory);
        out["model"] = opt.model;
        out["embq"] = loaded.embq_metadata ? *loaded.embq_metadata : nlohmann::json(nullptr);
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << opt.model << ": " << inventory.layers.size() << " quantizable layers\n\n"
              << format_inventory(inventory);
    if (loaded.embq_metadata) {
        std::cout << "\nWritten by embq; stored metadata (extra/" << kMetadataEntry << "):\n"
                  << loaded.embq_metadata->dump(2) << "\n";
    }
    return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& parent) {
    auto opt = std::make_shared<InspectOptions>();
    CLI::App* app = parent.add_subcommand(
        "inspect",
        "List the layers of a TorchScript model that a scheme could quantize, with sizes "
        "and type sharing, and what embq stored in archives it wrote.");
    reads_file(app->add_option("model", opt->model, "TorchScript model file (.pt)"))->required();
    app->add_flag("--json", opt->json, "Print the inventory as JSON instead of tables");
    return {app, [opt] { return run_inspect(*opt); }};
}

}  // namespace embq::cli
