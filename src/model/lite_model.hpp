// PyTorch Mobile's lite interpreter (a .ptl file): writing one that is known to load and to
// compute what the TorchScript model computes, and reading why it would not.
#pragma once

#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/jit/mobile/module.h>
#include <torch/script.h>

namespace embq {

// A .ptl path: written for and run by the lite interpreter. The extension is PyTorch
// Mobile's convention, and the one way embq decides the format.
bool is_lite_path(const std::filesystem::path& path);

// Inputs for one small batch (2 rows x 8 tokens) built from forward's argument names: masks
// are ones, type ids zeros, anything else token ids below `token_rows` (0: unknown, ids below
// 100). nullopt when an argument is not a tensor.
std::optional<std::vector<c10::IValue>> sample_inputs(const c10::FunctionSchema& forward,
                                                      int64_t token_rows);

// `module` (its forward graph inlined in `graph`; `layers` the paths of its rewritten layers)
// as lite-interpreter bytes with `extra` under extra/, loaded back with the lite interpreter
// and, where sample_inputs can build a batch, run and compared with TorchScript's output on
// it. A Runtime error says which op the lite interpreter lacks and the layers using it, or
// by how much the outputs differ.
std::string lite_archive_bytes(torch::jit::Module& module, torch::jit::Graph& graph,
                               const std::vector<std::string>& layers,
                               const torch::jit::ExtraFilesMap& extra, int64_t token_rows,
                               std::vector<std::string>& warnings);

// "the lite interpreter has no aten::foo (used by a, b); ..." from its loader's error, or the
// error's first line when it names no missing op.
std::string describe_lite_failure(const std::exception& e, torch::jit::Graph& graph,
                                  const std::vector<std::string>& layers);

}  // namespace embq
