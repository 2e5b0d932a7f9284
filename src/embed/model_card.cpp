#include "embq/model_card.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/json_text.hpp"
#include "core/suggest.hpp"
#include "embq/error.hpp"

namespace embq {

namespace {

const std::vector<std::string> kCardKeys = {"inputs",  "max_length", "output",
                                            "pooling", "normalize",  "tokenizer"};

struct PoolingName {
    Pooling pooling;
    const char* name;
};
constexpr PoolingName kPoolingNames[] = {
    {Pooling::None, "none"}, {Pooling::Mean, "mean"}, {Pooling::Cls, "cls"}, {Pooling::Max, "max"}};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

[[noreturn]] void fail(const std::string& origin, const std::string& key, const std::string& what) {
    throw input_error(origin + ": " + key + ": " + what);
}

OutputSelector parse_output(const nlohmann::json& v, const std::string& origin) {
    OutputSelector out;
    if (v.is_string() && v.get<std::string>() == "tensor") return out;
    if (v.is_object() && v.size() == 1 && v.contains("index") && v["index"].is_number_integer() &&
        v["index"].get<int64_t>() >= 0) {
        out.kind = OutputSelector::Kind::TupleIndex;
        out.index = v["index"].get<int64_t>();
        return out;
    }
    if (v.is_object() && v.size() == 1 && v.contains("key") && v["key"].is_string()) {
        out.kind = OutputSelector::Kind::DictKey;
        out.key = v["key"].get<std::string>();
        return out;
    }
    fail(origin, "output",
         "expected \"tensor\", {\"index\": N} (a tuple element) or {\"key\": \"name\"} (a dict "
         "entry)");
}

}  // namespace

const std::vector<std::string>& known_model_inputs() {
    static const std::vector<std::string> names = {"input_ids", "attention_mask", "token_type_ids"};
    return names;
}

const char* to_string(Pooling pooling) noexcept {
    for (const auto& p : kPoolingNames)
        if (p.pooling == pooling) return p.name;
    return "?";
}

std::string OutputSelector::describe() const {
    switch (kind) {
        case Kind::Tensor: return "the tensor";
        case Kind::TupleIndex: return "tuple element " + std::to_string(index);
        case Kind::DictKey: return "dict key '" + key + "'";
    }
    return "?";
}

std::string ModelCard::describe() const {
    std::string inputs_text;
    for (const auto& i : inputs) inputs_text += (inputs_text.empty() ? "" : ", ") + i;
    return "inputs (" + inputs_text + "), max_length " + std::to_string(max_length) + ", output " +
           output.describe() + ", pooling " + to_string(pooling) +
           (normalize ? ", L2-normalised" : "") +
           (tokenizer.empty() ? ", no tokenizer" : ", tokenizer " + tokenizer.string());
}

ModelCard parse_model_card(const nlohmann::json& doc, const std::string& origin,
                           const std::filesystem::path& base_dir) {
    if (!doc.is_object()) throw input_error(origin + ": a model card is a JSON object");
    ModelCard card;
    for (const auto& [key, value] : doc.items()) {
        if (key == "inputs") {
            if (!value.is_array() || value.empty())
                fail(origin, key, "expected a non-empty array of input names");
            card.inputs.clear();
            for (const auto& name : value) {
                const auto& known = known_model_inputs();
                if (!name.is_string() ||
                    std::find(known.begin(), known.end(), name.get<std::string>()) == known.end())
                    fail(origin, key,
                         "unknown input " + name.dump() + " (known: " + join(known) + ")");
                card.inputs.push_back(name.get<std::string>());
            }
        } else if (key == "max_length") {
            if (!value.is_number_integer() || value.get<int64_t>() < 2)
                fail(origin, key, "expected an integer >= 2");
            card.max_length = value.get<int64_t>();
        } else if (key == "output") {
            card.output = parse_output(value, origin);
        } else if (key == "pooling") {
            bool found = false;
            for (const auto& p : kPoolingNames) {
                if (value.is_string() && value.get<std::string>() == p.name) {
                    card.pooling = p.pooling;
                    found = true;
                }
            }
            if (!found) fail(origin, key, "expected one of none, mean, cls, max");
        } else if (key == "normalize") {
            if (!value.is_boolean()) fail(origin, key, "expected true or false");
            card.normalize = value.get<bool>();
        } else if (key == "tokenizer") {
            if (!value.is_string() || value.get<std::string>().empty())
                fail(origin, key, "expected a file path");
            const std::filesystem::path p = value.get<std::string>();
            card.tokenizer = p.is_absolute() ? p : base_dir / p;
        } else {
            const auto suggestion = closest_match(key, kCardKeys);
            throw input_error(origin + ": unknown key '" + key + "'" +
                              (suggestion ? "; did you mean '" + *suggestion + "'?" : "") +
                              " (valid keys: " + join(kCardKeys) + ")");
        }
    }
    return card;
}

ModelCard load_model_card(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw input_error(path.string() + ": cannot read model card (no such file?)");
    std::stringstream text;
    text << in.rdbuf();
    refuse_nul_bytes(text.str(), path.string());
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::exception& e) {
        throw input_error(path.string() + ": invalid JSON (" + json_error_reason(e) + ")");
    }
    return parse_model_card(doc, path.string(), path.parent_path());
}

nlohmann::json model_card_to_json(const ModelCard& card) {
    nlohmann::json output = "tensor";
    if (card.output.kind == OutputSelector::Kind::TupleIndex)
        output = {{"index", card.output.index}};
    if (card.output.kind == OutputSelector::Kind::DictKey) output = {{"key", card.output.key}};
    nlohmann::json j = {{"inputs", card.inputs},
                        {"max_length", card.max_length},
                        {"output", output},
                        {"pooling", to_string(card.pooling)},
                        {"normalize", card.normalize}};
    if (!card.tokenizer.empty()) j["tokenizer"] = card.tokenizer.string();
    return j;
}

}  // namespace embq
