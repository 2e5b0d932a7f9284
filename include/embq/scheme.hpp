// Quantization schemes: how one layer is stored and computed. Each scheme lives in its
// own file under src/schemes/ behind this interface and is registered by name in one
// table (src/schemes/registry.cpp); that table drives config validation, `embq schemes`,
// every message that lists schemes, the plan and the rewrite. No libtorch in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embq/layers.hpp"

namespace embq {

// How finely scales are chosen: one per tensor, one per output channel (row), or one
// per group of N consecutive input elements within a row.
struct Granularity {
    enum class Kind { PerTensor, PerChannel, Group };
    Kind kind = Kind::PerChannel;
    int group_size = 0;  // only for Group

    static Granularity per_tensor() { return {Kind::PerTensor, 0}; }
    static Granularity per_channel() { return {Kind::PerChannel, 0}; }
    static Granularity group(int n) { return {Kind::Group, n}; }

    // "per_tensor", "per_channel", "group:64"; nullopt when the text is none of these.
    static std::optional<Granularity> parse(std::string_view text);
    std::string to_string() const;
    bool operator==(const Granularity& o) const {
        return kind == o.kind && group_size == o.group_size;
    }
};

// How a scheme that quantizes activations per call (int8_dynamic) picks their range:
// Row gives each row (token) its own min..max, mapped onto one fixed range, so the engine
// builds one kernel per layer and is the finest; Grid rounds the call's range outward to
// a few values per octave, so the engine reuses its kernels; Exact uses each call's own
// min and max (a new kernel per call on oneDNN). See src/schemes/int8_dynamic.cpp.
enum class ActivationRange { Row, Grid, Exact };
const char* to_string(ActivationRange range) noexcept;  // "row", "grid", "exact"
std::optional<ActivationRange> parse_activation_range(std::string_view text);

// How a linear layer's weight is rounded onto its scheme's grid. Nearest rounds every
// weight alone. Gptq (OPTQ, Frantar et al. 2023) rounds column by column and moves each
// column's rounding error onto the columns not yet rounded, weighted by the inverse of
// the calibration inputs' Gram matrix X^T X, so the layer's *output* error on data like
// the calibration's is what is minimised (src/quantize/gptq.cpp). Needs a calibration
// recorded with the input Gram matrices (`embq calibrate --input-gram`).
enum class Rounding { Nearest, Gptq };
const char* to_string(Rounding rounding) noexcept;  // "nearest", "gptq"
std::optional<Rounding> parse_rounding(std::string_view text);

// Per-layer options a config rule may set. Unset fields take the scheme's defaults.
struct SchemeOptions {
    std::optional<Granularity> granularity;
    std::optional<bool> symmetric;
    std::optional<bool> reduce_range;
    // Weight-quantized linear layers only: add (W - Wq) E[x] to the bias, the expected
    // output shift the quantized weight causes on the calibration data. Needs calibration.
    std::optional<bool> bias_correction;
    std::optional<ActivationRange> activation_range;
    std::optional<Rounding> rounding;  // weight-quantized linear layers only
    // int8 linear layers only: SmoothQuant's migration strength alpha in (0, 1]. Input
    // channel j is divided by s_j = max|x_j|^alpha / max|W_:j|^(1-alpha) and weight
    // column j multiplied by it, so outlier channels' range moves into the weights.
    // Needs calibration (the per-channel input ranges). kSearchedSmoothing ("auto"):
    // alpha chosen per layer (src/schemes/int8_linear.cpp), which needs the Gram matrix.
    std::optional<double> smoothing;
};

inline constexpr double kSearchedSmoothing = -1.0;

// Options with every field decided (the scheme's defaults filled in).
struct ResolvedOptions {
    Granularity granularity = Granularity::per_channel();
    bool symmetric = true;
    bool reduce_range = false;
    bool bias_correction = false;
    ActivationRange activation_range = ActivationRange::Exact;  // meaningful where picked
    Rounding rounding = Rounding::Nearest;
    double smoothing = 0.0;  // 0: none; alpha; or kSearchedSmoothing

    bool operator==(const ResolvedOptions& o) const {
        return granularity == o.granularity && symmetric == o.symmetric &&
               reduce_range == o.reduce_range && bias_correction == o.bias_correction &&
               activation_range == o.activation_range && rounding == o.rounding &&
               smoothing == o.smoothing;
    }
};

class RewriteContext;  // src/quantize/rewrite_context.hpp: the graph, the node, the layer's tensors
class SimulationContext;  // src/finetune/simulation.hpp: how fine-tuning simulates the layer

class Scheme {
public:
    virtual ~Scheme() = default;

    virtual std::string_view name() const = 0;
    // One line for `--help`, docs and the plan: what it stores and how it computes.
    virtual std::string_view summary() const = 0;
    virtual bool supports(LayerKind kind) const = 0;
    // Whether the scheme changes the layer at all (`fp32` does not).
    virtual bool rewrites() const { return true; }
    virtual bool needs_calibration() const { return false; }
    // Whether it runs a quantized engine's kernels (oneDNN, QNNPACK, FBGEMM), so that
    // the engine decides whether it runs at all.
    virtual bool needs_quantized_engine() const { return false; }
    // The arithmetic its layers run on, which decides what hardware makes it fast (`embq
    // doctor`): FP32 (after dequantizing what it stores smaller), the engine's int8
    // kernels, or bfloat16 matmuls.
    enum class Compute { Fp32, Int8, Bf16 };
    virtual Compute compute() const {
        return needs_quantized_engine() ? Compute::Int8 : Compute::Fp32;
    }
    // Whether "bias_correction" and "rounding" apply: it quantizes a linear layer's weight.
    virtual bool quantizes_linear_weight() const { return false; }
    // Whether "smoothing" applies: it computes a linear layer in int8, activations too.
    virtual bool smooths_activations() const { return false; }
    // Whether "activation_range" applies: it quantizes activations with a range it picks
    // on every call.
    virtual bool picks_activation_range() const { return false; }
    // The granularity/symmetric/reduce_range choices it accepts, one line for
    // `embq schemes` ("per_channel (default) or per_tensor; reduce_range"); empty when it
    // takes none (fp32, fp16, bf16: their resolved options are placeholders, not shown).
    virtual std::string_view options_help() const { return {}; }
    bool takes_options() const { return !options_help().empty(); }

    // Fills in defaults and checks the options against this layer. Throws a Config error
    // that names the layer when they cannot apply (e.g. a group size that does not
    // divide the layer's input width, or per_tensor for a scheme that has none).
    virtual ResolvedOptions resolve(const Layer& layer, const SchemeOptions& options) const = 0;

    // Bytes the layer's tensors take once stored by this scheme.
    virtual int64_t stored_bytes(const Layer& layer, const ResolvedOptions& options) const = 0;

    // Why this scheme cannot run with `engine` on this build, or nullopt when it can.
    // Checked by running the ops the scheme emits on a tiny input, not by a table.
    virtual std::optional<std::string> unavailable_reason(const std::string& engine) const {
        (void)engine;
        return std::nullopt;
    }

    // Rewrites one use of the layer in the model's forward graph (implemented in the
    // scheme's own file, where libtorch is included).
    virtual void rewrite(RewriteContext& ctx, const ResolvedOptions& options) const = 0;

    // Whether uses of several layers that read the same input, all with these options,
    // can be rewritten as one (rewrite_together): int8_dynamic runs a transformer's query,
    // key and value as one int8 matmul on their stacked weights, one kernel call and one
    // quantization of the input instead of three.
    virtual bool rewrites_together(const ResolvedOptions& options) const {
        (void)options;
        return false;
    }
    // Rewrites `uses` (uses of different layers in one block, in graph order, reading the
    // same input that nothing writes, options equal) together. Quantize calls it only
    // where rewrites_together(options) holds; the default rewrites each on its own.
    virtual void rewrite_together(std::vector<RewriteContext>& uses,
                                  const ResolvedOptions& options) const;

    // How quantization-aware fine-tuning (`embq finetune`) simulates the layer in FP32:
    // the weight its stored codes dequantize to (rounded to nearest, on the grid rewrite()
    // would choose from that weight) and how its inputs are rounded at run time. Returns
    // false when the scheme cannot be simulated (finetune refuses such a plan up front).
    virtual bool simulate(SimulationContext& ctx, const ResolvedOptions& options) const {
        (void)ctx;
        (void)options;
        return false;
    }
};

// Every registered scheme, in the order the table lists them.
const std::vector<const Scheme*>& all_schemes();
const Scheme* find_scheme(std::string_view name);

// Names of the registered schemes for which `keep` holds, in table order: what messages
// that list schemes print, so they never go stale when a scheme is added.
std::vector<std::string> scheme_names(const std::function<bool(const Scheme&)>& keep = {});
// The kinds of layer a scheme applies to: "linear", "linear, embedding, embedding_bag".
std::string supported_kinds(const Scheme& scheme);

// The scheme table as `embq schemes` prints it: name, layer kinds, options, what it
// needs, and its summary.
std::string format_scheme_table();

}  // namespace embq
