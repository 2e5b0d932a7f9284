#include "embq/gates.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "embq/error.hpp"

namespace embq {

namespace {

const std::string kGateSyntax =
    "a gate is NAME OP NUMBER with OP one of >= > <= <, e.g. 'recall@10>=0.98'; "
    "'embq eval --list-metrics' prints every NAME";

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

const char* to_string(Gate::Op op) noexcept {
    switch (op) {
        case Gate::Op::GreaterEqual: return ">=";
        case Gate::Op::Greater: return ">";
        case Gate::Op::LessEqual: return "<=";
        case Gate::Op::Less: return "<";
    }
    return "?";
}

Gate parse_gate(const std::string& text) {
    const auto op_at = text.find_first_of("<>=!");
    if (op_at == std::string::npos)
        throw usage_error("--gate '" + text + "': no comparison; " + kGateSyntax);
    Gate gate;
    gate.text = text;
    gate.metric = trim(text.substr(0, op_at));
    size_t number_at = op_at + 1;
    const bool has_equal = op_at + 1 < text.size() && text[op_at + 1] == '=';
    if (text[op_at] == '>') {
        gate.op = has_equal ? Gate::Op::GreaterEqual : Gate::Op::Greater;
    } else if (text[op_at] == '<') {
        gate.op = has_equal ? Gate::Op::LessEqual : Gate::Op::Less;
    } else {
        throw usage_error("--gate '" + text + "': unsupported comparison; " + kGateSyntax);
    }
    if (has_equal) ++number_at;
    if (gate.metric.empty())
        throw usage_error("--gate '" + text + "': no metric name; " + kGateSyntax);
    const std::string number = trim(text.substr(number_at));
    char* end = nullptr;
    gate.threshold = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(gate.threshold))
        throw usage_error("--gate '" + text + "': '" + number + "' is not a number; " +
                          kGateSyntax);
    gate.resolved = resolve_metric(gate.metric);
    return gate;
}

std::string GateVerdict::explain() const {
    char value_text[32] = "missing";
    if (value) std::snprintf(value_text, sizeof value_text, "%.4f", *value);
    char threshold_text[32];
    std::snprintf(threshold_text, sizeof threshold_text, "%g", gate.threshold);
    return gate.metric + " = " + value_text + " (needs " + to_string(gate.op) + " " +
           threshold_text + "): " + (passed ? "PASS" : "FAIL") +
           (reason.empty() ? "" : " (" + reason + ")");
}

std::vector<GateVerdict> check_gates(const std::vector<Gate>& gates, const MetricValues& values) {
    const double nonfinite = values.get("nonfinite_rows").value_or(0);
    std::vector<GateVerdict> verdicts;
    for (const auto& gate : gates) {
        GateVerdict v;
        v.gate = gate;
        v.value = values.get(gate.metric);
        if (v.value && std::isfinite(*v.value)) {
            const double x = *v.value;
            switch (gate.op) {
                case Gate::Op::GreaterEqual: v.passed = x >= gate.threshold; break;
                case Gate::Op::Greater: v.passed = x > gate.threshold; break;
                case Gate::Op::LessEqual: v.passed = x <= gate.threshold; break;
                case Gate::Op::Less: v.passed = x < gate.threshold; break;
            }
        }
        if (nonfinite > 0 && gate.metric != "nonfinite_rows") {
            v.passed = false;
            v.reason = std::to_string(static_cast<int64_t>(nonfinite)) +
                       " candidate vectors are not finite";
        }
        verdicts.push_back(v);
    }
    return verdicts;
}

}  // namespace embq
