#include "quantize/engine.hpp"

#include <ATen/Context.h>

#include "embq/error.hpp"

namespace embq {

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

}  // namespace embq
