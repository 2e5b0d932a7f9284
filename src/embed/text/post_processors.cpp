// Post-processors: TemplateProcessing (single-sequence template), BertProcessing,
// RobertaProcessing, ByteLevel (offsets only: no change to ids), Sequence.
#include "embed/text/components.hpp"

namespace embq::text {
namespace {

struct TemplateItem {
    bool is_sequence = false;  // $A
    std::vector<int64_t> ids;  // the special token's ids
    int64_t type_id = 0;
    std::string name;
};

class Template final : public PostProcessor {
public:
    explicit Template(std::vector<TemplateItem> items) : items_(std::move(items)) {
        for (const auto& it : items_)
            if (!it.is_sequence) added_ += it.ids.size();
    }

    size_t added_tokens() const override { return added_; }

    void process(const std::vector<int64_t>& content, Encoding& out) const override {
        out.ids.clear();
        out.type_ids.clear();
        out.ids.reserve(content.size() + added_);
        out.type_ids.reserve(content.size() + added_);
        for (const auto& it : items_) {
            if (it.is_sequence) {
                out.ids.insert(out.ids.end(), content.begin(), content.end());
                out.type_ids.insert(out.type_ids.end(), content.size(), it.type_id);
            } else {
                out.ids.insert(out.ids.end(), it.ids.begin(), it.ids.end());
                out.type_ids.insert(out.type_ids.end(), it.ids.size(), it.type_id);
            }
        }
    }

    std::string describe() const override {
        std::string s;
        for (const auto& it : items_)
            s += (s.empty() ? "" : " ") + (it.is_sequence ? std::string("$A") : it.name);
        return "template " + s;
    }

private:
    std::vector<TemplateItem> items_;
    size_t added_ = 0;
};

class Identity final : public PostProcessor {
public:
    size_t added_tokens() const override { return 0; }
    void process(const std::vector<int64_t>& content, Encoding& out) const override {
        out.ids = content;
        out.type_ids.assign(content.size(), 0);
    }
    std::string describe() const override { return "no special tokens"; }
};

std::unique_ptr<PostProcessor> cls_sep(const Json& json, const LoadContext& ctx,
                                       const std::string& what) {
    auto read = [&](const char* key) {
        const auto it = json.find(key);
        if (it == json.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() ||
            !(*it)[1].is_number_integer())
            ctx.fail(what + ": '" + key + "' must be [token, id]");
        return std::make_pair((*it)[0].get<std::string>(), (*it)[1].get<int64_t>());
    };
    const auto cls = read("cls");
    const auto sep = read("sep");
    return make_cls_sep_processor(cls.second, cls.first, sep.second, sep.first);
}

const char* const kSupported =
    "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence";

}  // namespace

std::unique_ptr<PostProcessor> make_cls_sep_processor(int64_t cls_id, const std::string& cls,
                                                      int64_t sep_id, const std::string& sep) {
    std::vector<TemplateItem> items(3);
    items[0].ids = {cls_id};
    items[0].name = cls;
    items[1].is_sequence = true;
    items[2].ids = {sep_id};
    items[2].name = sep;
    return std::make_unique<Template>(std::move(items));
}

std::unique_ptr<PostProcessor> make_post_processor(const Json& json, const LoadContext& ctx,
                                                   const TokenLookup& lookup) {
    if (json.is_null()) return std::make_unique<Identity>();
    if (!json.is_object() || !json.contains("type") || !json["type"].is_string())
        ctx.fail("post_processor must be an object with a \"type\"");
    const std::string type = json["type"].get<std::string>();
    const std::string what = "post_processor '" + type + "'";
    if (type == "TemplateProcessing") {
        ctx.check_keys(json, {"type", "single", "pair", "special_tokens"}, what);
        const Json* specials = nullptr;
        if (json.contains("special_tokens") && json["special_tokens"].is_object())
            specials = &json["special_tokens"];
        std::vector<TemplateItem> items;
        bool has_sequence = false;
        for (const Json& piece : ctx.get_array(json, "single", what)) {
            TemplateItem item;
            if (piece.is_object() && piece.contains("Sequence")) {
                const Json& seq = piece["Sequence"];
                const std::string id = ctx.get_string(seq, "id", what + " Sequence");
                if (id != "A")
                    ctx.fail(what + ": the single-sequence template uses sequence '" + id + "'");
                item.is_sequence = true;
                item.type_id = ctx.get_int(seq, "type_id", 0, what);
                has_sequence = true;
            } else if (piece.is_object() && piece.contains("SpecialToken")) {
                const Json& sp = piece["SpecialToken"];
                item.name = ctx.get_string(sp, "id", what + " SpecialToken");
                item.type_id = ctx.get_int(sp, "type_id", 0, what);
                if (specials != nullptr && specials->contains(item.name)) {
                    const Json& entry = (*specials)[item.name];
                    const auto ids = entry.find("ids");
                    if (ids == entry.end() || !ids->is_array())
                        ctx.fail(what + ": special token '" + item.name + "' has no 'ids'");
                    for (const Json& v : *ids) {
                        if (!v.is_number_integer() || v.get<int64_t>() < 0)
                            ctx.fail(what + ": special token '" + item.name + "' has a bad id");
                        item.ids.push_back(v.get<int64_t>());
                    }
                } else {
                    const int64_t id = lookup(item.name);
                    if (id < 0)
                        ctx.fail(what + ": special token '" + item.name +
                                 "' is neither in 'special_tokens' nor in "
                                 "the vocabulary");
                    item.ids.push_back(id);
                }
            } else {
                ctx.fail(
                    what +
                    ": a template piece must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
            items.push_back(std::move(item));
        }
        if (!has_sequence) ctx.fail(what + ": the single-sequence template has no $A");
        return std::make_unique<Template>(std::move(items));
    }
    if (type == "BertProcessing") {
        ctx.check_keys(json, {"type", "cls", "sep"}, what);
        return cls_sep(json, ctx, what);
    }
    if (type == "RobertaProcessing") {  // trim_offsets / add_prefix_space change offsets only
        ctx.check_keys(json, {"type", "cls", "sep", "trim_offsets", "add_prefix_space"}, what);
        return cls_sep(json, ctx, what);
    }
    if (type == "ByteLevel") {  // offsets only
        ctx.check_keys(json, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, what);
        return std::make_unique<Identity>();
    }
    if (type == "Sequence") {
        ctx.check_keys(json, {"type", "processors"}, what);
        std::unique_ptr<PostProcessor> adding;
        for (const Json& part : ctx.get_array(json, "processors", what)) {
            auto p = make_post_processor(part, ctx, lookup);
            if (p->added_tokens() == 0 && dynamic_cast<Identity*>(p.get()) != nullptr) continue;
            if (adding)
                ctx.fail(what +
                         ": more than one processor that adds tokens is not supported by embq");
            adding = std::move(p);
        }
        return adding ? std::move(adding) : std::make_unique<Identity>();
    }
    ctx.fail("post_processor type '" + type +
             "' is not supported by embq (supported: " + kSupported + ")");
}

}  // namespace embq::text
