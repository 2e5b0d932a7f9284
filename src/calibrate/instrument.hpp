// Watching activations inside a TorchScript model for calibration. A temporary, in-memory
// copy of the model is instrumented: in its inlined forward graph every linear layer's
// input and output pass through `embq::observe(x, site)`, an identity op registered by
// libembq whose kernel hands the tensor to the tap installed by the caller. The op only
// exists in the process that registered it, so an instrumented model is never saved;
// calibration loads its own copy of the model and throws it away afterwards.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

namespace embq {

// What one observe site watches.
struct ObservedSite {
    std::string layer;    // the linear layer's module path
    bool output = false;  // false: the layer's input; true: its output
};

// Inlines `module`'s forward and wraps the input and output of every call of a linear
// layer (aten::linear on a submodule's weight) in embq::observe. Returns the sites by id.
// The module must not be saved afterwards.
std::vector<ObservedSite> instrument_linear_layers(torch::jit::Module& module);

// Receives every observed tensor: the site id and the activation, as the model produced it.
using ActivationTap = std::function<void(int64_t site, const at::Tensor& activation)>;

// Installs `tap` for its lifetime; one at a time in the process. Observe ops run while
// no tap is installed pass their input through untouched.
class ScopedActivationTap {
public:
    explicit ScopedActivationTap(ActivationTap tap);
    ~ScopedActivationTap();
    ScopedActivationTap(const ScopedActivationTap&) = delete;
    ScopedActivationTap& operator=(const ScopedActivationTap&) = delete;
};

}  // namespace embq
