// The one table of schemes. Adding a scheme: write src/schemes/<name>.cpp with a
// make_<name>_scheme() factory, declare it in src/schemes/schemes.hpp, add a row here,
// add its name to configs/embq-config.schema.json (a test checks the two agree) and
// describe it in configs/README.md.
#include <cstdlib>

#include "core/text_table.hpp"
#include "embq/scheme.hpp"
#include "quantize/rewrite_context.hpp"
#include "schemes/schemes.hpp"

namespace embq {

void Scheme::rewrite_together(std::vector<RewriteContext>& uses,
                              const ResolvedOptions& options) const {
    for (RewriteContext& use : uses) rewrite(use, options);
}

const char* to_string(ActivationRange range) noexcept {
    switch (range) {
        case ActivationRange::Row: return "row";
        case ActivationRange::Grid: return "grid";
        case ActivationRange::Exact: return "exact";
    }
    return "exact";
}

std::optional<ActivationRange> parse_activation_range(std::string_view text) {
    if (text == "row") return ActivationRange::Row;
    if (text == "grid") return ActivationRange::Grid;
    if (text == "exact") return ActivationRange::Exact;
    return std::nullopt;
}

const char* to_string(Rounding rounding) noexcept {
    return rounding == Rounding::Gptq ? "gptq" : "nearest";
}

std::optional<Rounding> parse_rounding(std::string_view text) {
    if (text == "nearest") return Rounding::Nearest;
    if (text == "gptq") return Rounding::Gptq;
    return std::nullopt;
}

std::optional<Granularity> Granularity::parse(std::string_view text) {
    if (text == "per_tensor") return per_tensor();
    if (text == "per_channel") return per_channel();
    constexpr std::string_view prefix = "group:";
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    const std::string digits(text.substr(prefix.size()));
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const int n = std::atoi(digits.c_str());
    if (n <= 0) return std::nullopt;
    return group(n);
}

std::string Granularity::to_string() const {
    switch (kind) {
        case Kind::PerTensor: return "per_tensor";
        case Kind::PerChannel: return "per_channel";
        case Kind::Group: return "group:" + std::to_string(group_size);
    }
    return "?";
}

const std::vector<const Scheme*>& all_schemes() {
    static const std::vector<std::unique_ptr<Scheme>> owned = [] {
        std::vector<std::unique_ptr<Scheme>> v;
        v.push_back(make_fp32_scheme());
        v.push_back(make_fp16_scheme());
        v.push_back(make_bf16_scheme());
        v.push_back(make_int8_dynamic_scheme());
        v.push_back(make_int8_static_scheme());
        v.push_back(make_int4_weight_scheme());
        v.push_back(make_int8_rowwise_scheme());
        v.push_back(make_int4_rowwise_scheme());
        v.push_back(make_nf4_scheme());
        return v;
    }();
    static const std::vector<const Scheme*> view = [] {
        std::vector<const Scheme*> v;
        for (const auto& s : owned) v.push_back(s.get());
        return v;
    }();
    return view;
}

const Scheme* find_scheme(std::string_view name) {
    for (const Scheme* s : all_schemes())
        if (s->name() == name) return s;
    return nullptr;
}

std::vector<std::string> scheme_names(const std::function<bool(const Scheme&)>& keep) {
    std::vector<std::string> names;
    for (const Scheme* s : all_schemes())
        if (!keep || keep(*s)) names.emplace_back(s->name());
    return names;
}

std::string supported_kinds(const Scheme& scheme) {
    std::string out;
    for (LayerKind kind : all_layer_kinds())
        if (scheme.supports(kind)) out += (out.empty() ? "" : ", ") + std::string(to_string(kind));
    return out.empty() ? "no" : out;
}

namespace {

std::string needs_text(const Scheme& scheme) {
    std::string out;
    if (scheme.needs_calibration()) out = "calibration";
    if (scheme.needs_quantized_engine())
        out += (out.empty() ? "" : ", ") + std::string("quantized engine");
    return out.empty() ? "-" : out;
}

}  // namespace

std::string format_scheme_table() {
    TextTable table({"scheme", "layers", "options", "needs", "what it does"});
    for (const Scheme* s : all_schemes()) {
        std::string options = s->takes_options() ? std::string(s->options_help()) : "-";
        if (s->quantizes_linear_weight()) options += "; bias_correction; rounding nearest|gptq";
        if (s->smooths_activations()) options += "; smoothing ALPHA";
        if (s->picks_activation_range())
            options += "; activation_range row (default), grid or exact";
        table.add_row({std::string(s->name()), supported_kinds(*s), options, needs_text(*s),
                       std::string(s->summary())});
    }
    return table.render() +
           "Options are set per rule or default in a config (configs/README.md). \"calibration\": "
           "a\n"
           "calibration file (--calibration) or the config's \"calibration\" block; \"quantized "
           "engine\":\n"
           "the build's oneDNN, QNNPACK or FBGEMM, checked by 'embq plan'.\n";
}

}  // namespace embq
