#include "embq/runtime.hpp"

#include <algorithm>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <faiss/Index.h>
#include <torch/version.h>

#include "embq/error.hpp"

#ifndef EMBQ_VERSION
#error "EMBQ_VERSION must be defined by the build"
#endif

namespace embq {

const char* version() noexcept { return EMBQ_VERSION; }

int thread_count() { return at::get_num_threads(); }

std::vector<std::string> supported_engines() {
    std::vector<std::string> names;
    for (const auto engine : at::globalContext().supportedQEngines()) {
        switch (engine) {
            case at::QEngine::FBGEMM: names.emplace_back("fbgemm"); break;
            case at::QEngine::QNNPACK: names.emplace_back("qnnpack"); break;
            case at::QEngine::ONEDNN: names.emplace_back("onednn"); break;
            default: break;  // NoQEngine is not an engine one can pick
        }
    }
    return names;
}

std::string auto_engine() {
    const auto engines = supported_engines();
    for (const char* preferred : {"fbgemm", "onednn", "qnnpack"})
        if (std::find(engines.begin(), engines.end(), preferred) != engines.end()) return preferred;
    return "";
}

void use_engine(const std::string& engine) {
    at::QEngine e;
    if (engine == "onednn")
        e = at::QEngine::ONEDNN;
    else if (engine == "qnnpack")
        e = at::QEngine::QNNPACK;
    else if (engine == "fbgemm")
        e = at::QEngine::FBGEMM;
    else
        throw config_error("unknown quantized engine '" + engine + "'");
    at::globalContext().setQEngine(e);
}

std::string build_description() {
    std::string engines;
    for (const auto& e : supported_engines()) engines += (engines.empty() ? "" : ",") + e;
    return std::string("embq ") + version() + " (libtorch " + TORCH_VERSION + ", FAISS " +
           std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) + "." +
           std::to_string(FAISS_VERSION_PATCH) +
           ", quantized engines: " + (engines.empty() ? "none" : engines) + ")";
}

}  // namespace embq
