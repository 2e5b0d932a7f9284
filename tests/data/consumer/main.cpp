// Plans the shipped int8 config for a model through libembq's public headers only and
// prints the layer count and the planned size ratio.
#include <cstdio>

#include "embq/config.hpp"
#include "embq/model.hpp"
#include "embq/plan.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: consumer MODEL.pt CONFIG.json\n");
        return 2;
    }
    const embq::LoadedModel model = embq::load_model(argv[1]);
    const embq::ModelInventory inventory = embq::take_inventory(model.module);
    const embq::Plan plan = embq::make_plan(embq::load_config(argv[2]), inventory, {});
    std::printf("%zu layers, planned %.3f of the bytes\n", inventory.layers.size(),
                static_cast<double>(plan.bytes_after()) / static_cast<double>(plan.bytes_before()));
    return 0;
}
