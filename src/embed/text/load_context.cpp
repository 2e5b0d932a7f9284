#include "embed/text/components.hpp"

namespace embq::text {

void LoadContext::check_keys(const Json& object, std::initializer_list<const char*> known,
                             const std::string& what) const {
    if (!object.is_object()) fail(what + " is not a JSON object");
    for (auto it = object.begin(); it != object.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) fail(what + ": option '" + it.key() + "' is not supported by embq");
    }
}

bool LoadContext::get_bool(const Json& object, const char* key, bool fallback,
                           const std::string& what) const {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(what + ": '" + key + "' must be true or false");
    return it->get<bool>();
}

std::string LoadContext::get_string(const Json& object, const char* key,
                                    const std::string& what) const {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string()) fail(what + ": '" + key + "' must be a string");
    return it->get<std::string>();
}

std::string LoadContext::get_string(const Json& object, const char* key,
                                    const std::string& fallback, const std::string& what) const {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_string()) fail(what + ": '" + key + "' must be a string");
    return it->get<std::string>();
}

int64_t LoadContext::get_int(const Json& object, const char* key, int64_t fallback,
                             const std::string& what) const {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return fallback;
    if (!it->is_number_integer()) fail(what + ": '" + key + "' must be an integer");
    return it->get<int64_t>();
}

const Json& LoadContext::get_array(const Json& object, const char* key,
                                   const std::string& what) const {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array()) fail(what + ": '" + key + "' must be an array");
    return *it;
}

}  // namespace embq::text
