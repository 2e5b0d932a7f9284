// Quantization-aware fine-tuning against the FP32 model (`embq finetune`): when
// post-training quantization loses too much, a student copy of the model computes with
// the weights the config's schemes would store (src/finetune/student.hpp) and learns, on
// unlabeled text, to reproduce the frozen FP32 model's vectors and in-batch similarities.
// The best student on held-out text then goes through the normal quantize path, so the
// output is the same plain TorchScript `embq quantize` writes.
//
// Loss per batch of n texts, s_i and t_i the student's and teacher's L2-normalised vectors,
// S_l and T_l the student's and teacher's outputs of linear layer l (every position):
//   mean_i (1 - s_i . t_i)  +  similarity_weight * mean_ij (s_i . s_j - t_i . t_j)^2
//     + layer_weight * mean_l ||S_l - T_l||^2 / ||T_l||^2
// The last term (layer-wise distillation, as TernaryBERT and BinaryBERT train low-bit
// BERTs) tells each layer what its own output should have been, which the final vectors
// alone say only through every layer after it.
// Deterministic: texts in file order, no dropout, no random initialisation; the same
// inputs and thread count give the same output file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "embq/dataset.hpp"
#include "embq/workflow.hpp"

namespace embq {

struct FinetuneOptions {
    std::filesystem::path data;  // unlabeled text (.txt/.jsonl), read as a stream
    DatasetFormat format = DatasetFormat::Text;
    // The first `holdout` records are never trained on: they score the student.
    size_t holdout = 512;
    int64_t steps = 1000;
    int64_t batch_size = 32;
    double learning_rate = 5e-5;
    int64_t warmup_steps = -1;  // -1: 10% of steps; then cosine decay to 0
    double similarity_weight = 1.0;
    double layer_weight = 1.0;
    double clip_norm = 1.0;  // gradient norm clipping
    int64_t eval_every = 100;
    // Evaluations without a better held-out score before the run stops early.
    int64_t patience = 4;
};

// One scoring of the held-out texts: the student (simulated quantization) against FP32.
struct HeldOutScore {
    int64_t step = 0;
    double recall_at_10 = 0;  // top-10 neighbours among the held-out texts, self excluded
    double cosine_mean = 0;
    double cosine_p5 = 0;
    double loss = 0;  // mean training loss since the previous scoring (0 at step 0)
};

struct FinetuneProgress {
    int64_t step = 0, steps = 0;
    double loss = 0;     // this step's
    double seconds = 0;  // since training started
    const HeldOutScore* scored = nullptr;  // set on the steps that scored the held-out texts
};

struct FinetuneResult {
    HeldOutScore before;  // step 0: post-training quantization as simulated
    HeldOutScore best;    // the step the output takes its weights from
    std::vector<HeldOutScore> history;
    int64_t steps_run = 0;
    bool stopped_early = false;
    size_t simulated_layers = 0;
    size_t rounded_inputs = 0;  // call sites whose inputs the student rounds (int8, bf16)
    size_t trained_tensors = 0;
    // Trained tensors whose values training changed (every simulated layer's weight should).
    std::vector<std::string> changed_tensors;
    double seconds = 0;
    QuantizeResult quantized;
};

// Plans `request.config` on `request.model`, fine-tunes and writes the quantized model to
// `output` (nothing is written when any step fails). Usage errors, before any training,
// for a plan that quantizes nothing, a scheme that cannot be simulated, options that
// fine-tuning replaces (gptq rounding, bias correction, smoothing), schemes that need a
// calibration file, and too few texts; a Runtime error for a non-finite loss.
FinetuneResult finetune(const QuantizeRequest& request, const FinetuneOptions& options,
                        const std::filesystem::path& output,
                        const std::function<void(const FinetuneProgress&)>& on_progress = {});

}  // namespace embq
