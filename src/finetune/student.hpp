// The model quantization-aware fine-tuning trains: a copy of the FP32 model in which
// every layer the plan quantizes computes with the weight its stored codes would
// dequantize to (and rounds its inputs as the quantized layer will), while gradients pass
// straight through the rounding to a latent FP32 weight (the straight-through estimator).
// Every other floating-point parameter (biases, LayerNorm, layers kept FP32) trains too.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <torch/script.h>

#include "embq/plan.hpp"
#include "finetune/simulation.hpp"

namespace embq {

struct SimulatedLayer {
    std::string path;
    torch::jit::Module module;  // the student's submodule whose "weight" is replaced
    SimulationContext::StoredWeight stored_weight;
    at::Tensor latent;  // the FP32 weight the optimiser updates (a leaf)
};

// Simulation of every layer the plan rewrites; a Usage error naming the layers whose
// scheme or options cannot be simulated, and one when the plan quantizes nothing.
std::map<std::string, SimulationContext> simulations_for(const Plan& plan);

class Student {
public:
    // Loads its own copy of `model_path` (the teacher and the output use other copies).
    Student(const std::filesystem::path& model_path, const Plan& plan);

    torch::jit::Module& module() { return module_; }

    // What the optimiser updates: each simulated layer's latent weight, then every other
    // floating-point parameter of the model.
    std::vector<at::Tensor> parameters() const;

    // Sets each simulated layer's weight to latent + (stored(latent) - latent).detach():
    // the forward pass sees the stored weight, the backward pass the identity. Call
    // before every forward.
    void refresh();

    // The trained tensors by their path in the model ("encoder.layer.0.fc.weight"),
    // detached copies: what the output takes from training.
    std::map<std::string, at::Tensor> snapshot() const;

    size_t simulated_layers() const { return layers_.size(); }
    size_t rounded_inputs() const { return rounded_inputs_; }

private:
    torch::jit::Module module_;
    std::vector<SimulatedLayer> layers_;
    std::map<std::string, at::Tensor> others_;  // path -> parameter, trained in place
    size_t rounded_inputs_ = 0;  // call sites whose input the graph now rounds
};

}  // namespace embq
